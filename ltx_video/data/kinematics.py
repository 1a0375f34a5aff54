"""The synthetic world's kinematics, in closed form: each object's axis is a triangle wave between its two
walls, so positions and bounce times are exact at any time; the camera moves at a constant rate.

``params`` is a :class:`ltx_video.data.synthetic.ClipParams` (``objects``, ``height``, ``width``, ``duration``,
``camera``, ``camera_speed``, ``num_frames``), ``obj`` an :class:`~ltx_video.data.synthetic.ObjectSpec`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = [
    "DOLLY_DEPTH_RATIO", "WALLS", "Bounce", "camera_step", "compute_bounces", "object_positions", "subject_positions",
    "subject_step", "true_camera_motion", "true_subject_motion",
]

WALLS = ("left", "right", "top", "bottom")


@dataclass(frozen=True)
class Bounce:
    """Object ``object_index`` touches ``wall`` at ``time`` seconds (exact, continuous)."""

    time: float
    object_index: int
    wall: str

    def __post_init__(self) -> None:
        if self.wall not in WALLS:
            raise ValueError(f"wall must be one of {WALLS}, got {self.wall!r}")


def _fold(start: float, velocity: float, low: float, high: float, times: np.ndarray) -> np.ndarray:
    """Position on one axis at ``times`` (T,) of a point reflecting between ``low`` and ``high``."""
    span = high - low
    unfolded = (start - low) + velocity * times
    phase = np.mod(unfolded, 2.0 * span)
    return low + np.where(phase <= span, phase, 2.0 * span - phase)


def _axis_hits(start: float, velocity: float, low: float, high: float, until: float) -> list[tuple[float, bool]]:
    """Times in ``[0, until)`` at which a point on one axis reaches a wall, in order, with ``at_high``.

    The unfolded coordinate ``u = start - low + velocity * t`` is at a wall when ``u = n * span``:
    the high wall for odd ``n``, the low wall for even ``n``.
    """
    if velocity == 0.0:
        return []
    span, offset = high - low, start - low
    n = max(1, math.ceil(offset / span)) if velocity > 0 else min(0, math.floor(offset / span))
    step = 1 if velocity > 0 else -1
    hits = []
    while (time := (n * span - offset) / velocity) < until:
        hits.append((time, n % 2 == 1))
        n += step
    return hits


def object_bounces(obj: Any, index: int, height: int, width: int, until: float) -> list[Bounce]:
    """Bounces of one object in ``[0, until)`` seconds, x walls then y walls (unsorted)."""
    (x_min, x_max), (y_min, y_max) = obj.limits(height, width)
    (x, y), (vx, vy) = obj.position, obj.velocity
    hits = [Bounce(t, index, "right" if high else "left") for t, high in _axis_hits(x, vx, x_min, x_max, until)]
    hits += [Bounce(t, index, "bottom" if high else "top") for t, high in _axis_hits(y, vy, y_min, y_max, until)]
    return hits


def compute_bounces(params: Any) -> tuple[Bounce, ...]:
    """All bounces with ``0 <= time < num_frames / fps`` (the clip's frames and sound; ``duration`` when
    ``duration * fps`` is whole), sorted by (time, object_index, wall)."""
    end = params.num_frames / params.fps  # a bounce listed past the audio had no tone; one inside it was missed
    hits = [
        bounce
        for index, obj in enumerate(params.objects)
        for bounce in object_bounces(obj, index, params.height, params.width, end)
    ]
    return tuple(sorted(hits, key=lambda b: (b.time, b.object_index, b.wall)))


def object_positions(params: Any, times: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Object centres ``(T, N, 2)`` float64, ``(x, y)`` in px, at ``times`` ``(T,)`` seconds."""
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    columns = []
    for obj in params.objects:
        (x_min, x_max), (y_min, y_max) = obj.limits(params.height, params.width)
        x = _fold(obj.position[0], obj.velocity[0], x_min, x_max, times)
        y = _fold(obj.position[1], obj.velocity[1], y_min, y_max, times)
        columns.append(np.stack([x, y], axis=-1))
    return torch.from_numpy(np.stack(columns, axis=1))


DOLLY_DEPTH_RATIO = 4.0  # background over subject distance at a dolly's first step (Camera's default background_depth)


