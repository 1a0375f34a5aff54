"""FP8 (E4M3) weight quantization of LTX transformers, per output channel, with a preservation policy.

``quantize_fp8(model, policy)`` replaces the chosen ``nn.Linear`` layers by ``FP8Linear``: weights in
``float8_e4m3fn`` with one float32 scale per output channel, ``scale[c] = max |W[c]| / 448``, and the
bias in high precision. Everything else (``proj_in``/``proj_out``, norms, timestep and caption
embeddings, scale-shift tables) stays as it is; VAEs and text encoders are never touched.

E4M3 has 3 mantissa bits, so once a weight is in the format's normal range its relative rounding error
is set by the mantissa, not by the scale: per-channel and per-tensor scales give almost the same error,
and the gain over an unscaled cast (diffusers' layerwise casting) comes from small weights that an
unscaled cast pushes into the subnormal range. Two data-aware options go further, both from a few
calibration forward passes (``calibration``: a list of keyword-argument dicts for ``model(**kwargs)``):

- ``rounding="gptq"``: error-compensating rounding (Frantar et al. 2022, "GPTQ"): columns are rounded
  one at a time and the rounding error is spread over the columns not yet rounded, weighted by the
  inverse of the layer's input second-moment matrix ``E[x x^T]``, so the layer's *output* error shrinks
  rather than each weight's.
- ``keep_fraction``: the most sensitive layers stay in high precision, up to that fraction of the
  quantizable weights. Sensitivity is measured: the model's output error with that layer alone rounded, over
  every calibration input and every output (video and audio, each relative to its own norm).
  In LTX the text cross-attention (``attn2``, added to the residual without a gate) dominates.

Weights that already are E4M3 values (LTX-Video's published ``*fp8*.safetensors`` files hold unscaled
e4m3 casts) are kept exactly, with unit scales.

``FP8Linear.forward`` dequantizes to the input's dtype on any device. On CUDA GPUs with FP8 tensor cores
(compute capability >= 8.9) it runs a real FP8 GEMM (``torch._scaled_mm``) instead, and anywhere
``_scaled_mm`` runs (the CPU through oneDNN) when asked to with ``set_fp8_matmul(model, "fp8")``. The
activations are quantized either per row at run time (``activations="dynamic"``: an absmax reduction,
a divide, a clamp and a cast before every GEMM) or with one scale per layer measured on the calibration
inputs (``activations="static"``: a multiply, a clamp and a cast, which ``torch.compile`` fuses into the
op that produced the activations).
"""

from __future__ import annotations

import fnmatch
import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from ltx_video.quantization.policy import FP8QuantizationPolicy

__all__ = [
    "FP8Linear",
    "fp8_weight_bytes",
    "FP8QuantizationPolicy",
    "FP8_MAX",
    "is_fp8_quantized",
    "quantize_fp8",
    "set_fp8_matmul",
]

FP8_DTYPE = getattr(torch, "float8_e4m3fn", None)
FP8_MAX = 448.0
MATMULS = ("auto", "fp8", "dequantize")

logger = logging.getLogger(__name__)


def _require_float8() -> None:
    if FP8_DTYPE is None:
        raise RuntimeError(
            f"FP8 quantization needs torch.float8_e4m3fn (PyTorch >= 2.1); this torch {torch.__version__} has none."
        )


# ----------------------------------------------------------------------------- the layer
# (device, dtype, bias) where _scaled_mm cannot run at all: a small shape-legal probe failed too (see _gemm_failed)
_FP8_GEMM_FAILED: set[tuple[str, torch.dtype, bool]] = set()


def _fp8_gemm_available(x: torch.Tensor, layer: FP8Linear) -> bool:
    # a wrong width is the caller's error, which F.linear names; it says nothing of the GEMM (no record)
    if (layer.matmul == "dequantize" or x.shape[-1] != layer.in_features or not hasattr(torch, "_scaled_mm")
            or getattr(layer, "gemm_refused", None) is not None  # (absent in layers pickled before 2026-12-08)
            or (str(x.device), x.dtype, layer.bias is not None) in _FP8_GEMM_FAILED):
        return False
    if layer.matmul == "fp8":  # wherever _scaled_mm runs (CUDA >= 8.9, the CPU through oneDNN)
        return x.dtype in (torch.bfloat16, torch.float16, torch.float32)
    return (
        x.is_cuda
        and torch.version.hip is None  # ROCm wants e4m3fnuz
        and x.dtype == torch.bfloat16  # row-wise scaled_mm outputs bf16 on every release that has it
        and torch.cuda.get_device_capability(x.device) >= (8, 9)
        and layer.in_features % 16 == 0
        and layer.out_features % 16 == 0
    )


