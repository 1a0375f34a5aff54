"""HierarchicalVAE: the 4K video autoencoder (128 latent channels, 64x spatial, 8x temporal compression).

Read top to bottom: Haar wavelet and space-to-depth maths (pure functions) -> layers (conv, norm, residual
block, neighbourhood context) -> down/up sampling -> adaptive patch embedding -> encoder, decoder -> model.

A drop-in for diffusers' ``AutoencoderKLLTXVideo`` in the pipelines: ``encode(x).latent_dist`` (a diffusers
``DiagonalGaussianDistribution``), ``decode(z, temb=None)``, ``spatial_compression_ratio``,
``temporal_compression_ratio``, ``config.latent_channels`` / ``scaling_factor`` / ``timestep_conditioning``
(always False) and the persistent ``latents_mean`` / ``latents_std`` buffers.

Shapes: video (B, 3, 1 + r k, H, W) in [-1, 1] <-> latents (B, latent_channels, 1 + k, H / s, W / s), with
r = ``temporal_compression`` (a power of two, default 8) and s = ``spatial_compression`` (64, or 32 for the
same family without level 2); H and W must be multiples of s. Time follows LTX-Video's causal convention:
latent frame 0 is pixel frame 0 alone and latent frame i > 0 covers pixel frames [r (i - 1) + 1, r i]. Each
temporal 2x step pads the first frame once in front before a stride-2 space-to-depth (encoder) and drops the
first frame after its depth-to-space (decoder). With ``encoder_causal=True`` (the default) every encoder
layer is causal in time (per-frame spatial work, time convolutions padded with the first frame), so latent
frame i depends on pixel frames <= r i only.

Encoder, per the specification's "Hierarchical VAE Architecture":

1. Stem: patch embedding of ``patch_size`` x ``patch_size`` pixels (adaptive, item 4), then stages of
   residual 3D-conv blocks, each ending in a spatial 2x space-to-depth + pointwise conv (the first log2(r)
   also halve time) until 32x; the last of these is "level 1 spatial 2x".
2. Level 2 (``spatial_compression=64``, the 64x spatial token mode): spatial 2x by an orthonormal Haar
   split of each channel into LL, LH, HL, HH subbands, scaled by learnable per-subband fusion weights (init
   1) and fused by a pointwise conv; the decoder mirrors it (conv to 4 subbands, its own fusion weights,
   inverse Haar). ``use_wavelet=False``: a plain pixel-unshuffle / pixel-shuffle there instead. Haar is an
   orthonormal change of basis of each 2 x 2 block, so what the switch adds is the per-subband weighting
   (and the initial conv's different statistics), not capacity the linear conv lacked.
3. Neighbourhood-aware context (after LeanVAE's neighbourhood-aware feed-forward, Cheng & Yuan 2025,
   arXiv 2503.14325): a residual feed-forward with a depthwise 3 x 3 spatial conv between its two pointwise
   layers, at the latent resolution in encoder and decoder; its output layer is zero-initialised, so it
   starts as the identity. ``use_context=False`` removes it.
4. Adaptive patch sizes: a fine embedding (``patch_size``) and a coarse one (2 x ``patch_size``: the fine
   embedding's shape on a 2x average-pooled input, repeated back to the fine grid) blended per patch by a
   gate from the input's local gradient magnitude (detail -> fine, uniform -> coarse) with a learnable
   threshold and sharpness (:meth:`HierarchicalVAE.patch_gate`). ``use_adaptive_patches=False``: fine only.
5. Every down/up step has DC-AE's parameter-free shortcut (space-to-depth then channel averaging; channel
   repetition then depth-to-space; Chen et al. 2024), so the deep 64x path starts close to a plain
   rearrangement of pixels.
6. The encoder ends in 2 x latent_channels (mean, log-variance) -> ``DiagonalGaussianDistribution``.

Parameter budget: the default config (``block_out_channels=(128, 256, 512, 512)``, two residual blocks per
stage) has 204.1 M parameters (encoder 102.9 M, decoder 101.3 M), about half of LTX-Video's VAE (diffusers'
``AutoencoderKLLTXVideo()`` defaults: 419.2 M). Almost all of it is the 3 x 3 x 3 residual convs at 512
channels; the down/up steps are pointwise. The same family at 32x (``spatial_compression=32``) has 145.4 M
with the same widths; ``spatial_compression=32, layers_per_block=3`` has 210.9 M, the parameter-matched 32x
baseline for ablations.
"""

