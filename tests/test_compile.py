"""Regional compilation (``pipe.enable_compile``) with this library's attention backends, FP8 and the
audio-video transformer: no graph break inside a block, and the compiled pipeline gives the eager output."""

import pytest
import torch
import torch._dynamo
from conftest import gen

from ltx_video.attention import BlockSparsePattern, enable_efficient_attention
from ltx_video.quantization import quantize_fp8
from ltx_video.testing import tiny_audio_video_pipeline, tiny_pipeline


def block_calls(model, run) -> dict:
    """The arguments of the first call of each repeated block in each of the model's block lists
    (video blocks, audio blocks, audio<->video exchanges), recorded during ``run()``."""
    calls, handles = {}, []

    def grab(name):
        def hook(module, args, kwargs):
            calls.setdefault(name, (module, args, kwargs))
        return hook

    for name, module in model.named_modules():
        if type(module).__name__ in model._repeated_blocks:
            handles.append(module.register_forward_pre_hook(grab(name.split(".")[0]), with_kwargs=True))
    try:
        with torch.no_grad():
            run()
    finally:
        for handle in handles:
            handle.remove()
    return calls


def graph_breaks(calls: dict) -> dict:
    out = {}
    for name, (module, args, kwargs) in calls.items():
        torch._dynamo.reset()
        with torch.no_grad():
            explanation = torch._dynamo.explain(module)(*args, **kwargs)
        out[name] = (explanation.graph_break_count, [str(r.reason)[:200] for r in explanation.break_reasons])
    return out


ARGS = dict(prompt="a red ball", height=64, width=96, num_frames=17, num_inference_steps=2, output_type="latent")


@pytest.mark.parametrize("setting", ["sdpa", "ltx_chunked", "ltx_block_sparse", "fp8"])
def test_no_graph_break_inside_a_block(setting):
    pipe = tiny_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    if setting == "fp8":
        quantize_fp8(pipe.transformer)
    elif setting in ("sdpa", "ltx_chunked"):  # take no block-sparse options (they are refused)
        enable_efficient_attention(pipe.transformer, setting)
    else:
        enable_efficient_attention(pipe.transformer, setting, pattern=BlockSparsePattern(4), min_tokens=0,
                                   dense_blocks=())
    calls = block_calls(pipe.transformer, lambda: pipe(**ARGS, generator=gen(0)))
    assert set(calls) == {"transformer_blocks"}
    assert graph_breaks(calls) == {"transformer_blocks": (0, [])}


def test_no_graph_break_in_the_audio_video_blocks():
    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    enable_efficient_attention(pipe.transformer, "ltx_block_sparse", pattern=BlockSparsePattern(4), min_tokens=0,
                               dense_blocks=())
    calls = block_calls(pipe.transformer, lambda: pipe(**{**ARGS, "width": 64}, generator=gen(0)))
    assert set(calls) == {"transformer_blocks", "audio_transformer_blocks", "av_cross_attention"}
    backends = {name: module.attn1.processor._attention_backend.value for name, (module, _, _) in calls.items()
                if hasattr(module, "attn1")}
    assert set(backends.values()) == {"ltx_block_sparse"}  # the blocks explained run the sparse kernel
    assert all(count == 0 for count, _ in graph_breaks(calls).values()), graph_breaks(calls)


def test_compiled_pipeline_equals_eager_with_block_sparse_dense_steps():
    pipe = tiny_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    pipe.enable_efficient_attention("ltx_block_sparse", pattern=BlockSparsePattern(4), tile_shape=(1, 2, 2),
                                    min_tokens=0, dense_steps=1, dense_blocks=(0,))
    eager = pipe(**ARGS, generator=gen(1)).frames
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    pipe.enable_compile()
    try:
        compiled = pipe(**ARGS, generator=gen(1)).frames
        again = pipe(**ARGS, generator=gen(1)).frames  # the compiled graphs are reused, not rebuilt
    finally:
        pipe.disable_compile()
        pipe.disable_efficient_attention()
    torch.testing.assert_close(compiled, eager, atol=1e-4, rtol=0)
    assert torch.equal(again, compiled)
    # one graph for the dense setting, one for block-sparse (shared by the blocks), nothing per step
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] <= 2


_CROSS_ISA_SCRIPT = """
import torch
from ltx_video.attention.efficient_attention import BlockSparsePattern, _block_sparse_merge
from ltx_video.utils.compile import prepare_cpu_inductor
prepare_cpu_inductor()
q, k, v = torch.randn(3, 1, 2, 96, 16, generator=torch.Generator().manual_seed(0))
eager = _block_sparse_merge(q, k, v, BlockSparsePattern(4), 0.25)
compiled = torch.compile(_block_sparse_merge, dynamic=False)(q, k, v, BlockSparsePattern(4), 0.25)
torch.testing.assert_close(compiled, eager, atol=1e-5, rtol=0)
"""


