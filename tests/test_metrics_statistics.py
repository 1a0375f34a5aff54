"""bootstrap_interval: against the normal-theory interval it should approach, its coverage, and its edge cases."""

import math

import numpy as np
import pytest

from ltx_video.metrics import bootstrap_interval


def test_mean_interval_matches_normal_theory_on_a_large_sample():
    # For n = 400 draws the percentile bootstrap of the mean is mean -/+ 1.96 s / sqrt(n) to within a few percent.
    x = np.random.default_rng(1).exponential(scale=80.0, size=400)
    low, high = bootstrap_interval(x)
    half = 1.959964 * x.std(ddof=1) / math.sqrt(x.size)
    assert low == pytest.approx(x.mean() - half, rel=0.03)
    assert high == pytest.approx(x.mean() + half, rel=0.03)


def test_coverage_of_the_true_mean_is_near_the_level():
    # 200 samples of 64 clips from a skewed distribution with a known mean (offsets: exponential, mean 50 ms).
    rng = np.random.default_rng(2)
    hits = 0
    for i in range(200):
        low, high = bootstrap_interval(rng.exponential(50.0, size=64), resamples=2000, seed=i)
        hits += low <= 50.0 <= high
    assert 0.88 <= hits / 200 <= 0.99


def test_median_share_and_callable():
    x = np.arange(101, dtype=float)
    low, high = bootstrap_interval(x, "median")
    assert low < 50 < high and high - low < 30
    within = (x <= 30).astype(float)  # a share: pass the indicators
    low, high = bootstrap_interval(within)
    assert low < within.mean() < high
    assert bootstrap_interval(x, lambda d: d.max(axis=-1))[1] == 100.0


def test_paired_differences_hold_zero_only_when_the_models_do_not_differ():
    rng = np.random.default_rng(3)
    clip = rng.exponential(60.0, size=64)  # what each clip's seed makes hard, shared by both models
    same = clip + rng.normal(0, 5, size=64)
    better = clip - 20 + rng.normal(0, 5, size=64)
    low, high = bootstrap_interval(same - clip)
    assert low < 0 < high
    low, high = bootstrap_interval(better - clip)
    assert high < 0


def test_deterministic_nan_dropped_constant_and_errors():
    x = [3.0, float("nan"), 5.0, 4.0, float("inf")]
    assert bootstrap_interval(x) == bootstrap_interval([3.0, 5.0, 4.0])
    assert bootstrap_interval(x, seed=7) == bootstrap_interval(x, seed=7)
    assert bootstrap_interval([2.5] * 10) == (2.5, 2.5)
    assert all(math.isnan(v) for v in bootstrap_interval([float("nan")] * 3))
    with pytest.raises(ValueError, match="statistic"):
        bootstrap_interval(x, "mode")
    with pytest.raises(ValueError, match="level"):
        bootstrap_interval(x, level=95)
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_interval(x, resamples=10)
    with pytest.raises(ValueError, match="1-D"):
        bootstrap_interval(np.zeros((2, 3)))
