"""FP8 E4M3 quantization: policy, rounding, error bounds, round trips, pipelines, bad input."""

import copy
import io
import os
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from conftest import assert_fp32_equal, gen
from diffusers import LTX2VideoTransformer3DModel, LTXVideoTransformer3DModel

from ltx_video import LTXAudioVideoPipeline, LTXVideoPipeline
from ltx_video.quantization import (
    FP8Linear,
    FP8QuantizationPolicy,
    fp8_weight_bytes,
    is_fp8_quantized,
    load_fp8,
    ltx_quantizer,
    quantize_fp8,
    save_fp8,
)
from ltx_video.testing import (
    realistic_block_weights,
    tiny_audio_video_pipeline,
    tiny_pipeline,
    tiny_transformer,
    transformer_inputs,
)

CONFIG = dict(
    in_channels=16,
    out_channels=16,
    num_attention_heads=4,
    attention_head_dim=16,
    cross_attention_dim=64,
    num_layers=2,
    caption_channels=32,
)


def small_model(seed=0):
    torch.manual_seed(seed)
    model = LTXVideoTransformer3DModel(**CONFIG).eval()
    realistic_block_weights(model, seed)
    return model


def inputs(seed):
    return transformer_inputs(CONFIG, timestep=300.0 + seed, generator=torch.Generator().manual_seed(seed))


def relative_error(model, reference, seeds=(100, 101, 102)):
    with torch.no_grad():
        errors = []
        for seed in seeds:
            expected, out = reference(**inputs(seed))[0], model(**inputs(seed))[0]
            errors.append(((out - expected).norm() / expected.norm()).item())
    return sum(errors) / len(errors)


def test_default_policy_quantizes_block_linears_only():
    model = small_model()
    names = quantize_fp8(model)
    assert names and all(n.startswith("transformer_blocks.") for n in names)
    assert all(isinstance(model.get_submodule(n), FP8Linear) for n in names)
    kept = [n for n, m in model.named_modules() if type(m) is nn.Linear]
    assert {"proj_in", "proj_out", "caption_projection.linear_1", "time_embed.linear"} <= set(kept)
    assert not any(n.startswith("transformer_blocks.") for n in kept)
    assert model.transformer_blocks[0].scale_shift_table.dtype == torch.float32


def test_per_channel_scales_and_rounding():
    model = small_model()
    originals = {n: m.weight.detach().clone() for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    names = quantize_fp8(model)
    for name in names:
        layer, weight = model.get_submodule(name), originals[name]
        assert layer.weight.dtype == torch.float8_e4m3fn and layer.weight_scale.dtype == torch.float32
        torch.testing.assert_close(layer.weight_scale, weight.abs().amax(dim=1) / 448.0, rtol=0, atol=0)
        scaled = weight / layer.weight_scale[:, None]
        normal = scaled.abs() >= 2.0**-6  # E4M3's normal range: 3 mantissa bits, relative step 2^-3
        error = (layer.weight.float() - scaled).abs()
        assert (error[normal] <= scaled.abs()[normal] * 2.0**-4 + 1e-6).all()
        assert error.max() <= 2.0**-10 + 2.0**-4 * scaled.abs().max()


def test_error_bounds_against_full_precision_and_layerwise_casting():
    reference = small_model()
    ours = copy.deepcopy(reference)
    quantize_fp8(ours)
    casting = copy.deepcopy(reference)
    casting.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=torch.float32)
    ours_error, casting_error = relative_error(ours, reference), relative_error(casting, reference)
    assert ours_error <= 0.02  # the specification's "quality loss < 2 %"
    assert ours_error <= 0.5 * casting_error
    gptq = copy.deepcopy(reference)
    quantize_fp8(gptq, FP8QuantizationPolicy(rounding="gptq"), calibration=[inputs(s) for s in range(8)])
    assert relative_error(gptq, reference) < 0.8 * ours_error  # error compensation pays (held-out inputs)
    assert fp8_weight_bytes(ours) <= 0.27 * fp8_weight_bytes(reference)


