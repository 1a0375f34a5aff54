"""Synthetic audio-visual clips with exact ground truth: bouncing shapes, tone bursts, camera motion.

Every clip is a pure function of ``(seed, ClipParams)``: the same pair gives a bit-identical
:class:`Clip`. Randomness comes only from local ``numpy.random.Generator`` streams built from the
seed (parameters, background texture and audio noise each have their own stream), never from a
global RNG.

World model
-----------
Coordinates are continuous screen pixels, x to the right and y down. The frame spans
``[0, W] x [0, H]``: pixel (row ``i``, column ``j``) covers ``[j, j + 1] x [i, i + 1]`` and its centre
is ``(j + 0.5, i + 0.5)``. Frame ``k`` is shown at time ``k / fps``; audio sample ``n`` at
``n / SAMPLE_RATE``.

Objects move in SCREEN space with constant velocity and reflect off the edges of the visible frame,
independently of the camera (a dolly's scaling aside, below). An object reflects when its bounding box touches the border: for a ball
(disc of radius ``size``) and a square (axis-aligned, half-side ``size``) that is ``x - size = 0`` or
``x + size = W`` (and the same for ``y`` and ``H``). The triangle points up, with apex ``(x, y - size)``
and base corners ``(x +- size, y + size / 2)``: its area centroid is exactly ``(x, y)`` and its box
reaches ``size`` left, right and up but only ``size / 2`` down, so it reflects at the bottom edge when
``y + size / 2 = H`` (see :func:`shape_extent`). The x and y motions are independent triangle waves,
so bounce times are solved in closed form (:func:`compute_bounces`, :func:`object_positions`): exact
continuous times, not frame-quantised. A corner hit is two :class:`Bounce` events with the same time,
one per wall. Objects are drawn in order (later ones on top), anti-aliased by 4 x 4 supersampling.

The background is a textured world seen through the camera. The texture is a smooth random field
(a sum of 128 random plane waves, wavelengths 6-48 px, amplitudes proportional to the square root of
the wavelength, RMS 0.06, clipped to +-0.15) added to the background colour; it is evaluated in
closed form at the world point under every pixel centre, so sub-pixel pans and zooms are exact.
Frame ``k`` shows world point ``w`` at screen point ``c + z**k * (w - c) + k * (dx, dy)`` with
``c = (W / 2, H / 2)`` (``((W - 1) / 2, (H - 1) / 2)`` in pixel indices), so the content moves by
``(dx, dy)`` and scales by ``z`` about the image centre from one frame to the next: that is the camera
ground truth, :attr:`Clip.camera`. Waves whose on-screen frequency passes 0.35 cycles / px fade out
linearly until 0.45 cycles / px, so the texture never aliases; this only happens after zooming out
by more than 2.1x in total (never within the default 2 s at 24 fps), and from then on the zoom
ground truth holds only approximately.

Parallax (orbits and dollies): the objects are the subject, at the depth the camera pivots on; the
background lies behind them. An orbit circles the subject: the objects stay in screen space and the
background shifts by ``speed`` px per frame (orbit_left: leftwards). A dolly moves the camera along its
axis: the objects' positions and sizes scale by ``z = 1 +- speed / 100`` per frame about the image centre
(:attr:`Clip.positions` are the on-screen centres; bounces, and so the sound, keep the objects' own
motion), and the background by a smaller constant per-frame zoom ``b``, compounded (``b**k`` at frame
``k``, as the objects' ``z**k``): ``b`` is the scale that a plane
:data:`~ltx_video.data.kinematics.DOLLY_DEPTH_RATIO` (4) times as far takes from the camera's step of the
first frame (:func:`~ltx_video.data.kinematics.camera_step`). So the background is that plane at frame 1
only: a camera that had travelled ``t`` to scale the subject (depth ``D``) by ``z**k = D / (D - t)`` would
scale such a plane by ``4 D / (4 D - t)``, not ``b**k``, and the background's apparent depth drifts from 4
times the subject's towards it on a dolly forward, away from it on a dolly backward. :attr:`Clip.camera`
(``b`` every frame) is the background's motion as rendered, :attr:`Clip.subject_camera` (``z``) the
objects'. So a dolly forward may carry an object out of the frame, where it still bounces and sounds: a
dolly clip can hold tones without a visible bounce (its ``positions`` then lie outside the frame).

Sound: at every bounce a tone burst at the object's :data:`SHAPE_PITCH_HZ`, ``burst_ms`` long, with an
instantaneous attack and an exponential decay of time constant ``burst_ms / 4``
(:func:`burst_waveform`). The burst's first non-zero sample is ``ceil(t * SAMPLE_RATE)``
(:func:`burst_start_sample`); its sine has phase 0 half a sample before that sample, so the sample
itself is never zero. Bursts add up, plus optional white Gaussian noise of RMS ``background_noise``;
the sum is divided by its peak only if the peak exceeds 1.

Prompts follow a fixed grammar (:mod:`ltx_video.data.prompts`: :func:`prompt_for`, :func:`parse_prompt`),
e.g. ``"a red ball and a blue square bounce, the camera pans left"``.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ltx_video.data.kinematics import (
    WALLS,
    Bounce,
    compute_bounces,
    object_bounces,
    object_positions,
    subject_positions,
    true_camera_motion,
    true_subject_motion,
)
from ltx_video.data.prompts import (
    CAMERA_MOTIONS,
    COLOURS,
    DRAWN_CAMERA_MOTIONS,
    SHAPES,
    PromptSpec,
    parse_prompt,
    prompt_for,
)
from ltx_video.data.rendering import BACKGROUNDS, render_video, shape_extent

__all__ = [
    "BACKGROUNDS",
    "CAMERA_MOTIONS",
    "COLOURS",
    "SAMPLE_RATE",
    "SHAPES",
    "SHAPE_PITCH_HZ",
    "WALLS",
    "Bounce",
    "Clip",
    "ClipParams",
    "ObjectSpec",
    "PromptSpec",
    "SyntheticAVDataset",
    "burst_start_sample",
    "burst_waveform",
    "collate_clips",
    "true_camera_motion",
    "compute_bounces",
    "make_clip",
    "object_positions",
    "parse_prompt",
    "prompt_for",
    "render_clip",
    "sample_params",
    "shape_extent",
]

SHAPE_PITCH_HZ = {"ball": 523.25, "square": 783.99, "triangle": 1046.5}
SAMPLE_RATE = 16000

_BURST_AMPLITUDE = 0.5
_SIZE_RANGE = (4.0, 10.0)
_SPEED_RANGE = (40.0, 120.0)  # px / s
_CAMERA_SPEED_RANGE = (0.5, 1.5)
_MIN_BOUNCES, _BOUNCE_WINDOW_S, _MAX_DRAWS = 2, 2.0, 64
# Independent RNG streams per seed, so overriding one parameter does not change the others.
_PARAMS_STREAM, _NOISE_STREAM, _CAMERA_STREAM = 0, 2, 3  # 1 is the texture's (rendering.py)


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _finite_pair(value: Any, name: str) -> tuple[float, float]:
    """``value`` as a pair of finite floats, or ValueError naming ``name``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2 or not all(_is_real(v) for v in value):
        raise ValueError(f"{name} must be a pair of real numbers (x, y), got {value!r}")
    pair = (float(value[0]), float(value[1]))
    if not all(math.isfinite(v) for v in pair):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return pair


