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

diffusers' ``save_pretrained`` / ``from_pretrained`` know only the stock layers: a converted transformer would save
``to_k.linear.*`` weights that load as meta or randomly initialised ``to_k`` layers. So a converted model refuses
``save_pretrained`` (the pipelines' too, before writing anything), and ``expand_attention_heads`` turns it back
into stock layers that save and load, computing the same outputs (the pooled heads repeated, no savings).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from diffusers.models.transformers.transformer_ltx import LTXAttention

from ltx_video.attention.efficient_attention import _count
from ltx_video.quantization.ltx_quantizer import FP8Linear

__all__ = [
    "GroupedProjection", "HeadConversion", "check_no_grouped_heads", "convert_attention_heads", "expand_attention_heads",
]


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
    anything changes. The converted model keeps its class and config, and diffusers' ``from_pretrained``
    cannot load its layers back, so its ``save_pretrained`` is refused (since 2026-12-07: it wrote a folder that
    loaded with meta or random K/V layers): save before converting and convert after loading, or
    :func:`expand_attention_heads` first.
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
    if hasattr(transformer, "save_pretrained"):
        # diffusers' classes (LTXVideoTransformer3DModel) cannot be changed, so the instance refuses, as an FP8 model
        # does; a partial of a module-level function, so the model still pickles
        transformer.save_pretrained = functools.partial(_save_pretrained_refused, type(transformer).__name__)
    return HeadConversion(
        num_attentions=len(attentions),
        num_heads=tuple(sorted({attn.heads for _, attn in attentions})),
        num_kv_heads=num_kv_heads,
        kv_parameters_before=before,
        kv_parameters_after=after,
    )


def _grouped_names(model: torch.nn.Module) -> list[str]:
    return [name for name, module in model.named_modules() if isinstance(module, GroupedProjection)]


def _refusal(what: str, model_name: str) -> str:
    return (
        f"{what}: {model_name} has grouped key/value heads (convert_attention_heads), which would save as layers "
        "from_pretrained cannot load: save before converting (and convert after loading), or call "
        "ltx_video.attention.grouped_query.expand_attention_heads(transformer) first to save the converted weights "
        "as stock layers."
    )


def check_no_grouped_heads(model: torch.nn.Module, what: str = "save_pretrained") -> None:
    """ValueError if ``model`` holds key/value projections converted by :func:`convert_attention_heads`, which
    diffusers' ``save_pretrained`` would write as layers its ``from_pretrained`` cannot load."""
    if _grouped_names(model):
        raise ValueError(_refusal(what, type(model).__name__))


def _save_pretrained_refused(model_name: str, *args, **kwargs) -> None:
    raise ValueError(_refusal("save_pretrained", model_name))


def _repeat_heads(rows: torch.Tensor, group: int, head_dim: int) -> torch.Tensor:
    """(kv heads * D, ...) -> (heads * D, ...): each head's rows repeated ``group`` times, as forward repeats them."""
    if rows.dtype.itemsize == 1 and rows.is_floating_point():  # float8: repeat its bytes (not every device indexes it)
        return _repeat_heads(rows.view(torch.uint8), group, head_dim).view(rows.dtype)
    return rows.unflatten(0, (-1, head_dim)).repeat_interleave(group, dim=0).flatten(0, 1)


def _expanded_fp8(pooled: FP8Linear, group: int, head_dim: int) -> FP8Linear:
    """The ``FP8Linear`` with the pooled heads' float8 rows, channel scales and bias repeated: the same values."""
    bias = None if pooled.bias is None else _repeat_heads(pooled.bias.detach(), group, head_dim)
    linear = FP8Linear.from_weights(
        _repeat_heads(pooled.weight, group, head_dim), _repeat_heads(pooled.weight_scale, group, head_dim), bias
    )
    if pooled.input_scale is not None:  # static activations: one scale per layer, the same inputs
        linear.set_input_scale(pooled.input_scale)
    linear.matmul = pooled.matmul
    return linear


def _expanded_linear(pooled: torch.nn.Linear, group: int, head_dim: int) -> torch.nn.Linear:
    linear = torch.nn.Linear(
        pooled.in_features, pooled.out_features * group, bias=pooled.bias is not None,
        device=pooled.weight.device, dtype=pooled.weight.dtype,
    )
    with torch.no_grad():
        linear.weight.copy_(_repeat_heads(pooled.weight, group, head_dim))
        if pooled.bias is not None:
            linear.bias.copy_(_repeat_heads(pooled.bias, group, head_dim))
    linear.requires_grad_(pooled.weight.requires_grad)
    return linear


def expand_attention_heads(transformer: torch.nn.Module) -> int:
    """Undo the structure of :func:`convert_attention_heads`, in place: each ``GroupedProjection`` becomes a plain
    ``nn.Linear`` whose weights are the pooled heads repeated, so the transformer computes the same outputs and
    saves and loads as the stock class (the parameter savings go; the original, unpooled heads are not restored).
    A pooled projection that ``quantize_fp8`` made an ``FP8Linear`` becomes an ``FP8Linear`` with its float8 rows
    and scales repeated (same outputs; save it with ``save_fp8``). Returns the number of projections expanded."""
    names = _grouped_names(transformer)
    wrapped = [n for n in names if not isinstance(transformer.get_submodule(n).linear, (torch.nn.Linear, FP8Linear))]
    if wrapped:  # checked before anything changes
        layer = transformer.get_submodule(wrapped[0]).linear
        raise ValueError(f"expand_attention_heads: {wrapped[0]}.linear is a {type(layer).__name__}; only nn.Linear "
                         "and FP8Linear projections can be expanded (unload or merge LoRA adapters first).")
    for name in names:
        grouped = transformer.get_submodule(name)
        expand = _expanded_fp8 if isinstance(grouped.linear, FP8Linear) else _expanded_linear
        linear = expand(grouped.linear, grouped.group, grouped.head_dim)
        parent, _, child = name.rpartition(".")
        setattr(transformer.get_submodule(parent) if parent else transformer, child, linear)
    refusal = vars(transformer).get("save_pretrained")
    if isinstance(refusal, functools.partial) and refusal.func is _save_pretrained_refused:
        del transformer.save_pretrained  # the class's own again
    return len(names)
