"""Prompt adherence for the synthetic world's prompt grammar (:mod:`ltx_video.data.synthetic`).

Object detection (:func:`detect_objects`), per named colour of ``COLOURS``:

1. per frame, the pixels whose RGB is within 0.12 of the colour in every channel (anti-aliased
   edges fall outside), and their largest 4-connected component;
2. the colour is present when that component has at least ``max(8, min(0.002 * H * W, 20))`` pixels in at
   least half of the frames, unless it touches all four edges of the frame in most of those: that is a
   background of that colour (a plain white or grey wall), not an object;
3. its shape is classified on the frames where the component is at least 85 % of its 90th
   percentile area (so frames with the object partly hidden by another are left out), from the
   medians of two descriptors measured on the pixel mask grown by half a pixel (to undo the
   anti-aliased edge the colour test leaves out):

   * ``fill``: area over the area of the bounding box (disc ``pi / 4``, axis-aligned square 1,
     the synthetic upward triangle 1/2);
   * ``extent``: area over ``pi * r_max^2``, ``r_max`` the largest distance from the centroid
     (disc 1, square ``2 / pi``, triangle ``1.5 / (1.25 pi)``);

   the shape is the nearest of those prototypes in the (fill, extent) plane.

Score (:func:`prompt_adherence`): each object the prompt names counts 1 when its colour is present
with the named shape, 1/2 when its colour is present with another shape, 0 when absent;
``score = max(0, (sum of those) - (number of present colours the prompt does not name)) / N``
with ``N`` the number of prompt objects, in ``[0, 1]``. The camera phrase is not part of this
score; :func:`camera_adherence` scores it separately.
"""

from __future__ import annotations

import numpy as np

from ltx_video.metrics._image import label_components
from ltx_video.metrics._inputs import FramesLike, as_frames
from ltx_video.metrics.camera import camera_motion

__all__ = ["camera_adherence", "detect_objects", "dominant_camera_motion", "prompt_adherence"]

_COLOUR_TOLERANCE = 0.12
_MIN_AREA = 8
_MIN_AREA_FRACTION = 0.002
_MAX_MIN_AREA = 20
_MIN_PRESENCE = 0.5
_FULL_VIEW = 0.85
_PROTOTYPES = {"ball": (np.pi / 4, 1.0), "square": (1.0, 2 / np.pi), "triangle": (0.5, 1.5 / (1.25 * np.pi))}
_PAN_PX = 0.2  # px per frame
_ZOOM_LOG = 0.002  # |log zoom| per frame


def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, count = label_components(mask)
    if count == 0:
        return mask
    area = np.bincount(labels.ravel(), minlength=count + 1)
    area[0] = 0
    return labels == int(np.argmax(area))


def _touches_every_edge(mask: np.ndarray) -> bool:
    return bool(mask[0].any() and mask[-1].any() and mask[:, 0].any() and mask[:, -1].any())


def _shape_features(mask: np.ndarray) -> tuple[float, float]:
    """``(fill, extent)`` of a pixel mask, each pixel a unit square and the mask grown by half a pixel."""
    ys, xs = np.nonzero(mask)
    # the colour test drops the partly covered edge pixels: grow by half a pixel on every side
    perimeter = (
        np.count_nonzero(mask[1:] != mask[:-1])
        + np.count_nonzero(mask[:, 1:] != mask[:, :-1])
        + np.count_nonzero(mask[0])
        + np.count_nonzero(mask[-1])
        + np.count_nonzero(mask[:, 0])
        + np.count_nonzero(mask[:, -1])
    )
    area = len(xs) + 0.5 * perimeter
    width = xs.max() - xs.min() + 2.0
    height = ys.max() - ys.min() + 2.0
    cx, cy = xs.mean(), ys.mean()
    radius = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2).max() + 1.0
    return float(area / (width * height)), float(area / (np.pi * radius**2))


def _object_mask(frame: np.ndarray, core: np.ndarray, rgb) -> np.ndarray:
    """The object's pixels around a colour blob: those nearer its colour than the local background.

    The colour test alone erodes objects in compressed video (4:2:0 chroma is half resolution, so a
    small object's colour smears over its edge); comparing each pixel of a box 2 px around the blob
    with the object colour and the box border's median colour is a 50 % coverage threshold, mostly
    decided by full-resolution luminance. Returns the core blob grown to that mask (4-connected).
    """
    ys, xs = np.nonzero(core)
    y0, y1 = max(ys.min() - 2, 0), min(ys.max() + 3, frame.shape[0])
    x0, x1 = max(xs.min() - 2, 0), min(xs.max() + 3, frame.shape[1])
    box = frame[y0:y1, x0:x1]
    border = np.concatenate([box[0], box[-1], box[:, 0], box[:, -1]])
    background = np.median(border, axis=0)
    nearer = np.linalg.norm(box - np.asarray(rgb), axis=-1) < np.linalg.norm(box - background, axis=-1)
    mask = np.zeros(core.shape, dtype=bool)
    mask[y0:y1, x0:x1] = nearer
    labels, _ = label_components(mask)
    keep = np.unique(labels[core & mask])
    keep = keep[keep > 0]
    return np.isin(labels, keep) if len(keep) else core