def _check_seed(seed: Any) -> None:
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")


@dataclass(frozen=True, kw_only=True)
class ObjectSpec:
    """One moving object: its look, its centre ``(x, y)`` in px at t = 0 and velocity in px / s."""

    shape: str
    colour: str
    size: float
    position: tuple[float, float]
    velocity: tuple[float, float]

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, got {self.shape!r}")
        if self.colour not in COLOURS:
            raise ValueError(f"colour must be one of {tuple(COLOURS)}, got {self.colour!r}")
        if not _is_real(self.size) or not 0 < self.size < math.inf:
            raise ValueError(f"size must be a positive finite number of px, got {self.size!r}")
        object.__setattr__(self, "size", float(self.size))
        object.__setattr__(self, "position", _finite_pair(self.position, "position"))
        object.__setattr__(self, "velocity", _finite_pair(self.velocity, "velocity"))

    def limits(self, height: int, width: int) -> tuple[tuple[float, float], tuple[float, float]]:
        """Ranges ``((x_min, x_max), (y_min, y_max))`` of the centre that keep the shape in the frame."""
        left, right, top, bottom = shape_extent(self.shape, self.size)
        return (left, width - right), (top, height - bottom)


def _check_frame(height: Any, width: Any, fps: Any, duration: Any) -> None:
    """ValueError unless the frame size, rate and duration give at least one frame."""
    for name, value in (("height", height), ("width", width)):
        if not _is_int(value) or value < 8:
            raise ValueError(f"{name} must be an int >= 8 (px), got {value!r}")
    if not _is_real(fps) or not 0 < fps < math.inf:
        raise ValueError(f"fps must be a positive finite number, got {fps!r}")
    if not _is_real(duration) or not 0 < duration < math.inf:
        raise ValueError(f"duration must be a positive finite number of seconds, got {duration!r}")
    if round(duration * fps) < 1:
        raise ValueError(f"duration * fps must round to at least 1 frame, got {duration} * {fps}")


