"""4K: the token arithmetic of each path, and the memory of tiled decoding, measured.

    python scripts/benchmark_4k.py --section tokens   # exact tokens, attention FLOPs and planned memory (instant)
    python scripts/benchmark_4k.py --section decode   # 1080p x 9 untiled / diffusers' tiling / tiled_decode, and
                                                      # 4K x 9 tiled, with LTX-Video 0.9.5+'s real-size decoder
                                                      # (random weights); ~30 min on 2 CPU cores
    python scripts/benchmark_4k.py --section decode --small   # the same at 256 x 384 (a check of the script)

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
    vae = AutoencoderKLLTXVideo(**VAE_DECODER).eval()
    weights = sum(p.numel() * p.element_size() for p in vae.parameters())
    latents = torch.randn(1, 128, (frames - 1) // 8 + 1, height // 32, width // 32)
    temb = torch.tensor([0.05])
    config = TilingConfig()
    if case == "diffusers":
        vae.enable_tiling()
        decode = lambda: vae.decode(latents, temb=temb).sample  # noqa: E731
        planned = estimate_memory({}, height, width, frames, dtype=torch.float32, vae_tiling=True).vae_decode
    elif case == "tiled":
        decode = lambda: tiled_decode(  # noqa: E731
            lambda z: vae.decode(z, temb, return_dict=False)[0], latents, config, spatial_ratio=32, temporal_ratio=8
        )
        planned = estimate_memory({}, height, width, frames, dtype=torch.float32, vae_tiling=config).vae_decode
    else:
        decode = lambda: vae.decode(latents, temb=temb).sample  # noqa: E731
        planned = estimate_memory({}, height, width, frames, dtype=torch.float32, vae_tiling=False).vae_decode
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


def decode_table(small: bool) -> str:
    hd = (256, 384, 9) if small else (1088, 1920, 9)
    uhd = (512, 768, 9) if small else (2176, 3840, 9)
    rows = [fresh(case, *hd) for case in ("untiled", "diffusers", "tiled")] + [fresh("tiled", *uhd)]
    untiled = rows[0]["peak_tensors"]
    lines = [
        "| decode | size | peak tensors (GiB) | x untiled | planned (GiB) | peak RSS (GiB) | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    names = {"untiled": "whole video", "diffusers": "diffusers' `vae.enable_tiling()`", "tiled": "`tiled_decode`, `TilingConfig()`"}
    for row in rows:
        size = f"{row['width']} x {row['height']} x {row['frames']}"
        ratio = f"{row['peak_tensors'] / untiled:.2f}" if row["height"] == hd[0] else ""
        lines.append(
            f"| {names[row['case']]} | {size} | {row['peak_tensors'] / 2**30:.2f} | {ratio} | "
            f"{row['planned'] / 2**30:.2f} | {row['rss'] / 2**30:.2f} | {row['seconds']:.0f} |"
        )
    lines.append(f"\ndecoder weights: {rows[0]['weights'] / 2**30:.2f} GiB (float32), in the RSS, not in the peaks")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--section", choices=("tokens", "decode"), action="append")
    parser.add_argument("--small", action="store_true", help="decode at 256 x 384 and 512 x 768 (a quick check)")
    parser.add_argument("--case", choices=("untiled", "diffusers", "tiled"), help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        height, width, frames = (int(v) for v in args.size.split("x"))
        print(json.dumps(run_case(args.case, height, width, frames)))
        return 0
    import torch

    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()} {os.cpu_count()} cores, PyTorch {torch.__version__}\n")
    for section in args.section or ["tokens", "decode"]:
        print(token_table() if section == "tokens" else decode_table(args.small))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
