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
    assert load("evaluate").main([str(clips), "--out", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval.json").read_text())
    assert [row["file"] for row in report["clips"]] == ["clip_00000.mp4", "clip_00001.mp4"]
    summary = report["summary"]
    # Synthetic clips are in sync and follow their prompts; the camera matches the ground truth.
    assert summary["mean_abs_av_offset_ms"] < 15
    assert summary["prompt_adherence"] >= 0.5
    assert summary["camera_err_px"] < 0.5
    table = (tmp_path / "eval.md").read_text()
    assert "| summary | value |" in table and "clip_00001.mp4" in table


def test_evaluate_rejects_missing_inputs(tmp_path):
    with pytest.raises(SystemExit) as exit_:
        load("evaluate").main([str(tmp_path / "nothing")])
    assert exit_.value.code == 2
