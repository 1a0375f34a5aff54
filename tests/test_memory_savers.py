"""Feed-forward chunking and VAE tiling through the pipelines."""

import math
from unittest import mock

import numpy as np
import pytest
import torch
from conftest import assert_fp32_equal, gen

from ltx_video.default_model import load_default_pipeline
from ltx_video.models.memory import disable_feed_forward_chunking, enable_feed_forward_chunking
from ltx_video.testing import tiny_pipeline


def test_feed_forward_chunking_is_exact_and_reversible():
    pipe = tiny_pipeline(seed=2)
    args = dict(prompt="a ball", height=64, width=96, num_frames=17, num_inference_steps=2, output_type="pt")
    reference = pipe(**args, generator=gen(0)).frames
    keys = list(pipe.transformer.state_dict())
    calls = []
    pipe.enable_feed_forward_chunking(chunk_size=5)  # 18 video tokens -> chunks of 5, 5, 5, 3
    ff = pipe.transformer.transformer_blocks[0].ff
    hook = ff.net[0].register_forward_pre_hook(lambda module, inputs: calls.append(inputs[0].shape[1]))
    chunked = pipe(**args, generator=gen(0)).frames
    hook.remove()
    assert_fp32_equal(chunked, reference)  # GEMMs of 5 rows instead of 18: the same sums, other blockings
    assert calls[:4] == [5, 5, 5, 3]
    assert list(pipe.transformer.state_dict()) == keys
    pipe.disable_feed_forward_chunking()
    block = pipe.transformer.transformer_blocks[1].ff
    assert "forward" not in block.__dict__ and type(block).__name__ == "FeedForward"
    assert_fp32_equal(pipe(**args, generator=gen(0)).frames, reference)


def test_feed_forward_chunking_errors():
    model = tiny_pipeline().transformer
    with pytest.raises(ValueError, match="chunk_size"):
        enable_feed_forward_chunking(model, 0)
    with pytest.raises(ValueError, match="chunk_size"):
        enable_feed_forward_chunking(model, True)
    assert enable_feed_forward_chunking(model, np.int64(64)) > 0  # a size read from an array (was refused)
    with pytest.raises(ValueError, match="FeedForward"):
        disable_feed_forward_chunking(torch.nn.Linear(2, 2))


def test_vae_tiling_decodes_through_tiles_close_to_whole():
    """The built-in model's trained VAE: tiled decoding (64 px tiles, 32 px overlap) against whole-frame decoding."""
    pipe = load_default_pipeline()
    args = dict(
        prompt="a red ball bounces", height=128, width=128, num_frames=25, num_inference_steps=4, output_type="pt"
    )
    whole = pipe(**args, generator=gen(0)).frames
    pipe.vae.enable_tiling(
        tile_sample_min_height=64, tile_sample_min_width=64, tile_sample_stride_height=32, tile_sample_stride_width=32
    )
    vae_cls = type(pipe.vae)
    with mock.patch.object(vae_cls, "tiled_decode", autospec=True, side_effect=vae_cls.tiled_decode) as tiled:
        tiles = pipe(**args, generator=gen(0)).frames
    assert tiled.call_count == 1
    psnr = 10 * math.log10(1.0 / ((tiles - whole) ** 2).mean().item())
    assert 30.0 < psnr < 80.0  # blended seams, not a bit-exact copy of the whole-frame decode
