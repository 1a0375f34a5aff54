"""Transformer step and VAE decode at real LTX-Video sizes: diffusers' eager SDPA against each speed feature.

    python scripts/benchmark_pipeline.py                                  # CUDA: 2B and 13B, three sizes
    python scripts/benchmark_pipeline.py --models 2b --sizes 768x512x121  # one row set
    python scripts/benchmark_pipeline.py --device cpu --scale tiny        # the same code on tiny configs (CI)

For each model and size, in one process, one random-weight transformer per variant (bf16 on CUDA,
float32 on CPU; weights ~N(0, 0.02)), one denoising step's forward (the batch a step uses: videos x
``--passes``), median of ``--repeats`` after a warm-up (which includes compilation):

- ``sdpa``: diffusers' ``LTXVideoTransformer3DModel`` as it ships (eager, PyTorch SDPA): the baseline;
- ``compile``: the same, its repeated blocks compiled (``transformer.compile_repeated_blocks()``, diffusers'
  regional compilation);
- ``block-sparse``: ``enable_efficient_attention("ltx_block_sparse", min_tokens=0)``: the pattern at every
  size, with the default tiles and dense first block (the step-dependent ``dense_steps`` does not apply to
  a lone forward);
- ``fp8``: ``quantize_fp8`` (FP8 E4M3 block weights; FP8 GEMMs on GPUs with compute capability >= 8.9,
  activations quantized per row at run time);
- ``fp8-static``: the same with static activation scales (``activations="static"``, calibrated on the
  benchmark's own input), so the GEMM's activation quantization needs no reduction;
- ``all``: block-sparse + FP8 + compile.

Then the LTX-Video 0.9.5+ VAE decoder (random weights) decodes the size with diffusers' tiling. Reported:
time (s), ratio to the baseline, peak memory (CUDA: ``max_memory_allocated``; CPU: live tensor bytes) and
what ``ltx_video.utils.memory.estimate_memory`` predicted. ``--json PATH`` also writes the raw figures.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

VARIANTS = ("sdpa", "compile", "block-sparse", "fp8", "fp8-static", "all")
SIZES = ("768x512x121", "1216x704x121", "1920x1088x257")
TINY = {"num_attention_heads": 2, "attention_head_dim": 16, "cross_attention_dim": 32, "num_layers": 2,
        "caption_channels": 32, "in_channels": 128, "out_channels": 128}
TINY_SIZES = ("128x96x17", "192x128x25")
VAE_DECODER = dict(
    decoder_block_out_channels=(256, 512, 1024), decoder_layers_per_block=(5, 5, 5, 5),
    decoder_spatio_temporal_scaling=(True, True, True), decoder_inject_noise=(True, True, True, False),
    upsample_residual=(True, True, True), upsample_factor=(2, 2, 2), timestep_conditioning=True,
    block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
)
TINY_VAE = dict(VAE_DECODER, decoder_block_out_channels=(16, 32, 64), decoder_layers_per_block=(1, 1, 1, 1))


def parse_size(text: str) -> tuple[int, int, int]:
    try:
        width, height, frames = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHTxFRAMES, got {text!r}") from None
    if min(width, height, frames) < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes, got {text!r}")
    return width, height, frames


def random_model(cls, config: dict, device: str, dtype: torch.dtype, seed: int = 0):
    """``cls(**config)`` built on the meta device, then materialised on ``device`` with N(0, 0.02) weights."""
    with torch.device("meta"):
        model = cls(**config)
    model = model.to_empty(device=device).to(dtype)
    generator = torch.Generator(device).manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02, generator=generator)
        for b in model.buffers():
            if b.is_floating_point():
                b.zero_()
    return model.eval()


class Meter:
    """Median time and peak memory of a callable on ``device``."""

    def __init__(self, device: str, repeats: int):
        self.device, self.repeats = device, repeats

    def _sync(self):
        if self.device == "cuda":
            torch.cuda.synchronize()

    def __call__(self, fn, existing=(), count_memory: bool = True) -> tuple[float, int | None]:
        from ltx_video.utils.memory import LiveTensorBytes

        with torch.no_grad():
            fn()  # warm-up: compilation, autotuning, caches
            self._sync()
            times = []
            for _ in range(self.repeats):
                start = time.perf_counter()
                fn()
                self._sync()
                times.append(time.perf_counter() - start)
            if not count_memory:
                peak = None
            elif self.device == "cuda":
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
                fn()
                self._sync()
                peak = torch.cuda.max_memory_allocated() - base
            else:
                with LiveTensorBytes(existing) as tracker:
                    fn()
                peak = tracker.peak
        return statistics.median(times), peak


def transformer_rows(name, config, size, variants, device, dtype, passes, meter) -> list[dict]:
    from diffusers import LTXVideoTransformer3DModel

    from ltx_video.attention import disable_efficient_attention, enable_efficient_attention
    from ltx_video.quantization import FP8QuantizationPolicy, quantize_fp8
    from ltx_video.testing import transformer_inputs
    from ltx_video.utils.compile import prepare_cpu_inductor
    from ltx_video.utils.memory import estimate_memory

    width, height, frames = size
    grid = ((frames - 1) // 8 + 1, -(-height // 32), -(-width // 32))
    rows, baseline = [], None
    for variant in variants:
        model = random_model(LTXVideoTransformer3DModel, config, device, dtype)
        inputs = transformer_inputs(model, grid, text_tokens=128, batch=passes)
        inputs = {k: v.to(device, dtype) if torch.is_tensor(v) and v.is_floating_point() and k != "timestep"
                  else (v.to(device) if torch.is_tensor(v) else v) for k, v in inputs.items()}
        if variant in ("block-sparse", "all"):
            enable_efficient_attention(model, "ltx_block_sparse", min_tokens=0)  # the pattern at every size
        if variant in ("fp8", "all"):
            quantize_fp8(model)
        if variant == "fp8-static":
            quantize_fp8(model, FP8QuantizationPolicy(activations="static"), calibration=[inputs])
        if variant in ("compile", "all"):
            prepare_cpu_inductor()
            model.compile_repeated_blocks()
        existing = [*model.parameters(), *model.buffers(), *(v for v in inputs.values() if torch.is_tensor(v))]
        # On the CPU memory is counted per eager op (LiveTensorBytes), which compiled kernels bypass.
        compiled = variant in ("compile", "all")
        seconds, peak = meter(lambda m=model, i=inputs: m(**i), existing, count_memory=device == "cuda" or not compiled)
        weights = sum(t.numel() * t.element_size() for t in model.state_dict().values())
        baseline = baseline or seconds
        plan = estimate_memory(config, height, width, frames, dtype=dtype, guidance_passes=passes, max_sequence_length=128,  # as the inputs
                               fp8=variant in ("fp8", "fp8-static", "all"), vae_tiling=True,
                               attention="ltx_block_sparse" if variant in ("block-sparse", "all") and device == "cpu"
                               else "sdpa")
        rows.append({"model": name, "size": f"{width}x{height}x{frames}", "tokens": grid[0] * grid[1] * grid[2],
                     "variant": variant, "seconds": seconds, "speedup": baseline / seconds,
                     "peak_bytes": None if peak is None else peak + weights, "predicted_bytes": plan.transformer_step})
        print(f"  {name} {rows[-1]['size']} {variant}: {seconds:.4f} s, {rows[-1]['speedup']:.2f}x", flush=True)
        disable_efficient_attention(model)
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
    return rows


def vae_row(vae_config, size, device, dtype, meter) -> dict:
    from diffusers import AutoencoderKLLTXVideo

    from ltx_video.utils.memory import estimate_memory

    width, height, frames = size
    vae = random_model(AutoencoderKLLTXVideo, vae_config, device, dtype)
    vae.enable_tiling()
    latents = torch.randn(1, 128, (frames - 1) // 8 + 1, -(-height // 32), -(-width // 32), device=device, dtype=dtype)
    temb = torch.tensor([0.05], device=device, dtype=dtype)
    seconds, peak = meter(lambda: vae.decode(latents, temb=temb), [*vae.parameters(), latents, temb])
    plan = estimate_memory({}, height, width, frames, dtype=dtype, vae_tiling=True)  # vae.enable_tiling() above
    return {"size": f"{width}x{height}x{frames}", "seconds": seconds, "peak_bytes": peak,
            "predicted_bytes": plan.vae_decode}


def gib(value: int | None) -> str:
    return "n/a (compiled, CPU)" if value is None else f"{value / 2**30:.3f}"


def machine(device: str) -> str:
    what = torch.cuda.get_device_name() if device == "cuda" else f"{platform.processor() or platform.machine()}, " \
        f"{os.cpu_count()} cores"
    return f"{what}; torch {torch.__version__}; {datetime.date.today().isoformat()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--scale", choices=("real", "tiny"), default="real",
                        help="real: LTX-Video 2B/13B and the 0.9.8 VAE; tiny: small configs, same code (CI)")
    parser.add_argument("--models", nargs="+", choices=("2b", "13b"), default=["2b", "13b"])
    parser.add_argument("--sizes", nargs="+", type=parse_size, help=f"WIDTHxHEIGHTxFRAMES (default: {' '.join(SIZES)})")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--passes", type=int, default=2, help="model passes per step (2: CFG)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-vae", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here; use --device cpu")
    if args.passes < 1 or args.repeats < 1:
        parser.error("--passes and --repeats must be >= 1")
    # sdpa first, whatever the order given: the baseline of every ratio
    args.variants = ["sdpa", *dict.fromkeys(v for v in args.variants if v != "sdpa")]
    from ltx_video.utils.memory import LTX_VIDEO_2B, LTX_VIDEO_13B

    tiny = args.scale == "tiny"
    models = {"tiny": TINY} if tiny else {m: {"2b": LTX_VIDEO_2B, "13b": LTX_VIDEO_13B}[m] for m in args.models}
    sizes = args.sizes or [parse_size(s) for s in (TINY_SIZES if tiny else SIZES)]
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    meter = Meter(args.device, args.repeats)
    print(f"Machine: {machine(args.device)}", flush=True)
    results = {"machine": machine(args.device), "transformer": [], "vae": []}
    for name, config in models.items():
        for size in sizes:
            results["transformer"] += transformer_rows(name, config, size, args.variants, args.device, dtype,
                                                       args.passes, meter)
    if not args.no_vae:
        for size in sizes:
            results["vae"].append(vae_row(TINY_VAE if tiny else VAE_DECODER, size, args.device, dtype, meter))
    lines = ["| model | size (tokens) | variant | step (s) | vs eager SDPA | peak (GiB) | planned (GiB) |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['size']} ({r['tokens']}) | {r['variant']} | {r['seconds']:.4f} | "
              f"{r['speedup']:.2f}x | {gib(r['peak_bytes'])} | {gib(r['predicted_bytes'])} |"
              for r in results["transformer"]]
    if results["vae"]:
        lines += ["", "| VAE tiled decode | time (s) | peak (GiB) | planned (GiB) |", "|---|---|---|---|"]
        lines += [f"| {r['size']} | {r['seconds']:.3f} | {r['peak_bytes'] / 2**30:.3f} | "
                  f"{r['predicted_bytes'] / 2**30:.3f} |" for r in results["vae"]]
    print("\n".join(lines))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
