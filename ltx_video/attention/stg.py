"""Spatiotemporal guidance (STG) perturbations, as LTX-Video 0.9.8's ``SkipLayerStrategy``.

The perturbed pass is the last ``B`` elements of the batch ``[uncond?, cond, perturbed]``. In the
blocks of ``skip_block_list`` those elements are changed, the rest are computed as usual:

- ``attention_values``: self-attention becomes the identity map: its output is ``V`` (each token
  attends only to itself), then ``to_out`` and the block's gate and residual apply as usual.
- ``attention_skip``: the self-attention output is replaced by its input (the modulated, normed
  hidden states), then ``to_out``, gate and residual.
- ``transformer_block``: the whole block is bypassed (output = input).
- ``residual``: LTX-Video masks the attention's own residual connection, which its self-attention
  layers do not have, so in 0.9.8 this strategy leaves the perturbed pass equal to the conditional
  one (the STG term is 0). Kept, with that behaviour, so 0.9.8 configs that name it run as published.

The original builds its per-sample mask with a stride that is only right for batch size 1; here the
perturbed slice is the contiguous last third (or half), which agrees for B = 1 and is right for B > 1.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator, Sequence

import torch
from diffusers.models.attention_dispatch import dispatch_attention_fn
from diffusers.models.transformers.transformer_ltx import apply_rotary_emb

__all__ = ["STGAttnProcessor", "SkipLayerStrategy", "spatiotemporal_perturbation"]


class SkipLayerStrategy(str, enum.Enum):  # noqa: UP042 (StrEnum would change str() of members)
    ATTENTION_VALUES = "attention_values"
    ATTENTION_SKIP = "attention_skip"
    RESIDUAL = "residual"
    TRANSFORMER_BLOCK = "transformer_block"

    @classmethod
    def parse(cls, value: str | SkipLayerStrategy) -> SkipLayerStrategy:
        """Accept the names and LTX-Video's short aliases (stg_av, stg_as, stg_r, stg_t)."""
        if isinstance(value, cls):
            return value
        aliases = {"stg_av": "attention_values", "stg_as": "attention_skip", "stg_r": "residual", "stg_t": "transformer_block"}
        name = aliases.get(str(value).lower(), str(value).lower())
        try:
            return cls(name)
        except ValueError:
            choices = [s.value for s in cls] + list(aliases)
            raise ValueError(f"`skip_layer_strategy` must be one of {choices}, got {value!r}.") from None


class STGAttnProcessor:
    """LTX self-attention where batch rows ``perturbed_from:`` are perturbed (identity map or skip).

    Same maths as diffusers' ``LTXVideoAttnProcessor`` for the other rows (RMS norm across heads,
    rotary embedding over the full inner dimension, attention through diffusers' dispatch, so the
    configured attention backend applies).
    """

    def __init__(self, strategy: SkipLayerStrategy, perturbed_from: int, base=None):
        if strategy not in (SkipLayerStrategy.ATTENTION_VALUES, SkipLayerStrategy.ATTENTION_SKIP):
            raise ValueError(f"STGAttnProcessor handles attention strategies only, got {strategy.value}.")
        self.strategy = strategy
        self.perturbed_from = perturbed_from
        self._attention_backend = getattr(base, "_attention_backend", None)
        self._parallel_config = getattr(base, "_parallel_config", None)

    def __call__(
        self,
        attn,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        image_rotary_emb: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        if encoder_hidden_states is not None or attention_mask is not None:
            raise ValueError("STG perturbs self-attention only (attn1), not cross-attention.")
        split = self.perturbed_from
        keep, perturbed = hidden_states[:split], hidden_states[split:]
        value_all = attn.to_v(hidden_states)  # (B, N, inner)
        out = []
        if split > 0:
            query = attn.norm_q(attn.to_q(keep))
            key = attn.norm_k(attn.to_k(keep))
            if image_rotary_emb is not None:
                rope = tuple(r[:split] if r.shape[0] == hidden_states.shape[0] else r for r in image_rotary_emb)
                query = apply_rotary_emb(query, rope)
                key = apply_rotary_emb(key, rope)
            q, k, v = (x.unflatten(2, (attn.heads, -1)) for x in (query, key, value_all[:split]))
            attended = dispatch_attention_fn(
                q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False,
                backend=self._attention_backend, parallel_config=self._parallel_config,
            )
            out.append(attended.flatten(2, 3).to(query.dtype))
        if self.strategy is SkipLayerStrategy.ATTENTION_VALUES:
            out.append(value_all[split:])
        else:
            out.append(perturbed)
        hidden = torch.cat(out, dim=0)
        hidden = attn.to_out[0](hidden)
        return attn.to_out[1](hidden)


def _bypass_hook(perturbed_from: int):
    def hook(module, args, kwargs, output):
        hidden_in = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
        return torch.cat([output[:perturbed_from], hidden_in[perturbed_from:].to(output.dtype)], dim=0)

    return hook


@contextlib.contextmanager
def spatiotemporal_perturbation(
    transformer: torch.nn.Module,
    skip_block_list: Sequence[int],
    strategy: SkipLayerStrategy,
    perturbed_from: int,
) -> Iterator[None]:
    """Perturb batch rows ``perturbed_from:`` in the listed blocks for the duration of the context."""
    blocks = transformer.transformer_blocks
    for index in skip_block_list:
        if not 0 <= index < len(blocks):
            raise ValueError(f"`skip_block_list` entries must be in [0, {len(blocks) - 1}], got {index}.")
    saved, handles = [], []
    try:
        for index in skip_block_list:
            block = blocks[index]
            if strategy is SkipLayerStrategy.TRANSFORMER_BLOCK:
                handles.append(block.register_forward_hook(_bypass_hook(perturbed_from), with_kwargs=True))
            elif strategy is not SkipLayerStrategy.RESIDUAL:
                saved.append((block.attn1, block.attn1.processor))
                block.attn1.set_processor(STGAttnProcessor(strategy, perturbed_from, base=block.attn1.processor))
        yield
    finally:
        for attn, processor in saved:
            attn.set_processor(processor)
        for handle in handles:
            handle.remove()
