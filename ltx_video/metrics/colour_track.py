"""Bounce times of an object of a known colour: a prompt-aware event detector for generated video.

:func:`video_motion_events` segments every moving object against a median background and rejects any
event whose object changes area by more than 15 %: exact on clean video, but a generated or
VAE-decoded video (a background that shimmers, an object whose area breathes by 10-20 % from frame to
frame) loses tracks and events there. When the prompt names the object's colour, the object can be
followed directly:

1. per frame, each pixel's weight is ``clip(1 - d / tolerance, 0, 1)`` with ``d`` the largest RGB
   difference to the named colour; the centroid of the weights is the object's position (frames
   whose total weight is under ``min_area`` px have none);
2. along each axis, a bounce is a reversal of direction: at frame ``m`` with a line fitted to the
   positions ``m - 3 .. m - 1`` and one to ``m + 1 .. m + 3`` whose slopes have opposite signs and are
   each at least ``min_speed`` px per frame, the event is where the two lines cross (sub-frame time),
   kept when that lies within one frame of ``m``; its strength is the change of slope. Reversals of one
   axis closer than two frames are one event (the strongest).
3. with ``sharp_only=True``, a reversal is kept only where the two lines fit the seven positions
   ``m - 3 .. m + 3`` better than one parabola does (root-mean-square residual): a bounce turns at once,
   while the top of a thrown object's arc (constant acceleration) is a parabola. The default keeps every
   reversal: the synthetic world has no gravity, and a bounce that the VAE or the model rounds over a few
   frames can fit a parabola too, so the published figures use the default.

Frame ``k`` shows time ``k / fps``. Bounces within three frames of either end are not seen.
"""

from __future__ import annotations

import numpy as np

from ltx_video.metrics._inputs import FramesLike, as_frames, check_positive

__all__ = ["colour_bounce_events", "colour_track"]

_FIT = 3  # frames in each line fit


def colour_track(frames: FramesLike, rgb, tolerance: float = 0.2, min_area: float = 4.0) -> np.ndarray:
    """``(F, 2)`` centroid ``(x, y)`` in pixel-centre coordinates of the pixels near colour ``rgb`` (in [0, 1]);
    NaN in frames where the object covers less than ``min_area`` px."""
    tolerance = check_positive(tolerance, "tolerance")
    min_area = check_positive(min_area, "min_area")
    rgb = np.asarray(rgb, np.float64)
    if rgb.shape != (3,) or not ((rgb >= 0) & (rgb <= 1)).all():
        raise ValueError(f"rgb must be 3 values in [0, 1], got {rgb.tolist()}")
    video = as_frames(frames)
    weight = np.clip(1.0 - np.abs(video - rgb).max(axis=-1) / tolerance, 0.0, 1.0)
    mass = weight.sum(axis=(1, 2))
    ys, xs = np.mgrid[0 : video.shape[1], 0 : video.shape[2]] + 0.5
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.stack([(weight * xs).sum(axis=(1, 2)) / mass, (weight * ys).sum(axis=(1, 2)) / mass], axis=1)
    centre[mass < min_area] = np.nan
    return centre


def _smooth_turn(frames: np.ndarray, x: np.ndarray, m: int, lines) -> bool:
    """Whether one parabola fits positions ``m - 3 .. m + 3`` at least as well as the two lines ``lines``."""
    window = slice(m - _FIT, m + _FIT + 1)
    if np.isnan(x[window]).any():
        return False
    t, y = frames[window], x[window]
    parabola = np.polyval(np.polyfit(t, y, 2), t) - y
    hinge = np.where(t < m, np.polyval(lines[0], t), np.polyval(lines[1], t)) - y
    hinge[_FIT] = 0.0  # frame m belongs to neither line: fitted by the nearer crossing
    return float(np.sqrt(np.mean(parabola**2))) <= float(np.sqrt(np.sum(hinge**2) / (2 * _FIT)))


def _axis_events(x: np.ndarray, min_speed: float, sharp_only: bool = False) -> list[tuple[float, float]]:
    frames = np.arange(len(x), dtype=np.float64)
    found = []
    for m in range(_FIT, len(x) - _FIT):
        left, right = slice(m - _FIT, m), slice(m + 1, m + 1 + _FIT)
        if np.isnan(x[left]).any() or np.isnan(x[right]).any():
            continue
        slope_l, icept_l = np.polyfit(frames[left], x[left], 1)
        slope_r, icept_r = np.polyfit(frames[right], x[right], 1)
        if slope_l * slope_r >= 0 or min(abs(slope_l), abs(slope_r)) < min_speed:
            continue
        t = (icept_r - icept_l) / (slope_l - slope_r)
        if sharp_only and _smooth_turn(frames, x, m, ((slope_l, icept_l), (slope_r, icept_r))):
            continue
        if abs(t - m) <= 1.0:
            found.append((t, abs(slope_l - slope_r)))
    merged: list[tuple[float, float]] = []
    for t, strength in sorted(found):
        if merged and t - merged[-1][0] < 2.0:
            if strength > merged[-1][1]:
                merged[-1] = (t, strength)
        else:
            merged.append((t, strength))
    return merged


def colour_bounce_events(
    frames: FramesLike, fps: float, rgb, *, tolerance: float = 0.2, min_speed: float = 0.5, sharp_only: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Bounce times (s, sorted) and strengths (px per frame) of the object of colour ``rgb``; see the module
    docstring (``sharp_only``: leave out smooth turns, such as the top of a thrown object's arc: step 3). The same ``(times, strengths)`` as :func:`video_motion_events`, for
    :func:`~ltx_video.metrics.sync.offset_from_events_ms` and :func:`~ltx_video.metrics.sync.align_score_from_times`.
    """
    fps = check_positive(fps, "fps")
    min_speed = check_positive(min_speed, "min_speed")
    track = colour_track(frames, rgb, tolerance)
    if not isinstance(sharp_only, bool):
        raise ValueError(f"sharp_only must be True or False, got {sharp_only!r}")
    events = [e for axis in range(2) for e in _axis_events(track[:, axis], min_speed, sharp_only)]
    events.sort()
    times = np.array([t / fps for t, _ in events])
    strengths = np.array([s for _, s in events])
    return times, strengths