def test_keep_fraction_keeps_the_most_sensitive_layers():
    reference = small_model()
    model = copy.deepcopy(reference)
    sizes = {n: m.weight.numel() for n, m in model.named_modules() if isinstance(m, nn.Linear) and "blocks." in n}
    policy = FP8QuantizationPolicy(keep_fraction=0.2)
    names = quantize_fp8(model, policy, calibration=[inputs(0)])
    kept = set(sizes) - set(names)
    assert kept and sum(sizes[n] for n in kept) <= 0.2 * sum(sizes.values())
    sensitivity = ltx_quantizer._sensitivities(reference, list(sizes), [inputs(0)])
    best = max(sizes, key=lambda n: sensitivity[n] ** 2 / sizes[n])
    assert best in kept


def test_save_load_round_trip_is_bit_exact(tmp_path):
    model = small_model()
    quantize_fp8(model)
    path = save_fp8(model, tmp_path / "transformer.fp8.safetensors")
    fresh = LTXVideoTransformer3DModel(**CONFIG).eval()
    load_fp8(fresh, path)
    saved, loaded = model.state_dict(), fresh.state_dict()
    assert saved.keys() == loaded.keys()
    for key, value in saved.items():
        assert value.dtype == loaded[key].dtype
        assert torch.equal(
            value.view(torch.uint8) if value.dtype == torch.float8_e4m3fn else value,
            loaded[key].view(torch.uint8) if value.dtype == torch.float8_e4m3fn else loaded[key],
        ), key
    with torch.no_grad():
        assert torch.equal(model(**inputs(5))[0], fresh(**inputs(5))[0])
    from safetensors.torch import save_file

    save_file({"a": torch.zeros(1)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(ValueError, match="save_fp8"):
        load_fp8(LTXVideoTransformer3DModel(**CONFIG), tmp_path / "plain.safetensors")


def test_dtype_casts_keep_fp8_weights():
    model = small_model()
    quantize_fp8(model)
    layer = model.transformer_blocks[0].attn1.to_q
    weight, scale = layer.weight.clone(), layer.weight_scale.clone()
    model.to(torch.bfloat16)
    assert layer.weight.dtype == torch.float8_e4m3fn and torch.equal(
        layer.weight.view(torch.uint8), weight.view(torch.uint8)
    )
    assert torch.equal(layer.weight_scale, scale) and layer.bias.dtype == torch.bfloat16
    assert model.dtype == torch.bfloat16
    batch = {
        k: v.to(torch.bfloat16) if torch.is_tensor(v) and v.is_floating_point() else v for k, v in inputs(1).items()
    }
    with torch.no_grad():
        assert torch.isfinite(model(**batch)[0]).all()


def test_bad_input_leaves_the_model_as_it_was(monkeypatch):
    model = small_model()
    state = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match="does not have"):
        quantize_fp8(
            model, FP8QuantizationPolicy(modules=("transformer_blocks.0.attn1.to_q", "transformer_blocks.9.ff"))
        )
    with pytest.raises(ValueError, match="nn.Linear"):
        quantize_fp8(model, FP8QuantizationPolicy(modules=("transformer_blocks.0.attn1",)))
    with pytest.raises(ValueError, match="calibration"):
        quantize_fp8(model, FP8QuantizationPolicy(rounding="gptq"))
    with pytest.raises(ValueError, match="rounding"):
        FP8QuantizationPolicy(rounding="stochastic")
    with pytest.raises(ValueError, match="keep_fraction"):
        FP8QuantizationPolicy(keep_fraction=1.5)
    assert not is_fp8_quantized(model)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    quantize_fp8(model)
    with pytest.raises(ValueError, match="already FP8-quantized"):
        quantize_fp8(model)
    monkeypatch.setattr(ltx_quantizer, "FP8_DTYPE", None)
    with pytest.raises(RuntimeError, match="float8"):
        quantize_fp8(small_model())


def test_pipelines_enable_fp8_and_from_pretrained(tmp_path):
    pipe = tiny_pipeline(seed=1)
    realistic_block_weights(pipe.transformer, 1)
    args = dict(prompt="a ball", height=64, width=96, num_frames=9, num_inference_steps=3, output_type="pt")
    reference = pipe(**args, generator=gen(0)).frames
    pipe.save_pretrained(tmp_path / "pipe")
    names = pipe.enable_fp8()
    quantized = pipe(**args, generator=gen(0)).frames
    psnr = 10 * torch.log10(1.0 / ((quantized - reference) ** 2).mean())
    assert names and psnr > 30
    loaded = LTXVideoPipeline.from_pretrained(tmp_path / "pipe", quantization="fp8")
    assert is_fp8_quantized(loaded.transformer)
    assert_fp32_equal(loaded(**args, generator=gen(0)).frames, quantized)  # another instance of the same weights
    with pytest.raises(ValueError, match="quantization"):
        LTXVideoPipeline.from_pretrained(tmp_path / "pipe", quantization="int4")


def test_audio_video_pipeline_with_calibrated_policy():
    pipe = tiny_audio_video_pipeline(seed=0)
    args = dict(height=64, width=64, num_frames=9, num_inference_steps=2, output_type="pt")
    reference = pipe("a drum", **args, generator=gen(1))
    policy = FP8QuantizationPolicy(rounding="gptq")
    with pytest.raises(ValueError, match="GPTQ rounding\\) needs `calibration_prompts`"):
        pipe.enable_fp8(policy)
    # Refused before any calibration run: a policy naming modules the model lacks, a policy that is not one,
    # calibration prompts a policy cannot use.
    calibrate = pipe.record_transformer_inputs
    pipe.record_transformer_inputs = lambda *a, **k: pytest.fail("calibration ran before the policy was checked")
    with pytest.raises(ValueError, match="nope"):
        pipe.enable_fp8(FP8QuantizationPolicy(rounding="gptq", modules=("nope",)), calibration_prompts=["a drum"])
    with pytest.raises(ValueError, match="`policy` must be an FP8QuantizationPolicy"):
        pipe.enable_fp8("fp8")
    with pytest.raises(ValueError, match="`calibration_prompts` are used only by a policy that needs calibration"):
        pipe.enable_fp8(calibration_prompts=["a drum"])
    pipe.record_transformer_inputs = calibrate
    names = pipe.enable_fp8(
        policy, calibration_prompts=["a drum"], height=64, width=64, num_frames=9, num_inference_steps=2
    )
    assert any(n.startswith("audio_transformer_blocks.") for n in names)
    out = pipe("a drum", **args, generator=gen(1))
    for ours, full in ((out.frames, reference.frames), (out.audio[0], reference.audio[0])):
        error = ((ours - full).norm() / full.norm()).item()
        assert 0 < error < 0.05
    assert isinstance(pipe, LTXAudioVideoPipeline)


def test_ltx2_transformer():
    torch.manual_seed(0)
    model = LTX2VideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=8,
        audio_out_channels=8,
        audio_num_attention_heads=2,
        audio_attention_head_dim=8,
        audio_cross_attention_dim=16,
        num_layers=1,
        caption_channels=16,
    ).eval()
    g = torch.Generator().manual_seed(0)
    kwargs = dict(
        hidden_states=torch.randn(1, 2 * 4 * 4, 8, generator=g), audio_hidden_states=torch.randn(1, 10, 8, generator=g),
        encoder_hidden_states=torch.randn(1, 6, 16, generator=g),
        audio_encoder_hidden_states=torch.randn(1, 6, 16, generator=g),
        timestep=torch.tensor([500.0]), num_frames=2, height=4, width=4, audio_num_frames=10, return_dict=False,
    )
    with torch.no_grad():
        reference = model(**kwargs)
    names = quantize_fp8(model)
    blocks = [n for n, m in model.named_modules() if n.startswith("transformer_blocks.") and isinstance(m, nn.Linear)]
    assert set(names) >= {"transformer_blocks.0.audio_to_video_attn.to_q", "transformer_blocks.0.ff.net.2"}
    assert not blocks  # every block linear replaced
    assert type(model.proj_in) is nn.Linear and type(model.audio_proj_out) is nn.Linear
    with torch.no_grad():
        for out, expected in zip(model(**kwargs), reference, strict=True):  # video and audio
            assert 0 < ((out - expected).norm() / expected.norm()).item() < 0.05


