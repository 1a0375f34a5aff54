"""FP8 weight quantization against full precision and other FP8 schemes, same run, same inputs.

    python scripts/benchmark_fp8.py                    # mid-size config + the built-in model (about 5 minutes on 2 CPU cores)
    python scripts/benchmark_fp8.py --sections mid --layers 8

Sections (``--sections``):

- ``mid``: random LTX transformers of mid size (``--heads`` x 64, ``--layers`` blocks) whose block weights
  have trained-like statistics (``ltx_video.testing.realistic_block_weights``: per-layer standard
  deviations log-uniform over [0.002, 0.05], one output row in 32 scaled 10x). Calibration inputs (seeds
  0-7) and evaluation inputs (seeds 100-103) differ.
- ``builtin``: the trained built-in model. Calibration records its transformer inputs while it generates
  four training-style prompts; evaluation uses other prompts and seeds: transformer output error on
  recorded held-out inputs, and the PSNR of generated videos against full precision.
- On a CUDA GPU with FP8 tensor cores (compute capability >= 8.9), also the forward time of a
  transformer with ``FP8Linear``'s FP8 GEMM against bf16 at 16k-64k tokens.

Methods: fp32 (reference), bf16, ours (``FP8QuantizationPolicy(rounding="gptq", keep_fraction=0.025)``),
ours without calibration (nearest rounding: plain per-channel absmax), per-tensor absmax, diffusers'
``enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn)``, and torchao's float8 weight-only
quantization when torchao is installed. Reported: weight bytes of the transformer-block linears and of
the whole transformer relative to fp32, relative output error against fp32 (mean over the evaluation
inputs) and its ratio to layerwise casting's.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import math
import os
import sys
import time

import torch
import torch.nn as nn

os.environ.setdefault("HF_HUB_OFFLINE", "1")

OURS = dict(rounding="gptq", keep_fraction=0.025)


def _machine() -> str:
    from pathlib import Path

    cpu = "CPU"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"{cpu}, {os.cpu_count()} cores"
    return f"{device}; torch {torch.__version__}; {datetime.date.today().isoformat()}"


def _output(model, kwargs) -> torch.Tensor:
    with torch.no_grad():
        out = model(**kwargs)
    return (out[0] if isinstance(out, tuple) else out.sample).float()


def _error(model, reference_outputs, evaluation, cast=None) -> float:
    errors = []
    for kwargs, expected in zip(evaluation, reference_outputs, strict=True):
        if cast is not None:
            # only the hidden states: bf16 timesteps and coordinates would move RoPE and the embeddings
            kwargs = {k: v.to(cast) if torch.is_tensor(v) and "hidden_states" in k else v for k, v in kwargs.items()}
        out = _output(model, kwargs)
        errors.append(((out - expected).norm() / expected.norm()).item())
    return sum(errors) / len(errors)


def _tensor_bytes(tensor: torch.Tensor) -> int:
    """Storage bytes; torchao's float8 tensor subclass reports its logical dtype, so count its parts."""
    if hasattr(tensor, "qdata") and hasattr(tensor, "scale"):
        return tensor.qdata.numel() * tensor.qdata.element_size() + tensor.scale.numel() * tensor.scale.element_size()
    return tensor.numel() * tensor.element_size()


def _bytes(model: nn.Module) -> tuple[int, int]:
    """(bytes of the transformer-block linear weights incl. scales, bytes of all parameters and buffers)."""
    from ltx_video.quantization import FP8Linear

    blocks = 0
    for name, module in model.named_modules():
        if "transformer_blocks." not in name:
            continue
        if isinstance(module, FP8Linear):
            blocks += module.weight.numel() + 4 * module.weight_scale.numel()
        elif isinstance(module, nn.Linear):
            blocks += _tensor_bytes(module.weight)
    total = sum(_tensor_bytes(t) for t in (*model.parameters(), *model.buffers()))
    return blocks, total


def _per_tensor(model: nn.Module) -> nn.Module:
    """Block linears rounded to E4M3 with one absmax scale per tensor (simulated: stored dequantized, bytes counted as fp8)."""
    from ltx_video.quantization.ltx_quantizer import FP8_DTYPE, FP8_MAX

    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, nn.Linear) and "transformer_blocks." in name:
                scale = module.weight.abs().max() / FP8_MAX
                module.weight.copy_((module.weight / scale).to(FP8_DTYPE).float() * scale)
    return model


def _per_tensor_bytes(model: nn.Module) -> int:
    return sum(
        m.weight.numel() + 4
        for n, m in model.named_modules()
        if isinstance(m, nn.Linear) and "transformer_blocks." in n
    )


def _torchao(model: nn.Module):
    try:
        from torchao.quantization import Float8WeightOnlyConfig, quantize_
    except ImportError:
        return None, "torchao not installed"
    try:
        quantize_(
            model,
            Float8WeightOnlyConfig(),
            filter_fn=lambda m, name: isinstance(m, nn.Linear) and "transformer_blocks." in name,
        )
    except Exception as error:  # torchao's float8 kernels may need a GPU
        return None, f"torchao failed: {type(error).__name__}: {str(error)[:80]}"
    return model, None


