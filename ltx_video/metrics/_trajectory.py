"""Velocity changes along one tracked trajectory, by fitting it piecewise.

A bouncing object's centroid ``p(t)`` (both axes at once) is modelled as one constant acceleration
(gravity, or none; on tracks shorter than 8 points a constant velocity) plus a velocity jump at each
event time ``t_i``:

    p(t) = c0 + c1 t + c2 t^2 + sum_i dv_i * max(t - t_i, 0)

For given ``t_i`` the model is linear in ``c0, c1, c2, dv_i`` (least squares for both axes in one
solve). Events are added one at a time, each where it lowers the residual sum of squares most (a
quarter-frame grid refined to a hundredth), while the drop is significant against the noise,
``F = (RSS_before - RSS_after) / 2 / sigma^2 >= _F_CRITICAL``, and the jump ``|dv|`` is at least
``min_change`` px per frame. ``sigma^2`` is the centroid noise measured apart from the fit
(:func:`noise_variance`, at least ``_NOISE_FLOOR^2``), so events not yet modelled do not inflate it and
stop the search early. The search holds the acceleration at the median second difference (events are
few): with it free, the first event can fit the tops of gravity's arcs with an acceleration of the
wrong sign, a basin the later ones do not leave. After each addition every event is moved to its best
position with the others held (two events a frame apart first get one between them); at the end, with
the acceleration free, an event the later ones made redundant (whose removal, its neighbours refined,
no longer passes the test) is dropped.

Why a fit and not the second difference ``x_{k+1} - 2 x_k + x_{k-1}``: the second difference uses three
frames, so the centroid's noise reaches it undamped. An aliased (hard-edged) object moves by whole
pixels, and its second difference is +-1 px almost everywhere, as large as a bounce at 1 px per frame.
The fit estimates each velocity from all the frames between two events, so its error falls as
``n^-1.5``, and it gives the event time where the two velocities meet, to a fraction of a frame.
"""

from __future__ import annotations

import numpy as np

_F_CRITICAL = 30.0  # a maximum over ~4 T positions: a single test at F = 30 would be p ~ 1e-13
_NOISE_FLOOR = 0.02  # px: centroids of exact, anti-aliased renderings are not better than this
_UNMEASURED_NOISE = 0.3  # px: assumed when no track has 5 points to measure it (an aliased centroid's noise)
_GRID = 0.25  # frames
_QUADRATIC_FROM = 8  # points: shorter tracks are fitted without the acceleration term
_FINE = 0.01  # frames


def _design(times: np.ndarray, hinges: list[float] | np.ndarray, base: int) -> np.ndarray:
    """``(T, base + H)`` columns: 1, centred t, centred t^2 (scaled; the first ``base`` of these), one
    ``max(t - t_i, 0)`` per hinge."""
    scale = max(1.0, (len(times) - 1) / 2)
    centred = (times - times.mean()) / scale
    columns = [np.ones_like(times), centred, centred**2][:base]
    columns += [np.maximum(times - h, 0.0) for h in hinges]
    return np.stack(columns, axis=1)


