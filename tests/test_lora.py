"""LoRA through diffusers' own loader (``LTXVideoLoraLoaderMixin``), as on diffusers' LTX pipelines.

A LoRA made with peft and saved in diffusers' format is loaded by both diffusers' LTXConditionPipeline and
LTXVideoPipeline, each on its own copy of the same tiny components: the outputs agree, at full and half scale.
"""

import copy
import re

import pytest
import torch
from conftest import FP32_ROUND_OFF, gen

pytest.importorskip("peft")

from diffusers import LTXConditionPipeline  # noqa: E402
from peft import LoraConfig, get_peft_model_state_dict  # noqa: E402

from ltx_video import LTXVideoPipeline  # noqa: E402

TOL = 1e-5
CALL = dict(prompt="a red ball bounces", height=64, width=64, num_frames=9, num_inference_steps=2,
            max_sequence_length=16, output_type="pt")


@pytest.fixture(scope="module")
def lora_file(tmp_path_factory, components):
    """A rank-4 LoRA on every attention projection, with non-zero B so that it changes the output."""
    transformer = copy.deepcopy(components["transformer"])
    config = LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                        init_lora_weights=False)
    transformer.add_adapter(config)
    folder = tmp_path_factory.mktemp("lora")
    LTXVideoPipeline.save_lora_weights(folder, transformer_lora_layers=get_peft_model_state_dict(transformer))
    return folder / "pytorch_lora_weights.safetensors"


def _fresh(cls, components):
    pipe = cls(**{**components, "transformer": copy.deepcopy(components["transformer"])})
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_a_lora_loads_as_in_diffusers_ltx_pipelines(components, lora_file):
    ref, ours = _fresh(LTXConditionPipeline, components), _fresh(LTXVideoPipeline, components)
    base = ours(**CALL, generator=gen(0)).frames
    for pipe in (ref, ours):
        pipe.load_lora_weights(lora_file, adapter_name="test")
    assert ours.get_active_adapters() == ["test"]
    for scale in (1.0, 0.5):
        kwargs = dict(CALL, attention_kwargs={"scale": scale})
        expected, got = ref(**kwargs, generator=gen(0)).frames, ours(**kwargs, generator=gen(0)).frames
        assert (expected - got).abs().max().item() <= TOL
        assert (got - base).abs().max().item() > 1e-3  # the LoRA changes the output: the comparison has teeth
    # scale 0 and a disabled LoRA give the output without it
    torch.testing.assert_close(ours(**CALL, attention_kwargs={"scale": 0.0}, generator=gen(0)).frames, base,
                               **FP32_ROUND_OFF)
    ours.disable_lora()
    torch.testing.assert_close(ours(**CALL, generator=gen(0)).frames, base, **FP32_ROUND_OFF)


def test_fused_lora_equals_the_adapter_and_unfuses(components, lora_file):
    ours = _fresh(LTXVideoPipeline, components)
    weight = ours.transformer.transformer_blocks[0].attn1.to_q.weight.detach().clone()
    ours.load_lora_weights(lora_file, adapter_name="test")
    with_adapter = ours(**CALL, generator=gen(0)).frames
    ours.fuse_lora(lora_scale=1.0)
    ours.unload_lora_weights()  # the fused weights stay, the adapter layers go
    torch.testing.assert_close(ours(**CALL, generator=gen(0)).frames, with_adapter, atol=1e-4, rtol=0)
    assert not torch.equal(ours.transformer.transformer_blocks[0].attn1.to_q.weight, weight)


def test_a_lora_on_the_audio_video_transformer_reaches_both_streams(tmp_path):
    """Targets named as the video blocks' match the audio blocks' and the cross-modal attention's too: the LoRA
    changes the video and the audio, and at scale 0 neither."""
    from ltx_video.testing import tiny_audio_video_pipeline

    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    call = dict(prompt="a red ball bounces", height=64, width=64, num_frames=9, num_inference_steps=2,
                output_type="pt")
    base = pipe(**call, generator=gen(0))
    adapted = copy.deepcopy(pipe.transformer)
    adapted.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                   init_lora_weights=False))
    layers = get_peft_model_state_dict(adapted)
    assert any(key.startswith("audio_transformer_blocks.") for key in layers)
    pipe.save_lora_weights(tmp_path, transformer_lora_layers=layers)
    pipe.load_lora_weights(tmp_path / "pytorch_lora_weights.safetensors", adapter_name="av")
    out = pipe(**call, generator=gen(0))
    assert (out.frames - base.frames).abs().max().item() > 1e-3
    assert (out.audio[0][0] - base.audio[0][0]).abs().max().item() > 1e-4
    off = pipe(**call, attention_kwargs={"scale": 0.0}, generator=gen(0))
    torch.testing.assert_close(off.frames, base.frames, **FP32_ROUND_OFF)
    torch.testing.assert_close(off.audio[0][0], base.audio[0][0], **FP32_ROUND_OFF)


