"""The FlexAttention block mask built from the pattern's block table, never from an N x N grid.

On an H200, ``create_block_mask`` asked for 67.5 GiB at N = 269,280 (4K x 257 frames) because it
evaluates the mask function on every query-key pair; ``block_sparse_mask`` lists the kept blocks directly.
"""

import shutil
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch.nn.attention.flex_attention import BlockMask, flex_attention

from ltx_video.attention.efficient_attention import (
    BlockSparsePattern,
    block_sparse_attention,
    block_sparse_mask,
    block_sparse_table,
    dense_block_mask,
    flex_kernel_options,
)

PATTERNS = [BlockSparsePattern(), BlockSparsePattern(32, 3, False), BlockSparsePattern(16, 1), BlockSparsePattern(64, 5)]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("num_tokens", [1, 64, 100, 1000, 4113])
def test_table_lists_exactly_the_kept_blocks_in_order(pattern, num_tokens):
    counts, indices = block_sparse_table(pattern, num_tokens, rows_per_chunk=7)  # several chunks
    blocks = pattern.num_blocks(num_tokens)
    listed = torch.zeros(blocks, blocks, dtype=torch.bool)
    for row in range(blocks):
        kept = indices[row, : counts[row]].long()
        assert (kept[1:] > kept[:-1]).all()  # ascending, no repeats
        assert (indices[row, counts[row] :] == 0).all()
        listed[row, kept] = True
    # the reference: the pattern's rule evaluated on every (query block, key block) pair
    block = torch.arange(blocks)
    assert torch.equal(listed, pattern._block_mask(block[:, None], block[None, :]))
    assert indices.dtype == counts.dtype == torch.int32
    assert indices.shape[1] == len(range(0, blocks, pattern.global_stride)) + len(pattern.band_offsets())


def test_compact_and_full_width_masks_hold_the_same_rows():
    pattern = BlockSparsePattern(32, 3)
    compact, full = block_sparse_mask(pattern, 1000), block_sparse_mask(pattern, 1000, compact=False)
    assert torch.equal(compact.full_kv_num_blocks, full.full_kv_num_blocks)
    width = compact.full_kv_indices.shape[-1]
    assert full.full_kv_indices.shape[-1] == pattern.num_blocks(1000) > width
    assert torch.equal(full.full_kv_indices[..., :width], compact.full_kv_indices)
    assert (full.full_kv_indices[..., width:] == 0).all() and (compact.kv_num_blocks == 0).all()
    block = torch.arange(pattern.num_blocks(1000))
    assert torch.equal(full.to_dense()[0, 0].bool(), pattern._block_mask(block[:, None], block[None, :]))


def test_eager_flex_with_the_mask_equals_masked_sdpa():
    pattern = BlockSparsePattern(32, 3)
    q, k, v = torch.randn(3, 1, 2, 300, 16, generator=torch.Generator().manual_seed(0)).unbind(0)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=dense_block_mask(300, pattern))
    torch.testing.assert_close(block_sparse_attention(q, k, v, pattern, implementation="flex"), expected,
                               atol=1e-5, rtol=0)


def _cpu_flex_compiles() -> bool:
    from torch._inductor import cpu_vec_isa

    return shutil.which("g++") is not None and bool(cpu_vec_isa.pick_vec_isa())


@pytest.mark.skipif(not _cpu_flex_compiles(), reason="inductor's CPU flex kernel needs a C++ compiler and a vector ISA")
def test_compiled_flex_kernel_reads_the_table():
    """Inductor's CPU flex kernel skips the blocks the table leaves out (a full block never calls the mask
    function): built from pattern A's table with pattern B's mask function, it computes pattern A."""
    tokens = 512
    a, b = BlockSparsePattern(32, 3), BlockSparsePattern(32, 3, boundary=False)
    q, k, v = torch.randn(3, 1, 2, tokens, 16, generator=torch.Generator().manual_seed(1)).unbind(0)
    table_a, table_b = block_sparse_mask(a, tokens, compact=False), block_sparse_mask(b, tokens, compact=False)
    mixed = BlockMask.from_kv_blocks(
        table_a.kv_num_blocks, table_a.kv_indices, table_a.full_kv_num_blocks, table_a.full_kv_indices,
        BLOCK_SIZE=32, mask_mod=table_b.mask_mod, seq_lengths=(tokens, tokens), compute_q_blocks=False,
    )
    out = torch.compile(flex_attention, dynamic=False)(q, k, v, block_mask=mixed)
    expected_a = F.scaled_dot_product_attention(q, k, v, attn_mask=dense_block_mask(tokens, a))
    expected_b = F.scaled_dot_product_attention(q, k, v, attn_mask=dense_block_mask(tokens, b))
    torch.testing.assert_close(out, expected_a, atol=1e-5, rtol=0)
    assert (out - expected_b).abs().max() > 1e-2


def test_4k_mask_is_small():
    """N = 269,280 (3840 x 2176 x 257 frames through the 32x VAE): peak RSS rises by < 64 MiB (a fresh
    process, so nothing earlier hides the peak)."""
    code = textwrap.dedent(
        """
        import resource, torch
        from ltx_video.attention.efficient_attention import BlockSparsePattern, block_sparse_mask
        block_sparse_mask(BlockSparsePattern(), 64)  # imports and first-call set-up outside the measurement
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        mask = block_sparse_mask(BlockSparsePattern(), 269_280)
        rise = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        blocks = 269_280 // 64 + 1
        print(rise // 1024, int(mask.full_kv_num_blocks.sum()), blocks, tuple(mask.full_kv_indices.shape))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rise_mib, kept, blocks, shape = result.stdout.split(maxsplit=3)
    assert int(rise_mib) < 64, result.stdout
    blocks = int(blocks)
    # kept block pairs: every row keeps the global blocks plus its non-global neighbours (counted directly)
    globals_ = len(range(0, blocks, 4))
    band = sum(1 for i in range(blocks) for j in (i - 1, i, i + 1) if 0 <= j < blocks and j % 4)
    assert int(kept) == blocks * globals_ + band


@pytest.mark.parametrize(("block_size", "tile"), [(64, 64), (128, 64), (256, 64), (32, 32), (96, 32), (48, 16)])
def test_kernel_tiles_divide_the_block(block_size, tile):
    options = flex_kernel_options(BlockSparsePattern(block_size))
    assert options == {"BLOCK_M": tile, "BLOCK_N": tile} and block_size % tile == 0


def test_flex_needs_blocks_of_16():
    with pytest.raises(ValueError, match="multiple of 16"):
        block_sparse_mask(BlockSparsePattern(40), 100)