from __future__ import annotations

import logging
import math
import numbers
import operator

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.autoencoders.vae import DecoderOutput, DiagonalGaussianDistribution
from diffusers.models.modeling_outputs import AutoencoderKLOutput
from diffusers.models.modeling_utils import ModelMixin
from diffusers.utils.accelerate_utils import apply_forward_hook
from einops import rearrange
from torch import nn

__all__ = ["HierarchicalVAE", "haar_dwt2d", "haar_idwt2d"]

logger = logging.getLogger(__name__)

# The gate's initial threshold on the mean absolute pixel difference (inputs in [-1, 1]) and its sharpness:
# a flat patch (0) gives sigmoid(-4) = 0.02 (coarse), a patch with 0.08 mean difference 0.98 (fine).
GATE_THRESHOLD = 0.04
GATE_SHARPNESS = 100.0


# ----------------------------------------------------------------------------- pure functions
def haar_dwt2d(x: torch.Tensor) -> torch.Tensor:
    """One-level orthonormal 2D Haar transform of the last two dims: (..., H, W) -> (..., 4, H/2, W/2).

    Subbands in order LL (average), LH (detail across columns), HL (detail across rows), HH (diagonal);
    orthonormal, so energy is preserved (Parseval) and :func:`haar_idwt2d` inverts it.
    """
    if x.ndim < 2 or x.shape[-1] % 2 or x.shape[-2] % 2:
        raise ValueError(f"haar_dwt2d: `x` must be (..., H, W) with even H and W, got shape {tuple(x.shape)}")
    a, b = x[..., 0::2, 0::2], x[..., 0::2, 1::2]
    c, d = x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    return torch.stack(((a + b + c + d) / 2, (a - b + c - d) / 2, (a + b - c - d) / 2, (a - b - c + d) / 2), dim=-3)


