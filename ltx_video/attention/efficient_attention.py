"""Exact attention kernels that save time or memory, in SDPA layout ``(B, H, N, D)``.

- ``block_sparse_attention``: attention restricted to a ``BlockSparsePattern`` (each query block sees its
  own block, every ``global_stride``-th block and its neighbours), computed without the N x N matrix.
  The pattern's keys split into a *global* set shared by every query (every ``global_stride``-th block)
  and a *band* of at most three blocks per query block (the non-global blocks among i-1, i, i+1). Each
  part runs through a fused attention kernel that also returns the log-sum-exp of its scores, and the two
  partial softmaxes are merged exactly: ``out = lerp(out_global, out_band, sigmoid(lse_band -
  lse_global))``. The global part costs ``1/global_stride`` of dense attention and the band
  ``3 * block_size / N`` of it, so at N = 16,384 with the default pattern the ceiling is ~3.9x.
- ``chunked_attention``: exact attention over query chunks (Rabe & Staats 2021, "Self-attention does
  not need O(n^2) memory"): peak memory O(B H chunk N) instead of O(B H N^2) on any device, dtype and
  mask, including where PyTorch has no fused kernel and falls back to materialising the scores.
- ``tile_permutation``: an order of video tokens in compact 3D tiles (latent frames x rows x columns),
  so that a block of 64 tokens is a 4 x 4 x 4 spatio-temporal patch rather than a strip of one row.

The specification's "O(N sqrt N), ~500x at 4K" does not describe this pattern: every query keeps the
``N / global_stride`` global keys, so the cost is O(N^2 / global_stride) and the speed-up is bounded by
``1 / density`` (~3.9x at stride 4). docs/attention.md has the arithmetic.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "BlockSparsePattern",
    "attention_with_lse",
    "block_sparse_attention",
    "block_sparse_mask",
    "block_sparse_table",
    "chunked_attention",
    "dense_block_mask",
    "flex_kernel_options",
    "tile_permutation",
]


def _is_count(value, minimum: int = 1) -> bool:
    """An integer >= ``minimum``: Python or NumPy (``numbers.Integral``), not a bool."""
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= minimum


def _is_fraction(value) -> bool:
    """A real number that is not an integer: a Python or NumPy float (``numbers.Real``)."""
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)


def _count(value, what: str, minimum: int = 1) -> int:
    """``value`` as a Python int, checked. NumPy integers are converted here, once, at the API boundary, so that
    the kernels (and the caches keyed on patterns) only ever see ints."""
    if not _is_count(value, minimum):
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


@dataclass(frozen=True)
class BlockSparsePattern:
    """Which key blocks each query block attends to (blocks of ``block_size`` consecutive tokens).

    Query block ``i`` keeps key block ``j`` when ``j == i`` (local), ``j % global_stride == 0``
    (global; block 0 is always global) or, with ``boundary``, ``|i - j| == 1`` (the neighbouring blocks,
    which keep continuity across block edges). ``global_stride=1`` is dense attention.
    """

    block_size: int = 64
    global_stride: int = 4
    boundary: bool = True

    def __post_init__(self):
        for name in ("block_size", "global_stride"):  # ints, so that equal patterns hash alike in the kernel caches
            object.__setattr__(self, name, _count(getattr(self, name), f"BlockSparsePattern `{name}`"))
        if not isinstance(self.boundary, bool):
            raise ValueError(f"BlockSparsePattern `boundary` must be a bool, got {self.boundary!r}.")

    def num_blocks(self, num_tokens: int) -> int:
        return -(-num_tokens // self.block_size)

    def band_offsets(self) -> tuple[int, ...]:
        return (-1, 0, 1) if self.boundary else (0,)

    def density(self, num_tokens: int) -> float:
        """The fraction of the N x N query-key pairs the pattern keeps (exact, counted per block)."""
        num_tokens = _check_num_tokens(num_tokens)
        blocks = self.num_blocks(num_tokens)
        index = torch.arange(blocks)
        sizes = torch.full((blocks,), self.block_size, dtype=torch.float64)
        sizes[-1] = num_tokens - self.block_size * (blocks - 1)
        kept = self._block_mask(index[:, None], index[None, :])
        pairs = (sizes[:, None] * sizes[None, :] * kept).sum()
        return float(pairs) / float(num_tokens) ** 2

    def _block_mask(self, query_block: torch.Tensor, key_block: torch.Tensor) -> torch.Tensor:
        keep = (query_block == key_block) | (key_block % self.global_stride == 0)
        if self.boundary:
            keep = keep | ((query_block - key_block).abs() == 1)
        return keep


def _check_num_tokens(num_tokens: int) -> int:
    return _count(num_tokens, "`num_tokens`")


def dense_block_mask(num_tokens: int, pattern: BlockSparsePattern = BlockSparsePattern()) -> torch.Tensor:
    """The pattern as a boolean (N, N) mask, True = attend. The reference for tests; O(N^2) memory."""
    num_tokens = _check_num_tokens(num_tokens)
    block = torch.arange(num_tokens) // pattern.block_size
    return pattern._block_mask(block[:, None], block[None, :])


# ----------------------------------------------------------------------------- kernels with log-sum-exp
def attention_with_lse(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, attn_mask: torch.Tensor | None, scale: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax attention and the log-sum-exp of each query's scores: (B, H, Nq, D), (B, H, Nq) float32.

    Fused where PyTorch exposes a kernel that returns the log-sum-exp (CPU flash attention, CUDA
    memory-efficient attention); otherwise an explicit computation. ``attn_mask`` is additive. The fused
    kernels' log-sum-exp carries no gradient: when gradients are needed, use ``_math_attention_with_lse``.
    """
    if query.device.type == "cpu":
        out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
            query, key, value, attn_mask=attn_mask, scale=scale
        )
        return out, lse.float()
    if query.device.type == "cuda":
        keys, pad = key.shape[2], -key.shape[2] % 16  # the kernel wants the bias's last dim aligned to 16
        mask = torch.zeros(1, 1, 1, keys, device=query.device) if attn_mask is None else attn_mask
        if pad:
            key, value = F.pad(key, (0, 0, 0, pad)), F.pad(value, (0, 0, 0, pad))
            mask = F.pad(mask, (0, pad), value=float("-inf"))
        bias = mask.to(query.dtype).expand(query.shape[0], query.shape[1], query.shape[2], keys + pad)
        op = torch.ops.aten._scaled_dot_product_efficient_attention
        out, lse = op(query, key, value, bias, True, scale=scale)[:2]
        return out, lse[..., : query.shape[2]].float()  # the kernel may pad the lse's query dim
    return _math_attention_with_lse(query, key, value, attn_mask, scale)


