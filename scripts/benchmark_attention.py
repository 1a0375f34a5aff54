"""Efficient attention against dense SDPA, in one run: kernels, end-to-end generation, memory savers.

    python scripts/benchmark_attention.py                      # everything (about 10 minutes on 2 CPU cores)
    python scripts/benchmark_attention.py --sections kernels --tokens 4096 16384 --repeats 5

Sections (``--sections``):

- ``kernels``: for each N (8 heads x 64, batch 1, float32): dense SDPA (PyTorch picks its fused
  kernel), ``block_sparse_attention`` with the default ``BlockSparsePattern`` and ``chunked_attention``
  (chunk 1024), the latter also with SDPA held to its math kernel (no fused kernel: what the chunking
  alone bounds). Time is the median of ``--repeats`` calls after a warm-up, all in this process; the
  ratio is dense time / method time. Errors are relative (Frobenius) on 256 sampled query rows: against
  dense attention, and against the exact attention of the method's own pattern. Peak memory is the
  growth of the resident set during one call (Linux's VmHWM, reset before the call), each measured in a fresh subprocess, and compared with
  the math backend (``SDPBackend.MATH``, the one that materialises the N x N scores); the math backend
  is skipped where its N x N x heads scores would not fit in this machine's memory. On CUDA, also
  flash-attn (when installed) and FlexAttention, timed with CUDA events, memory from the allocator.
- ``e2e``: the built-in model generating one clip per backend (same prompt and seed), PSNR of the
  frames against the dense SDPA clip, and generation-time ratio (medians of ``--repeats`` generations
  each, after one warm-up); then the same model with its
  attention converted to grouped-query (``convert_attention_heads``): K/V parameter savings,
  transformer output error and PSNR, also on the untrained tiny transformer.
- ``memory``: peak resident memory with and without each memory saver, each run in a fresh
  subprocess: feed-forward chunking (transformer forward), VAE tiling (decode), gradient checkpointing
  (forward + backward).

Prints Markdown tables; ``--json PATH`` also writes the raw figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HEADS, HEAD_DIM, ROWS_CHECKED = 8, 64, 256


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"{cpu}, {os.cpu_count()} cores"
    return f"{device}; torch {torch.__version__}; {datetime.date.today().isoformat()}"


def _qkv(tokens: int, device: str = "cpu", dtype=torch.float32, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(1, HEADS, tokens, HEAD_DIM, generator=g).to(device, dtype) for _ in range(3)]


def _methods(device: str):
    from ltx_video.attention import BlockSparsePattern, block_sparse_attention, chunked_attention

    pattern = BlockSparsePattern()
    methods = {
        "dense SDPA": lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
        "block-sparse": lambda q, k, v: block_sparse_attention(q, k, v, pattern, implementation="merge"),
        "chunked (1024)": lambda q, k, v: chunked_attention(q, k, v, 1024),
        "chunked (1024), math kernel": lambda q, k, v: _math_kernel(chunked_attention, q, k, v, 1024),
    }
    if device == "cuda":
        from ltx_video.attention import backends

        methods["block-sparse (flex)"] = lambda q, k, v: block_sparse_attention(q, k, v, pattern, implementation="flex")
        if backends.flash_attn_available():
            from flash_attn import flash_attn_func

            methods["flash-attn"] = lambda q, k, v: flash_attn_func(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
            ).transpose(1, 2)
    return methods, pattern


def _math_kernel(fn, *args):
    """``fn`` with SDPA restricted to its math kernel: the case of no fused kernel (materialised scores)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH):
        return fn(*args)


def _median_time(fn, inputs, repeats: int, device: str) -> float:
    fn(*inputs)  # warm-up (and compilation for flex)
    times = []
    for _ in range(repeats):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn(*inputs)
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1000)
        else:
            t0 = time.perf_counter()
            fn(*inputs)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _relative_rows_error(out, q, k, v, mask_rows) -> float:
    """Relative error of ``out`` on sampled query rows against exact attention with ``mask_rows`` (None: dense)."""
    rows = torch.linspace(0, q.shape[2] - 1, ROWS_CHECKED).long().to(q.device)
    reference = F.scaled_dot_product_attention(
        q[:, :, rows].double(), k.double(), v.double(), attn_mask=None if mask_rows is None else mask_rows(rows)
    )
    return ((out[:, :, rows].double() - reference).norm() / reference.norm()).item()


def _pattern_rows(pattern, tokens: int):
    block = torch.arange(tokens) // pattern.block_size

    def rows(index):
        return pattern._block_mask(block[index.cpu()][:, None], block[None, :]).to(index.device)

    return rows


