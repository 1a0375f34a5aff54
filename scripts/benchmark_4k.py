"""4K: the token arithmetic of each path, and the memory of tiled decoding, measured.

    python scripts/benchmark_4k.py --section tokens   # exact tokens, attention FLOPs and planned memory (instant)
    python scripts/benchmark_4k.py --section decode   # 1080p x 9 untiled / diffusers' tiling / tiled_decode, and
                                                      # 4K x 9 tiled, with LTX-Video 0.9.5+'s real-size decoder
                                                      # (random weights), and 4K x 9 with a HierarchicalVAE
                                                      # decoder of that size; ~40 min on 2 CPU cores
    python scripts/benchmark_4k.py --section decode --small   # the same at 256 x 384 (a check of the script)
    python scripts/benchmark_4k.py --section decode --only-4k # the 4K x 9 tiled rows alone: LTX-Video's decoder
                                                      # and a HierarchicalVAE decoder of the same size (~20 min)
    python scripts/benchmark_4k.py --section gpu      # CUDA: each 4K x 257 path's parts timed, bf16, real sizes
    python scripts/benchmark_4k.py --section gpu --small      # the same code on tiny configs (CPU; a check)

Each decode runs in a fresh process (``--case``) and reports the peak of live tensor storages
(``ltx_video.utils.memory.LiveTensorBytes``; what ``torch.cuda.max_memory_allocated`` would count), the process's
peak RSS and the wall time, beside ``estimate_memory``'s prediction. Ratios are against untiled decoding in the
same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

FRAMES = 257
FOUR_K = (2160, 3840)
# A HierarchicalVAE whose decoder is as large as LTX-Video 0.9.5+'s (545 M parameters against 553 M): no trained one
# exists at this size; random weights time and size its decoding.
HIERARCHICAL_REAL_SIZE = dict(block_out_channels=(128, 256, 512, 1024), layers_per_block=4)


def tokens(height: int, width: int, frames: int, spatial: int, temporal: int = 8) -> int:
    """Latent tokens of a video padded as the pipelines pad it (patch size 1)."""
    h, w = -(-height // spatial), -(-width // spatial)
    return ((frames - 1) // temporal + 1) * h * w


def attention_flops(n: int, width: int = 2048, layers: int = 28) -> float:
    """Self-attention FLOPs of one model pass: QK^T and PV, 2 N^2 D each, per layer (LTX-Video 2B: D 2048, 28 layers)."""
    return 4.0 * n * n * width * layers


def token_table(steps: int = 30, refine_steps: int = 3) -> str:
    import torch

    from ltx_video.models.autoencoders.tiling import TilingConfig
    from ltx_video.utils.memory import LTX_VIDEO_2B, estimate_memory

    full = tokens(*FOUR_K, FRAMES, 32)
    half = tokens(FOUR_K[0] // 2, FOUR_K[1] // 2, FRAMES, 32)
    wavelet = tokens(*FOUR_K, FRAMES, 64)
    paths = [
        ("LTX-Video VAE (32x), every step at 4K", [(full, steps)]),
        ("latent upsampler: 1920x1088 pass, x2, refinement at 4K", [(half, steps), (full, refine_steps)]),
        ("HierarchicalVAE (64x), every step at 4K", [(wavelet, steps)]),
    ]
    base = sum(n * n * k for n, k in paths[0][1])
    lines = [
        f"4K ({FOUR_K[1]} x {FOUR_K[0]}, padded to 3840 x 2176) x {FRAMES} frames = 33 latent frames; {steps} steps "
        f"(refinement: {refine_steps}); attention of LTX-Video 2B (32 x 64 heads, 28 layers), one pass per step.",
        "",
        "| path | tokens per step | attention TFLOPs per step | attention FLOPs, whole run | x fewer than 32x |",
        "|---|---|---|---|---|",
    ]
    for name, passes in paths:
        per_step = " / ".join(f"{n:,}" for n, _ in passes)
        step_flops = " / ".join(f"{attention_flops(n) / 1e12:,.0f}" for n, _ in passes)
        whole = sum(attention_flops(n) * k for n, k in passes)
        ratio = base / sum(n * n * k for n, k in passes)
        lines.append(f"| {name} | {per_step} | {step_flops} | {whole:.3g} | {ratio:.1f} |")
    lines += ["", "Planned peak memory (`estimate_memory`, bf16, CFG, SDPA):", "",
              "| step | transformer step (GiB) | VAE decode (GiB) |", "|---|---|---|"]
    cases = [
        ("4K step, 32x tokens", (*FOUR_K, FRAMES), dict(vae_tiling=False)),
        ("1920x1088 first pass", (FOUR_K[0] // 2, FOUR_K[1] // 2, FRAMES), dict(vae_tiling=False)),
        ("4K decode, untiled", (*FOUR_K, FRAMES), dict(vae_tiling=False)),
        ("4K decode, diffusers' tiling", (*FOUR_K, FRAMES), dict(vae_tiling=True)),
        ("4K decode, tiled_decode (output on the GPU)", (*FOUR_K, FRAMES), dict(vae_tiling=TilingConfig())),
        ("4K decode, tiled_decode (output_device='cpu')", (*FOUR_K, FRAMES),
         dict(vae_tiling=TilingConfig(output_device="cpu"))),
    ]
    for name, size, options in cases:
        plan = estimate_memory(LTX_VIDEO_2B, *size, dtype=torch.bfloat16, **options)
        step = f"{plan.transformer_step / 2**30:.1f}" if "step" in name or "pass" in name else ""
        decode = f"{plan.vae_decode / 2**30:.1f}" if "decode" in name else ""
        lines.append(f"| {name} | {step} | {decode} |")
    return "\n".join(lines)


def run_case(case: str, height: int, width: int, frames: int) -> dict:
    """One decode in this process: peak live tensor bytes, peak RSS, seconds."""
    import torch
    from diffusers import AutoencoderKLLTXVideo
    from validate_memory_plan import VAE_DECODER

    from ltx_video.models.autoencoders.tiling import TilingConfig, tiled_decode
    from ltx_video.utils.memory import LiveTensorBytes, estimate_memory

    torch.manual_seed(0)
    config = TilingConfig()
    temb = torch.tensor([0.05])
    if case == "hierarchical":
        from ltx_video import HierarchicalVAE

        vae = HierarchicalVAE(**HIERARCHICAL_REAL_SIZE).eval()
        vae.encoder = None  # only decoding is measured (built and dropped: its 2 GiB stay in this process's peak RSS)
        latents = torch.randn(1, 128, (frames - 1) // 8 + 1, height // 64, width // 64)
        decode = lambda: tiled_decode(  # noqa: E731
            lambda z: vae.decode(z, return_dict=False)[0], latents, config, spatial_ratio=64, temporal_ratio=8
        )
        planned = float("nan")  # estimate_memory plans LTX-Video's decoder only
    else:
        vae = AutoencoderKLLTXVideo(**VAE_DECODER).eval()
        latents = torch.randn(1, 128, (frames - 1) // 8 + 1, height // 32, width // 32)
        tiling = {"untiled": False, "diffusers": True, "tiled": config}[case]
        planned = estimate_memory({}, height, width, frames, dtype=torch.float32, vae_tiling=tiling).vae_decode
        if case == "tiled":
            decode = lambda: tiled_decode(  # noqa: E731
                lambda z: vae.decode(z, temb, return_dict=False)[0], latents, config, spatial_ratio=32, temporal_ratio=8
            )
        else:
            if case == "diffusers":
                vae.enable_tiling()
            decode = lambda: vae.decode(latents, temb=temb).sample  # noqa: E731
    weights = sum(p.numel() * p.element_size() for p in vae.parameters())
    start = time.perf_counter()
    with LiveTensorBytes(existing=[*vae.parameters(), *vae.buffers(), latents, temb]) as tracker, torch.no_grad():
        video = decode()
    seconds = time.perf_counter() - start
    assert video.shape == (1, 3, frames, height, width), video.shape
    return {"case": case, "height": height, "width": width, "frames": frames, "peak_tensors": tracker.peak,
            "planned": planned, "weights": weights, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "seconds": seconds, "checksum": float(video.double().square().mean())}


def fresh(case: str, height: int, width: int, frames: int) -> dict:
    command = [sys.executable, __file__, "--case", case, "--size", f"{height}x{width}x{frames}"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def decode_table(small: bool, only_4k: bool = False) -> str:
    hd = (256, 384, 9) if small else (1088, 1920, 9)
    uhd = (512, 768, 9) if small else (2176, 3840, 9)
    rows = [] if only_4k else [fresh(case, *hd) for case in ("untiled", "diffusers", "tiled")]
    rows += [fresh("tiled", *uhd), fresh("hierarchical", *uhd)]
    untiled = rows[0]["peak_tensors"]
    lines = [
        "| decode | size | peak tensors (GiB) | x untiled | planned (GiB) | peak RSS (GiB) | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    names = {"untiled": "whole video", "diffusers": "diffusers' `vae.enable_tiling()`", "tiled": "`tiled_decode`, `TilingConfig()`",
             "hierarchical": "`tiled_decode`, `TilingConfig()`, HierarchicalVAE decoder (64x, same size; its RSS "
                             "includes the 2 GiB encoder built and dropped)"}
    for row in rows:
        size = f"{row['width']} x {row['height']} x {row['frames']}"
        ratio = f"{row['peak_tensors'] / untiled:.2f}" if row["height"] == hd[0] and not only_4k else ""
        lines.append(
            f"| {names[row['case']]} | {size} | {row['peak_tensors'] / 2**30:.2f} | {ratio} | "
            f"{row['planned'] / 2**30:.2f} | {row['rss'] / 2**30:.2f} | {row['seconds']:.0f} |".replace("| nan |", "| - |")
        )
    ltx, hierarchical = rows[-2], rows[-1]
    lines.append(f"\ndecoder weights: {ltx['weights'] / 2**30:.2f} GiB (LTX-Video), {hierarchical['weights'] / 2**30:.2f} GiB "
                 "(HierarchicalVAE) in float32, in the RSS, not in the peaks")
    lines.append(f"{uhd[1]} x {uhd[0]} x {uhd[2]}, HierarchicalVAE / LTX-Video decoder: {hierarchical['peak_tensors'] / ltx['peak_tensors']:.2f}x "
                 f"peak tensors, {hierarchical['seconds'] / ltx['seconds']:.2f}x time")
    return "\n".join(lines)


def _timed_call(fn, device: str) -> tuple[float, int | None]:
    """Seconds and peak allocated bytes (CUDA; None elsewhere) of one call of ``fn``."""
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    with torch.no_grad():
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, torch.cuda.max_memory_allocated() if device == "cuda" else None


def _decode_parts(vae, height: int, width: int, budget_s: float) -> dict:
    """``tiled_decode`` (``TilingConfig()``) of random latents at ``height x width`` x 17 frames, then x 257
    unless that is projected past ``budget_s``; the first decode is repeated as a warm-up."""
    import torch

    from ltx_video.models.autoencoders.tiling import TilingConfig, tiled_decode
    from ltx_video.utils.memory import estimate_memory

    device, dtype = vae.device.type, vae.dtype
    temb, parts = torch.tensor([0.05], device=device, dtype=dtype), {}

    def decode(latents):
        return tiled_decode(lambda t: vae.decode(t, temb, return_dict=False)[0], latents, TilingConfig(),
                            spatial_ratio=32, temporal_ratio=8)

    for frames in (17, 257):
        latents = torch.randn(1, 128, (frames - 1) // 8 + 1, height // 32, width // 32, device=device, dtype=dtype)
        if frames == 17:
            _timed_call(lambda z=latents: decode(z), device)  # warm-up: cuDNN's algorithm search
        else:
            projected = parts["decode 17"]["seconds"] * 33 / 3
            if projected > budget_s:
                print(f"  decode x 257 skipped: ~{projected:.0f} s projected (budget {budget_s:.0f} s)", flush=True)
                break
        seconds, peak = _timed_call(lambda z=latents: decode(z), device)
        weights = sum(p.numel() * p.element_size() for p in vae.parameters())
        plan = estimate_memory({}, height, width, frames, dtype=dtype, vae_tiling=TilingConfig()).vae_decode + weights
        parts[f"decode {frames}"] = {"seconds": seconds, "peak": peak, "planned": plan}
        print(f"  tiled decode {width} x {height} x {frames}: {seconds:.2f} s, peak {(peak or 0) / 2**30:.1f} GiB",
              flush=True)
        del latents
    return parts


def gpu_parts(small: bool, decode_budget_s: float = 120.0) -> dict:
    """Time and peak memory of every part of the three 4K x 257 paths, one at a time, in this process.

    LTX-Video 2B (random N(0, 0.02) weights, bf16, one pass = batch 1) at the 1920 x 1088 grid (67,320 tokens,
    also the 64x VAE's 4K grid) and the 4K grid (269,280), with SDPA and ``ltx_block_sparse`` (default pattern,
    ``min_tokens=0``), and with FP8 weights at the first grid; diffusers' ``LTXLatentUpsamplerModel`` at the 0.9.7+
    spatial upscaler's config; the decodes of ``_decode_parts``. Peaks are ``torch.cuda.max_memory_allocated``
    during the call, weights included."""
    import diffusers
    import torch
    from benchmark_pipeline import TINY, TINY_VAE, random_model
    from diffusers import AutoencoderKLLTXVideo, LTXVideoTransformer3DModel
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel
    from validate_memory_plan import VAE_DECODER

    from ltx_video.attention import disable_efficient_attention, enable_efficient_attention
    from ltx_video.quantization import quantize_fp8
    from ltx_video.testing import transformer_inputs
    from ltx_video.utils.memory import LTX_VIDEO_2B, estimate_memory

    diffusers.utils.logging.set_verbosity_error()  # random_model casts with .to(dtype), which diffusers warns about
    device = "cpu" if small else "cuda"
    dtype = torch.float32 if small else torch.bfloat16
    config, decoder = (TINY, TINY_VAE) if small else (LTX_VIDEO_2B, VAE_DECODER)
    height, width = (256, 384) if small else (2176, 3840)
    grids = {"1920x1088": (33, height // 64, width // 64), "3840x2176": (33, height // 32, width // 32)}
    parts = {}
    parts.update(_decode_parts(random_model(AutoencoderKLLTXVideo, decoder, device, dtype), height, width,
                               float("inf") if small else decode_budget_s))
    if device == "cuda":
        torch.cuda.empty_cache()
    for variant in ("sdpa", "block-sparse", "fp8"):
        model = random_model(LTXVideoTransformer3DModel, config, device, dtype)
        if variant == "block-sparse":
            enable_efficient_attention(model, "ltx_block_sparse", min_tokens=0)
        if variant == "fp8":
            quantize_fp8(model)
        for name, grid in grids.items():
            if variant == "fp8" and name == "3840x2176":
                continue
            inputs = {k: v.to(device, dtype) if torch.is_tensor(v) and k != "timestep" else
                      (v.to(device) if torch.is_tensor(v) else v)
                      for k, v in transformer_inputs(model, grid, text_tokens=128).items()}
            # warm-up: kernels, flex's compilation per shape; dense SDPA at 4K reuses the 1080p grid's warm-up
            if variant != "sdpa" or name == "1920x1088":
                _timed_call(lambda m=model, i=inputs: m(**i), device)
            seconds, peak = _timed_call(lambda m=model, i=inputs: m(**i), device)
            plan = estimate_memory(config, grid[1] * 32, grid[2] * 32, 257, dtype=dtype, guidance_passes=1,
                                   fp8=variant == "fp8", max_sequence_length=128)  # the inputs' text tokens
            parts[f"{variant} {name}"] = {"seconds": seconds, "peak": peak, "tokens": grid[0] * grid[1] * grid[2],
                                          "planned": plan.transformer_step}
            print(f"  transformer pass, {variant}, {name} grid ({grid[0] * grid[1] * grid[2]:,} tokens): "
                  f"{seconds:.2f} s, peak {(peak or 0) / 2**30:.1f} GiB", flush=True)
        disable_efficient_attention(model)  # else diffusers' process-wide default could follow the last backend set
        del model, inputs
        if device == "cuda":
            torch.cuda.empty_cache()
    upsampler = random_model(LTXLatentUpsamplerModel, dict(in_channels=128, mid_channels=512 if not small else 32,
                                                           num_blocks_per_stage=4, dims=3, spatial_upsample=True,
                                                           temporal_upsample=False), device, dtype)
    latents = torch.randn(1, 128, *grids["1920x1088"], device=device, dtype=dtype)
    _timed_call(lambda u=upsampler, z=latents: u(z), device)  # warm-up
    seconds, peak = _timed_call(lambda u=upsampler, z=latents: u(z), device)
    parts["upsampler"] = {"seconds": seconds, "peak": peak}
    print(f"  latent upsampler x2: {seconds:.2f} s, peak {(peak or 0) / 2**30:.1f} GiB", flush=True)
    del upsampler, latents
    return parts


ATTENTION_SETTINGS = (  # (label, the parts' attention, dense_steps): how each path's steps are composed
    ("SDPA", "sdpa", 0.0),
    ("block-sparse, defaults (`dense_steps=0.2`)", "block-sparse", 0.2),
    ("block-sparse on every step (`dense_steps=0`)", "block-sparse", 0.0),
)


def gpu_table(parts: dict, steps: int = 30, refine_steps: int = 3, passes: int = 2, refine_passes: int = 1) -> str:
    """Each path's whole 4K x 257 run composed from its measured parts: ``passes`` model passes per step,
    ``refine_passes`` per refinement step (1: ``refine_guidance_scale=1.0``, the 4K mode's default, runs no CFG); under
    block-sparse attention the first ``dense_steps`` of each run (as ``EfficientAttentionConfig.dense_step_count``
    rounds them) take the SDPA pass's time. The passes themselves keep the default dense first block."""
    from ltx_video.attention.backends import EfficientAttentionConfig

    def t(key):
        return parts[key]["seconds"] if key in parts else float("nan")

    def run(attention: str, dense_steps: float, grid: str, count: int, passes: int = passes) -> float:
        dense = EfficientAttentionConfig(dense_steps=dense_steps).dense_step_count(count) if dense_steps else 0
        return passes * (dense * t(f"sdpa {grid}") + (count - dense) * t(f"{attention} {grid}"))

    decode = t("decode 257")
    lines = [f"Composed: {steps} steps x {passes} passes (CFG), refinement {refine_steps} steps x {refine_passes} "
             "pass(es), each pass timed once.", "",
             "| path | attention | transformer (s) | transformer speed-up vs 32x SDPA | upsample + decode (s) | total (s) |",
             "|---|---|---|---|---|---|"]
    base = run("sdpa", 0.0, "3840x2176", steps)
    for label, attention, dense_steps in ATTENTION_SETTINGS:
        rows = [
            ("LTX-Video VAE (32x), every step at 4K", run(attention, dense_steps, "3840x2176", steps), decode),
            ("latent upsampler: 1920x1088 pass, x2, refinement at 4K",
             run(attention, dense_steps, "1920x1088", steps) + run(attention, dense_steps, "3840x2176", refine_steps, refine_passes),
             t("upsampler") + decode),
            ("HierarchicalVAE (64x), every step at 4K", run(attention, dense_steps, "1920x1088", steps), None),
        ]
        for name, transformer, rest in rows:
            rest_text, total = ("not measured", "") if rest is None else (f"{rest:,.1f}", f"{transformer + rest:,.0f}")
            lines.append(f"| {name} | {label} | {transformer:,.0f} | {base / transformer:.1f}x | {rest_text} | "
                         f"{total} |")
    lines += ["", "| part | tokens | seconds | peak (GiB) | planned (GiB) |", "|---|---|---|---|---|"]
    for key, part in parts.items():
        peak = "" if part["peak"] is None else f"{part['peak'] / 2**30:.2f}"
        planned = f"{part['planned'] / 2**30:.2f}" if part.get("planned") else ""
        lines.append(f"| {key} | {part.get('tokens', '')} | {part['seconds']:.3f} | {peak} | {planned} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--section", choices=("tokens", "decode", "gpu"), action="append")
    parser.add_argument("--small", action="store_true", help="tiny sizes, on the CPU (a quick check of the script)")
    parser.add_argument("--json", type=Path, help="gpu: also write the measured parts here")
    parser.add_argument("--parts", type=Path, help="gpu: compose the tables from parts an earlier run wrote (--json)")
    parser.add_argument("--only-4k", action="store_true", help="decode: the two 4K x 9 tiled rows alone")
    parser.add_argument("--case", choices=("untiled", "diffusers", "tiled", "hierarchical"), help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        height, width, frames = (int(v) for v in args.size.split("x"))
        print(json.dumps(run_case(args.case, height, width, frames)))
        return 0
    import torch

    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()} {os.cpu_count()} cores, PyTorch {torch.__version__}\n")
    if args.parts is not None and not args.parts.is_file():
        parser.error(f"--parts {args.parts}: no such file (a --json file of an earlier --section gpu run)")
    if "gpu" in (args.section or []) and not (args.small or args.parts) and not torch.cuda.is_available():
        parser.error("--section gpu: no CUDA device here; add --small for the CPU check")
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name()}\n")
    for section in args.section or ["tokens", "decode"]:
        if section == "gpu":
            parts = json.loads(args.parts.read_text()) if args.parts else gpu_parts(args.small)
            if args.json:
                args.json.write_text(json.dumps(parts, indent=2))
            print(gpu_table(parts))
        else:
            print(token_table() if section == "tokens" else decode_table(args.small, args.only_4k))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
