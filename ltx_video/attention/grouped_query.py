"""Grouped-query (GQA) and multi-query (MQA) attention for pretrained LTX transformers.

``convert_attention_heads(transformer, num_kv_heads)`` turns each attention's H key/value heads into
``num_kv_heads`` by mean-pooling the K and V projection weights of each group of H / num_kv_heads
adjacent heads (Ainslie et al. 2023, "GQA: Training Generalized Multi-Query Transformer Models from
Multi-Head Checkpoints", section 2.1; they then "uptrain" for ~5% of the pre-training steps, which this
function does not do).

Two LTX specifics decide where the shared heads are expanded back to H heads:

- LTX's rotary embedding spans the full inner dimension (H x D): every head rotates at its own
  frequencies. A key head shared by G query heads must be rotated at each of their frequencies, or
  relative positions stop lining up, so the pooled keys are repeated to H heads *before* the rotary.
- LTX's key RMS norm is one norm across all heads (``rms_norm_across_heads``) with a gain per feature.
  Applying the original ``norm_k`` to the repeated keys keeps every query head's own gain, and because
  repeating does not change a vector's RMS, the statistic is the pooled keys' RMS; the norm also
  restores the magnitude that averaging heads shrinks, which keeps the softmax temperature.

So the saving is in parameters and projection FLOPs (the K and V projections shrink by H /
num_kv_heads); attention itself still runs over H key heads. Diffusion transformers keep no KV cache,
so the KV-cache saving that motivates MQA in language models does not arise here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers.models.transformers.transformer_ltx import LTXAttention

from ltx_video.attention.efficient_attention import _count

__all__ = ["GroupedProjection", "HeadConversion", "convert_attention_heads"]


class GroupedProjection(torch.nn.Module):
    """A K or V projection with ``heads / group`` heads whose output is repeated to ``heads`` heads.

    It replaces ``attn.to_k`` / ``attn.to_v`` in place, so every attention processor (diffusers'
    ``LTXVideoAttnProcessor``, STG's, the audio<->video one) sees full-width keys and values and applies
    ``norm_k`` and the rotary embedding after the repetition, as the module docstring requires.
    """

    def __init__(self, linear: torch.nn.Linear, group: int, head_dim: int):
        super().__init__()
        self.linear, self.group, self.head_dim = linear, group, head_dim

    @property
    def in_features(self) -> int:
        return self.linear.in_features

    @property
    def out_features(self) -> int:  # the width the attention sees, after the repetition
        return self.linear.out_features * self.group

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        pooled = self.linear(states)
        return pooled.unflatten(-1, (-1, self.head_dim)).repeat_interleave(self.group, dim=-2).flatten(-2)


@dataclass(frozen=True)
class HeadConversion:
    """What ``convert_attention_heads`` changed."""

    num_attentions: int
    num_heads: tuple[int, ...]  # distinct head counts of the converted attentions
    num_kv_heads: int
    kv_parameters_before: int
    kv_parameters_after: int

    @property
    def kv_parameter_savings(self) -> float:
        return 1.0 - self.kv_parameters_after / self.kv_parameters_before


def _pool_linear(linear: torch.nn.Linear, groups: int, head_dim: int) -> torch.nn.Linear:
    pooled = torch.nn.Linear(
        linear.in_features,
        groups * head_dim,
        bias=linear.bias is not None,
        device=linear.weight.device,
        dtype=linear.weight.dtype,
    )
    with torch.no_grad():
        weight = linear.weight.float().unflatten(0, (groups, -1, head_dim)).mean(dim=1)
        pooled.weight.copy_(weight.flatten(0, 1))
        if linear.bias is not None:
            pooled.bias.copy_(linear.bias.float().unflatten(0, (groups, -1, head_dim)).mean(dim=1).flatten())
    pooled.requires_grad_(linear.weight.requires_grad)
    return pooled


def _kv_parameters(attn: LTXAttention) -> int:
    return sum(p.numel() for layer in (attn.to_k, attn.to_v) for p in layer.parameters())


def convert_attention_heads(transformer: torch.nn.Module, num_kv_heads: int) -> HeadConversion:
    """Convert every ``LTXAttention`` in ``transformer`` to ``num_kv_heads`` key/value heads, in place.

    Works on diffusers' ``LTXVideoTransformer3DModel`` and on ``LTXAudioVideoTransformer3DModel`` (video
    and audio blocks, and the audio<->video cross-attentions). ``num_kv_heads=1`` is multi-query
    attention; ``num_kv_heads`` must divide every attention's head count. Everything is checked before
    anything changes. The converted model keeps its class and config, so ``save_pretrained`` output
    does not load back into the stock class: convert after loading.
    """
    num_kv_heads = _count(num_kv_heads, "`num_kv_heads`")  # NumPy integers too, as an int from here on
    attentions = [(name, m) for name, m in transformer.named_modules() if isinstance(m, LTXAttention)]
    if not attentions:
        raise ValueError(f"{type(transformer).__name__} has no LTXAttention modules to convert.")
    for name, attn in attentions:
        if isinstance(attn.to_k, GroupedProjection):
            raise ValueError(f"{name} is already converted to {attn.heads // attn.to_k.group} key/value heads.")
        if attn.heads % num_kv_heads:
            raise ValueError(
                f"`num_kv_heads` must divide the head count; {name} has {attn.heads} heads, got {num_kv_heads}."
            )
        if type(attn.to_k) is not torch.nn.Linear or type(attn.to_v) is not torch.nn.Linear:
            raise ValueError(
                f"{name}: to_k / to_v must be plain nn.Linear (not LoRA-wrapped or quantized) to pool them."
            )
        if attn.to_k.out_features != attn.heads * attn.head_dim:
            raise ValueError(f"{name} already has fewer key/value heads than query heads.")
    before = sum(_kv_parameters(attn) for _, attn in attentions)
    for _, attn in attentions:
        group = attn.heads // num_kv_heads
        attn.to_k = GroupedProjection(_pool_linear(attn.to_k, num_kv_heads, attn.head_dim), group, attn.head_dim)
        attn.to_v = GroupedProjection(_pool_linear(attn.to_v, num_kv_heads, attn.head_dim), group, attn.head_dim)
    after = sum(_kv_parameters(attn) for _, attn in attentions)
    return HeadConversion(
        num_attentions=len(attentions),
        num_heads=tuple(sorted({attn.heads for _, attn in attentions})),
        num_kv_heads=num_kv_heads,
        kv_parameters_before=before,
        kv_parameters_after=after,
    )