def compare(reference: nn.Module, calibration: list[dict], evaluation: list[dict]) -> list[dict]:
    from ltx_video.quantization import FP8QuantizationPolicy, quantize_fp8

    expected = [_output(reference, kwargs) for kwargs in evaluation]
    fp32_blocks, fp32_total = _bytes(reference)
    rows = []

    def add(label, model, seconds=0.0, cast=None, blocks=None, note=""):
        error = _error(model, expected, evaluation, cast)
        block_bytes, total = _bytes(model)
        if blocks is not None:  # simulated storage: the block weights at `blocks` bytes, the rest as measured
            total, block_bytes = total - block_bytes + blocks, blocks
        blocks = block_bytes
        rows.append(
            {
                "method": label,
                "block_bytes": blocks / fp32_blocks,
                "total_bytes": total / fp32_total,
                "error": error,
                "seconds": seconds,
                "note": note,
            }
        )
        print(f"  {label:<48} error {error:.5f}  block bytes x{blocks / fp32_blocks:.3f}", flush=True)

    add("fp32 (reference)", reference)
    add("bf16", copy.deepcopy(reference).to(torch.bfloat16), cast=torch.bfloat16)
    for label, policy in (
        ("ours: GPTQ + keep 2.5 % most sensitive", FP8QuantizationPolicy(**OURS)),
        ("ours: GPTQ", FP8QuantizationPolicy(rounding="gptq")),
        ("plain per-channel absmax (ours, no calibration)", FP8QuantizationPolicy()),
    ):
        model = copy.deepcopy(reference)
        t0 = time.perf_counter()
        quantize_fp8(model, policy, calibration=calibration if policy.needs_calibration else None)
        add(label, model, time.perf_counter() - t0)
    model = _per_tensor(copy.deepcopy(reference))
    add("per-tensor absmax", model, blocks=_per_tensor_bytes(model))
    model = copy.deepcopy(reference)
    model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=torch.float32)
    add("diffusers enable_layerwise_casting(float8_e4m3fn)", model)
    model, why = _torchao(copy.deepcopy(reference))
    if model is None:
        rows.append({"method": "torchao float8 weight-only", "note": why})
        print(f"  torchao: {why}", flush=True)
    else:
        add("torchao float8 weight-only", model)
    casting = next(r["error"] for r in rows if r["method"].startswith("diffusers"))
    for row in rows:
        if "error" in row:
            row["vs_casting"] = row["error"] / casting
    return rows


def _mid_inputs(seed: int, config: dict) -> dict:
    from ltx_video.testing import transformer_inputs

    g = torch.Generator().manual_seed(seed)
    kwargs = transformer_inputs(config, (4, 8, 8), text_tokens=32, generator=g)
    kwargs["timestep"] = torch.randint(0, 1000, (1,), generator=g).float()
    return kwargs


def mid(layers: int, heads: int) -> list[dict]:
    from diffusers import LTXVideoTransformer3DModel

    from ltx_video.testing import realistic_block_weights

    config = dict(
        in_channels=128,
        out_channels=128,
        num_attention_heads=heads,
        attention_head_dim=64,
        cross_attention_dim=heads * 64,
        num_layers=layers,
        caption_channels=512,
    )
    torch.manual_seed(0)
    model = LTXVideoTransformer3DModel(**config).eval()
    realistic_block_weights(model, seed=0)
    return compare(model, [_mid_inputs(s, config) for s in range(8)], [_mid_inputs(100 + s, config) for s in range(4)])


