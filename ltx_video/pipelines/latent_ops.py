"""Pure operations on (B, C, F, H, W) video latents: normalisation, AdaIN, tone mapping, padding."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Padding", "adain_filter_latent", "denormalize_latents", "normalize_latents", "tone_map_latents"]


def normalize_latents(latents: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, scaling_factor: float = 1.0):
    """VAE latents -> the transformer's normalised space, per channel (LTX-Video per_channel_statistics)."""
    mean = mean.view(1, -1, 1, 1, 1).to(latents)
    std = std.view(1, -1, 1, 1, 1).to(latents)
    return (latents - mean) * scaling_factor / std


def denormalize_latents(latents: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, scaling_factor: float = 1.0):
    """Inverse of :func:`normalize_latents`."""
    mean = mean.view(1, -1, 1, 1, 1).to(latents)
    std = std.view(1, -1, 1, 1, 1).to(latents)
    return latents * std / scaling_factor + mean


def adain_filter_latent(latents: torch.Tensor, reference: torch.Tensor, factor: float = 1.0) -> torch.Tensor:
    """Match each (sample, channel)'s mean and std over (F, H, W) to ``reference`` (Huang & Belongie 2017).

    ``factor`` blends between the input (0) and the fully matched latents (1), as LTX-Video 0.9.8.
    """
    if not 0.0 <= factor <= 1.0:
        raise ValueError(f"`adain_factor` must be in [0, 1], got {factor}.")
    dims = (2, 3, 4)
    std_in, mean_in = torch.std_mean(latents, dim=dims, keepdim=True)
    std_ref, mean_ref = torch.std_mean(reference, dim=dims, keepdim=True)
    matched = (latents - mean_in) / std_in * std_ref + mean_ref
    return torch.lerp(latents, matched, factor)


def tone_map_latents(latents: torch.Tensor, compression: float) -> torch.Tensor:
    """Softly compress large latent values before decoding (LTX-Video 0.9.8 ``tone_map_compression_ratio``).

    ``x * (1 - 0.8 s sigmoid(4 s (|x| - 1)))`` with ``s = 0.75 * compression``; 0 is the identity.
    """
    if not 0.0 <= compression <= 1.0:
        raise ValueError(f"`tone_map_compression_ratio` must be in [0, 1], got {compression}.")
    if compression == 0:
        return latents
    s = 0.75 * compression
    return latents * (1.0 - 0.8 * s * torch.sigmoid(4.0 * s * (latents.abs() - 1.0)))


@dataclass(frozen=True)
class Padding:
    """How a requested size is padded to what the model accepts, as LTX-Video's inference.py.

    Height and width are rounded up to multiples of 32 (padding split evenly, the extra pixel at
    the bottom/right); the frame count is rounded up to the next ``8k + 1``. Conditioning media are
    padded with 0 (mid-grey in [-1, 1]); the output is cropped back to the requested size.
    """

    height: int
    width: int
    num_frames: int
    spatial: int = 32
    temporal: int = 8

    @property
    def padded_height(self) -> int:
        return -(-self.height // self.spatial) * self.spatial

    @property
    def padded_width(self) -> int:
        return -(-self.width // self.spatial) * self.spatial

    @property
    def padded_num_frames(self) -> int:
        if self.num_frames <= 1:
            return 1
        return ((self.num_frames - 2) // self.temporal + 1) * self.temporal + 1

    @property
    def latent_size(self) -> tuple[int, int, int]:
        """(F', H', W') of the padded video's latents, F' = (F - 1) / 8 + 1."""
        return (
            (self.padded_num_frames - 1) // self.temporal + 1,
            self.padded_height // self.spatial,
            self.padded_width // self.spatial,
        )

    @property
    def pad(self) -> tuple[int, int, int, int]:
        """(left, right, top, bottom), the order of ``torch.nn.functional.pad``."""
        pad_h, pad_w = self.padded_height - self.height, self.padded_width - self.width
        return pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2

    @property
    def is_identity(self) -> bool:
        return (self.padded_height, self.padded_width, self.padded_num_frames) == (
            self.height, self.width, self.num_frames)

    def pad_media(self, media: torch.Tensor) -> torch.Tensor:
        """(..., H, W) media in [-1, 1] at the requested size -> padded size."""
        return torch.nn.functional.pad(media, self.pad, value=0.0)

    def crop(self, video: torch.Tensor) -> torch.Tensor:
        """(B, C, F, H, W) decoded video at the padded size -> the requested size."""
        left, _, top, _ = self.pad
        return video[:, :, : self.num_frames, top : top + self.height, left : left + self.width]
