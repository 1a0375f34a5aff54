"""The efficient attention kernels as diffusers attention backends, and ``enable_efficient_attention``.

Importing ``ltx_video.attention`` (every pipeline does) registers three backends with diffusers' attention dispatch, so
``transformer.set_attention_backend(name)`` switches any diffusers model whose attention goes through
``dispatch_attention_fn`` (diffusers' ``LTXVideoTransformer3DModel`` included) without code changes:

- ``ltx_block_sparse``: self-attention (no mask, equal query and key lengths) through
  ``block_sparse_attention``; any other call (LTX's masked text cross-attention, audio<->video
  cross-attention) through dense SDPA.
- ``ltx_chunked``: every call through ``chunked_attention`` (masks included).
- ``ltx_flash``: flash-attn (``flash_attn_func``) for unmasked fp16/bf16 calls on CUDA, SDPA for the
  rest. diffusers' own ``flash`` backend rejects attention masks, and every LTX block's text
  cross-attention has one, so ``flash`` alone cannot run an LTX pipeline.

diffusers' ``AttentionBackendName`` is a closed ``Enum`` and ``set_attention_backend`` accepts only its
members, so registration adds members to it (the technique of ``aenum.extend_enum``), then registers
the functions with ``_AttentionBackendRegistry``. Both are diffusers internals; ``register_backends``
checks them and raises a clear error if a diffusers release changes them.

Video tokens reach attention in frame-major, row-major order, so a 64-token block would be a strip of
one row. ``enable_efficient_attention`` installs a forward pre-hook on the transformer that records the
tokens' 3D tile order (``tile_permutation`` of the ``video_coords`` or ``num_frames, height, width`` the
model is called with); the block-sparse backend then gathers the tokens into tiles, attends, and
scatters back. Only the video blocks' self-attention (their ``attn1``, whose calls hooks mark: the dispatcher
passes no module) uses that order; the audio stream is blocked in sequence order whatever its token count. The
order is kept after the forward so that gradient-checkpointed blocks, recomputed in backward, see the same one.

The dispatcher cannot tell self- from cross-attention: ``ltx_block_sparse`` treats every unmasked call
with equal query and key lengths as self-attention. LTX's text cross-attention always has a mask, so it runs dense.
The audio<->video exchange has one (its time-window bias) in a model with ``av_time_window``, the built-in model
included, so it runs dense there whatever the token counts; without one (the config's default) the exchange is
unmasked, and when both streams have the same token count it is blocked too, in sequence order. Options and the token
order are process-wide, so each backend takes only the options it reads (:data:`BACKEND_OPTIONS`).

``dense_steps`` and ``dense_blocks`` are diffusers' per-processor backends, rewritten at each phase change.
diffusers' own ``set_attention_backend`` / ``reset_attention_backend`` / ``set_attn_processor`` on the model
since then win: the next phase change or forward finds processors that no longer hold what was set, and the
model leaves block-sparse (hooks off, processors as diffusers left them). A switch to exactly what was set
(``native`` while every block is dense) cannot be seen: a later phase change or option that makes blocks sparse
again overrides it.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import logging
import math
import weakref
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from diffusers.models import attention_dispatch as dispatch
from diffusers.models.attention_dispatch import AttentionBackendName, _AttentionBackendRegistry

from ltx_video.attention.efficient_attention import (
    BlockSparsePattern,
    _flex_block_mask,
    _is_count,
    _is_fraction,
    block_sparse_attention,
    chunked_attention,
    tile_permutation,
)

__all__ = [
    "ATTENTION_BACKENDS",
    "EfficientAttentionConfig",
    "approximate_attention",
    "disable_efficient_attention",
    "enable_efficient_attention",
    "flash_attn_available",
    "register_backends",
    "set_denoising_step",
]

logger = logging.getLogger(__name__)

BLOCK_SPARSE, CHUNKED, FLASH = "ltx_block_sparse", "ltx_chunked", "ltx_flash"
ATTENTION_BACKENDS = ("auto", "sdpa", "flash", BLOCK_SPARSE, CHUNKED)
# The EfficientAttentionConfig options each backend reads; any other is refused (kept process-wide, an option given to
# one backend would reach a later call of another unasked).
BACKEND_OPTIONS = {BLOCK_SPARSE: ("pattern", "tile_shape", "min_tokens", "dense_steps", "dense_blocks"),
                   CHUNKED: ("chunk_size",)}


#: Self-attention over fewer tokens than this runs dense SDPA under ``ltx_block_sparse`` when
#: ``min_tokens`` is None, by device type. CPU: where the merge kernel starts to pay
#: (docs/benchmarks.md, "Block-sparse crossover"). CUDA: on an H200 the flex kernel ran 0.44x as fast as
#: dense SDPA at 4,096 tokens and 1.45x at 8,192 (docs/benchmarks.md, "On an H200"), so dense is kept
#: below 8,192.
DEFAULT_MIN_TOKENS = {"cpu": 1024, "cuda": 8192}


@dataclass(frozen=True)
class EfficientAttentionConfig:
    """Options of the ``ltx_*`` backends (process-wide: diffusers' dispatch passes no per-model options).

    pattern, tile_shape: the ``ltx_block_sparse`` pattern and the 3D tiles tokens are grouped in.
    chunk_size: query rows per chunk of ``ltx_chunked``.
    min_tokens: ``ltx_block_sparse`` runs dense SDPA for self-attention over fewer tokens (None: the
        device's :data:`DEFAULT_MIN_TOKENS`; 0: always sparse).
    dense_steps: the first denoising steps run dense, as Sparse VideoGen, Radial and Sliding-Tile
        Attention do: the early steps lay out the scene and need the global context. An int is a number
        of steps, a float in [0, 1] a fraction of the run's steps (rounded). The ``ltx_video`` pipelines
        report the step (:func:`set_denoising_step`); under other pipelines it has no effect.
    dense_blocks: indices into the transformer's ``transformer_blocks`` that always run dense.
    """

    pattern: BlockSparsePattern = field(default_factory=BlockSparsePattern)
    chunk_size: int = 1024
    tile_shape: tuple[int, int, int] = (4, 4, 4)
    min_tokens: int | None = None
    dense_steps: int | float = 0.2
    dense_blocks: tuple[int, ...] = (0,)

    def __post_init__(self):
        if not isinstance(self.pattern, BlockSparsePattern):
            raise ValueError(f"`pattern` must be a BlockSparsePattern, got {type(self.pattern).__name__}.")
        if not _is_count(self.chunk_size, 1):
            raise ValueError(f"`chunk_size` must be an integer >= 1, got {self.chunk_size!r}.")
        tile_permutation((1, 1, 1), tuple(self.tile_shape))  # validates the tile shape
        if self.min_tokens is not None and not _is_count(self.min_tokens, 0):
            raise ValueError(f"`min_tokens` must be None or an integer >= 0, got {self.min_tokens!r}.")
        steps, fraction = self.dense_steps, _is_fraction(self.dense_steps)  # NumPy floats are fractions too
        if not (_is_count(steps, 0) or (fraction and 0.0 <= steps <= 1.0)):
            raise ValueError(f"`dense_steps` must be an integer >= 0 (steps) or a float in [0, 1] (a fraction of "
                             f"the steps), got {steps!r}.")
        blocks = self.dense_blocks
        if not isinstance(blocks, (tuple, list)) or not all(_is_count(b, 0) for b in blocks):
            raise ValueError(f"`dense_blocks` must be a tuple of block indices >= 0, got {blocks!r}.")
        convert = dict(  # NumPy numbers become Python ones here, once: the kernels and the layout cache take ints
            chunk_size=int(self.chunk_size), tile_shape=tuple(int(t) for t in self.tile_shape),
            min_tokens=None if self.min_tokens is None else int(self.min_tokens),
            dense_steps=float(steps) if fraction else int(steps), dense_blocks=tuple(sorted({int(b) for b in blocks})))
        for name, value in convert.items():
            object.__setattr__(self, name, value)

    def dense_below(self, device: torch.device) -> int:
        return DEFAULT_MIN_TOKENS.get(device.type, 0) if self.min_tokens is None else self.min_tokens

    def dense_step_count(self, num_steps: int | None) -> int:
        if isinstance(self.dense_steps, float):
            return math.floor(self.dense_steps * num_steps + 0.5) if num_steps is not None else 0
        return self.dense_steps


_config = EfficientAttentionConfig()
_layout: tuple[torch.Tensor, torch.Tensor] | None = None  # (perm, inverse) of the last video forward
_layout_key = None  # what _layout was computed from (the positions tensor itself, or the grid)
_dense_phase = False  # the first dense_steps of a generation run (set_denoising_step)
_video_attention = False  # a video block's self-attention is running (hooks on its attn1): the layout applies
_sparse_models: weakref.WeakSet = weakref.WeakSet()  # models switched to ltx_block_sparse
# model -> [(attention module, backend this library set on its processor)], to notice diffusers' own switches
_assigned: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_ltx_models: weakref.WeakSet = weakref.WeakSet()  # models switched to any ltx_* backend (they read _config)


def set_denoising_step(step: int | None, num_steps: int | None = None) -> None:
    """Tell ``ltx_block_sparse`` which denoising step (0-based) of ``num_steps`` runs next, for
    ``dense_steps``; None when no generation runs. The ``ltx_video`` pipelines call it; a custom sampling
    loop may too. Entering or leaving the dense phase switches the attention backend of every block of
    the models using ``ltx_block_sparse`` (diffusers' per-processor backends), so nothing in the attention
    call reads the step: a compiled block sees one of two fixed settings."""
    global _dense_phase
    if step is not None and not _is_count(step, 0):
        raise ValueError(f"`step` must be None or an integer >= 0, got {step!r}.")
    if num_steps is not None and not _is_count(num_steps, 1):
        raise ValueError(f"`num_steps` must be None or an integer >= 1, got {num_steps!r}.")
    if step is not None and num_steps is None and isinstance(_config.dense_steps, float) and _config.dense_steps:
        raise ValueError("`num_steps` is needed with a fractional `dense_steps` (a fraction of the run's steps).")
    dense = step is not None and step < _config.dense_step_count(num_steps)
    if dense != _dense_phase:
        _dense_phase = dense
        for model in list(_sparse_models):
            _assign_block_backends(model)


def _block_backends(model: torch.nn.Module):
    """(attention module, backend) for every attention module of ``model``'s blocks: dense SDPA in the
    ``dense_blocks`` (and in every block during the dense phase), ``ltx_block_sparse`` elsewhere."""
    sparse, dense = AttentionBackendName(BLOCK_SPARSE), AttentionBackendName("native")
    dense_blocks = set(_config.dense_blocks)
    blocks = [(block, dense if _dense_phase or index in dense_blocks else sparse)
              for index, block in enumerate(getattr(model, "transformer_blocks", []))]
    # the audio stream and the audio<->video exchanges: dense only in the dense phase
    others = [*getattr(model, "audio_transformer_blocks", []), *getattr(model, "av_cross_attention", {}).values()]
    blocks += [(block, dense if _dense_phase else sparse) for block in others]
    for block, backend in blocks:
        for module in block.modules():
            if hasattr(getattr(module, "processor", None), "_attention_backend"):
                yield module, backend


def _switched_by_diffusers(model: torch.nn.Module) -> bool:
    """Whether a processor no longer has the backend this library set (diffusers' ``set_attention_backend``,
    ``reset_attention_backend`` or ``set_attn_processor`` since): the user's switch then stands. STG's processor
    copies the backend of the one it replaces, so its perturbation does not count."""
    return any(getattr(module.processor, "_attention_backend", None) != backend
               for module, backend in _assigned.get(model, ()))


def _release(model: torch.nn.Module) -> None:
    """Stop managing ``model``'s block-sparse attention: its hooks come off, its processors stay as they are."""
    _remove_layout_hook(model)
    _sparse_models.discard(model)
    _assigned.pop(model, None)


def _assign_block_backends(model: torch.nn.Module) -> None:
    """Set each block's backend (:func:`_block_backends`) on its processors, unless diffusers' own switch took the
    model over since the last time (then the model leaves the block-sparse bookkeeping instead)."""
    if _switched_by_diffusers(model):
        _release(model)
        return
    seen, written = set(), []
    for module, backend in _block_backends(model):
        if id(module.processor) in seen:  # one object for several modules (diffusers' set_attn_processor(p)):
            module.set_processor(copy.copy(module.processor))  # each its own, or the last block's backend wins
        seen.add(id(module.processor))
        module.processor._attention_backend = backend
        written.append((module, backend))
    _assigned[model] = written


def _to_sdpa(*tensors: torch.Tensor) -> list[torch.Tensor]:
    return [t.transpose(1, 2) for t in tensors]  # (B, S, H, D) <-> (B, H, S, D)


def _sdpa(query, key, value, attn_mask, scale, enable_gqa=False, dropout_p=0.0, is_causal=False):
    q, k, v = _to_sdpa(query, key, value)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale=scale, enable_gqa=enable_gqa)
    return out.transpose(1, 2)


def _unsupported(name: str, dropout_p: float, is_causal: bool, parallel_config) -> None:
    if dropout_p or is_causal or parallel_config is not None:
        raise ValueError(
            f"attention backend {name!r} supports neither dropout, causal masks nor context parallelism "
            f"(got dropout_p={dropout_p}, is_causal={is_causal}, parallel_config={parallel_config})."
        )


def _block_sparse_backend(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    scale=None,
    enable_gqa=False,
    _parallel_config=None,
):
    _unsupported(BLOCK_SPARSE, dropout_p, is_causal, _parallel_config)
    tokens = query.shape[1]
    if (
        attn_mask is not None
        or key.shape[1] != tokens
        or key.shape[2] != query.shape[2]
        or tokens < _config.dense_below(query.device)
    ):
        return _sdpa(query, key, value, attn_mask, scale, enable_gqa)
    # the tile order is for the video stream's self-attention only (marked by the hooks on its attn1 modules), never
    # for a call that happens to have as many tokens (the audio stream's, an audio<->video exchange)
    layout = _layout if _video_attention and _layout is not None and _layout[0].numel() == tokens else None
    if layout is not None:
        query, key, value = (x.index_select(1, layout[0]) for x in (query, key, value))
    q, k, v = _to_sdpa(query, key, value)
    out = block_sparse_attention(q, k, v, _config.pattern, scale=scale).transpose(1, 2)
    return out if layout is None else out.index_select(1, layout[1])


def _chunked_backend(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    scale=None,
    enable_gqa=False,
    _parallel_config=None,
):
    _unsupported(CHUNKED, dropout_p, is_causal, _parallel_config)
    if enable_gqa and key.shape[2] != query.shape[2]:
        repeat = query.shape[2] // key.shape[2]
        key, value = key.repeat_interleave(repeat, dim=2), value.repeat_interleave(repeat, dim=2)
    q, k, v = _to_sdpa(query, key, value)
    return chunked_attention(q, k, v, _config.chunk_size, attn_mask=attn_mask, scale=scale).transpose(1, 2)


def _flash_backend(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    scale=None,
    enable_gqa=False,
    _parallel_config=None,
):
    fused = (
        attn_mask is None
        and query.device.type == "cuda"
        and query.dtype in (torch.float16, torch.bfloat16)
        and key.shape[2] == query.shape[2]
        and _parallel_config is None
        and flash_attn_available()
    )
    if not fused:
        _unsupported(FLASH, 0.0, False, _parallel_config)
        return _sdpa(query, key, value, attn_mask, scale, enable_gqa, dropout_p, is_causal)
    flash = _AttentionBackendRegistry._backends[AttentionBackendName.FLASH]
    return flash(query=query, key=key, value=value, dropout_p=dropout_p, is_causal=is_causal, scale=scale)


def flash_attn_available() -> bool:
    return bool(getattr(dispatch, "_CAN_USE_FLASH_ATTN", False))


def _add_enum_member(enum_cls: type[enum.Enum], value: str) -> None:
    """Add ``value`` to a ``str`` Enum as ``enum_cls(value)`` and in ``__members__`` (idempotent)."""
    if value in enum_cls._value2member_map_:
        return
    member = str.__new__(enum_cls, value)
    member._name_, member._value_ = value.upper(), value
    member.__objclass__ = enum_cls
    member._sort_order_ = len(enum_cls._member_names_)
    enum_cls._member_map_[member._name_] = member
    enum_cls._member_names_.append(member._name_)
    enum_cls._value2member_map_[value] = member


def register_backends() -> None:
    """Register ``ltx_block_sparse``, ``ltx_chunked`` and ``ltx_flash`` with diffusers (idempotent)."""
    needed = ("_member_map_", "_member_names_", "_value2member_map_")
    if not all(hasattr(AttentionBackendName, name) for name in needed) or not hasattr(
        _AttentionBackendRegistry, "register"
    ):
        raise RuntimeError(
            "This diffusers release changed its attention dispatch internals (AttentionBackendName / "
            "_AttentionBackendRegistry); the ltx_* attention backends cannot be registered. "
            "Use ltx_video.attention.block_sparse_attention / chunked_attention directly."
        )
    for name, fn in ((BLOCK_SPARSE, _block_sparse_backend), (CHUNKED, _chunked_backend), (FLASH, _flash_backend)):
        _add_enum_member(AttentionBackendName, name)
        member = AttentionBackendName(name)
        if member not in _AttentionBackendRegistry._backends:
            _AttentionBackendRegistry.register(member, constraints=[], supports_context_parallel=False)(fn)


# ----------------------------------------------------------------------------- token layout hook
def _same(a, b) -> bool:
    return a is b if torch.is_tensor(a) or torch.is_tensor(b) else a == b


def _record_layout(module, args, kwargs) -> None:
    global _layout, _layout_key, _video_attention
    _video_attention = False  # in case an earlier forward raised inside a video self-attention
    if _switched_by_diffusers(module):
        _release(module)
        return
    hidden = kwargs.get("hidden_states", args[0] if args else None)
    coords = kwargs.get("video_coords")
    grid = tuple(kwargs.get(k) for k in ("num_frames", "height", "width"))
    if coords is not None:  # pipelines pass the same positions tensor at every step: keyed by identity
        key = (coords, coords._version, _config.tile_shape, None if hidden is None else hidden.device)
    elif None not in grid:
        key = (tuple(int(n) for n in grid), _config.tile_shape, None if hidden is None else hidden.device)
    else:
        _layout, _layout_key = None, None
        return
    if _layout_key is not None and len(key) == len(_layout_key) and all(map(_same, key, _layout_key)):
        return  # same tokens as the last forward: the layout stands
    if coords is not None:
        perm = tile_permutation(coords[0].transpose(0, 1).detach().float().cpu(), _config.tile_shape)
    else:
        perm = tile_permutation(key[0], _config.tile_shape)
    if hidden is None or hidden.shape[1] != perm.numel():
        _layout, _layout_key = None, None  # tokens and coordinates disagree: fall back to sequence order
        return
    perm = perm.to(hidden.device)
    _layout, _layout_key = (perm, torch.argsort(perm)), key
    if hidden.device.type == "cuda" and _config.pattern.block_size % 16 == 0:
        # the FlexAttention block mask, built here (eagerly) so that compiled blocks only look it up
        _flex_block_mask(_config.pattern, perm.numel(), str(hidden.device))


def _enter_video_attention(module, args) -> None:
    global _video_attention
    _video_attention = True


def _leave_video_attention(module, args, output) -> None:
    global _video_attention
    _video_attention = False


def _install_layout_hooks(model: torch.nn.Module) -> None:
    """The layout pre-hook on ``model``, and on each video block's self-attention (``attn1``) hooks that mark its
    calls: the dispatcher passes no module, and a token count alone cannot tell the video stream from the audio."""
    handles = [model.register_forward_pre_hook(_record_layout, with_kwargs=True)]
    for block in getattr(model, "transformer_blocks", []):
        attention = getattr(block, "attn1", None)
        if attention is not None:
            handles.append(attention.register_forward_pre_hook(_enter_video_attention))
            # not always_call: dynamo guards on each such hook's id, one recompilation per block; a forward that
            # raises inside leaves the mark set until the model's next forward, whose pre-hook clears it
            handles.append(attention.register_forward_hook(_leave_video_attention))
    model._ltx_layout_hooks = handles


def _remove_layout_hook(model: torch.nn.Module) -> None:
    for handle in getattr(model, "_ltx_layout_hooks", ()):
        handle.remove()
    if hasattr(model, "_ltx_layout_hooks"):
        del model._ltx_layout_hooks


@contextlib.contextmanager
def _quiet_backend_switch():
    """Hide diffusers' "Attention backends are an experimental feature" warning, logged at every switch: the user
    asked this library for a backend, and there is nothing to act on."""
    modeling_logger = logging.getLogger("diffusers.models.modeling_utils")
    level = modeling_logger.level
    modeling_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        modeling_logger.setLevel(level)


def _resolve(backend: str) -> str:
    if not isinstance(backend, str):
        raise ValueError(f"`backend` must be one of {ATTENTION_BACKENDS} or a diffusers backend name, got {backend!r}.")
    name = backend.lower()
    if name == "auto":
        return FLASH if torch.cuda.is_available() and flash_attn_available() else "native"
    if name in ("sdpa", "native"):
        return "native"
    if name in ("flash", FLASH):
        if not flash_attn_available():
            raise RuntimeError(
                "attention backend 'flash' needs the flash-attn package on a CUDA machine "
                "(`pip install flash-attn --no-build-isolation`); without it, use 'auto' or 'sdpa'."
            )
        return FLASH
    known = {member.value for member in AttentionBackendName}
    if name not in known:
        raise ValueError(f"`backend` must be one of {ATTENTION_BACKENDS} or a diffusers backend name, got {backend!r}.")
    if name == "_native_flash":  # PyTorch's flash kernel takes no mask, and every LTX attention call has one
        raise ValueError("`backend` '_native_flash' takes no attention mask, which every LTX attention call passes: "
                         "use 'sdpa' (PyTorch picks its flash kernel where it can) or 'flash' (flash-attn).")
    if name in ("_native_cudnn", "_native_efficient") and not torch.cuda.is_available():
        raise ValueError(f"`backend` {backend!r} runs on CUDA only and this machine has none: use 'sdpa' or 'auto'.")
    return name


def _network_error(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is a failed connection: a socket error, httpx's ConnectError ..."""
    seen = set()
    while error is not None and id(error) not in seen:  # (a context chain can loop)
        if isinstance(error, OSError) or any(w in type(error).__name__ for w in ("Connect", "Timeout", "Offline")):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _fetch_hub_kernel(name: str, backend: str) -> None:
    """Fetch the kernel of a diffusers hub backend (``flash_hub``, ``sage_hub`` ...) now, so that a machine without the
    Hub is told so in one line naming the argument, not with httpx's ConnectError from inside diffusers."""
    registry = getattr(dispatch, "_HUB_KERNELS_REGISTRY", {})
    member = AttentionBackendName(name)
    if member not in registry:
        return
    from huggingface_hub import constants

    check = getattr(dispatch, "_check_attention_backend_requirements", None)
    if check is not None:
        check(member)  # the `kernels` package: diffusers' own message names it
    attention_logger = logging.getLogger(dispatch.__name__)
    level = attention_logger.level
    attention_logger.setLevel(logging.CRITICAL)  # its "An error occurred while fetching" would repeat ours
    try:
        dispatch._maybe_download_kernel_for_backend(member)
    except Exception as error:
        if not (constants.HF_HUB_OFFLINE or _network_error(error)):
            raise
        raise ValueError(
            f"`backend` {backend!r} needs the Hugging Face Hub (it downloads {registry[member].repo_id}), which "
            f"{'HF_HUB_OFFLINE=1 turns off' if constants.HF_HUB_OFFLINE else 'this machine cannot reach'}: use 'sdpa', "
            "'auto' or another backend installed here, or fetch the kernel once online."
        ) from None
    finally:
        attention_logger.setLevel(level)


def enable_efficient_attention(
    model: torch.nn.Module,
    backend: str = "auto",
    *,
    pattern: BlockSparsePattern | None = None,
    chunk_size: int | None = None,
    tile_shape: tuple[int, int, int] | None = None,
    min_tokens: int | None = None,
    dense_steps: int | float | None = None,
    dense_blocks: tuple[int, ...] | None = None,
) -> str:
    """Switch ``model``'s attention to ``backend``; returns the diffusers backend name that was set.

    Args:
        model: a diffusers model with ``set_attention_backend`` (an LTX transformer).
        backend: ``"auto"`` (flash-attn when installed and CUDA is available, else SDPA), ``"sdpa"``,
            ``"flash"`` (error if flash-attn is missing), ``"ltx_block_sparse"``, ``"ltx_chunked"``, or
            any diffusers backend name.
        pattern, chunk_size, tile_shape, min_tokens, dense_steps, dense_blocks: options of the ``ltx_*``
            backends (:class:`EfficientAttentionConfig`); left out (None), the current ones are kept, which are
            the defaults again once :func:`disable_efficient_attention` has switched back the last model using them.
    """
    global _config, _layout, _layout_key
    if not hasattr(model, "set_attention_backend"):
        raise ValueError(f"`model` must be a diffusers model with set_attention_backend, got {type(model).__name__}.")
    name = _resolve(backend)
    given = dict(
        pattern=pattern, chunk_size=chunk_size, tile_shape=tile_shape, min_tokens=min_tokens,
        dense_steps=dense_steps, dense_blocks=dense_blocks,
    )
    options = {k: v for k, v in given.items() if v is not None}
    accepted = BACKEND_OPTIONS.get(name, ())
    unused = [k for k in options if k not in accepted]
    if unused:  # kept process-wide, they would reach a later call of another ltx_* backend unasked
        names = ", ".join(f"`{k}`" for k in unused)
        raise ValueError(f"{names} {'is not an option' if len(unused) == 1 else 'are not options'} of backend "
                         f"{backend!r}, which takes {', '.join(f'`{k}`' for k in accepted) if accepted else 'none'}.")
    config = EfficientAttentionConfig(**{**_config.__dict__, **options})  # types and ranges of its own first
    blocks = len(getattr(model, "transformer_blocks", ()))
    if blocks and dense_blocks is not None and any(not 0 <= b < blocks for b in config.dense_blocks):
        raise ValueError(f"`dense_blocks` must index this model's {blocks} blocks (0 to {blocks - 1}), got "
                         f"{tuple(config.dense_blocks)}.")
    register_backends()
    _fetch_hub_kernel(name, backend)
    active = _AttentionBackendRegistry._active_backend
    with _quiet_backend_switch():
        model.set_attention_backend(name)
    # diffusers' set_attention_backend also makes `name` the process-wide default, which every other model whose
    # processors name no backend then runs (a second pipeline in the same notebook would silently go block-sparse).
    # This model's processors now name their backend, so the default goes back to what it was.
    _AttentionBackendRegistry.set_active_backend(active)
    _config, _layout, _layout_key = config, None, None
    _release(model)  # diffusers' set_attention_backend above rewrote every processor: nothing to notice
    _ltx_models.discard(model)
    if name.startswith("ltx_"):
        _ltx_models.add(model)
    elif not _ltx_models:  # as disable_efficient_attention: nothing reads the options any more
        _config = EfficientAttentionConfig()
    if name == BLOCK_SPARSE:
        _install_layout_hooks(model)
        _sparse_models.add(model)
    for sparse_model in list(_sparse_models):  # the options are process-wide: every such model follows them
        _assign_block_backends(sparse_model)
    return name


def approximate_attention(model: torch.nn.Module) -> dict | None:
    """The approximate attention ``model`` runs, as plain values, or None where every call is exact (SDPA,
    ``ltx_chunked``, flash-attn: dense attention, which only rounds differently): ``ltx_block_sparse`` and the options
    it reads, which all change the numbers. A long video's manifest records it, so that a resume under other attention
    is refused."""
    processors = [m.processor for m in model.modules() if hasattr(getattr(m, "processor", None), "_attention_backend")]
    active = _AttentionBackendRegistry._active_backend  # what a processor naming no backend runs
    names = {str(getattr(backend, "value", backend)) for backend in (p._attention_backend or active for p in processors)}
    managed = model in _sparse_models and not _switched_by_diffusers(model)  # (a dense phase shows every block dense)
    if BLOCK_SPARSE not in names and not managed:
        return None
    pattern, config = _config.pattern, _config
    # diffusers' own set_attention_backend installs no hooks: sequence order, and no dense steps or blocks
    return {"backend": BLOCK_SPARSE,
            "pattern": {"block_size": pattern.block_size, "global_stride": pattern.global_stride,
                        "boundary": pattern.boundary},
            "tile_shape": list(config.tile_shape) if managed else None, "min_tokens": config.min_tokens,
            "dense_steps": config.dense_steps if managed else 0,
            "dense_blocks": list(config.dense_blocks) if managed else []}


def disable_efficient_attention(model: torch.nn.Module) -> None:
    """``model`` back to diffusers' active backend (which ``enable_efficient_attention`` leaves as it found it); the
    options go back to their defaults when no other model uses an ``ltx_*`` backend."""
    global _config, _layout, _layout_key
    _release(model)
    _ltx_models.discard(model)
    _layout, _layout_key = None, None
    if not _ltx_models:  # nothing reads the options any more: the next enable starts from the defaults
        _config = EfficientAttentionConfig()
    with _quiet_backend_switch():
        model.reset_attention_backend()
