"""Multi-keyframe conditioning: keyframes at chosen frames, smooth interpolation between them, and a gated
keyframe adapter.

Three parts, each usable alone:

1. **Injection.** Each :class:`Keyframe` becomes a condition of LTX-Video's token mechanism
   (:class:`~ltx_video.conditioning.items.KeyframeCondition`): at frame 0 it replaces the first latent
   frame, later it is appended as tokens with their own timestep ``1000 (1 - strength)``. So ``strength``
   behaves exactly as ``ConditioningItem``'s.
2. **Interpolation.** The latent frames from the first keyframe to the last start as the noise mixed,
   at ``interpolation_strength``, with the cubic-smoothstep interpolation of the keyframes' latents
   (``alpha = 3 a^2 - 2 a^3`` of the position ``a`` between two keyframes). In rectified flow a mix
   ``(1 - s) noise + s x0`` is the state at sigma ``1 - s``: the first steps start from a layout that already
   moves from one keyframe to the next. Frames a condition holds keep their value.
3. **Adapter.** :class:`KeyframeAdapter` adds ``gate * cross_attention(x, keyframe_tokens)`` to the output
   of chosen transformer blocks (forward hooks, so it works on diffusers' ``LTXVideoTransformer3DModel``
   and on ``LTXAudioVideoTransformer3DModel`` alike). The gates start at zero: an untrained adapter leaves
   the output unchanged.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import PIL.Image
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from ltx_video.conditioning.camera_controller import as_number
from ltx_video.conditioning.items import media_summary

__all__ = ["Keyframe", "KeyframeAdapter", "MultiKeyframeProcessor", "cubic_smoothstep", "keyframe_latent_index"]


@dataclass(frozen=True)
class Keyframe:
    """An image or clip placed at ``frame_index`` (pixel frame, >= 0), held with ``strength`` in [0, 1].

    ``image_or_clip``: what ``image=`` or ``video=`` take (diffusers' layouts: PIL, arrays, tensors in
    [0, 1] or uint8, lists of frames), or a path to an image or video file.

    ``placement``: ``"tokens"`` (default) gives a keyframe after frame 0 to the model as LTX-Video does, as
    appended tokens at its time. ``"in_place"`` (an image only) also replaces the latent frame that holds
    ``frame_index`` with the latent of the image held still (the image repeated over ``1 + temporal_scale``
    frames and encoded, its last latent frame: with a causal encoder, the image's own latent), kept at
    ``strength`` like frame 0. It places the latent frame, not the pixel frame: the decoder reads that latent
    with its neighbours' and draws its pixel frames (4 on the built-in model, 8 on LTX-Video's VAE) as a
    continuation of their motion, so the content does not stand still there, and the frame that matches the
    keyframe best is the same whichever of them was asked (built-in model, keyframe asked at frame 9, 10 or 12:
    about 9 px of motion over frames 9-12, frame 11 best at about 24 dB, the asked frame 20-22.6 dB;
    docs/control.md). Content the model cannot make around it comes out blended. At frame 0 both placements
    are the same.
    """

    image_or_clip: Any
    frame_index: int
    strength: float = 1.0
    placement: str = "tokens"

    def __repr__(self) -> str:
        return (f"Keyframe(image_or_clip={media_summary(self.image_or_clip)}, frame_index={self.frame_index}, "
                f"strength={self.strength}, placement={self.placement!r})")

    def __post_init__(self):
        index, strength = as_number(self.frame_index), as_number(self.strength)  # 0-d tensors and arrays too
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or index < 0:
            raise ValueError(f"Keyframe `frame_index` must be an int >= 0, got {index!r}.")
        if isinstance(strength, bool) or not isinstance(strength, numbers.Real) or not 0.0 <= strength <= 1.0:
            raise ValueError(f"Keyframe `strength` must be in [0, 1], got {strength!r}.")
        object.__setattr__(self, "frame_index", int(index))  # NumPy scalars become Python numbers
        object.__setattr__(self, "strength", float(strength))
        media = self.image_or_clip
        if isinstance(media, (str, Path)):
            if not Path(media).exists():
                raise ValueError(f"Keyframe `image_or_clip` file not found: {media}")
            if Path(media).is_dir():
                raise ValueError(f"Keyframe `image_or_clip` is a folder, not an image or video file: {media}")
        elif not (hasattr(media, "ndim") or isinstance(media, (list, PIL.Image.Image))):
            raise ValueError(
                "Keyframe `image_or_clip` must be a PIL image, an array or tensor, a list of frames or a file path, "
                f"got {type(media).__name__}."
            )
        if hasattr(media, "ndim") and media.ndim == 5 and media.shape[0] != 1:  # read as an image, refused as one
            raise ValueError(
                "Keyframe `image_or_clip` takes one clip, (F, C, H, W) or (1, F, C, H, W) (NumPy: (F, H, W, C) or "
                f"(1, F, H, W, C)), not a batch of {media.shape[0]}: give each clip its own Keyframe, or one clip per "
                "prompt in `video=`."
            )
        if self.placement not in PLACEMENTS:
            raise ValueError(f"Keyframe `placement` must be one of {PLACEMENTS}, got {self.placement!r}.")
        if self.placement == "in_place" and self.kind == "video":
            raise ValueError("Keyframe `placement='in_place'` takes one image; a clip is placed as tokens (`'tokens'`).")

    @property
    def in_place(self) -> bool:
        """Placed by replacing its latent frame (frame 0 always is, by LTX-Video's mechanism)."""
        return self.placement == "in_place" and self.frame_index > 0

    @property
    def kind(self) -> str:
        """How the pipeline reads the media: "video" for a clip, "image" otherwise (files by their suffix)."""
        media = self.image_or_clip
        if isinstance(media, (str, Path)):
            from ltx_video.conditioning.media import IMAGE_SUFFIXES

            return "image" if Path(media).suffix.lower() in IMAGE_SUFFIXES else "video"
        from ltx_video.pipelines.inputs import _is_clip  # the rule video= follows

        if hasattr(media, "ndim") and media.ndim == 4 and media.shape[0] == 1:
            return "image"  # a batch of one image (or a one-frame clip: the same keyframe)
        if hasattr(media, "ndim") and media.ndim == 5 and media.shape[0] == 1:
            return "video"  # a batch of one clip, (1, F, C, H, W), as video= takes it
        return "video" if _is_clip(media) else "image"

    def clip_length(self, at_most: int | None = None) -> int | None:
        """Frames of a clip (None for images): of a video file the frames it decodes to, counted up to ``at_most``
        (None where it cannot be read: reading it later names the error)."""
        media = self.image_or_clip
        if self.kind != "video":
            return None
        if isinstance(media, (str, Path)):
            import av

            from ltx_video.io.media import read_video

            try:
                return len(read_video(media, max_frames=at_most))
            except (OSError, ValueError, av.error.FFmpegError):  # unreadable: the pipeline's read names it
                return None
        if isinstance(media, list):
            return len(media)
        return int(media.shape[1] if media.ndim == 5 else media.shape[0])


PLACEMENTS = ("tokens", "in_place")


def cubic_smoothstep(alpha: torch.Tensor) -> torch.Tensor:
    """``3 a^2 - 2 a^3`` on ``a`` clamped to [0, 1]: 0 and 1 at the ends, zero slope at both."""
    alpha = alpha.clamp(0.0, 1.0)
    return alpha * alpha * (3.0 - 2.0 * alpha)


def _grid_frames(k: Keyframe, num_frames: int, r: int, prefix: int = 2) -> range:
    """The video's own latent frames keyframe ``k`` writes: an in-place image its own; an image or clip at frame 0
    all of its latent frames; a clip elsewhere those after its first ``prefix`` (LTX-Video's tokens); else none."""
    if k.in_place:
        index = keyframe_latent_index(k.frame_index, r)
        return range(index, index + 1)
    length = k.clip_length(at_most=num_frames - k.frame_index) if k.kind == "video" else 1
    latents = (max(length or 1, 1) - 1) // r + 1  # the clip keeps 1 + r j frames (it is trimmed to the video)
    if k.frame_index == 0:
        return range(0, latents)
    start = k.frame_index // r + prefix
    return range(start, k.frame_index // r + latents) if latents > prefix else range(0)


def keyframe_latent_index(frame_index: int, temporal_scale: int = 8) -> int:
    """The latent frame holding pixel frame ``frame_index`` (causal: frame 0 alone, then 8 per latent frame)."""
    return -(-frame_index // temporal_scale)


class MultiKeyframeProcessor:
    """Checks keyframes, turns them into the pipeline's conditions and interpolates between their latents.

    Args:
        interpolation_strength: how much of the smoothstep interpolation the starting latents between the
            first and the last keyframe hold (0: pure noise, as plain keyframes; < 1).
    """

    def __init__(self, interpolation_strength: float = 0.2):
        value = as_number(interpolation_strength)  # 0-d tensors and arrays too, as Keyframe's numbers
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
            raise ValueError(f"MultiKeyframeProcessor `interpolation_strength` must be in [0, 1), got "
                             f"{interpolation_strength!r}.")
        self.interpolation_strength = float(value)

    @staticmethod
    def check(keyframes: Sequence[Keyframe], num_frames: int, temporal_scale: int | None = None) -> list[Keyframe]:
        """Raise on keyframes out of range, out of order or at the same frame; with the VAE's ``temporal_scale``
        also on two ``in_place`` keyframes in one latent frame (the later would overwrite the earlier) and on a
        clip that cannot line up with the video's latent frames. Returns them as a list."""
        if isinstance(keyframes, Keyframe):
            keyframes = [keyframes]
        keyframes = list(keyframes)
        if not keyframes or not all(isinstance(k, Keyframe) for k in keyframes):
            raise ValueError("`keyframes` must be a non-empty list of Keyframe(image_or_clip, frame_index, strength).")
        indices = [k.frame_index for k in keyframes]
        outside = [i for i in indices if i >= num_frames]
        if outside:
            raise ValueError(f"`keyframes` frame_index must be in [0, {num_frames - 1}] (num_frames={num_frames}), got {outside}.")
        if len(set(indices)) != len(indices):
            raise ValueError(f"`keyframes` must be at different frames, got frame indices {indices}.")
        if indices != sorted(indices):
            raise ValueError(f"`keyframes` must be in increasing frame order, got frame indices {indices}.")
        if temporal_scale is not None:
            MultiKeyframeProcessor._check_latent_frames(keyframes, num_frames, temporal_scale)
        return keyframes

    @staticmethod
    def _check_latent_frames(keyframes: list[Keyframe], num_frames: int, r: int) -> None:
        placed: dict[int, int] = {}
        for k in keyframes:
            if k.in_place:
                index = keyframe_latent_index(k.frame_index, r)
                if index in placed:
                    raise ValueError(
                        f"`keyframes` at frames {placed[index]} and {k.frame_index} are both placed in place in latent "
                        f"frame {index} (pixel frames {max(1, r * index - r + 1)}-{r * index}): one latent frame holds "
                        "one image; move one to another latent frame or give it as tokens."
                    )
                placed[index] = k.frame_index
            length = k.clip_length(at_most=r + 1)
            if k.kind == "video" and length is not None and 1 < length <= r:
                array = hasattr(k.image_or_clip, "ndim")
                raise ValueError(
                    f"`keyframes`: the clip at frame {k.frame_index} has {length} frames, fewer than {r + 1}: a clip "
                    f"keeps 1 + {r} k of its frames, so only its first would count. Give a clip of at least {r + 1} "
                    "frames, or one image" + (" (a 4-D array or tensor is read as a clip, frames first, as `video=` "
                                              "reads it)." if array else ".")
                )
            if k.kind == "video" and k.frame_index % r and num_frames - k.frame_index > r and length != 1:
                raise ValueError(
                    f"`keyframes`: a clip at frame {k.frame_index} must start at a multiple of {r} (its latent frames "
                    "line up with the video's, as LTX-Video requires); give an image there, or move the clip."
                )
        # A clip writes latent frames of the video itself too (all of them at frame 0; after its two token frames
        # elsewhere): an in-place image or another clip in one of them overwrote part of it without a word.
        written: dict[int, int] = {}
        for k in keyframes:
            for index in _grid_frames(k, num_frames, r):
                if index in written:
                    raise ValueError(
                        f"`keyframes` at frames {written[index]} and {k.frame_index} both write latent frame {index} "
                        f"(pixel frames {max(1, r * index - r + 1)}-{r * index}; a clip writes its latent frames after "
                        "its first two, or all of them at frame 0): one latent frame holds one image; move one, or "
                        "give the image as tokens."
                    )
                written[index] = k.frame_index

    @staticmethod
    def to_conditions(keyframes: Sequence[Keyframe]) -> list:
        """The pipeline's condition inputs: LTX-Video's token mechanism, one per keyframe; the pipelines also
        write the ``in_place`` ones into their latent frames (:meth:`place_in_grid`)."""
        from ltx_video.pipelines.inputs import ConditionInput

        return [ConditionInput(k.image_or_clip, k.kind, k.frame_index, k.strength,
                               f"keyframes[frame {k.frame_index}]") for k in keyframes]

    @staticmethod
    def place_in_grid(grid: torch.Tensor, mask: torch.Tensor, held: torch.Tensor, frame_index: int, strength: float,
                      temporal_scale: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Write an ``in_place`` keyframe's latent ``held`` (B|1, C, h, w) into the latent frame holding
        ``frame_index`` of ``grid`` (B, C, F', h, w): ``lerp(grid, held, strength)`` there and its conditioning
        ``mask`` (B, F') set to ``strength``, as LTX-Video places frame 0."""
        index = keyframe_latent_index(frame_index, temporal_scale)
        grid, mask = grid.clone(), mask.clone()
        grid[:, :, index] = torch.lerp(grid[:, :, index], held.to(grid), strength)
        mask[:, index] = strength
        return grid, mask

    @staticmethod
    def interpolate(anchors: Sequence[tuple[int, torch.Tensor]], num_latent_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Cubic-smoothstep interpolation between keyframe latents.

        ``anchors``: (latent frame, latents (B, C, h, w)) in increasing frame order. Returns the latents
        (B, C, F', h, w) and a mask (F',) of the frames from the first anchor to the last (elsewhere zeros).
        """
        first = anchors[0][1]
        out = first.new_zeros(first.shape[0], first.shape[1], num_latent_frames, *first.shape[2:])
        covered = torch.zeros(num_latent_frames, dtype=torch.bool)
        for (start, a), (end, b) in zip(anchors[:-1], anchors[1:], strict=True):
            frames = torch.arange(start, end + 1)
            alpha = cubic_smoothstep((frames - start).float() / max(end - start, 1)).to(a)
            out[:, :, start : end + 1] = a[:, :, None] + alpha[None, None, :, None, None] * (b - a)[:, :, None]
            covered[start : end + 1] = True
        if len(anchors) == 1:
            index, latents = anchors[0]
            out[:, :, index] = latents
            covered[index] = True
        return out, covered

    @staticmethod
    def strength_profile(anchors: Sequence[tuple[int, float]], num_latent_frames: int) -> torch.Tensor:
        """(F',) the keyframes' strengths ``(latent frame, strength)`` interpolated as their latents are (cubic
        smoothstep between neighbours): how much of the interpolation each latent frame takes. A keyframe at
        strength 0 then steers nothing near it, as it holds nothing where it stands."""
        values = [(index, torch.full((1, 1, 1, 1), float(strength))) for index, strength in anchors]
        return MultiKeyframeProcessor.interpolate(values, num_latent_frames)[0].flatten()

    def mix(self, noise: torch.Tensor, interpolated: torch.Tensor, covered: torch.Tensor, held: torch.Tensor,
            strengths: torch.Tensor | None = None) -> torch.Tensor:
        """``noise`` (B, C, F', h, w) with the covered latent frames that no condition holds (``held`` (B, F'),
        the conditioning strength) mixed toward ``interpolated``, by ``interpolation_strength`` times
        ``strengths`` (F', :meth:`strength_profile`; None: 1)."""
        s = self.interpolation_strength
        if s == 0:
            return noise
        free = covered.to(noise.device)[None, :] & (held <= 0)  # (B, F')
        weight = s if strengths is None else (s * strengths.to(noise)).view(1, 1, -1, 1, 1)
        mixed = torch.lerp(noise, interpolated.to(noise), weight)
        return torch.where(free[:, None, :, None, None], mixed, noise)


class _GatedCrossAttention(nn.Module):
    def __init__(self, dim: int, context_dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.to_q, self.to_k = nn.Linear(dim, dim), nn.Linear(context_dim, dim)
        self.to_v, self.to_out = nn.Linear(context_dim, dim), nn.Linear(dim, dim)
        self.gate = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        h = self.heads
        q = self.to_q(self.norm(x)).view(b, n, h, d // h).transpose(1, 2)
        k = self.to_k(context).view(b, -1, h, d // h).transpose(1, 2)
        v = self.to_v(context).view(b, -1, h, d // h).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d)
        return self.gate * self.to_out(out)


class KeyframeAdapter(ModelMixin, ConfigMixin):
    """``x + gate * cross_attention(x, keyframe_tokens)`` after chosen transformer blocks (zero gates at init).

    Keyframe tokens are the keyframes' normalised latents (C channels per latent cell) with a sinusoidal
    embedding of their time relative to the clip (``frame / num_frames``); video tokens get the same
    embedding of their own time as a bias of the query. ``blocks``: the block indices to adapt. Saved and
    loaded as a diffusers model (a ``keyframe_adapter/`` folder beside a pipeline's components).
    """

    @register_to_config
    def __init__(self, inner_dim: int, latent_channels: int = 128, blocks: Sequence[int] = (0,), heads: int = 4,
                 time_features: int = 32, spatial_features: int = 0):
        super().__init__()
        if inner_dim % heads:
            raise ValueError(f"KeyframeAdapter `inner_dim` ({inner_dim}) must be divisible by `heads` ({heads}).")
        self.blocks = tuple(int(b) for b in blocks)
        self.time_features = time_features
        self.spatial_features = spatial_features  # > 0: keyframe cells and video tokens also embed their (y, x)
        position = time_features + 2 * spatial_features
        self.context_in = nn.Linear(latent_channels + position, inner_dim)
        self.query_time = nn.Linear(position, inner_dim)
        self.layers = nn.ModuleList(_GatedCrossAttention(inner_dim, inner_dim, heads) for _ in self.blocks)
        self._context: tuple[torch.Tensor, torch.Tensor, int] | None = None

    def time_embedding(self, times: torch.Tensor, features: int | None = None) -> torch.Tensor:
        half = (self.time_features if features is None else features) // 2
        freqs = torch.exp(torch.arange(half, device=times.device, dtype=torch.float32) * (-math.log(100.0) / half))
        angles = times.float()[..., None] * freqs * math.pi
        return torch.cat([angles.sin(), angles.cos()], dim=-1)

    def embed_position(self, times: torch.Tensor, cells: torch.Tensor | None) -> torch.Tensor:
        """Time (..., ) and, with ``spatial_features``, the cell's (y, x) in [0, 1] (..., 2) -> (..., features)."""
        out = self.time_embedding(times)
        if self.spatial_features:
            if cells is None:
                raise ValueError("this KeyframeAdapter embeds cell positions: pass `keyframe_cells` and `token_cells`.")
            cells = cells.to(times.device).expand(*times.shape, 2)
            out = torch.cat([out, self.time_embedding(cells[..., 0], self.spatial_features),
                             self.time_embedding(cells[..., 1], self.spatial_features)], dim=-1)
        return out

    @staticmethod
    def cell_positions(frames: int, height: int, width: int) -> torch.Tensor:
        """(frames * height * width, 2): each latent cell's centre (y, x) in [0, 1], frame-major as packed tokens."""
        ys = (torch.arange(height, dtype=torch.float32) + 0.5) / height
        xs = (torch.arange(width, dtype=torch.float32) + 0.5) / width
        grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), dim=-1).reshape(-1, 2)
        return grid.repeat(frames, 1)

    def set_context(self, keyframe_latents: torch.Tensor, keyframe_times: torch.Tensor, token_times: torch.Tensor,
                    num_prefix_tokens: int = 0, keyframe_cells: torch.Tensor | None = None,
                    token_cells: torch.Tensor | None = None) -> None:
        """``keyframe_latents`` (B, K, C) packed keyframe latent cells, ``keyframe_times`` (B, K) and ``token_times``
        (B, N) in [0, 1] of the clip, and (with ``spatial_features``) their cells' (y, x) (B|1, K|N, 2)
        (:meth:`cell_positions`); the first ``num_prefix_tokens`` video tokens (conditioning tokens) are left
        alone."""
        self._context = (
            torch.cat([keyframe_latents, self.embed_position(keyframe_times, keyframe_cells).to(keyframe_latents)],
                      dim=-1),
            self.embed_position(token_times, token_cells),
            num_prefix_tokens,
        )

    def clear_context(self) -> None:
        self._context = None

    def _hook(self, layer: _GatedCrossAttention):
        def hook(module, args, output):
            if self._context is None:
                return output
            hidden = output[0] if isinstance(output, tuple) else output
            raw, times, prefix = self._context
            passes = hidden.shape[0] // raw.shape[0]  # guidance passes are stacked on the batch
            context = self.context_in(raw.to(hidden.dtype)).repeat(passes, 1, 1)
            query = hidden[:, prefix:] + self.query_time(times.to(hidden.dtype)).repeat(passes, 1, 1)
            update = layer(query, context)
            hidden = torch.cat([hidden[:, :prefix], hidden[:, prefix:] + update], dim=1)
            return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

        return hook

    def check_fits(self, transformer: nn.Module) -> None:
        """ValueError naming the setting unless this adapter fits ``transformer``: its blocks exist, its width is the
        transformer's (heads x head dim) and it reads latents of the transformer's channels. Checked before any model
        runs (a wrong size failed inside the transformer, after T5 and the VAE)."""
        blocks = getattr(transformer, "transformer_blocks", [])
        bad = [b for b in self.blocks if not 0 <= b < len(blocks)]
        if bad:
            raise ValueError(f"KeyframeAdapter `blocks` must be in [0, {len(blocks) - 1}], got {bad}.")
        config = getattr(transformer, "config", None)
        if config is None:
            return
        width = getattr(config, "num_attention_heads", 0) * getattr(config, "attention_head_dim", 0)
        for name, value, expected in (("inner_dim", self.config.inner_dim, width),
                                      ("latent_channels", self.config.latent_channels, getattr(config, "in_channels", 0))):
            if expected and value != expected:
                raise ValueError(f"KeyframeAdapter `{name}` is {value} but this pipeline's transformer takes {expected}: "
                                 "an adapter made for another model.")

    def attach(self, transformer: nn.Module) -> list:
        """Register the hooks on ``transformer.transformer_blocks[i]``; returns the handles (``.remove()`` them)."""
        self.check_fits(transformer)
        blocks = transformer.transformer_blocks
        return [blocks[b].register_forward_hook(self._hook(layer)) for b, layer in zip(self.blocks, self.layers, strict=True)]