@dataclass(frozen=True, kw_only=True)
class ClipParams:
    """Everything that defines a clip besides the seed (which fixes the background texture and noise).

    ``camera_speed``: px per frame for pans; percent of scale change per frame for zooms
    (1.0 -> factor 1.01). ``background_noise``: RMS of white noise added to the audio.
    ``burst_ms``: length of each tone burst in milliseconds.
    """

    height: int = 64
    width: int = 64
    fps: float = 24.0
    duration: float = 2.0
    objects: tuple[ObjectSpec, ...]
    background: str = "gray"
    camera: str = "static"
    camera_speed: float = 1.0
    background_noise: float = 0.0
    burst_ms: float = 80.0

    def __post_init__(self) -> None:
        _check_frame(self.height, self.width, self.fps, self.duration)
        object.__setattr__(self, "height", int(self.height))
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "fps", float(self.fps))
        object.__setattr__(self, "duration", float(self.duration))
        if not isinstance(self.objects, (tuple, list)) or not 1 <= len(self.objects) <= 3:
            raise ValueError(f"objects must be a tuple of 1 to 3 ObjectSpec, got {self.objects!r}")
        if not all(isinstance(obj, ObjectSpec) for obj in self.objects):
            raise ValueError(f"objects must contain ObjectSpec instances, got {self.objects!r}")
        object.__setattr__(self, "objects", tuple(self.objects))
        for index, obj in enumerate(self.objects):
            (x_min, x_max), (y_min, y_max) = obj.limits(self.height, self.width)
            if x_min >= x_max or y_min >= y_max:
                raise ValueError(
                    f"objects[{index}].size={obj.size} is too large for a {self.height}x{self.width} frame: "
                    f"a {obj.shape}'s box must be smaller than the frame"
                )
            x, y = obj.position
            if not (x_min <= x <= x_max and y_min <= y <= y_max):
                raise ValueError(
                    f"objects[{index}].position={obj.position} must keep the {obj.shape} inside the frame: "
                    f"x in [{x_min}, {x_max}], y in [{y_min}, {y_max}]"
                )
        if self.background not in BACKGROUNDS:
            raise ValueError(f"background must be one of {tuple(BACKGROUNDS)}, got {self.background!r}")
        if self.camera not in CAMERA_MOTIONS:
            raise ValueError(f"camera must be one of {CAMERA_MOTIONS}, got {self.camera!r}")
        for name in ("camera_speed", "background_noise"):
            value = getattr(self, name)
            if not _is_real(value) or not 0 <= value < math.inf:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not _is_real(self.burst_ms) or not 1 <= self.burst_ms < math.inf:
            raise ValueError(f"burst_ms must be a finite number >= 1 (ms), got {self.burst_ms!r}")
        object.__setattr__(self, "burst_ms", float(self.burst_ms))

    @property
    def num_frames(self) -> int:
        """``F = round(duration * fps)``."""
        return round(self.duration * self.fps)

    @property
    def num_samples(self) -> int:
        """``S = round(F / fps * SAMPLE_RATE)``: the frames' duration (``duration`` when ``duration * fps`` is whole;
        else the audio ran past or short of the last frame), the pipelines' and the folder loader's rule."""
        return round(self.num_frames / self.fps * SAMPLE_RATE)


_PARAM_FIELDS = tuple(field.name for field in dataclasses.fields(ClipParams))
_PARAM_DEFAULTS = {
    field.name: field.default for field in dataclasses.fields(ClipParams) if field.default is not dataclasses.MISSING
}


# --------------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------------


def burst_start_sample(time: float) -> int:
    """Index of the first non-zero sample of a burst for a bounce at ``time`` s: ``ceil(time * SAMPLE_RATE)``."""
    return math.ceil(time * SAMPLE_RATE)


