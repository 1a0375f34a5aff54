"""How far a figure read on a few dozen clips can be trusted: percentile bootstrap intervals over clips."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from ltx_video.metrics._inputs import _numpy

__all__ = ["bootstrap_interval"]

_STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": lambda x: x.mean(axis=-1),
    "median": lambda x: np.median(x, axis=-1),
}


def bootstrap_interval(
    values,
    statistic: str | Callable[[np.ndarray], np.ndarray] = "mean",
    level: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a statistic over independent samples (clips).

    The clips are drawn with replacement ``resamples`` times (``numpy.random.default_rng(seed)``, so the interval
    is the same on every run), the statistic is computed on each draw, and the ``(1 - level) / 2`` and
    ``(1 + level) / 2`` quantiles of those are returned. Non-finite values (a clip with no reading) are left out
    first, as the benchmarks' means leave them out.

    To compare two models on the same seeds, pass the per-clip differences (paired): an interval that holds 0
    means the two are not told apart by these clips. For a share (clips within 65 ms), pass the 0/1 indicators.

    Args:
        values: 1-D, one value per clip (a list, an array, or a tensor; a tensor that requires grad is detached).
        statistic: ``"mean"``, ``"median"``, or a function mapping ``(resamples, n)`` to ``(resamples,)``.
        level: in (0, 1).
        resamples: >= 100.
        seed: of the resampling.

    Returns:
        ``(low, high)``; ``(nan, nan)`` when no value is finite.
    """
    # a tensor is detached as the video metrics detach theirs (np.asarray refuses one that requires grad)
    x = np.asarray(_numpy(values), dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"values must be 1-D (one value per clip), got shape {x.shape}")
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < 100:
        raise ValueError(f"resamples must be an int >= 100, got {resamples!r}")
    if isinstance(statistic, str):
        if statistic not in _STATISTICS:
            raise ValueError(f"statistic must be one of {sorted(_STATISTICS)} or a function, got {statistic!r}")
        statistic = _STATISTICS[statistic]
    x = x[np.isfinite(x)]
    if not x.size:
        return float("nan"), float("nan")
    draws = x[np.random.default_rng(seed).integers(0, x.size, size=(resamples, x.size))]
    estimates = np.asarray(statistic(draws), dtype=np.float64)
    if estimates.shape != (resamples,):
        raise ValueError(f"statistic must map the draws (resamples, n) to one value per draw ({resamples},), got shape "
                         f"{estimates.shape} (e.g. np.mean without axis=1)")
    low, high = np.quantile(estimates, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)