def test_fp8_and_an_unmerged_lora_are_refused_in_either_order_and_the_pipeline_still_runs(lora_file, components):
    from ltx_video.quantization import is_fp8_quantized

    pipe = _fresh(LTXVideoPipeline, components)
    pipe.load_lora_weights(lora_file, adapter_name="x")
    with_lora = pipe(**CALL, generator=gen(0)).frames
    # enable_fp8 took the adapters' own layers (52 against 20) and every later call failed inside peft
    with pytest.raises(ValueError, match=r"enable_fp8: the transformer holds LoRA adapters .*fuse_lora\(\)"):
        pipe.enable_fp8()
    assert not is_fp8_quantized(pipe.transformer)
    assert torch.equal(pipe(**CALL, generator=gen(0)).frames, with_lora)
    pipe.fuse_lora()
    pipe.unload_lora_weights()
    pipe.enable_fp8()  # the documented order
    assert (pipe(**CALL, generator=gen(0)).frames - with_lora).abs().max() < 0.1
    # a LoRA on the FP8 model: peft's error came after it had left meta-tensor adapters that broke every call
    fp8 = pipe(**CALL, generator=gen(0)).frames
    with pytest.raises(ValueError, match="load_lora_weights: the transformer is FP8-quantized"):
        pipe.load_lora_weights(lora_file, adapter_name="y")
    assert torch.equal(pipe(**CALL, generator=gen(0)).frames, fp8)


def test_a_pipeline_holding_a_lora_or_fp8_is_not_half_saved(lora_file, components, tmp_path):
    pipe = _fresh(LTXVideoPipeline, components)
    pipe.load_lora_weights(lora_file, adapter_name="x")
    with pytest.raises(ValueError, match=r"save_pretrained: the transformer holds LoRA adapters"):
        pipe.save_pretrained(tmp_path / "lora")  # wrote base_layer keys that loaded as meta tensors
    assert not (tmp_path / "lora").exists()
    with_lora = pipe(**CALL, generator=gen(0)).frames
    pipe.fuse_lora()
    pipe.unload_lora_weights()
    pipe.save_pretrained(tmp_path / "merged")
    loaded = LTXVideoPipeline.from_pretrained(tmp_path / "merged")
    loaded.set_progress_bar_config(disable=True)
    assert (loaded(**CALL, generator=gen(0)).frames - with_lora).abs().max() < TOL
    loaded.enable_fp8()
    with pytest.raises(ValueError, match="is FP8-quantized: diffusers' save_pretrained would drop the scales"):
        loaded.save_pretrained(tmp_path / "fp8")  # the scheduler, text encoder and VAE were written first
    assert not (tmp_path / "fp8").exists()


def test_the_save_refusal_after_fuse_lora_says_unload_keeps_the_merge_and_unfuse_gives_the_base(
        lora_file, components, tmp_path):
    """After ``fuse_lora()`` the refusal told to ``unload_lora_weights()`` "to save the base one", which keeps the
    merged weights (as in diffusers) and so saved the tuned model as the base; it now says so, and its advice for
    the base (``unfuse_lora()`` first) saves the base."""
    pipe = _fresh(LTXVideoPipeline, components)
    base = pipe(**CALL, generator=gen(0)).frames
    pipe.load_lora_weights(lora_file, adapter_name="x")
    with_lora = pipe(**CALL, generator=gen(0)).frames
    pipe.fuse_lora()
    fused = (r"save_pretrained: the transformer holds LoRA adapters merged with fuse_lora\(\) \(\['x'\]\).*"
             r"unload_lora_weights\(\) removes the layers and keeps the merged weights: saving then saves the tuned "
             r"model; to save the base one, pipe.unfuse_lora\(\) first, then pipe.unload_lora_weights\(\)")
    with pytest.raises(ValueError, match=fused):
        pipe.save_pretrained(tmp_path / "fused")
    assert not (tmp_path / "fused").exists()
    pipe.unfuse_lora()
    pipe.unload_lora_weights()
    pipe.save_pretrained(tmp_path / "base")
    loaded = LTXVideoPipeline.from_pretrained(tmp_path / "base")
    loaded.set_progress_bar_config(disable=True)
    out = loaded(**CALL, generator=gen(0)).frames
    assert (out - base).abs().max().item() < TOL < (out - with_lora).abs().max().item()