def haar_idwt2d(bands: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`haar_dwt2d`: (..., 4, H/2, W/2) -> (..., H, W)."""
    if bands.ndim < 3 or bands.shape[-3] != 4:
        raise ValueError(f"haar_idwt2d: `bands` must be (..., 4, H/2, W/2), got {tuple(bands.shape)}")
    ll, lh, hl, hh = bands.unbind(dim=-3)
    a, b = (ll + lh + hl + hh) / 2, (ll - lh + hl - hh) / 2
    c, d = (ll + lh - hl - hh) / 2, (ll - lh - hl + hh) / 2
    rows = torch.stack((torch.stack((a, b), dim=-1), torch.stack((c, d), dim=-1)), dim=-3)  # (..., h, 2, w, 2)
    return rows.flatten(-4, -3).flatten(-2, -1)


def space_to_depth(x: torch.Tensor, ft: int, fs: int) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, C ft fs fs, T / ft, H / fs, W / fs); no first-frame padding here."""
    return rearrange(x, "b c (t ft) (h fh) (w fw) -> b (c ft fh fw) t h w", ft=ft, fh=fs, fw=fs)


def depth_to_space(x: torch.Tensor, ft: int, fs: int) -> torch.Tensor:
    """Inverse of :func:`space_to_depth`."""
    return rearrange(x, "b (c ft fh fw) t h w -> b c (t ft) (h fh) (w fw)", ft=ft, fh=fs, fw=fs)


def pad_first_frame(x: torch.Tensor, count: int) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, C, T + count, H, W): the first frame repeated ``count`` times in front (LTX)."""
    return torch.cat([x[:, :, :1].expand(-1, -1, count, -1, -1), x], dim=2) if count else x


# ----------------------------------------------------------------------------- layers
class CausalConv3d(nn.Module):
    """3D conv, zero-padded in space; in time padded with the first frame (causal) or the edge frames."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, *, causal: bool):
        super().__init__()
        self.kernel_size, self.causal = kernel_size, causal
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size, padding=(0, kernel_size // 2, kernel_size // 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, H, W) -> (B, C_out, T, H, W)."""
        if self.causal:
            x = pad_first_frame(x, self.kernel_size - 1)
        else:
            half = self.kernel_size // 2
            x = torch.cat([x[:, :, :1]] * half + [x] + [x[:, :, -1:]] * half, dim=2)
        return self.conv(x)


def channel_rms_norm(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Per-position RMS norm over channels (LTX's pixel norm): never mixes frames, so causality holds."""
    return x * torch.rsqrt(x.float().square().mean(dim=1, keepdim=True) + eps).to(x.dtype)


class ResBlock3d(nn.Module):
    """x + conv(silu(norm(conv(silu(norm(x)))))); (B, C, T, H, W) -> same."""

    def __init__(self, channels: int, *, causal: bool):
        super().__init__()
        self.conv1 = CausalConv3d(channels, channels, causal=causal)
        self.conv2 = CausalConv3d(channels, channels, causal=causal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(channel_rms_norm(x)))
        return x + self.conv2(F.silu(channel_rms_norm(h)))


class NeighbourhoodContext(nn.Module):
    """Neighbourhood-aware feed-forward (after LeanVAE's NAF): x + W_out gelu(dw3x3(W_in norm(x))).

    The depthwise 3 x 3 conv lets each latent position see its 8 spatial neighbours (per frame), which the
    LeanVAE paper uses against blocking artefacts between independently compressed patches. ``proj_out`` is
    zero-initialised: the block is the identity until trained.
    """

    def __init__(self, channels: int, *, expansion: int = 2):
        super().__init__()
        hidden = channels * expansion
        self.proj_in = nn.Conv3d(channels, hidden, 1)
        self.neighbourhood = nn.Conv3d(hidden, hidden, (1, 3, 3), padding=(0, 1, 1), groups=hidden)
        self.proj_out = nn.Conv3d(hidden, channels, 1)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, h, w) -> same."""
        return x + self.proj_out(F.gelu(self.neighbourhood(self.proj_in(channel_rms_norm(x)))))


# ----------------------------------------------------------------------------- down / up sampling
class Downsample(nn.Module):
    """Spatial 2x (and temporal 2x when ``temporal``): split, pointwise fusion conv, plus a channel-averaging
    shortcut (the residual blocks around it do the neighbourhood mixing; a 3 x 3 x 3 conv on the 8x wider split
    would cost 27x the parameters).

    The split is a space-to-depth, or with ``wavelet`` the Haar subbands of each channel scaled by learnable
    per-subband fusion weights (init 1). (B, C_in, T, H, W) -> (B, C_out, T', H/2, W/2), T' = (T - 1) / 2 + 1
    when temporal (first frame padded once in front), else T.
    """

    def __init__(self, in_channels: int, out_channels: int, *, temporal: bool, wavelet: bool):
        super().__init__()
        self.ft = 2 if temporal else 1
        split = in_channels * 4 * self.ft
        if split % out_channels:
            raise ValueError(f"a down step from {in_channels} to {out_channels} channels needs {split} (channels x 2x2"
                             f"{'x2' if temporal else ''} split) to be a multiple of {out_channels}")
        self.group = split // out_channels
        self.conv = nn.Conv3d(split, out_channels, 1)
        self.fusion_weights = nn.Parameter(torch.ones(4)) if wavelet else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pad_first_frame(x, self.ft - 1)
        pixels = space_to_depth(x, self.ft, 2)
        if self.fusion_weights is None:
            split = pixels
        else:
            bands = haar_dwt2d(x) * self.fusion_weights[:, None, None].to(x.dtype)  # (B, C, T, 4, H/2, W/2)
            split = rearrange(bands, "b c (t ft) s h w -> b (c ft s) t h w", ft=self.ft)
        shortcut = rearrange(pixels, "b (c g) t h w -> b c g t h w", g=self.group).mean(dim=2)
        return self.conv(split) + shortcut


class Upsample(nn.Module):
    """Mirror of :class:`Downsample`: pointwise conv to the split, then depth-to-space or fusion-weighted inverse
    Haar, plus a channel-repeating shortcut; the first frame of each temporal 2x step is dropped.
    (B, C_in, T, h, w) -> (B, C_out, T', 2h, 2w), T' = 2 (T - 1) + 1 when temporal, else T."""

    def __init__(self, in_channels: int, out_channels: int, *, temporal: bool, wavelet: bool):
        super().__init__()
        self.ft = 2 if temporal else 1
        split = out_channels * 4 * self.ft
        if split % in_channels:
            raise ValueError(f"an up step from {in_channels} to {out_channels} channels needs {split} to be a "
                             f"multiple of {in_channels}")
        self.repeats = split // in_channels
        self.conv = nn.Conv3d(in_channels, split, 1)
        self.fusion_weights = nn.Parameter(torch.ones(4)) if wavelet else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        split = self.conv(x)
        if self.fusion_weights is None:
            h = depth_to_space(split, self.ft, 2)
        else:
            bands = rearrange(split, "b (c ft s) t h w -> b c (t ft) s h w", ft=self.ft, s=4)
            h = haar_idwt2d(bands * self.fusion_weights[:, None, None].to(x.dtype))
        h = h + depth_to_space(x.repeat_interleave(self.repeats, dim=1), self.ft, 2)
        return h[:, :, self.ft - 1 :]


# ----------------------------------------------------------------------------- adaptive patches
class AdaptivePatchEmbed(nn.Module):
    """Fine (p x p) and coarse (2p x 2p) patch embeddings blended by a gradient-magnitude gate.

    (B, C, T, H, W) -> (B, D, T, H/p, W/p). Linear embeddings of the pixel-unshuffled frames; the coarse one
    embeds a 2x average-pooled frame (one token per 2p x 2p pixels) and is repeated onto the fine grid.
    """

    def __init__(self, in_channels: int, out_channels: int, patch_size: int, *, adaptive: bool):
        super().__init__()
        self.patch_size = patch_size
        self.fine = nn.Conv3d(in_channels * patch_size**2, out_channels, 1)
        self.coarse = nn.Conv3d(in_channels * patch_size**2, out_channels, 1) if adaptive else None
        if adaptive:
            self.gate_threshold = nn.Parameter(torch.tensor(GATE_THRESHOLD))
            self.gate_log_sharpness = nn.Parameter(torch.tensor(math.log(GATE_SHARPNESS)))

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, 1, T, H/p, W/p) in (0, 1): 1 = fine patches, 0 = coarse; ones if not adaptive.

        Detail is the mean absolute horizontal + vertical pixel difference in each patch, dilated over the
        3 x 3 neighbouring patches (a coarse token spans 2 x 2 fine ones, so edges next to a patch count).
        """
        p = self.patch_size
        if self.coarse is None:
            return x.new_ones(x.shape[0], 1, x.shape[2], x.shape[3] // p, x.shape[4] // p)
        dx = F.pad((x[..., :, 1:] - x[..., :, :-1]).abs(), (0, 1))
        dy = F.pad((x[..., 1:, :] - x[..., :-1, :]).abs(), (0, 0, 0, 1))
        detail = _avg_pool_hw((dx + dy).mean(dim=1, keepdim=True), p)
        detail = F.max_pool3d(detail, (1, 3, 3), stride=1, padding=(0, 1, 1))
        return torch.sigmoid(self.gate_log_sharpness.exp() * (detail - self.gate_threshold))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fine = self.fine(space_to_depth(x, 1, self.patch_size))
        if self.coarse is None:
            return fine
        coarse = self.coarse(space_to_depth(_avg_pool_hw(x, 2), 1, self.patch_size))
        coarse = coarse.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
        gate = self.gate(x).to(fine.dtype)
        return gate * fine + (1 - gate) * coarse


def _avg_pool_hw(x: torch.Tensor, size: int) -> torch.Tensor:
    """``F.avg_pool3d(x, (1, size, size))``; in float32 for half precision on the CPU, which has no such kernel."""
    if x.device.type == "cpu" and x.dtype in (torch.float16, torch.bfloat16):
        return F.avg_pool3d(x.float(), (1, size, size)).to(x.dtype)
    return F.avg_pool3d(x, (1, size, size))


# ----------------------------------------------------------------------------- encoder / decoder
class HierarchicalEncoder(nn.Module):
    """(B, 3, 1 + r k, H, W) -> (B, 2 latent_channels, 1 + k, H / s, W / s): mean and log-variance."""

    def __init__(self, *, in_channels: int, latent_channels: int, block_out_channels: tuple[int, ...],
                 layers_per_block: int, patch_size: int, temporal_steps: int, level2: bool, use_wavelet: bool,
                 use_context: bool, use_adaptive_patches: bool, causal: bool):
        super().__init__()
        widths = tuple(block_out_channels)
        self.patch_embed = AdaptivePatchEmbed(in_channels, widths[0], patch_size, adaptive=use_adaptive_patches)
        self.down_blocks = nn.ModuleList(
            nn.Sequential(*[ResBlock3d(c_in, causal=causal) for _ in range(layers_per_block)],
                          Downsample(c_in, c_out, temporal=i < temporal_steps, wavelet=False))
            for i, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:], strict=True))
        )
        c = widths[-1]
        self.level2 = nn.Sequential(
            *[ResBlock3d(c, causal=causal) for _ in range(layers_per_block)],
            Downsample(c, c, temporal=False, wavelet=use_wavelet),
        ) if level2 else None
        self.mid = nn.Sequential(*[ResBlock3d(c, causal=causal) for _ in range(layers_per_block)])
        self.context = NeighbourhoodContext(c) if use_context else None
        self.conv_out = CausalConv3d(c, 2 * latent_channels, causal=causal)
        self.gradient_checkpointing = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.patch_embed(x)
        stages = [*self.down_blocks, self.level2, self.mid, self.context]
        for stage in (s for s in stages if s is not None):
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                h = self._gradient_checkpointing_func(stage, h)
            else:
                h = stage(h)
        return self.conv_out(F.silu(channel_rms_norm(h)))


class HierarchicalDecoder(nn.Module):
    """(B, latent_channels, 1 + k, H / s, W / s) -> (B, 3, 1 + r k, H, W); mirrors the encoder."""

    def __init__(self, *, out_channels: int, latent_channels: int, block_out_channels: tuple[int, ...],
                 layers_per_block: int, patch_size: int, temporal_steps: int, level2: bool, use_wavelet: bool,
                 use_context: bool, causal: bool):
        super().__init__()
        widths = tuple(block_out_channels)
        c = widths[-1]
        self.patch_size = patch_size
        self.conv_in = CausalConv3d(latent_channels, c, causal=causal)
        self.context = NeighbourhoodContext(c) if use_context else None
        self.mid = nn.Sequential(*[ResBlock3d(c, causal=causal) for _ in range(layers_per_block)])
        self.level2 = nn.Sequential(
            Upsample(c, c, temporal=False, wavelet=use_wavelet),
            *[ResBlock3d(c, causal=causal) for _ in range(layers_per_block)],
        ) if level2 else None
        pairs = list(enumerate(zip(widths[:-1], widths[1:], strict=True)))[::-1]
        self.up_blocks = nn.ModuleList(
            nn.Sequential(Upsample(c_in, c_out, temporal=i < temporal_steps, wavelet=False),
                          *[ResBlock3d(c_out, causal=causal) for _ in range(layers_per_block)])
            for i, (c_out, c_in) in pairs
        )
        self.conv_out = CausalConv3d(widths[0], out_channels * patch_size**2, causal=causal)
        self.gradient_checkpointing = False

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(z)
        for stage in (s for s in [self.context, self.mid, self.level2, *self.up_blocks] if s is not None):
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                h = self._gradient_checkpointing_func(stage, h)
            else:
                h = stage(h)
        return depth_to_space(self.conv_out(F.silu(channel_rms_norm(h))), 1, self.patch_size)


# ----------------------------------------------------------------------------- model
def _log2_exact(value: int, name: str) -> int:
    if not isinstance(value, int) or value < 1 or value & (value - 1):
        raise ValueError(f"{name} must be a power of two, got {value!r}")
    return value.bit_length() - 1


class HierarchicalVAE(ModelMixin, ConfigMixin):
    """The specification's 4K video VAE (see the module docstring); interface of ``AutoencoderKLLTXVideo``.

    Args:
        latent_channels: channels of the latent (the transformer's ``in_channels``).
        block_out_channels: widths of the stem and after each level-1 spatial 2x step, so
            ``len == 1 + log2(32 / patch_size)``; level 2 and the latent stages keep the last width.
        layers_per_block: residual blocks per stage.
        patch_size: the fine patch (a power of two <= 16); the coarse patch is twice it.
        spatial_compression: 64 (with the wavelet level 2) or 32 (without).
        temporal_compression: a power of two, at most ``2 ** (len(block_out_channels) - 1)``.
        use_wavelet, use_context, use_adaptive_patches: the ablation switches (module docstring, items 2-4).
        encoder_causal, decoder_causal: time padding of the encoder / decoder convolutions.
        scaling_factor: latent scaling as diffusers' VAEs (the pipelines divide by latents_std first).
        timestep_conditioning: must be False (the decoder takes no timestep); kept for the pipelines' check.
    """

    _supports_gradient_checkpointing = True

    @register_to_config
    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        latent_channels: int = 128,
        block_out_channels: tuple[int, ...] = (128, 256, 512, 512),
        layers_per_block: int = 2,
        patch_size: int = 4,
        spatial_compression: int = 64,
        temporal_compression: int = 8,
        use_wavelet: bool = True,
        use_context: bool = True,
        use_adaptive_patches: bool = True,
        encoder_causal: bool = True,
        decoder_causal: bool = False,
        scaling_factor: float = 1.0,
        timestep_conditioning: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("latent_channels", latent_channels), ("block_out_channels", block_out_channels)):
            values = value if name == "block_out_channels" else (value,)
            if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in values):
                raise ValueError(f"{name} must be {'integers' if values is value else 'an integer'} > 0, got {value!r}")
        if spatial_compression not in (32, 64):
            raise ValueError(f"spatial_compression must be 32 or 64, got {spatial_compression!r}")
        if not use_wavelet and spatial_compression == 32:  # a warning, not a refusal: saved folders must load
            logger.warning("use_wavelet=False changes nothing with spatial_compression=32: the wavelet is only in "
                           "the 64x level (spatial_compression=64)")
        if _log2_exact(patch_size, "patch_size") > 4:
            raise ValueError(f"patch_size must be at most 16 (the coarse patch must fit in 32), got {patch_size}")
        levels = 5 - _log2_exact(patch_size, "patch_size")
        if len(block_out_channels) != levels + 1:
            raise ValueError(f"block_out_channels needs 1 + log2(32 / patch_size) = {levels + 1} widths for "
                             f"patch_size={patch_size}, got {len(block_out_channels)}")
        temporal_steps = _log2_exact(temporal_compression, "temporal_compression")
        if temporal_steps > levels:
            raise ValueError(f"temporal_compression must be at most {2**levels} (one 2x step per level-1 stage) "
                             f"for patch_size={patch_size}, got {temporal_compression}")
        if not isinstance(layers_per_block, int) or layers_per_block < 0:
            raise ValueError(f"layers_per_block must be an integer >= 0, got {layers_per_block!r}")
        if timestep_conditioning:
            raise ValueError("HierarchicalVAE has no timestep-conditioned decoder: timestep_conditioning must be False")

        shared = dict(latent_channels=latent_channels, block_out_channels=tuple(block_out_channels),
                      layers_per_block=layers_per_block, patch_size=patch_size, temporal_steps=temporal_steps,
                      level2=spatial_compression == 64, use_wavelet=use_wavelet, use_context=use_context)
        self.encoder = HierarchicalEncoder(in_channels=in_channels, use_adaptive_patches=use_adaptive_patches,
                                           causal=encoder_causal, **shared)
        self.decoder = HierarchicalDecoder(out_channels=out_channels, causal=decoder_causal, **shared)
        self.register_buffer("latents_mean", torch.zeros(latent_channels), persistent=True)
        self.register_buffer("latents_std", torch.ones(latent_channels), persistent=True)
        self.spatial_compression_ratio = spatial_compression
        self.temporal_compression_ratio = temporal_compression
        self.tiling = None  # a TilingConfig once enable_tiling() is called
        self._encode_warned = False  # encode runs whole: said once per enable_tiling()
        self.use_slicing = False  # one video of a batch at a time (enable_slicing), as diffusers' VAEs

    def enable_tiling(self, tiling=None, **diffusers_tiles: int) -> None:
        """Decode one tile at a time (a :class:`~ltx_video.models.autoencoders.tiling.TilingConfig`, default
        ``TilingConfig()``, checked against this VAE's compression): the memory saver diffusers' video VAEs offer
        as ``enable_tiling()``, so ``pipe.vae.enable_tiling()`` works with either VAE. Unlike diffusers' it does not
        tile encoding (each latent sees 624 px beyond its cell, more than a tile: docs/4k.md); :meth:`encode` warns
        once for an input larger than a tile. diffusers' own keywords
        (``tile_sample_min_height`` / ``_width`` / ``_num_frames`` and ``tile_sample_stride_*``, as
        ``AutoencoderKLLTXVideo.enable_tiling`` takes them) are read as a ``TilingConfig``: square tiles of the
        minimum size, overlapping by minimum - stride, in pixels and in frames; a size not given keeps
        ``TilingConfig()``'s, a stride not given leaves its overlap (at most half the tile). Whole-number floats
        (diffusers types the strides ``float``) and numpy ints are taken; an error names the keyword given."""
        from ltx_video.models.autoencoders.tiling import TilingConfig, checked_tiling

        self._encode_warned = False
        if isinstance(tiling, (int, float)) and not isinstance(tiling, bool):  # diffusers' first positional
            raise ValueError(f"`tiling` must be a TilingConfig, got {tiling!r}; diffusers' tile sizes are keywords "
                             f"here: enable_tiling(tile_sample_min_height={tiling!r})")
        if not diffusers_tiles:
            self.tiling = checked_tiling(tiling, self.spatial_compression_ratio, self.temporal_compression_ratio)
            return
        try:
            ratios = (self.spatial_compression_ratio, self.spatial_compression_ratio, self.temporal_compression_ratio)
            tiling = _diffusers_tiling(tiling, diffusers_tiles, TilingConfig, ratios)
            self.tiling = checked_tiling(tiling, self.spatial_compression_ratio, self.temporal_compression_ratio)
        except ValueError as error:  # named as the user gave it
            given = ", ".join(f"{k}={v}" for k, v in diffusers_tiles.items())
            raise ValueError(f"enable_tiling({given}): {error}") from None

    def disable_tiling(self) -> None:
        self.tiling = None

    def enable_slicing(self) -> None:
        """Encode and decode a batch one video at a time, as diffusers' VAEs do after ``enable_slicing()``."""
        self.use_slicing = True

    def disable_slicing(self) -> None:
        self.use_slicing = False

    def _check_video(self, x: torch.Tensor, name: str) -> None:
        s, r, c = self.spatial_compression_ratio, self.temporal_compression_ratio, self.config.in_channels
        if x.ndim != 5 or x.shape[1] != c or (x.shape[2] - 1) % r or x.shape[3] % s or x.shape[4] % s:
            raise ValueError(f"`{name}` must be a video (B, in_channels={c}, {r}k + 1, H, W) with H and W multiples "
                             f"of {s}, got {tuple(x.shape)}")

    def _refuse_temb(self, temb: torch.Tensor | None) -> None:
        if temb is not None:
            raise ValueError("`temb` must be None: HierarchicalVAE's decoder takes no timestep (timestep_conditioning False)")

    def patch_gate(self, x: torch.Tensor) -> torch.Tensor:
        """Video (B, 3, T, H, W) -> the adaptive patch gate (B, 1, T, H/p, W/p): 1 = fine, 0 = coarse patches."""
        return self.encoder.patch_embed.gate(x)

    @apply_forward_hook  # enable_model_cpu_offload moves the VAE to the GPU here, as for diffusers' VAEs
    def encode(self, x: torch.Tensor, return_dict: bool = True) -> AutoencoderKLOutput | tuple:
        """Video (B, 3, 1 + r k, H, W) in [-1, 1] -> posterior over latents (B, latent_channels, 1 + k, H/s, W/s)."""
        self._check_video(x, "x")
        tile, (frames, height, width) = self.tiling, x.shape[2:]
        if tile and not self._encode_warned and (max(height, width) > tile.tile_size or frames > tile.tile_frames + 1):
            self._encode_warned = True
            logger.warning(f"enable_tiling() tiles decoding only: this {height} x {width} x {frames}-frame video is "
                           f"encoded whole, not in {tile.tile_size}-px tiles; encode memory grows with the frame")
        moments = torch.cat([self.encoder(v) for v in x.split(1)]) if self.use_slicing else self.encoder(x)
        posterior = DiagonalGaussianDistribution(moments)
        return AutoencoderKLOutput(latent_dist=posterior) if return_dict else (posterior,)

    @apply_forward_hook
    def decode(self, z: torch.Tensor, temb: torch.Tensor | None = None,
               return_dict: bool = True) -> DecoderOutput | tuple:
        """Latents (B, latent_channels, 1 + k, h, w) -> video (B, 3, 1 + r k, h s, w s); ``temb`` must be None."""
        self._refuse_temb(temb)
        if z.ndim != 5 or z.shape[1] != self.config.latent_channels:
            raise ValueError(f"expected latents (B, {self.config.latent_channels}, F, h, w), got {tuple(z.shape)}")
        if self.use_slicing and z.shape[0] > 1:
            sample = torch.cat([self._decode(v) for v in z.split(1)])
        else:
            sample = self._decode(z)
        return DecoderOutput(sample=sample) if return_dict else (sample,)

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        if self.tiling is None:
            return self.decoder(z)
        from ltx_video.models.autoencoders.tiling import tiled_decode

        return tiled_decode(self.decoder, z, self.tiling, spatial_ratio=self.spatial_compression_ratio,
                            temporal_ratio=self.temporal_compression_ratio).to(z.dtype)

    def forward(self, sample: torch.Tensor, temb: torch.Tensor | None = None, sample_posterior: bool = False,
                return_dict: bool = True, generator: torch.Generator | None = None) -> DecoderOutput | tuple:
        """Encode then decode ``sample`` (the posterior's mode, or a sample of it with ``sample_posterior``), in
        diffusers' ``AutoencoderKLLTXVideo.forward`` argument order; ``temb`` must be None, as for :meth:`decode`."""
        self._refuse_temb(temb)  # before the encode
        self._check_video(sample, "sample")
        posterior = self.encode(sample).latent_dist
        z = posterior.sample(generator=generator) if sample_posterior else posterior.mode()
        return self.decode(z, temb, return_dict=return_dict)


