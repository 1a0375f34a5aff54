"""Exactness of the efficient attention kernels against masked dense SDPA."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ltx_video.attention import (
    BlockSparsePattern,
    block_sparse_attention,
    chunked_attention,
    dense_block_mask,
    tile_permutation,
)
from ltx_video.attention import efficient_attention as ea

PATTERNS = [
    BlockSparsePattern(),
    BlockSparsePattern(block_size=16, global_stride=3, boundary=False),
    BlockSparsePattern(block_size=8, global_stride=2),
    BlockSparsePattern(block_size=7, global_stride=5),
    BlockSparsePattern(block_size=32, global_stride=1),  # dense
]


def qkv(*shape, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=g).to(dtype) for _ in range(3)]


def test_dense_block_mask_is_the_stated_pattern():
    mask = dense_block_mask(10 * 4, BlockSparsePattern(block_size=4, global_stride=4))
    block = mask[::4, ::4]  # one entry per (query block, key block)
    for i in range(10):
        expected = {j for j in range(10) if j == i or j % 4 == 0 or abs(i - j) == 1}
        assert set(torch.nonzero(block[i]).flatten().tolist()) == expected
    assert torch.equal(mask, mask[::4, ::4].repeat_interleave(4, 0).repeat_interleave(4, 1))


@pytest.mark.parametrize("pattern", PATTERNS, ids=str)
@pytest.mark.parametrize("tokens", [1, 5, 64, 100, 333, 1031])
def test_block_sparse_equals_masked_sdpa(pattern, tokens):
    q, k, v = qkv(2, 3, tokens, 16, seed=tokens)
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=dense_block_mask(tokens, pattern))
    out = block_sparse_attention(q, k, v, pattern, implementation="merge")
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=0)
    assert pattern.density(tokens) == pytest.approx(dense_block_mask(tokens, pattern).float().mean().item(), abs=1e-7)


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("boundary", [False, True])
def test_block_sparse_takes_transposed_inputs(batch, boundary):
    """diffusers' backends pass (B, N, H, D) tensors transposed to (B, H, N, D). With boundary=False and N a
    multiple of the block nothing is padded, and for a batch of one the key windows were read from that view as if
    it were contiguous (0.81 off)."""
    pattern = BlockSparsePattern(block_size=32, global_stride=4, boundary=boundary)
    q, k, v = (t.transpose(1, 2) for t in qkv(batch, 128, 2, 16))
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=dense_block_mask(128, pattern))
    out = block_sparse_attention(q, k, v, pattern, implementation="merge")
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=0)


def test_block_sparse_flex_implementation_is_exact():
    pattern = BlockSparsePattern(block_size=16, global_stride=4)
    q, k, v = qkv(1, 2, 333, 16)
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=dense_block_mask(333, pattern))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flex_attention warns that it runs unfused outside torch.compile
        out = block_sparse_attention(q, k, v, pattern, implementation="flex")
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=0)


def test_block_sparse_without_fused_kernel_is_exact(monkeypatch):
    """The path for devices without a log-sum-exp kernel (neither CPU nor CUDA)."""
    monkeypatch.setattr(ea, "attention_with_lse", ea._math_attention_with_lse)
    pattern = BlockSparsePattern(block_size=8, global_stride=3)
    q, k, v = qkv(1, 2, 101, 8)
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=dense_block_mask(101, pattern))
    torch.testing.assert_close(block_sparse_attention(q, k, v, pattern), reference, atol=1e-5, rtol=0)


def test_block_sparse_bfloat16_and_custom_scale():
    pattern = BlockSparsePattern(block_size=16)
    q, k, v = qkv(1, 2, 300, 16, dtype=torch.bfloat16)
    mask = dense_block_mask(300, pattern)
    out = block_sparse_attention(q, k, v, pattern, scale=0.1)
    exact = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=mask, scale=0.1)
    bf16_sdpa = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.1)
    assert out.dtype == torch.bfloat16
    # as close to the float32 result as bf16 SDPA itself is (bf16 has an 8-bit mantissa)
    assert (out.float() - exact).abs().max() <= 2 * (bf16_sdpa.float() - exact).abs().max() + 1e-3


@pytest.mark.parametrize("tokens", [50, 200])
def test_block_sparse_gradients_equal_masked_sdpa(tokens):
    pattern = BlockSparsePattern(block_size=16, global_stride=3)
    leaves = [t.requires_grad_() for t in qkv(1, 2, tokens, 8, seed=tokens)]
    target = torch.randn(1, 2, tokens, 8, generator=torch.Generator().manual_seed(9))
    (block_sparse_attention(*leaves, pattern) * target).sum().backward()
    ours = [t.grad.clone() for t in leaves]
    for t in leaves:
        t.grad = None
    (F.scaled_dot_product_attention(*leaves, attn_mask=dense_block_mask(tokens, pattern)) * target).sum().backward()
    for mine, reference in zip(ours, (t.grad for t in leaves), strict=True):
        torch.testing.assert_close(mine, reference, atol=1e-5, rtol=1e-4)


def test_chunked_value_dim_may_differ():
    q, k, _ = qkv(1, 2, 40, 8)
    v = torch.randn(1, 2, 40, 12)
    torch.testing.assert_close(chunked_attention(q, k, v, 16), F.scaled_dot_product_attention(q, k, v), atol=1e-5, rtol=0)


def test_block_sparse_differs_from_dense_attention():
    q, k, v = qkv(1, 2, 512, 16)
    dense = F.scaled_dot_product_attention(q, k, v)
    assert (block_sparse_attention(q, k, v, BlockSparsePattern(block_size=32)) - dense).abs().max() > 1e-2


def test_density_of_the_default_pattern():
    pattern = BlockSparsePattern()
    # 256 blocks: every query block keeps the 64 global ones; each of the 192 others is also kept by the
    # query blocks on either side of it and itself (the last block has no right neighbour)
    assert pattern.density(16384) == pytest.approx((64 * 256 + 192 * 3 - 1) / 256**2, abs=1e-12)
    assert BlockSparsePattern(global_stride=1).density(1000) == 1.0


@pytest.mark.parametrize("chunk", [1, 37, 200, 5000])
def test_chunked_equals_sdpa(chunk):
    q, k, v = qkv(2, 3, 200, 16)
    torch.testing.assert_close(
        chunked_attention(q, k, v, chunk), F.scaled_dot_product_attention(q, k, v), atol=1e-5, rtol=0
    )


def test_chunked_masks_and_cross_attention():
    q, k, v = qkv(2, 3, 120, 16)
    bool_mask = torch.rand(2, 1, 1, 120, generator=torch.Generator().manual_seed(1)) > 0.3
    additive = torch.randn(2, 3, 120, 120)
    for mask in (bool_mask, additive):
        expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        torch.testing.assert_close(chunked_attention(q, k, v, 17, attn_mask=mask), expected, atol=1e-5, rtol=0)
    kc, vc = k[:, :, :33], v[:, :, :33]
    expected = F.scaled_dot_product_attention(q, kc, vc, scale=0.3)
    torch.testing.assert_close(chunked_attention(q, kc, vc, 50, scale=0.3), expected, atol=1e-5, rtol=0)


def test_tile_permutation_groups_cubes_and_inverts():
    perm = tile_permutation((8, 8, 12), (4, 4, 4))
    coords = torch.stack(torch.meshgrid(*(torch.arange(n) for n in (8, 8, 12)), indexing="ij"), -1).reshape(-1, 3)
    blocks = coords[perm].view(-1, 64, 3)
    extent = blocks.amax(1) - blocks.amin(1)
    assert torch.equal(extent, torch.full_like(extent, 3))  # every 64-block is a 4x4x4 cube
    assert torch.equal(torch.sort(perm).values, torch.arange(perm.numel()))
    x = torch.randn(1, perm.numel(), 5)
    assert torch.equal(x[:, perm][:, torch.argsort(perm)], x)
    # per-token coordinates in other units (seconds, pixels) give the same order
    assert torch.equal(tile_permutation(coords.float() * torch.tensor([1 / 24, 32.0, 32.0])), perm)


def test_tile_permutation_partial_tiles_and_extra_tokens():
    perm = tile_permutation((3, 5, 5), (2, 2, 2))
    assert torch.equal(torch.sort(perm).values, torch.arange(75))
    coords = torch.stack(torch.meshgrid(*(torch.arange(n) for n in (2, 4, 4)), indexing="ij"), -1).reshape(-1, 3)
    keyframe = coords[coords[:, 0] == 1].clone()  # a conditioning frame at the same time and places as frame 1
    order = tile_permutation(torch.cat([coords, keyframe]).float(), (2, 2, 2))
    tokens = torch.cat([coords, keyframe])
    in_first_tile = (tokens < 2).all(dim=1)  # frames 0-1, rows 0-1, columns 0-1
    # the first tile holds its 8 grid tokens and the 4 keyframe tokens over them, then the next tile starts
    assert set(order[:12].tolist()) == set(torch.nonzero(in_first_tile).flatten().tolist())
    assert int(in_first_tile.sum()) == 12


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda q: block_sparse_attention(q, q[:, :, :5], q[:, :, :5]), "lengths must match"),
        (lambda q: block_sparse_attention(q[0], q[0], q[0]), r"\(B, H, N, D\)"),
        (lambda q: block_sparse_attention(q, q, q, implementation="triton"), "implementation"),
        (lambda q: chunked_attention(q, q, q, 0), "chunk_size"),
        (lambda q: BlockSparsePattern(block_size=0), "block_size"),
        (lambda q: BlockSparsePattern(global_stride=2.5), "global_stride"),
        (lambda q: BlockSparsePattern().density(0), "num_tokens"),
        (lambda q: tile_permutation((4, 4), (2, 2, 2)), "latent grid"),
        (lambda q: tile_permutation((4, 4, 4), (2, 0, 2)), "tile_shape"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call(torch.randn(1, 2, 10, 8))


def test_numpy_integers_are_taken_as_ints_and_bools_refused():
    # np.int64 (read from a config array, computed with NumPy) was refused by BlockSparsePattern, chunked_attention
    # and tile_permutation with "must be an integer ... got np.int64(64)"
    pattern = BlockSparsePattern(block_size=np.int64(8), global_stride=np.int32(2))
    assert pattern == BlockSparsePattern(8, 2) and type(pattern.block_size) is type(pattern.global_stride) is int
    query, key, value = qkv(1, 2, 40, 8)
    torch.testing.assert_close(chunked_attention(query, key, value, np.int64(16)), chunked_attention(query, key, value, 16))
    assert torch.equal(tile_permutation((np.int64(2), 4, 4), (np.int64(2),) * 3), tile_permutation((2, 4, 4), (2, 2, 2)))
    assert pattern.density(np.int64(64)) == BlockSparsePattern(8, 2).density(64)
    for call in (lambda: BlockSparsePattern(block_size=True), lambda: chunked_attention(query, key, value, True),
                 lambda: tile_permutation((2, 4, 4), (True, 2, 2))):
        with pytest.raises(ValueError, match="block_size|chunk_size|tile_shape"):
            call()
