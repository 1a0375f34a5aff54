"""The command's surface as a scripting user met it (2026-12-06): seeds and guidance outside what torch takes,
existing and unwritable outputs, --version, python -m ltx_video, a broken --config, a misaligned video
--condition, a --prompts file in another encoding, and --audio writing the sound as given. Each ended after the
model loaded (or the whole generation), in a traceback, or silently replaced the user's file."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cli_inputs import LOADED, cli, error_line

from ltx_video import export_to_video
from ltx_video.io.media import read_audio


@pytest.mark.parametrize("args, needle", [
    (["--seed", str(2**64)], "argument --seed: expected a whole number from 0 to 2**{bits} - 1"),
    (["--seed", "-1"], "argument --seed: expected a whole number from 0 to 2**{bits} - 1"),
    (["--guidance-scale", "nan"], "argument --guidance-scale: expected a number >= 0, got nan"),
    (["--guidance-scale", "inf"], "argument --guidance-scale: expected a number >= 0, got inf"),
    (["--output", ".mp4"], "--output must be a file name ending in .mp4 (such as out.mp4), got '.mp4'"),
])
def test_values_are_refused_before_anything_loads(args, needle):
    for command in ("generate", "long"):
        extra = ["--duration", "1"] if command == "long" else []
        line = error_line(cli(command, "a red ball bounces", *extra, *args))
        bits = 63 if command == "long" else 64  # a long video's chunk seeds are taken modulo 2**63
        assert needle.format(bits=bits) in line and LOADED not in line


def test_the_command_knows_the_librarys_image_suffixes():
    from ltx_video.cli.generate import IMAGE_SUFFIXES
    from ltx_video.conditioning import media

    assert IMAGE_SUFFIXES == media.IMAGE_SUFFIXES  # .tif was a video to the command (and refused at frame 3)


def test_an_output_that_cannot_be_written_is_named_first(tmp_path):
    (tmp_path / "afile").write_text("x")
    line = error_line(cli("generate", "a red ball bounces", "--output", str(tmp_path / "afile" / "ball.mp4")))
    # said "cannot write in .../afile (File exists)"
    assert line == f"ltx-video: error: --output {tmp_path / 'afile' / 'ball.mp4'}: {tmp_path / 'afile'} is a file, not a folder"


def test_an_output_that_is_a_folder_is_named_as_one(tmp_path):
    """A folder given as --output was told to end in .mp4 unless its own name did (generate_long names it first)."""
    (tmp_path / "renders").mkdir()
    for command in ("generate", "long"):
        extra = ["--duration", "1"] if command == "long" else []
        line = error_line(cli(command, "a red ball bounces", *extra, "--output", str(tmp_path / "renders")))
        assert line == f"ltx-video: error: --output {tmp_path / 'renders'} is a folder; expected an .mp4 file path"


def test_output_folders_are_made_only_when_the_video_is_written(tmp_path, capsys):
    """check_output made --output's folders first: a later refusal or Ctrl-C left them empty. A dangling link as
    --output passed the check and ended in "appeared while this run generated" (with no prefix)."""
    from ltx_video.cli import main

    out = tmp_path / "new1" / "new2" / "x.mp4"
    assert main(["generate", "a red ball bounces", "--output", str(out), "--config", "nope"]) == 2
    assert "--config: config file not found" in capsys.readouterr().err and list(tmp_path.iterdir()) == []
    from ltx_video.cli.generate import place_output, write_output

    def interrupted(path):
        path.write_bytes(b"half a file")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_output(out, False, interrupted)
    assert list(tmp_path.iterdir()) == []  # the folders it made, and the partial file, removed
    assert write_output(out, False, lambda path: path.write_bytes(b"video")) == out and out.read_bytes() == b"video"
    link = tmp_path / "dangling.mp4"
    link.symlink_to(tmp_path / "nowhere.mp4")
    assert main(["generate", "a red ball bounces", "--output", str(link)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"ltx-video: error: --output {link} exists (a symbolic link to {tmp_path / 'nowhere.mp4'}, which does not "
        "exist): pass --overwrite to replace the link (nothing is replaced without it)")
    partial = tmp_path / ".partial.mp4"
    partial.write_bytes(b"run")
    assert place_output(partial, out, overwrite=False) == out.with_name("x-2.mp4")
    assert capsys.readouterr().err.startswith(f"ltx-video: warning: --output {out} appeared while this run generated")


def test_version_and_module_entry():
    version = subprocess.run([sys.executable, "-m", "ltx_video", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("ltx-video 0.")  # was "No module named ..."


def test_files_named_with_their_flag(tmp_path):
    (tmp_path / "broken.yaml").write_text("foo: [\n")
    line = error_line(cli("generate", "a red ball bounces", "--config", str(tmp_path / "broken.yaml")))
    assert "--config" in line and "not valid YAML" in line  # was a ParserError, exit status 1
    (tmp_path / "prompts.txt").write_bytes("a red ball bounces\na caf\xe9\n".encode("latin-1"))
    line = error_line(cli("long", "--prompts", str(tmp_path / "prompts.txt"), "--duration", "1"))
    assert "--prompts" in line and "must be UTF-8 text" in line
    export_to_video(np.zeros((9, 32, 32, 3), np.float32), str(tmp_path / "clip.mp4"), fps=24)
    line = error_line(cli("generate", "a red ball bounces", "--condition", f"{tmp_path / 'clip.mp4'}:3"))
    assert "--condition" in line and "multiple of 4" in line  # after the model loaded, as `frame_index`, before


def test_audio_is_written_as_given(tmp_path):
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(24000) / 16000)).astype(np.float32)
    export_to_video(np.zeros((36, 32, 32, 3), np.float32), str(tmp_path / "tone.mp4"), fps=24, audio=tone,
                    sample_rate=16000)  # 1.5 s of 440 Hz
    result = cli("generate", "a red ball bounces", "--steps", "1", "--audio", str(tmp_path / "tone.mp4"),
                 "--output", str(tmp_path / "out.mp4"))
    assert result.returncode == 0, result.stderr
    assert "the rest of the video is silent" in result.stderr  # 1.5 s given, 49 / 24 s of video
    given, _ = read_audio(tmp_path / "tone.mp4")
    written, _ = read_audio(tmp_path / "out.mp4")
    n = min(given.shape[1], 20000)
    correlation = np.corrcoef(given[0, 1000:n].numpy(), written[0, 1000:n].numpy())[0, 1]
    assert correlation > 0.95  # the built-in audio autoencoder's version of it correlated 0.02


def test_float16_on_cpu_runs_without_diffusers_stale_warning(tmp_path):
    result = cli("generate", "a red ball bounces", "--steps", "1", "--num-frames", "9", "--dtype", "float16",
                 "--output", str(tmp_path / "half.mp4"))
    assert result.returncode == 0, result.stderr
    assert "cannot run with `cpu` device" not in result.stderr  # printed four times, and the run worked


def test_an_upsampler_that_would_go_unused_is_refused(tmp_path):
    from test_four_k import tiny_hierarchical_vae

    from ltx_video.testing import tiny_audio_video_pipeline, tiny_latent_upsampler

    tiny_latent_upsampler().save_pretrained(tmp_path / "up")
    line = error_line(cli("generate", "a red ball bounces", "--upsampler", str(tmp_path / "up")))
    assert "--upsampler is used only with --4k or a multi-scale --config" in line and LOADED not in line
    base = tiny_audio_video_pipeline()
    type(base)(**{**base.components, "vae": tiny_hierarchical_vae()}).save_pretrained(tmp_path / "hier")
    line = error_line(cli("generate", "a red ball bounces", "--model", str(tmp_path / "hier"), "--4k", "--upsampler",
                          str(tmp_path / "up"), "--height", "128", "--width", "128", "--num-frames", "9"))
    assert "--upsampler is not used with --4k here" in line and LOADED not in line  # printed only "wrote h2.mp4"


def _wav(path, channels, rate: int, seconds: float):
    """A 24-bit wav whose channel c holds a tone at 440 * (c + 1) Hz, its first also one at 10 kHz."""
    import wave

    t = np.arange(round(rate * seconds)) / rate
    tones = np.stack([0.3 * np.sin(2 * np.pi * 440 * (c + 1) * t) for c in range(channels)], 1)
    tones[:, 0] += 0.3 * np.sin(2 * np.pi * 10000 * t)
    with wave.open(str(path), "wb") as file:
        file.setnchannels(channels)
        file.setsampwidth(3)
        file.setframerate(rate)
        file.writeframes((tones * 2**23).astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes())
    return path


def _level_db(waveform, rate: int, hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(waveform * np.hanning(len(waveform))))
    band = np.abs(np.fft.rfftfreq(len(waveform), 1 / rate) - hz) < 50
    return 20 * np.log10(spectrum[band].max() + 1e-12)


def test_audio_is_written_at_its_own_rate_and_channels(tmp_path):
    """--audio with a 44.1 kHz stereo wav came back 16 kHz mono (the model's version), its 10 kHz tone and its second
    channel gone (2026-12-07). Now the mp4 holds the file's own sound, trimmed to the video."""
    import av

    given = _wav(tmp_path / "song.wav", 2, 44100, 1.0)
    result = cli("generate", "a red ball bounces", "--steps", "1", "--num-frames", "9", "--audio", str(given),
                 "--output", str(tmp_path / "out.mp4"))
    assert result.returncode == 0, result.stderr
    assert "it is cut to the video" in result.stderr  # 1 s given, 9 / 24 s of video: the pipeline's warning, once
    with av.open(str(tmp_path / "out.mp4")) as container:
        stream = container.streams.audio[0]
        assert (stream.rate, stream.channels) == (44100, 2)  # were 16000, 1
    written, _ = read_audio(tmp_path / "out.mp4", sample_rate=44100, mono=False)
    assert abs(written.shape[1] - round(44100 * 9 / 24)) <= 1  # trimmed to the video's 0.375 s
    left, right = written.numpy()
    assert _level_db(left, 44100, 10000) > _level_db(left, 44100, 440) - 3 > 40  # 10 kHz: -109 dB before
    assert _level_db(right, 44100, 880) > _level_db(right, 44100, 10000) + 40  # the channels are the file's, apart
    source, _ = read_audio(given, sample_rate=44100, mono=False)
    n = written.shape[1]
    assert np.corrcoef(source[1, 2000:n].numpy(), written[1, 2000:n].numpy())[0, 1] > 0.95


def test_the_given_sound_is_padded_and_stored_at_a_rate_aac_takes(tmp_path, capsys):
    """given_sound: a sound shorter than the video is padded with silence (as the pipeline pads its own), a rate AAC
    has not is written at the next one up and more than 2 channels as stereo, each said."""
    from ltx_video.cli.generate import given_sound

    waveform, rate = given_sound(_wav(tmp_path / "short.wav", 2, 48000, 0.5), 49, 24)
    assert rate == 48000 and waveform.shape == (2, round(48000 * 49 / 24)) and capsys.readouterr().err == ""
    source, _ = read_audio(tmp_path / "short.wav", sample_rate=48000, mono=False)
    assert np.array_equal(waveform[:, :24000].numpy(), source.numpy()) and not waveform[:, 24000:].any()
    waveform, rate = given_sound(_wav(tmp_path / "odd.wav", 3, 37800, 1.0), 9, 24)
    assert rate == 44100 and waveform.shape == (2, round(44100 * 9 / 24))
    assert capsys.readouterr().err.strip() == (f"ltx-video: note: --audio {tmp_path / 'odd.wav'}: its sound is written "
                                               "at 44100 Hz (AAC stores no 37800 Hz) and mixed from 3 channels to stereo")
    mono, rate = given_sound(_wav(tmp_path / "mono.wav", 1, 22050, 1.0), 9, 24)
    assert rate == 22050 and mono.shape == (1, round(22050 * 9 / 24))


def test_a_clip_at_another_rate_is_said_once(tmp_path):
    """The pipeline now says it too (for Python calls): the command, which said it before loading, says it once."""
    from ltx_video.io.media import write_video

    clip = write_video(tmp_path / "clip30.mp4", np.zeros((9, 64, 64, 3), np.float32), 30)
    result = cli("generate", "a red ball bounces", "--steps", "1", "--num-frames", "9", "--condition", f"{clip}:0",
                 "--output", str(tmp_path / "out.mp4"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("fps") == 1 and "--condition" in result.stderr, result.stderr


def test_the_readmes_python_writes_the_commands_mp4_byte_for_byte(tmp_path, monkeypatch):
    """The README names the Python call that writes the command's file: ``--seed N`` seeds a CPU generator (on every
    --device) and the file is ``write_video`` of the output; ``export_to_video`` (diffusers' quality 5) is another
    file, up to 24/255 off, and nothing said so."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    block = next(b.split("```", 1)[0] for b in readme.split("```python\n")[1:] if "write_video(" in b)
    command = next(line for line in block.splitlines() if line.startswith("# ltx-video generate "))
    assert 'torch.Generator("cpu").manual_seed(7)' in block and "--seed 7" in command
    monkeypatch.chdir(tmp_path)
    result = cli(*shlex.split(command)[2:], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    namespace = {}
    exec(block, namespace)
    written = (tmp_path / "same_as_ball.mp4").read_bytes()
    assert written == (tmp_path / "ball.mp4").read_bytes()
    export_to_video(namespace["out"], str(tmp_path / "exported.mp4"))
    assert (tmp_path / "exported.mp4").read_bytes() != written
