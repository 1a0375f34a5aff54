"""scripts/benchmark_long.py's summary: the ratios it reads against the targets and their bootstrap intervals."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import benchmark_long

        yield benchmark_long
    finally:
        sys.path.remove(str(ROOT / "scripts"))


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
             "flicker_ratio": 1.0, "flow_ratio": 1.0, "style_ratio": 1.0, "seconds_per_second": 2.0}
            for d in (0.001, 0.002, 0.003)]
    summary = bench.summarise(rows, real)
    assert summary["drift_vs_real"] == pytest.approx(2.0)
    low, high = summary["drift_vs_real_interval"]
    assert 1.0 - 1e-9 <= low < 2.0 < high <= 3.0 + 1e-9
    assert summary["offset_last_over_first"] == pytest.approx(0.5)
    assert summary["offset_last_over_first_interval"] == pytest.approx((0.5, 0.5))
    table = bench.markdown({"real": bench.summarise(real, real), "full": summary})
    line = table.splitlines()[-1]
    assert line.startswith("| full | 0.0020 | 2.00 [") and "| 0.50 [0.50, 0.50] | 10.0 / 5.0 | 100 % | 2.00 |" in line
    assert table.splitlines()[2].startswith("| real | 0.0010 | 1.00 | ")  # no interval for a ratio to itself
    assert math.isnan(bench.summarise(rows, [dict(r, drift=0.0) for r in real])["drift_vs_real"])
