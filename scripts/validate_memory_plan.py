"""``estimate_memory`` against peaks measured on this machine, at scaled-down configs.

    python scripts/validate_memory_plan.py            # transformer steps and VAE decodes (minutes on CPU: VAE cases most)
    python scripts/validate_memory_plan.py --no-vae   # transformer steps only
    python scripts/validate_memory_plan.py --vae-only # VAE decodes only
    python scripts/validate_memory_plan.py --conditioned  # conditioned pipeline calls (about a minute on CPU)

Each transformer case builds a random-weight ``LTXVideoTransformer3DModel`` and runs one forward with the
batch a denoising step uses (videos x guidance passes) counting live tensor storages
(``ltx_video.utils.memory.LiveTensorBytes``, parameters included, as ``torch.cuda.max_memory_allocated`` counts them); on CUDA
the allocator's peak is read instead. Each VAE
case decodes random latents with the LTX-Video 0.9.5+ decoder (random weights; float32, and bfloat16 where a case
says so), untiled, with diffusers' spatial tiling at a small tile, and with this library's ``tiled_decode`` (the ``TilingConfig`` that
``ltx-video plan --vae-tiling`` and ``pipe.enable_vae_tiling`` use, output on the decoding device). Prints
predicted, measured and the relative error of each.

``--conditioned`` plans ``estimate_memory(..., conditions=)`` against real ``LTXVideoPipeline`` calls (the tiny
text encoder and VAE of ``ltx_video.testing``, a 2-block transformer of 8 x 64 heads, float32, CFG, 128 text
tokens, 256 x 256 x 33): measured is the transformer's weights plus the peak of live tensors during its forward,
counted from the call's start (what the call holds then included). Then a bare forward of that transformer with a
scalar and a per-token timestep (float32 and bfloat16), and ``tiled_decode`` with one tile covering a 128 x 128 x 17
video beside the untiled decode (the 0.9.5+ decoder above).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
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
# (latent frames, rows, columns, tile in pixels or None[, dtype]); 16-bit rows since 2026-12-07 (planned 26 % low)
VAE_CASES = [(2, 2, 2, None), (3, 3, 4, None), (3, 4, 4, 64), (2, 6, 4, 96), (3, 6, 8, 128),
             (2, 2, 2, None, torch.bfloat16), (3, 3, 4, None, torch.bfloat16), (2, 6, 4, 96, torch.bfloat16)]
# (latent frames, rows, columns, TilingConfig's tile_size, tile_overlap, tile_frames, frame_overlap[, dtype])
TILED_DECODE_CASES = [(3, 4, 4, 64, 32, 8, 0), (4, 4, 6, 96, 32, 16, 8), (3, 4, 4, 64, 32, 8, 0, torch.bfloat16)]
# --conditioned: (label, call arguments) of each pipeline call; media are made at the call's size
CONDITIONED_SIZE = (256, 256, 33)  # height, width, frames
CONDITIONED_CALLS = [
    ("no conditioning", {}),
    ("`image=` at frame 0 (per-token timestep)", {"image": 0}),
    ("2 keyframes (16, 32), appended tokens", {"keyframes": (16, 32)}),
    ("4 keyframes (8, 16, 24, 32)", {"keyframes": (8, 16, 24, 32)}),
    ("`video=` 17-frame clip at 16", {"video": (16, 17)}),
]


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


def vae_case(vae, frames, rows, cols, tile, dtype=torch.float32, *, device) -> dict:
    from ltx_video.utils.memory import estimate_memory

    if vae.dtype != dtype:  # (diffusers warns at each cast)
        vae.to(dtype)
    if tile is None:
        vae.disable_tiling()
    else:
        vae.enable_tiling(tile_sample_min_height=tile, tile_sample_min_width=tile,
                          tile_sample_stride_height=tile * 3 // 4, tile_sample_stride_width=tile * 3 // 4)
    latents = torch.randn(1, 128, frames, rows, cols, device=device, dtype=dtype)
    temb = torch.tensor([0.05], device=device, dtype=dtype)
    measured = measure(lambda: vae.decode(latents, temb=temb), vae, device, [latents, temb])
    measured -= sum(p.numel() * p.element_size() for p in vae.parameters())
    pixel_frames = (frames - 1) * 8 + 1
    plan = estimate_memory({}, rows * 32, cols * 32, pixel_frames, dtype=dtype, vae_tiling=tile is not None,
                           vae_tile=tile or 512, vae_tile_stride=tile * 3 // 4 if tile else None)
    label = f"{cols * 32} x {rows * 32} x {pixel_frames}, " + ("untiled" if tile is None else f"{tile}-px tiles")
    label += "" if dtype == torch.float32 else f", {str(dtype).removeprefix('torch.')}"
    return {"case": f"VAE decode: {label}", "predicted": plan.vae_decode, "measured": measured}


def tiled_decode_case(vae, frames, rows, cols, tile, overlap, tile_frames, frame_overlap, dtype=torch.float32, *,
                      device) -> dict:
    from ltx_video.models.autoencoders.tiling import TilingConfig, tiled_decode
    from ltx_video.utils.memory import estimate_memory

    if vae.dtype != dtype:
        vae.to(dtype)
    vae.disable_tiling()
    tiling = TilingConfig(tile_size=tile, tile_overlap=overlap, tile_frames=tile_frames, frame_overlap=frame_overlap)
    latents = torch.randn(1, 128, frames, rows, cols, device=device, dtype=dtype)
    temb = torch.tensor([0.05], device=device, dtype=dtype)
    measured = measure(lambda: tiled_decode(lambda z: vae.decode(z, temb=temb).sample, latents, tiling, spatial_ratio=32,
                                            temporal_ratio=8), vae, device, [latents, temb])
    measured -= sum(p.numel() * p.element_size() for p in vae.parameters())
    pixel_frames = (frames - 1) * 8 + 1
    plan = estimate_memory({}, rows * 32, cols * 32, pixel_frames, dtype=dtype, vae_tiling=tiling)
    label = f"{cols * 32} x {rows * 32} x {pixel_frames}, tiled_decode {tile}/{overlap} px, {tile_frames}/{frame_overlap} frames"
    label += "" if dtype == torch.float32 else f", {str(dtype).removeprefix('torch.')}"
    return {"case": f"VAE decode: {label}", "predicted": plan.vae_decode, "measured": measured}


def conditioned_transformer(heads: int = 8, head_dim: int = 64, layers: int = 2):
    """The --conditioned transformer: ``heads x head_dim`` wide, on the tiny VAE's latents and the tiny text."""
    from diffusers import LTXVideoTransformer3DModel

    from ltx_video.testing import TINY_LATENT_CHANNELS, TINY_TEXT_DIM

    width = heads * head_dim
    return LTXVideoTransformer3DModel(in_channels=TINY_LATENT_CHANNELS, out_channels=TINY_LATENT_CHANNELS,
                                      num_attention_heads=heads, attention_head_dim=head_dim, cross_attention_dim=width,
                                      num_layers=layers, caption_channels=TINY_TEXT_DIM).eval()


