"""LTX-Video transformer with a joint audio stream and audio<->video cross-attention.

The video stream is diffusers' ``LTXVideoTransformer3DModel`` unchanged (this class subclasses it, so
every legacy weight keeps its name). Added, all under ``audio_*`` / ``av_*`` names:

- an audio stream: ``audio_proj_in`` (B, Na, Ca) -> (B, Na, Da), its own timestep adaLN
  (``audio_time_embed``, diffusers' ``AdaLayerNormSingle``), the prompt projected to the audio width
  (``audio_caption_projection``), ``audio_num_layers`` lighter blocks (diffusers'
  ``LTXVideoTransformerBlock`` at the audio width: self-attention with a 1D rotary embedding of time
  in seconds, cross-attention to the text, feed-forward), and ``audio_norm_out`` /
  ``audio_proj_out`` -> audio velocity (B, Na, Ca);
- bidirectional audio<->video cross-attention after the video blocks in ``av_cross_attention_layers``
  (the seed's "layers 8-12 of 24", scaled to the depth), with rotary positions on the shared time
  axis in seconds, added to each stream through a per-channel gate initialised to zero; optionally
  (``av_time_window``, seconds) a Gaussian window on the time difference added to the exchange's
  logits, so each token attends first to the other stream's tokens of its own moment (a learned width
  and centre per head; off by default, so checkpoints saved without it load unchanged).

Interleaving (one "step" per video block ``i``): video block ``i``; then the audio blocks scheduled at
``i`` (audio block ``j`` runs after video block ``floor((j + 1) * L / A) - 1``, i.e. spread evenly so
the last one runs with the last video block); then, if ``i`` is a cross-attention layer, video attends
to audio and audio attends to video, both from the states before the exchange.

At init (zero gates) or with ``audio_hidden_states=None`` the video output equals the legacy model's
exactly; without audio the legacy forward itself runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
from diffusers.configuration_utils import register_to_config
from diffusers.models.attention_dispatch import dispatch_attention_fn
from diffusers.models.embeddings import PixArtAlphaTextProjection
from diffusers.models.modeling_outputs import BaseOutput
from diffusers.models.modeling_utils import ModelMixin  # noqa: F401  diffusers' pipeline loader looks it up here
from diffusers.models.normalization import AdaLayerNormSingle, RMSNorm
from diffusers.models.transformers.transformer_ltx import (
    LTXAttention,
    LTXVideoTransformer3DModel,
    LTXVideoTransformerBlock,
    apply_rotary_emb,
)
from diffusers.utils import apply_lora_scale

__all__ = [
    "LTXAudioVideoAttnProcessor",
    "LTXAudioVideoCrossAttention",
    "LTXAudioVideoTransformer3DModel",
    "LTXAudioVideoTransformerOutput",
    "audio_block_schedule",
    "default_av_cross_attention_layers",
    "time_aligned_attention_probs",
    "time_rotary_emb",
]

RotaryEmb = tuple[torch.Tensor, torch.Tensor]


def default_av_cross_attention_layers(num_layers: int) -> tuple[int, ...]:
    """The seed's "layers 8-12 for 24-block models" scaled to depth L: ``range(r(8L/24), r(12L/24))``.

    ``r`` rounds half up; the end is exclusive (24 -> 8..11, 28 -> 9..13, 48 -> 16..23) and the range
    holds at least one block (2 -> (1,)).
    """
    start = min(math.floor(8 * num_layers / 24 + 0.5), num_layers - 1)
    end = max(math.floor(12 * num_layers / 24 + 0.5), start + 1)
    return tuple(range(start, end))


def audio_block_schedule(num_layers: int, audio_num_layers: int) -> list[list[int]]:
    """For each video block ``i``, the audio blocks run right after it (spread evenly, last with last)."""
    schedule: list[list[int]] = [[] for _ in range(num_layers)]
    for j in range(audio_num_layers):
        schedule[(j + 1) * num_layers // audio_num_layers - 1].append(j)
    return schedule


def time_rotary_emb(
    times: torch.Tensor, *, num_heads: int, head_dim: int, base_seconds: float, theta: float
) -> RotaryEmb:
    """1D rotary embedding of time in seconds, LTX's fractional form, the same spectrum in every head.

    times: (B, N) seconds. Returns (cos, sin), each (B, N, num_heads * head_dim) in fp32, laid out for
    diffusers' ``apply_rotary_emb`` (interleaved pairs). Rotation periods run from ``2 * base_seconds``
    down to ``2 * base_seconds / theta``; giving every head the whole spectrum lets each head align in time.
    """
    # Always compute rope in fp32, as diffusers' LTXVideoRotaryPosEmbed.
    freqs = theta ** torch.linspace(0.0, 1.0, head_dim // 2, device=times.device, dtype=torch.float32)
    angles = freqs * math.pi / 2.0 * (times.float()[..., None] / base_seconds * 2.0 - 1.0)  # (B, N, hd/2)
    cos = angles.cos().repeat_interleave(2, dim=-1).repeat(1, 1, num_heads)
    sin = angles.sin().repeat_interleave(2, dim=-1).repeat(1, 1, num_heads)
    return cos, sin


def _rotated_query_key(
    attn: LTXAttention,
    hidden_states: torch.Tensor,
    encoder_hidden_states: torch.Tensor,
    query_rotary_emb: RotaryEmb,
    key_rotary_emb: RotaryEmb,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Q from ``hidden_states``, K from ``encoder_hidden_states``, each rotated by its own times.

    Returns query (B, Nq, H, hd) and key (B, Nk, H, hd).
    """
    query = apply_rotary_emb(attn.norm_q(attn.to_q(hidden_states)), query_rotary_emb)
    key = apply_rotary_emb(attn.norm_k(attn.to_k(encoder_hidden_states)), key_rotary_emb)
    return query.unflatten(2, (attn.heads, -1)), key.unflatten(2, (attn.heads, -1))


