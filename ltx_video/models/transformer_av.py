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

import functools
import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
from diffusers.configuration_utils import register_to_config
from diffusers.models.embeddings import PixArtAlphaTextProjection
from diffusers.models.modeling_outputs import BaseOutput
from diffusers.models.modeling_utils import ModelMixin  # noqa: F401  diffusers' pipeline loader looks it up here
from diffusers.models.normalization import AdaLayerNormSingle
from diffusers.models.transformers.transformer_ltx import LTXVideoTransformer3DModel, LTXVideoTransformerBlock
from diffusers.utils import apply_lora_scale

from ltx_video.models.av_exchange import (  # re-exported: their home before the split
    LTXAudioVideoAttention,
    LTXAudioVideoAttnProcessor,
    LTXAudioVideoCrossAttention,
    time_aligned_attention_probs,
    time_rotary_emb,
)
from ltx_video.models.screen_positions import grid_coords, screen_position_features

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
        screen_position_features (`int`, defaults to 0): octaves of each video token's place on the screen
            (:mod:`~ltx_video.models.screen_positions`) added after ``proj_in`` through a zero-initialised linear
            layer (``screen_position_proj``), which RoPE's relative positions cannot express. 0: none.

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
        screen_position_features: int = 0,
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
        self._screen_term = None
        if screen_position_features < 0:
            raise ValueError(f"screen_position_features must be >= 0, got {screen_position_features}.")
        if screen_position_features:
            self.screen_position_proj = nn.Linear(4 * screen_position_features, video_dim)
            nn.init.zeros_(self.screen_position_proj.weight)
            nn.init.zeros_(self.screen_position_proj.bias)
            # Added to proj_in's output, so the legacy forward (no audio) takes it too and every weight keeps its name.
            self.proj_in.register_forward_hook(lambda module, inputs, output: output if self._screen_term is None
                                               else output + self._screen_term)

    # diffusers' signature (``__wrapped__``): its pipeline saver passes ``variant``, ``max_shard_size`` and
    # ``safe_serialization`` only to a method that names them, so ``*args, **kwargs`` alone silently dropped them
    @functools.wraps(LTXVideoTransformer3DModel.save_pretrained, assigned=())
    def save_pretrained(self, save_directory, *args: Any, **kwargs: Any) -> None:
        """diffusers' ``save_pretrained``, refused (before writing anything) for grouped key/value heads, which
        would save as layers ``from_pretrained`` cannot load."""
        from ltx_video.attention.grouped_query import check_no_grouped_heads

        check_no_grouped_heads(self)
        super().save_pretrained(save_directory, *args, **kwargs)

    def set_attn_processor(self, processor) -> None:
        """diffusers' ``set_attn_processor``, with the processor (or each of a dict's) for the audio<->video attentions
        checked first (:meth:`LTXAudioVideoAttention.check_processor`), so a refused one changes no attention."""
        for name, module in self.named_modules():
            if isinstance(module, LTXAudioVideoAttention):
                if not isinstance(processor, dict):
                    module.check_processor(processor)
                elif f"{name}.processor" in processor:
                    module.check_processor(processor[f"{name}.processor"])
        super().set_attn_processor(processor)

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
        if self.config.screen_position_features:
            coords = video_coords if video_coords is not None else grid_coords(
                hidden_states.size(0), num_frames, height, width, hidden_states.device)
            features = screen_position_features(coords, self.config.screen_position_features)
            self._screen_term = self.screen_position_proj(features.to(self.screen_position_proj.weight.dtype))
        try:
            return self._forward(
                hidden_states, encoder_hidden_states, timestep, encoder_attention_mask, num_frames, height, width,
                rope_interpolation_scale, video_coords, audio_hidden_states, audio_timestep, audio_coords,
                isolate_modalities, attention_kwargs, return_dict,
            )
        finally:
            self._screen_term = None

    def _forward(
        self, hidden_states, encoder_hidden_states, timestep, encoder_attention_mask, num_frames, height, width,
        rope_interpolation_scale, video_coords, audio_hidden_states, audio_timestep, audio_coords, isolate_modalities,
        attention_kwargs, return_dict,
    ):
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
