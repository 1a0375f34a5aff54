"""scripts/evaluate.py on clips written by scripts/make_synthetic.py: the README's two data commands."""

import importlib.util
import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

SCRIPTS = Path(__file__).parents[1] / "scripts"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_then_evaluate(tmp_path, capsys):
    clips = tmp_path / "clips"
    assert load("make_synthetic").main([str(clips), "--num", "2", "--seed", "0"]) == 0
    (clips / "clip_00001.mp4").rename(clips / "clip_00001.MP4")  # found whatever the suffix's case
    capsys.readouterr()
    assert load("evaluate").main([str(clips), "--out", str(tmp_path / "eval_v1.2")]) == 0
    assert capsys.readouterr().out.startswith("| summary | value |")  # no empty clip table before it
    report = json.loads((tmp_path / "eval_v1.2.json").read_text())  # the stem keeps its ".2"
    (tmp_path / "eval_v1.2.md").rename(tmp_path / "eval.md")
    assert [row["file"] for row in report["clips"]] == ["clip_00000.mp4", "clip_00001.MP4"]
    summary = report["summary"]
    # Synthetic clips are in sync and follow their prompts; the camera matches the ground truth.
    assert summary["mean_abs_av_offset_ms"] < 15
    assert summary["prompt_adherence"] >= 0.5
    assert summary["camera_err_px"] < 0.5
    table = (tmp_path / "eval.md").read_text()
    assert "| summary | value |" in table and "clip_00001.MP4" in table


def test_evaluate_rejects_missing_inputs(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        load("evaluate").main([str(tmp_path / "nothing")])
    assert exit_.value.code == 2
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "list.json").write_text("[1, 2]")
    for prompts, message in (("missing.json", "not a readable JSON file"), ("list.json", "expected a JSON object")):
        with pytest.raises(SystemExit) as exit_:
            load("evaluate").main([str(tmp_path / "a.mp4"), "--prompts", str(tmp_path / prompts)])
        assert exit_.value.code == 2 and message in capsys.readouterr().err


def _write_with_late_audio(path, clip, late_s: float) -> None:
    """The clip's video from t = 0 and its audio from ``late_s`` on, as a stream that starts at ``late_s``."""
    import av
    import numpy as np

    start = round(late_s * 16000)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=24, options={"crf": "18"})
        video.width, video.height, video.pix_fmt = clip.video.shape[3], clip.video.shape[2], "yuv420p"
        audio = container.add_stream("aac", rate=16000, layout="mono")
        frames = ((clip.video + 1) / 2 * 255).round().byte().permute(0, 2, 3, 1).numpy()
        for k, array in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")
            frame.pts = k
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        samples = clip.audio.numpy()[start:]
        for offset in range(0, len(samples), 1024):
            chunk = samples[offset : offset + 1024][None].astype(np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, start + offset
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))


def test_audio_stream_starting_late_is_aligned(tmp_path):
    from ltx_video.data import make_clip
    from ltx_video.io.media import audio_start_offset

    clip = make_clip(2, camera="static")
    path = tmp_path / "late.mp4"
    _write_with_late_audio(path, clip, 0.25)
    assert abs(audio_start_offset(path) - 0.25) < 0.07  # within one AAC frame of priming
    row = load("evaluate").evaluate_file(path, clip.prompt, None)
    assert abs(row["av_offset_ms"]) < 15  # without the alignment this reads about -250 ms


def test_bad_files_and_foreign_prompts_do_not_stop_the_run(tmp_path):
    clips = tmp_path / "clips"
    assert load("make_synthetic").main([str(clips), "--num", "1", "--duration", "0.25"]) == 0  # 6 frames
    (clips / "broken.mp4").write_bytes(b"not a video")
    (clips / "prompts.json").write_text(json.dumps({"clip_00000.mp4": "a dog runs on a beach"}))
    assert load("evaluate").main([str(clips), "--out", str(tmp_path / "eval")]) == 1  # a clip failed: not 0
    text = (tmp_path / "eval.json").read_text()
    report = json.loads(text)  # strict JSON: no NaN
    rows = {row["file"]: row for row in report["clips"]}
    assert "error" in rows["broken.mp4"] and report["summary"]["errors"] == 1
    assert "prompt_adherence_error" in rows["clip_00000.mp4"] and "flicker" in rows["clip_00000.mp4"]