def _dolly_background(subject_zoom: float) -> float:
    """The background's per-frame scale when the subject's is ``subject_zoom``: the camera's step ``t``
    along its axis scales the subject (depth ``D``) by ``D / (D - t)`` and a plane ``4 D`` away by
    ``4 D / (4 D - t)``. The renderer and :func:`true_camera_motion` apply it every frame, compounded (``b**k``
    at frame ``k``), which is that plane's scale for the first step only: after ``k`` steps the plane's would be
    ``4 D / (4 D - t_k)`` for the travel ``t_k`` that scales the subject by ``subject_zoom**k``."""
    return 1.0 / (1.0 - (1.0 - 1.0 / subject_zoom) / DOLLY_DEPTH_RATIO)


def camera_step(params: Any) -> tuple[float, float, float]:
    """The background's motion ``(dx, dy, zoom)`` from one frame to the next (see :func:`true_camera_motion`)."""
    speed = params.camera_speed
    return {
        "static": (0.0, 0.0, 1.0),
        "pan_left": (speed, 0.0, 1.0),  # the camera turns left: content moves right
        "pan_right": (-speed, 0.0, 1.0),
        "pan_up": (0.0, speed, 1.0),  # the camera tilts up: content moves down
        "pan_down": (0.0, -speed, 1.0),
        "zoom_in": (0.0, 0.0, 1.0 + speed / 100.0),
        "zoom_out": (0.0, 0.0, 1.0 / (1.0 + speed / 100.0)),
        "orbit_left": (-speed, 0.0, 1.0),  # the camera circles the subject leftwards: the background moves left
        "orbit_right": (speed, 0.0, 1.0),
        "dolly_forward": (0.0, 0.0, _dolly_background(1.0 + speed / 100.0)),
        "dolly_backward": (0.0, 0.0, _dolly_background(1.0 / (1.0 + speed / 100.0))),
    }[params.camera]


def subject_step(params: Any) -> tuple[float, float, float]:
    """The objects' (the subject's) motion ``(dx, dy, zoom)`` from one frame to the next, on top of their own:
    a dolly scales them by ``1 +- speed / 100`` about the image centre; every other motion leaves them in
    screen space."""
    if params.camera.startswith("dolly"):
        zoom = 1.0 + params.camera_speed / 100.0
        return 0.0, 0.0, zoom if params.camera == "dolly_forward" else 1.0 / zoom
    return 0.0, 0.0, 1.0


def subject_positions(params: Any, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """On-screen object centres ``(F, N, 2)`` and size factors ``(F,)`` (None when 1) from the centres of
    their own motion ``positions`` ``(F, N, 2)`` at frames ``0..F-1``."""
    _, _, zoom = subject_step(params)
    if zoom == 1.0:
        return positions, None
    scales = torch.tensor(zoom, dtype=torch.float64) ** torch.arange(positions.shape[0], dtype=torch.float64)
    centre = torch.tensor([params.width / 2.0, params.height / 2.0], dtype=torch.float64)
    return centre + scales[:, None, None] * (positions.to(torch.float64) - centre), scales


def true_camera_motion(params: Any) -> torch.Tensor:
    """Ground-truth content motion ``(F - 1, 3)`` float32: ``dx, dy`` (px, +x right, +y down), ``zoom``.

    Row ``k`` maps frame ``k`` to frame ``k + 1``; ``zoom`` is the content scale about the image
    centre (1.0 = none). pan_left: ``dx = +speed``; pan_right: ``-speed``; pan_up: ``dy = +speed``;
    pan_down: ``-speed``; zoom_in: ``1 + speed / 100``; zoom_out: ``1 / (1 + speed / 100)``; orbit_left:
    ``dx = -speed``; orbit_right: ``+speed``; dolly_forward / dolly_backward: the same zoom every frame, the
    one a plane :data:`DOLLY_DEPTH_RATIO` times as far as the subject takes from the camera step that scales the
    subject by ``1 +- speed / 100`` (:func:`_dolly_background`; compounded over frames, so that depth holds at the
    first step only). This is the background's motion as rendered; the subject's is :func:`true_subject_motion`.
    """
    step = torch.tensor(camera_step(params), dtype=torch.float32)
    return step.expand(params.num_frames - 1, 3).clone()


def true_subject_motion(params: Any) -> torch.Tensor:
    """Ground-truth camera motion of the subject ``(F - 1, 3)`` float32, as :func:`true_camera_motion` (the
    objects' own motion excluded): differs from the background's for orbits and dollies (parallax)."""
    step = torch.tensor(subject_step(params), dtype=torch.float32)
    return step.expand(params.num_frames - 1, 3).clone()