# ----------------------------------------------------------------------------- peak memory (subprocesses)
def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _peak_growth(fn) -> int:
    """Peak resident-set growth (bytes) while ``fn`` runs: Linux's high-water mark, reset just before."""
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident set
    before = _status_bytes("VmRSS")
    fn()
    return _status_bytes("VmHWM") - before


def _peak_child(method: str, tokens: int) -> None:
    """Runs in a fresh process: print the resident-set growth (bytes) of one call of ``method``."""
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    q, k, v = _qkv(tokens)
    methods, _ = _methods("cpu")

    def call():
        if method == "math":
            _math_kernel(F.scaled_dot_product_attention, q, k, v)
        else:
            methods[method](q, k, v)

    print(json.dumps({"peak_bytes": _peak_growth(call)}))


def _run_child(args: list[str]) -> dict:
    cmd = [sys.executable, __file__, *args]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _memory_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def kernels(tokens_list: list[int], repeats: int) -> list[dict]:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = []
    for tokens in tokens_list:
        q, k, v = _qkv(tokens, device, torch.bfloat16 if device == "cuda" else torch.float32)
        methods, pattern = _methods(device)
        dense_time = None
        for name, fn in methods.items():
            seconds = _median_time(fn, (q, k, v), repeats, device)
            dense_time = seconds if name == "dense SDPA" else dense_time
            out = fn(q, k, v)
            sparse = name.startswith("block-sparse")
            row = {
                "device": device,
                "tokens": tokens,
                "method": name,
                "seconds": seconds,
                "speedup": dense_time / seconds,
                "density": pattern.density(tokens) if sparse else 1.0,
                "error_vs_dense": _relative_rows_error(out, q, k, v, None),
                "error_vs_own_pattern": _relative_rows_error(
                    out, q, k, v, _pattern_rows(pattern, tokens) if sparse else None
                ),
            }
            if device == "cuda":
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
                fn(q, k, v)
                row["peak_bytes"] = torch.cuda.max_memory_allocated() - base
            rows.append(row)
            print(f"  N={tokens:>6} {name:<20} {seconds:8.3f} s  x{row['speedup']:.2f}", flush=True)
    if device == "cpu":
        for tokens in tokens_list:
            math_bytes = 2 * HEADS * tokens * tokens * 4  # scores and their softmax, float32
            math_peak = None
            if math_bytes * 1.15 < _memory_available():
                try:
                    math_peak = _run_child(["--peak", "math", str(tokens)])["peak_bytes"]
                except RuntimeError as error:  # killed for memory after all: report it as not run
                    print(f"  math backend at N={tokens} failed: {str(error)[-200:]}", flush=True)
            for row in rows:
                if row["tokens"] == tokens:
                    row["peak_bytes"] = _run_child(["--peak", row["method"], str(tokens)])["peak_bytes"]
                    row["math_peak_bytes"] = math_peak
                    row["math_bytes_estimate"] = math_bytes
    return rows


def kernels_markdown(rows: list[dict]) -> str:
    lines = [
        "| N | method | time (s) | speed-up vs dense | density | rel. error vs dense | rel. error vs own pattern "
        "| peak memory | vs math backend |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        math_peak = r.get("math_peak_bytes")
        ratio = (
            f"{r['peak_bytes'] / math_peak:.3f}"
            if math_peak
            else (
                f"math needs ~{r['math_bytes_estimate'] / 2**30:.0f} GiB: not run" if "math_bytes_estimate" in r else ""
            )
        )
        lines.append(
            f"| {r['tokens']} | {r['method']} | {r['seconds']:.3f} | {r['speedup']:.2f}x | {r['density']:.3f} "
            f"| {r['error_vs_dense']:.2e} | {r['error_vs_own_pattern']:.2e} | {r['peak_bytes'] / 2**20:.0f} MiB | {ratio} |"
        )
    math_rows = {r["tokens"]: r["math_peak_bytes"] for r in rows if r.get("math_peak_bytes")}
    if math_rows:
        lines.append("")
        lines.append("Math backend peak: " + ", ".join(f"N={n}: {b / 2**30:.2f} GiB" for n, b in math_rows.items()))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- end to end
def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = ((a.float() - b.float()) ** 2).mean().item()
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)