def conditioned_call_case(pipe, label: str, call: dict, size=CONDITIONED_SIZE, text: int = 128,
                          steps: int = 2) -> dict:
    """One ``pipe`` call conditioned as ``call`` says (``image``: a frame index; ``keyframes``: frame indices;
    ``video``: (frame index, frames)), measured as the transformer's weights plus the largest count of live tensors
    during its forwards, against the plan given the call's ``conditions=``."""
    from ltx_video import Keyframe
    from ltx_video.utils.memory import LiveTensorBytes, estimate_memory

    height, width, frames = size
    g = torch.Generator().manual_seed(0)

    def media(count: int) -> torch.Tensor:  # (frames, 3, H, W) in [0, 1]
        return torch.rand(count, 3, height, width, generator=g)

    kwargs, conditions = {}, []
    if "image" in call:
        kwargs.update(image=media(1)[0], frame_index=call["image"])
        conditions.append((call["image"], 1))
    if "keyframes" in call:
        kwargs["keyframes"] = [Keyframe(media(1)[0], index) for index in call["keyframes"]]
        conditions += [(index, 1) for index in call["keyframes"]]
    if "video" in call:
        index, count = call["video"]
        kwargs.update(video=media(count), frame_index=index)
        conditions.append((index, count))
    model = pipe.transformer
    existing = [t for module in pipe.components.values() if isinstance(module, torch.nn.Module)
                for t in (*module.parameters(), *module.buffers())]
    existing += [t for value in kwargs.values() for t in (value if isinstance(value, list) else [value])
                 if torch.is_tensor(t)] + [k.image_or_clip for k in kwargs.get("keyframes", [])]
    peaks, tokens = [], []
    tracker = LiveTensorBytes(existing)

    def start(module, args, inputs):  # the peak from here counts what the call holds at the forward's start
        tracker.peak = tracker.current
        tokens.append(inputs["hidden_states"].shape[1])

    hooks = [model.register_forward_pre_hook(start, with_kwargs=True),
             model.register_forward_hook(lambda *_: peaks.append(tracker.peak))]
    try:
        with tracker, torch.no_grad():
            pipe("a red ball bounces", height=height, width=width, num_frames=frames, num_inference_steps=steps,
                 guidance_scale=3.0, max_sequence_length=text, generator=torch.Generator().manual_seed(0),
                 output_type="latent", **kwargs)
    finally:
        for hook in hooks:
            hook.remove()
    measured = max(peaks) + sum(p.numel() * p.element_size() for p in model.parameters())
    plan = estimate_memory(model.config, height, width, frames, dtype=model.dtype, guidance_passes=2,
                           max_sequence_length=text, conditions=conditions)
    before = estimate_memory(model.config, height, width, frames, dtype=model.dtype, guidance_passes=2,
                             max_sequence_length=text)
    return {"case": label, "tokens": max(tokens), "before": before.transformer_step,
            "predicted": plan.transformer_step, "measured": measured}


