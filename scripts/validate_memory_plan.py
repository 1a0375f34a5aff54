"""``estimate_memory`` against peaks measured on this machine, at scaled-down configs.

    python scripts/validate_memory_plan.py            # transformer steps and VAE decodes (about 2 minutes on CPU)
    python scripts/validate_memory_plan.py --no-vae   # transformer steps only
    python scripts/validate_memory_plan.py --vae-only # VAE decodes only

Each transformer case builds a random-weight ``LTXVideoTransformer3DModel`` and runs one forward with the
batch a denoising step uses (videos x guidance passes) counting live tensor storages
(``ltx_video.utils.memory.LiveTensorBytes``, parameters included, as ``torch.cuda.max_memory_allocated`` counts them); on CUDA
the allocator's peak is read instead. Each VAE
case decodes random latents with the LTX-Video 0.9.5+ decoder (random weights), untiled, with diffusers'
spatial tiling at a small tile, and with this library's ``tiled_decode`` (the ``TilingConfig`` that
``ltx-video plan --vae-tiling`` and ``pipe.enable_vae_tiling`` use, output on the decoding device). Prints
predicted, measured and the relative error of each.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# (heads, head_dim, layers, (latent frames, rows, columns), videos, passes, text tokens, dtype, attention)
TRANSFORMER_CASES = [
    (4, 32, 2, (8, 16, 16), 1, 2, 128, torch.float32, "sdpa"),
    (8, 64, 2, (8, 16, 16), 1, 2, 128, torch.float32, "sdpa"),
    (8, 64, 2, (4, 16, 24), 1, 3, 256, torch.float32, "sdpa"),
    (8, 64, 2, (8, 16, 16), 1, 2, 128, torch.bfloat16, "sdpa"),
    (4, 128, 2, (4, 16, 16), 2, 2, 128, torch.bfloat16, "sdpa"),
    (6, 64, 3, (5, 12, 20), 1, 1, 64, torch.float32, "sdpa"),
    (12, 32, 1, (16, 8, 8), 2, 2, 128, torch.bfloat16, "sdpa"),
    (8, 64, 2, (4, 8, 16), 1, 2, 128, torch.float32, "math"),
    (4, 64, 2, (2, 16, 16), 1, 1, 128, torch.bfloat16, "math"),
    (8, 64, 2, (8, 16, 16), 1, 2, 128, torch.float32, "ltx_chunked"),
    (8, 64, 2, (8, 16, 16), 1, 2, 128, torch.float32, "ltx_block_sparse"),
    (4, 64, 2, (8, 16, 32), 1, 1, 128, torch.float32, "ltx_block_sparse"),
    (4, 64, 2, (8, 16, 32), 1, 1, 128, torch.bfloat16, "ltx_block_sparse"),  # 16-bit: the merge runs in float32
    (8, 64, 2, (8, 16, 16), 1, 2, 128, torch.bfloat16, "ltx_block_sparse"),
]
VAE_DECODER = dict(
    decoder_block_out_channels=(256, 512, 1024), decoder_layers_per_block=(5, 5, 5, 5),
    decoder_spatio_temporal_scaling=(True, True, True), decoder_inject_noise=(True, True, True, False),
    upsample_residual=(True, True, True), upsample_factor=(2, 2, 2), timestep_conditioning=True,
    block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),  # a small encoder: only decoding is measured
)
# (latent frames, rows, columns, tile in pixels or None)
VAE_CASES = [(2, 2, 2, None), (3, 3, 4, None), (3, 4, 4, 64), (2, 6, 4, 96), (3, 6, 8, 128)]
# (latent frames, rows, columns, TilingConfig's tile_size, tile_overlap, tile_frames, frame_overlap): tiled_decode
TILED_DECODE_CASES = [(3, 4, 4, 64, 32, 8, 0), (4, 4, 6, 96, 32, 16, 8)]


def measure(fn, module: torch.nn.Module, device: str, inputs=()) -> int:
    """Peak bytes of ``fn()``: live tensors including ``module``'s parameters (``inputs`` are not counted)."""
    weights = sum(p.numel() * p.element_size() for p in module.parameters())
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated() - weights
        with torch.no_grad():
            fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    from ltx_video.utils.memory import LiveTensorBytes

    existing = [*module.parameters(), *module.buffers(), *inputs]
    with LiveTensorBytes(existing) as tracker, torch.no_grad():
        fn()
    return weights + tracker.peak


