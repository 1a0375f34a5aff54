"""Camera motion for LTX transformers: a ``Camera`` becomes a per-latent-frame motion field, applied
training-free (a soft constraint on the predicted clean latents) or through a learned, zero-gated
motion encoder.

The scene model (the depth proxy) has two layers, as the synthetic world's orbit and dolly clips:

- the **subject**, at the pivot: ``distance = |position|`` in front of the camera, seen at the image
  point given by ``rotation`` (yaw, pitch: the pivot's direction off the optical axis; roll: the
  image axes' rotation);
- the **background**, a plane ``background_depth`` times as far.

A pinhole camera with horizontal field of view ``fov`` looks at them. Per pixel frame:

- ``pan_*``: the camera turns; all content shifts by ``speed`` px (pan_left: content moves right,
  pan_up: down, as :func:`ltx_video.data.kinematics.camera_step`);
- ``zoom_*``: the focal length grows (shrinks) by ``speed`` % about the image centre (wherever the pivot is);
- ``orbit_*``: the camera circles the pivot, turning to keep it in place; the subject stays put and the
  background shifts by ``speed`` px (orbit_left: the camera moves left, the background moves left);
- ``dolly_*``: the camera moves along its axis; the subject scales by ``speed`` % and the background
  by what the depths give (``Z / (Z -/+ t)``), both about the pivot's image point.

Pans and zooms are affine and the same for both layers; orbits and dollies differ per layer. Without a
depth map the dense field is the background's everywhere (``depth=None``): the low spatial frequencies
of a frame, which the training-free constraint acts on, are mostly background.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from diffusers.utils.torch_utils import randn_tensor

from ltx_video.conditioning.motions import MOTION_TYPES, parse_motion

__all__ = [
    "MOTION_TYPES",
    "Camera",
    "CameraController",
    "CameraMotionEncoder",
    "MotionField",
    "latent_frame_times",
]

LAYERS = ("subject", "background")


def as_number(value):
    """A 0-d tensor or array as its Python number (as ``ConditioningItem(media_frame_number=...)`` takes one);
    anything else unchanged."""
    if isinstance(value, torch.Tensor | np.ndarray) and value.ndim == 0:
        return value.item()
    return value


def real(value) -> float | None:
    """``value`` as a float if it is a finite real number (Python's or NumPy's, a 0-d tensor or array; not a bool),
    else None."""
    value = as_number(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return None
    return float(value)


def _triple(value, name: str) -> tuple[float, float, float]:
    try:
        out = () if isinstance(value, str) else tuple(float(v) for v in value)
    except (TypeError, ValueError):
        out = ()
    if len(out) != 3 or not all(math.isfinite(v) for v in out):
        raise ValueError(f"Camera `{name}` must be three finite numbers, got {value!r}.")
    return out


@dataclass(frozen=True)
class Camera:
    """A camera and its motion (the module docstring has the scene model).

    Args:
        position: the camera relative to the pivot (the subject), scene units; its length is the subject's
            distance (> 0).
        rotation: (yaw, pitch, roll) in degrees: the pivot's direction off the optical axis (|yaw|, |pitch|
            inside half the field of view) and the image axes' roll.
        fov: horizontal field of view in degrees, in (1, 170).
        motion_type: one of ``MOTION_TYPES``.
        speed: pixels per frame for pans and orbits (the background's shift); percent of scale per frame
            for zooms and dollies (the subject's); >= 0.
        background_depth: the background plane's distance as a multiple of the subject's (> 1).
    """

    position: tuple[float, float, float] = (0.0, 0.0, -5.0)
    rotation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    fov: float = 60.0
    motion_type: str = "static"
    speed: float = 1.0
    background_depth: float = 4.0

    def __post_init__(self):
        object.__setattr__(self, "position", _triple(self.position, "position"))
        object.__setattr__(self, "rotation", _triple(self.rotation, "rotation"))
        if self.motion_type not in MOTION_TYPES:
            raise ValueError(f"Camera `motion_type` must be one of {MOTION_TYPES}, got {self.motion_type!r}.")
        speed, fov, depth = real(self.speed), real(self.fov), real(self.background_depth)
        if speed is None or speed < 0:
            raise ValueError(f"Camera `speed` must be a finite number >= 0, got {self.speed!r}.")
        if fov is None or not 1.0 < fov < 170.0:
            raise ValueError(f"Camera `fov` must be in (1, 170) degrees, got {self.fov!r}.")
        if not self.distance > 0:
            raise ValueError(f"Camera `position` must not be the pivot itself (distance 0), got {self.position}.")
        if depth is None or not depth > 1.0:
            raise ValueError(f"Camera `background_depth` must be a finite number > 1, got {self.background_depth!r}.")
        for name, value in (("speed", speed), ("fov", fov), ("background_depth", depth)):
            object.__setattr__(self, name, value)  # NumPy scalars become floats
        yaw, pitch, _ = self.rotation
        if abs(yaw) >= self.fov / 2 or abs(pitch) >= self.fov / 2:
            raise ValueError(
                f"Camera `rotation` yaw and pitch must lie inside half the field of view ({self.fov / 2} degrees) so "
                f"the pivot is on screen, got {self.rotation[:2]}."
            )

    def at_scale(self, height_factor: float, width_factor: float) -> Camera:
        """This camera for the same video rendered ``height_factor`` x ``width_factor`` times as large (a pass of
        a multi-scale call): pans and orbits move ``speed`` pixels per frame, so theirs scales with the size along
        their direction on screen (the roll turns it); zooms and dollies (percent of scale) are unchanged. When the
        two factors differ (a pass rounded to multiples of 32) a rolled motion's direction stays the asked one, so it
        is off the exactly scaled one by under a degree for factors within 2 % of each other."""
        if not self.motion_type.startswith(("pan_", "orbit_")):
            return self
        roll = math.radians(self.rotation[2])
        vertical = self.motion_type in ("pan_up", "pan_down")
        dx, dy = (-math.sin(roll), math.cos(roll)) if vertical else (math.cos(roll), math.sin(roll))
        return dataclasses.replace(self, speed=self.speed * math.hypot(dx * width_factor, dy * height_factor))

    @property
    def moves(self) -> bool:
        """False for ``"static"`` and for any motion at speed 0: such a camera is the static one everywhere."""
        return self.motion_type != "static" and self.speed > 0

    @property
    def distance(self) -> float:
        return math.sqrt(sum(v * v for v in self.position))

    @classmethod
    def parse(cls, text: str) -> Camera:
        """``"pan-left"`` or ``"pan_left:2.5"`` (motion type, optional speed), as the CLI's ``--camera``."""
        motion, speed = parse_motion(text)
        return cls(motion_type=motion, speed=speed)


@dataclass(frozen=True)
class MotionField:
    """Per-layer affine content motion between consecutive latent frames.

    ``shift`` (F' - 1, 2, 2): (layer, (dx, dy)) in pixels; ``scale`` (F' - 1, 2): per layer, about ``centre``
    (x, y) in pixels; ``roll`` rotates nothing here (already applied to ``shift``). Row k maps latent frame k
    to k + 1; layers are ``LAYERS`` (subject, background).
    """

    shift: torch.Tensor
    scale: torch.Tensor
    centre: tuple[float, float]
    height: int
    width: int

    def displacement(self, grid_height: int, grid_width: int, depth: torch.Tensor | None = None) -> torch.Tensor:
        """Dense content displacement (F' - 1, 2, h, w) in pixels at the centres of an h x w latent grid.

        ``depth``: None (the background layer everywhere), or per-cell weights in [0, 1] of the subject
        layer, (h, w) or (F' - 1, h, w); the two layers' displacements are blended by it.
        """
        ys, xs = self._cells(grid_height, grid_width)
        cx, cy = self.centre
        px, py = xs[None, None, None, :] - cx, ys[None, None, :, None] - cy  # (1, 1, h|1, w|1)
        scale = self.scale[:, :, None, None]  # (S, L, 1, 1)
        dx = (scale - 1) * px + self.shift[:, :, 0, None, None]  # (S, L, h, w)
        dy = (scale - 1) * py + self.shift[:, :, 1, None, None]
        layers = torch.stack(torch.broadcast_tensors(dx, dy), dim=2)  # (S, L, 2, h, w)
        if depth is None:
            return layers[:, 1]
        weight = depth.to(torch.float32).clamp(0, 1)
        weight = weight.expand(layers.shape[0], grid_height, grid_width)[:, None]
        return weight * layers[:, 0] + (1 - weight) * layers[:, 1]

    def source(self, grid_height: int, grid_width: int) -> torch.Tensor:
        """(F' - 1, 2, h, w): the point (x, y) in pixels of latent frame k whose content the background's motion
        brings to each cell centre ``p`` of frame k + 1: its step inverted exactly, ``c + (p - c - t) / s``.

        Exact for every motion type (the background's step is affine); sampling at ``p - d(p)`` instead is a first
        order inverse that mirrors a zoom of 10 % per frame about the centre (``c + (2 - s)(p - c)``)."""
        ys, xs = self._cells(grid_height, grid_width)
        cx, cy = self.centre
        scale, shift = self.scale[:, 1, None, None], self.shift[:, 1, :, None, None]  # (S, 1, 1), (S, 2, 1, 1)
        sx = cx + (xs[None, None, :] - cx - shift[:, 0]) / scale
        sy = cy + (ys[None, :, None] - cy - shift[:, 1]) / scale
        return torch.stack(torch.broadcast_tensors(sx, sy), dim=1)

    def _cells(self, grid_height: int, grid_width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The y (h,) and x (w,) pixel coordinates of an h x w latent grid's cell centres."""
        ys = (torch.arange(grid_height, dtype=torch.float32) + 0.5) * (self.height / grid_height)
        return ys, (torch.arange(grid_width, dtype=torch.float32) + 0.5) * (self.width / grid_width)

    def world_offsets(self, grid_height: int, grid_width: int) -> torch.Tensor:
        """(F', 2, h, w) pixel offsets (dx, dy) from each latent cell's centre to the point of the first latent
        frame that the background layer's motion brought there: ``world(p) - p``, zero on the first frame.

        The steps compose as affine maps about ``centre``: after k steps ``p_k = c + S_k (p_0 - c) + T_k``
        (``S_{k+1} = s_k S_k``, ``T_{k+1} = s_k T_k + t_k``), so ``p_0 = c + (p_k - c - T_k) / S_k``. Added
        to the video tokens' RoPE coordinates they give content that stays put in the world the same
        position in every frame, as a static camera would (:meth:`CameraController.world_positions`).
        """
        ys = (torch.arange(grid_height, dtype=torch.float64) + 0.5) * (self.height / grid_height)
        xs = (torch.arange(grid_width, dtype=torch.float64) + 0.5) * (self.width / grid_width)
        cx, cy = self.centre
        px, py = torch.broadcast_tensors(xs[None, :] - cx, ys[:, None] - cy)  # (h, w)
        scale, shift = self.background_maps()
        wx = (px[None] - shift[:, 0, None, None]) / scale[:, None, None]
        wy = (py[None] - shift[:, 1, None, None]) / scale[:, None, None]
        # A long zoom out shrinks S_k toward 0: offsets past a million pixels (RoPE reads them as noise anyway)
        # are held there, so float32 stays finite.
        return torch.stack([wx - px, wy - py], dim=1).clamp(-1e6, 1e6).float()

    def background_maps(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The background's map from the first latent frame to each frame, ``p_k = c + S_k (p_0 - c) + T_k``:
        ``S`` (F',) and ``T`` (F', 2) in float64, the steps composed (``S_{k+1} = s_k S_k``, ``T_{k+1} = s_k T_k + t_k``)."""
        scale, shift = [torch.ones((), dtype=torch.float64)], [torch.zeros(2, dtype=torch.float64)]
        for step in range(self.shift.shape[0]):
            s = self.scale[step, 1].double()
            scale.append(s * scale[-1])
            shift.append(s * shift[-1] + self.shift[step, 1].double())
        return torch.stack(scale), torch.stack(shift)


def latent_frame_times(num_latent_frames: int, temporal_scale: int = 8) -> torch.Tensor:
    """The pixel-frame time each latent frame stands for: 0 for the first (a single causal frame), then the
    centre of the ``temporal_scale`` frames it covers: ``8 i - 3.5``."""
    times = torch.arange(num_latent_frames, dtype=torch.float32) * temporal_scale - (temporal_scale - 1) / 2
    times[0] = 0.0
    return times


class CameraController:
    """Turns a :class:`Camera` into a :class:`MotionField` and imposes it on predicted clean latents.

    Args:
        camera: the camera.
        strength: the constraint's weight at the first step (0: off, 1: the low frequencies, or in pixel space the
            whole predicted clip, are replaced).
        until: the fraction of the denoising steps it acts on (``schedule`` says how the weight goes there).
        lowpass: the Gaussian blur (in latent cells) that defines "low spatial frequencies".
        world_coordinates: move the tokens' RoPE coordinates to world coordinates (:meth:`world_positions`);
            None (default): as the pipeline's motion encoder was trained (its config's ``world_positions``), on
            without one.
        warp_noise: start from noise warped along the background's motion (:mod:`~ltx_video.conditioning.noise_warp`)
            instead of independent noise per frame; None (default): as the pipeline's motion encoder was trained
            (its config's ``warp_noise``), off without one. ``warp_fresh`` is the share of independent noise mixed in;
            None: as the motion encoder was trained (its config's ``warp_fresh``), else 0.
        space: where the training-free constraint acts: ``"latent"`` (the low frequencies of the latent frames,
            :meth:`constrain`) or ``"pixel"`` (the predicted clean latents decoded, re-rendered as a still world
            seen by the camera, encoded, and mixed in by the step's weight: :mod:`~ltx_video.conditioning.camera_render`).
        schedule: the weight over the steps: ``"linear"`` (``strength`` falling to 0 at ``until``) or ``"constant"``
            (``strength`` on the steps before ``until``, 0 after; ``until=1``: every step, the last included).
    """

    SPACES = ("latent", "pixel")
    SCHEDULES = ("linear", "constant")

    def __init__(
        self, camera: Camera, *, strength: float = 0.6, until: float = 0.5, lowpass: float = 1.0,
        world_coordinates: bool | None = None, warp_noise: bool | None = None, warp_fresh: float | None = None,
        space: str = "latent", schedule: str = "linear",
    ):
        if not isinstance(camera, Camera):
            raise ValueError(f"`camera` must be a Camera, got {type(camera).__name__}.")
        if real(strength) is None or not 0.0 <= strength <= 1.0:
            raise ValueError(f"CameraController `strength` must be a number in [0, 1], got {strength!r}.")
        if real(until) is None or not 0.0 < until <= 1.0:
            raise ValueError(f"CameraController `until` must be a number in (0, 1], got {until!r}.")
        if real(lowpass) is None or not lowpass > 0:
            raise ValueError(f"CameraController `lowpass` must be a finite number > 0 (latent cells), got {lowpass!r}.")
        strength, until, lowpass = float(strength), float(until), float(lowpass)
        if space not in self.SPACES:
            raise ValueError(f"CameraController `space` must be one of {self.SPACES}, got {space!r}.")
        if schedule not in self.SCHEDULES:
            raise ValueError(f"CameraController `schedule` must be one of {self.SCHEDULES}, got {schedule!r}.")
        self.camera, self.strength, self.until, self.lowpass, self.space = camera, strength, until, lowpass, space
        self.schedule = schedule
        if warp_fresh is not None and (real(warp_fresh) is None or not 0.0 <= warp_fresh <= 1.0):
            raise ValueError(f"CameraController `warp_fresh` must be in [0, 1], got {warp_fresh!r}.")
        self.world_coordinates = None if world_coordinates is None else bool(world_coordinates)
        self.warp_noise = None if warp_noise is None else bool(warp_noise)
        self.warp_fresh = None if warp_fresh is None else float(warp_fresh)
        self.frame: tuple[int, int, int, int] | None = None  # (top, left, height, width): :meth:`placed`

    def placed(self, top: int, left: int, height: int, width: int) -> CameraController:
        """A copy whose fields take their geometry (the image centre, the focal length that ``fov`` gives) from the
        requested ``height`` x ``width`` video at (``top``, ``left``) of the larger, padded grids they are built on:
        the pipeline pads sizes to multiples of 32 and crops back, and a pivot placed by the padded width lands
        elsewhere in (or outside) the video the user sees."""
        if min(top, left) < 0 or min(height, width) < 1:
            raise ValueError(f"CameraController.placed takes a frame inside the grid, got top={top}, left={left}, "
                             f"height={height}, width={width}.")
        out = copy.copy(self)
        out.frame = (int(top), int(left), int(height), int(width))
        return out

    def at_scale(self, height_factor: float, width_factor: float) -> CameraController:
        """A copy whose camera is :meth:`Camera.at_scale`."""
        out = copy.copy(self)
        out.camera = self.camera.at_scale(height_factor, width_factor)
        return out

    def settled(self, encoder_config=None) -> CameraController:
        """A copy with ``world_coordinates``, ``warp_noise`` and ``warp_fresh`` left at None settled as the motion
        encoder whose config is given was trained (None: the training-free path: world coordinates, no warped noise)."""
        trained = dict(encoder_config or {})
        out = copy.copy(self)
        if out.world_coordinates is None:
            out.world_coordinates = bool(trained.get("world_positions", True))
        if out.warp_noise is None:
            out.warp_noise = bool(trained.get("warp_noise", False))
        if out.warp_fresh is None:
            out.warp_fresh = float(trained.get("warp_fresh", 0.0))
        return out

    # ------------------------------------------------------------------ the field
    def per_frame(self) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
        """One pixel frame's motion: ((dx, dy) subject, (dx, dy) background, (scale subject, scale background))."""
        cam, s = self.camera, self.camera.speed
        sign = {"left": 1.0, "right": -1.0, "up": 1.0, "down": -1.0, "forward": 1.0, "backward": -1.0, "in": 1.0,
                "out": -1.0}
        kind, _, direction = cam.motion_type.partition("_")
        if kind == "static":
            return (0.0, 0.0), (0.0, 0.0), (1.0, 1.0)
        if kind == "pan":
            d = (sign[direction] * s, 0.0) if direction in ("left", "right") else (0.0, sign[direction] * s)
            return d, d, (1.0, 1.0)
        if kind == "zoom":
            z = (1 + s / 100) ** sign[direction]
            return (0.0, 0.0), (0.0, 0.0), (z, z)
        if kind == "orbit":  # the camera circles the pivot: the subject stays, the background moves with it
            return (0.0, 0.0), (-sign[direction] * s, 0.0), (1.0, 1.0)
        # dolly: the camera moves t along its axis; the subject (depth D) scales D / (D - t) = 1 + s / 100
        depth, subject = cam.distance, (1 + s / 100) ** sign[direction]
        step = depth * (1 - 1 / subject)  # toward the pivot; negative: away from it
        far = depth * cam.background_depth
        return (0.0, 0.0), (0.0, 0.0), (subject, far / (far - step))

    def centre(self, height: int, width: int) -> tuple[float, float]:
        """The point (x, y) in pixels of a ``height`` x ``width`` grid that the field's scales act about: the image
        centre for zooms (the focal length changes), the pivot's image point (:meth:`pivot`) otherwise (a dolly
        moves toward it; pans and orbits do not scale)."""
        if self.camera.motion_type.startswith("zoom"):
            top, left, frame_height, frame_width = self._frame(height, width)
            return left + frame_width / 2, top + frame_height / 2
        return self.pivot(height, width)

    def pivot(self, height: int, width: int) -> tuple[float, float]:
        """The pivot's image point (x, y) in pixels: the video's centre shifted by yaw and pitch."""
        top, left, frame_height, frame_width = self._frame(height, width)
        yaw, pitch, _ = self.camera.rotation
        focal = (frame_width / 2) / math.tan(math.radians(self.camera.fov) / 2)
        return (left + frame_width / 2 + focal * math.tan(math.radians(yaw)),
                top + frame_height / 2 - focal * math.tan(math.radians(pitch)))

    def _frame(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the video in a ``height`` x ``width`` grid: the whole grid unless :meth:`placed`."""
        if self.frame is None:
            return 0, 0, height, width
        top, left, frame_height, frame_width = self.frame
        if top + frame_height > height or left + frame_width > width:
            raise ValueError(f"CameraController was placed for a {frame_width}x{frame_height} video at (top, left) "
                             f"({top}, {left}); a {width}x{height} grid does not hold it.")
        return self.frame

    def motion_field(self, num_latent_frames: int, height: int, width: int, temporal_scale: int = 8) -> MotionField:
        """The content motion between consecutive latent frames of an ``height`` x ``width`` video."""
        (sdx, sdy), (bdx, bdy), (ss, bs) = self.per_frame()
        roll = math.radians(self.camera.rotation[2])
        cos, sin = math.cos(roll), math.sin(roll)
        times = latent_frame_times(num_latent_frames, temporal_scale)
        steps = (times[1:] - times[:-1]).tolist()
        shifts, scales = [], []
        for n in steps:  # n pixel frames of a constant affine map: scale^n, and the shift's geometric sum
            row, srow = [], []
            for dx, dy, z in ((sdx, sdy, ss), (bdx, bdy, bs)):
                total = n if abs(z - 1) < 1e-12 else (z**n - 1) / (z - 1)
                x, y = dx * total, dy * total
                row.append((cos * x - sin * y, sin * x + cos * y))
                srow.append(z**n)
            shifts.append(row)
            scales.append(srow)
        return MotionField(
            shift=torch.tensor(shifts, dtype=torch.float32).reshape(-1, 2, 2),
            scale=torch.tensor(scales, dtype=torch.float32).reshape(-1, 2),
            centre=self.centre(height, width), height=height, width=width,
        )

    def check(self, num_frames: int, height: int, width: int, temporal_scale: int = 8) -> None:
        """Raise if one latent step (``temporal_scale`` frames) moves content at the frame's corners, where affine
        motion is largest, by the whole frame or more (before any model runs): at exactly the frame nothing of one
        latent frame is left in the next, its content is fully replaced. The bound is the same whatever the video's
        length (a two-latent-frame video's only step is shorter). A zoom out (dolly backward) is held to its mirror's
        bound: its content comes from as far outside the frame as the zoom in's goes. A single frame moves nothing."""
        if num_frames <= 1:
            return
        mirror = {"zoom_out": "zoom_in", "dolly_backward": "dolly_forward"}.get(self.camera.motion_type)
        if mirror is not None:
            try:
                CameraController(replace(self.camera, motion_type=mirror)).check(num_frames, height, width, temporal_scale)
            except ValueError:
                raise ValueError(
                    f"Camera `speed` {self.camera.speed} ({self.camera.motion_type}) brings in content from farther "
                    f"outside the frame than the frame's size, or from as far, in one latent step ({temporal_scale} "
                    f"frames) of a {width}x{height} video. Lower the speed."
                ) from None
        # three latent frames: the second step is a whole one (the first, from the causal frame 0, is shorter);
        # unplaced: the bound is on the requested frame, not a padded grid
        field = CameraController(self.camera).motion_field(3, height, width, temporal_scale)
        scale, shift = field.scale[-1].double()[:, None], field.shift[-1].double()  # (layer, 1), (layer, 2)
        cx, cy = field.centre
        corners_x = torch.tensor([0.0, width], dtype=torch.float64) - cx
        corners_y = torch.tensor([0.0, height], dtype=torch.float64) - cy
        worst_x = ((scale - 1) * corners_x + shift[:, :1]).abs().max().item()  # both layers, both edges
        worst_y = ((scale - 1) * corners_y + shift[:, 1:]).abs().max().item()
        if worst_x >= width or worst_y >= height:
            raise ValueError(
                f"Camera `speed` {self.camera.speed} ({self.camera.motion_type}) moves the content "
                f"{max(worst_x, worst_y):.0f} px in one latent step ({temporal_scale} frames) of a {width}x{height} "
                "video: the whole frame or more (no content carries over). Lower the speed."
            )

    def world_positions(
        self, positions: torch.Tensor, field: MotionField, grid_height: int, grid_width: int, num_prefix_tokens: int = 0,
        *, causal: bool = True,
    ) -> torch.Tensor:
        """The tokens' RoPE coordinates (B, 3, prefix + F'*h*w: time, y, x in pixels) moved to world coordinates
        (:meth:`MotionField.world_offsets`). Each leading conditioning token (``num_prefix_tokens``, whole h x w
        frames) takes the offsets of its cell in the latent frame it stands for, the one holding its pixel frame
        (:func:`~ltx_video.conditioning.multi_keyframe_processor.keyframe_latent_index`; a clip's two token frames
        are two consecutive frames). With ``causal`` positions (LTX-Video's: a latent frame's time is its first pixel
        frame) that is the video frame whose time is the latest at or before the token's; with diffusers' shifted
        ones (``causal=False``: ``8 f``, its last pixel frame) the earliest at or after it. Unchanged without
        ``world_coordinates`` or for a static camera."""
        if self.world_coordinates is False or not self.camera.moves:
            return positions
        cells = grid_height * grid_width
        if num_prefix_tokens % cells:
            raise ValueError(f"world_positions: `num_prefix_tokens` must be whole {grid_height}x{grid_width} frames "
                             f"(a multiple of {cells}), got {num_prefix_tokens}.")
        offsets = field.world_offsets(grid_height, grid_width).to(positions.device, positions.dtype).flatten(2)
        video = offsets.permute(1, 0, 2).reshape(2, -1)  # (dx, dy) per token, frame-major
        moved = positions.clone()
        moved[:, 1, num_prefix_tokens:] += video[1]
        moved[:, 2, num_prefix_tokens:] += video[0]
        if num_prefix_tokens:
            # (since 2026-12-07: moved too; on screen they were read as displaced by the camera's motion so far)
            starts = positions[:, 0, num_prefix_tokens::cells].contiguous()  # (B, F'): each video frame's time
            times = positions[:, 0, :num_prefix_tokens].contiguous()
            margin = 1e-4 * (starts[:, -1:] - starts[:, :1]).clamp(min=1e-6)  # rounding only: both from integer frames
            # (since 2026-12-07: the shifted positions took the latest at or before too, the previous latent frame)
            if causal:
                frame = torch.searchsorted(starts, times + margin, right=True) - 1
            else:
                frame = torch.searchsorted(starts, times - margin)
            frame = frame.clamp(0, offsets.shape[0] - 1)
            cell = torch.arange(num_prefix_tokens, device=positions.device) % cells
            taken = offsets[frame, :, cell.expand_as(frame)]  # (B, M, 2)
            moved[:, 1, :num_prefix_tokens] += taken[..., 1]
            moved[:, 2, :num_prefix_tokens] += taken[..., 0]
        return moved

    def noise(self, field: MotionField, shape: tuple[int, ...], *, generator=None, device=None, dtype=torch.float32):
        """Starting noise of ``shape`` (B, C, F', h, w): warped along ``field`` with ``warp_noise`` and a moving
        camera, else independent (``torch.randn``), drawn from ``generator``."""
        if not self.warp_noise or not self.camera.moves:
            return randn_tensor(shape, generator=generator, device=device, dtype=dtype)
        from ltx_video.conditioning.noise_warp import NoiseWarp

        warp = NoiseWarp(field, tuple(shape[2:]), fresh=self.warp_fresh or 0.0)
        return warp.sample(shape[0], shape[1], generator=generator, device=device, dtype=dtype)

    # ------------------------------------------------------------------ the training-free constraint
    def weight(self, step: int, num_steps: int) -> float:
        """The constraint's weight at ``step`` (0-based) of ``num_steps``: ``strength`` falling linearly to 0
        at ``until`` of the steps (``schedule="linear"``), or held until then (``"constant"``)."""
        progress = step / max(num_steps, 1)
        if self.schedule == "constant":
            return self.strength if progress < self.until else 0.0
        return self.strength * max(0.0, 1.0 - progress / self.until)

    def constrain(self, clean: torch.Tensor, field: MotionField, weight: float) -> torch.Tensor:
        """Pull the low frequencies of each latent frame of ``clean`` (B, C, F', h, w) toward the previous
        frame's warped by ``field``: ``low(x_k) += weight * (low(warp(x_{k-1})) - low(x_k))``, frame by frame
        from the first (whose own result is what frame 2 is warped from). Each cell samples the previous frame where
        its content was (:meth:`MotionField.source`, exact). A camera that does not move (``"static"``, speed 0)
        pulls each frame toward the previous one unwarped: the camera held still (only the low frequencies, so
        objects still move); the pixel path imposes nothing for it."""
        if weight <= 0 or clean.shape[2] < 2:
            return clean
        height, width = clean.shape[-2:]
        size = torch.tensor([field.width, field.height], dtype=torch.float32)[None, :, None, None]
        where = (field.source(height, width) / size * 2 - 1).permute(0, 2, 3, 1).to(clean.device)  # (F'-1, h, w, 2)
        frames = [clean[:, :, 0]]
        for k in range(1, clean.shape[2]):
            grid = where[k - 1][None].expand(clean.shape[0], -1, -1, -1).to(clean.dtype)
            warped = F.grid_sample(frames[-1], grid, mode="bilinear", padding_mode="border", align_corners=False)
            current = clean[:, :, k]
            frames.append(current + weight * (self._low(warped) - self._low(current)))
        return torch.stack(frames, dim=2)

    def _low(self, x: torch.Tensor) -> torch.Tensor:
        radius = max(1, math.ceil(3 * self.lowpass))
        taps = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
        kernel = torch.exp(-0.5 * (taps / self.lowpass) ** 2)
        kernel = kernel / kernel.sum()
        channels = x.shape[1]
        x = F.pad(x, (radius, radius, radius, radius), mode="replicate")
        x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
        return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


# The learned path's module lives in camera_encoder.py; named here too, where it was defined until 2026-12-07 (saved
# pipelines' loaders and users' imports). Imported last: camera_encoder reads MotionField from this module.
from ltx_video.conditioning.camera_encoder import CameraMotionEncoder  # noqa: E402
