"""The ltx_* backends through diffusers' attention dispatch, on diffusers' LTX transformer and our pipelines."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import gen
from diffusers.models import attention_dispatch
from diffusers.models.attention_dispatch import AttentionBackendName, _AttentionBackendRegistry

from ltx_video.attention import (
    BlockSparsePattern,
    backends,
    convert_attention_heads,
    dense_block_mask,
    disable_efficient_attention,
    enable_efficient_attention,
    tile_permutation,
)
from ltx_video.testing import tiny_audio_video_pipeline, tiny_pipeline, tiny_transformer, transformer_inputs

GRID = (3, 4, 6)  # latent frames, rows, columns: 72 tokens


@pytest.fixture
def transformer():
    return tiny_transformer(seed=3)


def forward_kwargs(transformer, seed=0, grid=GRID):
    kwargs = transformer_inputs(transformer, grid, text_tokens=7, batch=2, timestep=torch.tensor([300.0, 700.0]),
                                generator=torch.Generator().manual_seed(seed))
    kwargs["encoder_attention_mask"][0, 5:] = 0  # a padded prompt
    return kwargs


def run(transformer, kwargs):
    with torch.no_grad():
        return transformer(**kwargs)[0]


def masked_reference(query, key, value, pattern, scale=None):
    return F.scaled_dot_product_attention(
        query, key, value, attn_mask=dense_block_mask(query.shape[2], pattern), scale=scale
    )


def test_set_attention_backend_names_work_on_diffusers_ltx_transformer(transformer):
    kwargs = forward_kwargs(transformer)
    dense = run(transformer, kwargs)
    transformer.set_attention_backend("ltx_chunked")
    torch.testing.assert_close(run(transformer, kwargs), dense, atol=1e-5, rtol=0)
    transformer.set_attention_backend("ltx_block_sparse")  # default pattern: 72 tokens are 2 blocks, all kept
    torch.testing.assert_close(run(transformer, kwargs), dense, atol=1e-5, rtol=0)
    assert {"ltx_block_sparse", "ltx_chunked", "ltx_flash"} <= {
        m.value for m in AttentionBackendName.__members__.values()
    }


def test_block_sparse_backend_in_3d_tiles_equals_its_reference(transformer, monkeypatch):
    kwargs = forward_kwargs(transformer)
    dense = run(transformer, kwargs)
    pattern = BlockSparsePattern(block_size=8, global_stride=4)
    enable_efficient_attention(transformer, "ltx_block_sparse", pattern=pattern, tile_shape=(1, 2, 4), min_tokens=0)
    sparse = run(transformer, kwargs)
    assert torch.equal(backends._layout[0], tile_permutation(GRID, (1, 2, 4)))
    monkeypatch.setattr(backends, "block_sparse_attention", masked_reference)
    torch.testing.assert_close(sparse, run(transformer, kwargs), atol=1e-5, rtol=0)
    assert (sparse - dense).abs().max() > 1e-3  # the pattern really restricts attention


def test_block_sparse_backend_maps_the_pattern_through_the_tiles(monkeypatch):
    tokens, pattern = 48, BlockSparsePattern(block_size=8, global_stride=3)
    perm = tile_permutation((3, 4, 4), (2, 2, 2))
    backends._layout = (perm, torch.argsort(perm))
    query, key, value = (torch.randn(2, tokens, 3, 8, generator=gen(i)) for i in range(3))  # (B, S, H, D)
    backends._config = backends.EfficientAttentionConfig(pattern=pattern, min_tokens=0)
    q, k, v = (x.transpose(1, 2) for x in (query, key, value))
    # outside a video block's self-attention (the audio stream, with as many tokens): sequence order
    in_sequence = masked_reference(q, k, v, pattern).transpose(1, 2)
    torch.testing.assert_close(backends._block_sparse_backend(query, key, value), in_sequence, atol=1e-5, rtol=0)
    monkeypatch.setattr(backends, "_video_attention", True)  # what the hooks on the video blocks' attn1 set
    out = backends._block_sparse_backend(query, key, value)
    rank = torch.argsort(perm)  # position of each token in tile order
    mask = dense_block_mask(tokens, pattern)[rank][:, rank]
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    # masked calls and cross-attention are dense
    bias = torch.randn(2, 3, 1, tokens)
    dense = F.scaled_dot_product_attention(q, k, v, attn_mask=bias).transpose(1, 2)
    torch.testing.assert_close(
        backends._block_sparse_backend(query, key, value, attn_mask=bias), dense, atol=1e-5, rtol=0
    )


def test_layout_comes_from_video_coords(transformer):
    kwargs = forward_kwargs(transformer)
    frames, rows, cols = GRID
    grid = torch.stack(torch.meshgrid(*(torch.arange(n) for n in GRID), indexing="ij"), 0).reshape(3, -1).float()
    coords = (grid * torch.tensor([8 / 24, 32.0, 32.0])[:, None]).expand(2, 3, -1)
    kwargs.update(video_coords=coords, num_frames=None, height=None, width=None)
    enable_efficient_attention(transformer, "ltx_block_sparse", tile_shape=(2, 2, 2))
    run(transformer, kwargs)
    assert torch.equal(backends._layout[0], tile_permutation((frames, rows, cols), (2, 2, 2)))
    layout = backends._layout
    run(transformer, kwargs)  # the next step, same positions tensor: computed once
    assert backends._layout is layout
    run(transformer, {**kwargs, "video_coords": coords.clone()})  # another tensor: computed again, same order
    assert backends._layout is not layout and torch.equal(backends._layout[0], layout[0])


def test_gradient_checkpointing_recomputes_with_the_same_tiles(transformer):
    kwargs = forward_kwargs(transformer)
    enable_efficient_attention(transformer, "ltx_block_sparse", pattern=BlockSparsePattern(8), tile_shape=(1, 2, 4),
                               min_tokens=0)

    def grads():
        transformer.zero_grad()
        transformer(**kwargs)[0].square().mean().backward()
        return torch.cat([p.grad.flatten() for p in transformer.parameters() if p.grad is not None])

    plain = grads()
    transformer.enable_gradient_checkpointing()
    torch.testing.assert_close(grads(), plain, atol=1e-6, rtol=1e-5)


def test_pipeline_backends(components):
    pipe = tiny_pipeline(seed=0)
    args = dict(
        prompt="a red ball",
        height=64,
        width=96,
        num_frames=17,
        num_inference_steps=2,
        generator=gen(1),
        output_type="pt",
    )
    dense = pipe(**args).frames
    assert pipe.enable_efficient_attention("ltx_chunked", chunk_size=16) == "ltx_chunked"
    torch.testing.assert_close(pipe(**{**args, "generator": gen(1)}).frames, dense, atol=1e-5, rtol=0)
    pipe.enable_efficient_attention("ltx_block_sparse", pattern=BlockSparsePattern(block_size=4), tile_shape=(1, 2, 2),
                                    min_tokens=0)
    sparse = pipe(**{**args, "generator": gen(1)}).frames
    assert backends._layout[0].numel() == 3 * 2 * 3 and (sparse - dense).abs().max() > 1e-4
    pipe.disable_efficient_attention()
    assert _AttentionBackendRegistry._active_backend == AttentionBackendName.NATIVE
    torch.testing.assert_close(pipe(**{**args, "generator": gen(1)}).frames, dense, atol=0, rtol=0)


def test_audio_video_pipeline_runs_block_sparse_on_both_streams():
    pipe = tiny_audio_video_pipeline(seed=0)
    args = dict(prompt="a drum", height=64, width=64, num_frames=17, num_inference_steps=2, output_type="pt")
    dense = pipe(**args, generator=gen(2))
    pipe.enable_efficient_attention("ltx_block_sparse", pattern=BlockSparsePattern(block_size=4), tile_shape=(1, 2, 2),
                                    min_tokens=0)
    sparse = pipe(**args, generator=gen(2))
    assert (sparse.frames - dense.frames).abs().max() > 1e-4
    assert (sparse.audio[0] - dense.audio[0]).abs().max() > 1e-6  # audio self-attention is blocked too (sequence order)


def test_audio_self_attention_stays_in_sequence_order_at_the_video_token_count():
    # the video's 3D tile order was applied to any self-attention with as many tokens as the video: 256 audio tokens
    # against a 4 x 8 x 8 grid made the audio output depend on the video's tile shape (max |diff| 0.085)
    model = tiny_audio_video_pipeline(seed=0).transformer
    inputs = transformer_inputs(model, grid=(4, 8, 8), generator=gen(0))
    inputs["audio_hidden_states"] = torch.randn(1, 256, model.config.audio_in_channels, generator=gen(1))
    outputs = []
    for tiles in ((1, 1, 1), (4, 4, 4)):  # (1, 1, 1): the video in sequence order too
        enable_efficient_attention(model, "ltx_block_sparse", pattern=BlockSparsePattern(16, 4), tile_shape=tiles,
                                   min_tokens=0, dense_steps=0, dense_blocks=())
        with torch.no_grad():
            outputs.append(model(**inputs))
    disable_efficient_attention(model)
    torch.testing.assert_close(outputs[0][1], outputs[1][1], atol=0, rtol=0)  # audio: the tiles do not matter
    assert (outputs[0][0] - outputs[1][0]).abs().max() > 1e-4  # video: they do


def test_numpy_integer_options_reach_the_kernels_as_ints(transformer):
    # chunk_size=np.int64(64) was accepted, then every attention call failed in chunked_attention; a NumPy tile
    # shape was refused
    kwargs = forward_kwargs(transformer)
    dense = run(transformer, kwargs)
    enable_efficient_attention(transformer, "ltx_chunked", chunk_size=np.int64(16))
    assert type(backends._config.chunk_size) is int
    torch.testing.assert_close(run(transformer, kwargs), dense, atol=1e-5, rtol=0)
    enable_efficient_attention(transformer, "ltx_block_sparse", tile_shape=(np.int64(1), 2, np.int32(2)),
                               min_tokens=np.int64(0), dense_blocks=(np.int64(1),))
    config = backends._config
    assert (config.tile_shape, config.min_tokens, config.dense_blocks) == ((1, 2, 2), 0, (1,))
    assert all(type(n) is int for n in (*config.tile_shape, config.min_tokens, *config.dense_blocks))
    run(transformer, kwargs)
    disable_efficient_attention(transformer)
    with pytest.raises(ValueError, match="chunk_size"):
        enable_efficient_attention(transformer, "ltx_chunked", chunk_size=True)
    assert type(convert_attention_heads(transformer, np.int64(1)).num_kv_heads) is int


@pytest.mark.parametrize("switch", ["set_attention_backend('native')", "reset_attention_backend()"])
def test_diffusers_own_backend_switch_sticks(transformer, monkeypatch, switch):
    # set_denoising_step rewrote every block of every model enabled earlier, so diffusers' own switch was undone at
    # the next generation and the model went on running block-sparse
    calls = []
    kernel = backends.block_sparse_attention
    monkeypatch.setattr(backends, "block_sparse_attention", lambda *a, **k: (calls.append(1), kernel(*a, **k))[1])
    kwargs = forward_kwargs(transformer)
    enable_efficient_attention(transformer, "ltx_block_sparse", min_tokens=0, dense_blocks=(), dense_steps=1)
    run(transformer, kwargs)
    assert calls
    eval(f"transformer.{switch}")
    expected = [p._attention_backend for p in transformer.attn_processors.values()]
    calls.clear()
    for step in (0, 1, None):  # a generation of two steps: dense, then sparse, then none
        backends.set_denoising_step(step, 2)
        run(transformer, kwargs)
    assert not calls and [p._attention_backend for p in transformer.attn_processors.values()] == expected
    assert transformer not in backends._sparse_models and not transformer._forward_pre_hooks
    assert not any(m._forward_pre_hooks or m._forward_hooks for m in transformer.modules())


def test_auto_and_flash_selection():
    model = tiny_transformer()
    expected = "ltx_flash" if torch.cuda.is_available() and backends.flash_attn_available() else "native"
    assert enable_efficient_attention(model, "auto") == expected
    assert enable_efficient_attention(model, "sdpa") == "native"
    if not backends.flash_attn_available():
        with pytest.raises(RuntimeError, match="flash-attn"):
            enable_efficient_attention(model, "flash")


def test_flash_backend_falls_back_to_sdpa_where_flash_attn_cannot_run():
    query, key, value = (torch.randn(1, 10, 2, 8, generator=gen(i)) for i in range(3))
    bias = torch.zeros(1, 2, 1, 10)
    bias[..., 7:] = -1e4
    q, k, v = (x.transpose(1, 2) for x in (query, key, value))
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=bias).transpose(1, 2)
    torch.testing.assert_close(backends._flash_backend(query, key, value, attn_mask=bias), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(backend="xformerz"), ValueError, "backend"),
        (dict(backend=3), ValueError, "backend"),
        (dict(backend="ltx_chunked", chunk_size=0), ValueError, "chunk_size"),
        (dict(backend="ltx_block_sparse", pattern=(64, 4)), ValueError, "pattern"),
        (dict(backend="ltx_block_sparse", tile_shape=(4, 4)), ValueError, "tile_shape"),
    ],
)
def test_bad_options_change_nothing(transformer, kwargs, error, match):
    enable_efficient_attention(transformer, "ltx_chunked")
    with pytest.raises(error, match=match):
        enable_efficient_attention(transformer, **kwargs)
    assert transformer.transformer_blocks[0].attn1.processor._attention_backend.value == "ltx_chunked"
    assert backends._config == backends.EfficientAttentionConfig()


def test_dropout_and_causal_are_refused():
    query = torch.randn(1, 8, 2, 4)
    with pytest.raises(ValueError, match="causal"):
        backends._chunked_backend(query, query, query, is_causal=True)


def test_enabling_on_one_model_leaves_another_dense():
    # diffusers' set_attention_backend also sets the process-wide default: a second model, built after the first
    # went block-sparse, must still run dense SDPA (a benchmark comparing the two once measured the sparse one twice).
    sparse_model = tiny_transformer(seed=0)
    inputs = transformer_inputs(sparse_model, (3, 4, 6), generator=gen(0))
    other = tiny_transformer(seed=1)
    with torch.no_grad():
        expected = other(**inputs)[0]
        enable_efficient_attention(sparse_model, "ltx_block_sparse", pattern=BlockSparsePattern(block_size=4),
                                   tile_shape=(1, 2, 2), min_tokens=0, dense_blocks=())
        sparse = sparse_model(**inputs)[0]
        late = tiny_transformer(seed=1)  # built after the switch: its processors name no backend
        assert _AttentionBackendRegistry._active_backend == AttentionBackendName.NATIVE
        torch.testing.assert_close(other(**inputs)[0], expected, atol=0, rtol=0)
        torch.testing.assert_close(late(**inputs)[0], expected, atol=0, rtol=0)
        disable_efficient_attention(sparse_model)
        assert (sparse_model(**inputs)[0] - sparse).abs().max() > 1e-4  # the pattern did change the first model


def test_disable_restores_diffusers_default(transformer):
    enable_efficient_attention(transformer, "ltx_block_sparse")
    disable_efficient_attention(transformer)
    assert not hasattr(transformer, "_ltx_layout_hooks") and not transformer._forward_pre_hooks
    assert not any(m._forward_pre_hooks or m._forward_hooks for m in transformer.modules())
    assert transformer not in backends._sparse_models
    assert _AttentionBackendRegistry._active_backend == AttentionBackendName(attention_dispatch.DIFFUSERS_ATTN_BACKEND)
    assert backends._layout is None
    assert transformer.transformer_blocks[0].attn1.processor._attention_backend is None


def test_options_return_to_their_defaults_once_no_model_uses_them(transformer):
    """``min_tokens=None`` means "keep the current value", so the way back to the device default is to switch the
    last model off the ltx backends: the next enable starts from the defaults."""
    for model in list(backends._ltx_models):  # models earlier tests left on an ltx backend
        disable_efficient_attention(model)
    other = tiny_transformer(seed=1)
    enable_efficient_attention(transformer, "ltx_block_sparse", min_tokens=0, dense_steps=np.int64(2))  # NumPy too
    enable_efficient_attention(other, "ltx_chunked")
    disable_efficient_attention(transformer)
    assert backends._config.min_tokens == 0  # `other` still reads the options
    disable_efficient_attention(other)
    enable_efficient_attention(transformer, "ltx_block_sparse")
    assert backends._config == backends.EfficientAttentionConfig()
    disable_efficient_attention(transformer)


def test_dense_steps_takes_numpy_floats_as_fractions():
    """A fraction taken from a NumPy sweep (``np.float32(0.5)``) is a fraction as a Python float is; it was refused
    with a message that said a float in [0, 1] was accepted."""
    config = backends.EfficientAttentionConfig(dense_steps=np.float32(0.5))
    assert type(config.dense_steps) is float and config.dense_step_count(10) == 5
    with pytest.raises(ValueError, match=r"^`dense_steps` must be .* a float in \[0, 1\].*got np\.float64\(1\.5\)\.$"):
        backends.EfficientAttentionConfig(dense_steps=np.float64(1.5))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU refusal")
@pytest.mark.parametrize("name,match", [("_native_cudnn", "CUDA only"), ("_native_efficient", "CUDA only"),
                                        ("_native_flash", "no attention mask")])
def test_backends_that_cannot_run_here_are_refused_up_front(transformer, name, match):
    with pytest.raises(ValueError, match=match):
        enable_efficient_attention(transformer, name)


def test_switching_backends_logs_no_diffusers_notice(transformer, caplog):
    """diffusers logs "Attention backends are an experimental feature" at every switch; the user asked us for a
    backend and has nothing to act on. Its other warnings are untouched."""
    with caplog.at_level("WARNING"):
        enable_efficient_attention(transformer, "ltx_chunked")
        disable_efficient_attention(transformer)
    assert not [r for r in caplog.records if "experimental" in r.getMessage()]
    with caplog.at_level("WARNING"):
        transformer.set_attention_backend("native")  # diffusers' own call still says it
        transformer.reset_attention_backend()
    assert [r for r in caplog.records if "experimental" in r.getMessage()]


def test_options_do_not_outlive_the_backends_that_read_them():
    # enable("sdpa", chunk_size=3) kept chunk_size=3 process-wide for a later ltx_chunked call; dense_blocks=(99,)
    # on a 2-block model was taken and did nothing.
    from ltx_video.attention import backends
    from ltx_video.testing import tiny_transformer

    model = tiny_transformer()
    with pytest.raises(ValueError, match="`chunk_size` is not an option of backend 'sdpa', which takes none"):
        backends.enable_efficient_attention(model, "sdpa", chunk_size=3)
    with pytest.raises(ValueError, match=r"`dense_blocks` must index this model's 2 blocks \(0 to 1\), got \(99,\)"):
        backends.enable_efficient_attention(model, "ltx_block_sparse", dense_blocks=(99,))
    with pytest.raises(ValueError, match="dense_blocks"):  # its type first (3 was "'int' object is not iterable")
        backends.enable_efficient_attention(model, "ltx_block_sparse", dense_blocks=3)
    backends.enable_efficient_attention(model, "ltx_chunked", chunk_size=3)
    backends.enable_efficient_attention(model, "sdpa")  # the last ltx_* user left: the options are the defaults again
    backends.enable_efficient_attention(model, "ltx_chunked")
    assert backends._config.chunk_size == backends.EfficientAttentionConfig().chunk_size
    backends.disable_efficient_attention(model)


def test_options_a_backend_does_not_read_are_refused(transformer):
    """enable("ltx_chunked", pattern=...) was taken, and the pattern, kept process-wide, reached a later ltx_block_sparse
    call that did not ask for it."""
    other = tiny_transformer(seed=4)
    with pytest.raises(ValueError, match=r"^`pattern` is not an option of backend 'ltx_chunked', which takes "
                                         r"`chunk_size`\.$"):
        enable_efficient_attention(transformer, "ltx_chunked", pattern=BlockSparsePattern(block_size=8), chunk_size=8)
    with pytest.raises(ValueError, match=r"^`chunk_size` is not an option of backend 'ltx_block_sparse', which takes "
                                         r"`pattern`, `tile_shape`, `min_tokens`, `dense_steps`, `dense_blocks`\.$"):
        enable_efficient_attention(transformer, "ltx_block_sparse", chunk_size=8, min_tokens=0)
    with pytest.raises(ValueError, match=r"^`chunk_size`, `min_tokens` are not options of backend 'sdpa', which takes "
                                         r"none\.$"):
        enable_efficient_attention(transformer, "sdpa", chunk_size=8, min_tokens=0)
    try:
        assert enable_efficient_attention(transformer, "ltx_chunked", chunk_size=8) == "ltx_chunked"
        enable_efficient_attention(other, "ltx_block_sparse", tile_shape=(1, 2, 2))
        assert backends._config == backends.EfficientAttentionConfig(chunk_size=8, tile_shape=(1, 2, 2))
    finally:
        disable_efficient_attention(transformer)
        disable_efficient_attention(other)


def _unreachable(backend):
    try:
        raise OSError("[Errno -2] Name or service not known")
    except OSError as error:  # as httpx raises it from inside kernels.get_kernel
        raise type("ConnectError", (Exception,), {})(str(error)) from error


@pytest.mark.parametrize("offline", [False, True])
def test_a_hub_backend_without_the_hub_is_refused_naming_the_argument(transformer, monkeypatch, offline):
    """flash_hub / sage_hub failed with httpx's ConnectError (or kernels' "not available in the local cache"), after
    the model was switched, naming no argument."""
    from huggingface_hub import constants

    monkeypatch.setattr(attention_dispatch, "_check_attention_backend_requirements", lambda backend: None)
    monkeypatch.setattr(attention_dispatch, "_maybe_download_kernel_for_backend", _unreachable)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    repo = attention_dispatch._HUB_KERNELS_REGISTRY[AttentionBackendName("flash_hub")].repo_id
    reason = "HF_HUB_OFFLINE=1 turns off" if offline else "this machine cannot reach"
    with pytest.raises(ValueError, match=rf"^`backend` 'flash_hub' needs the Hugging Face Hub \(it downloads {repo}\), "
                                         rf"which {reason}: use 'sdpa', 'auto' or another backend installed here"):
        enable_efficient_attention(transformer, "flash_hub")
    assert {m.processor._attention_backend for m in transformer.modules() if hasattr(m, "processor")} == {None}

    def refused(backend):
        raise ValueError("not published by a trusted kernel publisher")  # not the network's: diffusers' own error

    monkeypatch.setattr(attention_dispatch, "_maybe_download_kernel_for_backend", refused)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(ValueError, match="^not published by a trusted kernel publisher$"):
        enable_efficient_attention(transformer, "sage_hub")


@pytest.mark.parametrize("window", [None, 0.1])
def test_an_audio_video_exchange_is_blocked_only_when_unmasked(monkeypatch, window):
    """What docs/attention.md says of the exchange: with an av_time_window (the built-in model's 0.1 s) its time bias
    is an attention mask, so ltx_block_sparse runs it dense; without one, two streams of equal token count are blocked
    too, in sequence order (the tile order is the video attn1's only)."""
    from ltx_video.models.av_exchange import LTXAudioVideoCrossAttention

    torch.manual_seed(0)
    exchange = LTXAudioVideoCrossAttention(video_dim=16, audio_dim=16, num_attention_heads=2, attention_head_dim=8,
                                           qk_norm="rms_norm_across_heads", attention_bias=True,
                                           attention_out_bias=True, eps=1e-6, time_window=window)
    torch.nn.init.ones_(exchange.video_gate)  # zero-initialised gates would hide the update
    torch.nn.init.ones_(exchange.audio_gate)
    tokens = 32
    rope, times = (torch.ones(1, tokens, 16), torch.zeros(1, tokens, 16)), torch.linspace(0, 1.3, tokens)[None]
    inputs = (torch.randn(1, tokens, 16), torch.randn(1, tokens, 16), rope, rope, times, times)
    with torch.no_grad():
        dense = exchange(*inputs)
    pattern = BlockSparsePattern(block_size=4, global_stride=4)
    monkeypatch.setattr(backends, "_config", backends.EfficientAttentionConfig(pattern=pattern, min_tokens=0))
    calls = []

    def kernel(q, k, v, pattern, scale=None):
        calls.append(tuple(q.shape))
        return masked_reference(q, k, v, pattern, scale)

    monkeypatch.setattr(backends, "block_sparse_attention", kernel)
    for attention in (exchange.video_attn, exchange.audio_attn):
        attention.processor._attention_backend = AttentionBackendName("ltx_block_sparse")
    with torch.no_grad():
        out = exchange(*inputs)
    if window is None:
        assert calls == [(1, 2, tokens, 8)] * 2  # both directions, 8 blocks of which the pattern drops some
        assert all((o - d).abs().max() > 1e-3 for o, d in zip(out, dense, strict=True))
    else:
        assert calls == []
        assert all(torch.equal(o, d) for o, d in zip(out, dense, strict=True))  # the same SDPA call


def test_the_benchmark_runs_the_pattern_in_every_block_sparse_row(monkeypatch):
    """scripts/benchmark_attention.py --sections e2e: its "sequence order" row switched with a plain
    set_attention_backend, whose default min_tokens (1,024 on a CPU) ran every call of the docs' 832-token clip dense;
    and each row's speed-up was one timing over one timing (now the median of --repeats)."""
    import importlib.util
    from pathlib import Path

    from ltx_video import default_model

    spec = importlib.util.spec_from_file_location(
        "benchmark_attention", Path(__file__).resolve().parents[1] / "scripts" / "benchmark_attention.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    pipe, seen = tiny_audio_video_pipeline(seed=0), []
    pipe.set_progress_bar_config(disable=True)
    count = [0]

    def kernel(q, k, v, pattern, scale=None):
        count[0] += 1
        return masked_reference(q, k, v, pattern, scale)

    class Counted(type(pipe)):  # each generation: the block-sparse kernel calls it made
        def __call__(self, *args, **kwargs):
            before = count[0]
            out = super().__call__(*args, **kwargs)
            seen.append(count[0] - before)
            return out

    pipe.__class__ = Counted
    monkeypatch.setattr(backends, "block_sparse_attention", kernel)
    monkeypatch.setattr(default_model, "load_default_pipeline", lambda: pipe)
    monkeypatch.setattr(default_model, "DEFAULT_GENERATION", {"num_inference_steps": 2, "guidance_scale": 1.0})
    rows, _ = script.end_to_end(64, 9, repeats=2)
    assert [r["backend"].split(",")[0] for r in rows] == ["sdpa (reference)", "ltx_chunked"] + ["ltx_block_sparse"] * 3
    assert rows[-1]["backend"] == "ltx_block_sparse, sequence order (1x1x1 tiles)"
    assert all(r["repeats"] == 2 for r in rows)
    runs = seen[1:11]  # after the warm-up: SDPA, ltx_chunked, then the three block-sparse rows, two runs each
    assert runs[:4] == [0] * 4 and all(calls > 0 for calls in runs[4:])
    assert runs[4] == runs[6] == runs[8]  # every row the pattern in every block and step (min_tokens=0 ...)
