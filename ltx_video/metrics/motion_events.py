"""Motion events in a video: the times at which moving objects change velocity (bounces).

:func:`video_motion_events`, step by step:

1. frames larger than 128 px on their longer side are box-downscaled by an integer factor;
2. the camera motion (:func:`ltx_video.metrics.camera.camera_motion`) is composed into maps from
   frame 0 to every frame, unless the background does not show it (a plain or dark background, where
   the registration follows the moving object instead; :func:`_supported_camera`): then the camera
   is static. All frames are resampled onto a frame-0 canvas wide enough for every frame's footprint,
   and the per-pixel temporal median over the frames that see a pixel, mapped back into each frame,
   is the background;
3. foreground: pixels whose largest RGB difference to the background exceeds
   ``max(0.1, 6 * robust noise)``. Core pixels are foreground pixels whose four neighbours are
   foreground of a similar colour (within 0.12 per channel); cores connected through similar
   colours, of at least 4 px, seed the objects (so touching objects of different colours stay
   apart), grown through the remaining foreground. Touching regions whose cores' colours are within
   0.25, or one a blend of the other with the background, are one object's fragments (a texture;
   H.264's chroma, smeared into a strip of blended colour along an edge) and are merged
   (:func:`_merge_fragments`; a flat object's single region is left as it was); then two more rings
   are added. A pixel's weight is
   its coverage by the object, ``alpha = <P - B, O - B> / |O - B|^2`` clipped to ``[0, 1]`` (``P``
   its colour, ``B`` the background's, ``O`` the median colour of the core), so the centroid and the
   mass (area) of a uniform object do not depend on the background texture behind it and are
   sub-pixel exact on anti-aliased edges;
4. components are tracked by nearest neighbour from a constant-velocity prediction; a track ends
   where no component of similar mass is near, or where objects merge or a merged blob splits;
5. a median background fails where an object stays on the same background spot for half the
   frames that see it (an object moving with the camera), leaving a "ghost" of it. So steps 2-4
   run three times: each later median leaves out the pixels of the last pass's tracks that move
   against the background (median speed in frame-0 coordinates above 0.2 px per frame; ghosts
   move with the background);
6. each track's centroid path (in frame coordinates: the objects bounce off the frame's walls) is
   fitted by one constant acceleration plus a velocity jump at each event
   (:func:`ltx_video.metrics._trajectory.velocity_changes`): jumps are added where they lower the
   residual most while the drop is significant against the clip's centroid noise (measured on
   5-frame windows of all its tracks) and at least 0.5 px per frame, each placed to a hundredth of a
   frame (the acceleration the search holds is the median of second differences over 1/24 s, a whole
   number of frames: one at 24 fps, two at 60). Fitting all the frames between two events, not a second difference of three, is what
   makes aliased objects work: their centroids move by whole pixels. An event is dropped when the
   object's mass varies by more than 15 % (plus aliasing's ``1.5 / sqrt(area)``) around it (an
   occlusion, a merge). Two events of one track are at least half a frame apart.

Frame ``k`` is taken to show time ``k / fps``. Events less than a frame from a track's first or last
frame cannot be seen (a velocity needs two frames on each side).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ltx_video.metrics._image import centre, downscale, label_components, sample_bilinear
from ltx_video.metrics._inputs import FramesLike, as_frames, check_positive, luminance
from ltx_video.metrics._trajectory import noise_variance, velocity_changes
from ltx_video.metrics.camera import camera_motion, compose_motions

__all__ = ["video_motion_events"]

_MAX_SIDE = 128
_MIN_THRESHOLD = 0.1
_COLOUR_TOLERANCE = 0.12
_FRAGMENT_TOLERANCE = 0.25
_MIN_CORE_AREA = 4
_MIN_AREA = 6
_MIN_AREA_FRACTION = 1e-3
_MASS_GATE = 1.2  # largest mass ratio between consecutive points of a track
_STATIC_SPEED = 0.2  # px per frame against the background below which a track is a ghost
_MIN_EVENT_PX = 0.5
_MAX_MASS_RATIO = 1.15
_ALIASING = 1.5  # a hard-edged object's pixel count varies by about this / sqrt(area) between sub-pixel positions
_SAME_EVENT_FRAMES = 0.5
# the stride of the second differences that estimate gravity, in seconds (one frame at 24 fps): see _held_acceleration
_ACCELERATION_STEP_S = 1 / 24
_PASSES = 3  # background estimates; each leaves out the moving tracks of the one before
_CAMERA_SUPPORT = 2.0  # the background's change must be this many times what the camera motion leaves
_STILL_BACKGROUND = 1e-6  # mean squared change per pixel (0.001 RMS, a quarter of a uint8 step) of a still one


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


def _supported_camera(video: np.ndarray, motion: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(motion, None)``, or ``(no motion, the static camera's background)`` when the background does not
    show the motion (the background is then the first pass's, not computed again).

    Where the background has no texture (a plain wall, a dark sky) the camera's motion cannot be seen,
    and the image registration of :func:`camera_motion` follows the only structure there is: the
    moving object. Following it would make the object part of the background. So a static camera is
    the default: the pixels a static background does not explain (the objects, found against the
    temporal median of the unaligned frames, dilated by two pixels in both frames of a pair) are left
    out, and the motion is kept only where, on the remaining pixels and over all pairs, the frame
    difference ``sum (a - b)^2`` is more than twice the residual ``sum (a - warp(b))^2`` it leaves, and
    more than ``_STILL_BACKGROUND`` per pixel. Sensor noise alone gives a ratio of 1-1.5, a noiseless
    plain background a change of about 1e-9 per pixel (the objects' faint anti-aliased fringes); a pan
    or zoom over the synthetic world's textures gives ratios of 6 to several hundred and changes of
    1.5e-5 to 2e-4 per pixel. The decision is one for the clip: the motions are composed from frame 0, so
    dropping a single pair's would misplace every later frame.
    """
    f, h, w, _ = video.shape
    static = np.tile([0.0, 0.0, 1.0], (f, 1))
    background = _background(video, static)
    difference = np.abs(video - background).max(axis=-1)
    foreground = _dilate(_dilate(difference > _foreground_threshold(difference)))
    gray = luminance(video)
    cx, cy = centre(h, w)
    py, px = np.mgrid[0:h, 0:w].astype(np.float64)
    change = left = 0.0
    kept = 0
    for k, (dx, dy, zoom) in enumerate(motion):
        # content at p in frame k is at c + zoom (p - c) + d in frame k + 1
        warped, inside = sample_bilinear(gray[k + 1], cx + zoom * (px - cx) + dx, cy + zoom * (py - cy) + dy)
        keep = inside & ~foreground[k] & ~foreground[k + 1]
        change += np.sum((gray[k] - gray[k + 1])[keep] ** 2)
        left += np.sum((gray[k] - warped)[keep] ** 2)
        kept += int(keep.sum())
    moved = change > _CAMERA_SUPPORT * left and change > _STILL_BACKGROUND * kept
    return (motion, None) if moved else (static[1:], background)


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
    labels = _grow_labels(_merge_fragments(labels, core, foreground, frame, background), foreground, steps=h + w)
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