def test_save_pretrained_of_a_quantized_model_is_refused(tmp_path):
    pipe = tiny_pipeline(seed=0)
    pipe.enable_fp8()
    with pytest.raises(ValueError, match="save_fp8"):
        pipe.save_pretrained(tmp_path / "pipe")
    with pytest.raises(ValueError, match="save_fp8"):
        pipe.transformer.save_pretrained(tmp_path / "transformer")


def test_load_fp8_checks_the_file_before_changing_the_model(tmp_path):
    model = small_model()
    quantize_fp8(model)
    path = save_fp8(model, tmp_path / "t.safetensors")
    for change, match in (({"num_layers": 1}, "t.safetensors does not fit .* no nn.Linear for, e.g. \\['transformer_"),
                          ({"caption_channels": 24}, "does not fit")):
        other = LTXVideoTransformer3DModel(**{**CONFIG, **change}).eval()
        state = copy.deepcopy(other.state_dict())
        with pytest.raises(ValueError, match=match) as error:
            load_fp8(other, path)
        assert "policy" not in str(error.value)  # the user passed a file, not a policy
        assert not is_fp8_quantized(other)
        assert all(torch.equal(state[k], v) for k, v in other.state_dict().items())


def test_meta_device_and_to_empty():
    with torch.device("meta"):
        layer = FP8Linear(32, 16)
    layer.to_empty(device="cpu")
    assert layer.weight.dtype == torch.float8_e4m3fn and layer.weight.device.type == "cpu"
    assert layer.weight_scale.dtype == torch.float32