def test_the_save_refusal_names_the_unmerged_adapters_unload_drops_beside_a_fused_one(lora_file, components,
                                                                                      tmp_path):
    pipe = _fresh(LTXVideoPipeline, components)
    pipe.load_lora_weights(lora_file, adapter_name="a")
    pipe.load_lora_weights(lora_file, adapter_name="b")
    pipe.fuse_lora(adapter_names=["a"])
    with pytest.raises(ValueError, match=r"merged with fuse_lora\(\) \(\['a'\]\).*keeps the merged weights and "
                                         r"drops the unmerged \['b'\]"):
        pipe.save_pretrained(tmp_path / "saved")
    assert not (tmp_path / "saved").exists()


def test_a_bare_peft_state_dict_is_the_transformers(lora_file, components):
    from safetensors.torch import load_file

    prefixed = load_file(lora_file)
    bare = {k.removeprefix("transformer."): v for k, v in prefixed.items()}
    assert bare.keys() != prefixed.keys()
    outputs = []
    for state in (prefixed, bare):
        pipe = _fresh(LTXVideoPipeline, components)
        pipe.load_lora_weights(state, adapter_name="x")  # the bare one loaded nothing: the base model's output
        outputs.append(pipe(**CALL, generator=gen(0)).frames)
    base = _fresh(LTXVideoPipeline, components)(**CALL, generator=gen(0)).frames
    assert torch.equal(outputs[0], outputs[1]) and not torch.equal(outputs[1], base)


def test_a_bare_peft_state_dict_saved_to_a_file_loads_as_from_a_dict(lora_file, components, tmp_path):
    from safetensors.torch import load_file, save_file

    save_file({k.removeprefix("transformer."): v for k, v in load_file(lora_file).items()}, tmp_path / "bare.safetensors")
    outputs = []
    for source in (lora_file, tmp_path / "bare.safetensors"):  # the file loaded nothing, with only a warning
        pipe = _fresh(LTXVideoPipeline, components)
        pipe.load_lora_weights(source, adapter_name="x")
        assert pipe.get_list_adapters() == {"transformer": ["x"]}
        outputs.append(pipe(**CALL, generator=gen(0)).frames)
    assert torch.equal(outputs[0], outputs[1])


def test_a_lora_on_pooled_key_value_projections_is_refused_before_peft_touches_the_model(components, lora_file):
    from ltx_video.attention import convert_attention_heads

    pipe = _fresh(LTXVideoPipeline, components)
    convert_attention_heads(pipe.transformer, num_kv_heads=1)
    before = pipe(**CALL, generator=gen(0)).frames
    # peft failed on the first pooled to_k after wrapping to_q with meta-tensor weights: every later call ran them
    with pytest.raises(ValueError, match=r"load_lora_weights: the LoRA adapts transformer_blocks\.0\.attn1\.to_k .*"
                                         r"convert_attention_heads pooled"):
        pipe.load_lora_weights(lora_file, adapter_name="x")
    assert not any(hasattr(m, "lora_A") for m in pipe.transformer.modules())
    assert torch.equal(pipe(**CALL, generator=gen(0)).frames, before)
    # a LoRA that leaves to_k / to_v alone loads on the converted model, and changes its output
    transformer = copy.deepcopy(components["transformer"])
    transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_out.0"], init_lora_weights=False))
    pipe.load_lora_weights(get_peft_model_state_dict(transformer), adapter_name="q")
    assert (pipe(**CALL, generator=gen(0)).frames - before).abs().max() > 1e-3


@pytest.mark.parametrize("state", [{"lora_foo": torch.tensor(2.0), "lora_bar": torch.tensor(3.0)},
                                   {"text_encoder.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight": torch.ones(4, 8),
                                    "text_encoder.encoder.block.0.layer.0.SelfAttention.q.lora_B.weight": torch.ones(8, 4)}])
def test_keys_for_no_transformer_module_load_nothing_as_in_diffusers(components, state, caplog):
    """diffusers' own LoRA test (test_logs_info_when_no_lora_keys_found): nothing loaded, a warning, the output
    unchanged. Reading any key holding "lora" as the transformer's sent them to peft (IndexError, or no module)."""
    pipe = _fresh(LTXVideoPipeline, components)
    base = pipe(**CALL, generator=gen(0)).frames
    pipe.load_lora_weights(state)
    assert pipe.get_list_adapters() == {}
    assert torch.equal(pipe(**CALL, generator=gen(0)).frames, base)


