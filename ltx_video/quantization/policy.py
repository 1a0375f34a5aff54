"""``FP8QuantizationPolicy``: which ``nn.Linear`` layers of a transformer become FP8, and how they are rounded
(docs/quantization.md). It checks itself when built, so a wrong option fails before any calibration run."""

from __future__ import annotations

import fnmatch
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import torch.nn as nn

__all__ = ["ACTIVATIONS", "FP8QuantizationPolicy", "ROUNDINGS"]

ROUNDINGS = ("nearest", "gptq")
ACTIVATIONS = ("dynamic", "static")


def _checked_number(name: str, value, accepted: str, ok: Callable[[float], bool], *, integer: bool = False):
    """``value`` as a Python int / float. NumPy numbers pass; bools and strings do not (``"0.1" < 1`` raises a bare
    TypeError, and ``True`` would pass as 1)."""
    whole = integer and isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer()
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or not ok(value)
            or (integer and not whole)):  # a whole float (4e9 bytes) is a count too
        raise ValueError(f"FP8QuantizationPolicy `{name}` must be {accepted}, got {value!r}.")
    return int(value) if integer else float(value)


@dataclass(frozen=True)
class FP8QuantizationPolicy:
    """Which ``nn.Linear`` layers become ``FP8Linear``, and how they are rounded.

    Args:
        quantize: glob patterns (``fnmatch``) over module names; matching ``nn.Linear`` layers are
            quantized. The default covers the transformer blocks of diffusers' LTX, LTX-2 and our
            audio-video transformer.
        keep: glob patterns kept in high precision even when ``quantize`` matches.
        modules: exact module names to quantize instead of ``quantize`` (at least one); each must exist and be
            an ``nn.Linear`` (a clear error otherwise).
        rounding: ``"nearest"`` (round to the nearest E4M3 value) or ``"gptq"`` (error-compensating; needs
            ``calibration``).
        keep_fraction: keep the most sensitive layers, up to this fraction of the quantizable weights, in
            high precision (needs ``calibration``). In an fp32 model an FP8 weight costs 1 + 4 / in_features
            bytes (its row's scale), a kept one 4: with every layer at least ``w`` wide the quantized layers'
            bytes are at most ``(1 - f) (1 + 4 / w) / 4 + f`` of fp32 (0.025: 0.2707 at w = 512, 0.2697 at
            1024; measured in docs/quantization.md).
        damping: GPTQ's damping of ``E[x x^T]``, relative to its mean diagonal.
        activations: how the FP8 GEMM quantizes a layer's input: ``"dynamic"`` (one scale per row, from the
            row's absmax at run time) or ``"static"`` (one scale per layer, ``activation_margin`` x the
            largest |input| seen on ``calibration``; needs ``calibration``; inputs beyond it are clamped).
        activation_margin: headroom of static scales over the calibration maximum (>= 1).
        moment_bytes: GPTQ collects ``E[x x^T]`` (in_features^2 float32 per layer) for layers worth at most
            this many bytes per calibration pass (2 GiB: LTX 13B's 48 blocks take about 40 passes).

    The numbers accept Python and NumPy numbers (stored as Python ``float`` / ``int``), not bools or strings.
    """

    quantize: tuple[str, ...] = ("transformer_blocks.*", "audio_transformer_blocks.*")
    keep: tuple[str, ...] = ("*norm*", "*proj_in*", "*proj_out*", "*time_embed*", "*caption_projection*")
    modules: tuple[str, ...] | None = None
    rounding: str = "nearest"
    keep_fraction: float = 0.0
    damping: float = 0.01
    activations: str = "dynamic"
    activation_margin: float = 1.0
    moment_bytes: int = 2**31

    def __post_init__(self):
        for name in ("quantize", "keep"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(p, str) for p in value):
                raise ValueError(f"FP8QuantizationPolicy `{name}` must be a tuple of glob patterns, got {value!r}.")
        if self.modules is not None and (
            isinstance(self.modules, str) or not all(isinstance(m, str) for m in self.modules)
        ):
            raise ValueError(f"FP8QuantizationPolicy `modules` must be a tuple of module names, got {self.modules!r}.")
        if self.modules is not None and not self.modules:  # it would quantize nothing, yet look like it had
            raise ValueError("FP8QuantizationPolicy `modules` must name at least one nn.Linear layer (or be None to "
                             "use the `quantize` patterns), got an empty tuple.")
        if self.rounding not in ROUNDINGS:
            raise ValueError(f"FP8QuantizationPolicy `rounding` must be one of {ROUNDINGS}, got {self.rounding!r}.")
        if self.activations not in ACTIVATIONS:
            raise ValueError(
                f"FP8QuantizationPolicy `activations` must be one of {ACTIVATIONS}, got {self.activations!r}."
            )
        checks = (
            ("keep_fraction", "a number in [0, 1)", lambda v: 0 <= v < 1, False),
            ("damping", "a finite number > 0", lambda v: v > 0, False),
            ("activation_margin", "a finite number >= 1", lambda v: v >= 1, False),
            ("moment_bytes", "a positive integer number of bytes (default 2**31)", lambda v: v > 0, True),
        )
        for name, accepted, ok, integer in checks:
            value = _checked_number(name, getattr(self, name), accepted, ok, integer=integer)
            object.__setattr__(self, name, value)  # frozen: the checked Python number replaces a NumPy one

    @property
    def needs_calibration(self) -> bool:
        return self.rounding == "gptq" or self.keep_fraction > 0 or self.activations == "static"

    @property
    def calibration_reason(self) -> str:
        """What in this policy needs calibration data, in words (empty if nothing does)."""
        reasons = [("GPTQ rounding", self.rounding == "gptq"), (f"keep_fraction={self.keep_fraction}", self.keep_fraction > 0),
                   ("static activation scales", self.activations == "static")]
        return ", ".join(text for text, needed in reasons if needed)

    def select(self, model: nn.Module) -> list[str]:
        """Names of the ``nn.Linear`` layers this policy quantizes in ``model`` (checked)."""
        linears = {name for name, module in model.named_modules() if isinstance(module, nn.Linear)}
        if self.modules is not None:
            all_names = {name for name, _ in model.named_modules()}
            missing = [m for m in self.modules if m not in all_names]
            if missing:
                raise ValueError(f"policy `modules` names modules {type(model).__name__} does not have: {missing[:5]}")
            not_linear = [m for m in self.modules if m not in linears]
            if not_linear:
                raise ValueError(f"policy `modules` must name nn.Linear layers; these are not: {not_linear[:5]}")
            return list(self.modules)
        chosen = [
            name
            for name in sorted(linears)
            if any(fnmatch.fnmatch(name, p) for p in self.quantize)
            and not any(fnmatch.fnmatch(name, p) for p in self.keep)
        ]
        if not chosen:
            raise ValueError(
                f"policy quantizes no nn.Linear layer of {type(model).__name__} (patterns {self.quantize})."
            )
        return chosen