def _touching_labels(labels: np.ndarray, foreground: np.ndarray) -> set[tuple[int, int]]:
    """Pairs ``(a, b)``, ``a < b``, of labels that are neighbours along a row, a column or a diagonal, or
    two apart across a foreground pixel no label took (a tie of :func:`_grow_labels`)."""
    pairs: set[tuple[int, int]] = set()
    h, w = labels.shape
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1), (0, 2), (2, 0)):
        a = labels[: h - dy, max(0, -dx) : w - max(0, dx)]
        b = labels[dy:, max(0, dx) : w + min(0, dx)]
        keep = np.ones(a.shape, bool)
        if 2 in (dy, dx):
            middle = (slice(dy // 2, h - dy // 2), slice(dx // 2, w - dx // 2))
            keep = foreground[middle] & (labels[middle] == 0)
        keep &= (a > 0) & (b > 0) & (a != b)
        for x, y in zip(a[keep], b[keep], strict=True):
            pairs.add((int(min(x, y)), int(max(x, y))))
    return pairs


def _blend_residual(colour: np.ndarray, other: np.ndarray, behind: np.ndarray) -> float:
    """Largest channel of ``colour``'s distance to the blends ``behind + a (other - behind)``, ``a`` in [0, 1]
    (infinite where ``other`` hardly differs from ``behind``: no blend to tell)."""
    contrast = other - behind
    norm = float((contrast * contrast).sum())
    if norm < 0.01:
        return float("inf")
    a = np.clip(float(((colour - behind) * contrast).sum()) / norm, 0.0, 1.0)
    return float(np.abs(colour - behind - a * contrast).max())


def _merge_fragments(
    labels: np.ndarray, core: np.ndarray, foreground: np.ndarray, frame: np.ndarray, background: np.ndarray
) -> np.ndarray:
    """Touching labels that are one object's fragments become one label.

    The core rule (neighbours within ``_COLOUR_TOLERANCE``) keeps flat objects exact, but splits an object
    whose colour varies: a texture, H.264's quantisation, and its half-resolution chroma, which smears an
    object's colour into a strip of blended colour along its edge (a core of its own where the object
    touches the frame's border). A split object's tracks end or hop between fragments. Two touching
    labels are merged when their cores' median colours are within ``_FRAGMENT_TOLERANCE`` in every
    channel (the objects of the synthetic palette differ by 0.35 or more in one), or when one's colour is
    a blend of the other's with the background behind it (within ``_COLOUR_TOLERANCE``): an edge, not
    another object. A frame whose labels do not touch is left as it was.
    """
    pairs = _touching_labels(labels, foreground)
    if not pairs:
        return labels
    ids = {label for pair in pairs for label in pair}
    colour, behind = {}, {}
    for label in ids:
        seed = core & (labels == label)
        colour[label] = np.median(frame[seed], axis=0)
        behind[label] = np.median(np.nan_to_num(background[seed]), axis=0)
    root = {label: label for label in ids}

    def find(label: int) -> int:
        while root[label] != label:
            label = root[label]
        return label

    for a, b in sorted(pairs):
        same = np.abs(colour[a] - colour[b]).max() <= _FRAGMENT_TOLERANCE
        blend = min(_blend_residual(colour[a], colour[b], behind[a]), _blend_residual(colour[b], colour[a], behind[b]))
        if same or blend <= _COLOUR_TOLERANCE:
            ra, rb = find(a), find(b)
            root[max(ra, rb)] = min(ra, rb)
    lookup = np.arange(labels.max() + 1)
    for label in ids:
        lookup[label] = find(label)
    return lookup[labels]


def _foreground_threshold(difference: np.ndarray) -> float:
    """``max(0.1, 6 * robust noise)`` of the ``(F, H, W)`` largest RGB differences to the background."""
    return max(_MIN_THRESHOLD, 6.0 * _robust_sigma(difference[np.isfinite(difference)]))


def _components(video: np.ndarray, background: np.ndarray) -> tuple[list[list[_Component]], np.ndarray]:
    """Per frame, the moving components, and the label images ``(F, H, W)``."""
    f, h, w, _ = video.shape
    difference = np.abs(video - background).max(axis=-1)
    threshold = _foreground_threshold(difference)
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
                gate = _MASS_GATE + _ALIASING / np.sqrt(max(track[2][-1], 1.0))
                if distance <= max_step and 1 / gate <= c.mass / track[2][-1] <= gate:
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


def _mass_steady(mass: np.ndarray, position: float) -> bool:
    """Whether the track's mass holds around an event at ``position`` (frames from its start): a rigid
    object keeps its area; a jump means a merge, a split or an occlusion, not a bounce. The tolerance
    is ``_MAX_MASS_RATIO`` plus what aliasing alone changes in a hard-edged object's pixel count,
    about ``1.5 / sqrt(area)`` (a 50 px disk varies by about 10 % between sub-pixel positions)."""
    window = mass[max(0, int(np.floor(position)) - 1) : int(np.ceil(position)) + 2]
    tolerance = _MAX_MASS_RATIO + _ALIASING / np.sqrt(max(float(np.median(mass)), 1.0))
    return bool(window.max() <= tolerance * window.min())


def video_motion_events(
    frames: FramesLike, fps: float, *, camera: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Times of velocity changes of moving objects (bounces), see the module docstring.

    Args:
        frames: ``(F, 3, H, W)`` or ``(F, H, W, 3)``, float in ``[0, 1]`` / ``[-1, 1]`` or uint8.
        fps: frame rate; frame ``k`` shows time ``k / fps``.
        camera: the frames' :func:`~ltx_video.metrics.camera.camera_motion` ``(F - 1, 3)`` when already
            computed (it is the costly part); computed here when None. Either way it is kept only where the
            background shows it (:func:`_supported_camera`), so passing it gives the same events as leaving it out.

    Returns:
        ``(times, strengths)``: event times in seconds ``(E,)``, sorted, and the velocity change of
        each, ``|dv_x| + |dv_y|`` in px per frame at the working resolution ``(E,)``; both empty when
        nothing moves.
    """
    fps = check_positive(fps, "fps")
    video, factor = _working_frames(frames)
    if len(video) < 4:
        return np.zeros(0), np.zeros(0)
    f, h, w, _ = video.shape
    background = None
    if camera is None:
        motion, background = _supported_camera(video, camera_motion(video))
    else:
        motion = np.array(camera, dtype=np.float64)
        if motion.shape != (f - 1, 3):
            raise ValueError(f"camera must have shape ({f - 1}, 3) for {f} frames, got {motion.shape}")
        motion[:, :2] /= factor  # full-size pixels -> working-resolution pixels
        motion, background = _supported_camera(video, motion)
    maps = compose_motions(motion, h, w)  # frame 0 -> frame k: p_k = s * p_0 + t
    max_step = 0.25 * max(h, w)
    components, labels = _components(video, _background(video, maps) if background is None else background)
    tracks = _tracks(components, labels, max_step)
    for _ in range(_PASSES - 1):
        exclude = _moving_pixels(tracks, labels, maps)
        components, labels = _components(video, _background(video, maps, exclude))
        tracks = _tracks(components, labels, max_step)
    times, strengths = [], []
    variance = noise_variance([track.points for track in tracks])
    step = max(1, round(fps * _ACCELERATION_STEP_S))
    for track in tracks:
        events = velocity_changes(
            track.points, variance, min_change=_MIN_EVENT_PX, min_separation=_SAME_EVENT_FRAMES, acceleration_step=step
        )
        for position, strength in events:
            if _mass_steady(track.mass, position):
                times.append((track.start + position) / fps)
                strengths.append(strength)
    order = np.argsort(times)
    return np.asarray(times)[order], np.asarray(strengths)[order]
