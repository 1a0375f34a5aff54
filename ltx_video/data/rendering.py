"""The synthetic world's renderer: the background texture seen through the camera, and the objects
supersampled on top (the world model is in :mod:`ltx_video.data.synthetic`'s docstring).

Parallax: the objects are the subject, at the depth the camera pivots on. Pans, zooms and orbits leave them
in screen space (as the static world); a dolly also scales them and their positions about the image
centre by the subject's per-frame factor ``z`` (:func:`ltx_video.data.kinematics.subject_step`), while the
background scales by a smaller per-frame factor ``b`` (:func:`~ltx_video.data.kinematics.camera_step`): what a
plane ``DOLLY_DEPTH_RATIO`` times as far takes from the first frame's step, compounded (``b**k`` at frame ``k``,
as ``z**k``), so a plane at that depth at frame 1 only.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch

from ltx_video.data.kinematics import camera_step
from ltx_video.data.prompts import COLOURS, SHAPES

__all__ = ["BACKGROUNDS", "render_video", "shape_extent"]

# Every channel stays in [0.15, 0.85] so the +-0.15 texture never clips ("black" is near-black).
BACKGROUNDS: dict[str, tuple[float, float, float]] = {
    "gray": (0.40, 0.40, 0.40),
    "black": (0.15, 0.15, 0.15),
    "navy": (0.15, 0.18, 0.35),
    "beige": (0.62, 0.58, 0.48),
}

_SUPERSAMPLE = 4  # subpixels per pixel along each axis
_TEXTURE_WAVES = 128
_TEXTURE_WAVELENGTHS = (6.0, 48.0)  # world px
_TEXTURE_RMS = 0.06
_TEXTURE_PEAK = 0.15
_TEXTURE_FADE = (0.35, 0.45)  # on-screen cycles / px where waves start / finish fading out
_TEXTURE_STREAM = 1  # the seed's random stream for the texture (synthetic.py holds the others)


def shape_extent(shape: str, size: float) -> tuple[float, float, float, float]:
    """Distances ``(left, right, top, bottom)`` in px from an object's centre to its bounding box edges.

    ``size`` on every side for "ball" and "square"; ``(size, size, size, size / 2)`` for the
    upward "triangle" (apex ``size`` above the centre, base ``size / 2`` below it).
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    return (size, size, size, size / 2) if shape == "triangle" else (size, size, size, size)