def test_quantize_fp8_refuses_unmerged_lora_adapters():
    from peft import LoraConfig

    model = small_model()
    model.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_v"], init_lora_weights=False))
    state = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match="unmerged LoRA adapters: merge them first"):
        quantize_fp8(model)  # it took peft's lora_A / lora_B too, and the next forward failed in float8
    assert not is_fp8_quantized(model)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    with torch.no_grad():
        assert torch.isfinite(model(**inputs(0))[0]).all()


def test_fused_lora_adapters_are_named_fused_and_unload_lora_then_quantizes():
    """After fuse_lora() the peft layers remain (diffusers keeps them until unload_lora_weights()): the refusal told
    the user to merge with fuse_lora(), which they had done. It now names the unload, and that order quantizes the
    merged weights."""
    from peft import LoraConfig

    model = small_model()
    with torch.no_grad():
        base = model(**inputs(0))[0]
    model.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_v"], init_lora_weights=False))
    model.fuse_lora()
    with torch.no_grad():
        fused = model(**inputs(0))[0]
    state = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match=r"already merged with fuse_lora\(\), whose peft layers remain: remove them "
                                         r"with pipe.unload_lora_weights\(\) \(model.unload_lora\(\)"):
        quantize_fp8(model)
    assert not is_fp8_quantized(model) and all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    model.unload_lora()
    with torch.no_grad():
        assert torch.equal(model(**inputs(0))[0], fused)  # the merged weights stay
    assert quantize_fp8(model) and is_fp8_quantized(model)
    with torch.no_grad():
        out = model(**inputs(0))[0]
    # FP8 rounds the merged weights: its output is nearer the fused one than the LoRA moved it
    assert (out - fused).norm() < 0.25 * (fused - base).norm()
    pipe = tiny_pipeline(0)  # the pipeline's switch names the same unload
    pipe.transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q"], init_lora_weights=False))
    pipe.transformer.fuse_lora()
    with pytest.raises(ValueError, match=r"enable_fp8: the transformer holds LoRA adapters already merged .*"
                                         r"pipe.unload_lora_weights\(\)"):
        pipe.enable_fp8()
    pipe.unload_lora_weights()
    pipe.enable_fp8()
    assert is_fp8_quantized(pipe.transformer)


