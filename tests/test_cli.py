"""The ltx-video command: an mp4 from the built-in model; bad input is one line and exit status 2.

Input checks through a subprocess, as a user meets them, are in test_cli_inputs.py."""

import subprocess
import sys
from unittest import mock

import pytest
from conftest import assert_fp32_equal

from ltx_video.attention.backends import ATTENTION_BACKENDS, flash_attn_available
from ltx_video.cli import ATTENTION_BACKENDS as CLI_ATTENTION_BACKENDS
from ltx_video.cli import main
from ltx_video.io.media import read_audio, read_video_tensor


def test_generate_writes_mp4(tmp_path, images):
    cond = tmp_path / "first.png"
    images[0].save(cond)
    out = tmp_path / "clip.mp4"
    code = main(["generate", "a red ball bounces", "--height", "64", "--width", "96", "--num-frames", "10",
                 "--steps", "2", "--frame-rate", "12", "--condition", f"{cond}:0", "--output", str(out)])
    assert code == 0
    frames, fps = read_video_tensor(out)
    assert frames.shape == (10, 3, 64, 96) and fps == pytest.approx(12)
    assert frames.std() > 0.01  # not a blank video
    audio, rate = read_audio(out)  # the demo model writes an audio track as long as the video
    assert rate == 16000 and abs(audio.shape[1] - round(16000 * 10 / 12)) <= 1024 and audio.abs().max() > 0


def test_config_multiscale_with_model_and_upsampler(tmp_path, components):
    from ltx_video import LTXVideoPipeline
    from ltx_video.testing import tiny_latent_upsampler

    LTXVideoPipeline(**components).save_pretrained(tmp_path / "model")
    tiny_latent_upsampler().save_pretrained(tmp_path / "upsampler")
    out = tmp_path / "ms.mp4"
    argv = ["generate", "a ball", "--config", "configs/ltxv-2b-0.9.8-distilled.yaml", "--height", "96", "--width", "96",
            "--num-frames", "9", "--model", str(tmp_path / "model"), "--output", str(out)]
    assert main(argv) == 2  # multi-scale without --upsampler: a one-line error
    assert main([*argv, "--upsampler", str(tmp_path / "upsampler")]) == 0
    frames, _ = read_video_tensor(out)
    assert frames.shape == (9, 3, 96, 96)


def test_4k_flag_with_model_and_upsampler(tmp_path, components, capsys):
    """--4k: one-line errors naming the flag before any model loads, then the two-pass path at a small size."""
    from ltx_video import LTXVideoPipeline
    from ltx_video.testing import tiny_latent_upsampler

    LTXVideoPipeline(**components).save_pretrained(tmp_path / "model")
    tiny_latent_upsampler().save_pretrained(tmp_path / "upsampler")
    out = tmp_path / "4k.mp4"
    argv = ["generate", "a ball", "--4k", "--num-frames", "9", "--steps", "2", "--model", str(tmp_path / "model"),
            "--output", str(out)]
    assert main(argv) == 2
    assert "--4k needs --upsampler DIR" in capsys.readouterr().err
    assert main([*argv, "--upsampler", str(tmp_path / "upsampler"), "--height", "96", "--width", "128"]) == 2
    assert "--4k: --height=96 is not 4K-compatible" in capsys.readouterr().err
    assert main(["generate", "a ball", "--4k"]) == 2  # the built-in model has no upsampler
    assert "compresses 16x" in capsys.readouterr().err
    assert not out.exists()
    assert main([*argv, "--upsampler", str(tmp_path / "upsampler"), "--height", "64", "--width", "128"]) == 0
    frames, _ = read_video_tensor(out)
    assert frames.shape == (9, 3, 64, 128) and frames.std() > 0.01


def test_cli_backend_names_are_the_librarys():
    assert CLI_ATTENTION_BACKENDS == ATTENTION_BACKENDS


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--height", "0"], "--height"),
        (["--num-frames", "x"], "--num-frames"),
        (["--condition", "missing.png:3"], "missing.png"),
        (["--condition", "pyproject.toml:3:1.5"], "strength"),
        (["--dtype", "int8"], "--dtype"),
        (["--output", "clip.gif"], "--output"),
        (["--attention", "xformers"], "--attention"),
        (["--model", "/nonexistent/model"], "--model"),
        (["--config", "configs/ltxv-13b-0.9.8-dev.yaml", "--height", "64", "--width", "64", "--num-frames", "9"],
         "--upsampler"),  # multi-scale on the built-in model, which has no upsampler
    ],
)
def test_bad_input_is_one_line_exit_2(argv, needle, capsys):
    try:
        code = main(["generate", "a ball", *argv])
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("ltx-video") and needle in err[-1]
    assert not any("Traceback" in line for line in err)


