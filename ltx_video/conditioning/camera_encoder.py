"""The learned camera path: :class:`CameraMotionEncoder`, per-token motion features of a
:class:`~ltx_video.conditioning.camera_controller.MotionField` turned into embeddings added to the video tokens
through a zero-initialised gate (trained by ``scripts/train.py``'s ``camera`` stage; docs/control.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

if TYPE_CHECKING:  # an annotation only: camera_controller imports this module (a cycle when this one is first)
    from ltx_video.conditioning.camera_controller import MotionField


__all__ = ["CameraMotionEncoder"]


class CameraMotionEncoder(ModelMixin, ConfigMixin):
    """The learned path: per-token motion features -> embeddings added to the video tokens through a gate.

    Features per latent cell: the two layers' displacements to the next latent frame, in latent cells
    (4 numbers), and the layers' log scales (2). An MLP maps them to the transformer width; ``gate`` (one
    per channel) starts at zero, so an untrained encoder leaves the model's output unchanged. Saved and loaded
    as a diffusers model (a ``camera_encoder/`` folder beside a pipeline's components).

    ``warp_context=True`` adds motion-compensated context, as video restoration networks warp their
    neighbours' features along the flow: each token also receives ``context_gate * Linear([prev, next])``,
    where ``prev`` is the previous latent frame's projected tokens sampled (bilinearly) where the
    background's motion says its content came from (its affine step inverted exactly from the features' displacement
    and log scale), and ``next`` the next frame's where it goes. A model
    trained on a static camera pools each cell with the same cell of the other frames; with a moving camera
    the warped neighbours are what it should pool with instead. ``context_gate`` starts at zero too.

    ``warp_noise`` (and ``warp_fresh``) record that the encoder was trained on noise warped along the camera
    (:mod:`~ltx_video.conditioning.noise_warp`): a pipeline with it then starts a camera call from the same noise
    unless the call's :class:`CameraController` says otherwise. ``world_positions`` records whether it was trained
    with the tokens in world coordinates (a call then uses them unless told otherwise), and ``camera_phrase``
    whether the prompts kept their camera phrase ("..., the camera pans left"): a pipeline with it then puts the
    camera's phrase in the prompt (:func:`prompt_with_camera`), and ``camera_pace`` whether that phrase also said
    the pace (``"... pans left slowly"``, :func:`~ltx_video.conditioning.motions.pace_word`). None of them adds weights.

    ``feature_scale`` (one number per feature; None: 1) multiplies the features before the MLP. A camera's
    features are small (a pan of 1 px per frame moves 0.25 latent cells per latent frame at 64 px, a zoom of 1 % per
    frame has a log scale of 0.04 per latent frame), so at the MLP's initial weights every motion, zooms above all,
    gives nearly the same embedding as a static camera; ``[4, 4, 4, 4, 25, 25]`` brings them to about 1.
    """

    @register_to_config
    def __init__(self, inner_dim: int, hidden: int = 64, features: int = 6, warp_context: bool = False,
                 warp_noise: bool = False, warp_fresh: float = 0.0, world_positions: bool = True,
                 camera_phrase: bool = False, camera_pace: bool = False, feature_scale: list[float] | None = None):
        super().__init__()
        self.features = features
        if feature_scale is not None and len(feature_scale) != features:
            raise ValueError(f"feature_scale must hold {features} numbers (one per feature), got {feature_scale!r}")
        scale = torch.tensor(feature_scale if feature_scale is not None else [1.0] * features, dtype=torch.float32)
        self.register_buffer("scales", scale, persistent=False)
        self.mlp = nn.Sequential(nn.Linear(features, hidden), nn.SiLU(), nn.Linear(hidden, inner_dim))
        self.gate = nn.Parameter(torch.zeros(inner_dim))
        if warp_context:
            self.context = nn.Linear(2 * inner_dim, inner_dim)
            self.context_gate = nn.Parameter(torch.zeros(inner_dim))

    def warped_context(self, tokens: torch.Tensor, features: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
        """``context_gate * Linear([prev, next])`` for video tokens (B, F'*h*w, D) with features (B|1, F'*h*w, 6)."""
        frames, height, width = grid
        batch, _, dim = tokens.shape
        video = tokens.reshape(batch, frames, height, width, dim).permute(0, 1, 4, 2, 3)  # (B, F', D, h, w)
        features = features if features.dim() == 3 else features[None]
        # the sampling positions in float32 whatever the tokens' dtype: in bf16 a 68 x 120 grid's cells are off by up
        # to 0.4, more than the sub-cell motion they carry
        move = features[..., 2:4].float().expand(batch, -1, -1).reshape(batch, frames, height, width, 2)
        # the background's step is affine, p -> p + d(p) with d(p) = (s - 1)(p - c) + t, so the cell whose content
        # lands on p is exactly p - d(p) / s (p - d(p), first order, mirrors a zoom of 10 % per frame)
        scale = features[..., 5:6].float().exp().expand(batch, -1, -1).reshape(batch, frames, height, width, 1)
        came_from = move / scale
        ys, xs = torch.meshgrid(torch.arange(height, device=tokens.device, dtype=torch.float32),
                                torch.arange(width, device=tokens.device, dtype=torch.float32), indexing="ij")
        cells = torch.stack([xs, ys], dim=-1)  # (h, w, 2) as (x, y)

        def sample(source: torch.Tensor, at: torch.Tensor) -> torch.Tensor:  # (B, D, h, w) at cells (B, h, w, 2)
            size = torch.tensor([width, height], device=at.device, dtype=torch.float32)
            grid = (at + 0.5) / size * 2 - 1
            return F.grid_sample(source.float(), grid, mode="bilinear", padding_mode="zeros",
                                 align_corners=False).to(source.dtype)

        zero = torch.zeros_like(video[:, 0])
        prev = [zero] + [sample(video[:, k - 1], cells - came_from[:, k - 1]) for k in range(1, frames)]
        nxt = [sample(video[:, k + 1], cells + move[:, k]) for k in range(frames - 1)] + [zero]
        both = torch.cat([torch.stack(prev, 1), torch.stack(nxt, 1)], dim=2)  # (B, F', 2D, h, w)
        both = both.permute(0, 1, 3, 4, 2).reshape(batch, -1, 2 * dim)
        return self.context_gate * self.context(both)

    @staticmethod
    def token_features(field: MotionField, num_latent_frames: int, grid_height: int, grid_width: int) -> torch.Tensor:
        """(F' * h * w, 6) features, frame-major like the packed video tokens; the last frame repeats the
        previous step's motion (its own next step does not exist)."""
        cells = torch.tensor([field.width / grid_width, field.height / grid_height])
        layers = [field.displacement(grid_height, grid_width, depth=torch.full((grid_height, grid_width), w))
                  for w in (1.0, 0.0)]  # subject, background: (S, 2, h, w) px
        moves = torch.cat([layer / cells[None, :, None, None] for layer in layers], dim=1)  # (S, 4, h, w)
        scales = field.scale.log()[:, :, None, None].expand(-1, -1, grid_height, grid_width)
        per_step = torch.cat([moves, scales], dim=1)  # (S, 6, h, w)
        per_frame = torch.cat([per_step, per_step[-1:]], dim=0)[:num_latent_frames]
        return per_frame.permute(0, 2, 3, 1).reshape(-1, per_step.shape[1])

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.gate * self.mlp(features * self.scales.to(features))

    def attach(self, transformer: nn.Module, inputs):
        """Add the embeddings to the video tokens after ``transformer.proj_in``; returns the hook's handle.

        ``inputs()`` gives, per call, None (no motion) or ``(features, keep, prefix, grid)``: features (N, 6)
        or (B, N, 6), ``keep`` None or (B,) (0 leaves a sample without motion), ``prefix`` the leading
        conditioning tokens left alone and ``grid`` the latent grid (F', h, w) (the warped context needs it).
        Inference and the ``camera`` training stage both use it.
        """

        def add_motion(module, args, output):
            given = inputs()
            if given is None:
                return output
            features, keep, prefix, grid = given
            embedding = self(features.to(output.dtype))
            if self.config.warp_context:
                embedding = embedding + self.warped_context(output[:, prefix:], features.to(output.dtype), grid)
            if keep is not None:
                embedding = embedding * keep[:, None, None].to(output.dtype)
            return torch.cat([output[:, :prefix], output[:, prefix:] + embedding], dim=1)

        return transformer.proj_in.register_forward_hook(add_motion)