def test_a_quantized_model_pickles_and_still_refuses_save_pretrained(tmp_path):
    model = small_model()
    quantize_fp8(model)
    buffer = io.BytesIO()
    torch.save(model, buffer)  # the refusal was a local closure, which pickle cannot store
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    with torch.no_grad():
        assert torch.equal(loaded(**inputs(3))[0], model(**inputs(3))[0])
    for quantized in (loaded, copy.deepcopy(model)):
        with pytest.raises(ValueError, match="LTXVideoTransformer3DModel is FP8-quantized.*save_fp8"):
            quantized.save_pretrained(tmp_path / "transformer")
    assert not (tmp_path / "transformer").exists()


@pytest.mark.parametrize(
    "option, value, accepted",
    [
        ("keep_fraction", "0.1", "a number in \\[0, 1\\)"),
        ("keep_fraction", True, "a number in \\[0, 1\\)"),
        ("damping", "0.01", "a finite number > 0"),
        ("damping", float("nan"), "a finite number > 0"),
        ("activation_margin", "2", "a finite number >= 1"),
        ("moment_bytes", "2GiB", "a positive integer number of bytes"),
        ("moment_bytes", 2.5, "a positive integer number of bytes"),
        ("moment_bytes", 0, "a positive integer number of bytes"),
    ],
)
def test_policy_numbers_are_checked_when_the_policy_is_built(option, value, accepted):
    # "2GiB" used to pass and fail with a bare TypeError after every calibration run; the others with bare TypeErrors
    with pytest.raises(ValueError, match=f"^FP8QuantizationPolicy `{option}` must be {accepted}"):
        FP8QuantizationPolicy(**{option: value})


def test_policy_numbers_accept_numpy_numbers():
    np = pytest.importorskip("numpy")
    policy = FP8QuantizationPolicy(keep_fraction=np.float32(0.25), damping=np.float64(0.02),
                                   activation_margin=np.int64(2), moment_bytes=np.int64(1024))
    assert (policy.keep_fraction, policy.damping, policy.activation_margin, policy.moment_bytes) == (0.25, 0.02, 2.0, 1024)
    assert type(policy.moment_bytes) is int and type(policy.activation_margin) is float
    assert FP8QuantizationPolicy(moment_bytes=4e9).moment_bytes == 4_000_000_000  # a whole float is a byte count
    with pytest.raises(ValueError, match="moment_bytes"):
        FP8QuantizationPolicy(moment_bytes=1.5)


def test_a_policy_selecting_no_layer_is_refused():
    # modules=() quantized nothing yet installed the save_pretrained refusal, so neither save path worked
    with pytest.raises(ValueError, match="`modules` must name at least one nn.Linear layer"):
        FP8QuantizationPolicy(modules=())
    with pytest.raises(ValueError, match="quantizes no nn.Linear layer"):
        quantize_fp8(small_model(), FP8QuantizationPolicy(quantize=("nothing.*",)))


def test_a_single_calibration_prompt_is_one_prompt():
    pipe = tiny_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    calibrate = pipe.record_transformer_inputs
    pipe.record_transformer_inputs = lambda *a, **k: pytest.fail("calibration ran before its prompts were checked")
    with pytest.raises(ValueError, match="`calibration_prompts` must be a prompt \\(str\\) or a list of prompts"):
        pipe.enable_fp8(FP8QuantizationPolicy(rounding="gptq"), calibration_prompts=(p for p in ["a red ball"]))
    pipe.record_transformer_inputs = calibrate
    prompts, encode = [], pipe.encode_prompt
    pipe.encode_prompt = lambda prompt, *a, **k: prompts.append(prompt) or encode(prompt, *a, **k)
    names = pipe.enable_fp8(FP8QuantizationPolicy(rounding="gptq"), calibration_prompts="a red ball",
                            height=32, width=32, num_frames=9, num_inference_steps=1)
    assert names and prompts == ["a red ball"]  # was one generation per character