def _classify(fill: float, extent: float) -> str:
    return min(_PROTOTYPES, key=lambda shape: np.hypot(fill - _PROTOTYPES[shape][0], extent - _PROTOTYPES[shape][1]))


def detect_objects(frames: FramesLike) -> dict[str, str]:
    """Colours of ``COLOURS`` present in the video, each with its classified shape (module docstring).

    Args:
        frames: ``(F, 3, H, W)`` or ``(F, H, W, 3)``, float in ``[0, 1]`` / ``[-1, 1]`` or uint8.

    Returns:
        ``{colour: shape}`` with shapes from ``SHAPES``.
    """
    from ltx_video.data.synthetic import COLOURS

    video = as_frames(frames)
    f, h, w, _ = video.shape
    # An absolute floor matters at large sizes: a small object in a big frame is still an object.
    min_area = max(_MIN_AREA, min(_MIN_AREA_FRACTION * h * w, _MAX_MIN_AREA))
    found = {}
    for name, rgb in COLOURS.items():
        near = np.abs(video - np.asarray(rgb)).max(axis=-1) <= _COLOUR_TOLERANCE
        masks = [_largest_component(near[k]) if near[k].sum() >= min_area else None for k in range(f)]
        areas = np.array([0 if mask is None else mask.sum() for mask in masks])
        present = areas >= min_area
        if present.mean() < _MIN_PRESENCE:
            continue
        if np.mean([_touches_every_edge(masks[k]) for k in np.flatnonzero(present)]) > 0.5:
            continue  # a background of this colour
        full = present & (areas >= _FULL_VIEW * np.percentile(areas[present], 90))
        features = np.array([_shape_features(_object_mask(video[k], masks[k], rgb)) for k in np.flatnonzero(full)])
        found[name] = _classify(*np.median(features, axis=0))
    return found


def prompt_adherence(frames: FramesLike, prompt: str, *, shapes: bool = True) -> float:
    """How well a video shows the objects its synthetic-grammar prompt names, in ``[0, 1]``.

    ``score = max(0, sum_i m_i - extra) / N`` over the ``N`` objects of the prompt (parsed with
    :func:`ltx_video.data.synthetic.parse_prompt`), ``m_i`` 1 when the object's colour is present
    (:func:`detect_objects`) with its shape, 1/2 when present with another shape, 0 otherwise, and
    ``extra`` the number of present colours the prompt does not name. With ``shapes=False`` (colour
    adherence) ``m_i`` is 1 whenever the colour is present. The camera phrase is not scored here (see
    :func:`camera_adherence`).

    Args:
        frames: ``(F, 3, H, W)`` or ``(F, H, W, 3)``, float in ``[0, 1]`` / ``[-1, 1]`` or uint8.
        prompt: e.g. ``"a red ball and a blue square bounce, the camera pans left"``.
        shapes: score shapes too (True) or colours only (False).
    """
    from ltx_video.data.synthetic import parse_prompt

    spec = parse_prompt(prompt)
    detected = detect_objects(frames)
    named = {colour for colour, _ in spec.objects}
    matched = sum(
        (1.0 if detected[colour] == shape or not shapes else 0.5) if colour in detected else 0.0
        for colour, shape in spec.objects
    )
    extra = sum(colour not in named for colour in detected)
    return float(max(0.0, matched - extra) / len(spec.objects))


def dominant_camera_motion(frames: FramesLike) -> str:
    """The camera motion among static, the four pans and the two zooms that best describes a video (orbits and
    dollies move near and far content differently, which one global motion cannot tell from a pan or a zoom).

    From the mean per-pair content motion of :func:`ltx_video.metrics.camera.camera_motion`:
    ``pan = max(|mean dx|, |mean dy|) / 0.2 px`` and ``zoom = |mean log zoom| / 0.002``; "static"
    when both are below 1, else the larger decides: content moving right is "pan_left" (the
    camera turns left), left "pan_right", down "pan_up", up "pan_down"; content growing is
    "zoom_in", shrinking "zoom_out".
    """
    motion = camera_motion(frames)
    dx, dy = motion[:, 0].mean(), motion[:, 1].mean()
    log_zoom = np.log(motion[:, 2]).mean()
    pan, zoom = max(abs(dx), abs(dy)) / _PAN_PX, abs(log_zoom) / _ZOOM_LOG
    if max(pan, zoom) < 1:
        return "static"
    if zoom > pan:
        return "zoom_in" if log_zoom > 0 else "zoom_out"
    if abs(dx) >= abs(dy):
        return "pan_left" if dx > 0 else "pan_right"
    return "pan_up" if dy > 0 else "pan_down"


def camera_adherence(frames: FramesLike, prompt: str) -> float:
    """1.0 when :func:`dominant_camera_motion` is the prompt's camera motion, else 0.0; ``nan`` for an orbit or a
    dolly, which it cannot read (the world's own orbit clips read as pans: score them with
    :func:`ltx_video.metrics.camera_motion` against the world's ground truth, as ``scripts/benchmark_control.py``
    does)."""
    from ltx_video.data.synthetic import parse_prompt

    camera = parse_prompt(prompt).camera
    if camera.startswith(("orbit", "dolly")):
        return float("nan")
    return 1.0 if dominant_camera_motion(frames) == camera else 0.0