def per_token_timestep_case(model, grid=(5, 8, 8), rows: int = 2, text: int = 128) -> dict:
    """A bare forward of ``model`` (in its dtype) with one timestep per row and with one per token."""
    from ltx_video.testing import transformer_inputs

    dtype, out = model.dtype, {}
    inputs = transformer_inputs(model, grid, text_tokens=text, batch=rows)
    inputs = {k: v.to(dtype) if torch.is_tensor(v) and v.is_floating_point() and k != "timestep" else v
              for k, v in inputs.items()}
    tokens = inputs["hidden_states"].shape[1]
    for name, timestep in (("scalar", inputs["timestep"]), ("per token", torch.full((rows, tokens), 500.0))):
        call = {**inputs, "timestep": timestep}
        out[name] = measure(lambda call=call: model(**call), model, "cpu", [v for v in call.values() if torch.is_tensor(v)])
    hidden = rows * tokens * model.config.num_attention_heads * model.config.attention_head_dim * dtype.itemsize
    return {"dtype": str(dtype).removeprefix("torch."), **out, "units": (out["per token"] - out["scalar"]) / hidden}


def one_tile_case(vae, frames: int = 3, rows: int = 4, cols: int = 4) -> dict:
    """``tiled_decode`` with one tile (``TilingConfig()``'s 512 px, 65 frames) covering the video, and untiled."""
    from ltx_video.models.autoencoders.tiling import TilingConfig
    from ltx_video.utils.memory import estimate_memory

    tiled = tiled_decode_case(vae, frames, rows, cols, *dataclasses.astuple(TilingConfig())[:4], device="cpu")
    untiled = vae_case(vae, frames, rows, cols, None, device="cpu")
    pixel_frames = (frames - 1) * 8 + 1
    plan = estimate_memory({}, rows * 32, cols * 32, pixel_frames, dtype=torch.float32, vae_tiling=TilingConfig())
    return {"case": f"{cols * 32} x {rows * 32} x {pixel_frames}", "tiled": tiled["measured"],
            "untiled": untiled["measured"], "predicted": plan.vae_decode}


