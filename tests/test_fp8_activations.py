"""The FP8 GEMM (``torch._scaled_mm``) path of ``FP8Linear``: dynamic and static activation scales, on the
CPU (oneDNN) and on CUDA GPUs with FP8 tensor cores; the state dict, save/load and compile with them."""

import pytest
import torch
import torch.nn as nn
from conftest import gen
from diffusers import LTXVideoTransformer3DModel
from test_compile import ARGS, block_calls, graph_breaks
from test_quantization import CONFIG, inputs, small_model

from ltx_video.quantization import (
    FP8Linear,
    FP8QuantizationPolicy,
    load_fp8,
    ltx_quantizer,
    quantize_fp8,
    save_fp8,
    set_fp8_matmul,
)
from ltx_video.testing import tiny_pipeline

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 9) else [])
CALIBRATION = [inputs(seed) for seed in range(3)]


def quantize_fp8_layer(linear):
    scale = ltx_quantizer.channel_scales(linear.weight)
    return FP8Linear.from_weights(ltx_quantizer.round_nearest(linear.weight, scale), scale, linear.bias)


def fp8_layer(device, dtype=torch.bfloat16):
    torch.manual_seed(0)
    return quantize_fp8_layer(nn.Linear(256, 512).to(device, dtype))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("static", [False, True])
def test_fp8_gemm_matches_dequantized_matmul(device, static):
    layer = fp8_layer(device)
    x = torch.randn(4, 100, 256, generator=gen(0)).to(device, torch.bfloat16)
    if static:
        layer.set_input_scale(x.abs().max().float() / ltx_quantizer.FP8_MAX)
    layer.matmul = "fp8"
    fused = layer(x).float()
    assert not ltx_quantizer._FP8_GEMM_FAILED  # the GEMM ran: no fallback to dequantizing
    layer.matmul = "dequantize"
    reference = layer(x).float()
    error = ((fused - reference).norm() / reference.norm()).item()
    assert 0 < error < 0.05  # only the activation rounding differs (E4M3: at most 1/16 relative per value)


def test_static_scales_come_from_calibration_and_clamp_beyond_it():
    model, peaks = small_model(), {}
    names = ltx_quantizer.FP8QuantizationPolicy().select(model)
    hooks = [model.get_submodule(n).register_forward_hook(
        lambda m, a, o, n=n: peaks.__setitem__(n, max(peaks.get(n, 0.0), a[0].abs().max().item()))) for n in names]
    with torch.no_grad():
        for kwargs in CALIBRATION:
            model(**kwargs)
    for hook in hooks:
        hook.remove()
    quantize_fp8(model, FP8QuantizationPolicy(activations="static", activation_margin=1.5), calibration=CALIBRATION)
    for name in names:
        expected = torch.tensor([peaks[name] * 1.5 / ltx_quantizer.FP8_MAX])
        torch.testing.assert_close(model.get_submodule(name).input_scale, expected, rtol=1e-6, atol=0)
    layer = model.get_submodule(names[0])
    layer.matmul = "fp8"
    limit = layer.input_scale.item() * ltx_quantizer.FP8_MAX
    x = torch.full((1, layer.in_features), limit)
    with torch.no_grad():  # inputs beyond the calibrated range saturate at it
        torch.testing.assert_close(layer(x * 10), layer(x))


def test_state_dict_and_save_load_with_static_scales(tmp_path):
    dynamic = small_model()
    quantize_fp8(dynamic)
    assert not any(k.endswith("input_scale") for k in dynamic.state_dict())  # unchanged by this option
    model = small_model()
    names = quantize_fp8(model, FP8QuantizationPolicy(activations="static"), calibration=CALIBRATION)
    state = model.state_dict()
    assert {k for k in state if k.endswith("input_scale")} == {f"{n}.input_scale" for n in names}
    assert state.keys() - {f"{n}.input_scale" for n in names} == dynamic.state_dict().keys()
    model.to(torch.bfloat16)
    assert model.get_submodule(names[0]).input_scale.dtype == torch.float32  # scales keep their dtype
    model.float()
    fresh = LTXVideoTransformer3DModel(**CONFIG).eval()
    load_fp8(fresh, save_fp8(model, tmp_path / "static.safetensors"))
    for name in names:
        assert torch.equal(fresh.get_submodule(name).input_scale, model.get_submodule(name).input_scale)
    set_fp8_matmul(model, "fp8")
    set_fp8_matmul(fresh, "fp8")
    with torch.no_grad():
        assert torch.equal(model(**inputs(5))[0], fresh(**inputs(5))[0])


