"""Where ``ltx_block_sparse`` runs dense instead: below ``min_tokens``, in the first ``dense_steps`` denoising
steps and in the ``dense_blocks`` (the schedule of Sparse VideoGen, Radial and Sliding-Tile Attention)."""

import pytest
import torch
from conftest import assert_fp32_equal, gen

from ltx_video.attention import BlockSparsePattern, backends
from ltx_video.testing import tiny_pipeline

SPARSE = dict(pattern=BlockSparsePattern(block_size=4), tile_shape=(1, 2, 2), min_tokens=0, dense_steps=0,
              dense_blocks=())
ARGS = dict(prompt="a red ball", height=64, width=96, num_frames=17, num_inference_steps=3, output_type="latent")


@pytest.fixture(scope="module")
def pipe():
    pipe = tiny_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def dense(pipe):
    return pipe(**ARGS, generator=gen(1)).frames


def generate(pipe, **options):
    pipe.enable_efficient_attention("ltx_block_sparse", **{**SPARSE, **options})
    try:
        return pipe(**ARGS, generator=gen(1)).frames
    finally:
        pipe.disable_efficient_attention()


def test_min_tokens_runs_dense_below_it(pipe, dense):
    sparse = generate(pipe)
    assert (sparse - dense).abs().max() > 1e-3  # 18 video tokens in blocks of 4: the pattern restricts
    assert_fp32_equal(generate(pipe, min_tokens=19), dense)  # 18 < 19: dense
    assert (generate(pipe, min_tokens=18) - sparse).abs().max() == 0  # 18 is not below 18
    assert backends.DEFAULT_MIN_TOKENS["cpu"] > 18 and backends.EfficientAttentionConfig().min_tokens is None
    backends._config = backends.EfficientAttentionConfig()  # (left-out options keep the current ones)
    pipe.enable_efficient_attention("ltx_block_sparse", pattern=SPARSE["pattern"], tile_shape=(1, 2, 2))
    try:  # the device default (CPU: 1024 tokens) keeps this small video dense
        assert_fp32_equal(pipe(**ARGS, generator=gen(1)).frames, dense)
    finally:
        pipe.disable_efficient_attention()


def test_dense_steps_follow_the_pipelines_step(pipe, dense):
    sparse = generate(pipe)
    assert_fp32_equal(generate(pipe, dense_steps=3), dense)  # all 3 steps dense
    one = generate(pipe, dense_steps=1)
    assert (one - dense).abs().max() > 1e-4 and (one - sparse).abs().max() > 1e-4
    phases = []  # the dense phase as each step's forward sees it
    handle = pipe.transformer.register_forward_pre_hook(lambda module, args: phases.append(backends._dense_phase))
    try:
        generate(pipe, dense_steps=1)
    finally:
        handle.remove()
    assert phases == [True, False, False] and backends._dense_phase is False  # reset after the generation
    assert_fp32_equal(generate(pipe, dense_steps=1 / 3), one)  # a fraction of the 3 steps: 1 step
    assert_fp32_equal(generate(pipe, dense_steps=1.0), dense)


def test_dense_blocks_run_dense_in_those_blocks(pipe, dense):
    sparse = generate(pipe)
    blocks = len(pipe.transformer.transformer_blocks)
    assert_fp32_equal(generate(pipe, dense_blocks=tuple(range(blocks))), dense)
    first = generate(pipe, dense_blocks=(0,))
    assert (first - dense).abs().max() > 1e-4 and (first - sparse).abs().max() > 1e-4
    pipe.enable_efficient_attention("ltx_block_sparse", **{**SPARSE, "dense_blocks": (0,)})
    try:  # diffusers' per-processor backends: block 0 dense, the others block-sparse
        backend = [b.attn1.processor._attention_backend.value for b in pipe.transformer.transformer_blocks]
        assert backend == ["native"] + ["ltx_block_sparse"] * (blocks - 1)
    finally:
        pipe.disable_efficient_attention()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(min_tokens=-1), "min_tokens"),
        (dict(min_tokens=1.5), "min_tokens"),
        (dict(dense_steps=-2), "dense_steps"),
        (dict(dense_steps=1.5), "dense_steps"),
        (dict(dense_blocks=(0, -1)), "dense_blocks"),
        (dict(dense_blocks=3), "dense_blocks"),
    ],
)
def test_bad_options_name_themselves(options, message):
    with pytest.raises(ValueError, match=message):
        backends.EfficientAttentionConfig(**options)


def test_defaults_keep_the_first_fifth_of_the_steps_and_the_first_block_dense(pipe):
    config = backends.EfficientAttentionConfig()
    assert (config.min_tokens, config.dense_steps, config.dense_blocks) == (None, 0.2, (0,))
    with_defaults = generate(pipe, dense_steps=config.dense_steps, dense_blocks=config.dense_blocks)
    assert_fp32_equal(with_defaults, generate(pipe, dense_steps=1, dense_blocks=(0,)))  # round(0.2 x 3) = 1 step


def test_dense_blocks_are_normalised():
    assert backends.EfficientAttentionConfig(dense_blocks=[2, 0, 2]).dense_blocks == (0, 2)
    with pytest.raises(ValueError, match="step"):
        backends.set_denoising_step(-1)


def test_options_apply_to_every_block_sparse_model_at_once():
    from ltx_video.attention import enable_efficient_attention
    from ltx_video.testing import tiny_transformer

    first, second = tiny_transformer(seed=0), tiny_transformer(seed=1)
    enable_efficient_attention(first, "ltx_block_sparse", dense_blocks=(0,))
    assert first.transformer_blocks[0].attn1.processor._attention_backend.value == "native"
    enable_efficient_attention(second, "ltx_block_sparse", dense_blocks=())  # process-wide options
    for model in (first, second):
        assert model.transformer_blocks[0].attn1.processor._attention_backend.value == "ltx_block_sparse"
    backends._config = backends.EfficientAttentionConfig(dense_steps=0.5)
    with pytest.raises(ValueError, match="num_steps"):
        backends.set_denoising_step(0)  # a fraction of an unknown number of steps
    assert backends.EfficientAttentionConfig(dense_steps=0.5).dense_step_count(5) == 3  # halves round up


def test_dense_blocks_hold_when_one_processor_serves_every_block(monkeypatch):
    # diffusers' set_attn_processor(p) puts one object on every attention module; the per-block backends were all
    # written to it, the last block's won, and dense_blocks=(0, 1) ran all three blocks block-sparse
    from diffusers.models.transformers.transformer_ltx import LTXVideoAttnProcessor

    from ltx_video.attention import enable_efficient_attention
    from ltx_video.testing import tiny_transformer, transformer_inputs

    calls = []
    kernel = backends.block_sparse_attention
    monkeypatch.setattr(backends, "block_sparse_attention", lambda *a, **k: (calls.append(1), kernel(*a, **k))[1])
    model = tiny_transformer(num_layers=3)
    model.set_attn_processor(LTXVideoAttnProcessor())
    enable_efficient_attention(model, "ltx_block_sparse", min_tokens=0, dense_blocks=(0, 1))
    backend = [b.attn1.processor._attention_backend.value for b in model.transformer_blocks]
    assert backend == ["native", "native", "ltx_block_sparse"]
    with torch.no_grad():
        model(**transformer_inputs(model, grid=(2, 4, 4)))
    assert len(calls) == 1  # the one self-attention of block 2