def _fit(design: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares coefficients ``(P, 2)`` and the residual sum of squares over both axes."""
    coefficients, *_ = np.linalg.lstsq(design, points, rcond=None)
    residual = points - design @ coefficients
    return coefficients, float((residual**2).sum())


def _scan(times, points, fixed: list[float], candidates: np.ndarray, base: int) -> np.ndarray:
    """Residual sum of squares for one more hinge at each of ``candidates``: ``(C,)``, batched normal equations."""
    held = _design(times, fixed, base)  # (T, P)
    extra = np.maximum(times[None, :] - candidates[:, None], 0.0)  # (C, T)
    design = np.concatenate([np.broadcast_to(held, (len(candidates), *held.shape)), extra[..., None]], axis=2)
    gram = design.transpose(0, 2, 1) @ design
    gram += 1e-9 * np.trace(gram, axis1=1, axis2=2)[:, None, None] * np.eye(gram.shape[1])
    coefficients = np.linalg.solve(gram, design.transpose(0, 2, 1) @ points)
    residual = points[None] - design @ coefficients
    return (residual**2).sum(axis=(1, 2))


def _best_position(times, points, fixed, low, high, min_separation, base) -> tuple[float, float] | None:
    """The hinge position in ``[low, high]`` (kept ``min_separation`` from ``fixed``) with the lowest residual."""
    candidates = np.arange(low, high + 1e-9, _GRID)
    if fixed:
        candidates = candidates[np.abs(candidates[:, None] - np.asarray(fixed)[None, :]).min(axis=1) >= min_separation]
    if len(candidates) == 0:
        return None
    rss = _scan(times, points, fixed, candidates, base)
    coarse = candidates[int(np.argmin(rss))]
    fine = np.arange(max(low, coarse - _GRID), min(high, coarse + _GRID) + 1e-9, _FINE)
    if fixed:
        fine = fine[np.abs(fine[:, None] - np.asarray(fixed)[None, :]).min(axis=1) >= min_separation]
    fine = np.concatenate([fine, [coarse]])
    rss = _scan(times, points, fixed, fine, base)
    index = int(np.argmin(rss))
    return float(fine[index]), float(rss[index])


def velocity_changes(
    points: np.ndarray,
    noise_variance: float,
    *,
    min_change: float,
    min_separation: float = 0.5,
    acceleration_step: int = 1,
) -> list[tuple[float, float]]:
    """Events along one trajectory, see the module docstring.

    Args:
        points: ``(T, 2)`` centroids in consecutive frames.
        noise_variance: the centroids' noise variance per axis (:func:`noise_variance` over the clip's tracks).
        min_change: the smallest velocity change reported, px per frame.
        min_separation: the smallest distance in frames between two events.
        acceleration_step: the stride in frames of the second differences whose median is the search's
            acceleration (:func:`_held_acceleration`).

    Returns:
        ``(time, strength)`` pairs sorted by time: the time in frames from the first point (an event
        needs a frame on each side and one more to measure a velocity: ``1 <= time <= T - 2``), the
        strength ``|dv_x| + |dv_y|`` in px per frame.
    """
    points = np.asarray(points, np.float64)
    count = len(points)
    times = np.arange(count, dtype=np.float64)
    low, high = 1.0, count - 2.0
    sigma2 = max(noise_variance, _NOISE_FLOOR**2)
    base = 3 if count >= _QUADRATIC_FROM else 2
    # the search runs with the acceleration held at the median second difference (gravity; events are
    # few): with it free, a first hinge can fit the tops of gravity's arcs with an acceleration of the
    # wrong sign, and the later ones stay in that basin
    acceleration = _held_acceleration(points, acceleration_step) if base == 3 else np.zeros(2)
    level = points - 0.5 * acceleration * (times - times.mean())[:, None] ** 2
    hinges: list[float] = []
    _, rss = _fit(_design(times, hinges, 2), level)
    while count - (base + len(hinges) + 1) >= 0 and high > low:
        found = _best_position(times, level, hinges, low, high, min_separation, 2)
        if found is None:
            break
        position, rss_after = found
        coefficients, _ = _fit(_design(times, [*hinges, position], 2), level)
        if (rss - rss_after) / 2 / sigma2 < _F_CRITICAL or np.abs(coefficients[-1]).sum() < min_change:
            break
        # every hinge is moved to its best place with the others held (two events a frame apart
        # first get one hinge between them)
        hinges = _refine(times, level, sorted([*hinges, position]), low, high, min_separation, 2, reach=None)
        _, rss = _fit(_design(times, hinges, 2), level)
    # then with the acceleration free: a hinge the later ones made redundant goes, weakest first
    hinges = _refine(times, points, hinges, low, high, min_separation, base)
    while hinges:
        coefficients, rss = _fit(_design(times, hinges, base), points)
        scores = []
        for i in range(len(hinges)):
            # without hinge i, its neighbours within 2 frames may move into the gap it leaves
            others = hinges[:i] + hinges[i + 1 :]
            near = [j for j, h in enumerate(others) if abs(h - hinges[i]) <= 2]
            others = _refine(times, points, others, low, high, min_separation, base, only=near)
            _, without = _fit(_design(times, others, base), points)
            change = float(np.abs(coefficients[base + i]).sum())
            significant = (without - rss) / 2 / sigma2 >= _F_CRITICAL and change >= min_change
            scores.append((significant, (without - rss) / sigma2, i))
        weakest = min(scores)
        if weakest[0]:
            break
        del hinges[weakest[2]]
        hinges = _refine(times, points, hinges, low, high, min_separation, base)
    coefficients, _ = _fit(_design(times, hinges, base), points)
    events = [(h, float(np.abs(coefficients[base + i]).sum())) for i, h in enumerate(hinges)]
    return sorted(events)


def _held_acceleration(points: np.ndarray, step: int) -> np.ndarray:
    """The median of ``(x_{k+2s} - 2 x_{k+s} + x_k) / s^2`` over a track, ``s = step`` frames (fewer when the
    track is short), per axis.

    A frame's second difference carries about ``2 sigma`` of centroid noise against an acceleration that falls
    as ``1 / fps^2``: at 60 fps a small sub-pixel object's centroid steps alternating by 0.96 and 0.79 px
    gave second differences of +-0.17 px per frame^2, whose median (-0.053) held 94 px of false curvature
    over its 120 frames, and the search placed three events where the bounces were two. A stride of a fixed
    time keeps the ratio of that noise to the acceleration the same at every frame rate."""
    step = max(1, min(int(step), (len(points) - 1) // 2))
    second = (points[2 * step :] - points[step:-step]) - (points[step:-step] - points[: -2 * step])
    return np.median(second, axis=0) / step**2


def noise_variance(tracks: list[np.ndarray]) -> float:
    """The centroid noise variance per axis, from quadratics fitted to every 5 consecutive points of
    every ``(T, 2)`` track (tracks of one clip share how they were rendered and measured).

    Each window leaves 2 degrees of freedom per axis; the median over windows (divided by 0.69, the
    median of a chi-square with 2 degrees of freedom over 2) ignores the few windows an event bends,
    so the estimate does not depend on the events or on how many hinges a fit uses. Without a track of
    5 points, ``_UNMEASURED_NOISE^2``: short tracks alone cannot show their noise, so they are held to
    that of an aliased object."""
    t = np.arange(5.0) - 2.0
    basis = np.stack([np.ones(5), t, t * t], axis=1)
    projector = np.eye(5) - basis @ np.linalg.pinv(basis)  # residual maker
    per_window = []
    for points in tracks:
        if len(points) >= 5:
            windows = np.lib.stride_tricks.sliding_window_view(np.asarray(points, np.float64), 5, axis=0)
            per_window.append(((windows @ projector) ** 2).sum(axis=2).mean(axis=1) / 2.0)
    return float(np.median(np.concatenate(per_window)) / 0.69) if per_window else _UNMEASURED_NOISE**2


def _refine(times, points, hinges, low, high, min_separation, base, only=None, reach: float | None = 1.0):
    """One pass over the hinges (or the indices ``only``): each moved to its best position within
    ``reach`` frames (anywhere on the track when None), the others held, when that lowers the residual."""
    hinges = list(hinges)
    for i in range(len(hinges)) if only is None else only:
        others = hinges[:i] + hinges[i + 1 :]
        lo, hi = (low, high) if reach is None else (max(low, hinges[i] - reach), min(high, hinges[i] + reach))
        found = _best_position(times, points, others, lo, hi, min_separation, base)
        if found is not None and found[1] < _fit(_design(times, hinges, base), points)[1]:
            hinges[i] = found[0]
    return hinges
