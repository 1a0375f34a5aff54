"""The ltx-video command as a user meets it, through a subprocess: usage, defaults, one-line errors before any
model loads, model folders run as what they are, prompts the built-in model does not know, a quiet console and
byte-identical files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import PIL.Image
import pytest
import torch

from ltx_video.cli import CLIError, build_parser
from ltx_video.cli.generate import check_inputs, inspect_model
from ltx_video.default_model import DEFAULT_GENERATION, DEFAULT_MODEL_DIR
from ltx_video.io.media import read_audio, read_video_tensor
from ltx_video.pipelines.generation_defaults import LTX_VIDEO_DEFAULTS

LOADED = "using the built-in model"  # printed once the built-in model starts loading


def cli(*args: str, preamble: str = "", env: dict | None = None, cwd: Path | None = None):
    """Run ``ltx-video ARGS`` in a fresh interpreter; ``preamble`` runs first (e.g. to change the process state)."""
    code = f"import sys\n{preamble}\nfrom ltx_video.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600, cwd=cwd,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )


def error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr  # one line, no traceback, nothing loaded first
    return lines[0]


def test_no_command_prints_the_usage_with_its_commands():
    result = cli()
    assert result.returncode == 2
    assert "usage: ltx-video" in result.stderr and "generate" in result.stderr


def test_help_and_argument_errors_import_neither_torch_nor_diffusers():
    probe = (
        "import sys\nfrom ltx_video.cli import main\n"
        "for argv in (['--help'], ['generate', '--help'], ['generate', 'x', '--steps', '0'], []):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers', 'av') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_help_shows_every_default():
    text = build_parser()._subparsers._group_actions[0].choices["generate"].format_help()
    for default in ("(built-in model: 64;", "else 704", "else 1216", "else 121", "(built-in model: 49;",
                    "(built-in model: 24;", "else 30", "default: 0", "default: out.mp4", "default: cpu",
                    "default: float32", "default: the built-in model", "default: off", "'worst quality",
                    "1 is off; default: the model's (built-in model: 8)"):
        assert default in " ".join(text.split()), default


def write_wav(path: Path, waveform: torch.Tensor, rate: int = 16000) -> Path:
    """A mono 16-bit PCM .wav, written with the standard library (not the code under test)."""
    import wave

    with wave.open(str(path), "wb") as file:
        file.setnchannels(1), file.setsampwidth(2), file.setframerate(rate)
        file.writeframes((waveform.clamp(-1, 1) * 32767).round().to(torch.int16).numpy().tobytes())
    return path


def _condition_files(tmp_path):
    not_image = tmp_path / "photo.png"
    not_image.write_text("not an image")
    not_video = tmp_path / "notes.txt"
    not_video.write_text("not a video")
    (tmp_path / "empty_model").mkdir()
    return not_image, not_video


@pytest.mark.parametrize(
    "argv,start",
    [
        (["--condition", "{not_image}:0"], "ltx-video: error: --condition "),
        (["--condition", "{not_video}:0"], "ltx-video: error: --condition "),
        (["--condition", "{video}:99"], "ltx-video: error: --condition "),
        (["--model", "{tmp}/empty_model"], "ltx-video: error: --model: "),
        (["--model", "{tmp}/notes.txt"], "ltx-video: error: --model: "),
        (["--output", "{tmp}"], "ltx-video: error: --output "),
        (["--device", "tpu"], "ltx-video: error: --device: "),
        (["--device", "cuda:7"], "ltx-video: error: --device cuda:7: "),
        (["--frame-rate", "0"], "ltx-video generate: error: argument --frame-rate: "),
        (["--keyframe", "{not_image}:0"], "ltx-video: error: --keyframe "),
        (["--keyframe", "{video}:99"], "ltx-video: error: --keyframe "),
        (["--keyframe", "{video}:16", "--keyframe", "{video}:8"], "ltx-video: error: --keyframe: frames must be"),
        (["--keyframe", "{video}:0", "--condition", "{video}:8"], "ltx-video: error: --keyframe and --condition"),
        (["--keyframe", "{tmp}/missing.png:0"], "ltx-video generate: error: argument --keyframe: keyframe file not"),
        (["--keyframe", "{video}:8", "--keyframe-placement", "in-place"],
         "ltx-video: error: --keyframe-placement in-place takes images"),
        (["--keyframe-placement", "middle"], "ltx-video generate: error: argument --keyframe-placement: invalid choice"),
        (["--camera", "spin"], "ltx-video generate: error: argument --camera: unknown camera motion 'spin'; "
                               "accepted: static, pan-left"),
        (["--camera", "zoom-in:-1"], "ltx-video generate: error: argument --camera: zoom-in:-1: the speed must be"),
        (["--camera", "pan-left:20"], "ltx-video: error: --camera pan-left:20: Camera `speed` 20.0"),
        (["--camera-space", "pixel"], "ltx-video: error: --camera-space needs --camera"),
        (["--camera", "pan-left:"], "ltx-video generate: error: argument --camera: pan-left:: the speed must be a number"),
        (["--camera", "zoom-out:1000"], "ltx-video: error: --camera zoom-out:1000: Camera `speed` 1000.0 (zoom_out) "
                                        "brings in content from farther outside the frame"),
        (["--keyframe", "{video}:0", "--keyframe", "{video}:10"],
         "ltx-video: error: --keyframe: a clip at frame 10 must start at a multiple of 4"),
        (["--keyframe", "{image}:21", "--keyframe", "{image}:24", "--keyframe-placement", "in-place"],
         "ltx-video: error: --keyframe: keyframes at frames 21 and 24 are both placed in place in latent frame 6"),
        (["--keyframe-placement", "in-place"], "ltx-video: error: --keyframe-placement needs --keyframe"),
        (["--camera", "pan-left", "--camera-space", "world"], "ltx-video generate: error: argument --camera-space: invalid"),
        (["--stg-blocks", "6"], "ltx-video: error: --stg-blocks 6: this model's transformer has blocks 0 to 5"),
        (["--stg-blocks", "2,x"], "ltx-video generate: error: argument --stg-blocks: expected block indices"),
        (["--stg-scale", "-1"], "ltx-video generate: error: argument --stg-scale: expected a number >= 0"),
        (["--audio", "{not_video}"], "ltx-video: error: --audio {not_video} is not audio PyAV can decode"),
        (["--audio", "{tmp}/missing.wav"], "ltx-video: error: --audio {tmp}/missing.wav: no such file"),
        (["--audio", "{video}"], "ltx-video: error: --audio {video} has no sound track"),
    ],
)
def test_bad_input_is_one_line_naming_the_flag_before_loading(argv, start, tmp_path):
    not_image, not_video = _condition_files(tmp_path)
    video = tmp_path / "clip.mp4"
    from ltx_video.io.media import write_video

    write_video(video, torch.rand(9, 3, 32, 32), fps=24)
    image = tmp_path / "frame.png"
    PIL.Image.new("RGB", (32, 32), (200, 30, 30)).save(image)
    names = dict(not_image=not_image, not_video=not_video, video=video, image=image, tmp=tmp_path)
    argv = [a.format(**names) for a in argv]
    start = start.format(**names)
    line = error_line(cli("generate", "a red ball bounces", *argv, "--steps", "1"))
    assert line.startswith(start) and LOADED not in line
    if any(a.endswith(":99") for a in argv):  # (was "99" anywhere: true of every path under pytest-199/)
        assert "frames 0 to 48" in line  # the built-in model's 49 frames


def test_cuda_on_a_cpu_build_and_flash_without_flash_attn():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is available")
    line = error_line(cli("generate", "a red ball bounces", "--device", "cuda"))
    assert line.startswith("ltx-video: error: --device cuda: CUDA is not available") and "--device cpu" in line
    line = error_line(cli("generate", "a red ball bounces", "--attention", "flash"))
    assert line.startswith("ltx-video: error: --attention flash needs the flash-attn package")
    assert "sdpa" in line and "ltx_chunked" in line


def test_empty_prompt_needs_allow_empty_prompt(tmp_path):
    line = error_line(cli("generate", "  ", "--output", str(tmp_path / "e.mp4")))
    assert "--allow-empty-prompt" in line
    result = cli("generate", "", "--allow-empty-prompt", "--steps", "1", "--num-frames", "9",
                 "--output", str(tmp_path / "e.mp4"))
    assert result.returncode == 0, result.stderr
    assert read_video_tensor(tmp_path / "e.mp4")[0].shape == (9, 3, 64, 64)


def test_debug_shows_the_traceback(tmp_path):
    result = cli("generate", "a red ball bounces", "--model", str(tmp_path), "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr and "model_index.json" in result.stderr


def test_model_folders_run_as_what_they_are(tmp_path, components):
    """An audio-video folder saved by save_pretrained keeps its audio, size and length; a diffusers LTX folder runs as
    LTXVideoPipeline at LTX-Video's defaults."""
    from diffusers import LTXConditionPipeline

    from ltx_video.default_model import load_default_pipeline

    load_default_pipeline().save_pretrained(tmp_path / "builtin_copy")
    assert json.loads((tmp_path / "builtin_copy" / "generation_defaults.json").read_text())["height"] == 64
    source = inspect_model(tmp_path / "builtin_copy", None)
    assert (source.pipeline_class, source.recorded_defaults) == ("LTXAudioVideoPipeline", True)
    out = tmp_path / "copy.mp4"
    result = cli("generate", "a blue triangle bounces", "--model", str(tmp_path / "builtin_copy"), "--steps", "3",
                 "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert "were passed to" not in result.stderr  # no component dropped
    frames, fps = read_video_tensor(out)
    audio, rate = read_audio(out)
    assert frames.shape == (DEFAULT_GENERATION["num_frames"], 3, 64, 64) and fps == pytest.approx(24.0)
    assert rate == 16000 and abs(audio.shape[1] - 16000 * 49 / 24) <= 1024 and audio.abs().max() > 0

    LTXConditionPipeline(**components).save_pretrained(tmp_path / "diffusers_ltx")
    args = build_parser().parse_args(["generate", "a ball", "--model", str(tmp_path / "diffusers_ltx")])
    source, config, call = check_inputs(args)
    assert source.pipeline_class == "LTXVideoPipeline" and not source.recorded_defaults and config is None
    assert (call["height"], call["width"], call["num_frames"], call["frame_rate"], call["num_inference_steps"]) == (
        704, 1216, 121, 30.0, 30)
    assert call["negative_prompt"] == LTX_VIDEO_DEFAULTS.negative_prompt
    args = build_parser().parse_args(["generate", "a ball", "--model", str(tmp_path / "diffusers_ltx"),
                                      "--height", "96", "--frame-rate", "25", "--negative-prompt", ""])
    _, _, call = check_inputs(args)
    assert (call["height"], call["width"], call["frame_rate"], call["negative_prompt"]) == (96, 1216, 25.0, "")

    index = tmp_path / "diffusers_ltx" / "model_index.json"
    index.write_text(json.dumps({**json.loads(index.read_text()), "_class_name": "StableDiffusionPipeline"}))
    line = error_line(cli("generate", "a ball", "--model", str(tmp_path / "diffusers_ltx")))
    assert "'StableDiffusionPipeline'" in line and "LTXAudioVideoPipeline" in line


def test_camera_speed_bound_is_the_models_own():
    """The CLI checks ``--camera`` before loading, per latent step of the model's own VAE (4 frames for the built-in
    model): it accepts and refuses the speeds the pipeline does, not LTX-Video's 8-frame bound."""
    from ltx_video.cli.generate import _vae_compression
    from ltx_video.conditioning.camera_controller import Camera, CameraController
    from ltx_video.default_model import load_default_pipeline

    pipe = load_default_pipeline()
    source = inspect_model(None, None)
    assert _vae_compression(source)[1:] == (pipe.vae_spatial_compression_ratio, pipe.vae_temporal_compression_ratio)
    for speed, accepted in ((10.0, True), (17.0, False)):  # 64 px frame: 4 x 10 px fits it, 8 x 10 px would not
        try:
            CameraController(Camera(motion_type="pan_left", speed=speed)).check(49, 64, 64, pipe.vae_temporal_compression_ratio)
        except ValueError:
            assert not accepted
        else:
            assert accepted
        args = build_parser().parse_args(["generate", "a red ball bounces", "--camera", f"pan-left:{speed:g}"])
        if accepted:
            check_inputs(args)
        else:
            with pytest.raises(CLIError, match=r"--camera pan-left:17: .*one latent step \(4 frames\)"):
                check_inputs(args)


def test_prompts_outside_the_built_in_grammar_warn_in_one_line(tmp_path):
    args = ["--steps", "1", "--num-frames", "9", "--output", str(tmp_path / "p.mp4"), "--overwrite"]
    known = cli("generate", "a green square bounces", *args)
    assert known.returncode == 0 and "warning" not in known.stderr, known.stderr
    unknown = cli("generate", "a red ball and a blue square bounce, the camera pans left", *args)
    assert unknown.returncode == 0
    warnings = [line for line in unknown.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and warnings[0].startswith("ltx-video: warning: prompt ")
    assert "2 objects" in warnings[0] and "a <colour> <shape> bounces" in warnings[0] and "triangle" in warnings[0]


def test_console_is_quiet_in_logs(tmp_path):
    """stderr is a pipe here: no progress bars or escape codes, no diffusers notes about our own backends or
    timesteps; the FP8 note on a CPU stays, as it tells the user something they can act on."""
    result = cli("generate", "a red ball bounces", "--steps", "2", "--num-frames", "9", "--attention", "ltx_chunked",
                 "--fp8", "--output", str(tmp_path / "q.mp4"))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("ltx-video: using the built-in model")
    assert len(lines) == 2 and lines[1].startswith("ltx-video: note: --fp8 on cpu"), result.stderr
    assert "\x1b" not in result.stderr and "\r" not in result.stderr
    assert result.stdout.strip() == f"wrote {tmp_path / 'q.mp4'}"


def test_config_run_is_quiet(tmp_path, components):
    from ltx_video import LTXVideoPipeline
    from ltx_video.testing import tiny_latent_upsampler

    LTXVideoPipeline(**components).save_pretrained(tmp_path / "model")
    tiny_latent_upsampler().save_pretrained(tmp_path / "upsampler")
    config = "ltxv-2b-0.9.8-distilled"  # a shipped config, by name
    result = cli("generate", "a ball", "--config", str(config), "--model", str(tmp_path / "model"), "--upsampler",
                 str(tmp_path / "upsampler"), "--height", "64", "--width", "64", "--num-frames", "9",
                 "--output", str(tmp_path / "c.mp4"))
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_same_arguments_give_byte_identical_files_in_any_process(tmp_path):
    """x264 left to itself picks its thread count from the CPUs the process may use, and its output changes with it;
    the writer pins it. One process here may use one CPU, the other every CPU."""
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs and sched_setaffinity")
    args = ["generate", "a red ball bounces", "--steps", "2", "--height", "256", "--width", "384", "--num-frames", "17"]
    env = {"OMP_NUM_THREADS": "2"}  # the same torch threads in both: equal frames; only the encoder's state differs
    one_cpu = cli(*args, "--output", str(tmp_path / "a.mp4"), preamble="import os; os.sched_setaffinity(0, {0})",
                  env=env)
    every_cpu = cli(*args, "--output", str(tmp_path / "b.mp4"), env=env)
    assert one_cpu.returncode == 0 and every_cpu.returncode == 0, one_cpu.stderr + every_cpu.stderr
    first, second = (tmp_path / "a.mp4").read_bytes(), (tmp_path / "b.mp4").read_bytes()
    assert len(first) > 10_000 and first == second


def test_existing_output_survives_a_failed_write(tmp_path, capsys):
    """Without --overwrite an existing --output is refused before any work; with it, the mp4 is written next to
    --output and replaces it only when complete."""
    from ltx_video.cli import main

    out = tmp_path / "keep.mp4"
    out.write_bytes(b"earlier work")

    def broken_writer(path, *args, **kwargs):
        Path(path).write_bytes(b"half a file")
        raise OSError("No space left on device")

    assert main(["generate", "a red ball bounces", "--output", str(out)]) == 2  # was replaced silently
    assert "exists: pass --overwrite to replace it" in capsys.readouterr().err
    with mock.patch("ltx_video.io.media.write_video", broken_writer):
        code = main(["generate", "a red ball bounces", "--steps", "1", "--num-frames", "9", "--output", str(out),
                     "--overwrite"])
    assert code == 1 and capsys.readouterr().err.strip().splitlines()[-1] == (
        "ltx-video: error: OSError: No space left on device (--debug shows the traceback)")
    assert out.read_bytes() == b"earlier work" and sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]


def test_stg_comes_from_the_flags_else_the_config_else_the_model(tmp_path, components):
    """The built-in model's STG (generation_defaults.json) unless --stg-scale / --stg-blocks say otherwise; an
    LTX-Video --config keeps its own; a model without STG needs both flags."""

    def resolved(*argv):
        call = check_inputs(build_parser().parse_args(["generate", "a red ball bounces", *argv]))[2]
        return {k: call[k] for k in ("stg_scale", "skip_block_list") if k in call}

    saved = json.loads((DEFAULT_MODEL_DIR / "generation_defaults.json").read_text())
    assert saved["stg_scale"] > 0 and saved["skip_block_list"]
    assert resolved() == {"stg_scale": saved["stg_scale"], "skip_block_list": saved["skip_block_list"]}
    assert resolved("--stg-scale", "0") == {"stg_scale": 0.0}
    assert resolved("--stg-blocks", "1,4") == {"stg_scale": saved["stg_scale"], "skip_block_list": [1, 4]}
    assert resolved("--stg-scale", "2.5") == {"stg_scale": 2.5, "skip_block_list": saved["skip_block_list"]}
    config = tmp_path / "single.yaml"
    config.write_text("stg_mode: attention_values\nstg_scale: 0\nskip_block_list: [1]\nnum_inference_steps: 2\n")
    assert resolved("--config", str(config)) == {}  # the config's own STG applies (configs.py)
    assert resolved("--config", str(config), "--stg-scale", "0") == {"stg_scale": 0.0}
    with pytest.raises(CLIError, match="^--stg-blocks with --config needs --stg-scale too"):  # "its default STG is 0"
        resolved("--config", str(config), "--stg-blocks", "1")
    # a config written for a bigger model: refused before loading (after the model and T5 loaded, naming
    # `skip_block_list`, before); blocks of intervals without STG never count, and --stg-scale 0 turns it off
    config.write_text("stg_mode: attention_values\nguidance_timesteps: [1.0, 0.9]\nstg_scale: [0, 2]\n"
                      "skip_block_list: [[40], [1, 42]]\nguidance_scale: [1, 1]\nnum_inference_steps: 2\n")
    with pytest.raises(CLIError, match=r"^--config .*: its STG blocks \[42\] are past this model's transformer"):
        resolved("--config", str(config))
    assert resolved("--config", str(config), "--stg-scale", "0") == {"stg_scale": 0.0}

    from diffusers import LTXConditionPipeline

    LTXConditionPipeline(**components).save_pretrained(tmp_path / "no_stg")
    folder = ["--model", str(tmp_path / "no_stg")]
    assert resolved(*folder) == {}
    with pytest.raises(CLIError, match="^--stg-blocks needs --stg-scale > 0"):
        resolved(*folder, "--stg-blocks", "1")
    with pytest.raises(CLIError, match="^--stg-scale 1 needs --stg-blocks"):
        resolved(*folder, "--stg-scale", "1")
    assert resolved(*folder, "--stg-scale", "1", "--stg-blocks", "0") == {"stg_scale": 1.0, "skip_block_list": [0]}


def test_modality_guidance_comes_from_the_flags_else_the_model(tmp_path, components):
    """The built-in model's modality guidance (generation_defaults.json) unless the flags say otherwise; a video-only
    model, or `long --no-audio`, refuses the flags in one line."""
    from ltx_video.cli.long import check_inputs as check_long

    names = ("modality_scale", "audio_modality_scale")

    def resolved(*argv):
        call = check_inputs(build_parser().parse_args(["generate", "a red ball bounces", *argv]))[2]
        return {k: call[k] for k in names if k in call}

    saved = json.loads((DEFAULT_MODEL_DIR / "generation_defaults.json").read_text())
    model = {k: saved[k] for k in names if k in saved}
    assert resolved() == model
    # a given 1 (off) reaches the call: left out, the model's own 8 filled it in again
    assert resolved("--audio-modality-scale", "1") == {**model, "audio_modality_scale": 1.0}
    assert resolved("--modality-scale", "2", "--audio-modality-scale", "4") == {"modality_scale": 2.0,
                                                                               "audio_modality_scale": 4.0}
    from diffusers import LTXConditionPipeline

    LTXConditionPipeline(**components).save_pretrained(tmp_path / "video_only")
    folder = ["--model", str(tmp_path / "video_only")]
    assert resolved(*folder) == {}
    with pytest.raises(CLIError, match="^--modality-scale guides with the audio track.*LTXVideoPipeline"):
        resolved(*folder, "--modality-scale", "2")
    sound = write_wav(tmp_path / "sound.wav", torch.zeros(16000))
    assert resolved("--audio", str(sound)) == {**model, "modality_scale": saved["given_audio"]["modality_scale"]}
    assert resolved("--audio", str(sound), "--modality-scale", "1") == {**model, "modality_scale": 1.0}
    with pytest.raises(CLIError, match="^--audio needs an audio-video model.*LTXVideoPipeline"):
        resolved(*folder, "--audio", str(sound))
    with pytest.raises(CLIError, match="^--audio and --4k cannot be combined"):
        resolved("--audio", str(sound), "--4k")
    long_call = check_long(build_parser().parse_args(["long", "a red ball bounces", "--duration", "2"]))[1]
    assert {k: long_call[k] for k in names if k in long_call} == model
    with pytest.raises(CLIError, match="^--audio-modality-scale guides with the audio track.*--no-audio"):
        check_long(build_parser().parse_args(["long", "a ball", "--duration", "2", "--no-audio",
                                              "--audio-modality-scale", "3"]))


def test_builtin_defaults_come_from_the_saved_file():
    saved = json.loads((DEFAULT_MODEL_DIR / "generation_defaults.json").read_text())
    assert DEFAULT_GENERATION == {k: v for k, v in saved.items() if k not in ("prompt_grammar", "given_audio")}
    assert saved["prompt_grammar"] == {"max_objects": 1, "cameras": ["static"]}


def test_keyframes_and_camera_from_the_command_line(tmp_path):
    from ltx_video.io.media import read_video_tensor, write_video

    first, last = tmp_path / "first.png", tmp_path / "last.mp4"
    PIL.Image.new("RGB", (64, 64), (200, 30, 30)).save(first)
    write_video(last, torch.full((9, 3, 64, 64), 0.2), fps=24)
    out = tmp_path / "kf.mp4"
    result = cli("generate", "a red ball bounces", "--keyframe", f"{first}:0", "--keyframe", f"{last}:16:0.8",
                 "--camera", "pan-left:1.5", "--num-frames", "25", "--steps", "2", "--output", str(out))
    assert result.returncode == 0, result.stderr
    frames, fps = read_video_tensor(out)
    assert frames.shape[0] == 25 and fps == 24
    assert "training-free" in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    from ltx_video.data.synthetic import make_clip
    from ltx_video.metrics import psnr

    clip = make_clip(3, camera="static")  # "a pink triangle bounces": what the built-in model knows
    real = ((clip.video + 1) / 2).clamp(0, 1)
    for frame in (0, 16):
        PIL.Image.fromarray((real[frame].permute(1, 2, 0).numpy() * 255).round().astype("uint8")).save(tmp_path / f"{frame}.png")
    held = tmp_path / "held.mp4"
    result = cli("generate", "a pink triangle bounces", "--keyframe", f"{tmp_path / '0.png'}:0", "--keyframe",
                 f"{tmp_path / '16.png'}:16", "--keyframe-placement", "in-place", "--num-frames", "25", "--steps", "2",
                 "--output", str(held))
    assert result.returncode == 0, result.stderr
    frames, _ = read_video_tensor(held)
    # the latent frame of frame 16 holds the keyframe (as tokens alone, frame 16 of such a run is about 4 dB further off)
    assert psnr(frames[16].permute(1, 2, 0).numpy(), real[16].permute(1, 2, 0).numpy()) > 21.5


def test_camera_space_pixel_moves_the_built_in_models_camera(tmp_path):
    """``--camera-space pixel``: every step's predicted clip re-rendered through the camera (docs/control.md); the
    written video pans the way and about as far as asked (the VAE keeps about 0.8 of a pan)."""
    from ltx_video.io.media import read_video_tensor
    from ltx_video.metrics import camera_motion

    out = tmp_path / "pan.mp4"
    result = cli("generate", "a red ball bounces", "--camera", "pan-left:1.5", "--camera-space", "pixel",
                 "--num-frames", "25", "--steps", "3", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert "pixel space" in result.stderr
    frames, _ = read_video_tensor(out)
    dx, dy, zoom = camera_motion(frames).mean(axis=0)
    assert 0.75 < dx < 1.6 and abs(dy) < 0.2 and abs(zoom - 1) < 0.005, (dx, dy, zoom)


def test_video_to_a_given_sound_from_the_command_line(tmp_path):
    """--audio: the video is generated to the sound (a synthetic clip's, at 22.05 kHz) and the mp4 carries that sound
    at the same times, resampled to the model's 16 kHz."""
    import numpy as np

    from ltx_video.data.synthetic import make_clip
    from ltx_video.io.media import audio_start_offset, resample_audio
    from ltx_video.metrics import audio_onset_envelope, audio_onset_times, offset_from_events_ms

    clip = make_clip(3, camera="static")  # "a pink triangle bounces"
    sound = write_wav(tmp_path / "bounces.wav", resample_audio(clip.audio[None], 16000, 22050)[0], rate=22050)
    out = tmp_path / "to_sound.mp4"
    result = cli("generate", "a pink triangle bounces", "--audio", str(sound), "--steps", "4", "--output", str(out))
    assert result.returncode == 0, result.stderr
    frames, _ = read_video_tensor(out)
    audio, rate = read_audio(out)
    assert frames.shape[0] == 49 and rate == 16000
    shift = round(audio_start_offset(out) * rate)
    audio = torch.nn.functional.pad(audio[0], (shift, 0)) if shift > 0 else audio[0, -shift:]
    onsets = audio_onset_times(clip.audio)
    assert len(onsets) >= 2 and len(audio_onset_times(audio)) == len(onsets)
    assert abs(offset_from_events_ms(onsets, np.ones(len(onsets)), audio_onset_envelope(audio))) <= 2


def test_a_model_folder_missing_a_listed_component_is_named_before_loading(tmp_path):
    from ltx_video.default_model import DEFAULT_MODEL_DIR

    folder = tmp_path / "partial"
    folder.mkdir()
    (folder / "model_index.json").write_text((DEFAULT_MODEL_DIR / "model_index.json").read_text())
    for name in ("audio_vae", "scheduler", "text_encoder", "tokenizer", "transformer"):  # no vae/
        (folder / name).mkdir()
    with pytest.raises(CLIError, match=r"--model: .*partial lists the component\(s\) \['vae'\] in model_index.json but "
                                        r"has no vae/ folder"):
        inspect_model(folder, None)


def test_an_output_written_while_generating_is_kept(tmp_path, capsys):
    """Two runs given one --output both passed the check before loading; the later replaced the earlier's file
    without a word (and they shared one partial file)."""
    from ltx_video.cli.generate import place_output

    out = tmp_path / "race.mp4"
    first, second, third = (tmp_path / f".partial-{i}.mp4" for i in range(3))
    for i, path in enumerate((first, second, third)):
        path.write_bytes(b"run %d" % i)
    assert place_output(first, out, overwrite=False) == out
    assert place_output(second, out, overwrite=False) == tmp_path / "race-2.mp4"
    assert "appeared while this run generated" in capsys.readouterr().err
    assert out.read_bytes() == b"run 0" and (tmp_path / "race-2.mp4").read_bytes() == b"run 1"
    assert place_output(third, out, overwrite=True) == out and out.read_bytes() == b"run 2"


def test_the_written_video_is_readable_as_a_new_file_is(tmp_path):
    """The partial file came from mkstemp (mode 0600) and became the --output: nobody else could read the video."""
    from ltx_video.cli import main

    out = tmp_path / "shared.mp4"
    umask = os.umask(0o022)
    try:
        assert main(["generate", "a red ball bounces", "--steps", "1", "--num-frames", "9", "--output", str(out)]) == 0
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644


def test_a_clip_at_another_rate_than_the_video_is_said(tmp_path, capsys):
    """A 30 fps --condition clip in a 24 fps video was re-timed (1.25x as long) without a word."""
    from ltx_video.io.media import write_video

    clip = write_video(tmp_path / "clip30.mp4", torch.rand(9, 3, 32, 32), 30)
    check_inputs(build_parser().parse_args(["generate", "a red ball bounces", "--condition", f"{clip}:0",
                                            "--output", str(tmp_path / "o.mp4")]))
    assert "is a 30 fps clip, taken frame for frame at --frame-rate 24" in capsys.readouterr().err
    check_inputs(build_parser().parse_args(["generate", "a red ball bounces", "--condition", f"{clip}:0",
                                            "--frame-rate", "30", "--output", str(tmp_path / "o.mp4")]))
    assert "fps clip" not in capsys.readouterr().err


def test_audio_modality_scale_with_a_given_sound_is_refused(tmp_path):
    """With --audio the sound is given: the pipeline sets the audio's modality scale to 1, so the flag was accepted
    and changed nothing (byte-identical videos for 20, 0 and none)."""
    sound = write_wav(tmp_path / "sound.wav", torch.zeros(16000))
    for value in ("20", "0"):
        with pytest.raises(CLIError, match=r"^--audio-modality-scale steers the audio the model generates; with "
                                           r"--audio the sound is given.*--modality-scale"):
            check_inputs(build_parser().parse_args(["generate", "a red ball bounces", "--audio", str(sound),
                                                    "--audio-modality-scale", value]))
    call = check_inputs(build_parser().parse_args(["generate", "a red ball bounces", "--audio", str(sound),
                                                   "--modality-scale", "20"]))[2]
    assert call["modality_scale"] == 20.0  # the flag that does steer with a given sound


def test_a_multiscale_size_and_upsampler_are_checked_before_loading(tmp_path, components):
    """A multi-scale --config at a size whose first pass is empty, or an upsampler of another VAE's latents, failed
    after the models loaded ("the first pass of a 32x32 video ... needs at least 32x32"; `latent_upsampler`)."""
    from diffusers import LTXConditionPipeline

    from ltx_video.pipelines.multiscale import first_pass_size
    from ltx_video.testing import tiny_latent_upsampler

    LTXConditionPipeline(**components).save_pretrained(tmp_path / "video")  # 8-channel latents, 32x
    tiny_latent_upsampler().save_pretrained(tmp_path / "up")  # 8 channels

    def check(*argv):
        return check_inputs(build_parser().parse_args(["generate", "a red ball bounces", "--num-frames", "9",
                                                       "--upsampler", str(tmp_path / "up"), *argv]))

    multiscale = ["--config", "ltxv-2b-0.9.8-distilled"]
    folder = ["--model", str(tmp_path / "video")]
    with pytest.raises(CLIError, match=r"^--height 32: a multi-scale --config \(downscale_factor 0.6666666\) needs "
                                       r"--height and --width of at least 33 px"):
        check(*folder, *multiscale, "--height", "32", "--width", "64")
    assert check(*folder, *multiscale, "--height", "33", "--width", "33")[2]["height"] == 33  # pads to 64: runs
    # the built-in model's VAE makes 32-channel latents, at 16x (its smallest size is larger)
    with pytest.raises(CLIError, match=r"^--height 48 and --width 48: .* at least 49 px"):
        check(*multiscale, "--height", "48", "--width", "48")
    for argv in (multiscale, ["--4k"]):
        with pytest.raises(CLIError, match=rf"^--upsampler {tmp_path / 'up'} takes 8-channel latents, this model's "
                                           rf"VAE \({DEFAULT_MODEL_DIR / 'vae' / 'config.json'}\) makes 32"):
            check(*argv, "--height", "64", "--width", "64")
    with pytest.raises(ValueError) as caught:  # the pipeline's own message no longer contradicts itself
        first_pass_size(32, 32, 0.6666666)
    assert "first pass of a 32x32 video 0x0" in str(caught.value) and "at least 49 px" in str(caught.value)


def test_the_empty_prompt_is_the_trained_unconditional_one():
    """--allow-empty-prompt warned that '' is outside the built-in model's grammar: '' is the prompt it trained its
    unconditional (CFG dropout) video with."""
    from ltx_video.pipelines.generation_defaults import GenerationDefaults, prompt_grammar_warnings

    defaults = GenerationDefaults.load(DEFAULT_MODEL_DIR)
    assert prompt_grammar_warnings(defaults, "") == [] and prompt_grammar_warnings(defaults, ["", " "]) == []
    assert len(prompt_grammar_warnings(defaults, ["", "a cat walks"])) == 1  # the others still warn


def test_flash_and_4k_refusals_answer_before_torch_loads(tmp_path):
    """--attention flash without flash-attn and --4k without --upsampler need no torch, and waited for it (18 s)."""
    import importlib.util

    runs = [["--4k"]] + ([["--attention", "flash"]] if importlib.util.find_spec("flash_attn") is None else [])
    probe = (
        "import sys\nfrom ltx_video.cli import main\n"
        f"for extra in {runs!r}:\n"
        f"    assert main(['generate', 'a red ball bounces', '--output', {str(tmp_path / 'x.mp4')!r}, *extra]) == 2\n"
        "print(sorted(m for m in ('torch', 'diffusers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr
    errors = result.stderr.strip().splitlines()
    assert errors[0].startswith("ltx-video: error: --4k needs --upsampler DIR")
    assert all(line.startswith("ltx-video: error: --attention flash needs the flash-attn") for line in errors[1:])