def end_to_end(size: int, num_frames: int, repeats: int = 1) -> tuple[list[dict], list[dict]]:
    import copy

    from ltx_video.attention import convert_attention_heads, disable_efficient_attention
    from ltx_video.default_model import DEFAULT_GENERATION, load_default_pipeline
    from ltx_video.testing import tiny_transformer, transformer_inputs

    pipe = load_default_pipeline()
    args = dict(
        prompt="a red ball bounces",
        height=size,
        width=size,
        num_frames=num_frames,
        num_inference_steps=DEFAULT_GENERATION["num_inference_steps"],
        guidance_scale=DEFAULT_GENERATION["guidance_scale"],
        stg_scale=0.0,  # CFG only, as these rows were measured (a call leaves the rest to the model's defaults)
        audio_modality_scale=1.0,
        negative_prompt="",
        output_type="pt",
    )

    def generate():
        t0 = time.perf_counter()
        frames = pipe(**args, generator=torch.Generator().manual_seed(0)).frames
        return frames, time.perf_counter() - t0

    def timed():
        """The frames and the median time of ``repeats`` generations: one timing on a shared machine is noise."""
        runs = [generate() for _ in range(repeats)]
        return runs[0][0], statistics.median(seconds for _, seconds in runs)

    generate()  # warm-up
    dense, dense_time = timed()
    tokens = ((num_frames - 1) // pipe.vae_temporal_compression_ratio + 1) * (
        size // pipe.vae_spatial_compression_ratio
    ) ** 2
    backend_rows = [{"backend": "sdpa (reference)", "tokens": tokens, "psnr": float("inf"), "time_ratio": 1.0,
                     "repeats": repeats}]
    variants = [
        ("ltx_chunked", "ltx_chunked", {}),
        ("ltx_block_sparse, 4x4x4 tiles (default)", "ltx_block_sparse", {"tile_shape": (4, 4, 4)}),
        (
            "ltx_block_sparse, 1x8x8 tiles (a latent frame per block at 128 px)",
            "ltx_block_sparse",
            {"tile_shape": (1, 8, 8)},
        ),
        # 1x1x1 tiles keep LTX's frame-major, row-major order. (Until 2026-12-07 this row was a plain
        # set_attention_backend, whose default min_tokens ran every call under 1,024 tokens dense: at 128 px it
        # measured SDPA, not the pattern.)
        ("ltx_block_sparse, sequence order (1x1x1 tiles)", "ltx_block_sparse", {"tile_shape": (1, 1, 1)}),
    ]
    for label, backend, options in variants:
        if backend == "ltx_block_sparse":  # the pattern everywhere (benchmark_sparse_settings.py: the fallbacks)
            pipe.enable_efficient_attention(backend, min_tokens=0, dense_steps=0, dense_blocks=(), **options)
        else:
            pipe.enable_efficient_attention(backend, **options)
        frames, seconds = timed()
        backend_rows.append(
            {"backend": label, "tokens": tokens, "psnr": _psnr(frames, dense), "time_ratio": dense_time / seconds,
             "repeats": repeats}
        )
        print(f"  {label}: PSNR {backend_rows[-1]['psnr']:.2f} dB", flush=True)
    disable_efficient_attention(pipe.transformer)

    gqa_rows = []
    for label, model in (("tiny (untrained)", tiny_transformer(seed=0)), ("built-in (trained)", pipe.transformer)):
        heads = model.transformer_blocks[0].attn1.heads
        kwargs = transformer_inputs(model, (4, 4, 4))
        with torch.no_grad():
            reference = model(**kwargs)[0]
        kv_heads = heads
        while kv_heads > 1:
            kv_heads //= 2
            converted = copy.deepcopy(model)
            report = convert_attention_heads(converted, kv_heads)
            with torch.no_grad():
                out = converted(**kwargs)[0]
            row = {
                "model": label,
                "heads": heads,
                "kv_heads": kv_heads,
                "kv_savings": report.kv_parameter_savings,
                "output_error": ((out - reference).norm() / reference.norm()).item(),
                "psnr": None,
            }
            if model is pipe.transformer:
                original, pipe.transformer = pipe.transformer, converted
                row["psnr"] = _psnr(generate()[0], dense)
                pipe.transformer = original
            gqa_rows.append(row)
    return backend_rows, gqa_rows