def time_aligned_attention_probs(
    attn: LTXAttention,
    hidden_states: torch.Tensor,
    encoder_hidden_states: torch.Tensor,
    query_rotary_emb: RotaryEmb,
    key_rotary_emb: RotaryEmb,
    time_bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Attention weights (B, H, Nq, Nk) of ``LTXAudioVideoAttnProcessor``, for inspection and tests;
    ``time_bias`` (B, H, Nq, Nk) is added to the logits as the processor's ``attention_mask``."""
    query, key = _rotated_query_key(attn, hidden_states, encoder_hidden_states, query_rotary_emb, key_rotary_emb)
    logits = torch.einsum("bqhd,bkhd->bhqk", query.float(), key.float()) / math.sqrt(query.shape[-1])
    if time_bias is not None:
        logits = logits + time_bias.float()
    return logits.softmax(dim=-1)


class LTXAudioVideoAttnProcessor:
    """Cross-attention between streams whose tokens carry different times (Q and K rotated apart).

    Same maths as diffusers' ``LTXVideoAttnProcessor`` otherwise; attention runs through diffusers'
    ``dispatch_attention_fn``, so the model's ``set_attention_backend`` applies.
    """

    _attention_backend = None
    _parallel_config = None

    def __call__(
        self,
        attn: LTXAttention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        image_rotary_emb: RotaryEmb | None = None,
        key_rotary_emb: RotaryEmb | None = None,
    ) -> torch.Tensor:
        if image_rotary_emb is None or key_rotary_emb is None:
            raise ValueError("LTXAudioVideoAttnProcessor needs both `image_rotary_emb` (queries) and `key_rotary_emb`.")
        query, key = _rotated_query_key(attn, hidden_states, encoder_hidden_states, image_rotary_emb, key_rotary_emb)
        value = attn.to_v(encoder_hidden_states).unflatten(2, (attn.heads, -1))
        hidden_states = dispatch_attention_fn(
            query,
            key,
            value,
            attn_mask=attention_mask,
            dropout_p=0.0,
            is_causal=False,
            backend=self._attention_backend,
            parallel_config=self._parallel_config,
        )
        hidden_states = hidden_states.flatten(2, 3).to(query.dtype)
        hidden_states = attn.to_out[0](hidden_states)
        return attn.to_out[1](hidden_states)


class LTXAudioVideoCrossAttention(nn.Module):
    """Bidirectional audio<->video exchange: video attends to audio and audio to video, zero-gated.

    Both attentions use the audio stream's (lighter) heads. Each update is added to its stream times a
    per-channel gate initialised to zero, so at init the block is the identity on both streams.

    ``time_window`` (seconds, or None): adds ``-0.5 * ((t_k - t_q) / (time_window * exp(w_h)))**2`` to the
    logits of head ``h``, with the video tokens' times moved by a learned ``s_h`` (a latent frame's token
    carries its first pixel frame's time while its content spans several frames). ``w_h`` and ``s_h``
    start at 0 and are shared by both directions, so the audio->video window is the transpose of the
    video->audio one. RoPE alone can express this alignment, but a small model learns it slowly from the
    few loss terms a bounce's timing moves (docs/training.md).
    """

    def __init__(
        self,
        *,
        video_dim: int,
        audio_dim: int,
        num_attention_heads: int,
        attention_head_dim: int,
        qk_norm: str,
        attention_bias: bool,
        attention_out_bias: bool,
        eps: float,
        time_window: float | None = None,
    ) -> None:
        super().__init__()
        if time_window is not None and not time_window > 0:
            raise ValueError(f"av_time_window must be a positive number of seconds or None, got {time_window}.")
        self.time_window = time_window
        if time_window is not None:
            self.time_log_width = nn.Parameter(torch.zeros(num_attention_heads))
            self.time_shift = nn.Parameter(torch.zeros(num_attention_heads))
        self.video_norm = RMSNorm(video_dim, eps=eps, elementwise_affine=False)
        self.audio_norm = RMSNorm(audio_dim, eps=eps, elementwise_affine=False)
        common = dict(
            heads=num_attention_heads,
            kv_heads=num_attention_heads,
            dim_head=attention_head_dim,
            bias=attention_bias,
            out_bias=attention_out_bias,
            qk_norm=qk_norm,
        )
        self.video_attn = LTXAttention(  # Q = video, K/V = audio
            query_dim=video_dim, cross_attention_dim=audio_dim, processor=LTXAudioVideoAttnProcessor(), **common
        )
        self.audio_attn = LTXAttention(  # Q = audio, K/V = video
            query_dim=audio_dim, cross_attention_dim=video_dim, processor=LTXAudioVideoAttnProcessor(), **common
        )
        self.video_gate = nn.Parameter(torch.zeros(video_dim))
        self.audio_gate = nn.Parameter(torch.zeros(audio_dim))

    def time_bias(self, video_times: torch.Tensor | None, audio_times: torch.Tensor | None) -> torch.Tensor | None:
        """The window's logit bias (B, H, Nv, Na) for video (B, Nv) and audio (B, Na) token times in
        seconds; None without a ``time_window``."""
        if self.time_window is None:
            return None
        if video_times is None or audio_times is None:
            raise ValueError("an av_time_window needs both streams' token times.")
        centre = video_times.float()[:, None, :, None] + self.time_shift[None, :, None, None]
        width = self.time_window * self.time_log_width.exp()[None, :, None, None]
        # Clamped so that a half-precision mask stays finite: a row whose keys are all far away (a keyframe
        # token past the audio's end) then attends evenly instead of turning the softmax into NaN.
        return (-0.5 * ((audio_times.float()[:, None, None, :] - centre) / width) ** 2).clamp(min=-1e4)

    def forward(
        self,
        video_hidden_states: torch.Tensor,
        audio_hidden_states: torch.Tensor,
        video_rotary_emb: RotaryEmb,
        audio_rotary_emb: RotaryEmb,
        video_times: torch.Tensor | None = None,
        audio_times: torch.Tensor | None = None,
        isolated: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """video (B, Nv, Dv), audio (B, Na, Da); rotary embeddings of each stream's token times, and the
        times themselves (seconds; needed only with a ``time_window``). ``isolated`` (B,) bool: rows that
        skip the exchange (both streams returned unchanged: modality guidance's isolated pass)."""
        norm_video = self.video_norm(video_hidden_states)
        norm_audio = self.audio_norm(audio_hidden_states)
        bias = self.time_bias(video_times, audio_times)
        video_update = self.video_attn(
            norm_video,
            encoder_hidden_states=norm_audio,
            attention_mask=None if bias is None else bias.to(norm_video.dtype),
            image_rotary_emb=video_rotary_emb,
            key_rotary_emb=audio_rotary_emb,
        )
        audio_update = self.audio_attn(
            norm_audio,
            encoder_hidden_states=norm_video,
            attention_mask=None if bias is None else bias.transpose(-1, -2).to(norm_audio.dtype),
            image_rotary_emb=audio_rotary_emb,
            key_rotary_emb=video_rotary_emb,
        )
        video_update, audio_update = video_update * self.video_gate, audio_update * self.audio_gate
        if isolated is not None:
            video_update = torch.where(isolated[:, None, None], torch.zeros_like(video_update), video_update)
            audio_update = torch.where(isolated[:, None, None], torch.zeros_like(audio_update), audio_update)
        return video_hidden_states + video_update, audio_hidden_states + audio_update

    def attention_probs(
        self,
        video_hidden_states: torch.Tensor,
        audio_hidden_states: torch.Tensor,
        video_rotary_emb: RotaryEmb,
        audio_rotary_emb: RotaryEmb,
        video_times: torch.Tensor | None = None,
        audio_times: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(video->audio weights (B, H, Nv, Na), audio->video weights (B, H, Na, Nv)) of ``forward``."""
        norm_video = self.video_norm(video_hidden_states)
        norm_audio = self.audio_norm(audio_hidden_states)
        bias = self.time_bias(video_times, audio_times)
        return (
            time_aligned_attention_probs(
                self.video_attn, norm_video, norm_audio, video_rotary_emb, audio_rotary_emb, bias
            ),
            time_aligned_attention_probs(
                self.audio_attn, norm_audio, norm_video, audio_rotary_emb, video_rotary_emb,
                None if bias is None else bias.transpose(-1, -2),
            ),
        )


@dataclass
class LTXAudioVideoTransformerOutput(BaseOutput):
    """sample: video velocity (B, Nv, out_channels); audio_sample: (B, Na, audio_in_channels) or None."""

    sample: torch.Tensor
    audio_sample: torch.Tensor | None = None


class LTXAudioVideoTransformer3DModel(LTXVideoTransformer3DModel):
    r"""LTX-Video's transformer plus an audio stream and zero-gated audio<->video cross-attention.

    Args (beyond ``LTXVideoTransformer3DModel``'s, which keep their names and defaults):
        audio_in_channels (`int`, defaults to 128): audio latent channels (``AudioEncoder`` output).
        audio_num_layers (`int`, *optional*): audio blocks; ``None`` -> ``max(1, num_layers // 2)`` (half
            the video depth, e.g. 14 for the 2B model), at most ``num_layers``.
        audio_num_attention_heads (`int`, defaults to 16), audio_attention_head_dim (`int`, defaults to 64):
            the audio width is their product (1024, half the 2B video width); also used by the
            audio<->video attentions.
        av_cross_attention_layers (`tuple[int, ...]`, *optional*): video blocks followed by the
            audio<->video exchange; ``None`` -> ``default_av_cross_attention_layers(num_layers)``.
        audio_base_seconds (`float`, defaults to 20.0): time normaliser of the time rotary embedding (the
            legacy video RoPE's ``base_num_frames``, read as seconds); the longest period is twice this.
        audio_rope_theta (`float`, defaults to 1000.0): ratio of longest to shortest rotary period; the
            shortest is then 40 ms, two audio tokens (the Nyquist limit of the 20 ms grid: shorter ones alias).
        audio_seconds_per_token (`float`, defaults to 0.02): default audio token time step (16 kHz / 320).
        av_time_window (`float`, *optional*): seconds; a Gaussian time window (learned width and centre
            per head) on the audio<->video logits (``LTXAudioVideoCrossAttention``). ``None``: RoPE only.

    Context parallelism is not planned for the joint model (``_cp_plan = None``): audio attends to all
    video tokens, which a sequence split would break.
    """

    # regional compilation (``compile_repeated_blocks``): the video and audio blocks and the exchanges
    _repeated_blocks = ["LTXVideoTransformerBlock", "LTXAudioVideoCrossAttention"]

    _cp_plan = None

    @register_to_config
    def __init__(
        self,
        in_channels: int = 128,
        out_channels: int = 128,
        patch_size: int = 1,
        patch_size_t: int = 1,
        num_attention_heads: int = 32,
        attention_head_dim: int = 64,
        cross_attention_dim: int = 2048,
        num_layers: int = 28,
        activation_fn: str = "gelu-approximate",
        qk_norm: str = "rms_norm_across_heads",
        norm_elementwise_affine: bool = False,
        norm_eps: float = 1e-6,
        caption_channels: int = 4096,
        attention_bias: bool = True,
        attention_out_bias: bool = True,
        audio_in_channels: int = 128,
        audio_num_layers: int | None = None,
        audio_num_attention_heads: int = 16,
        audio_attention_head_dim: int = 64,
        av_cross_attention_layers: tuple[int, ...] | None = None,
        audio_base_seconds: float = 20.0,
        audio_rope_theta: float = 1000.0,
        audio_seconds_per_token: float = 0.02,
        av_time_window: float | None = None,
    ) -> None:
        super().__init__(
            in_channels=in_channels,
            out_channels=out_channels,
            patch_size=patch_size,
            patch_size_t=patch_size_t,
            num_attention_heads=num_attention_heads,
            attention_head_dim=attention_head_dim,
            cross_attention_dim=cross_attention_dim,
            num_layers=num_layers,
            activation_fn=activation_fn,
            qk_norm=qk_norm,
            norm_elementwise_affine=norm_elementwise_affine,
            norm_eps=norm_eps,
            caption_channels=caption_channels,
            attention_bias=attention_bias,
            attention_out_bias=attention_out_bias,
        )
        audio_layers = max(1, num_layers // 2) if audio_num_layers is None else audio_num_layers
        if not 1 <= audio_layers <= num_layers:
            raise ValueError(f"audio_num_layers must be in [1, num_layers={num_layers}], got {audio_layers}.")
        if audio_attention_head_dim % 2:
            raise ValueError(f"audio_attention_head_dim must be even (rotary pairs), got {audio_attention_head_dim}.")
        layers = (
            default_av_cross_attention_layers(num_layers)
            if av_cross_attention_layers is None
            else tuple(int(i) for i in av_cross_attention_layers)
        )
        if any(not 0 <= i < num_layers for i in layers) or len(set(layers)) != len(layers):
            raise ValueError(f"av_cross_attention_layers must be distinct indices in [0, {num_layers}), got {layers}.")
        self.av_layers = tuple(sorted(layers))
        self.audio_schedule = audio_block_schedule(num_layers, audio_layers)

        video_dim = num_attention_heads * attention_head_dim
        audio_dim = audio_num_attention_heads * audio_attention_head_dim
        self.audio_proj_in = nn.Linear(audio_in_channels, audio_dim)
        self.audio_time_embed = AdaLayerNormSingle(audio_dim, use_additional_conditions=False)
        self.audio_caption_projection = PixArtAlphaTextProjection(in_features=caption_channels, hidden_size=audio_dim)
        self.audio_transformer_blocks = nn.ModuleList(
            [
                LTXVideoTransformerBlock(
                    dim=audio_dim,
                    num_attention_heads=audio_num_attention_heads,
                    attention_head_dim=audio_attention_head_dim,
                    cross_attention_dim=audio_dim,
                    qk_norm=qk_norm,
                    activation_fn=activation_fn,
                    attention_bias=attention_bias,
                    attention_out_bias=attention_out_bias,
                    eps=norm_eps,
                    elementwise_affine=norm_elementwise_affine,
                )
                for _ in range(audio_layers)
            ]
        )
        self.av_cross_attention = nn.ModuleDict(
            {
                str(i): LTXAudioVideoCrossAttention(
                    video_dim=video_dim,
                    audio_dim=audio_dim,
                    num_attention_heads=audio_num_attention_heads,
                    attention_head_dim=audio_attention_head_dim,
                    qk_norm=qk_norm,
                    attention_bias=attention_bias,
                    attention_out_bias=attention_out_bias,
                    eps=norm_eps,
                    time_window=av_time_window,
                )
                for i in self.av_layers
            }
        )
        self.audio_scale_shift_table = nn.Parameter(torch.randn(2, audio_dim) / audio_dim**0.5)
        self.audio_norm_out = nn.LayerNorm(audio_dim, eps=1e-6, elementwise_affine=False)
        self.audio_proj_out = nn.Linear(audio_dim, audio_in_channels)

    @classmethod
    def from_legacy(
        cls, transformer: LTXVideoTransformer3DModel, **audio_config: Any
    ) -> LTXAudioVideoTransformer3DModel:
        """Build the joint model around ``transformer``'s config and weights (audio parts freshly initialised)."""
        legacy_config = {k: v for k, v in transformer.config.items() if not k.startswith("_")}
        model = cls(**legacy_config, **audio_config)
        missing, unexpected = model.load_state_dict(transformer.state_dict(), strict=False)
        new = [k for k in missing if not k.startswith(("audio_", "av_"))]
        if new or unexpected:
            raise ValueError(f"Legacy weights do not fit: missing {new}, unexpected {unexpected}.")
        param = next(transformer.parameters())
        if param.device != torch.device("cpu") or param.dtype != torch.float32:
            model = model.to(device=param.device, dtype=param.dtype)
        return model

    def _video_token_times(
        self,
        batch_size: int,
        num_frames: int | None,
        height: int | None,
        width: int | None,
        rope_interpolation_scale: tuple[float, float, float] | torch.Tensor | None,
        video_coords: torch.Tensor | None,
        device: torch.device,
    ) -> torch.Tensor:
        """Video token times (B, Nv) in seconds: ``video_coords[:, 0]`` (as the pipelines pass it), or the
        latent frame index times ``rope_interpolation_scale[0] * patch_size_t`` (the frame index if None)."""
        if video_coords is not None:
            return video_coords[:, 0].float()
        frames = torch.arange(num_frames, dtype=torch.float32, device=device)
        if rope_interpolation_scale is not None:
            frames = frames * rope_interpolation_scale[0] * self.config.patch_size_t
        return frames.repeat_interleave(height * width).expand(batch_size, -1)

    def _run(self, block: nn.Module, *args: Any) -> Any:
        if torch.is_grad_enabled() and self.gradient_checkpointing:
            return self._gradient_checkpointing_func(block, *args)
        return block(*args)

    @apply_lora_scale("attention_kwargs")
    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        timestep: torch.Tensor,
        encoder_attention_mask: torch.Tensor,
        num_frames: int | None = None,
        height: int | None = None,
        width: int | None = None,
        rope_interpolation_scale: tuple[float, float, float] | torch.Tensor | None = None,
        video_coords: torch.Tensor | None = None,
        audio_hidden_states: torch.Tensor | None = None,
        audio_timestep: torch.Tensor | None = None,
        audio_coords: torch.Tensor | None = None,
        isolate_modalities: torch.Tensor | None = None,
        attention_kwargs: dict[str, Any] | None = None,
        return_dict: bool = True,
    ) -> LTXAudioVideoTransformerOutput | tuple[torch.Tensor, torch.Tensor | None]:
        """Video arguments as ``LTXVideoTransformer3DModel.forward``; plus

        audio_hidden_states: (B, Na, audio_in_channels) or None (then the legacy forward runs as is).
        audio_timestep: (B,) or (B, Na); None -> each sample's largest video timestep (conditioning
            tokens carry smaller ones, the generated tokens the sample's noise level).
        audio_coords: (B, Na) token times in seconds; None -> ``audio_seconds_per_token * j``.
        isolate_modalities: (B,) bool or None: rows whose audio<->video exchanges are skipped, so that each
            stream is predicted without the other (modality guidance's isolated pass, LTX-2).

        Returns ``.sample`` (B, Nv, out_channels) and ``.audio_sample`` (B, Na, audio_in_channels) or
        None; ``return_dict=False`` -> (video, audio).
        """
        if audio_hidden_states is None:
            if isolate_modalities is not None:
                raise ValueError("`isolate_modalities` needs `audio_hidden_states` (there is nothing to isolate).")
            # The legacy forward without its LoRA-scale wrapper (this method's wrapper already applied it).
            (video,) = LTXVideoTransformer3DModel.forward.__wrapped__(
                self,
                hidden_states,
                encoder_hidden_states,
                timestep,
                encoder_attention_mask,
                num_frames=num_frames,
                height=height,
                width=width,
                rope_interpolation_scale=rope_interpolation_scale,
                video_coords=video_coords,
                attention_kwargs=attention_kwargs,
                return_dict=False,
            )
            return LTXAudioVideoTransformerOutput(sample=video, audio_sample=None) if return_dict else (video, None)

        cfg = self.config
        batch_size = hidden_states.size(0)
        image_rotary_emb = self.rope(hidden_states, num_frames, height, width, rope_interpolation_scale, video_coords)

        # As the legacy forward: a 0/1 mask becomes an additive bias.
        if encoder_attention_mask is not None and encoder_attention_mask.ndim == 2:
            encoder_attention_mask = (1 - encoder_attention_mask.to(hidden_states.dtype)) * -10000.0
            encoder_attention_mask = encoder_attention_mask.unsqueeze(1)

        if cfg.av_time_window is not None and video_coords is None and rope_interpolation_scale is None:
            raise ValueError("a model with av_time_window needs the video tokens' times in seconds: pass `video_coords` "
                             "or `rope_interpolation_scale` (without them the times are frame indices).")
        video_times = self._video_token_times(
            batch_size, num_frames, height, width, rope_interpolation_scale, video_coords, hidden_states.device
        )
        num_audio = audio_hidden_states.size(1)
        if audio_coords is None:
            audio_coords = torch.arange(num_audio, device=hidden_states.device, dtype=torch.float32)
            audio_coords = (audio_coords * cfg.audio_seconds_per_token).expand(batch_size, -1)
        if audio_timestep is None:
            audio_timestep = timestep.reshape(batch_size, -1).amax(dim=1)

        hidden_states = self.proj_in(hidden_states)
        temb, embedded_timestep = self.time_embed(
            timestep.flatten(), batch_size=batch_size, hidden_dtype=hidden_states.dtype
        )
        temb = temb.view(batch_size, -1, temb.size(-1))
        embedded_timestep = embedded_timestep.view(batch_size, -1, embedded_timestep.size(-1))
        text = self.caption_projection(encoder_hidden_states).view(batch_size, -1, hidden_states.size(-1))

        audio = self.audio_proj_in(audio_hidden_states)
        audio_temb, audio_embedded_timestep = self.audio_time_embed(
            audio_timestep.flatten(), batch_size=batch_size, hidden_dtype=audio.dtype
        )
        audio_temb = audio_temb.view(batch_size, -1, audio_temb.size(-1))
        audio_embedded_timestep = audio_embedded_timestep.view(batch_size, -1, audio_embedded_timestep.size(-1))
        audio_text = self.audio_caption_projection(encoder_hidden_states).view(batch_size, -1, audio.size(-1))

        rope = dict(
            num_heads=cfg.audio_num_attention_heads,
            head_dim=cfg.audio_attention_head_dim,
            base_seconds=cfg.audio_base_seconds,
            theta=cfg.audio_rope_theta,
        )
        audio_rotary_emb = time_rotary_emb(audio_coords, **rope)
        video_time_rotary_emb = time_rotary_emb(video_times, **rope)

        for i, block in enumerate(self.transformer_blocks):
            hidden_states = self._run(block, hidden_states, text, temb, image_rotary_emb, encoder_attention_mask)
            for j in self.audio_schedule[i]:
                audio = self._run(
                    self.audio_transformer_blocks[j],
                    audio,
                    audio_text,
                    audio_temb,
                    audio_rotary_emb,
                    encoder_attention_mask,
                )
            if i in self.av_layers:
                hidden_states, audio = self._run(
                    self.av_cross_attention[str(i)], hidden_states, audio, video_time_rotary_emb, audio_rotary_emb,
                    video_times, audio_coords, isolate_modalities,
                )

        shift, scale = (self.scale_shift_table[None, None] + embedded_timestep[:, :, None]).unbind(dim=2)
        video = self.proj_out(self.norm_out(hidden_states) * (1 + scale) + shift)
        shift, scale = (self.audio_scale_shift_table[None, None] + audio_embedded_timestep[:, :, None]).unbind(dim=2)
        audio = self.audio_proj_out(self.audio_norm_out(audio) * (1 + scale) + shift)

        if not return_dict:
            return video, audio
        return LTXAudioVideoTransformerOutput(sample=video, audio_sample=audio)
