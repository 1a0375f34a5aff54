"""Feed-forward chunking: run each transformer block's feed-forward over token chunks.

An LTX feed-forward widens every token 4x (4 x 4096 channels in the 13B model), so at 1080p x 257 frames
(67,320 tokens) its hidden activation alone is 2.2 GB in bf16 per sample. The feed-forward acts on each
token independently, so running it ``chunk_size`` tokens at a time gives the same output with that
activation bounded by ``chunk_size`` tokens. Useful at inference; in training, gradient checkpointing
(``transformer.enable_gradient_checkpointing()``) is the saver that matters.

Chunking makes each ``FeedForward`` an instance of a subclass whose ``forward`` chunks (the chunk size an attribute
of the module), so weights, state-dict keys and ``save_pretrained`` are unchanged, and every block runs one shared
forward: ``torch.compile``'s regional compilation builds one graph for all the blocks (since 2026-12-07; an object
of its own per block as the instance ``forward`` made Dynamo recompile per block, and past its recompile limit of 8
the later blocks ran eagerly without a word). Pickled (``torch.save`` of the model, a spawned worker), a chunked
feed-forward names its unchunked class and is made chunked again on load, so it loads in any process (since
2026-12-07; the chunked class was found by name only where chunking had run). A feed-forward whose ``forward`` was
already replaced on the instance (a hook) keeps that replacement, wrapped.
"""

from __future__ import annotations

import numbers

import torch
from diffusers.models.attention import FeedForward

__all__ = ["disable_feed_forward_chunking", "enable_feed_forward_chunking"]


def _chunked(forward, chunk_size: int, hidden_states: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    if hidden_states.ndim < 3 or hidden_states.shape[1] <= chunk_size:
        return forward(hidden_states, *args, **kwargs)
    chunks = hidden_states.split(chunk_size, dim=1)
    return torch.cat([forward(chunk, *args, **kwargs) for chunk in chunks], dim=1)


class _ChunkedForward:
    """A feed-forward's instance ``forward`` (a hook's) wrapped: the rare case the class swap cannot serve."""

    def __init__(self, forward, chunk_size: int):
        self.forward, self.chunk_size = forward, chunk_size

    def __call__(self, hidden_states: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        return _chunked(self.forward, self.chunk_size, hidden_states, *args, **kwargs)


_CHUNKED_TYPES: dict[type, type] = {}


def _chunked_type(cls: type) -> type:
    """``cls`` with a chunking ``forward`` (one class per feed-forward class, shared by every block)."""
    if cls not in _CHUNKED_TYPES:
        def forward(self, hidden_states, *args, **kwargs):
            return _chunked(super(chunked, self).forward, self._ff_chunk_size, hidden_states, *args, **kwargs)

        chunked = type(f"Chunked{cls.__name__}", (cls,), {"forward": forward, "__module__": __name__,
                                                          "_ff_unchunked_type": cls, "__reduce_ex__": _reduce_ex})
        chunked.__qualname__ = chunked.__name__
        _CHUNKED_TYPES[cls] = chunked
    return _CHUNKED_TYPES[cls]


def _reduce_ex(self, protocol):
    """Pickles a chunked feed-forward as its unchunked class, made chunked again on load: the chunked class exists
    only in a process that chunked, so pickle's lookup of it by name failed in a fresh one."""
    reduced = super(type(self), self).__reduce_ex__(protocol)
    return (_new_chunked, (type(self)._ff_unchunked_type,), *reduced[2:])  # the state: weights and chunk size


def _new_chunked(cls: type):
    """A new, empty chunked ``cls`` (pickle then sets its state)."""
    chunked = _chunked_type(cls)
    return chunked.__new__(chunked)


def __getattr__(name: str) -> type:
    # files pickled before 2026-12-07 name the chunked class of diffusers' FeedForward by its name
    if name == f"Chunked{FeedForward.__name__}":
        return _chunked_type(FeedForward)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        if "forward" in module.__dict__:  # a hook's forward on the instance: wrapped where it stands
            module.forward = _ChunkedForward(module.forward, chunk_size)
        else:
            module.__class__ = _chunked_type(type(module))
            module._ff_chunk_size = chunk_size
    return len(modules)


def disable_feed_forward_chunking(model: torch.nn.Module) -> None:
    for module in _feed_forwards(model):
        if isinstance(module.__dict__.get("forward"), _ChunkedForward):
            module.forward = module.__dict__["forward"].forward
            if getattr(module.forward, "__self__", None) is module and module.forward.__func__ is type(module).forward:
                del module.forward  # back to the class's forward
        unchunked = type(module).__dict__.get("_ff_unchunked_type")
        if unchunked is not None:
            module.__class__ = unchunked
            del module._ff_chunk_size