def test_compiled_kernels_are_not_reused_across_cpu_capabilities(tmp_path):
    """Inductor's FX-graph cache key does not hold the vector ISA: a graph compiled under
    ATEN_CPU_CAPABILITY=avx2 and reused at AVX-512 overran its buffers (heap corruption), the other way round
    left NaN. ``prepare_cpu_inductor`` pins the width, which puts it in the key. Two processes, one cache."""
    import os
    import subprocess
    import sys

    from torch._inductor import cpu_vec_isa

    if max((isa.bit_width() for isa in cpu_vec_isa.valid_vec_isa_list()), default=0) <= 256:
        pytest.skip("needs a CPU with a vector ISA wider than AVX2")
    env = {k: v for k, v in os.environ.items() if k != "TORCHINDUCTOR_FORCE_DISABLE_CACHES"}
    env.update(TORCHINDUCTOR_CACHE_DIR=str(tmp_path), TORCHINDUCTOR_FX_GRAPH_CACHE="1")  # the cache under test
    for capability in ("avx2", None):
        run_env = {k: v for k, v in env.items() if k != "ATEN_CPU_CAPABILITY"}
        if capability:
            run_env["ATEN_CPU_CAPABILITY"] = capability
        result = subprocess.run([sys.executable, "-c", _CROSS_ISA_SCRIPT], env=run_env, capture_output=True, text=True)
        assert result.returncode == 0, (capability, result.returncode, result.stderr[-2000:])


def test_feed_forward_chunking_keeps_one_compiled_graph_for_every_block():
    """With feed-forward chunking (the README's memory switches before enable_compile) every block compiled a graph of
    its own (Dynamo guarded each block's own forward wrapper) and past the recompile limit of 8 the later blocks ran
    eagerly without a word; chunked feed-forwards now share one forward. The output equals the eager chunked one."""
    import copy
    import pickle

    pipe = tiny_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    pipe.enable_feed_forward_chunking(7)  # smaller than the tokens: every feed-forward runs in chunks
    eager = pipe(**ARGS, generator=gen(1)).frames
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    pipe.transformer.compile_repeated_blocks(fullgraph=True, backend="eager")
    try:
        compiled = pipe(**ARGS, generator=gen(1)).frames
    finally:
        torch._dynamo.reset()
    assert torch.equal(compiled, eager)
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == 1
    block = pipe.transformer.transformer_blocks[0]
    assert pickle.loads(pickle.dumps(block.ff))._ff_chunk_size == 7 and copy.deepcopy(block.ff)._ff_chunk_size == 7
    pipe.disable_feed_forward_chunking()
    assert type(block.ff).__name__ == "FeedForward" and not hasattr(block.ff, "_ff_chunk_size")


_LOAD_CHUNKED_SCRIPT = """
import sys, torch
saved = torch.load(sys.argv[1], weights_only=False)
model, inputs = saved["model"], saved["inputs"]
ff = model.transformer_blocks[0].ff
assert type(ff).__name__ == "ChunkedFeedForward" and ff._ff_chunk_size == 7, (type(ff), vars(ff).get("_ff_chunk_size"))
assert type(ff) is type(model.transformer_blocks[1].ff)  # one chunked class: one compiled graph for every block
with torch.no_grad():
    out = model(**inputs)[0]
assert torch.equal(out, saved["output"]), (out - saved["output"]).abs().max()
"""


def test_a_chunked_model_saved_whole_loads_in_a_fresh_process(tmp_path):
    """The chunked feed-forward class was looked up by name in ltx_video.models.memory, where it exists only once
    chunking ran in that process: torch.load in a fresh interpreter (a spawned worker) failed with AttributeError
    "Can't get attribute 'ChunkedFeedForward'". It now pickles as its unchunked class and is chunked again on load."""
    import subprocess
    import sys

    from ltx_video.models.memory import enable_feed_forward_chunking
    from ltx_video.testing import tiny_transformer, transformer_inputs

    model = tiny_transformer(seed=0).eval()
    enable_feed_forward_chunking(model, chunk_size=7)  # under the 48 tokens: the loaded model must chunk too
    inputs = transformer_inputs(model, generator=torch.Generator("cpu").manual_seed(0))
    with torch.no_grad():
        output = model(**inputs)[0]
    torch.save({"model": model, "inputs": inputs, "output": output}, tmp_path / "chunked.pt")
    result = subprocess.run([sys.executable, "-c", _LOAD_CHUNKED_SCRIPT, str(tmp_path / "chunked.pt")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