def _scaled_mm_runs(device: torch.device, dtype: torch.dtype, bias: bool) -> bool:
    """Whether ``torch._scaled_mm`` runs a small, shape-legal row-scaled GEMM (16 x 32 x 16, contiguous) as
    ``FP8Linear`` calls it: tells a device or torch that lacks the GEMM from a layer or input it refused."""
    a = torch.ones(16, 32, device=device).to(FP8_DTYPE)
    try:
        torch._scaled_mm(a, a.t(), scale_a=torch.ones(16, 1, device=device), scale_b=torch.ones(1, 16, device=device),
                         bias=torch.zeros(16, device=device, dtype=dtype) if bias else None, out_dtype=dtype)
    except torch.OutOfMemoryError:
        raise
    except (RuntimeError, ValueError):
        return False
    return True


class FP8Linear(nn.Module):
    """``nn.Linear`` with ``float8_e4m3fn`` weights and a float32 scale per output channel.

    ``weight`` and ``weight_scale`` are buffers, so ``model.to(dtype)`` keeps them as they are (and
    ``model.dtype`` stays the compute dtype); ``.to(device)`` moves them. ``bias`` stays in high precision.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=torch.float32):
        _require_float8()
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.register_buffer("weight", torch.zeros(out_features, in_features, device=device, dtype=FP8_DTYPE))
        self.register_buffer("weight_scale", torch.ones(out_features, device=device, dtype=torch.float32))
        self.bias = (
            nn.Parameter(torch.zeros(out_features, device=device, dtype=dtype), requires_grad=False) if bias else None
        )
        self.matmul = "auto"  # see set_fp8_matmul
        self.gemm_refused: str | None = None  # why _scaled_mm refused this layer (it then dequantizes); not the platform
        self.register_buffer("input_scale", None)  # static activation scale (1,); None: dynamic, not in the state dict

    @property
    def use_fp8_matmul(self) -> bool:
        return self.matmul != "dequantize"

    @use_fp8_matmul.setter
    def use_fp8_matmul(self, value: bool) -> None:
        self.matmul = "auto" if value else "dequantize"

    def set_input_scale(self, scale: float | torch.Tensor) -> None:
        """Quantize this layer's inputs with one fixed scale (static activations) in the FP8 GEMM."""
        scale = torch.as_tensor(scale, dtype=torch.float32, device=self.weight.device).reshape(1)
        if not (torch.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError(f"FP8Linear input scale must be a positive finite number, got {scale.item()!r}.")
        self.input_scale = scale.clone()

    @classmethod
    def from_weights(cls, weight: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None) -> FP8Linear:
        layer = cls(
            weight.shape[1],
            weight.shape[0],
            bias is not None,
            device=weight.device,
            dtype=bias.dtype if bias is not None else torch.float32,
        )
        layer.weight.copy_(weight)
        layer.weight_scale.copy_(scale)
        if bias is not None:
            layer.bias.data.copy_(bias.detach())
        return layer

    def _apply(self, fn, recurse=True):
        kept = {name: getattr(self, name) for name in ("weight", "weight_scale", "input_scale")}
        super()._apply(fn, recurse)
        # A dtype cast (model.to(torch.bfloat16)) must not touch the float8 weight or the float32 scales:
        # where `fn` changed a dtype, take the original again on the new device.
        for name, original in kept.items():
            now = getattr(self, name)
            if original is not None and now.dtype != original.dtype:
                setattr(self, name, original.to(now.device))
        return self

    def dequantized_weight(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        # in float32, then cast: a float16 scale below 6e-5 (max |W[c]| < 0.027) is subnormal and loses bits
        return self.weight.float().mul_(self.weight_scale[:, None]).to(dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _fp8_gemm_available(x, self):
            try:
                return self._fp8_gemm(x)
            except torch.OutOfMemoryError:  # a RuntimeError too: not a missing kernel, so FP8 stays on
                raise
            except (RuntimeError, ValueError) as error:
                self._gemm_failed(x, str(error).partition("\n")[0][:200] or type(error).__name__)
        bias = None if self.bias is None else self.bias.to(x.dtype)
        return F.linear(x, self.dequantized_weight(x.dtype), bias)

    def _gemm_failed(self, x: torch.Tensor, reason: str) -> None:
        """Where ``_scaled_mm`` cannot run at all (a small shape-legal probe fails too), every FP8 layer dequantizes
        on that device for that dtype from now on; where only this layer was refused (its shape), this layer does.
        (Until 2026-12-08 any failure, one empty batch included, turned the GEMM off for every model.)"""
        bias = self.bias is not None
        if not _scaled_mm_runs(x.device, x.dtype, bias):
            _FP8_GEMM_FAILED.add((str(x.device), x.dtype, bias))
            logger.warning("FP8Linear: torch._scaled_mm failed on %s for %s inputs (%s); FP8 layers dequantize "
                           "their weights there from now on.", x.device, x.dtype, reason)
        else:
            self.gemm_refused = reason
            logger.warning("FP8Linear(in_features=%d, out_features=%d): torch._scaled_mm refused this layer on %s for "
                           "%s inputs (%s); it dequantizes its weights from now on (set_fp8_matmul tries again).",
                           self.in_features, self.out_features, x.device, x.dtype, reason)

    def _fp8_gemm(self, x: torch.Tensor) -> torch.Tensor:
        # float16's range (normal from 6e-5, at most 65504) holds neither the scale of a zero or small row (0: NaN)
        # nor the inverse of a small static scale (inf: zeros out), so float16 rows are scaled in float32; bf16 has
        # float32's range and is scaled as it is (no float32 copy)
        rows = x.reshape(-1, self.in_features)
        if rows.shape[0] == 0:  # an empty batch: _scaled_mm rejects its (0, 1) scales' strides
            return x.new_empty(*x.shape[:-1], self.out_features)
        rows = rows.float() if rows.dtype == torch.float16 else rows
        # one scale, rounded to the rows' dtype, divides and (as float32) rescales: no gain bias per row
        if self.input_scale is None:  # dynamic: one scale per row, from its absmax
            scale = (rows.abs().amax(dim=1, keepdim=True).float().clamp_min(1e-12) / FP8_MAX).to(rows.dtype)
            x_fp8, x_scale = (rows / scale).clamp(-FP8_MAX, FP8_MAX).to(FP8_DTYPE), scale.float().contiguous()
        else:  # static: no reduction; row-wise _scaled_mm wants an (M, 1) scale, so it is broadcast
            inverse = (1.0 / self.input_scale).to(rows.dtype)
            x_fp8 = (rows * inverse).clamp(-FP8_MAX, FP8_MAX).to(FP8_DTYPE)
            x_scale = (1.0 / inverse.float()).expand(rows.shape[0], 1).contiguous()
        out = torch._scaled_mm(
            x_fp8.contiguous(),  # row-major, as CUDA wants: elementwise ops keep a transposed input's strides
            self.weight.t(),
            scale_a=x_scale,
            scale_b=self.weight_scale[None, :],
            bias=None if self.bias is None else self.bias.to(x.dtype),
            out_dtype=x.dtype,
        )
        return out.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        activations = "dynamic" if self.input_scale is None else "static"
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, "
            f"fp8_e4m3, activations={activations}"
        )


def is_fp8_quantized(model: nn.Module) -> bool:
    return any(isinstance(m, FP8Linear) for m in model.modules())


def is_lora_layer(module: nn.Module) -> bool:
    """Whether ``module`` is one of peft's LoRA layers (wrapping a base layer)."""
    return hasattr(module, "base_layer") and hasattr(module, "lora_A")


def lora_layers(model: nn.Module) -> list[nn.Module]:
    """peft's LoRA layers in ``model``, in module order."""
    return [module for module in model.modules() if is_lora_layer(module)]


def held_adapters(layer: nn.Module) -> set[str]:
    """The adapter names a peft LoRA layer holds (in any of its adapter parts)."""
    return {name for attr in getattr(layer, "adapter_layer_names", ("lora_A",)) for name in getattr(layer, attr, {})}


def has_lora_layers(model: nn.Module) -> bool:
    """Whether peft's LoRA layers wrap any of ``model``'s layers (adapters loaded and not unloaded)."""
    return bool(lora_layers(model))


def empty_lora_layers(model: nn.Module) -> int:
    """How many peft LoRA layers wrap ``model``'s layers when none of them holds an adapter any more (0 otherwise):
    ``delete_adapters`` removes the adapters and keeps the wrappers, which ``unload_lora()`` then takes out."""
    layers = lora_layers(model)
    return 0 if any(held_adapters(m) for m in layers) else len(layers)


def unmerged_lora_adapters(model: nn.Module) -> set[str]:
    """The names of the LoRA adapters that peft layers of ``model`` hold and have not merged into their weights
    (``fuse_lora`` merges them and keeps the layers until ``unload_lora()``)."""
    return {name for module in lora_layers(model)
            for name in held_adapters(module) - set(getattr(module, "merged_adapters", ()))}


def layerwise_casting_dtype(model: nn.Module) -> torch.dtype | None:
    """The storage dtype of diffusers' layerwise casting (``model.enable_layerwise_casting``) on any of ``model``'s
    modules, None without it."""
    for module in model.modules():
        registry = getattr(module, "_diffusers_hook", None)
        hook = registry.get_hook("layerwise_casting") if registry is not None else None
        if hook is not None:
            return hook.storage_dtype
    return None


def check_no_float8_storage(model: nn.Module, caller: str) -> None:
    """ValueError when diffusers' layerwise casting already stores ``model``'s weights in a float8 dtype: rounding
    them again failed deep inside with NotImplementedError ("le_cpu" not implemented for 'Float8_e4m3fn'), and the
    casting hook cannot be taken off (diffusers' ``deinitalize_hook`` raises)."""
    storage = layerwise_casting_dtype(model)
    if storage is not None and storage.is_floating_point and storage.itemsize == 1:
        raise ValueError(f"{caller}: layerwise casting (enable_layerwise_casting) already stores the transformer's "
                         f"weights in {str(storage).removeprefix('torch.')}, and diffusers cannot switch it off: "
                         "reload the transformer without it to use FP8 quantization (or keep layerwise casting "
                         "alone).")


def check_quantizable(model: nn.Module, caller: str, subject: str) -> None:
    """ValueError (naming ``subject``, e.g. "enable_fp8: the transformer") when ``model`` cannot be quantized as it
    is: already FP8, float8 storage of layerwise casting, or peft LoRA layers (adapters not merged, merged ones
    whose layers ``fuse_lora`` keeps, or the empty wrappers ``delete_adapters`` leaves). ``enable_fp8`` runs it
    before any calibration, ``quantize_fp8`` first."""
    if is_fp8_quantized(model):
        raise ValueError(f"{subject} is already FP8-quantized; quantize the full-precision model.")
    check_no_float8_storage(model, caller)
    if not has_lora_layers(model):
        return
    if empty := empty_lora_layers(model):  # after delete_adapters: nothing to merge, only the wrappers to take out
        raise ValueError(f"{subject} holds {empty} LoRA layers of peft with no adapter left (delete_adapters keeps "
                         "the layers): remove them with pipe.unload_lora_weights() (model.unload_lora() on a bare "
                         "transformer), which leaves the output as it is, then quantize.")
    # FP8 would take the adapters' own lora_A / lora_B layers, which peft cannot run
    if not unmerged_lora_adapters(model):  # fuse_lora() done: the merged weights are in, the peft layers remain
        raise ValueError(f"{subject} holds LoRA adapters already merged with fuse_lora(), whose peft layers remain: "
                         "remove them with pipe.unload_lora_weights() (model.unload_lora() on a bare transformer), "
                         "which keeps the merged weights, then quantize.")
    raise ValueError(f"{subject} holds LoRA adapters (load_lora_weights), and FP8 cannot take unmerged LoRA adapters: "
                     "merge them first with pipe.fuse_lora() then pipe.unload_lora_weights() (model.fuse_lora() then "
                     "model.unload_lora() on a bare transformer), then quantize.")


def set_fp8_matmul(model: nn.Module, mode: str) -> int:
    """How ``model``'s ``FP8Linear`` layers multiply; returns how many layers were set.

    ``"auto"`` (default): the FP8 GEMM for bf16 inputs on CUDA GPUs with compute capability >= 8.9,
    dequantizing elsewhere. ``"fp8"``: the FP8 GEMM wherever ``torch._scaled_mm`` runs, the CPU
    included (oneDNN), for bf16, fp16 and fp32 inputs. ``"dequantize"``: always dequantize the weight
    to the input's dtype (the reference; only the weights are rounded). Where ``_scaled_mm`` cannot run
    at all, every layer dequantizes on that device for that dtype from then on; a layer it refused alone
    dequantizes until ``set_fp8_matmul`` is called again.
    """
    if mode not in MATMULS:
        raise ValueError(f"set_fp8_matmul `mode` must be one of {MATMULS}, got {mode!r}.")
    layers = [m for m in model.modules() if isinstance(m, FP8Linear)]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no FP8Linear layers: quantize_fp8 it first.")
    for layer in layers:
        layer.matmul, layer.gemm_refused = mode, None
    return len(layers)


# ----------------------------------------------------------------------------- rounding
def channel_scales(weight: torch.Tensor) -> torch.Tensor:
    """``max |W[c]| / 448`` per output channel (rows of zeros get scale 1)."""
    amax = weight.detach().float().abs().amax(dim=1)
    return torch.where(amax > 0, amax / FP8_MAX, torch.ones_like(amax))


def round_nearest(weight: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return (weight.detach().float() / scale[:, None]).clamp(-FP8_MAX, FP8_MAX).to(FP8_DTYPE)


def _is_e4m3(weight: torch.Tensor) -> bool:
    w = weight.detach()
    return bool((w.abs() <= FP8_MAX).all()) and torch.equal(w.to(FP8_DTYPE).to(w.dtype), w)


# ----------------------------------------------------------------------------- calibration
def _model_outputs(model: nn.Module, kwargs: Mapping[str, Any]) -> list[torch.Tensor]:
    """Every tensor ``model(**kwargs)`` returns, in float32: (video, audio) of the audio-video transformer (audio
    None without audio inputs: left out), a diffusers output's fields, or the one tensor."""
    out = model(**kwargs)
    if isinstance(out, Mapping):  # diffusers' BaseOutput is an OrderedDict of its fields that are not None
        out = tuple(out.values())
    elif not isinstance(out, (tuple, list)):
        out = (out,)
    return [o.detach().float() for o in out if torch.is_tensor(o)]


def _calibrate(model: nn.Module, names: Sequence[str], calibration: Sequence[dict], record) -> None:
    """Run the calibration passes with ``record(name, x)`` called on each named layer's input ``x``."""
    handles = [
        model.get_submodule(n).register_forward_hook(lambda module, args, output, n=n: record(n, args[0].detach()))
        for n in names
    ]
    try:
        with torch.no_grad():
            for kwargs in calibration:
                model(**kwargs)
    finally:
        for handle in handles:
            handle.remove()


def _input_absmax(model: nn.Module, names: Sequence[str], calibration: Sequence[dict]) -> dict[str, float]:
    """The largest |input| of each named layer over the calibration passes (layers that never ran: absent)."""
    peaks: dict[str, float] = {}

    def record(name, x):
        peaks[name] = max(peaks.get(name, 0.0), x.abs().max().item())

    _calibrate(model, names, calibration, record)
    return peaks


def _sensitivities(model: nn.Module, names: Sequence[str], calibration: Sequence[dict]) -> dict[str, float]:
    """Output error with each layer alone rounded to FP8 (nearest): the root mean square, over every calibration
    input and every output (video and audio), of that output's error relative to its norm. Each output is
    measured against its own norm, so the audio stream's layers count at their audio error, not at the (at
    initialisation zero) change they make to the video. An output that is zero on an input has no relative error
    there and is left out."""
    with torch.no_grad():
        references = [_model_outputs(model, kwargs) for kwargs in calibration]
        norms = [[r.norm() for r in outputs] for outputs in references]
        result = {}
        for name in names:
            linear = model.get_submodule(name)
            original = linear.weight.data
            scale = channel_scales(original)
            linear.weight.data = (round_nearest(original, scale).float() * scale[:, None]).to(original.dtype)
            try:
                squares = [
                    ((out - ref).norm() / norm) ** 2
                    for kwargs, refs, ref_norms in zip(calibration, references, norms, strict=True)
                    for out, ref, norm in zip(_model_outputs(model, kwargs), refs, ref_norms, strict=True)
                    if norm > 0
                ]
            finally:
                linear.weight.data = original
            result[name] = torch.stack(squares).mean().sqrt().item() if squares else 0.0
    return result


def _most_sensitive(names, sensitivities, sizes, fraction) -> set[str]:
    """Greedy: most squared output error per weight first, until ``fraction`` of the weights is kept."""
    budget, kept, used = fraction * sum(sizes[n] for n in names), set(), 0
    for name in sorted(names, key=lambda n: sensitivities[n] ** 2 / sizes[n], reverse=True):
        if used + sizes[name] <= budget:
            kept.add(name)
            used += sizes[name]
    return kept


def _calibration_list(calibration: Iterable[Mapping[str, Any]] | None) -> list[Mapping[str, Any]] | None:
    """``calibration`` read once into a list: GPTQ moments, static scales and sensitivities each take a pass over
    it, and a one-shot iterator would leave every pass after the first without data."""
    if calibration is None:
        return None
    if isinstance(calibration, (str, bytes, Mapping)) or not isinstance(calibration, Iterable):
        raise ValueError("`calibration` must be a list (or iterable) of keyword-argument dicts for model(**kwargs), "
                         f"got a {type(calibration).__name__}.")
    items = list(calibration)
    wrong = [type(item).__name__ for item in items if not isinstance(item, Mapping)]
    if wrong:
        raise ValueError(f"`calibration` must hold keyword-argument dicts for model(**kwargs), got a {wrong[0]} in it.")
    return items


def _warn_unseen(names: Sequence[str], moments: dict, peaks: dict, policy: FP8QuantizationPolicy) -> None:
    """A layer the calibration passes never reached has no data to round or scale with: say so, not silently."""
    measured = [m for m, used in ((moments, policy.rounding == "gptq"), (peaks, policy.activations == "static")) if used]
    unseen = [n for n in names if any(n not in m for m in measured)]
    if unseen:
        logger.warning("quantize_fp8: %d of %d layers never ran on the calibration inputs (e.g. %s): they get "
                       "nearest rounding and dynamic activation scales.", len(unseen), len(names), unseen[:3])


# ----------------------------------------------------------------------------- entry points
def quantize_fp8(
    model: nn.Module,
    policy: FP8QuantizationPolicy | None = None,
    *,
    calibration: Iterable[Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[str]:
    """Replace the policy's ``nn.Linear`` layers of ``model`` by ``FP8Linear``, in place; returns their names.

    ``calibration``: keyword-argument dicts for ``model(**kwargs)`` (a few transformer inputs), needed by
    ``rounding="gptq"``, ``keep_fraction > 0`` and ``activations="static"``; an iterator or generator is read
    once into a list. A layer the calibration passes never reach is logged, and keeps nearest rounding and
    dynamic activation scales. Everything is checked and every layer is rounded before the first one is
    replaced, so an error leaves the model as it was.
    """
    _require_float8()
    if not isinstance(model, nn.Module):  # a path or a pipeline failed with "'str' object has no attribute 'modules'"
        hint = " (for a pipeline: pipe.enable_fp8(), or quantize_fp8(pipe.transformer))" if hasattr(model, "components") else ""
        raise ValueError(f"`model` must be a torch nn.Module (a transformer), got {type(model).__name__}{hint}.")
    # torch.compile's wrapper: quantize the model it runs (its layer names carry "_orig_mod.", which no policy
    # pattern matched); the wrapper's guards see the new layers and recompile on its next call (since 2026-12-07)
    model = getattr(model, "_orig_mod", model)
    policy = FP8QuantizationPolicy() if policy is None else policy
    if not isinstance(policy, FP8QuantizationPolicy):
        raise ValueError(f"`policy` must be an FP8QuantizationPolicy, got {type(policy).__name__}.")
    check_quantizable(model, "quantize_fp8", type(model).__name__)
    if any(p.device.type == "mps" for p in model.parameters()):  # float8 (and GPTQ's float64) do not exist there
        raise ValueError(f"{type(model).__name__} is on MPS, which has no float8: quantize it on the CPU or CUDA.")
    names = policy.select(model)
    calibration = _calibration_list(calibration)
    if policy.needs_calibration and not calibration:
        raise ValueError(
            f"the policy's {policy.calibration_reason} needs `calibration`: a list of keyword-argument dicts for "
            "model(**kwargs)."
        )
    if policy.keep_fraction > 0:
        sizes = {n: model.get_submodule(n).weight.numel() for n in names}
        kept = _most_sensitive(names, _sensitivities(model, names, calibration), sizes, policy.keep_fraction)
        names = [n for n in names if n not in kept]
    from ltx_video.quantization.gptq import round_gptq, second_moments  # it imports this module's format constants

    moments = {}
    if policy.rounding == "gptq":  # E[x x^T] for a group of layers per calibration pass, bounded in memory
        group, size = [], 0
        for name in [*names, None]:
            width = model.get_submodule(name).in_features if name is not None else 0
            if name is None or (group and size + 4 * width**2 > policy.moment_bytes):
                moments.update(second_moments(model, group, calibration))
                group, size = [], 0
            if name is not None:
                group.append(name)
                size += 4 * width**2
    peaks = _input_absmax(model, names, calibration) if policy.activations == "static" else {}
    _warn_unseen(names, moments, peaks, policy)
    replacements = {}
    for name in names:
        linear = model.get_submodule(name)
        scale = channel_scales(linear.weight)
        if _is_e4m3(linear.weight):  # already E4M3 values (LTX-Video's fp8 files): kept exactly, unit scales
            weight, scale = linear.weight.detach().to(FP8_DTYPE), torch.ones_like(scale)
        elif name in moments:
            weight = round_gptq(linear.weight, scale, moments[name], policy.damping)
        else:
            weight = round_nearest(linear.weight, scale)
        replacements[name] = FP8Linear.from_weights(weight, scale, linear.bias)
        if name in peaks:  # a layer that only ever saw zeros gets scale 1
            peak = peaks[name] * policy.activation_margin
            replacements[name].set_input_scale(peak / FP8_MAX if peak > 0 else 1.0)
        if progress is not None:
            progress(name)
    for name, layer in replacements.items():
        parent, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, child, layer)
    _refuse_save_pretrained(model)
    return names


def _save_pretrained_refused(model_name: str, *args, **kwargs) -> None:
    raise ValueError(
        f"{model_name} is FP8-quantized: diffusers' save_pretrained would drop the scales. Save the "
        "transformer with ltx_video.quantization.save_fp8 (load it with load_fp8), and the pipeline's other "
        "components with their own save_pretrained."
    )


def _refuse_save_pretrained(model: nn.Module) -> None:
    """diffusers' ``save_pretrained`` / ``from_pretrained`` know nothing of FP8Linear: the saved file would load
    as plain linears holding the raw E4M3 values (scales dropped). Refuse it with a pointer to ``save_fp8``."""
    if hasattr(model, "save_pretrained"):
        # a partial of a module-level function, not a closure, so the model still pickles (torch.save(model))
        model.save_pretrained = functools.partial(_save_pretrained_refused, type(model).__name__)


def fp8_weight_bytes(
    model: nn.Module, prefix_patterns: Sequence[str] = ("transformer_blocks.*", "audio_transformer_blocks.*")
) -> int:
    """Bytes of the weights (and their scales) of the linear layers under ``prefix_patterns``."""
    total = 0
    for name, module in model.named_modules():
        if not any(fnmatch.fnmatch(name, p) for p in prefix_patterns):
            continue
        if isinstance(module, FP8Linear):
            total += module.weight.numel() * module.weight.element_size() + module.weight_scale.numel() * 4
        elif isinstance(module, nn.Linear):
            total += module.weight.numel() * module.weight.element_size()
    return total
