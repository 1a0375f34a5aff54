"""bootstrap_interval: against the normal-theory interval it should approach, its coverage, and its edge cases."""

import math

import numpy as np
import pytest

from ltx_video.metrics import bootstrap_interval


def test_mean_interval_matches_normal_theory_on_a_large_sample():
    # For n = 400 draws the percentile bootstrap of the mean is mean -/+ 1.96 s / sqrt(n): its centre and its
    # half-width to within a few percent (a 90 % interval would be 16 % narrower, a 99 % one 31 % wider).
    x = np.random.default_rng(1).exponential(scale=80.0, size=400)
    low, high = bootstrap_interval(x)
    half = 1.959964 * x.std(ddof=1) / math.sqrt(x.size)
    assert (high - low) / 2 == pytest.approx(half, rel=0.05)
    assert (low + high) / 2 == pytest.approx(x.mean(), abs=0.1 * half)


def test_coverage_of_the_true_mean_is_near_the_level():
    # 200 samples of 64 clips from a skewed distribution with a known mean (offsets: exponential, mean 50 ms).
    rng = np.random.default_rng(2)
    hits = 0
    for i in range(200):
        low, high = bootstrap_interval(rng.exponential(50.0, size=64), resamples=2000, seed=i)
        hits += low <= 50.0 <= high
    assert 0.88 <= hits / 200 <= 0.99


def test_median_share_and_callable():
    x = np.random.default_rng(4).normal(50.0, 10.0, size=101)
    low, high = bootstrap_interval(x, "median")
    assert low < np.median(x) < high and high - low < 10
    assert bootstrap_interval(x, lambda d: np.median(d, axis=-1)) == (low, high)
    within = (x <= 45).astype(float)  # a share: pass the indicators
    low, high = bootstrap_interval(within)
    assert low < within.mean() < high


def test_pairing_tells_apart_what_two_separate_intervals_cannot():
    # Two models on the same 64 seeds; the seed decides most of each clip's offset, the model moves it by 10 ms.
    rng = np.random.default_rng(3)
    difficulty = rng.exponential(60.0, size=64)
    baseline = difficulty + rng.normal(0, 3, size=64)
    better = difficulty - 10 + rng.normal(0, 3, size=64)
    low_base, high_base = bootstrap_interval(baseline)
    low_better, high_better = bootstrap_interval(better)
    assert low_base < high_better  # apart, the two intervals overlap: not told apart
    low, high = bootstrap_interval(better - baseline)
    assert high < 0 and low > -15  # paired: 10 ms better, told apart


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
    with pytest.raises(ValueError, match="level must be a number"):
        bootstrap_interval(x, level="0.9")
    with pytest.raises(ValueError, match=r"one value per draw \(10000,\), got shape \(\)"):
        bootstrap_interval([1.0, 2.0, 3.0, 4.0], statistic=np.mean)  # without axis=1: one number for all draws
    assert bootstrap_interval([1.0, 2.0, 3.0, 4.0], statistic=lambda d: d.mean(axis=1)) == bootstrap_interval(
        [1.0, 2.0, 3.0, 4.0])


def test_float_frames_outside_the_unit_range_are_refused():
    """A float array of 0-255 values read as [0, 1] made every metric silently wrong (flicker 1.05 for 0.004)."""
    from ltx_video.metrics import flicker

    frames = np.random.default_rng(0).integers(0, 256, size=(8, 16, 16, 3)).astype(np.uint8)
    assert flicker(frames) == pytest.approx(flicker(frames.astype(np.float32) / 255))  # float32 rounding
    assert flicker(frames) == pytest.approx(flicker(frames.astype(np.float32) / 127.5 - 1))
    with pytest.raises(ValueError, match="frames holds values up to 255: float frames must be in"):
        flicker(frames.astype(np.float32))


def test_a_tensor_that_requires_grad_is_detached():
    import torch

    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    tensor = torch.tensor(values, requires_grad=True)
    assert bootstrap_interval(tensor, resamples=200) == bootstrap_interval(np.array(values), resamples=200)
