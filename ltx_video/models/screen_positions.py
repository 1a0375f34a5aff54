"""Where each video token sits on the screen, as features a transformer with rotary positions alone cannot see.

LTX-Video's 3D RoPE makes every attention score depend on the *difference* of two tokens' positions: the
transformer is blind to where on the screen a token is, except through the edges of the grid. A pan is the
same shift for every token, which relative positions express; a zoom moves each token away from the centre by
an amount proportional to its distance from it, which they do not. ``screen_position_features`` gives each
token its place in the frame, ``(u, v)`` in ``[-1, 1]`` (left/top edge to right/bottom edge of the token
grid, the centre at 0), as sines and cosines at ``count`` octaves; ``LTXAudioVideoTransformer3DModel``
(``screen_position_features=count``) projects them to its width through a zero-initialised linear layer added
to the video tokens after ``proj_in``, so a model gains it without changing its output until trained.
"""

from __future__ import annotations

import math

import torch


def screen_uv(coords: torch.Tensor) -> torch.Tensor:
    """(B, N, 2) ``(u, v)`` in [-1, 1] from pixel coordinates (B, 3, N) ``(t, y, x)``: each sample's spatial
    extent over its tokens maps to [-1, 1] (a grid one token wide or high reads 0 on that axis)."""
    yx = coords[:, 1:].float()
    low, high = yx.amin(dim=2, keepdim=True), yx.amax(dim=2, keepdim=True)
    span = (high - low).clamp(min=1e-6)
    uv = torch.where(high > low, (yx - low) / span * 2 - 1, torch.zeros_like(yx))
    return uv.flip(1).transpose(1, 2)  # (B, N, 2) as (u = x, v = y)


def screen_position_features(coords: torch.Tensor, count: int) -> torch.Tensor:
    """(B, N, 4 * count): ``sin`` and ``cos`` of ``2^k * pi / 2 * (u, v)`` for ``k < count`` (the first octave
    is monotonic across the frame, so left and right, top and bottom differ in every feature pair)."""
    uv = screen_uv(coords)
    scales = (2.0 ** torch.arange(count, device=coords.device, dtype=torch.float32)) * (math.pi / 2)
    angles = (uv[..., None] * scales).flatten(2)  # (B, N, 2 * count)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def grid_coords(batch_size: int, num_frames: int, height: int, width: int, device=None) -> torch.Tensor:
    """(B, 3, F*H*W) token-grid coordinates (frame, row, column), frame-major, for calls without ``video_coords``."""
    grid = torch.meshgrid(torch.arange(num_frames, device=device), torch.arange(height, device=device),
                          torch.arange(width, device=device), indexing="ij")
    return torch.stack(grid).flatten(1).float().unsqueeze(0).expand(batch_size, -1, -1)