def _math_attention_with_lse(query, key, value, attn_mask, scale):
    scores = torch.matmul(query.float() * scale, key.float().transpose(-1, -2))
    if attn_mask is not None:
        scores = scores + attn_mask
    lse = torch.logsumexp(scores, dim=-1)
    out = torch.matmul(torch.exp(scores - lse.unsqueeze(-1)), value.float())
    return out.to(query.dtype), lse


# ----------------------------------------------------------------------------- block-sparse attention
def _check_qkv(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, *, same_length: bool) -> None:
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError(
            f"query, key and value must be (B, H, N, D), got {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}."
        )
    if key.shape[:3] != value.shape[:3] or query.shape[:2] != key.shape[:2] or query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"query {tuple(query.shape)}, key {tuple(key.shape)} and value {tuple(value.shape)} disagree on "
            "batch, heads, key length or head dim."
        )
    if same_length and query.shape[2] != key.shape[2]:
        raise ValueError(
            f"block-sparse attention is self-attention: query and key lengths must match, got "
            f"{query.shape[2]} and {key.shape[2]}."
        )


# Caches of the pattern's bookkeeping per (pattern, length[, device]): plain dicts rather than lru_cache, which
# torch.compile traces through with a warning; a compiled caller guards on the entry and reads it.
_BAND_MASKS: dict = {}
_EMPTY_BANDS: dict = {}


def _memo(cache: dict, key, build):
    if key not in cache:
        if len(cache) >= 32:
            cache.clear()
        cache[key] = build()
    return cache[key]


