"""A LoRA that stands for a fine-tune: each linear layer's weight change cut to its leading singular directions.

A fine-tune of the whole transformer (the ``camera`` stage's) changes every weight; shipping it as a second model
would double the package and replace the model whose figures the docs report. The change of each ``nn.Linear``,
``W_tuned - W_base``, is written instead as ``B @ A`` of rank ``rank`` (the truncated SVD, the best rank-``rank``
approximation in the Frobenius norm) and the change of its bias as ``lora_B.bias``, in the format diffusers'
``save_lora_weights`` / ``load_lora_weights`` read through peft. Every layer gets the same rank (zero directions
pad the layers narrower than it), so each layer's scale is 1 whatever diffusers version reads the file. That format
gives every layer of a file a ``lora_B.bias`` or none (diffusers sets peft's ``lora_bias`` from any such key), and
``fuse_lora`` cannot merge one into a layer without a bias: the biases go in only when one changed and every layer
of the LoRA has one.

What a LoRA cannot carry is reported, not dropped silently: parameters outside linear layers (LTX's per-block
``scale_shift_table``, the query/key RMSNorm weights), and bias changes beside a layer without a bias, keep the
base model's values, and :func:`extract_lora` lists how far each moved. Whether the LoRA still does what the
fine-tune did is for a benchmark to say.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn as nn

__all__ = ["LoraExtraction", "extract_lora"]


@dataclass
class LoraExtraction:
    """``state_dict``: peft-format LoRA layers (``"<module>.lora_A.weight"`` (rank, in), ``"<module>.lora_B.weight"``
    (out, rank), ``"<module>.lora_B.bias"`` (out,) for every module when a bias changed and every module has one),
    for ``save_lora_weights(transformer_lora_layers=...)``.
    ``change``: per module, the squared Frobenius norm of its weight change; ``kept``: the share of it the rank
    keeps (1.0: exact). ``left_out``: per parameter that changed and the LoRA does not carry (outside linear layers;
    the linear layers' biases when a layer of the LoRA has none), its largest absolute change."""

    state_dict: dict[str, torch.Tensor]
    rank: int
    change: dict[str, float] = field(default_factory=dict)
    kept: dict[str, float] = field(default_factory=dict)
    left_out: dict[str, float] = field(default_factory=dict)

    @property
    def kept_overall(self) -> float:
        """The share of all the linear layers' weight change (squared norm, summed) that the LoRA keeps."""
        total = sum(self.change.values())
        return sum(self.kept[name] * self.change[name] for name in self.kept) / total if total > 0 else 1.0


@torch.no_grad()
def extract_lora(base: nn.Module, tuned: nn.Module, rank: int, *, dtype: torch.dtype = torch.float32) -> LoraExtraction:
    """The rank-``rank`` LoRA of ``tuned`` over ``base`` (two instances of one architecture).

    Linear layers whose weight and bias did not change are left out. Raises ValueError when the two models'
    parameter names or shapes differ, or ``rank`` is not positive.
    """
    if rank < 1:
        raise ValueError(f"rank must be >= 1, got {rank!r}")
    base_params, tuned_params = dict(base.named_parameters()), dict(tuned.named_parameters())
    if base_params.keys() != tuned_params.keys():
        differing = sorted(base_params.keys() ^ tuned_params.keys())
        raise ValueError(f"base and tuned models differ in their parameters: {differing[:5]}")
    for name, value in base_params.items():
        if value.shape != tuned_params[name].shape:
            raise ValueError(f"{name}: base {tuple(value.shape)} but tuned {tuple(tuned_params[name].shape)}")

    base_modules = dict(base.named_modules())
    state, kept, change, covered, biases = {}, {}, {}, set(), {}
    for name, module in tuned.named_modules():
        if not isinstance(module, nn.Linear):
            continue
        reference = base_modules[name]
        covered.add(f"{name}.weight")
        delta = module.weight.double() - reference.weight.double()
        bias = None if module.bias is None else module.bias.double() - reference.bias.double()
        if not delta.any() and (bias is None or not bias.any()):
            continue
        u, s, vh = torch.linalg.svd(delta, full_matrices=False)
        r = min(rank, s.numel())
        root = s[:r].sqrt()
        down = torch.zeros(rank, module.in_features, dtype=torch.float64, device=delta.device)
        up = torch.zeros(module.out_features, rank, dtype=torch.float64, device=delta.device)
        down[:r], up[:, :r] = root[:, None] * vh[:r], u[:, :r] * root
        state[f"{name}.lora_A.weight"] = down.to(dtype)
        state[f"{name}.lora_B.weight"] = up.to(dtype)
        biases[name] = bias
        total = float((s**2).sum())
        change[name] = total
        kept[name] = float((s[:r] ** 2).sum()) / total if total > 0 else 1.0
    # diffusers reads lora_bias for the whole file from whether any lora_B.bias key is there, and peft cannot merge
    # a LoRA bias into a layer without one (fuse_lora failed half-way): the bias changes go in only when one moved
    # and every layer of the LoRA has a bias, and then for all of them; else they are reported as left out, and the
    # layers whose weight did not move leave the LoRA
    moved = any(bias is not None and bias.any() for bias in biases.values())
    if moved and all(bias is not None for bias in biases.values()):
        covered.update(f"{name}.bias" for name in biases)
        state.update({f"{name}.lora_B.bias": bias.to(dtype) for name, bias in biases.items()})
    else:
        for name in [name for name, total in change.items() if total == 0]:
            del state[f"{name}.lora_A.weight"], state[f"{name}.lora_B.weight"], change[name], kept[name]
    left_out = {}
    for name, value in tuned_params.items():
        if name not in covered:
            moved = float((value.double() - base_params[name].double()).abs().max())
            if moved > 0:
                left_out[name] = moved
    return LoraExtraction(state_dict=state, rank=rank, change=change, kept=kept, left_out=left_out)