def test_quantize_fp8_names_a_model_that_is_no_module():
    with pytest.raises(ValueError, match="`model` must be a torch nn.Module"):
        quantize_fp8("transformer/")  # "'str' object has no attribute 'modules'" before


def test_enable_fp8_after_torch_compile_quantizes_the_model_the_wrapper_runs():
    """``pipe.transformer = torch.compile(pipe.transformer)`` (diffusers' LTX docs), then ``enable_fp8()``: refused
    with "policy quantizes no nn.Linear layer of OptimizedModule" (its names start with ``_orig_mod.``)."""
    pipe = tiny_pipeline(seed=0)
    realistic_block_weights(pipe.transformer, 0)
    eager = pipe.transformer
    pipe.transformer = torch.compile(eager, backend="eager")  # dynamo's graph capture and guards, no compiler
    kwargs = transformer_inputs(eager.config)
    with torch.no_grad():
        before = pipe.transformer(**kwargs)[0]  # compiled with the plain linears
        names = pipe.enable_fp8()
        compiled, reference = pipe.transformer(**kwargs)[0], eager(**kwargs)[0]
    assert names and not any(name.startswith("_orig_mod") for name in names)
    assert is_fp8_quantized(eager) and isinstance(eager.get_submodule(names[0]), FP8Linear)
    assert torch.equal(compiled, reference)  # the wrapper recompiled and runs the FP8 weights
    assert not torch.equal(compiled, before)
    assert quantize_fp8(torch.compile(small_model(), backend="eager")) == quantize_fp8(small_model())


def test_fp8_refuses_weights_layerwise_casting_stores_in_float8():
    """diffusers' ``enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn)`` then ``enable_fp8()`` failed deep in
    the rounding with NotImplementedError ("le_cpu" not implemented for 'Float8_e4m3fn'); now refused up front,
    before any calibration run, with the model left as it was."""
    pipe = tiny_pipeline(seed=0)
    realistic_block_weights(pipe.transformer, 0)
    pipe.transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=torch.float32)
    kwargs = transformer_inputs(pipe.transformer.config)
    with torch.no_grad():
        before = pipe.transformer(**kwargs)[0]
    pipe.record_transformer_inputs = lambda *a, **k: pytest.fail("calibration ran before the refusal")
    refusal = r"layerwise casting \(enable_layerwise_casting\) already stores the transformer's weights in float8_e4m3fn"
    with pytest.raises(ValueError, match=f"enable_fp8: {refusal}.*reload the transformer without it"):
        pipe.enable_fp8(FP8QuantizationPolicy(rounding="gptq"), calibration_prompts="a red ball")
    with pytest.raises(ValueError, match=f"enable_fp8: {refusal}"):
        pipe.enable_fp8()
    with pytest.raises(ValueError, match=f"quantize_fp8: {refusal}"):
        quantize_fp8(pipe.transformer)
    assert not is_fp8_quantized(pipe.transformer)
    with torch.no_grad():
        assert torch.equal(pipe.transformer(**kwargs)[0], before)


def test_dequantized_weight_is_scaled_in_float32():
    """dequantized_weight(float16) cast the scale to float16 first, subnormal for max |W[c]| < 0.027: relative error
    1.2e-2 at max |W[c]| = 1e-3 instead of 3.9e-4. It dequantizes in float32, then casts."""
    weight = torch.randn(64, 256, generator=gen(0))
    weight = weight / weight.abs().amax(dim=1, keepdim=True) * 1e-3
    scale = ltx_quantizer.channel_scales(weight)
    layer = FP8Linear.from_weights(ltx_quantizer.round_nearest(weight, scale), scale, None)
    exact = layer.weight.float() * layer.weight_scale[:, None]
    assert torch.equal(layer.dequantized_weight(), exact)
    for dtype in (torch.float16, torch.bfloat16):
        assert torch.equal(layer.dequantized_weight(dtype), exact.to(dtype)), dtype


