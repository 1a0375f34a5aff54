"""Guidance arguments given per interval (LTX-Video 0.9.8's lists indexed by ``guidance_timesteps``): their forms and
checks, read by :func:`ltx_video.pipelines.denoising.guidance_schedule` and the pipelines' input checks."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

__all__ = ["as_list", "check_guidance_timesteps", "checked_blocks", "is_number", "per_interval_lists"]


def is_number(value) -> bool:
    """A real number (NumPy's and 0-d tensors too), not a bool or a string."""
    if isinstance(value, torch.Tensor):
        return value.ndim == 0 and not value.dtype.is_complex and value.dtype != torch.bool
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def as_list(value):
    """An array or tensor of values (LTX-Video's per-interval lists as NumPy or torch) as a list; a 0-d one as a
    number; anything else unchanged."""
    if isinstance(value, (np.ndarray, torch.Tensor, np.generic)):
        return value.tolist()
    return value


def checked_blocks(skip_block_list):
    """``skip_block_list``: block indices, or one list of them per guidance interval; refused otherwise."""
    if not skip_block_list:
        return skip_block_list
    nested = isinstance(skip_block_list, (list, tuple)) and isinstance(skip_block_list[0], (list, tuple))
    groups = skip_block_list if nested else [skip_block_list]
    if not isinstance(skip_block_list, (list, tuple)) or not all(
        isinstance(group, (list, tuple)) and all(isinstance(b, numbers.Integral) and not isinstance(b, bool)
                                                 for b in as_list(group))
        for group in groups
    ):
        raise ValueError(f"`skip_block_list` must be a list of transformer block indices, or one such list per "
                         f"guidance interval, got {skip_block_list!r}.")
    return skip_block_list


def check_guidance_timesteps(guidance_timesteps, num_train_timesteps: float | None = None) -> None:
    """ValueError naming `guidance_timesteps` unless it is None or a non-empty, strictly decreasing list (or 1-D
    array) of finite numbers in ``[0, num_train_timesteps]`` (no upper bound when None): the first interval is the
    first that ``t`` reaches (LTX-Video's lookup), so a later, higher start was never used as given."""
    values = as_list(guidance_timesteps)
    if values is None:
        return
    if not (isinstance(values, (list, tuple)) and values
            and all(is_number(v) and math.isfinite(v) for v in values)):
        raise ValueError(f"`guidance_timesteps` must be a non-empty list of finite numbers (where each per-interval "
                         f"guidance value starts, in the timesteps' units), got {guidance_timesteps!r}.")
    if any(a <= b for a, b in zip(values, values[1:], strict=False)):
        raise ValueError(f"`guidance_timesteps` must be strictly decreasing (from noise to clean, as the timesteps "
                         f"run), got {list(values)}.")
    high = math.inf if num_train_timesteps is None else num_train_timesteps
    if not 0 <= min(values) <= max(values) <= high:
        span = ">= 0" if high == math.inf else f"in 0..{high:g} (the scheduler's num_train_timesteps)"
        raise ValueError(f"`guidance_timesteps` must be {span}, got {list(values)}.")


def per_interval_lists(guidance_scale, stg_scale, rescaling_scale, skip_block_list) -> dict[str, bool]:
    """Which guidance arguments are per-interval lists (of lists for ``skip_block_list``; arrays: :func:`as_list`)."""
    listed = {name: isinstance(as_list(value), (list, tuple)) for name, value in (
        ("guidance_scale", guidance_scale), ("stg_scale", stg_scale), ("rescaling_scale", rescaling_scale))}
    blocks = as_list(skip_block_list)
    listed["skip_block_list"] = bool(isinstance(blocks, (list, tuple)) and blocks) and isinstance(as_list(blocks[0]), (list, tuple))
    return listed