def _band_mask(pattern: BlockSparsePattern, num_tokens: int, device) -> torch.Tensor:
    return _memo(_BAND_MASKS, (pattern, num_tokens, str(device)), lambda: _build_band_mask(pattern, num_tokens, device))


def _build_band_mask(pattern: BlockSparsePattern, num_tokens: int, device) -> torch.Tensor:
    """Additive mask (blocks, len(offsets) * block_size) over each query block's band of key blocks.

    A band key is allowed when its block exists, is not global (the global pass covers those) and the
    token is not padding.
    """
    blocks, size = pattern.num_blocks(num_tokens), pattern.block_size
    key_block = torch.arange(blocks)[:, None] + torch.tensor(pattern.band_offsets())
    allowed = (key_block >= 0) & (key_block < blocks) & (key_block % pattern.global_stride != 0)
    token = key_block[:, :, None] * size + torch.arange(size)
    allowed = (allowed[:, :, None] & (token < num_tokens)).flatten(1)
    return torch.zeros(allowed.shape).masked_fill_(~allowed, float("-inf")).to(device)


def _empty_bands(pattern: BlockSparsePattern, num_tokens: int) -> tuple[bool, ...]:
    """Which query blocks have no band key at all (plain Python, so that a compiled caller branches on it
    without reading a tensor)."""
    blocks = pattern.num_blocks(num_tokens)

    def build():
        offsets, stride = pattern.band_offsets(), pattern.global_stride
        return tuple(not any(0 <= i + o < blocks and (i + o) % stride for o in offsets) for i in range(blocks))

    return _memo(_EMPTY_BANDS, (pattern, num_tokens), build)


def _global_key_index(pattern: BlockSparsePattern, num_tokens: int, device) -> torch.Tensor:
    """The tokens of the global blocks, ascending (sliced to ``num_tokens`` by arithmetic, not by a mask, so
    that no data-dependent shape reaches a compiled caller)."""
    blocks = torch.arange(0, pattern.num_blocks(num_tokens), pattern.global_stride, device=device)
    index = (blocks[:, None] * pattern.block_size + torch.arange(pattern.block_size, device=device)).flatten()
    last = (pattern.num_blocks(num_tokens) - 1) // pattern.global_stride * pattern.global_stride  # last global block
    kept = index.numel() - max(0, (last + 1) * pattern.block_size - num_tokens)
    return index[:kept]


def _block_sparse_merge(query, key, value, pattern: BlockSparsePattern, scale: float) -> torch.Tensor:
    batch, heads, tokens, dim = query.shape
    size, blocks = pattern.block_size, pattern.num_blocks(tokens)
    needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in (query, key, value))
    with_lse = _math_attention_with_lse if needs_grad else attention_with_lse  # see attention_with_lse
    global_index = _global_key_index(pattern, tokens, query.device)
    out_global, lse_global = with_lse(
        query, key.index_select(2, global_index), value.index_select(2, global_index), None, scale
    )
    empty = _empty_bands(pattern, tokens)
    if all(empty):
        return out_global
    mask = _band_mask(pattern, tokens, query.device)
    offsets = pattern.band_offsets()
    before, pad = -min(offsets) * size, blocks * size - tokens
    after = pad + max(offsets) * size
    # Query blocks as "heads" of one (B*H)-batch; each block's band of keys is an overlapping window of
    # the padded key sequence (as_strided: no copy per block).
    queries = F.pad(query, (0, 0, 0, pad)).reshape(batch * heads, blocks, size, dim)
    band = len(offsets) * size

    def windows(x: torch.Tensor) -> torch.Tensor:
        # With nothing to pad (boundary=False, N a multiple of the block) ``F.pad`` and ``reshape`` may return a
        # view of a transposed input (batch 1): the window strides are read from it, never assumed contiguous.
        padded = F.pad(x, (0, 0, before, after)).reshape(batch * heads, -1, dim)
        rows, step, element = padded.stride()
        return padded.as_strided((batch * heads, blocks, band, dim), (rows, size * step, step, element))

    out_band, lse_band = with_lse(queries, windows(key), windows(value), mask.to(query.dtype)[None, :, None, :], scale)
    if any(empty):  # blocks whose band is empty: the global pass alone
        keep = torch.tensor([not e for e in empty], device=query.device)[None, :, None]
        out_band = torch.where(keep[..., None], out_band, 0.0)
        lse_band = torch.where(keep, lse_band, float("-inf"))
    out_band = out_band.reshape(batch, heads, blocks * size, dim)[:, :, :tokens]
    lse_band = lse_band.reshape(batch, heads, blocks * size)[:, :, :tokens]
    weight = torch.sigmoid(lse_band - lse_global).unsqueeze(-1)  # share of the band in the joint softmax
    return torch.lerp(out_global.float(), out_band.float(), weight).to(query.dtype)