def test_sensitivity_is_measured_on_every_calibration_input_and_output():
    """keep_fraction's sensitivities came from the first calibration input and the video output alone: the audio
    blocks' layers, which change only the audio while the audio-video gates are zero, measured 0."""
    model = small_model()
    names = ["transformer_blocks.0.attn1.to_v", "transformer_blocks.0.attn2.to_out.0", "transformer_blocks.1.ff.net.2"]
    first, second = (ltx_quantizer._sensitivities(model, names, [inputs(seed)]) for seed in (0, 1))
    both = ltx_quantizer._sensitivities(model, names, [inputs(0), inputs(1)])
    assert any(first[n] != pytest.approx(second[n], rel=1e-2) for n in names)
    for name in names:  # the root mean square over the inputs
        assert both[name] == pytest.approx(((first[name] ** 2 + second[name] ** 2) / 2) ** 0.5, rel=1e-5), name

    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    transformer = pipe.transformer
    calibration = pipe.record_transformer_inputs("a drum", height=32, width=32, num_frames=9, num_inference_steps=1)
    names = ["audio_transformer_blocks.0.ff.net.2", "transformer_blocks.0.ff.net.2"]
    sensitivity = ltx_quantizer._sensitivities(transformer, names, calibration)
    with torch.no_grad():
        reference = transformer(**{**calibration[0], "return_dict": False})
        for name in names:  # each output's error relative to its own norm, by hand
            linear = transformer.get_submodule(name)
            original, scale = linear.weight.data, ltx_quantizer.channel_scales(linear.weight)
            linear.weight.data = ltx_quantizer.round_nearest(original, scale).float() * scale[:, None]
            out = transformer(**{**calibration[0], "return_dict": False})
            linear.weight.data = original
            video, audio = (((o - r).norm() / r.norm()).item() for o, r in zip(out, reference, strict=True))
            assert sensitivity[name] == pytest.approx(((video**2 + audio**2) / 2) ** 0.5, rel=1e-5), name
            # the audio-video gates are zero: each block's layer changes its own stream's output alone
            assert (audio > 0 and video == 0) if name.startswith("audio_") else (video > 0 and audio == 0), name


