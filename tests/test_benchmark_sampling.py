"""scripts/benchmark_sampling.py's helpers: the schedules its rows run and the paired differences it prints."""

import json
import math

import numpy as np
import pytest
from conftest import script_module

from ltx_video.pipelines.denoising import linear_quadratic_schedule


@pytest.fixture(scope="module")
def bench():
    with script_module("benchmark_sampling") as module:
        yield module


def test_schedules_follow_the_calls_step_count(bench):
    linear = bench.schedule_timesteps("linear", 20)
    assert linear[0] == 1000.0 and linear[-1] == pytest.approx(50.0) and len(linear) == 20
    assert np.allclose(np.diff(linear), -50.0)
    few_linear = bench.schedule_timesteps("linear-quadratic, 5 linear", 30)
    default = (1000 * linear_quadratic_schedule(30)).tolist()
    # both reach sigma 0.975 by the end of their linear part: after 5 steps instead of 15
    assert few_linear[5] == pytest.approx(975.0) and default[15] == pytest.approx(975.0)
    assert few_linear[6] < 975.0 < default[14]
    with pytest.raises(ValueError, match="unknown schedule"):
        bench.schedule_timesteps("cosine", 30)


def test_paired_differences_leave_out_clips_without_a_reading(bench):
    clips = {"abs_offset_ms": [10.0, 100.0, math.nan, 400.0], "av_align": [0.5, 0.6, 0.2, 0.1]}
    baseline = {"abs_offset_ms": [30.0, 20.0, 5.0, 40.0], "av_align": [0.4, 0.6, 0.3, 0.5]}
    row = bench.paired_differences(clips, baseline)
    mean, share, align, clips_with_both = (cell.strip() for cell in row.split("|"))
    # offsets: (10-30, 100-20, 400-40) / 3 = +140; within 65 ms: (1-1, 0-1, 0-1) / 3 = -66.7 points
    assert mean.startswith("+140.0 [") and share.startswith("-66.7 [") and align.startswith("-0.100 [")
    assert clips_with_both == "3"


def test_json_values_are_finite_or_null(bench):
    report = bench._finite_or_none({"a": [math.nan, np.float64(2.5), np.bool_(True), math.inf], "b": "NaN model"})
    assert json.loads(json.dumps(report)) == {"a": [None, 2.5, True, None], "b": "NaN model"}


def _report(tmp_path, seeds, per_clip, model="built-in"):
    path = tmp_path / "earlier.json"
    path.write_text(json.dumps({"model": model, "held_out_indices": seeds, "settings": {}, "per_clip": per_clip}))
    return path


def test_an_earlier_report_reads_back_with_its_missing_readings(bench, tmp_path):
    clips = {"abs_offset_ms": [12.0, math.nan, 300.0], "av_align": [0.5, 0.0, 0.25], "object_in_every_frame": [True] * 3}
    path = _report(tmp_path, [0, 1, 2], bench._finite_or_none({"defaults": clips}))
    earlier = bench.earlier_readings(path, [0, 1, 2], ["defaults"])
    assert earlier["model"] == "built-in"
    offsets = earlier["per_clip"]["defaults"]["abs_offset_ms"]
    assert offsets[0] == 12.0 and math.isnan(offsets[1]) and offsets[2] == 300.0
    # paired against itself shifted by 10 ms: the clip without a reading stays out
    later = {**clips, "abs_offset_ms": [22.0, 5.0, 310.0]}
    assert bench.paired_differences(later, earlier["per_clip"]["defaults"]).startswith("+10.0 [+10.0, +10.0] ms")


def test_an_earlier_report_on_other_prompts_or_rows_is_refused(bench, tmp_path):
    path = _report(tmp_path, [0, 1], {"defaults": {"abs_offset_ms": [1.0, 2.0], "av_align": [0.1, 0.2]}})
    with pytest.raises(ValueError, match="same --num and --tuning"):
        bench.earlier_readings(path, [0, 1, 2], ["defaults"])
    with pytest.raises(ValueError, match=r"no rows \['video='\]"):
        bench.earlier_readings(path, [0, 1], ["defaults", "video="])


def test_paired_with_is_checked_before_any_model_loads(bench, tmp_path, capsys):
    path = _report(tmp_path, [1_000_000], {"defaults": {"abs_offset_ms": [1.0], "av_align": [0.1]}})
    with pytest.raises(SystemExit) as stop:
        bench.main(["--num", "1", "--settings", "defaults", "--paired-with", str(path)])
    assert stop.value.code == 2
    assert "--paired-with:" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--num", "1", "--paired-with", str(tmp_path / "missing.json")])
    assert "--paired-with:" in capsys.readouterr().err