def block_sparse_table(pattern: BlockSparsePattern, num_tokens: int, rows_per_chunk: int = 256):
    """The key blocks each query block keeps, as FlexAttention's block table: ``counts`` (nb,) and ``indices``
    (nb, width) int32, each row's kept blocks ascending in its first ``counts[i]`` entries (0 after them).

    Built from the pattern's structure (the global blocks plus a band of at most three), ``rows_per_chunk``
    rows at a time, in O(nb * width) memory with width = nb / global_stride + 3: never an N x N or nb x nb
    grid. At N = 269,280 (4K x 257 frames) and the default pattern that is 17.8 MB of int32.
    """
    num_tokens = _check_num_tokens(num_tokens)
    blocks = pattern.num_blocks(num_tokens)
    global_blocks = torch.arange(0, blocks, pattern.global_stride, dtype=torch.int32)
    offsets = torch.tensor(pattern.band_offsets(), dtype=torch.int32)
    indices = torch.empty(blocks, len(global_blocks) + len(offsets), dtype=torch.int32)
    counts = torch.empty(blocks, dtype=torch.int32)
    for start in range(0, blocks, rows_per_chunk):
        rows = torch.arange(start, min(start + rows_per_chunk, blocks), dtype=torch.int32)
        band = rows[:, None] + offsets
        own = (band >= 0) & (band < blocks) & (band % pattern.global_stride != 0)  # globals are listed once
        candidates = torch.cat([global_blocks.expand(len(rows), -1), torch.where(own, band, blocks)], dim=1)
        candidates = candidates.sort(dim=1).values  # the sentinel ``blocks`` sorts last
        indices[start : start + len(rows)] = candidates.masked_fill_(candidates == blocks, 0)
        counts[start : start + len(rows)] = len(global_blocks) + own.sum(dim=1, dtype=torch.int32)
    return counts, indices