def conditioned_report(heads: int = 8, head_dim: int = 64, size=CONDITIONED_SIZE, text: int = 128,
                       steps: int = 2, calls=CONDITIONED_CALLS, vae_decoder: dict | None = None,
                       decode_grid=(3, 4, 4)) -> list[str]:
    """The three --conditioned tables (markdown lines); smaller arguments make a quick check."""
    from diffusers import AutoencoderKLLTXVideo

    from ltx_video.pipelines.ltx_video import LTXVideoPipeline
    from ltx_video.testing import tiny_components

    torch.manual_seed(0)
    pipe = LTXVideoPipeline(**{**tiny_components(0), "transformer": conditioned_transformer(heads, head_dim)})
    pipe.set_progress_bar_config(disable=True)
    rows = [conditioned_call_case(pipe, label, call, size, text, steps) for label, call in calls]

    def mib(size: float) -> str:
        return f"{size / 2**20:.1f}"

    lines = [f"Conditioned calls: {size[1]} x {size[0]} x {size[2]}, {heads} x {head_dim} heads, 2 blocks, float32, "
             f"CFG, {text} text tokens, {steps} steps", "",
             "| call | tokens | planned before (MiB) | planned (MiB) | measured (MiB) | error |", "|---|---|---|---|---|---|"]
    for r in rows:
        before = f"{mib(r['before'])} ({r['before'] / r['measured'] - 1:+.1%})" if r["before"] != r["predicted"] \
            else mib(r["before"])
        lines.append(f"| {r['case']} | {r['tokens']} | {before} | {mib(r['predicted'])} | {mib(r['measured'])} | "
                     f"{r['predicted'] / r['measured'] - 1:+.1%} |")
    lines += ["", "| bare forward, timestep | scalar (MiB) | per token (MiB) | hidden-state units added |", "|---|---|---|---|"]
    grid = (size[2] - 1) // 8 + 1, size[0] // 32, size[1] // 32
    for dtype in (torch.float32, torch.bfloat16):
        r = per_token_timestep_case(pipe.transformer.to(dtype), grid, 2, text)
        lines.append(f"| {r['dtype']} | {mib(r['scalar'])} | {mib(r['per token'])} | {r['units']:.2f} |")
    pipe.transformer.to(torch.float32)
    vae = AutoencoderKLLTXVideo(**(vae_decoder or VAE_DECODER)).eval()
    r = one_tile_case(vae, *decode_grid)
    lines += ["", "| decode, one tile covering the video | untiled (MiB) | tiled_decode (MiB) | planned (MiB) | error |",
              "|---|---|---|---|---|",
              f"| {r['case']} | {mib(r['untiled'])} | {mib(r['tiled'])} | {mib(r['predicted'])} | "
              f"{r['predicted'] / r['tiled'] - 1:+.1%} |"]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sections = parser.add_mutually_exclusive_group()
    sections.add_argument("--no-vae", action="store_true", help="skip the VAE cases (the decoder takes ~20 s to build)")
    sections.add_argument("--vae-only", action="store_true", help="only the VAE cases")
    sections.add_argument("--conditioned", action="store_true",
                          help="conditioned pipeline calls, a per-token timestep and a one-tile decode (CPU)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda when available "
                        "(--conditioned: cpu only)")
    args = parser.parse_args(argv)
    if args.conditioned:
        if args.device not in (None, "cpu"):  # live tensors counted by storage; the CUDA allocator's peak differs
            parser.error(f"--conditioned measures on the CPU: --device must be cpu, got {args.device}")
        print("\n".join(conditioned_report()))
        return 0
    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
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