def test_bad_activation_options():
    with pytest.raises(ValueError, match="activations.*dynamic.*static"):
        FP8QuantizationPolicy(activations="per-row")
    with pytest.raises(ValueError, match="activation_margin"):
        FP8QuantizationPolicy(activations="static", activation_margin=0.5)
    with pytest.raises(ValueError, match="static activation scales needs `calibration`"):
        quantize_fp8(small_model(), FP8QuantizationPolicy(activations="static"))
    model = small_model()
    with pytest.raises(ValueError, match="no FP8Linear"):
        set_fp8_matmul(model, "fp8")
    quantize_fp8(model)
    with pytest.raises(ValueError, match="mode.*auto.*fp8.*dequantize"):
        set_fp8_matmul(model, "fast")
    with pytest.raises(ValueError, match="positive finite"):
        model.transformer_blocks[0].attn1.to_q.set_input_scale(0.0)


@pytest.mark.parametrize("activations", ["dynamic", "static"])
def test_no_graph_break_inside_a_block_with_the_fp8_gemm(activations):
    pipe = tiny_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    small = dict(height=64, width=64, num_frames=9, num_inference_steps=2)
    pipe.enable_fp8(FP8QuantizationPolicy(activations=activations),
                    calibration_prompts=["a red ball"] if activations == "static" else None, **small)
    set_fp8_matmul(pipe.transformer, "fp8")
    calls = block_calls(pipe.transformer, lambda: pipe(**ARGS, generator=gen(0)))
    assert graph_breaks(calls) == {"transformer_blocks": (0, [])}
    eager = pipe(**ARGS, generator=gen(1)).frames
    torch._dynamo.reset()
    pipe.enable_compile()
    try:
        compiled = pipe(**ARGS, generator=gen(1)).frames
    finally:
        pipe.disable_compile()
    assert not ltx_quantizer._FP8_GEMM_FAILED
    torch.testing.assert_close(compiled, eager, atol=1e-4, rtol=0)


def test_an_out_of_memory_error_is_raised_not_taken_for_a_missing_kernel(monkeypatch, caplog):
    """torch.OutOfMemoryError is a RuntimeError: one transient OOM in the FP8 GEMM turned FP8 off for the rest of the
    process, silently. It is raised now; a kernel that is missing still falls back, with a warning."""
    layer = fp8_layer("cpu")
    layer.matmul = "fp8"
    x = torch.randn(2, 8, 256, generator=gen(0)).to(torch.bfloat16)

    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(ltx_quantizer, "_FP8_GEMM_FAILED", set())
    monkeypatch.setattr(torch, "_scaled_mm", out_of_memory)
    with pytest.raises(torch.OutOfMemoryError):
        layer(x)
    assert not ltx_quantizer._FP8_GEMM_FAILED

    def missing(*args, **kwargs):
        raise RuntimeError("_scaled_mm is not supported on this device")

    monkeypatch.setattr(torch, "_scaled_mm", missing)
    with caplog.at_level("WARNING", logger="ltx_video"):
        out = layer(x)
    assert torch.isfinite(out).all() and ("cpu", torch.bfloat16, True) in ltx_quantizer._FP8_GEMM_FAILED
    assert "FP8 layers dequantize their weights there from now on" in caplog.text

    def silent(*args, **kwargs):
        raise RuntimeError()  # no message: the warning's first line was an IndexError

    monkeypatch.setattr(ltx_quantizer, "_FP8_GEMM_FAILED", set())
    monkeypatch.setattr(torch, "_scaled_mm", silent)
    assert torch.isfinite(layer(x)).all() and "(RuntimeError)" in caplog.text


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("static", [False, True])
def test_one_rounded_scale_quantizes_and_rescales(device, static, monkeypatch):
    # The activations were divided by a bf16-rounded scale and rescaled by the float32 one: each row's gain was
    # biased by up to 2^-8 (0.3 %). The scale _scaled_mm rescales by is now the one the values were made with.
    layer = fp8_layer(device)
    x = (torch.randn(64, 256, generator=gen(0)) * torch.logspace(-2, 1, 64)[:, None]).to(device, torch.bfloat16)
    if static:
        layer.set_input_scale(x.abs().max().float() / ltx_quantizer.FP8_MAX)
    seen = {}
    original = torch._scaled_mm

    def spy(a, b, *, scale_a, **kwargs):
        seen.update(a=a, scale_a=scale_a)
        return original(a, b, scale_a=scale_a, **kwargs)

    monkeypatch.setattr(torch, "_scaled_mm", spy)
    layer.matmul = "fp8"
    layer(x)
    scale = seen["scale_a"]
    if static:  # the values were multiplied by a bf16 inverse: the rescale is exactly its inverse
        inverse = (1.0 / layer.input_scale).to(torch.bfloat16)
        assert torch.equal(scale, (1.0 / inverse.float()).expand(64, 1))
        made = x * inverse
    else:  # the values were divided by a bf16 scale: the rescale is exactly that value
        assert torch.equal(scale, scale.to(torch.bfloat16).float())
        made = x / scale.to(torch.bfloat16)
    made = made.clamp(-ltx_quantizer.FP8_MAX, ltx_quantizer.FP8_MAX).to(ltx_quantizer.FP8_DTYPE)
    assert torch.equal(seen["a"], made)