def block_sparse_mask(
    pattern: BlockSparsePattern, num_tokens: int, device: torch.device | str = "cpu", *, compact: bool = True
):
    """The pattern as a FlexAttention ``BlockMask`` for ``num_tokens`` queries and keys, built from
    :func:`block_sparse_table` (never from an N x N grid, which ``create_block_mask`` evaluates).

    Every kept block is a full block (the pattern is block-aligned; flex masks the tokens past ``num_tokens``
    itself), so the kernel never calls the mask function; it is still set to the pattern, for the eager path
    that evaluates it densely. ``pattern.block_size`` must be a multiple of 16 (flex's smallest tile).
    Forward only: the transposed table a backward pass needs is not built.

    ``compact`` keeps each row of the table only as wide as the most blocks a row keeps (nb / global_stride
    + 3): the CUDA kernels read rows by stride and only their first ``counts[i]`` entries. ``compact=False``
    pads the rows to nb, as ``BlockMask.to_dense`` and inductor's CPU lowering of flex require (4x the
    memory at the default stride).
    """
    from torch.nn.attention.flex_attention import BlockMask

    if pattern.block_size % 16:
        raise ValueError(f"flex block-sparse attention needs `block_size` a multiple of 16, got {pattern.block_size}.")
    counts, indices = block_sparse_table(pattern, num_tokens)
    blocks = counts.shape[0]
    if not compact:
        indices = F.pad(indices, (0, blocks - indices.shape[1]))
    partial_counts = torch.zeros(1, 1, blocks, dtype=torch.int32, device=device)
    partial_indices = torch.zeros(1, 1, blocks, 1 if compact else blocks, dtype=torch.int32, device=device)

    def mask_mod(batch, head, query_index, key_index):
        return pattern._block_mask(query_index // pattern.block_size, key_index // pattern.block_size)

    return BlockMask.from_kv_blocks(
        partial_counts, partial_indices, counts[None, None].to(device), indices[None, None].to(device),
        BLOCK_SIZE=pattern.block_size, mask_mod=mask_mod, seq_lengths=(num_tokens, num_tokens),
        compute_q_blocks=False,
    )


def flex_kernel_options(pattern: BlockSparsePattern) -> dict[str, int]:
    """Triton tile sizes that divide the pattern's block on every CUDA architecture: flex's defaults are
    128 wide on Hopper, which a 64-token block cannot hold ("Q and KV block size must be divisible by
    BLOCK_M and BLOCK_N"). 64 x 64 tiles fit the shared memory of Ampere, Ada and Hopper for head dims
    up to 128 in 16-bit types."""
    tile = next(t for t in (64, 32, 16) if pattern.block_size % t == 0)
    return {"BLOCK_M": tile, "BLOCK_N": tile}


_FLEX_MASKS: dict = {}


def _flex_block_mask(pattern: BlockSparsePattern, tokens: int, device: str):
    # compact rows for the CUDA kernels; full rows elsewhere (inductor's CPU lowering needs them)
    compact = device.startswith("cuda")
    return _memo(_FLEX_MASKS, (pattern, tokens, device),
                 lambda: block_sparse_mask(pattern, tokens, device, compact=compact))


@functools.lru_cache(maxsize=1)
def _compiled_flex_attention():
    from torch.nn.attention.flex_attention import flex_attention

    return torch.compile(flex_attention, dynamic=False)


def _block_sparse_flex(query, key, value, pattern: BlockSparsePattern, scale: float) -> torch.Tensor:
    from torch.nn.attention.flex_attention import flex_attention

    block_mask = _flex_block_mask(pattern, query.shape[2], str(query.device))
    if query.device.type == "cuda":
        # inside a compiled region (pipe.enable_compile) flex is traced with the rest; else compiled alone
        kernel = flex_attention if torch.compiler.is_compiling() else _compiled_flex_attention()
        return kernel(
            query, key, value, block_mask=block_mask, scale=scale, kernel_options=flex_kernel_options(pattern)
        )
    return flex_attention(query, key, value, block_mask=block_mask, scale=scale)


BLOCK_SPARSE_IMPLEMENTATIONS = ("auto", "merge", "flex")


def block_sparse_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    pattern: BlockSparsePattern = BlockSparsePattern(),
    *,
    scale: float | None = None,
    implementation: str = "auto",
) -> torch.Tensor:
    """Self-attention restricted to ``pattern``, exact, without building the N x N matrix.

    Args:
        query, key, value: (B, H, N, D), one sequence length N (any N; the last block may be partial).
        pattern: the ``BlockSparsePattern``; tokens are blocked in the order given (see ``tile_permutation``
            for video).
        scale: softmax scale, default ``1 / sqrt(D)``.
        implementation: ``"merge"`` (global pass + banded local pass, merged by log-sum-exp; any device;
            when gradients are needed both passes use an explicit, differentiable computation, because the
            fused kernels' log-sum-exp carries no gradient),
            ``"flex"`` (``torch.nn.attention.flex_attention`` with a block mask; compiled on CUDA, eager
            elsewhere) or ``"auto"`` (flex on CUDA when ``block_size`` is a multiple of 16, merge elsewhere).

    Returns (B, H, N, D), equal to ``scaled_dot_product_attention`` with ``dense_block_mask(N, pattern)``.
    """
    _check_qkv(query, key, value, same_length=True)
    if implementation not in BLOCK_SPARSE_IMPLEMENTATIONS:
        raise ValueError(f"`implementation` must be one of {BLOCK_SPARSE_IMPLEMENTATIONS}, got {implementation!r}.")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if implementation == "flex" or (
        implementation == "auto" and query.device.type == "cuda" and pattern.block_size % 16 == 0
    ):
        return _block_sparse_flex(query, key, value, pattern, scale)
    return _block_sparse_merge(query, key, value, pattern, scale)


