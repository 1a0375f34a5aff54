"""Where block-sparse attention pays, and what its dense fallbacks cost and buy, in one run.

    python scripts/benchmark_sparse_settings.py                         # both sections
    python scripts/benchmark_sparse_settings.py --sections crossover --tokens 512 1024 2048 4096

Sections (``--sections``):

- ``crossover``: dense SDPA against ``block_sparse_attention`` (default pattern; the merge kernel on CPU,
  flex on CUDA) for each N, 8 heads x 64, batch 1 (float32 on CPU, bfloat16 on CUDA); median of
  ``--repeats`` calls after a warm-up; ratio = dense time / sparse time. The smallest N where the ratio
  stays above 1 is the device's ``DEFAULT_MIN_TOKENS`` candidate.
- ``quality``: the built-in model generating one clip (prompt "a red ball bounces", seed 0, its
  default steps and CFG) at ``--size`` px with dense SDPA, then under ``ltx_block_sparse`` (4x4x4 tiles,
  ``min_tokens=0`` so the pattern applies) with each ``dense_steps`` / ``dense_blocks`` setting: PSNR of
  the frames against the dense clip, and dense generation time / setting's generation time.

Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(__file__))
from benchmark_attention import _machine, _median_time, _psnr, _qkv  # noqa: E402

SETTINGS = [  # (label, dense_steps, dense_blocks); fractions of the run's steps
    ("sparse everywhere", 0, ()),
    ("dense_blocks=(0,)", 0, (0,)),
    ("dense_blocks=(0, 1)", 0, (0, 1)),
    ("dense_steps=0.1", 0.1, ()),
    ("dense_steps=0.2", 0.2, ()),
    ("dense_steps=0.1, dense_blocks=(0,)", 0.1, (0,)),
    ("dense_steps=0.2, dense_blocks=(0,) (the defaults)", 0.2, (0,)),
    ("dense_steps=0.33, dense_blocks=(0,)", 0.33, (0,)),
]


def crossover(tokens_list: list[int], repeats: int) -> list[dict]:
    from ltx_video.attention import BlockSparsePattern, block_sparse_attention

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    pattern, rows = BlockSparsePattern(), []
    for tokens in tokens_list:
        inputs = _qkv(tokens, device, dtype)
        dense = _median_time(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), inputs, repeats, device)
        sparse = _median_time(lambda q, k, v: block_sparse_attention(q, k, v, pattern), inputs, repeats, device)
        rows.append({"tokens": tokens, "dense_s": dense, "sparse_s": sparse, "ratio": dense / sparse})
        print(f"  N={tokens}: {dense / sparse:.2f}x", flush=True)
    return rows


def quality(size: int, num_frames: int) -> list[dict]:
    from ltx_video.default_model import DEFAULT_GENERATION, load_default_pipeline

    pipe = load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    args = dict(prompt="a red ball bounces", height=size, width=size, num_frames=num_frames, output_type="pt",
                num_inference_steps=DEFAULT_GENERATION["num_inference_steps"],
                guidance_scale=DEFAULT_GENERATION["guidance_scale"],
                stg_scale=0.0, audio_modality_scale=1.0)  # CFG only, as these rows were measured

    def generate():
        start = time.perf_counter()
        frames = pipe(**args, generator=torch.Generator().manual_seed(0)).frames
        return frames, time.perf_counter() - start

    generate()  # warm-up
    reference, reference_time = generate()
    rows = [{"setting": "dense SDPA (reference)", "psnr": float("inf"), "speedup": 1.0}]
    for label, dense_steps, dense_blocks in SETTINGS:
        pipe.enable_efficient_attention("ltx_block_sparse", tile_shape=(4, 4, 4), min_tokens=0,
                                        dense_steps=dense_steps, dense_blocks=dense_blocks)
        frames, seconds = generate()
        rows.append({"setting": label, "psnr": _psnr(frames, reference), "speedup": reference_time / seconds})
        print(f"  {label}: {rows[-1]['psnr']:.2f} dB, {rows[-1]['speedup']:.2f}x", flush=True)
    pipe.disable_efficient_attention()
    t_ratio, s_ratio = pipe.vae_temporal_compression_ratio, pipe.vae_spatial_compression_ratio
    tokens = ((num_frames - 1) // t_ratio + 1) * (size // s_ratio) ** 2
    for row in rows:
        row["tokens"], row["steps"] = tokens, args["num_inference_steps"]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="+", choices=["crossover", "quality"], default=["crossover", "quality"])
    parser.add_argument("--tokens", nargs="+", type=int, default=[256, 512, 1024, 1536, 2048, 3072, 4096, 8192])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--size", type=int, default=256, help="generation height = width in pixels (quality)")
    parser.add_argument("--frames", type=int, default=49)
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.tokens) or args.repeats < 1:
        parser.error("--tokens and --repeats must be >= 1")
    report = [f"Machine: {_machine()}"]
    if "crossover" in args.sections:
        rows = crossover(args.tokens, args.repeats)
        report += ["", "| N | dense SDPA (s) | block-sparse (s) | dense / block-sparse |", "|---|---|---|---|"]
        report += [f"| {r['tokens']} | {r['dense_s']:.4f} | {r['sparse_s']:.4f} | {r['ratio']:.2f}x |" for r in rows]
    if "quality" in args.sections:
        rows = quality(args.size, args.frames)
        report += ["", f"{args.size} px, {args.frames} frames ({rows[0]['tokens']} tokens), {rows[0]['steps']} steps",
                   "", "| setting | PSNR vs dense | speed-up |", "|---|---|---|"]
        report += [f"| {r['setting']} | {r['psnr']:.2f} dB | {r['speedup']:.2f}x |" for r in rows]
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