def test_memory_and_attention_options_keep_the_output(tmp_path):
    """Chunked attention and feed-forward chunking are exact: the same video as the default run, compared as the
    frames handed to the encoder (a 1/255 step in one pixel can change x264's choices for a whole block)."""
    from ltx_video.io import media

    written, write_video = [], media.write_video

    def recording_writer(path, frames, *args, **kwargs):
        written.append(frames.clone())
        return write_video(path, frames, *args, **kwargs)

    base = ["generate", "a red ball bounces", "--num-frames", "17", "--steps", "3"]
    with mock.patch("ltx_video.io.media.write_video", recording_writer):
        assert main([*base, "--output", str(tmp_path / "a.mp4")]) == 0
        assert main([*base, "--attention", "ltx_chunked", "--ff-chunk-size", "7", "--output",
                     str(tmp_path / "b.mp4")]) == 0
    first, second = written
    assert first.shape == (17, 3, 64, 64) and first.std() > 0.01
    assert_fp32_equal(second, first)  # the same sums in other chunks: float32 round-off only


@pytest.mark.skipif(flash_attn_available(), reason="flash-attn is installed")
def test_flash_without_flash_attn_is_one_line(capsys):
    assert main(["generate", "a ball", "--attention", "flash", "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("ltx-video: error: --attention") and "flash-attn" in err[-1]


def test_console_script_entry_point():
    result = subprocess.run([sys.executable, "-m", "ltx_video.cli", "generate", "x", "--steps", "0"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["ltx-video generate: error: argument --steps: expected a positive integer, got 0"]


def test_single_file_model_with_base_model(tmp_path, components):
    from ltx_video import LTXVideoPipeline
    from ltx_video.pipelines.single_file import save_original_checkpoint
    from ltx_video.testing import tiny_vae_original_layout

    base = tmp_path / "base"
    comps = {**components, "vae": tiny_vae_original_layout()}
    LTXVideoPipeline(**comps).save_pretrained(base)
    ckpt = tmp_path / "ltxv-tiny.safetensors"
    save_original_checkpoint(ckpt, comps["transformer"], comps["vae"], None)
    out = tmp_path / "sf.mp4"
    args = ["generate", "a ball", "--model", str(ckpt), "--height", "64", "--width", "64", "--num-frames", "9",
            "--steps", "2", "--output", str(out)]
    assert main([*args, "--base-model", str(base)]) == 0
    assert read_video_tensor(out)[0].shape == (9, 3, 64, 64)
    assert main(args) == 2  # no --base-model: one-line error


def test_pipeline_warnings_name_the_flags(tmp_path, capsys):
    """The pipeline's warnings about what --keyframe, --condition and --audio gave named its Python arguments
    (`keyframes[frame 5]`, `media_item`, `audio`; 2026-12-07): the command says them as its flags, as it says the
    clip-rate one. Two --condition clips: the one at the frame the warning names."""
    import wave

    import numpy as np
    import torch

    from ltx_video.cli import build_parser
    from ltx_video.cli.generate import flag_words, quiet_console
    from ltx_video.io.media import write_video
    from ltx_video.testing import tiny_audio_video_pipeline

    clip, sound = tmp_path / "clip.mp4", tmp_path / "sound.wav"
    write_video(clip, torch.zeros(12, 3, 32, 32), fps=24)
    with wave.open(str(sound), "wb") as file:  # 1 s of silence, 16 kHz mono
        file.setnchannels(1), file.setsampwidth(2), file.setframerate(16000)
        file.writeframes(np.zeros(16000, "<i2").tobytes())
    pipe = tiny_audio_video_pipeline()  # its VAE: 8 frames per latent frame
    parse = build_parser().parse_args
    conditions = parse(["generate", "a ball", "--condition", f"{clip}:0", "--condition", f"{clip}:8", "--audio",
                        str(sound), "--output", str(tmp_path / "o.mp4")])
    capsys.readouterr()
    with quiet_console(flag_words(conditions)):
        pipe.load_condition_media(str(clip), 64, 64, 17, 8, kind="ltx")  # 9 frames of room from frame 8
        pipe.load_audio(str(sound), None, 6000, 8)  # 0.375 s of video
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (f"ltx-video: warning: --condition {clip}:8: the clip's more than 9 frames are cut to 9 (the "
                      "video holds 9 frames from frame 8 on).")  # was `media_item`
    assert err[1] == f"ltx-video: warning: --audio {sound} lasts longer than the video (0.38 s): it is cut to the video."
    keyframe = parse(["generate", "a ball", "--keyframe", f"{clip}:5", "--output", str(tmp_path / "o.mp4")])
    with quiet_console(flag_words(keyframe)):
        pipe.load_condition_media(str(clip), 64, 64, 9, 5, kind="ltx", argument="keyframes[frame 5]")
    assert capsys.readouterr().err.startswith(f"ltx-video: warning: --keyframe {clip}:5: the clip's more than 4 "
                                              "frames are cut to 1 (")  # was `keyframes[frame 5]`