# ----------------------------------------------------------------------------- chunked attention
def chunked_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    chunk_size: int = 1024,
    *,
    attn_mask: torch.Tensor | None = None,
    scale: float | None = None,
) -> torch.Tensor:
    """Exact softmax attention computed ``chunk_size`` queries at a time: memory O(B H chunk_size Nk).

    Each chunk goes through ``scaled_dot_product_attention``, so a fused kernel is used where PyTorch
    has one, and where it has none (the math kernel, which materialises the scores) the chunk bounds
    the score matrix to (B, H, chunk_size, Nk). ``attn_mask`` follows ``scaled_dot_product_attention``:
    boolean (True = attend) or additive, broadcastable to (B, H, Nq, Nk).
    """
    _check_qkv(query, key, value, same_length=False)
    chunk_size = _count(chunk_size, "`chunk_size`")
    if attn_mask is not None and attn_mask.ndim < 2:
        raise ValueError(f"`attn_mask` must broadcast to (B, H, Nq, Nk), got shape {tuple(attn_mask.shape)}.")
    queries = query.shape[2]
    if queries <= chunk_size:
        return F.scaled_dot_product_attention(query, key, value, attn_mask=attn_mask, scale=scale)
    per_query_mask = attn_mask is not None and attn_mask.shape[-2] == queries
    out = query.new_empty(*query.shape[:-1], value.shape[-1])
    for start in range(0, queries, chunk_size):
        stop = min(start + chunk_size, queries)
        mask = attn_mask[..., start:stop, :] if per_query_mask else attn_mask
        out[:, :, start:stop] = F.scaled_dot_product_attention(
            query[:, :, start:stop], key, value, attn_mask=mask, scale=scale
        )
    return out


# ----------------------------------------------------------------------------- 3D tiles for video tokens
def tile_permutation(
    positions: torch.Tensor | tuple[int, int, int], tile_shape: tuple[int, int, int] = (4, 4, 4)
) -> torch.Tensor:
    """An order of video tokens in compact 3D tiles: ``tokens[perm]`` lists tile after tile.

    Args:
        positions: a latent grid ``(frames, rows, columns)`` in LTX's token order (frame-major,
            row-major), or per-token coordinates (N, 3) (time, y, x) in any units, such as the
            ``video_coords`` LTX passes to its rotary embedding (transposed); each axis is ranked, so
            extra tokens (keyframes) sort next to the tokens they share coordinates with.
        tile_shape: (frames, rows, columns) per tile; a block of ``prod(tile_shape)`` tokens is then one
            tile wherever the grid divides evenly.

    Returns a permutation (N,) int64; its inverse is ``torch.argsort(perm)``. Tiles run frame-major then
    row-major; inside a tile, tokens keep frame-major, row-major order. Ties keep their input order.
    """
    if len(tile_shape) != 3 or not all(_is_count(t) for t in tile_shape):
        raise ValueError(f"`tile_shape` must be three integers >= 1, got {tile_shape!r}.")
    tile_shape = tuple(int(t) for t in tile_shape)
    if isinstance(positions, torch.Tensor):
        if positions.ndim != 2 or positions.shape[1] != 3:
            raise ValueError(f"per-token `positions` must be (N, 3), got {tuple(positions.shape)}.")
        ranks = [torch.unique(positions[:, a], return_inverse=True)[1] for a in range(3)]
    else:
        if len(positions) != 3 or not all(_is_count(n) for n in positions):
            raise ValueError(f"a latent grid must be three integers >= 1 (frames, rows, columns), got {positions!r}.")
        ranks = [r.flatten() for r in torch.meshgrid(*(torch.arange(int(n)) for n in positions), indexing="ij")]
    tiles = [(int(r.max()) + t) // t for r, t in zip(ranks, tile_shape, strict=True)]  # tiles per axis
    tile_id = ((ranks[0] // tile_shape[0]) * tiles[1] + ranks[1] // tile_shape[1]) * tiles[2] + ranks[2] // tile_shape[
        2
    ]
    inner = ((ranks[0] % tile_shape[0]) * tile_shape[1] + ranks[1] % tile_shape[1]) * tile_shape[2] + ranks[
        2
    ] % tile_shape[2]
    volume = tile_shape[0] * tile_shape[1] * tile_shape[2]
    return torch.argsort(tile_id * volume + inner, stable=True)