def test_bare_dora_and_old_diffusers_keys_load_as_the_transformers(components):
    """peft's DoRA keys (``lora_magnitude_vector``) and diffusers' older ``.lora.down`` / ``.lora.up`` names, bare:
    loaded before the bare-key rule was narrowed to ``.lora_A`` / ``.lora_B`` (then: nothing, with a warning)."""
    transformer = copy.deepcopy(components["transformer"])
    transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q"], init_lora_weights=False, use_dora=True))
    dora = get_peft_model_state_dict(transformer)
    assert any("lora_magnitude_vector" in k for k in dora)
    transformer = copy.deepcopy(components["transformer"])
    transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q"], init_lora_weights=False))
    plain = get_peft_model_state_dict(transformer)
    old_names = {k.replace(".lora_A.", ".lora.down.").replace(".lora_B.", ".lora.up."): v for k, v in plain.items()}
    for state in (dora, old_names):
        pipe = _fresh(LTXVideoPipeline, components)
        pipe.load_lora_weights(state, adapter_name="x")
        assert pipe.get_list_adapters() == {"transformer": ["x"]}


def test_a_bare_lora_keeps_the_alpha_of_its_config_and_says_when_it_has_none(components, tmp_path, caplog):
    """alpha 16 at rank 4 (scale 4). ``transformer.save_lora_adapter`` writes peft's keys unprefixed with the
    adapter's config: it loads as the adapter itself, as diffusers' ``load_lora_adapter(..., prefix=None)`` loads it
    (it failed in peft: the config was dropped with the prefix). A bare ``get_peft_model_state_dict`` holds no alpha:
    it loads at scale 1, with a warning (without a word before)."""
    transformer = copy.deepcopy(components["transformer"])
    torch.manual_seed(1)
    transformer.add_adapter(LoraConfig(r=4, lora_alpha=16, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                       init_lora_weights=False), adapter_name="a")
    truth_pipe = _fresh(LTXVideoPipeline, components)
    truth_pipe.transformer = transformer
    truth = truth_pipe(**CALL, generator=gen(0)).frames
    transformer.save_lora_adapter(tmp_path, adapter_name="a")
    ref, ours = _fresh(LTXConditionPipeline, components), _fresh(LTXVideoPipeline, components)
    ref.transformer.load_lora_adapter(tmp_path, prefix=None, weight_name="pytorch_lora_weights.safetensors",
                                      adapter_name="x")
    with caplog.at_level("WARNING"):
        ours.load_lora_weights(tmp_path, adapter_name="x")
    assert "no lora_alpha" not in caplog.text
    got = ours(**CALL, generator=gen(0)).frames
    assert (got - ref(**CALL, generator=gen(0)).frames).abs().max().item() <= TOL
    assert (got - truth).abs().max().item() <= TOL
    bare = _fresh(LTXVideoPipeline, components)
    with caplog.at_level("WARNING"):
        bare.load_lora_weights(get_peft_model_state_dict(transformer, adapter_name="a"), adapter_name="x")
    assert caplog.text.count("no lora_alpha: it loads at alpha = rank (scale 1)") == 1
    assert (bare(**CALL, generator=gen(0)).frames - truth).abs().max().item() > 1e-2  # what the warning is about


def test_the_layers_delete_adapters_leaves_are_named_and_unload_lora_weights_removes_them(lora_file, components,
                                                                                          tmp_path):
    """After ``delete_adapters`` peft's layers stay, empty (the output is the base model's): FP8 and saving refused
    them as "LoRA adapters" while ``get_list_adapters()`` was ``{}``; they now say what is left and how to remove it,
    after which both work and the folder loads in diffusers."""
    from ltx_video.quantization import FP8QuantizationPolicy, quantize_fp8

    pipe = _fresh(LTXVideoPipeline, components)
    base = pipe(**CALL, generator=gen(0)).frames
    pipe.load_lora_weights(lora_file, adapter_name="x")
    pipe.delete_adapters("x")
    assert pipe.get_list_adapters() == {} and torch.equal(pipe(**CALL, generator=gen(0)).frames, base)
    left = r"holds \d+ LoRA layers of peft with no adapter left \(delete_adapters keeps the layers\).*unload_lora"
    for refused in (pipe.enable_fp8, lambda: pipe.save_pretrained(tmp_path / "saved"),
                    lambda: quantize_fp8(pipe.transformer, FP8QuantizationPolicy())):
        with pytest.raises(ValueError, match=left):
            refused()
    assert not (tmp_path / "saved").exists()
    pipe.unload_lora_weights()
    assert torch.equal(pipe(**CALL, generator=gen(0)).frames, base)
    pipe.save_pretrained(tmp_path / "saved")
    loaded = LTXConditionPipeline.from_pretrained(tmp_path / "saved")
    loaded.set_progress_bar_config(disable=True)
    assert (loaded(**CALL, generator=gen(0)).frames - base).abs().max().item() <= TOL
    assert pipe.enable_fp8()