def test_save_fp8_of_a_torch_compile_wrapper_writes_the_stock_keys(tmp_path):
    """save_fp8 on torch.compile's wrapper wrote "_orig_mod."-prefixed keys that load_fp8 refused as "does not fit
    ... of this config". It saves the wrapped model's keys; load_fp8 loads into a wrapper and reads old files."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    model = small_model()
    quantize_fp8(model)
    path = save_fp8(torch.compile(model, backend="eager"), tmp_path / "compiled.safetensors")
    with safe_open(str(path), framework="pt") as f:
        keys, metadata = set(f.keys()), f.metadata()
    assert keys == set(model.state_dict()) and "_orig_mod" not in metadata["ltx_video_quantization"]
    with torch.no_grad():
        expected = model(**inputs(5))[0]
    prefixed = tmp_path / "prefixed.safetensors"  # as save_fp8 wrote a wrapper until 2026-12-07
    state = {f"_orig_mod.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(prefixed), metadata={"ltx_video_quantization": metadata["ltx_video_quantization"].replace(
        '"transformer_blocks.', '"_orig_mod.transformer_blocks.')})
    for file in (path, prefixed):
        fresh = LTXVideoTransformer3DModel(**CONFIG).eval()
        wrapper = torch.compile(fresh, backend="eager")
        assert load_fp8(wrapper, file) is wrapper and is_fp8_quantized(fresh)
        with torch.no_grad():
            assert torch.equal(fresh(**inputs(5))[0], expected), file


def test_save_fp8_and_load_fp8_take_a_folder(tmp_path):
    """save_fp8(model, "dir/sub/") wrote a file named sub, an existing folder failed in safetensors ("Is a
    directory"), and load_fp8(model, folder) said "FP8 checkpoint not found"; a folder holds transformer.fp8.safetensors
    now."""
    model = small_model()
    quantize_fp8(model)
    for folder in (tmp_path, str(tmp_path / "new" / "sub") + os.sep):
        path = save_fp8(model, folder)
        assert path == Path(folder) / "transformer.fp8.safetensors" and path.is_file()
        fresh = LTXVideoTransformer3DModel(**CONFIG).eval()
        load_fp8(fresh, folder)
        for key, value in model.state_dict().items():
            assert torch.equal(value.view(torch.uint8) if value.dtype == torch.float8_e4m3fn else value,
                               fresh.state_dict()[key].view(torch.uint8) if value.dtype == torch.float8_e4m3fn
                               else fresh.state_dict()[key]), key
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty.transformer.fp8.safetensors \\(the folder holds no transformer"):
        load_fp8(LTXVideoTransformer3DModel(**CONFIG), tmp_path / "empty")


def test_from_pretrained_takes_a_given_fp8_transformer_as_it_is(tmp_path):
    """quantization="fp8" with an FP8 transformer= loaded everything, then refused ("already FP8-quantized"). It is
    taken as it is now (diffusers uses a passed component as it is); one that cannot be quantized is refused before
    anything loads."""
    tiny_pipeline(seed=0).save_pretrained(tmp_path / "pipe")
    given = tiny_transformer(seed=1)
    names = quantize_fp8(given, FP8QuantizationPolicy(modules=("transformer_blocks.0.attn1.to_q",)))
    pipe = LTXVideoPipeline.from_pretrained(tmp_path / "pipe", quantization="fp8", transformer=given)
    assert pipe.transformer is given
    assert [n for n, m in given.named_modules() if isinstance(m, FP8Linear)] == names  # not quantized again
    casted = tiny_transformer(seed=1)
    casted.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=torch.float32)
    with pytest.raises(ValueError, match="from_pretrained: layerwise casting .* already stores the transformer's"):
        LTXVideoPipeline.from_pretrained(tmp_path / "missing", quantization="fp8", transformer=casted)  # before the folder


def test_calibration_takes_a_generator_and_refuses_what_it_sets():
    """``enable_fp8(..., generator=...)`` failed deep in the call with "got multiple values for keyword argument
    'generator'" (a 29-line TypeError): calibration passed its own."""
    pipe = tiny_pipeline(seed=0)
    args = dict(height=32, width=32, num_frames=9, num_inference_steps=1)
    default = pipe.record_transformer_inputs(["a drum"], **args)  # prompt 0 is seeded with 0
    given = pipe.record_transformer_inputs(["a drum"], generator=gen(0), **args)
    listed = pipe.record_transformer_inputs(["a drum"], generator=[gen(0)], **args)
    for ours in (given, listed):
        assert len(ours) == len(default)
        for a, b in zip(ours, default, strict=True):
            assert torch.equal(a["hidden_states"], b["hidden_states"])  # the same noise: same operations
    other = pipe.record_transformer_inputs(["a drum"], generator=gen(5), **args)
    assert not torch.equal(other[0]["hidden_states"], default[0]["hidden_states"])
    for kwargs, match in ((dict(output_type="pt"), "`output_type` is set by the calibration itself"),
                          (dict(prompt="a bell"), "`prompt` is set by the calibration itself"),
                          (dict(generator=[gen(0), gen(1)]), "`generator` must be a torch.Generator or a list of one per "
                                                             "prompt \\(1\\), got list of 2")):
        with pytest.raises(ValueError, match=match):
            pipe.enable_fp8(FP8QuantizationPolicy(rounding="gptq"), calibration_prompts=["a drum"], **kwargs, **args)
    assert not is_fp8_quantized(pipe.transformer)