def test_calibration_may_be_an_iterator_read_once():
    # An iterator fed only the first pass (GPTQ's moments): the static scales saw nothing and were all 1.0.
    policy = FP8QuantizationPolicy(rounding="gptq", activations="static", moment_bytes=1)  # one pass per layer
    reference = small_model()
    quantize_fp8(reference, policy, calibration=CALIBRATION)
    for calibration in (iter(CALIBRATION), (kwargs for kwargs in CALIBRATION)):
        model = small_model()
        quantize_fp8(model, policy, calibration=calibration)
        for name, layer in model.named_modules():
            if isinstance(layer, FP8Linear):
                expected = reference.get_submodule(name)
                assert torch.equal(layer.weight.view(torch.uint8), expected.weight.view(torch.uint8)), name
                assert torch.equal(layer.input_scale, expected.input_scale), name
    for wrong in (CALIBRATION[0], [CALIBRATION[0], "x"]):  # one dict, not a list of them; a list holding a str
        with pytest.raises(ValueError, match="`calibration` must"):
            quantize_fp8(small_model(), policy, calibration=wrong)


class _TwoLinears(nn.Module):
    def __init__(self):
        super().__init__()
        self.used, self.unused = nn.Linear(32, 32), nn.Linear(32, 32)

    def forward(self, x):
        return self.used(x)


def test_a_layer_the_calibration_never_reaches_is_logged_and_stays_dynamic(caplog):
    torch.manual_seed(0)
    model, calibration = _TwoLinears(), [{"x": torch.randn(4, 32, generator=gen(i))} for i in range(2)]
    weight = model.unused.weight.detach().clone()
    policy = FP8QuantizationPolicy(modules=("used", "unused"), rounding="gptq", activations="static")
    with caplog.at_level("WARNING", logger=ltx_quantizer.__name__):
        quantize_fp8(model, policy, calibration=calibration)
    assert "1 of 2 layers never ran on the calibration inputs (e.g. ['unused'])" in caplog.text
    assert model.used.input_scale is not None and model.unused.input_scale is None  # was a silent scale of 1.0
    scale = ltx_quantizer.channel_scales(weight)
    assert torch.equal(model.unused.weight.view(torch.uint8), ltx_quantizer.round_nearest(weight, scale).view(torch.uint8))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("static", [False, True])
def test_float16_inputs_are_scaled_in_float32(device, static, monkeypatch):
    """float16 inputs to the FP8 GEMM: a zero row (padding) and a row of absmax 1e-5 gave NaN (their scale, rounded
    to float16, was 0), and a static scale calibrated on inputs up to 0.005 gave exact zeros (1 / input_scale
    overflowed float16). float16 rows are scaled in float32 now, as bf16 ones are in their own range."""
    monkeypatch.setattr(ltx_quantizer, "_FP8_GEMM_FAILED", set())
    linear = nn.Linear(256, 512, bias=False)
    nn.init.normal_(linear.weight, std=0.05, generator=gen(0))
    scale = ltx_quantizer.channel_scales(linear.weight)
    layer = FP8Linear.from_weights(ltx_quantizer.round_nearest(linear.weight, scale), scale, None).to(device)
    x = torch.randn(4, 256, generator=gen(1))
    x = x / x.abs().amax(dim=1, keepdim=True) * torch.tensor([0.005, 1e-5, 0.0, 1e-3])[:, None]  # peak 0.005
    x = x.to(device, torch.float16)
    if static:
        layer.set_input_scale(x.abs().max().float() / ltx_quantizer.FP8_MAX)
    layer.matmul = "fp8"
    fused = layer(x).float()
    if (device, torch.float16, False) in ltx_quantizer._FP8_GEMM_FAILED:
        pytest.skip(f"torch._scaled_mm takes no float16 inputs on {device} here")
    layer.matmul = "dequantize"
    reference = layer(x).float()
    assert torch.isfinite(fused).all() and not fused[2].any()  # the zero row: zeros, not NaN
    for row in (0, 1, 3):  # only the activation rounding differs (E4M3: at most 1/16 relative per value)
        assert 0 < ((fused[row] - reference[row]).norm() / reference[row].norm()).item() < 0.05, row


