"""Keyframe conditioning as LTX-Video 0.9.8: items at any frame, each with its own strength.

A condition at frame 0 replaces the first latent frames (lerp by strength); a condition at a later
frame becomes extra tokens appended in front of the video tokens, with positions shifted to its
frame and its own timestep ``1000 (1 - strength)``; those tokens are stripped before decoding.
A multi-frame clip at a later frame also overwrites the latent frames it covers beyond its first
``num_prefix_latent_frames`` (2) latent frames, as LTX-Video does.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from diffusers.utils.torch_utils import randn_tensor

__all__ = ["ConditioningItem", "ConditioningState", "KeyframeCondition", "latent_positions", "pack", "unpack"]


@dataclass(frozen=True)
class ConditioningItem:
    """LTX-Video's conditioning item: an image or clip placed at ``media_frame_number``.

    media_item: a PIL image, a list of PIL images, a path to an image or video file, or a tensor in
        LTX-Video's channels-first layout, (C, H, W), (C, F, H, W) or (N, C, F, H, W) (N: 1, or one per
        prompt), with values in [-1, 1]. (``image=``/``video=`` take diffusers' layouts instead:
        :mod:`ltx_video.conditioning.media`.)
    media_frame_number: the pixel frame where the media's first frame lands (>= 0).
    conditioning_strength: 1.0 holds the frames fixed; lower values let the model change them.
    """

    media_item: Any
    media_frame_number: int = 0
    conditioning_strength: float = 1.0

    def __post_init__(self):
        frame = self.media_frame_number
        if isinstance(frame, torch.Tensor) and frame.ndim == 0 and not frame.is_floating_point() and frame.dtype != torch.bool:
            frame = int(frame)  # a 0-d integer tensor, as the pipelines take one
        if isinstance(frame, bool) or not isinstance(frame, numbers.Integral) or frame < 0:
            raise ValueError(f"`media_frame_number` must be an integer >= 0, got {frame!r}.")
        strength = self.conditioning_strength
        if (isinstance(strength, bool) or not isinstance(strength, numbers.Real)
                or not 0.0 <= strength <= 1.0):  # also refuses NaN
            raise ValueError(f"`conditioning_strength` must be a number in [0, 1], got {strength!r}.")
        if isinstance(self.media_item, (str, Path)) and not Path(self.media_item).exists():
            raise ValueError(f"`media_item` file not found: {self.media_item}")

    def __repr__(self) -> str:
        return (f"ConditioningItem(media_item={media_summary(self.media_item)}, media_frame_number="
                f"{self.media_frame_number}, conditioning_strength={self.conditioning_strength})")


def media_summary(media: Any) -> str:
    """A short description of a media argument for ``repr`` (a tensor or array by its shape and dtype, a list by
    its length): the dataclasses' own repr printed every pixel of a clip."""
    if hasattr(media, "shape") and hasattr(media, "dtype"):
        return f"{type(media).__name__}(shape={tuple(media.shape)}, dtype={media.dtype})"
    if isinstance(media, (list, tuple)):
        kinds = sorted({type(m).__name__ for m in media})
        return f"[{len(media)} x {'/'.join(kinds) or 'nothing'}]"
    return repr(media)


def pack(latents: torch.Tensor) -> torch.Tensor:
    """(B, C, F, H, W) -> (B, F*H*W, C), frame-major (patch size 1, as every LTX-Video checkpoint)."""
    return latents.flatten(2).transpose(1, 2)


def unpack(tokens: torch.Tensor, num_frames: int, height: int, width: int) -> torch.Tensor:
    """(B, F*H*W, C) -> (B, C, F, H, W)."""
    return tokens.transpose(1, 2).unflatten(2, (num_frames, height, width))


