"""The scripts' argument checks: bad flags refused in one line naming the flag before any model loads, --help answered
without running the script, and scripts/benchmark_gpu.sh's usage and exit status (its sections stubbed)."""

import os
import subprocess
from pathlib import Path

import pytest
from conftest import script_module

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_model(monkeypatch):
    """Loading the built-in model fails the test: a refused flag must be refused before it."""
    import ltx_video.default_model

    def load(*args, **kwargs):
        raise AssertionError("the script loaded the model before refusing its arguments")

    monkeypatch.setattr(ltx_video.default_model, "load_default_pipeline", load)


def refusal(name: str, argv: list[str], capsys) -> str:
    """The message of ``scripts/<name>.py``'s ``main(argv)`` refusal: one stderr line after the usage, exit 2 (the
    program name, ``sys.argv[0]``, is pytest's here)."""
    with script_module(name) as module, pytest.raises(SystemExit) as exit_:
        module.main(argv)
    assert exit_.value.code == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert ": error: " in line
    return line.split(": error: ", 1)[1]


@pytest.mark.parametrize("steps", ["0", "-3"])
def test_benchmark_quality_refuses_steps_below_one(steps, no_model, capsys):
    # --steps 0 ran the default 30 steps without a word (args.steps or the default)
    line = refusal("benchmark_quality", ["--num", "2", "--steps", steps], capsys)
    assert line == f"--steps must be >= 1, got {steps}"


def test_benchmark_quality_refuses_a_model_folder_without_a_pipeline(tmp_path, no_model, capsys):
    # was a FileNotFoundError traceback from from_pretrained; worded as benchmark_sampling.py's check
    line = refusal("benchmark_quality", ["--num", "2", "--model", str(tmp_path / "missing")], capsys)
    assert line == (f"--model: {tmp_path / 'missing'} has no model_index.json (expected "
                    "a saved pipeline folder)")


@pytest.mark.parametrize("frames", [["0"], ["30"], ["9", "25"]])
def test_in_place_keyframe_frames_refuses_frames_outside_the_video(frames, no_model, capsys):
    line = refusal("in_place_keyframe_frames", ["--frames", *frames], capsys)
    outside = [int(f) for f in frames if not 1 <= int(f) <= 24]
    assert line == (f"--frames must be in 1-24 (frame 0 holds the start keyframe; the video has 25 frames), "
                    f"got {outside}")


def test_in_place_keyframe_frames_refuses_steps_below_one(no_model, capsys):
    line = refusal("in_place_keyframe_frames", ["--steps", "0"], capsys)
    assert line == "--steps must be >= 1, got 0"


@pytest.mark.parametrize("name", ["aac_round_trip", "fp8_scale_check"])
def test_help_prints_usage_without_running(name, capsys):
    # both ran the whole script (about a minute for the AAC round trip) and ignored --help
    with script_module(name) as module, pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and out.startswith("usage: ") and "[-h]\n" in out
    assert module.__doc__.split()[0] in out  # the description is the docstring's first paragraph
    assert "max per-row gain" not in out and "rate | sound" not in out


def gpu_sh(*args: str, tmp_path: Path, python_exit: int | None = None) -> subprocess.CompletedProcess:
    """``bash scripts/benchmark_gpu.sh ARGS`` from the repository root; with ``python_exit``, every ``python`` (each
    section, and the summary's version line) is a stub that exits with that code at once."""
    env = dict(os.environ)
    if python_exit is not None:
        stubs = tmp_path / "bin"
        stubs.mkdir()
        (stubs / "python").write_text(f"#!/bin/sh\nexit {python_exit}\n")
        (stubs / "python").chmod(0o755)
        env["PATH"] = f"{stubs}{os.pathsep}{env['PATH']}"
    return subprocess.run(["bash", "scripts/benchmark_gpu.sh", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


SECTIONS = ["parity", "4k", "crossover", "pipeline", "memory_plan", "fp8"]


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_benchmark_gpu_sh_help_prints_usage(flag, tmp_path):
    # --help was taken as OUTDIR: mkdir printed its own help and the script exited 1
    result = gpu_sh(flag, tmp_path=tmp_path)
    assert result.returncode == 0 and result.stdout == "usage: benchmark_gpu.sh OUTDIR [BUDGET_SECONDS] [--check]\n"


def test_benchmark_gpu_sh_refuses_an_outdir_starting_with_a_dash(tmp_path):
    result = gpu_sh("--check", "300", tmp_path=tmp_path)
    assert result.returncode == 2 and not (ROOT / "--check").exists()
    assert result.stderr == ("benchmark_gpu.sh: OUTDIR must come first and not start with '-', got '--check' (usage: "
                             "benchmark_gpu.sh OUTDIR [BUDGET_SECONDS] [--check])\n")


def test_benchmark_gpu_sh_exits_nonzero_naming_failed_sections(tmp_path):
    # every section failing exited 0; the summary printed a cap 5 s above what timeout was given
    result = gpu_sh(str(tmp_path / "out"), "25", "--check", tmp_path=tmp_path, python_exit=3)
    summary = (tmp_path / "out" / "summary.txt").read_text().splitlines()
    assert result.returncode == 1
    assert summary[-1] == "failed or skipped: " + " ".join(f"{name} (exit 3)" for name in SECTIONS)
    parity = next(line for line in summary if line.startswith("parity:"))
    assert parity.startswith("parity: exit 3, 0 s (cap 20 s): ")  # min(120, budget 25) less the 5 s kill grace


def test_benchmark_gpu_sh_exits_nonzero_naming_skipped_sections(tmp_path):
    result = gpu_sh(str(tmp_path / "out"), "19", "--check", tmp_path=tmp_path, python_exit=0)
    summary = (tmp_path / "out" / "summary.txt").read_text().splitlines()
    assert result.returncode == 1
    assert summary[-1] == "failed or skipped: " + " ".join(f"{name} (skipped)" for name in SECTIONS)


def test_benchmark_gpu_sh_exits_zero_when_every_section_passes(tmp_path):
    result = gpu_sh(str(tmp_path / "out"), "25", "--check", tmp_path=tmp_path, python_exit=0)
    summary = (tmp_path / "out" / "summary.txt").read_text()
    assert result.returncode == 0 and "failed or skipped" not in summary
    assert all(f"{name}: exit 0, " in summary for name in SECTIONS)