def _lora_tensors(pipe):
    return {k: v for k, v in pipe.transformer.state_dict().items() if ".lora_" in k}


@pytest.mark.parametrize("dora", [False, True])
def test_compiled_and_peft_wrapped_lora_keys_load_as_the_plain_lora(components, dora):
    """``get_peft_model_state_dict`` of a torch.compile'd transformer (``_orig_mod.``) and the ``lora_`` keys of a
    peft-wrapped model's ``state_dict()`` (``.lora_A.default.weight``): they made an adapter whose weights peft never
    filled (meta tensors; NaN output, or another on every load). They load now as the plain LoRA, bare or
    prefixed."""
    transformer = copy.deepcopy(components["transformer"])
    transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_out.0"], init_lora_weights=False,
                                       use_dora=dora))
    plain = get_peft_model_state_dict(transformer)
    wrapped = {k: v for k, v in transformer.state_dict().items() if ".lora_" in k}
    assert wrapped.keys() != plain.keys() and len(wrapped) == len(plain)
    reference = _fresh(LTXVideoPipeline, components)
    reference.load_lora_weights(plain, adapter_name="x")
    expected = _lora_tensors(reference)
    assert expected and all(v.device.type == "cpu" for v in expected.values())
    for state in ({f"_orig_mod.{k}": v for k, v in plain.items()}, wrapped,
                  {f"transformer._orig_mod.{k}": v for k, v in plain.items()},
                  {f"transformer.{k}": v for k, v in wrapped.items()}):
        pipe = _fresh(LTXVideoPipeline, components)
        pipe.load_lora_weights(state, adapter_name="x")
        got = _lora_tensors(pipe)
        assert got.keys() == expected.keys() and all(torch.equal(got[k], expected[k]) for k in expected)


def test_lora_keys_that_name_no_layer_of_the_transformer_are_refused_before_peft_touches_it(components, lora_file):
    """Keys of another model, or with an adapter name other than peft's default, bare or prefixed: peft made an
    adapter with meta-tensor weights (NaN output; diffusers too for the prefixed ones). Refused, nothing loaded."""
    from safetensors.torch import load_file

    prefixed = load_file(lora_file)
    renamed = {k.replace(".lora_A.", ".lora_A.mine.").replace(".lora_B.", ".lora_B.mine."): v for k, v in prefixed.items()}
    other = {k.replace("transformer_blocks.", "blocks."): v for k, v in prefixed.items()}
    pipe = _fresh(LTXVideoPipeline, components)
    for state in (renamed, other):
        first = re.escape(next(iter(state)).removeprefix("transformer."))
        for given in (state, {k.removeprefix("transformer."): v for k, v in state.items()}):
            with pytest.raises(ValueError, match=rf"^load_lora_weights: `pretrained_model_name_or_path_or_dict` holds "
                                                 rf"{len(state)} of {len(state)} transformer LoRA keys that name no "
                                                 rf"LoRA layer of its LTXVideoTransformer3DModel \(first: '{first}'"):
                pipe.load_lora_weights(given, adapter_name="x")
            assert pipe.get_list_adapters() == {} and not any(hasattr(m, "lora_A") for m in pipe.transformer.modules())
    pipe.load_lora_weights(lora_file, adapter_name="x")  # the well-formed LoRA still loads after the refusals
    assert all(v.device.type == "cpu" for v in _lora_tensors(pipe).values())
    # keys of a layer the model lacks beside matching ones load as diffusers loads them: the matching ones
    extra = {k.replace("transformer_blocks.0.", "transformer_blocks.7."): v for k, v in prefixed.items()
             if k.startswith("transformer.transformer_blocks.0.")}
    assert extra and not set(extra) & set(prefixed)
    partial = _fresh(LTXVideoPipeline, components)
    partial.load_lora_weights({**prefixed, **extra}, adapter_name="x")
    loaded, plain = _lora_tensors(partial), _lora_tensors(pipe)
    assert loaded.keys() == plain.keys() and all(torch.equal(loaded[k], plain[k]) for k in plain)
