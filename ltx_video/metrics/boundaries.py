"""Seams of a video made of chunks: flicker, motion and style across chunk boundaries, each against the same
measure inside the chunks.

A boundary ``b`` is the first frame of a new chunk's segment; ``width`` frame pairs from ``(b - 1, b)`` on form
its transition (for ``generate_long``: the overlap frames, over which the chunks are cross-faded). Each
function returns ``{"boundary": ..., "inside": ..., "ratio": boundary / inside}``, with "inside" measured
on every frame pair (or position) that belongs to no transition, so a seam shows as a ratio above 1.

* :func:`boundary_flicker`: mean absolute difference of consecutive frames (:func:`flicker`'s measure);
* :func:`flow_discontinuity`: the specification's optical-flow smoothing term as a metric: the change of the
  optical flow from one frame pair to the next, ``mean |flow(t, t+1) - flow(t-1, t)|`` in px; the flow is
  block matching (:func:`block_flow`). A change joins two pairs, so a transition of ``width`` pairs touches
  ``width + 1`` changes (the one into it, those within, the one out of it): "boundary" averages those, and
  "inside" every change that joins two pairs outside all transitions. A content jump of J px at a seam in a
  steady pan reads boundary J (flow change +J into the seam's pair, -J out of it), inside 0;
* :func:`style_distance`: the specification's style-consistency term as a metric: the distance between the
  colour statistics (per-channel mean and standard deviation, the statistics AdaIN matches) of the ``window``
  frames before and after a position.
"""

from __future__ import annotations

import operator

import numpy as np

from ltx_video.metrics._inputs import FramesLike, as_frames

__all__ = ["block_flow", "boundary_flicker", "flow_discontinuity", "style_distance"]


def _check_boundaries(boundaries, num_frames: int) -> list[int]:
    try:
        values = [operator.index(b) for b in boundaries]  # 16.7 is not a frame index (int() would cut it)
    except TypeError:
        raise ValueError(f"boundaries must be a list of frame indices, got {boundaries!r}") from None
    if any(not 1 <= b < num_frames for b in values) or values != sorted(set(values)):
        raise ValueError(f"boundaries must be increasing frame indices in [1, {num_frames - 1}], got {list(boundaries)}")
    return values


def _split(values: np.ndarray, boundaries: list[int], width: int, pairs_per_value: int) -> dict:
    """``values[i]`` measures pairs ``i`` to ``i + pairs_per_value - 1`` (pair p joins frames p and p + 1); it
    belongs to the boundary when any of them lies in a transition, inside otherwise."""
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be an int >= 1 (frame pairs per transition), got {width!r}")
    first, last = np.arange(len(values)), np.arange(len(values)) + pairs_per_value - 1
    seam = np.zeros(len(values), bool)
    for b in boundaries:
        seam |= (last >= b - 1) & (first <= b - 2 + width)  # overlaps the transition's pairs [b - 1, b - 2 + width]
    if not seam.any() or seam.all():
        raise ValueError("the boundaries leave no frame pair on one side (a boundary or inside); give a longer video")
    boundary, inside = float(values[seam].mean()), float(values[~seam].mean())
    return {"boundary": boundary, "inside": inside, "ratio": boundary / inside if inside > 0 else float("inf")}


def boundary_flicker(frames: FramesLike, boundaries, width: int = 1) -> dict:
    """Mean absolute difference of consecutive frames (values in [0, 1]) at the transitions vs inside."""
    video = as_frames(frames)
    b = _check_boundaries(boundaries, len(video))
    return _split(np.abs(np.diff(video, axis=0)).mean(axis=(1, 2, 3)), b, width, 1)


