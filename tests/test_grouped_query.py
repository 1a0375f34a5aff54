"""Grouped-query / multi-query conversion of LTX transformers."""

import copy

import pytest
import torch
from conftest import gen
from diffusers.models.transformers.transformer_ltx import LTXAttention

from ltx_video.attention import convert_attention_heads
from ltx_video.models.transformer_av import LTXAudioVideoTransformer3DModel
from ltx_video.testing import tiny_audio_video_pipeline, tiny_pipeline, tiny_transformer, transformer_inputs


def forward(transformer):
    with torch.no_grad():
        return transformer(**transformer_inputs(transformer, text_tokens=6, timestep=400.0))[0]


def share_kv_within_groups(model, group):
    """Make the K/V heads of each group identical, so that mean-pooling them loses nothing."""
    with torch.no_grad():
        for attn in model.modules():
            if isinstance(attn, LTXAttention):
                for linear in (attn.to_k, attn.to_v):
                    for p in (linear.weight, linear.bias):
                        heads = p.view(attn.heads // group, group, attn.head_dim, -1)
                        heads.copy_(heads[:, :1].expand_as(heads))


def test_same_head_count_is_the_identity():
    model = tiny_transformer(seed=1)
    reference = forward(model)
    report = convert_attention_heads(model, num_kv_heads=2)
    assert report.kv_parameter_savings == 0.0
    torch.testing.assert_close(forward(model), reference, atol=1e-6, rtol=0)


def test_multi_query_is_exact_when_heads_agree():
    """Pooling, the repeat before the rotary and the across-heads RMS norm keep the output when nothing is lost."""
    model = tiny_transformer(seed=1)
    share_kv_within_groups(model, group=2)
    reference = forward(model)
    report = convert_attention_heads(model, num_kv_heads=1)
    torch.testing.assert_close(forward(model), reference, atol=1e-5, rtol=0)
    attn = model.transformer_blocks[0].attn1
    assert attn.to_k.linear.out_features == attn.head_dim and attn.to_k.group == 2
    # 2 blocks x (self, cross) attention; K and V weights + biases halve
    dims = attn.heads * attn.head_dim
    before = 2 * sum(2 * (dims * m.to_k.in_features + dims) for m in (attn, model.transformer_blocks[0].attn2))
    assert (report.num_attentions, report.kv_parameters_before) == (4, before)
    assert report.kv_parameters_after * 2 == before and report.kv_parameter_savings == 0.5


def test_random_weights_lose_accuracy_and_report_it():
    model = tiny_transformer(seed=1)
    reference = forward(model)
    convert_attention_heads(model, num_kv_heads=1)
    error = ((forward(model) - reference).norm() / reference.norm()).item()
    assert 1e-3 < error < 1.0  # independent random heads do not average to the same attention


def test_audio_video_transformer_and_stg_after_conversion():
    pipe = tiny_audio_video_pipeline(seed=0)
    share_kv_within_groups(pipe.transformer, group=2)
    args = dict(
        prompt="a drum",
        height=64,
        width=64,
        num_frames=9,
        num_inference_steps=2,
        output_type="pt",
        stg_scale=1.0,
        skip_block_list=[1],
    )
    reference = pipe(**args, generator=gen(3))
    report = convert_attention_heads(pipe.transformer, num_kv_heads=1)
    assert report.num_attentions > 4  # video and audio blocks and the audio<->video cross-attentions
    converted = pipe(**args, generator=gen(3))
    torch.testing.assert_close(converted.frames, reference.frames, atol=1e-5, rtol=0)
    torch.testing.assert_close(converted.audio[0], reference.audio[0], atol=1e-5, rtol=0)


@pytest.mark.parametrize("heads, match", [(3, "divide"), (0, "integer"), (1.0, "integer")])
def test_bad_head_counts_change_nothing(heads, match):
    model = tiny_transformer(seed=1)
    state = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match=match):
        convert_attention_heads(model, heads)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_converting_twice_is_refused():
    model = tiny_pipeline().transformer
    convert_attention_heads(model, 1)
    with pytest.raises(ValueError, match="already"):
        convert_attention_heads(model, 1)
    with pytest.raises(ValueError, match="no LTXAttention"):
        convert_attention_heads(torch.nn.Linear(2, 2), 1)