def _counting_scaled_mm(monkeypatch, refuse=lambda a, b: None):
    """Replace torch._scaled_mm by one that counts its calls and raises ``refuse(a, b)`` where that is an error."""
    calls, original = [], torch._scaled_mm

    def scaled_mm(a, b, **kwargs):
        calls.append(a)
        if (error := refuse(a, b)) is not None:
            raise error
        return original(a, b, **kwargs)

    monkeypatch.setattr(ltx_quantizer, "_FP8_GEMM_FAILED", set())
    monkeypatch.setattr(torch, "_scaled_mm", scaled_mm)
    return calls


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
def test_an_empty_batch_gives_an_empty_output_and_keeps_the_gemm_on(static, dtype, monkeypatch):
    """One input with 0 rows made _scaled_mm fail ("expected scale_a.stride(1) to be 1, but got 0"), which turned the
    FP8 GEMM off for every FP8 model on that device and dtype until restart."""
    calls = _counting_scaled_mm(monkeypatch)
    layer, other = fp8_layer("cpu", dtype), fp8_layer("cpu", dtype)
    for module in (layer, other):
        module.matmul = "fp8"
        if static:
            module.set_input_scale(0.01)
    for shape in ((0, 256), (2, 0, 256)):
        out = layer(torch.randn(shape).to(dtype))
        assert out.shape == (*shape[:-1], 512) and out.dtype == dtype
    assert not ltx_quantizer._FP8_GEMM_FAILED and layer.gemm_refused is None
    other(torch.randn(3, 256).to(dtype))
    assert len(calls) == 1  # the other model still runs the FP8 GEMM


def test_a_layer_the_gemm_refuses_falls_back_alone(monkeypatch, caplog):
    """A failure that is about one layer (CUDA's _scaled_mm wants widths divisible by 16) turned the FP8 GEMM off for
    every model; now only where a small shape-legal GEMM fails too is the failure recorded for the device."""
    def like_cuda(a, b):
        return RuntimeError("Expected trailing dimension of mat1 to be divisible by 16") if a.shape[1] % 16 else None

    calls = _counting_scaled_mm(monkeypatch, like_cuda)
    torch.manual_seed(0)
    narrow = quantize_fp8_layer(nn.Linear(20, 32))
    wide = fp8_layer("cpu", torch.float32)
    set_fp8_matmul(nn.ModuleList([narrow, wide]), "fp8")
    x = torch.randn(3, 20, generator=gen(0))
    with caplog.at_level("WARNING", logger=ltx_quantizer.__name__):
        out = narrow(x)
    assert "FP8Linear(in_features=20, out_features=32): torch._scaled_mm refused this layer" in caplog.text
    assert "divisible by 16" in narrow.gemm_refused and not ltx_quantizer._FP8_GEMM_FAILED
    narrow.matmul = "dequantize"
    torch.testing.assert_close(out, narrow(x), rtol=0, atol=0)  # it took the dequantizing path
    narrow.matmul = "fp8"
    calls.clear()
    narrow(x)
    wide(torch.randn(3, 256, generator=gen(1)))
    assert len(calls) == 1  # the refused layer does not try again; the other layer runs the GEMM
    set_fp8_matmul(nn.ModuleList([narrow]), "fp8")  # asking again tries again
    assert narrow.gemm_refused is None
    narrow(x)
    assert narrow.gemm_refused is not None and not ltx_quantizer._FP8_GEMM_FAILED
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):  # a wrong width is the caller's error
        wide(torch.randn(3, 255))
    assert not ltx_quantizer._FP8_GEMM_FAILED and wide.gemm_refused is None


def test_a_transposed_input_reaches_the_gemm_row_major(monkeypatch):
    """Elementwise ops keep a transposed input's strides, so the float8 activations reached _scaled_mm column-major,
    which CUDA refuses (and the refusal turned the GEMM off for the device)."""
    calls = _counting_scaled_mm(monkeypatch)
    layer = fp8_layer("cpu", torch.float32)
    layer.matmul = "fp8"
    x = torch.randn(256, 6, generator=gen(0)).t()
    fused = layer(x)
    assert len(calls) == 1 and calls[0].is_contiguous()
    layer.matmul = "dequantize"
    reference = layer(x)
    assert 0 < ((fused - reference).norm() / reference.norm()).item() < 0.05
