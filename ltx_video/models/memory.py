"""Feed-forward chunking: run each transformer block's feed-forward over token chunks.

An LTX feed-forward widens every token 4x (4 x 4096 channels in the 13B model), so at 1080p x 257 frames
(67,320 tokens) its hidden activation alone is 2.2 GB in bf16 per sample. The feed-forward acts on each
token independently, so running it ``chunk_size`` tokens at a time gives the same output with that
activation bounded by ``chunk_size`` tokens. Useful at inference; in training, gradient checkpointing
(``transformer.enable_gradient_checkpointing()``) is the saver that matters.

The chunked forward is installed as the feed-forward module's instance ``forward`` (as accelerate's
hooks are), so weights, state-dict keys and ``save_pretrained`` are unchanged.
"""

from __future__ import annotations

import numbers

import torch
from diffusers.models.attention import FeedForward

__all__ = ["disable_feed_forward_chunking", "enable_feed_forward_chunking"]


class _ChunkedForward:
    def __init__(self, forward, chunk_size: int):
        self.forward, self.chunk_size = forward, chunk_size

    def __call__(self, hidden_states: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        if hidden_states.ndim < 3 or hidden_states.shape[1] <= self.chunk_size:
            return self.forward(hidden_states, *args, **kwargs)
        chunks = hidden_states.split(self.chunk_size, dim=1)
        return torch.cat([self.forward(chunk, *args, **kwargs) for chunk in chunks], dim=1)


def _feed_forwards(model: torch.nn.Module) -> list[FeedForward]:
    modules = [m for m in model.modules() if isinstance(m, FeedForward)]
    if not modules:
        raise ValueError(f"{type(model).__name__} has no diffusers FeedForward modules to chunk.")
    return modules


def enable_feed_forward_chunking(model: torch.nn.Module, chunk_size: int = 4096) -> int:
    """Chunk every ``FeedForward`` in ``model`` over ``chunk_size`` tokens; returns how many were chunked."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral) or chunk_size < 1:
        raise ValueError(f"`chunk_size` must be an integer >= 1 (tokens per chunk), got {chunk_size!r}.")
    chunk_size = int(chunk_size)  # a NumPy integer too, as a Python int for torch's chunking
    modules = _feed_forwards(model)
    disable_feed_forward_chunking(model)
    for module in modules:
        module.forward = _ChunkedForward(module.forward, chunk_size)
    return len(modules)


def disable_feed_forward_chunking(model: torch.nn.Module) -> None:
    for module in _feed_forwards(model):
        if isinstance(module.__dict__.get("forward"), _ChunkedForward):
            module.forward = module.__dict__["forward"].forward
            if getattr(module.forward, "__self__", None) is module and module.forward.__func__ is type(module).forward:
                del module.forward  # back to the class's forward
