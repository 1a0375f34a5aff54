"""scripts/evaluate.py on clips written by scripts/make_synthetic.py: the README's two data commands."""

import importlib.util
import json
from pathlib import Path

import pytest

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
    assert load("evaluate").main([str(clips), "--out", str(tmp_path / "eval")]) == 0
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
                                  "--out", str(tmp_path / "r")]) == 0
    rows = json.loads((tmp_path / "r.json").read_text())["clips"]
    assert [r["file"] for r in rows] == [str(tmp_path / "modelA" / "clip_000.mp4"), "only.mp4",
                                         str(tmp_path / "modelB" / "clip_000.mp4")]
    table = (tmp_path / "r.md").read_text()
    assert "| file | error |" in table and "InvalidDataError" in table  # why a clip failed is in the table too