_DIFFUSERS_TILES = ("tile_sample_min_height", "tile_sample_min_width", "tile_sample_min_num_frames",
                    "tile_sample_stride_height", "tile_sample_stride_width", "tile_sample_stride_num_frames")


def _whole_number(name: str, value) -> int | None:
    """A diffusers tile keyword as an int: diffusers types the strides ``float | None`` and user code passes numpy
    ints; None and 0 mean "the default", as diffusers' ``value or default`` reads them."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, bool):
        try:
            return operator.index(value)  # int, numpy integers, 0-d integer tensors
        except TypeError:
            pass
    raise ValueError(f"{name} must be a whole number of pixels or frames (an int, or a float such as 448.0), got "
                     f"{value!r}")


def _diffusers_tiling(tiling, given: dict[str, int], config_class, ratios: tuple[int, int, int]):
    """diffusers' ``enable_tiling`` keywords as a ``TilingConfig`` (see ``HierarchicalVAE.enable_tiling``);
    a ValueError names the keyword the user gave, not the TilingConfig field it becomes."""
    unknown = sorted(set(given) - set(_DIFFUSERS_TILES))
    if unknown:
        raise TypeError(f"enable_tiling() got unexpected keyword argument(s) {unknown}; accepted: `tiling` or "
                        f"{list(_DIFFUSERS_TILES)}")
    if tiling is not None:
        raise ValueError("give `tiling` or diffusers' tile_sample_* keywords, not both")
    given = {name: _whole_number(name, value) for name, value in given.items()}
    for kind in ("min", "stride"):  # one side given: the tiles are square, the other side is the same
        height, width = f"tile_sample_{kind}_height", f"tile_sample_{kind}_width"
        if given.get(height) and given.get(width) and given[height] != given[width]:
            raise ValueError(f"{height}={given[height]} and {width}={given[width]} must be equal: HierarchicalVAE's "
                             "tiles are square")
    base, sizes = config_class(), []
    for sides, default_size, default_overlap, step, unit in (
        (("height", "width"), base.tile_size, base.tile_overlap, ratios[0], "spatial"),
        (("num_frames",), base.tile_frames, base.frame_overlap, ratios[2], "temporal"),
    ):
        # the keyword that set this axis (either side of a square tile), so that an error names it
        min_name = next((f"tile_sample_min_{a}" for a in sides if given.get(f"tile_sample_min_{a}")), None)
        stride_name = next((f"tile_sample_stride_{a}" for a in sides if given.get(f"tile_sample_stride_{a}")), None)
        size = given[min_name] if min_name else default_size
        if min_name and (size < 0 or size % step):
            raise ValueError(f"{min_name} must be a positive multiple of the VAE's {unit} compression {step}, got "
                             f"{size} (try {max(step, round(size / step) * step)})")
        if stride_name:
            stride = given[stride_name]
            if not 0 < stride <= size:  # diffusers would leave gaps between tiles
                tile = f"{min_name}={size}" if min_name else f"the default tile size {size}"
                raise ValueError(f"{stride_name} must be in (0, {tile}], got {stride}")
            if stride % step:
                raise ValueError(f"{stride_name} must be a multiple of the VAE's {unit} compression {step}, got "
                                 f"{stride}")
        else:  # the default overlap, at most half the tile and a whole number of the compression's steps
            stride = size - min(default_overlap, size // 2 // step * step)
        sizes += [size, size - stride]
    return config_class(tile_size=sizes[0], tile_overlap=sizes[1], tile_frames=sizes[2], frame_overlap=sizes[3])