@pytest.mark.parametrize("make", [tiny_pipeline, tiny_audio_video_pipeline])
def test_a_converted_transformer_refuses_saving_until_expanded(make, tmp_path):
    """A converted model saved as layers from_pretrained cannot load (meta or random K/V): the pipeline's and the
    transformer's own save_pretrained refuse before writing; expand_attention_heads gives stock layers that save,
    load and compute what the converted model does."""
    from ltx_video.attention.grouped_query import expand_attention_heads

    pipe = make()
    convert_attention_heads(pipe.transformer, 1)
    converted = forward(pipe.transformer)
    for save in (pipe.save_pretrained, pipe.transformer.save_pretrained):
        with pytest.raises(ValueError, match=r"save_pretrained: .* grouped key/value heads .*expand_attention_heads"):
            save(tmp_path / "out")
        assert not (tmp_path / "out").exists()  # nothing written
    if isinstance(pipe.transformer, LTXAudioVideoTransformer3DModel):  # our class checks itself, not the instance
        del pipe.transformer.save_pretrained
        with pytest.raises(ValueError, match="grouped key/value heads"):
            pipe.transformer.save_pretrained(tmp_path / "out")
    assert expand_attention_heads(pipe.transformer) == 2 * sum(isinstance(m, LTXAttention) for m in pipe.transformer.modules())
    assert "save_pretrained" not in vars(pipe.transformer)
    expanded = forward(pipe.transformer)
    torch.testing.assert_close(expanded, converted, atol=1e-6, rtol=0)
    pipe.save_pretrained(tmp_path / "out")
    loaded = type(pipe).from_pretrained(tmp_path / "out").transformer
    assert not any(p.is_meta for p in loaded.parameters())
    state = pipe.transformer.state_dict()
    assert all(torch.equal(state[k], v) for k, v in loaded.state_dict().items())
    torch.testing.assert_close(forward(loaded), expanded, atol=1e-6, rtol=0)


def test_expanding_fp8_quantized_heads_keeps_the_outputs(tmp_path):
    """convert_attention_heads, quantize_fp8, then expand_attention_heads crashed deep in torch ("check_uniform_bounds"
    not implemented for 'Float8_e4m3fn'). The FP8 projections are expanded as FP8Linear, rows and scales repeated."""
    from ltx_video.attention.grouped_query import expand_attention_heads
    from ltx_video.quantization import FP8Linear, load_fp8, quantize_fp8, save_fp8
    from ltx_video.testing import realistic_block_weights

    model = tiny_transformer(num_layers=1)
    realistic_block_weights(model)
    convert_attention_heads(model, 1)
    quantize_fp8(model)
    attn = model.transformer_blocks[0].attn1
    pooled, group = attn.to_k.linear, attn.to_k.group
    before = forward(model)
    assert expand_attention_heads(model) == 4
    expanded = attn.to_k
    assert isinstance(expanded, FP8Linear) and expanded.out_features == pooled.out_features * group
    row = torch.arange(expanded.out_features)
    rows = row // attn.head_dim // group * attn.head_dim + row % attn.head_dim  # the pooled row each one repeats
    assert torch.equal(expanded.weight.view(torch.uint8), pooled.weight.view(torch.uint8)[rows])
    assert torch.equal(expanded.weight_scale, pooled.weight_scale[rows])
    torch.testing.assert_close(forward(model), before, atol=1e-6, rtol=1e-5)
    fresh = tiny_transformer(num_layers=1)
    load_fp8(fresh, save_fp8(model, tmp_path / "expanded.safetensors"))  # stock layers: the stock model loads it
    torch.testing.assert_close(forward(fresh), before, atol=1e-6, rtol=1e-5)


def test_expanding_a_projection_that_is_no_linear_is_refused_first():
    from ltx_video.attention.grouped_query import expand_attention_heads

    model = tiny_transformer(num_layers=1)
    convert_attention_heads(model, 1)
    attn = model.transformer_blocks[0].attn2
    attn.to_v.linear = torch.nn.Sequential(attn.to_v.linear)
    with pytest.raises(ValueError, match=r"expand_attention_heads: transformer_blocks.0.attn2.to_v.linear is a "
                                         r"Sequential; only nn.Linear and FP8Linear projections can be expanded"):
        expand_attention_heads(model)
    assert type(model.transformer_blocks[0].attn1.to_k).__name__ == "GroupedProjection"  # nothing expanded