def latent_positions(
    batch_size: int,
    num_frames: int,
    height: int,
    width: int,
    *,
    temporal_scale: int = 8,
    spatial_scale: int = 32,
    frame_index: int = 0,
    causal: bool = True,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Pixel coordinates (B, 3, F*H*W) of each latent token's first pixel: (frame, y, x).

    With ``causal`` (LTX-Video's ``causal_temporal_positioning``), latent frame f covers pixel
    frames [8(f-1)+1, 8f], so its coordinate is ``max(0, 8f - 7)``; else ``8f``.
    """
    grid = torch.meshgrid(
        torch.arange(num_frames, device=device),
        torch.arange(height, device=device),
        torch.arange(width, device=device),
        indexing="ij",
    )
    coords = torch.stack(grid).flatten(1)
    coords = coords * torch.tensor([temporal_scale, spatial_scale, spatial_scale], device=device)[:, None]
    if causal:
        coords[0] = (coords[0] + 1 - temporal_scale).clamp(min=0)
    coords[0] += frame_index
    return coords.unsqueeze(0).repeat(batch_size, 1, 1)


@dataclass(frozen=True)
class ConditioningState:
    """Latents while conditions are applied, before packing.

    grid:            (B, C, F, H, W) the video latents (noise, partly replaced by conditions).
    grid_mask:       (B, F) conditioning strength of each latent frame of the grid.
    prefix:          (B, M, C) appended conditioning tokens (M = 0 when none).
    prefix_coords:   (B, 3, M) their pixel coordinates.
    prefix_mask:     (B, M) their strengths.
    """

    grid: torch.Tensor
    grid_mask: torch.Tensor
    prefix: torch.Tensor
    prefix_coords: torch.Tensor
    prefix_mask: torch.Tensor

    @classmethod
    def from_noise(cls, noise: torch.Tensor) -> ConditioningState:
        batch, channels = noise.shape[:2]
        return cls(
            grid=noise,
            grid_mask=noise.new_zeros(batch, noise.shape[2]),
            prefix=noise.new_zeros(batch, 0, channels),
            prefix_coords=torch.zeros(batch, 3, 0, dtype=torch.long, device=noise.device),
            prefix_mask=noise.new_zeros(batch, 0),
        )


@dataclass(frozen=True)
class KeyframeCondition:
    """Encoded media at a frame: ``latents`` (1 or B, C, f, h, w), normalised like the video latents."""

    latents: torch.Tensor
    frame_index: int
    strength: float
    num_pixel_frames: int
    temporal_scale: int = 8
    spatial_scale: int = 32
    num_prefix_latent_frames: int = 2
    causal: bool = True

    def apply_to(self, state: ConditioningState, generator: torch.Generator | None = None) -> ConditioningState:
        cond = self.latents.to(state.grid)
        if cond.shape[-2:] != state.grid.shape[-2:]:
            raise ValueError(
                f"conditioning latents are {tuple(cond.shape[-2:])} spatially but the video's are "
                f"{tuple(state.grid.shape[-2:])}: the media must be resized to the video size before encoding."
            )
        grid, grid_mask = state.grid.clone(), state.grid_mask.clone()
        num_cond = cond.shape[2]
        if self.frame_index == 0:
            grid[:, :, :num_cond] = torch.lerp(grid[:, :, :num_cond], cond, self.strength)
            grid_mask[:, :num_cond] = self.strength
            return replace(state, grid=grid, grid_mask=grid_mask)

        if self.num_pixel_frames > 1:
            if num_cond < self.num_prefix_latent_frames:
                raise ValueError(
                    f"a clip placed after frame 0 must span at least {self.num_prefix_latent_frames} latent "
                    f"frames ({8 * (self.num_prefix_latent_frames - 1) + 1} pixel frames), got {self.num_pixel_frames}."
                )
            if num_cond > self.num_prefix_latent_frames:
                start = self.frame_index // self.temporal_scale + self.num_prefix_latent_frames
                end = start + num_cond - self.num_prefix_latent_frames
                grid[:, :, start:end] = torch.lerp(
                    grid[:, :, start:end], cond[:, :, self.num_prefix_latent_frames :], self.strength
                )
                grid_mask[:, start:end] = self.strength
                cond = cond[:, :, : self.num_prefix_latent_frames]

        noise = randn_tensor(cond.shape, generator=generator, device=cond.device, dtype=cond.dtype)
        cond = torch.lerp(noise, cond, self.strength)
        batch = grid.shape[0]
        coords = latent_positions(
            batch,
            cond.shape[2],
            cond.shape[3],
            cond.shape[4],
            temporal_scale=self.temporal_scale,
            spatial_scale=self.spatial_scale,
            frame_index=self.frame_index,
            causal=self.causal,
            device=cond.device,
        )
        tokens = pack(cond).expand(batch, -1, -1)
        mask = tokens.new_full(tokens.shape[:2], self.strength)
        return replace(
            state,
            grid=grid,
            grid_mask=grid_mask,
            prefix=torch.cat([state.prefix, tokens], dim=1),
            prefix_coords=torch.cat([state.prefix_coords, coords], dim=2),
            prefix_mask=torch.cat([state.prefix_mask, mask], dim=1),
        )