def burst_waveform(frequency_hz: float, burst_ms: float = 80.0) -> torch.Tensor:
    """One tone burst ``(L,)`` float64, ``L = round(burst_ms * SAMPLE_RATE / 1000)``.

    ``0.5 * sin(2 pi f u) * exp(-u / tau)`` at ``u = (m + 0.5) / SAMPLE_RATE`` for sample ``m``,
    ``tau = burst_ms / 4``: phase 0 half a sample before the first sample, so that sample is non-zero.
    """
    length = round(burst_ms * SAMPLE_RATE / 1000.0)
    u = (torch.arange(length, dtype=torch.float64) + 0.5) / SAMPLE_RATE
    tau = burst_ms / 4.0 / 1000.0
    return _BURST_AMPLITUDE * torch.sin(2.0 * math.pi * frequency_hz * u) * torch.exp(-u / tau)


def _render_audio(seed: int, params: ClipParams, bounces: tuple[Bounce, ...]) -> torch.Tensor:
    """Waveform ``(S,)`` float32 in ``[-1, 1]``: one burst per bounce, plus optional white noise."""
    audio = torch.zeros(params.num_samples, dtype=torch.float64)
    bursts = {shape: burst_waveform(pitch, params.burst_ms) for shape, pitch in SHAPE_PITCH_HZ.items()}
    for bounce in bounces:
        start = burst_start_sample(bounce.time)
        burst = bursts[params.objects[bounce.object_index].shape][: max(0, audio.numel() - start)]
        audio[start : start + burst.numel()] += burst
    if params.background_noise > 0:
        rng = np.random.default_rng([seed, _NOISE_STREAM])
        audio += torch.from_numpy(rng.standard_normal(audio.numel())) * params.background_noise
    peak = audio.abs().max().item() if audio.numel() else 0.0
    if peak > 1.0:
        audio /= peak
    return audio.to(torch.float32)


# --------------------------------------------------------------------------------------------
# Sampling and the clip
# --------------------------------------------------------------------------------------------


def _count_bounces(objects: tuple[ObjectSpec, ...], height: int, width: int, until: float) -> int:
    return sum(len(object_bounces(obj, i, height, width, until)) for i, obj in enumerate(objects))


def _sample_objects(rng: np.random.Generator, height: int, width: int, duration: float) -> tuple[ObjectSpec, ...]:
    """1-3 objects with distinct colours, sizes 4-10 px and speeds 40-120 px/s at 64 px.

    Sizes and speeds scale with ``min(height, width) / 64`` above 64 px (so a 256 x 256 clip looks like a
    64 x 64 one, only sharper); sizes shrink in frames under 50 px.

    Directions and positions are redrawn (deterministically, up to 64 times) until at least 2
    bounces happen in the first ``min(duration, 2)`` s; if none of the draws manages (tiny or very
    short clips), the draw with the most bounces is kept.
    """
    count = int(rng.integers(1, 4))
    colours = [tuple(COLOURS)[i] for i in rng.choice(len(COLOURS), size=count, replace=False)]
    shapes = [SHAPES[i] for i in rng.integers(len(SHAPES), size=count)]
    scale = max(1.0, min(height, width) / 64.0)
    size_high = min(_SIZE_RANGE[1] * scale, min(height, width) / 5.0)
    sizes = rng.uniform(min(_SIZE_RANGE[0] * scale, size_high / 2.0), size_high, size=count)
    until = min(duration, _BOUNCE_WINDOW_S)
    best, best_count = (), -1
    for _ in range(_MAX_DRAWS):
        unit = rng.uniform(size=(count, 2))
        speed = rng.uniform(*_SPEED_RANGE, size=count) * scale
        angle = rng.uniform(0.0, 2.0 * math.pi, size=count)
        objects = []
        for i in range(count):
            left, right, top, bottom = shape_extent(shapes[i], float(sizes[i]))
            x = left + unit[i, 0] * (width - right - left)
            y = top + unit[i, 1] * (height - bottom - top)
            velocity = (speed[i] * math.cos(angle[i]), speed[i] * math.sin(angle[i]))
            objects.append(
                ObjectSpec(shape=shapes[i], colour=colours[i], size=float(sizes[i]), position=(x, y), velocity=velocity)
            )
        bounces = _count_bounces(tuple(objects), height, width, until)
        if bounces > best_count:
            best, best_count = tuple(objects), bounces
        if bounces >= _MIN_BOUNCES:
            break
    return best