def end_to_end_markdown(backend_rows, gqa_rows) -> str:
    repeats = backend_rows[0]["repeats"]
    lines = [f"| backend | video tokens | PSNR vs SDPA (dB) | generation speed-up (median of {repeats}) |",
             "|---|---|---|---|"]
    lines += [f"| {r['backend']} | {r['tokens']} | {r['psnr']:.2f} | {r['time_ratio']:.2f}x |" for r in backend_rows]
    lines += [
        "",
        "| model | heads -> K/V heads | K/V parameter savings | transformer output rel. error | video PSNR (dB) |",
        "|---|---|---|---|---|",
    ]
    for r in gqa_rows:
        psnr = "" if r["psnr"] is None else f"{r['psnr']:.2f}"
        lines.append(
            f"| {r['model']} | {r['heads']} -> {r['kv_heads']} | {r['kv_savings']:.0%} | {r['output_error']:.3f} | {psnr} |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- memory savers
MID_CONFIG = dict(
    in_channels=128,
    out_channels=128,
    num_attention_heads=16,
    attention_head_dim=64,
    cross_attention_dim=1024,
    num_layers=2,
    caption_channels=256,
)


def _saver_child(saver: str, enabled: bool, tokens: int) -> None:
    from diffusers import LTXVideoTransformer3DModel

    from ltx_video.models.memory import enable_feed_forward_chunking

    torch.manual_seed(0)
    if saver == "vae_tiling":
        from diffusers import AutoencoderKLLTXVideo

        vae = AutoencoderKLLTXVideo().eval()  # LTX-Video's VAE architecture (128-512 channels), random weights
        if enabled:
            vae.enable_tiling(
                tile_sample_min_height=128,
                tile_sample_min_width=128,
                tile_sample_stride_height=96,
                tile_sample_stride_width=96,
            )
        side = int(math.isqrt(tokens // 4))  # 4 latent frames (25 frames) x side x side latents (32 px each)
        latents = torch.randn(1, vae.config.latent_channels, 4, side, side)

        def call():
            with torch.no_grad():
                vae.decode(latents, return_dict=False)
    else:
        layers = 8 if saver == "grad_checkpointing" else 2  # activations to save grow with depth
        model = LTXVideoTransformer3DModel(**{**MID_CONFIG, "num_layers": layers})
        side = int(math.isqrt(tokens // 16))
        kwargs = dict(
            hidden_states=torch.randn(1, 16 * side * side, 128),
            encoder_hidden_states=torch.randn(1, 64, 256),
            timestep=torch.tensor([500.0]),
            encoder_attention_mask=torch.ones(1, 64),
            num_frames=16,
            height=side,
            width=side,
            return_dict=False,
        )
        if saver == "ff_chunking" and enabled:
            enable_feed_forward_chunking(model, 1024)
        if saver == "grad_checkpointing":
            model.train()
            if enabled:
                model.enable_gradient_checkpointing()

        def call():
            if saver == "grad_checkpointing":
                model(**kwargs)[0].square().mean().backward()
            else:
                with torch.no_grad():
                    model(**kwargs)

    print(json.dumps({"peak_bytes": _peak_growth(call)}))


SAVERS = {
    "ff_chunking": ("feed-forward chunking (1024 tokens), inference", 16384),
    "vae_tiling": ("VAE tiling (128 px tiles), LTX-Video VAE decoding 25 frames at 256 px", 256),
    "grad_checkpointing": ("gradient checkpointing (8 blocks), forward + backward", 4096),
}


def memory_savers() -> list[dict]:
    rows = []
    for saver, (label, tokens) in SAVERS.items():
        off = _run_child(["--saver", saver, "off", str(tokens)])["peak_bytes"]
        on = _run_child(["--saver", saver, "on", str(tokens)])["peak_bytes"]
        rows.append({"saver": label, "tokens": tokens, "off": off, "on": on, "saving": 1 - on / off})
        print(f"  {label}: {off / 2**20:.0f} -> {on / 2**20:.0f} MiB", flush=True)
    return rows


def memory_markdown(rows) -> str:
    lines = ["| saver | tokens | peak without | peak with | saving |", "|---|---|---|---|---|"]
    lines += [
        f"| {r['saver']} | {r['tokens']} | {r['off'] / 2**20:.0f} MiB | {r['on'] / 2**20:.0f} MiB | {r['saving']:.0%} |"
        for r in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sections", nargs="+", choices=["kernels", "e2e", "memory"], default=["kernels", "e2e", "memory"]
    )
    parser.add_argument("--tokens", nargs="+", type=int, default=[4096, 16384, 32768])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--e2e-size", type=int, default=128, help="generation height = width in pixels")
    parser.add_argument("--e2e-frames", type=int, default=49)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--peak", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--saver", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peak:
        _peak_child(args.peak[0], int(args.peak[1]))
        return 0
    if args.saver:
        _saver_child(args.saver[0], args.saver[1] == "on", int(args.saver[2]))
        return 0
    if any(n < 1 for n in args.tokens) or args.repeats < 1:
        parser.error("--tokens and --repeats must be >= 1")

    results, report = {"machine": _machine()}, [f"Machine: {_machine()}"]
    if "kernels" in args.sections:
        print("kernels ...", flush=True)
        results["kernels"] = kernels(args.tokens, args.repeats)
        report += ["", kernels_markdown(results["kernels"])]
    if "e2e" in args.sections:
        print("end to end ...", flush=True)
        results["e2e"], results["gqa"] = end_to_end(args.e2e_size, args.e2e_frames, args.repeats)
        report += ["", end_to_end_markdown(results["e2e"], results["gqa"])]
    if "memory" in args.sections:
        print("memory savers ...", flush=True)
        results["memory"] = memory_savers()
        report += ["", memory_markdown(results["memory"])]
    print("\n".join(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
