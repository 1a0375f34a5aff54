"""Motion events in a video: the times at which moving objects change velocity (bounces).

:func:`video_motion_events`, step by step:

1. frames larger than 128 px on their longer side are box-downscaled by an integer factor;
2. the camera motion (:func:`ltx_video.metrics.camera.camera_motion`) is composed into maps from
   frame 0 to every frame; all frames are resampled onto a frame-0 canvas wide enough for every
   frame's footprint, and the per-pixel temporal median over the frames that see a pixel, mapped
   back into each frame, is the background;
3. foreground: pixels whose largest RGB difference to the background exceeds
   ``max(0.1, 6 * robust noise)``. Core pixels are foreground pixels whose four neighbours are
   foreground of a similar colour (within 0.12 per channel); cores connected through similar
   colours, of at least 4 px, seed the objects (so touching objects of different colours stay
   apart), grown through the remaining foreground and then by two more rings. A pixel's weight is
   its coverage by the object, ``alpha = <P - B, O - B> / |O - B|^2`` clipped to ``[0, 1]`` (``P``
   its colour, ``B`` the background's, ``O`` the median colour of the core), so the centroid and the
   mass (area) of a uniform object do not depend on the background texture behind it and are
   sub-pixel exact on anti-aliased edges;
4. components are tracked by nearest neighbour from a constant-velocity prediction; a track ends
   where no component of similar mass is near, or where objects merge or a merged blob splits;
5. a median background fails where an object stays on the same background spot for half the
   frames that see it (an object moving with the camera), leaving a "ghost" of it. So steps 2-4
   run twice: the second median leaves out the pixels of the first pass's tracks that move
   against the background (median speed in frame-0 coordinates above 0.2 px per frame; ghosts
   move with the background);
6. along each track and axis, the acceleration is the second difference of the centroid,
   ``a_k = x_{k+1} - 2 x_k + x_{k-1}``. For a trajectory that is linear between events, an event at
   time ``t`` between frames ``j`` and ``j + 1`` (``t * fps = j + u``) gives ``|a_j| = (1 - u) D`` and
   ``|a_{j+1}| = u D`` (``D`` the velocity change in px per frame) and nothing elsewhere, so the
   centre of mass of ``|a|`` over the four samples around a peak is ``j + u``: the event time with
   sub-frame precision. Peaks whose two-sample sum exceeds ``max(0.5 px, 6 * robust noise)`` are
   events unless the object's mass varies by more than 15 % around them (an occlusion, a merge);
   per-axis events of one track closer than half a frame are one event (strengths add, time
   strength-weighted), so a wall hit on x and one on y a frame apart stay two events.

Frame ``k`` is taken to show time ``k / fps``. Events less than a frame from the first or the last
frame cannot be seen (a second difference needs both neighbours).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ltx_video.metrics._image import downscale, label_components, sample_bilinear
from ltx_video.metrics._inputs import FramesLike, as_frames, check_positive
from ltx_video.metrics.camera import camera_motion, compose_motions

__all__ = ["video_motion_events"]

_MAX_SIDE = 128
_MIN_THRESHOLD = 0.1
_COLOUR_TOLERANCE = 0.12
_MIN_CORE_AREA = 4
_MIN_AREA = 6
_MIN_AREA_FRACTION = 1e-3
_MASS_GATE = 1.2  # largest mass ratio between consecutive points of a track
_STATIC_SPEED = 0.2  # px per frame against the background below which a track is a ghost
_MIN_EVENT_PX = 0.5
_MAX_MASS_RATIO = 1.15
_SAME_EVENT_FRAMES = 0.5


class _Component(NamedTuple):
    x: float  # centroid, weighted by coverage
    y: float
    mass: float  # summed coverage: the area in pixels
    label: int  # in the frame's label image


class _Track(NamedTuple):
    start: int  # frame of the first point
    points: np.ndarray  # (T, 2) centroids in consecutive frames
    mass: np.ndarray  # (T,)
    labels: list[int]  # (T,) component labels


def _robust_sigma(values: np.ndarray) -> float:
    """``1.4826 * median |x - median x|``: the standard deviation of the Gaussian bulk of ``values``."""
    if values.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def _working_frames(frames: FramesLike) -> tuple[np.ndarray, int]:
    """The frames box-downscaled to at most ``_MAX_SIDE`` px, and the integer factor used."""
    video = as_frames(frames)
    factor = max(1, int(np.ceil(max(video.shape[1:3]) / _MAX_SIDE)))
    return downscale(video, factor), factor


def _background(video: np.ndarray, maps: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """Per frame, the camera-compensated temporal median background ``(F, H, W, 3)``.

    ``maps`` are :func:`compose_motions` rows; ``exclude`` ``(F, H, W)`` marks pixels left out of
    the median (where that leaves a canvas pixel with no sample, all frames are used). NaN where no
    frame sees the background.
    """
    f, h, w, _ = video.shape
    tx, ty, s = maps[:, 0], maps[:, 1], maps[:, 2]
    # each frame's footprint in frame-0 coordinates, clipped to three frame sizes
    x_ends = np.stack([(0 - tx) / s, (w - 1 - tx) / s])
    y_ends = np.stack([(0 - ty) / s, (h - 1 - ty) / s])
    xs = np.arange(np.floor(max(x_ends.min(), -w)), np.ceil(min(x_ends.max(), 2 * w - 1)) + 1)
    ys = np.arange(np.floor(max(y_ends.min(), -h)), np.ceil(min(y_ends.max(), 2 * h - 1)) + 1)
    qy, qx = np.meshgrid(ys, xs, indexing="ij")
    stack = np.empty((f, len(ys), len(xs), 3))
    kept = np.empty((f, len(ys), len(xs), 3))
    for k in range(f):
        values, inside = sample_bilinear(video[k], s[k] * qx + tx[k], s[k] * qy + ty[k])
        values[~inside] = np.nan
        stack[k] = values
        if exclude is not None:
            # nearest-pixel lookup of the exclusion mask
            ix = np.clip(np.round(s[k] * qx + tx[k]).astype(np.int64), 0, w - 1)
            iy = np.clip(np.round(s[k] * qy + ty[k]).astype(np.int64), 0, h - 1)
            kept[k] = np.where(exclude[k][iy, ix][..., None], np.nan, values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # canvas pixels no frame sees stay NaN
        canvas = np.nanmedian(stack, axis=0)
        if exclude is not None:
            without = np.nanmedian(kept, axis=0)
            canvas = np.where(np.isnan(without), canvas, without)
    py, px = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((f, h, w, 3))
    for k in range(f):
        background, inside = sample_bilinear(canvas, (px - tx[k]) / s[k] - xs[0], (py - ty[k]) / s[k] - ys[0])
        background[~inside] = np.nan
        out[k] = background
    return out


def _grow_labels(labels: np.ndarray, allowed: np.ndarray, steps: int) -> np.ndarray:
    """Grow labelled regions by up to ``steps`` 4-neighbour rings into ``allowed`` unlabelled pixels;
    a pixel reached by two labels at once stays unlabelled."""
    labels = labels.copy()
    h, w = labels.shape
    for _ in range(steps):
        candidates = np.zeros((4, h, w), labels.dtype)
        candidates[0, 1:] = labels[:-1]
        candidates[1, :-1] = labels[1:]
        candidates[2, :, 1:] = labels[:, :-1]
        candidates[3, :, :-1] = labels[:, 1:]
        highest = candidates.max(axis=0)
        lowest = np.where(candidates > 0, candidates, highest.max() + 1).min(axis=0)
        take = allowed & (labels == 0) & (highest > 0) & (highest == lowest)
        if not take.any():
            break
        labels[take] = highest[take]
    return labels


def _frame_components(frame: np.ndarray, background: np.ndarray, threshold: float, min_area: float):
    """Components of one ``(H, W, 3)`` frame (step 3 of the module docstring): ``(components, labels)``."""
    h, w, _ = frame.shape
    known = ~np.isnan(background).any(axis=-1)
    difference = np.where(known, np.abs(frame - np.nan_to_num(background)).max(axis=-1), 0.0)
    foreground = difference > threshold
    right = foreground[:, :-1] & foreground[:, 1:]
    right &= np.abs(frame[:, :-1] - frame[:, 1:]).max(axis=-1) <= _COLOUR_TOLERANCE
    down = foreground[:-1] & foreground[1:]
    down &= np.abs(frame[:-1] - frame[1:]).max(axis=-1) <= _COLOUR_TOLERANCE
    core = foreground.copy()
    # a missing neighbour outside the frame does not disqualify a pixel
    core[:, :-1] &= right
    core[:, 1:] &= right
    core[:-1] &= down
    core[1:] &= down
    labels, count = label_components(core, frame, _COLOUR_TOLERANCE)
    area = np.bincount(labels.ravel(), minlength=count + 1)
    small = area < _MIN_CORE_AREA
    small[0] = False
    labels[small[labels]] = 0
    labels = _grow_labels(labels, foreground, steps=h + w)
    labels = _grow_labels(labels, known, steps=2)
    components = []
    for label in np.unique(labels[labels > 0]):
        region = labels == label
        if region.sum() < min_area:
            continue
        ys, xs = np.nonzero(region)
        colour = np.median(frame[core & region], axis=0)
        behind = np.nan_to_num(background[region])
        contrast = colour - behind
        norm = (contrast * contrast).sum(axis=1)
        alpha = np.where(norm > 1e-4, (contrast * (frame[region] - behind)).sum(axis=1) / np.maximum(norm, 1e-4), 1.0)
        alpha = np.clip(alpha, 0.0, 1.0)
        mass = float(alpha.sum())
        if mass <= 0:
            continue
        components.append(
            _Component(float((alpha * xs).sum() / mass), float((alpha * ys).sum() / mass), mass, int(label))
        )
    return components, labels


def _components(video: np.ndarray, background: np.ndarray) -> tuple[list[list[_Component]], np.ndarray]:
    """Per frame, the moving components, and the label images ``(F, H, W)``."""
    f, h, w, _ = video.shape
    difference = np.abs(video - background).max(axis=-1)
    threshold = max(_MIN_THRESHOLD, 6.0 * _robust_sigma(difference[np.isfinite(difference)]))
    min_area = max(_MIN_AREA, _MIN_AREA_FRACTION * h * w)
    out, labels = [], np.zeros((f, h, w), np.int64)
    for k in range(f):
        components, labels[k] = _frame_components(video[k], background[k], threshold, min_area)
        out.append(components)
    return out, labels


def _inside(x: float, y: float, region: np.ndarray) -> bool:
    """Whether the pixel nearest to ``(x, y)`` is in the boolean ``(H, W)`` region."""
    ix, iy = int(round(x)), int(round(y))
    return 0 <= iy < region.shape[0] and 0 <= ix < region.shape[1] and bool(region[iy, ix])


def _dilate(region: np.ndarray) -> np.ndarray:
    grown = region.copy()
    grown[1:] |= region[:-1]
    grown[:-1] |= region[1:]
    grown[:, 1:] |= region[:, :-1]
    grown[:, :-1] |= region[:, 1:]
    return grown


def _tracks(components: list[list[_Component]], labels: np.ndarray, max_step: float) -> list[_Track]:
    """Nearest-neighbour tracks with at least 3 points.

    A track continues to the nearest component within ``max_step`` of its constant-velocity
    prediction whose mass is within a factor 1.2 of its last mass. Tracks end where objects merge
    (two tracks' predictions in one component, dilated by a pixel) or a blob splits (two
    components' centroids in a track's last region, dilated by a pixel), since the centroid jumps
    there.
    """
    finished: list[list] = []
    active: list[list] = []  # [first frame, points, masses, labels, last region]
    for k, found in enumerate(components):
        regions = [_dilate(labels[k] == c.label) for c in found]
        guesses = []
        for track in active:
            points = track[1]
            guesses.append(2 * np.array(points[-1]) - np.array(points[-2]) if len(points) > 1 else points[-1])
        merged = {j for j, region in enumerate(regions) if sum(_inside(gx, gy, region) for gx, gy in guesses) >= 2}
        split = {i for i, track in enumerate(active) if sum(_inside(c.x, c.y, track[4]) for c in found) >= 2}
        pairs = []
        for i, track in enumerate(active):
            if i in split:
                continue
            for j, c in enumerate(found):
                distance = float(np.hypot(c.x - guesses[i][0], c.y - guesses[i][1]))
                if distance <= max_step and 1 / _MASS_GATE <= c.mass / track[2][-1] <= _MASS_GATE:
                    pairs.append((distance, i, j))
        pairs.sort()
        used_tracks, used_found, continued, next_active = set(), set(), set(), []
        for _, i, j in pairs:
            if i in used_tracks or j in used_found:
                continue
            used_tracks.add(i)
            used_found.add(j)
            if j in merged:
                continue
            continued.add(i)
            start, points, masses, track_labels, _ = active[i]
            c = found[j]
            next_active.append([start, [*points, (c.x, c.y)], [*masses, c.mass], [*track_labels, c.label], regions[j]])
        finished.extend(track for i, track in enumerate(active) if i not in continued)
        for j, c in enumerate(found):
            if j not in used_found and j not in merged:
                next_active.append([k, [(c.x, c.y)], [c.mass], [c.label], regions[j]])
        active = next_active
    finished.extend(active)
    return [
        _Track(start, np.array(points), np.array(masses), track_labels)
        for start, points, masses, track_labels, _ in finished
        if len(points) >= 3
    ]


def _moving_pixels(tracks: list[_Track], labels: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """``(F, H, W)`` mask of the pixels (plus one ring) of tracks that move against the background."""
    mask = np.zeros(labels.shape, bool)
    for track in tracks:
        frames = np.arange(track.start, track.start + len(track.points))
        tx, ty, s = maps[frames, 0], maps[frames, 1], maps[frames, 2]
        world = np.stack([(track.points[:, 0] - tx) / s, (track.points[:, 1] - ty) / s], axis=1)
        if np.median(np.linalg.norm(np.diff(world, axis=0), axis=1)) < _STATIC_SPEED:
            continue
        for k, label in zip(frames, track.labels, strict=True):
            mask[k] |= _dilate(labels[k] == label)
    return mask


def _kinks(magnitude: np.ndarray, mass: np.ndarray, threshold: float) -> list[tuple[float, float]]:
    """Events along one track and axis: ``(position, strength)``, the position in acceleration-index
    units (centre of mass of ``|a|`` over the peak's four samples), the strength the summed ``|a|``
    of the two samples that bracket the event."""
    if len(magnitude) == 0:
        return []
    pair = magnitude[:-1] + magnitude[1:] if len(magnitude) > 1 else magnitude
    taken = np.zeros(len(magnitude), bool)
    out = []
    for i in np.argsort(-pair):
        if pair[i] < threshold:
            break
        lo, hi = max(0, i - 1), min(len(magnitude), i + 3)
        if taken[lo:hi].any():
            continue
        taken[lo:hi] = True
        # a rigid object keeps its mass; a jump means a merge, split or occlusion, not an event
        masses = mass[lo : hi + 2]
        if masses.max() > _MAX_MASS_RATIO * masses.min():
            continue
        window = magnitude[lo:hi]
        out.append((float((window * np.arange(lo, hi)).sum() / window.sum()), float(pair[i])))
    return out


def video_motion_events(
    frames: FramesLike, fps: float, *, camera: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Times of velocity changes of moving objects (bounces), see the module docstring.

    Args:
        frames: ``(F, 3, H, W)`` or ``(F, H, W, 3)``, float in ``[0, 1]`` / ``[-1, 1]`` or uint8.
        fps: frame rate; frame ``k`` shows time ``k / fps``.
        camera: the frames' :func:`~ltx_video.metrics.camera.camera_motion` ``(F - 1, 3)`` when already
            computed (it is the costly part); computed here when None.

    Returns:
        ``(times, strengths)``: event times in seconds ``(E,)``, sorted, and the velocity change of
        each in px per frame at the working resolution ``(E,)``; both empty when nothing moves.
    """
    fps = check_positive(fps, "fps")
    video, factor = _working_frames(frames)
    if len(video) < 4:
        return np.zeros(0), np.zeros(0)
    f, h, w, _ = video.shape
    if camera is None:
        motion = camera_motion(video)
    else:
        motion = np.array(camera, dtype=np.float64)
        if motion.shape != (f - 1, 3):
            raise ValueError(f"camera must have shape ({f - 1}, 3) for {f} frames, got {motion.shape}")
        motion[:, :2] /= factor  # full-size pixels -> working-resolution pixels
    maps = compose_motions(motion, h, w)  # frame 0 -> frame k: p_k = s * p_0 + t
    max_step = 0.25 * max(h, w)
    components, labels = _components(video, _background(video, maps))
    exclude = _moving_pixels(_tracks(components, labels, max_step), labels, maps)
    components, labels = _components(video, _background(video, maps, exclude))
    tracks = _tracks(components, labels, max_step)
    accelerations = [np.abs(np.diff(track.points, n=2, axis=0)) for track in tracks]
    all_values = np.concatenate(accelerations).ravel() if accelerations else np.zeros(0)
    threshold = max(_MIN_EVENT_PX, 6.0 * _robust_sigma(all_values))
    times, strengths = [], []
    for track, acceleration in zip(tracks, accelerations, strict=True):
        kinks = sorted(kink for axis in range(2) for kink in _kinks(acceleration[:, axis], track.mass, threshold))
        merged: list[tuple[float, float]] = []
        for position, strength in kinks:
            if merged and position - merged[-1][0] < _SAME_EVENT_FRAMES:
                last_position, last_strength = merged[-1]
                total = last_strength + strength
                merged[-1] = ((last_position * last_strength + position * strength) / total, total)
            else:
                merged.append((position, strength))
        for position, strength in merged:
            # acceleration index i is frame start + 1 + i
            times.append((track.start + 1 + position) / fps)
            strengths.append(strength)
    order = np.argsort(times)
    return np.asarray(times)[order], np.asarray(strengths)[order]