def builtin() -> tuple[list[dict], list[dict]]:
    from ltx_video.default_model import DEFAULT_GENERATION, load_default_pipeline
    from ltx_video.quantization import FP8QuantizationPolicy

    pipe = load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    small = {**DEFAULT_GENERATION, "num_inference_steps": 8}
    calibration = pipe.record_transformer_inputs(
        ["a red ball bounces", "a blue square bounces", "a green triangle bounces", "a yellow ball bounces"], **small
    )
    held_out = pipe.record_transformer_inputs(["a purple square bounces", "an orange triangle bounces"], **small)
    evaluation = held_out[:: max(1, len(held_out) // 6)]
    rows = compare(pipe.transformer, calibration, evaluation)

    prompts = ["a red square bounces", "a blue ball bounces", "a green triangle bounces"]

    def videos():
        return [
            pipe(p, output_type="pt", generator=torch.Generator().manual_seed(7 + i), **DEFAULT_GENERATION).frames
            for i, p in enumerate(prompts)
        ]

    reference = videos()
    original = pipe.transformer
    psnr_rows = []
    for label, policy in (
        ("ours: GPTQ + keep 2.5 % most sensitive", FP8QuantizationPolicy(**OURS)),
        ("plain per-channel absmax", FP8QuantizationPolicy()),
    ):
        pipe.transformer = copy.deepcopy(original)
        pipe.enable_fp8(
            policy,
            calibration_prompts=["a red ball bounces", "a blue square bounces"] if policy.needs_calibration else None,
            **small,
        )
        values = [10 * math.log10(1.0 / ((a - b) ** 2).mean().item()) for a, b in zip(videos(), reference, strict=True)]
        psnr_rows.append({"method": label, "psnr_mean": sum(values) / len(values), "psnr_min": min(values)})
        print(
            f"  video PSNR {label}: mean {psnr_rows[-1]['psnr_mean']:.2f} dB, min {psnr_rows[-1]['psnr_min']:.2f}",
            flush=True,
        )
    pipe.transformer = original
    return rows, psnr_rows


def cuda_gemm_timing() -> list[dict]:
    """FP8 GEMM transformer forward against bf16 (CUDA, compute capability >= 8.9 only)."""
    from diffusers import LTXVideoTransformer3DModel

    from ltx_video.quantization import quantize_fp8

    config = dict(
        in_channels=128,
        out_channels=128,
        num_attention_heads=32,
        attention_head_dim=64,
        cross_attention_dim=2048,
        num_layers=4,
        caption_channels=4096,
    )
    model = LTXVideoTransformer3DModel(**config).cuda().to(torch.bfloat16).eval()
    quantized = copy.deepcopy(model)
    quantize_fp8(quantized)
    rows = []
    for tokens in (16384, 32768, 65536):
        frames = tokens // (32 * 32)
        kwargs = dict(
            hidden_states=torch.randn(1, tokens, 128, device="cuda", dtype=torch.bfloat16),
            encoder_hidden_states=torch.randn(1, 128, 4096, device="cuda", dtype=torch.bfloat16),
            timestep=torch.tensor([500.0], device="cuda"),
            encoder_attention_mask=torch.ones(1, 128, device="cuda"),
            num_frames=frames,
            height=32,
            width=32,
            return_dict=False,
        )
        times = {}
        for label, m in (("bf16", model), ("fp8 GEMM", quantized)):
            with torch.no_grad():
                m(**kwargs)
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                for _ in range(5):
                    m(**kwargs)
                end.record()
                torch.cuda.synchronize()
            times[label] = start.elapsed_time(end) / 5 / 1000
        rows.append({"tokens": tokens, **times, "speedup": times["bf16"] / times["fp8 GEMM"]})
        print(f"  {tokens} tokens: bf16 {times['bf16']:.3f} s, fp8 {times['fp8 GEMM']:.3f} s", flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| method | block weight bytes vs fp32 | all transformer bytes vs fp32 | rel. output error | vs layerwise casting |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" not in r:
            lines.append(f"| {r['method']} | | | {r['note']} | |")
            continue
        lines.append(
            f"| {r['method']} | {r['block_bytes']:.3f} | {r['total_bytes']:.3f} | {r['error']:.5f} | {r['vs_casting']:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="+", choices=["mid", "builtin", "gemm"], default=["mid", "builtin", "gemm"])
    parser.add_argument("--layers", type=int, default=4, help="blocks of the mid-size configs")
    parser.add_argument("--heads", type=int, nargs="+", default=[8, 16], help="heads (x 64) of the mid-size configs")
    args = parser.parse_args(argv)
    if args.layers < 1 or min(args.heads) < 1:
        parser.error("--layers and --heads must be >= 1")
    report = [f"Machine: {_machine()}"]
    if "mid" in args.sections:
        for heads in args.heads:
            print(f"mid-size config, {heads} heads ...", flush=True)
            title = f"Random LTX config, {heads} x 64 heads, {args.layers} blocks, realistic weight statistics:"
            report += ["", title, "", markdown(mid(args.layers, heads))]
    if "builtin" in args.sections:
        print("built-in model ...", flush=True)
        rows, psnr = builtin()
        report += [
            "",
            "Built-in model:",
            "",
            markdown(rows),
            "",
            "| method | video PSNR mean (dB) | min |",
            "|---|---|---|",
        ]
        report += [f"| {r['method']} | {r['psnr_mean']:.2f} | {r['psnr_min']:.2f} |" for r in psnr]
    if "gemm" in args.sections:
        if torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 9):
            print("FP8 GEMM timing ...", flush=True)
            rows = cuda_gemm_timing()
            report += ["", "| tokens | bf16 (s) | FP8 GEMM (s) | speed-up |", "|---|---|---|---|"]
            report += [f"| {r['tokens']} | {r['bf16']:.3f} | {r['fp8 GEMM']:.3f} | {r['speedup']:.2f}x |" for r in rows]
        else:
            report += ["", "FP8 GEMM timing: not run (needs a CUDA GPU with compute capability >= 8.9)."]
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
