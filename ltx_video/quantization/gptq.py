"""GPTQ rounding of FP8 weights (Frantar et al. 2022): the calibration inputs' second moments and the
error-compensating, column-by-column rounding that uses them (``FP8QuantizationPolicy(rounding="gptq")``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ltx_video.quantization.ltx_quantizer import FP8_DTYPE, FP8_MAX, _calibrate

__all__ = ["round_gptq", "second_moments"]


def second_moments(model: nn.Module, names: Sequence[str], calibration: Sequence[dict]) -> dict[str, torch.Tensor]:
    """``E[x x^T]`` of each named linear layer's inputs over the calibration passes (on the CPU)."""
    sums: dict[str, torch.Tensor] = {}
    counts = dict.fromkeys(names, 0)

    def record(name, x):
        x = x.reshape(-1, x.shape[-1]).float()
        sums[name] = sums.get(name, 0) + x.T @ x
        counts[name] += x.shape[0]

    _calibrate(model, names, calibration, record)
    return {n: (sums[n] / counts[n]).cpu() for n in names if counts[n]}


def round_gptq(
    weight: torch.Tensor, scale: torch.Tensor, second_moment: torch.Tensor, damping: float, block: int = 128
) -> torch.Tensor:
    """Error-compensating rounding of ``weight`` (out, in) given ``E[x x^T]`` (in, in) of its inputs."""
    w = weight.detach().float().clone()
    hessian = second_moment.to(w.device, torch.float64).clone()
    dead = torch.diagonal(hessian) == 0  # inputs that never vary: their weights do not matter
    hessian[dead, dead] = 1.0
    w[:, dead] = 0.0
    hessian += (
        damping * torch.diagonal(hessian).mean() * torch.eye(hessian.shape[0], dtype=hessian.dtype, device=w.device)
    )
    inverse = torch.cholesky_inverse(torch.linalg.cholesky(hessian))
    upper = torch.linalg.cholesky(inverse, upper=True).float()  # rows: the error-propagation weights
    out = torch.empty(w.shape, dtype=FP8_DTYPE, device=w.device)
    scale = scale.to(w.device)
    inv_scale = 1.0 / scale[:, None]
    columns = w.shape[1]
    for start in range(0, columns, block):
        stop = min(start + block, columns)
        chunk = w[:, start:stop].clone()
        errors = torch.empty_like(chunk)
        local = upper[start:stop, start:stop]
        for i in range(stop - start):
            q = (chunk[:, i : i + 1] * inv_scale).clamp(-FP8_MAX, FP8_MAX).to(FP8_DTYPE)
            out[:, start + i] = q[:, 0]
            error = (chunk[:, i] - q[:, 0].float() * scale) / local[i, i]
            chunk[:, i:] -= error[:, None] * local[i, i:][None, :]
            errors[:, i] = error
        w[:, stop:] -= errors @ upper[start:stop, stop:]
    return out