def sample_params(seed: int, **overrides: Any) -> ClipParams:
    """The :class:`ClipParams` that :func:`make_clip` renders: ``overrides`` kept, the rest drawn from ``seed``.

    Drawn: background and camera motion (uniform over ``DRAWN_CAMERA_MOTIONS``, or over ``camera`` when it is
    a list), camera_speed (0.5-1.5) and the objects (see
    :func:`_sample_objects`, fitted to the possibly overridden frame size). height, width, fps,
    duration, background_noise and burst_ms default to the :class:`ClipParams` defaults. Every value
    is drawn whether or not it is overridden, so overriding one field leaves the others unchanged, except that
    the objects depend on the frame size they are fitted to and on a ``duration`` under 2 s (they are redrawn
    until one bounces within the first ``min(duration, 2)`` seconds): a 1-second clip of a seed is not always
    the first second of its 2-second clip.
    """
    _check_seed(seed)
    unknown = sorted(set(overrides) - set(_PARAM_FIELDS))
    if unknown:
        raise TypeError(f"unknown ClipParams field(s) {unknown}; accepted: {_PARAM_FIELDS}")
    choices = overrides.get("camera")
    if isinstance(choices, (list, tuple)):  # a camera drawn from a list, on its own stream
        if not choices or any(c not in CAMERA_MOTIONS for c in choices):
            raise ValueError(f"camera must be one of {CAMERA_MOTIONS} or a non-empty list of them, got {choices!r}")
        pick = np.random.default_rng([seed, _CAMERA_STREAM]).integers(len(choices))
        overrides = {**overrides, "camera": choices[int(pick)]}
    values = {**_PARAM_DEFAULTS, **overrides}
    _check_frame(values["height"], values["width"], values["fps"], values["duration"])
    rng = np.random.default_rng([seed, _PARAMS_STREAM])
    drawn: dict[str, Any] = {
        "background": tuple(BACKGROUNDS)[int(rng.integers(len(BACKGROUNDS)))],
        "camera": DRAWN_CAMERA_MOTIONS[int(rng.integers(len(DRAWN_CAMERA_MOTIONS)))],
        "camera_speed": float(rng.uniform(*_CAMERA_SPEED_RANGE)),
    }
    if str(overrides.get("camera", drawn["camera"])).startswith(("pan", "orbit")):  # px per frame: scale them
        drawn["camera_speed"] *= max(1.0, min(values["height"], values["width"]) / 64.0)
    drawn["objects"] = _sample_objects(rng, values["height"], values["width"], float(values["duration"]))
    return ClipParams(**{**values, **drawn, **overrides})


@dataclass(frozen=True, eq=False)
class Clip:
    """A rendered clip and its exact ground truth.

    video: ``(F, 3, H, W)`` float32 in ``[-1, 1]``, ``F = round(duration * fps)``.
    audio: ``(S,)`` float32 in ``[-1, 1]`` at :data:`SAMPLE_RATE`, ``S = round(F / fps * SAMPLE_RATE)``.
    bounces: sorted by time (see :func:`compute_bounces`).
    positions: ``(F, N, 2)`` float32, on-screen object centres ``(x, y)`` in px at frame times ``k / fps``.
    camera: ``(F - 1, 3)`` float32 background motion ``(dx, dy, zoom)`` from frame ``k`` to ``k + 1``
    (:attr:`subject_camera`: the objects').
    """

    video: torch.Tensor
    audio: torch.Tensor
    prompt: str
    params: ClipParams
    bounces: tuple[Bounce, ...]
    positions: torch.Tensor
    camera: torch.Tensor

    def __post_init__(self) -> None:
        p = self.params
        expected = {
            "video": (p.num_frames, 3, p.height, p.width),
            "audio": (p.num_samples,),
            "positions": (p.num_frames, len(p.objects), 2),
            "camera": (p.num_frames - 1, 3),
        }
        for name, shape in expected.items():
            if tuple(getattr(self, name).shape) != shape:
                raise ValueError(f"{name} must have shape {shape}, got {tuple(getattr(self, name).shape)}")

    @property
    def subject_camera(self) -> torch.Tensor:
        """``(F - 1, 3)`` the camera's motion of the objects (the subject), as :attr:`camera` is the
        background's: the two differ for orbits and dollies (parallax)."""
        return true_subject_motion(self.params)

    @property
    def fps(self) -> float:
        return self.params.fps

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    @property
    def num_frames(self) -> int:
        return self.params.num_frames

    def annotations(self) -> dict[str, Any]:
        """Ground truth as plain tensors / lists.

        ``bounce_times`` ``(K,)`` float64 s, ``bounce_objects`` ``(K,)`` int64, ``bounce_walls`` list of
        K wall names, ``positions`` ``(F, N, 2)``, ``camera`` ``(F - 1, 3)``, ``objects`` list of N
        ``(colour, shape)``, ``camera_motion`` str, ``subject_camera`` ``(F - 1, 3)``. A DataLoader's default collate stacks these only
        when every clip in the batch has the same K, N and F; :func:`collate_clips` keeps them as a list.
        """
        return {
            "bounce_times": torch.tensor([b.time for b in self.bounces], dtype=torch.float64),
            "bounce_objects": torch.tensor([b.object_index for b in self.bounces], dtype=torch.int64),
            "bounce_walls": [b.wall for b in self.bounces],
            "positions": self.positions,
            "camera": self.camera,
            "objects": [(obj.colour, obj.shape) for obj in self.params.objects],
            "camera_motion": self.params.camera,
            "subject_camera": self.subject_camera,
        }