def _texture_waves(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plane waves of the world texture: frequencies ``(K, 2)`` in cycles / px, amplitudes, phases ``(K,)``."""
    rng = np.random.default_rng([seed, _TEXTURE_STREAM])
    angle = rng.uniform(0.0, 2.0 * math.pi, _TEXTURE_WAVES)
    wavelength = np.exp(rng.uniform(*np.log(_TEXTURE_WAVELENGTHS), _TEXTURE_WAVES))
    phase = rng.uniform(0.0, 2.0 * math.pi, _TEXTURE_WAVES)
    frequency = np.stack([np.cos(angle), np.sin(angle)], axis=-1) / wavelength[:, None]
    amplitude = np.sqrt(wavelength)  # a gently falling spectrum: smooth, yet broadband for registration
    amplitude *= _TEXTURE_RMS / np.sqrt(np.sum(amplitude**2) / 2.0)
    return frequency, amplitude, phase


def _world_coordinates(params: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World x ``(F, W)`` and y ``(F, H)`` under each pixel centre, and the content scale ``(F,)`` per frame."""
    dx, dy, zoom = camera_step(params)
    frames = np.arange(params.num_frames, dtype=np.float64)
    scale = zoom**frames
    cx, cy = params.width / 2.0, params.height / 2.0
    px = np.arange(params.width, dtype=np.float64) + 0.5
    py = np.arange(params.height, dtype=np.float64) + 0.5
    world_x = cx + (px[None, :] - cx - dx * frames[:, None]) / scale[:, None]
    world_y = cy + (py[None, :] - cy - dy * frames[:, None]) / scale[:, None]
    return world_x, world_y, scale


def _render_texture(seed: int, params: Any) -> torch.Tensor:
    """Background texture ``(F, H, W)`` float64 in ``[-0.15, 0.15]`` seen through the camera.

    ``sum_k a_k cos(2 pi (fx_k x + fy_k y) + phi_k)`` is separable in x and y because the camera
    transform is axis-aligned: ``cos(A + B) = cos A cos B - sin A sin B`` turns it into two batched
    matmuls ``(F, H, K) @ (F, K, W)``.
    """
    frequency, amplitude, phase = _texture_waves(seed)
    world_x, world_y, scale = _world_coordinates(params)
    screen_frequency = np.linalg.norm(frequency, axis=-1)[None, :] / scale[:, None]  # (F, K)
    low, high = _TEXTURE_FADE
    gain = amplitude[None, :] * np.clip((high - screen_frequency) / (high - low), 0.0, 1.0)  # (F, K)
    angle_x = 2.0 * math.pi * world_x[:, None, :] * frequency[None, :, 0, None]  # (F, K, W)
    angle_y = 2.0 * math.pi * world_y[:, :, None] * frequency[None, None, :, 1] + phase  # (F, H, K)
    cos_x, sin_x = torch.from_numpy(np.cos(angle_x)), torch.from_numpy(np.sin(angle_x))
    cos_y = torch.from_numpy(np.cos(angle_y) * gain[:, None, :])
    sin_y = torch.from_numpy(np.sin(angle_y) * gain[:, None, :])
    return (cos_y @ cos_x - sin_y @ sin_x).clamp_(-_TEXTURE_PEAK, _TEXTURE_PEAK)


def _inside(shape: str, size: float, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """Whether offsets ``dx`` (F, 1, w) and ``dy`` (F, h, 1) from the centre lie in the shape: (F, h, w)."""
    if shape == "ball":
        return dx.square() + dy.square() <= size * size
    if shape == "square":
        return (dx.abs() <= size) & (dy.abs() <= size)
    # Upward triangle: apex (0, -size), base corners (+-size, size / 2).
    return (dy <= size / 2) & (dx.abs() * 1.5 <= dy + size)


def _coverage(obj: Any, centres: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Anti-aliased coverage of one object in a window that follows it.

    ``centres``: ``(F, 2)`` px. Returns ``coverage`` ``(F, h, w)`` in ``[0, 1]`` (fraction of the
    ``_SUPERSAMPLE ** 2`` subpixel centres inside the shape) and each window's top-left pixel
    ``origin`` ``(F, 2)`` int64 ``(column, row)``.
    """
    left, right, top, bottom = shape_extent(obj.shape, obj.size)
    box_w = min(width, math.ceil(left + right) + 2)
    box_h = min(height, math.ceil(top + bottom) + 2)
    origin_x = torch.floor(centres[:, 0] - left).long().clamp(0, width - box_w)
    origin_y = torch.floor(centres[:, 1] - top).long().clamp(0, height - box_h)
    sub = (torch.arange(box_w * _SUPERSAMPLE, dtype=torch.float64) + 0.5) / _SUPERSAMPLE
    sub_y = (torch.arange(box_h * _SUPERSAMPLE, dtype=torch.float64) + 0.5) / _SUPERSAMPLE
    dx = (origin_x[:, None] + sub[None, :] - centres[:, 0, None])[:, None, :]
    dy = (origin_y[:, None] + sub_y[None, :] - centres[:, 1, None])[:, :, None]
    inside = _inside(obj.shape, obj.size, dx, dy).to(torch.float32)
    frames = centres.shape[0]
    coverage = inside.reshape(frames, box_h, _SUPERSAMPLE, box_w, _SUPERSAMPLE).mean(dim=(2, 4))
    return coverage, torch.stack([origin_x, origin_y], dim=-1)


def render_video(seed: int, params: Any, positions: torch.Tensor, scales: torch.Tensor | None = None) -> torch.Tensor:
    """Frames ``(F, 3, H, W)`` float32 in ``[0, 1]``: background colour + texture, objects composited on top.

    ``positions`` ``(F, N, 2)``: the objects' on-screen centres; ``scales`` ``(F,)``: their on-screen size
    factor (a dolly's subject scale; None: 1).
    """
    texture = _render_texture(seed, params).to(torch.float32)
    colour = torch.tensor(BACKGROUNDS[params.background], dtype=torch.float32)
    video = (colour[None, :, None, None] + texture[:, None]).contiguous()
    for index, obj in enumerate(params.objects):
        paint = torch.tensor(COLOURS[obj.colour], dtype=torch.float32)[:, None, None]
        if scales is None:
            pieces = [(0, *_coverage(obj, positions[:, index], params.height, params.width))]
        else:  # a size per frame: one window per frame
            pieces = [
                (frame, *_coverage(dataclasses.replace(obj, size=obj.size * float(scale)),
                                   positions[frame : frame + 1, index], params.height, params.width))
                for frame, scale in enumerate(scales.tolist())
            ]
        for first, coverage, origin in pieces:
            box_h, box_w = coverage.shape[1:]
            for frame, ((x0, y0), alpha) in enumerate(zip(origin.tolist(), coverage, strict=True), start=first):
                region = video[frame, :, y0 : y0 + box_h, x0 : x0 + box_w]
                region.mul_(1.0 - alpha).add_(paint * alpha)
    return video.clamp_(0.0, 1.0)
