"""scripts/benchmark_long.py's summary: the ratios it reads against the targets and their bootstrap intervals."""

import math

import numpy as np
import pytest
from conftest import script_module


@pytest.fixture(scope="module")
def bench():
    with script_module("benchmark_long") as module:
        yield module


def test_ratio_interval_draws_videos_as_pairs(bench):
    real = np.array([1.0, 2.0, 4.0, 8.0])
    # every video twice its real clip's: whatever the draw, the ratio of means is 2 (were the pairs drawn apart,
    # it would spread)
    assert bench.ratio_interval(2 * real, real) == pytest.approx((2.0, 2.0))
    generated = np.array([1.0, 6.0, 4.0, np.nan])  # a video without a reading is left out, with its real clip
    low, high = bench.ratio_interval(generated, real)
    assert low < 11.0 / 7.0 < high
    assert 1.0 / 4.0 <= low and high <= 6.0 / 1.0


def test_summary_and_table_read_against_the_real_clips(bench):
    real = [{"drift": 0.001, "drift_near": 0.001, "offset_first_ms": 1.0, "offset_last_ms": 1.0, "object_found": 1.0}
            for _ in range(3)]
    rows = [{"drift": d, "drift_near": 0.002, "offset_first_ms": 10.0, "offset_last_ms": 5.0, "object_found": 1.0,
             "flicker_ratio": 1.0, "flow_ratio": 1.0, "style_ratio": 1.0, "seconds_per_second": 2.0,
             "seam_events": e, "seam_frames": 10, "other_events": 4, "other_frames": 90}
            for d, e in ((0.001, 1), (0.002, 0), (0.003, 2))]
    summary = bench.summarise(rows, real)
    assert summary["drift_vs_real"] == pytest.approx(2.0)
    low, high = summary["drift_vs_real_interval"]
    assert 1.0 - 1e-9 <= low < 2.0 < high <= 3.0 + 1e-9
    assert summary["offset_last_over_first"] == pytest.approx(0.5)
    assert summary["offset_last_over_first_interval"] == pytest.approx((0.5, 0.5))
    assert summary["seam_event_ratio"] == pytest.approx((3 / 30) / (12 / 270))  # pooled: 0.1 per frame vs 0.044
    table = bench.markdown({"real": bench.summarise(real, real), "full": summary})
    line = table.splitlines()[-1]
    assert line.startswith("| full | 0.0020 | 2.00 [") and "| 0.50 [0.50, 0.50] | 10.0 / 5.0 | 2.25 | 100 % | 2.00 |" in line
    assert table.splitlines()[2].startswith("| real | 0.0010 | 1.00 | ")  # no interval for a ratio to itself
    assert math.isnan(bench.summarise(rows, [dict(r, drift=0.0) for r in real])["drift_vs_real"])


def test_video_metrics_counts_direction_changes_at_the_seams(bench, tmp_path):
    """A real clip read back from its mp4: every direction change is counted once, at a seam or elsewhere, and the
    frames split into the seams' overlap frames and the rest; every 10-s window has its signed offset."""
    from ltx_video import metrics
    from ltx_video.data.synthetic import COLOURS, parse_prompt
    from ltx_video.io.media import read_video_tensor, write_video
    from ltx_video.training.data import DataConfig, synthetic_clip

    fps = 24.0
    clip = synthetic_clip(1_000_000, DataConfig(height=64, width=64, num_frames=300, fps=fps, camera="static",
                                                max_objects=1))
    path = write_video(tmp_path / "real.mp4", (clip.video.permute(0, 2, 3, 1) + 1) / 2, fps, audio=clip.audio,
                       sample_rate=16000)
    row = bench.video_metrics(path, clip.prompt, [41, 85, 129], 8, fps)
    frames = read_video_tensor(path)[0].permute(0, 2, 3, 1).numpy()
    (colour, _), *_ = parse_prompt(clip.prompt).objects
    times, _ = metrics.colour_bounce_events(frames, fps, COLOURS[colour])
    assert row["seam_events"] + row["other_events"] == len(times) > 0
    assert (row["seam_frames"], row["other_frames"]) == (24, 276)
    at_seams = sum(any(b <= round(t * fps) < b + 8 for b in (41, 85, 129)) for t in times)
    assert row["seam_events"] == at_seams
    assert len(row["offset_windows_ms"]) == 2  # 12.5 s: the windows at 0 s and at 2.5 s (the last 10 s)
    assert all(abs(offset) < 21 for offset in row["offset_windows_ms"])  # a real clip: in sync within half a frame


def test_a_count_below_one_is_refused_before_the_model_and_keeps_earlier_results(bench, tmp_path, capsys):
    (tmp_path / "results.json").write_text('{"earlier": 1}')
    for num in ("0", "-1"):  # loaded the model and wrote an empty report over the earlier one
        with pytest.raises(SystemExit) as exit_:
            bench.main(["--num", num, "--out", str(tmp_path)])
        assert exit_.value.code == 2 and f"--num must be >= 1, got {num}" in capsys.readouterr().err
    assert (tmp_path / "results.json").read_text() == '{"earlier": 1}'


def test_a_conformance_workdir_of_another_ref_is_refused(tmp_path, capsys):
    import subprocess

    repo = tmp_path / "diffusers"
    (repo / "tests").mkdir(parents=True)
    git = ["git", "-C", str(repo), "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for tag in ("REF_A", "REF_B"):
        (repo / "tests" / "test_x.py").write_text(f"# {tag}\n")
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", tag], check=True)
        subprocess.run([*git, "tag", tag], check=True)
    work = tmp_path / "work"
    with script_module("diffusers_conformance") as conformance:
        conformance.extract_tests(repo, "REF_A", work)  # what a first run with --ref REF_A leaves
        with pytest.raises(SystemExit) as exit_:  # its tests were run as REF_B's before
            conformance.main(["--diffusers", str(repo), "--ref", "REF_B", "--workdir", str(work)])
        assert exit_.value.code == 2 and "holds the tests of" in capsys.readouterr().err
        with pytest.raises(SystemExit):
            conformance.main(["--diffusers", str(repo), "--ref", "NO_SUCH_TAG"])
        assert "--ref NO_SUCH_TAG: not a tag or commit" in capsys.readouterr().err