def render_clip(seed: int, params: ClipParams) -> Clip:
    """Render ``params``; ``seed`` fixes the background texture and the audio noise."""
    _check_seed(seed)
    positions, scales = subject_positions(params, object_positions(params, np.arange(params.num_frames) / params.fps))
    bounces = compute_bounces(params)
    video = render_video(seed, params, positions, scales)
    return Clip(
        video=video.mul_(2.0).sub_(1.0),
        audio=_render_audio(seed, params, bounces),
        prompt=prompt_for(params),
        params=params,
        bounces=bounces,
        positions=positions.to(torch.float32),
        camera=true_camera_motion(params),
    )


def make_clip(seed: int, **params: Any) -> Clip:
    """Render a clip; :class:`ClipParams` fields not given are drawn from ``seed`` (:func:`sample_params`)."""
    return render_clip(seed, sample_params(seed, **params))


class SyntheticAVDataset(Dataset):
    """``num_clips`` synthetic clips; item ``i`` is ``make_clip(seed + i, **params)`` rendered on demand.

    Items are dicts: ``"video"`` ``(F, 3, H, W)`` float32 in ``[-1, 1]``, ``"audio"`` ``(S,)`` float32 in
    ``[-1, 1]`` at 16 kHz, ``"prompt"`` str, ``"annotations"`` :meth:`Clip.annotations`. Batch them with
    ``DataLoader(dataset, batch_size=4, collate_fn=collate_clips)``: the annotations differ in length per clip.
    """

    def __init__(self, num_clips: int, *, seed: int = 0, **params: Any) -> None:
        if not _is_int(num_clips) or num_clips < 1:
            raise ValueError(f"num_clips must be a positive int, got {num_clips!r}")
        _check_seed(seed)
        sample_params(seed, **params)  # fail now, not in a DataLoader worker
        self.num_clips, self.seed, self.params = int(num_clips), int(seed), dict(params)

    def __len__(self) -> int:
        return self.num_clips

    def __getitem__(self, index: int) -> dict[str, Any]:
        try:  # ints of every kind: torch's SubsetRandomSampler over a tensor of indices yields 0-d tensors
            index = operator.index(index)
        except TypeError:
            raise TypeError(f"index must be an int, got {index!r}") from None
        if not -self.num_clips <= index < self.num_clips:
            raise IndexError(f"index {index} out of range for {self.num_clips} clips")
        clip = make_clip(self.seed + index % self.num_clips, **self.params)
        return {"video": clip.video, "audio": clip.audio, "prompt": clip.prompt, "annotations": clip.annotations()}


def collate_clips(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A DataLoader's ``collate_fn`` for :class:`SyntheticAVDataset`: ``video`` ``(B, F, 3, H, W)`` and ``audio``
    ``(B, S)`` stacked, ``prompt`` and ``annotations`` as lists (clips differ in their bounces and objects, so
    torch's default collate fails on the annotations: "stack expects each tensor to be equal size")."""
    return {"video": torch.stack([item["video"] for item in items]),
            "audio": torch.stack([item["audio"] for item in items]),
            "prompt": [item["prompt"] for item in items],
            "annotations": [item["annotations"] for item in items]}