def transformer_case(heads, head_dim, layers, grid, videos, passes, text, dtype, attention, device) -> dict:
    from diffusers import LTXVideoTransformer3DModel

    from ltx_video.attention import enable_efficient_attention
    from ltx_video.testing import transformer_inputs
    from ltx_video.utils.memory import estimate_memory

    width = heads * head_dim
    config = dict(in_channels=32, out_channels=32, num_attention_heads=heads, attention_head_dim=head_dim,
                  cross_attention_dim=width, num_layers=layers, caption_channels=width)
    model = LTXVideoTransformer3DModel(**config).to(device, dtype).eval()
    inputs = transformer_inputs(model, grid, text_tokens=text, batch=videos * passes)
    inputs = {k: v.to(device, dtype) if torch.is_tensor(v) and v.is_floating_point() and k != "timestep"
              else (v.to(device) if torch.is_tensor(v) else v) for k, v in inputs.items()}
    if attention == "ltx_block_sparse":
        enable_efficient_attention(model, attention, min_tokens=0)
    elif attention == "ltx_chunked":
        enable_efficient_attention(model, attention, chunk_size=1024)
    context = torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH) if attention == "math" else None
    with context or contextlib.nullcontext():
        measured = measure(lambda: model(**inputs), model, device, [v for v in inputs.values() if torch.is_tensor(v)])
    frames, rows, cols = grid
    plan = estimate_memory(config, rows * 32, cols * 32, (frames - 1) * 8 + 1, batch_size=videos, dtype=dtype,
                           attention=attention, guidance_passes=passes, max_sequence_length=text)
    label = (f"{heads} x {head_dim} heads, {frames * rows * cols} tokens, {videos} x {passes} rows, "
             f"{text} text, {str(dtype).removeprefix('torch.')}, {attention}")
    return {"case": f"transformer step: {label}", "predicted": plan.transformer_step, "measured": measured}


def vae_case(vae, frames, rows, cols, tile, device) -> dict:
    from ltx_video.utils.memory import estimate_memory

    if tile is None:
        vae.disable_tiling()
    else:
        vae.enable_tiling(tile_sample_min_height=tile, tile_sample_min_width=tile,
                          tile_sample_stride_height=tile * 3 // 4, tile_sample_stride_width=tile * 3 // 4)
    latents, temb = torch.randn(1, 128, frames, rows, cols, device=device), torch.tensor([0.05], device=device)
    measured = measure(lambda: vae.decode(latents, temb=temb), vae, device, [latents, temb])
    measured -= sum(p.numel() * p.element_size() for p in vae.parameters())
    pixel_frames = (frames - 1) * 8 + 1
    plan = estimate_memory({}, rows * 32, cols * 32, pixel_frames, dtype=torch.float32, vae_tiling=tile is not None,
                           vae_tile=tile or 512, vae_tile_stride=tile * 3 // 4 if tile else None)
    label = f"{cols * 32} x {rows * 32} x {pixel_frames}, " + ("untiled" if tile is None else f"{tile}-px tiles")
    return {"case": f"VAE decode: {label}", "predicted": plan.vae_decode, "measured": measured}


def tiled_decode_case(vae, frames, rows, cols, tile, overlap, tile_frames, frame_overlap, device) -> dict:
    from ltx_video.models.autoencoders.tiling import TilingConfig, tiled_decode
    from ltx_video.utils.memory import estimate_memory

    vae.disable_tiling()
    tiling = TilingConfig(tile_size=tile, tile_overlap=overlap, tile_frames=tile_frames, frame_overlap=frame_overlap)
    latents, temb = torch.randn(1, 128, frames, rows, cols, device=device), torch.tensor([0.05], device=device)
    measured = measure(lambda: tiled_decode(lambda z: vae.decode(z, temb=temb).sample, latents, tiling, spatial_ratio=32,
                                            temporal_ratio=8), vae, device, [latents, temb])
    measured -= sum(p.numel() * p.element_size() for p in vae.parameters())
    pixel_frames = (frames - 1) * 8 + 1
    plan = estimate_memory({}, rows * 32, cols * 32, pixel_frames, dtype=torch.float32, vae_tiling=tiling)
    label = f"{cols * 32} x {rows * 32} x {pixel_frames}, tiled_decode {tile}/{overlap} px, {tile_frames}/{frame_overlap} frames"
    return {"case": f"VAE decode: {label}", "predicted": plan.vae_decode, "measured": measured}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sections = parser.add_mutually_exclusive_group()
    sections.add_argument("--no-vae", action="store_true", help="skip the VAE cases (the decoder takes ~20 s to build)")
    sections.add_argument("--vae-only", action="store_true", help="only the VAE cases")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    if args.device == "cuda":  # the first call on a GPU also allocates cuBLAS's workspace: keep it out of the rows
        transformer_case(*TRANSFORMER_CASES[0], device=args.device)
    rows = [] if args.vae_only else [transformer_case(*case, device=args.device) for case in TRANSFORMER_CASES]
    if not args.no_vae:
        from diffusers import AutoencoderKLLTXVideo

        vae = AutoencoderKLLTXVideo(**VAE_DECODER).to(args.device).eval()
        rows += [vae_case(vae, *case, device=args.device) for case in VAE_CASES]
        rows += [tiled_decode_case(vae, *case, device=args.device) for case in TILED_DECODE_CASES]
    print("| case | predicted (MiB) | measured (MiB) | error |\n|---|---|---|---|")
    for row in rows:
        error = row["predicted"] / row["measured"] - 1
        print(f"| {row['case']} | {row['predicted'] / 2**20:.1f} | {row['measured'] / 2**20:.1f} | {error:+.1%} |")
    worst = max(abs(r["predicted"] / r["measured"] - 1) for r in rows)
    print(f"\nworst error: {worst:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