def test_a_training_folders_captions_are_its_prompts(tmp_path, capsys):
    clips = tmp_path / "clips"
    assert load("make_synthetic").main([str(clips), "--num", "1", "--seed", "3"]) == 0
    prompts = json.loads((clips / "prompts.json").read_text())
    (clips / "prompts.json").unlink()
    for name, prompt in prompts.items():  # the layout scripts/train.py reads: a .txt caption beside each video
        (clips / name).with_suffix(".txt").write_text(prompt)
    assert load("evaluate").main([str(clips), "--out", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval.json").read_text())
    assert report["clips"][0]["prompt_adherence"] >= 0.5  # was nan: no prompt found


def test_evaluate_checks_its_inputs_and_out_before_any_clip(tmp_path, capsys, monkeypatch):
    evaluate = load("evaluate")

    evaluated = []  # main() catches a clip's exceptions into its row: the calls are counted instead
    monkeypatch.setattr(evaluate, "evaluate_file", lambda *args, **kwargs: evaluated.append(args) or {})
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "a.mp4").write_bytes(b"")
    cases = [  # (sidecar text or None, extra arguments, message on stderr)
        ('{"a.mp4": "a red ball bounces",}', [], "prompts.json " + str(tmp_path / "clips" / "prompts.json")
         + ": not a readable JSON file"),
        ('{"a.mp4": 5}', [], "the entry for 'a.mp4' must be a str, got int"),
        (None, ["--out", str(tmp_path / "clips" / "a.mp4" / "results")], "--out"),
    ]
    for sidecar, extra, message in cases:
        if sidecar is not None:
            (tmp_path / "clips" / "prompts.json").write_text(sidecar)
        else:
            (tmp_path / "clips" / "prompts.json").unlink()
        with pytest.raises(SystemExit) as exit_:
            evaluate.main([str(tmp_path / "clips"), *extra])
        assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert evaluated == []


def test_rows_of_two_folders_with_the_same_names_are_told_apart(tmp_path, capsys):
    for model in ("modelA", "modelB"):
        (tmp_path / model).mkdir()
        (tmp_path / model / "clip_000.mp4").write_bytes(b"not a video")
    (tmp_path / "modelA" / "only.mp4").write_bytes(b"not a video")
    assert load("evaluate").main([str(tmp_path / "modelA"), str(tmp_path / "modelB"),
                                  "--out", str(tmp_path / "r")]) == 1
    rows = json.loads((tmp_path / "r.json").read_text())["clips"]
    assert [r["file"] for r in rows] == [str(tmp_path / "modelA" / "clip_000.mp4"), "only.mp4",
                                         str(tmp_path / "modelB" / "clip_000.mp4")]
    table = (tmp_path / "r.md").read_text()
    assert "| file | error |" in table and "InvalidDataError" in table  # why a clip failed is in the table too


def test_failed_files_are_named_on_stderr_and_the_exit_status_is_1(tmp_path, capsys):
    """Five unreadable files gave only '| errors | 5 |' on the console and exit status 0."""
    clips = tmp_path / "clips"
    assert load("make_synthetic").main([str(clips), "--num", "1", "--duration", "0.25"]) == 0  # 6 frames: measured
    (clips / "broken.mp4").write_bytes(b"not a video")
    (clips / "empty.mov").write_bytes(b"")
    capsys.readouterr()
    assert load("evaluate").main([str(clips), "--out", str(tmp_path / "eval")]) == 1
    err = capsys.readouterr().err.splitlines()
    named = [line for line in err if line.startswith("evaluate.py: " + str(clips))]
    assert [line.split(": ")[1] for line in named] == [str(clips / "broken.mp4"), str(clips / "empty.mov")]
    assert all("InvalidDataError: " in line for line in named)  # the error, each on one line
    assert "evaluate.py: 2 of 3 clips could not be evaluated" in "\n".join(err)
    rows = json.loads((tmp_path / "eval.json").read_text())["clips"]  # the reports are still written
    assert [("error" in row) for row in rows] == [True, False, True]  # broken.mp4, clip_00000.mp4, empty.mov
    assert "InvalidDataError" in (tmp_path / "eval.md").read_text()


def test_a_folder_gives_every_kind_of_video_and_names_what_it_skipped(tmp_path, capsys, monkeypatch):
    """A folder gave its .mp4 files only: the .mov, .mkv and .m4v the library writes and .webm and .gif were left
    out without a word."""
    from ltx_video.io.media import write_video

    evaluate = load("evaluate")
    folder = tmp_path / "clips"
    folder.mkdir()
    frames = torch.rand(4, 3, 32, 32, generator=torch.Generator("cpu").manual_seed(0))
    for name in ("a.mp4", "b.mov", "c.mkv", "d.M4V"):
        write_video(folder / name, frames, 24)
    for name, codec, pix_fmt in (("e.webm", "libvpx-vp9", "yuv420p"), ("f.gif", "gif", "rgb8")):
        with av.open(str(folder / name), "w") as container:
            stream = container.add_stream(codec, rate=24)
            stream.width, stream.height, stream.pix_fmt = 32, 32, pix_fmt
            for array in (frames.permute(0, 2, 3, 1) * 255).byte().numpy():
                container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")))
            container.mux(stream.encode(None))
    (folder / "a.txt").write_text("a red ball bounces")  # a caption: read, not skipped
    (folder / "prompts.json").write_text("{}")
    (folder / "notes.wav").write_bytes(b"RIFF")
    read = []  # the frame counts of what would be evaluated
    monkeypatch.setattr(evaluate, "evaluate_file",
                        lambda path, *args: read.append((path.name, evaluate.read_video_tensor(path)[0].shape[0]))
                        or {"file": path.name})
    assert evaluate.main([str(folder), "--out", str(tmp_path / "eval")]) == 0
    assert read == [(name, 4) for name in ("a.mp4", "b.mov", "c.mkv", "d.M4V", "e.webm", "f.gif")]
    skipped = [line for line in capsys.readouterr().err.splitlines() if "skipped" in line]
    assert len(skipped) == 1 and skipped[0].startswith(f"evaluate.py: skipped 1 file(s) in {folder} that are not videos")
    assert skipped[0].endswith(": notes.wav")  # not the caption, not prompts.json


def _write_variable_rate(path, clip, kept: list[int]) -> None:
    """The clip's frames ``kept``, each at its own time ``k / 30`` s on a millisecond time base (a phone's file
    drops and holds frames), and all its audio from t = 0."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=30, options={"crf": "18"})
        video.width, video.height, video.pix_fmt = clip.video.shape[3], clip.video.shape[2], "yuv420p"
        video.codec_context.time_base = Fraction(1, 1000)
        audio = container.add_stream("aac", rate=16000, layout="mono")
        frames = ((clip.video + 1) / 2 * 255).round().byte().permute(0, 2, 3, 1).numpy()
        for k in kept:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frames[k]), format="rgb24")
            frame.pts, frame.time_base = round(1000 * k / 30), Fraction(1, 1000)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        samples = clip.audio.numpy()
        for offset in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(samples[offset : offset + 1024][None].astype(np.float32),
                                               format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, offset
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))


def test_a_variable_rate_file_is_measured_on_its_frames_times(tmp_path):
    """A 30 fps clip recorded at 15 fps for its first 0.6 s (every other frame) was read as 51 frames at its average
    24.7 fps, frame i at i / 24.7 s: +178 ms for a clip in sync (the tester's file: +119.8 ms)."""
    from ltx_video.data import make_clip

    clip = make_clip(5, camera="static", fps=30)
    _write_variable_rate(tmp_path / "phone.mp4", clip, [k for k in range(60) if k >= 18 or k % 2 == 0])
    with pytest.warns(UserWarning, match="variable frame rate .* constant 30 fps.*51 decoded, 60 read"):
        row = load("evaluate").evaluate_file(tmp_path / "phone.mp4", None, None)
    assert (row["frames"], row["fps"]) == (60, 30.0)
    assert abs(row["av_offset_ms"]) < 15


def test_the_docs_recipe_measures_a_files_late_audio_stream(tmp_path, monkeypatch):
    """docs/metrics.md's recipe for a file: read_audio without align_to_video reads a track that starts 0.25 s late
    from its own start, about -250 ms off (the tester's file, 0.5 s late: 35 ms off)."""
    from ltx_video.data import make_clip

    text = (Path(__file__).parents[1] / "docs" / "metrics.md").read_text()
    recipe = text.split("## Measuring a file", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert "align_to_video=True" in recipe
    clip = make_clip(2, camera="static")
    monkeypatch.chdir(tmp_path)
    _write_with_late_audio(tmp_path / "clip.mp4", clip, 0.25)
    scope: dict = {}
    exec(recipe, scope)
    assert abs(scope["offset_ms"]) < 15
