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
- ``activations``: bf16 compute against FP8 with the weights dequantized, and the FP8 GEMM
  (``torch._scaled_mm``: CUDA >= 8.9, or the CPU through oneDNN) with dynamic (per-row) or static
  (calibrated, per-layer) activation scales, eager and under ``compile_repeated_blocks``: forward time
  against eager bf16 and output error against fp32, on ``--device`` at ``--grid`` latent tokens.

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
    from ltx_video.quantization import FP8QuantizationPolicy, set_fp8_matmul

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
    for label, policy, matmul in (
        ("ours: GPTQ + keep 2.5 % most sensitive", FP8QuantizationPolicy(**OURS), "dequantize"),
        ("plain per-channel absmax", FP8QuantizationPolicy(), "dequantize"),
        ("plain, FP8 GEMM, dynamic activation scales", FP8QuantizationPolicy(), "fp8"),
        ("plain, FP8 GEMM, static activation scales", FP8QuantizationPolicy(activations="static"), "fp8"),
        ("ours, FP8 GEMM, static activation scales", FP8QuantizationPolicy(**OURS, activations="static"), "fp8"),
    ):
        pipe.transformer = copy.deepcopy(original)
        pipe.enable_fp8(
            policy,
            calibration_prompts=["a red ball bounces", "a blue square bounces"] if policy.needs_calibration else None,
            **small,
        )
        set_fp8_matmul(pipe.transformer, matmul)
        values = [10 * math.log10(1.0 / ((a - b) ** 2).mean().item()) for a, b in zip(videos(), reference, strict=True)]
        psnr_rows.append({"method": label, "psnr_mean": sum(values) / len(values), "psnr_min": min(values)})
        print(
            f"  video PSNR {label}: mean {psnr_rows[-1]['psnr_mean']:.2f} dB, min {psnr_rows[-1]['psnr_min']:.2f}",
            flush=True,
        )
    pipe.transformer = original
    return rows, psnr_rows


def _timed(fn, device: str, repeats: int) -> float:
    """Median seconds of ``fn()`` after one warm-up call (which also compiles)."""
    import statistics

    with torch.no_grad():
        fn()
        times = []
        for _ in range(repeats):
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def activations(device: str, layers: int, heads: int, grid: tuple[int, int, int], repeats: int) -> list[dict]:
    """bf16 forward against FP8 (weights only; FP8 GEMM with dynamic or static activation scales), eager and
    compiled, in one process: output error against fp32 and time against eager bf16."""
    from diffusers import LTXVideoTransformer3DModel

    from ltx_video.quantization import FP8QuantizationPolicy, quantize_fp8, set_fp8_matmul
    from ltx_video.testing import realistic_block_weights
    from ltx_video.utils.compile import prepare_cpu_inductor

    config = dict(in_channels=128, out_channels=128, num_attention_heads=heads, attention_head_dim=64,
                  cross_attention_dim=heads * 64, num_layers=layers, caption_channels=heads * 64)
    torch.manual_seed(0)
    reference = LTXVideoTransformer3DModel(**config).eval()
    realistic_block_weights(reference, seed=0)
    calibration = [_mid_inputs(s, config) | _grid(grid, config, s) for s in range(4)]
    evaluation = _mid_inputs(100, config) | _grid(grid, config, 100)
    expected = _output(reference, evaluation)
    inputs = {k: v.to(device, torch.bfloat16) if torch.is_tensor(v) and k in ("hidden_states", "encoder_hidden_states")
              else (v.to(device) if torch.is_tensor(v) else v) for k, v in evaluation.items()}
    variants = {
        "bf16": (None, None),
        "FP8 weights, dequantized to bf16": (FP8QuantizationPolicy(), "dequantize"),
        "FP8 GEMM, dynamic activation scales": (FP8QuantizationPolicy(), "fp8"),
        "FP8 GEMM, static activation scales": (FP8QuantizationPolicy(activations="static"), "fp8"),
    }
    rows, baseline = [], None
    for compiled in (False, True):
        for label, (policy, matmul) in variants.items():
            model = copy.deepcopy(reference)
            if policy is not None:
                quantize_fp8(model, policy, calibration=calibration if policy.needs_calibration else None)
                set_fp8_matmul(model, matmul)
            model = model.to(device, torch.bfloat16)
            if compiled:
                prepare_cpu_inductor()
                model.compile_repeated_blocks()
            seconds = _timed(lambda m=model: m(**inputs), device, repeats)
            out = _output(model, inputs).cpu()
            baseline = baseline or seconds
            rows.append({"method": label + (" + compile" if compiled else ""), "seconds": seconds,
                         "speedup": baseline / seconds, "error": ((out - expected).norm() / expected.norm()).item()})
            print(f"  {rows[-1]['method']:<58} {seconds:.4f} s  x{rows[-1]['speedup']:.2f}  error {rows[-1]['error']:.5f}",
                  flush=True)
            del model
            torch._dynamo.reset()
    return rows


def _grid(grid: tuple[int, int, int], config: dict, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    tokens = grid[0] * grid[1] * grid[2]
    return dict(hidden_states=torch.randn(1, tokens, config["in_channels"], generator=g),
                num_frames=grid[0], height=grid[1], width=grid[2])


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
    parser.add_argument("--sections", nargs="+", choices=["mid", "builtin", "activations"],
                        default=["mid", "builtin", "activations"])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu",
                        help="device of the activations section")
    parser.add_argument("--grid", type=int, nargs=3, default=[4, 16, 16], metavar=("F", "H", "W"),
                        help="latent grid of the activations section")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per row of the activations section")
    parser.add_argument("--layers", type=int, default=4, help="blocks of the mid-size configs")
    parser.add_argument("--heads", type=int, nargs="+", default=[8, 16], help="heads (x 64) of the mid-size configs")
    args = parser.parse_args(argv)
    if args.layers < 1 or min(args.heads) < 1 or min(args.grid) < 1 or args.repeats < 1:
        parser.error("--layers, --heads, --grid and --repeats must be >= 1")
    if args.device == "cuda" and not torch.cuda.is_available():  # found after the other sections before
        parser.error("--device cuda: no CUDA device here; use --device cpu")
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
    if "activations" in args.sections:
        heads, grid = args.heads[-1], tuple(args.grid)
        print(f"activation quantization, {heads} x 64 heads, grid {grid}, {args.device} ...", flush=True)
        rows = activations(args.device, args.layers, heads, grid, args.repeats)
        report += ["", f"Activations ({args.device}, bf16 compute, {heads} x 64 heads, {args.layers} blocks, "
                   f"{grid[0] * grid[1] * grid[2]} tokens):", "",
                   "| method | forward (s) | vs eager bf16 | rel. output error vs fp32 |", "|---|---|---|---|"]
        report += [f"| {r['method']} | {r['seconds']:.4f} | {r['speedup']:.2f}x | {r['error']:.5f} |" for r in rows]
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
