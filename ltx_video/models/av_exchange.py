"""The audio<->video exchange of ``LTXAudioVideoTransformer3DModel``: cross-attention between two streams whose
tokens sit on one time axis in seconds.

Each stream's queries and the other's keys are rotated by their own times (:func:`time_rotary_emb`, a 1D rotary
embedding of seconds), so the logits depend on the time difference; an optional Gaussian window on that difference
(``time_window``, a learned width and centre per head) makes each token attend first to the other stream's tokens of
its own moment. Both directions run from the states before the exchange and are added through per-channel gates that
start at zero.
"""

from __future__ import annotations

import inspect
import math

import torch
import torch.nn as nn
from diffusers.models.attention_dispatch import dispatch_attention_fn
from diffusers.models.normalization import RMSNorm
from diffusers.models.transformers.transformer_ltx import LTXAttention, apply_rotary_emb

__all__ = [
    "LTXAudioVideoAttention",
    "LTXAudioVideoAttnProcessor",
    "LTXAudioVideoCrossAttention",
    "time_aligned_attention_probs",
    "time_rotary_emb",
]

RotaryEmb = tuple[torch.Tensor, torch.Tensor]


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


class LTXAudioVideoAttention(LTXAttention):
    """diffusers' ``LTXAttention`` (same weights and names) whose processor rotates the keys by their own times: it
    is called with ``key_rotary_emb``, which diffusers' ``LTXVideoAttnProcessor`` drops (with a notice) and then
    fails deep in attention on the other stream's length. ``set_processor`` refuses such a processor at once."""

    _default_processor_cls = LTXAudioVideoAttnProcessor
    _available_processors = [LTXAudioVideoAttnProcessor]

    @classmethod
    def check_processor(cls, processor) -> None:
        """Raise ``ValueError`` unless ``processor`` takes ``key_rotary_emb`` by name (``LTXAttention.forward`` passes
        a processor only the keyword arguments its ``__call__`` names: ``**kwargs`` does not receive it)."""
        if not callable(processor) or "key_rotary_emb" not in inspect.signature(processor.__call__).parameters:
            accepted = ", ".join(c.__name__ for c in cls._available_processors)
            raise ValueError(
                f"`processor`: the audio<->video attentions (av_cross_attention.*.video_attn / audio_attn) accept "
                f"{accepted} (a processor whose __call__ takes `key_rotary_emb`), got {type(processor).__name__}; to "
                f"set the other attentions, pass a dict keyed by `attn_processors` names (this model has no "
                f"set_default_attn_processor)."
            )

    def set_processor(self, processor) -> None:
        self.check_processor(processor)
        super().set_processor(processor)


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
        self.video_attn = LTXAudioVideoAttention(  # Q = video, K/V = audio
            query_dim=video_dim, cross_attention_dim=audio_dim, **common
        )
        self.audio_attn = LTXAudioVideoAttention(  # Q = audio, K/V = video
            query_dim=audio_dim, cross_attention_dim=video_dim, **common
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