def _check_flow_options(block, radius) -> None:
    for name, value, low in (("block", block, 1), ("radius", radius, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


def block_flow(a: np.ndarray, b: np.ndarray, block: int = 8, radius: int = 3) -> np.ndarray:
    """Optical flow from frame ``a`` to ``b`` ((H, W, 3) in [0, 1]) by block matching: for each ``block`` x
    ``block`` block of ``a``, the integer shift ``(dx, dy)`` with ``|dx|, |dy| <= radius`` that minimises the
    mean absolute difference to ``b`` (ties: the smaller shift). Returns (H // block, W // block, 2) px."""
    _check_flow_options(block, radius)
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 3 or a.shape != b.shape or a.shape[-1] != 3:
        raise ValueError(f"a and b must be frames of one shape (H, W, 3), got {a.shape} and {b.shape}")
    if min(a.shape[:2]) < block:
        raise ValueError(f"frames must be at least `block` ({block}) px on each side, got {a.shape[0]}x{a.shape[1]}")
    height, width = a.shape[0] // block * block, a.shape[1] // block * block
    gray_a, gray_b = a[:height, :width].mean(-1), b[:height, :width].mean(-1)
    padded = np.pad(gray_b, radius, mode="edge")
    shifts = sorted(((dx, dy) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)),
                    key=lambda s: (abs(s[0]) + abs(s[1]), s))
    best = np.full((height // block, width // block), np.inf)
    flow = np.zeros((height // block, width // block, 2))
    for dx, dy in shifts:
        moved = padded[radius + dy : radius + dy + height, radius + dx : radius + dx + width]
        cost = np.abs(moved - gray_a).reshape(height // block, block, width // block, block).mean(axis=(1, 3))
        better = cost < best - 1e-9
        best[better] = cost[better]
        flow[better] = (dx, dy)
    return flow


def flow_discontinuity(frames: FramesLike, boundaries, width: int = 1, block: int = 8, radius: int = 3) -> dict:
    """Change of the block-matching flow between consecutive frame pairs (px): the mean over the ``width + 1``
    changes each transition touches (into, within and out of its pairs) vs the mean over all other changes."""
    video = as_frames(frames)
    b = _check_boundaries(boundaries, len(video))
    if len(video) < 3:
        raise ValueError(f"frames must hold at least 3 frames, got {len(video)}")
    _check_flow_options(block, radius)
    if min(video.shape[1:3]) < block:
        raise ValueError(f"frames must be at least `block` ({block}) px on each side, got {video.shape[1]}x{video.shape[2]}")
    flows = np.stack([block_flow(video[t], video[t + 1], block, radius) for t in range(len(video) - 1)])
    change = np.linalg.norm(np.diff(flows, axis=0), axis=-1).mean(axis=(1, 2))  # change[i]: pairs i -> i + 1
    return _split(change, b, width, 2)


def _statistics(video: np.ndarray) -> np.ndarray:
    pixels = video.reshape(-1, 3)
    return np.concatenate([pixels.mean(axis=0), pixels.std(axis=0)])


def style_distance(frames: FramesLike, boundaries, window: int = 4) -> dict:
    """``||stats(before) - stats(after)||`` of the ``window`` frames either side of each boundary, vs the same at
    every inside position (one every ``window`` frames whose windows touch no boundary)."""
    video = as_frames(frames)
    b = _check_boundaries(boundaries, len(video))
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be an int >= 1, got {window!r}")

    def distance(position: int) -> float:
        before, after = video[max(0, position - window) : position], video[position : position + window]
        return float(np.linalg.norm(_statistics(before) - _statistics(after)))

    at_boundaries = [distance(p) for p in b if p - window >= 0 and p + window <= len(video)]
    inside = [distance(p) for p in range(window, len(video) - window + 1, window)
              if all(abs(p - q) >= 2 * window for q in b)]
    if not at_boundaries or not inside:
        raise ValueError("the boundaries leave no position on one side (a boundary or inside); give a longer video")
    boundary, inner = float(np.mean(at_boundaries)), float(np.mean(inside))
    return {"boundary": boundary, "inside": inner, "ratio": boundary / inner if inner > 0 else float("inf")}
