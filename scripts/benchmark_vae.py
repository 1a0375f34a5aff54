"""The 4K VAE against LTX-Video's at 256 px, side by side in one run: reconstruction, tokens, time, memory.

    for v in ltx32 hierarchical no_wavelet no_context no_adaptive ltx32_long hierarchical_long \
             no_wavelet_long no_context_long no_adaptive_long; do
        python scripts/train.py --config configs/train/vae4k_$v.yaml
    done
    python scripts/benchmark_vae.py --num 32          # held-out synthetic clips, 256 x 256 x 17

    for v in ltx32 hierarchical; do                     # after the two _long VAEs above
        python scripts/train.py --config configs/train/vae4k_transformer_$v.yaml
    done
    python scripts/benchmark_vae.py --generation --num 32

Each trained VAE (``runs/vae4k/<name>/video_vae``) encodes and decodes the same held-out clips (seeds from
100000, camera motion and objects drawn as in training). Reported: PSNR and SSIM (mean over frames and clips,
``ltx_video.metrics``); object PSNR (from the mean squared error over the pixels far from their frame's median
colour, as the training loss finds the objects, averaged over clips: whole-frame PSNR is mostly the background);
latent spread (mean |z_i - z_{i+1}| over consecutive clips, over the mean deviation of z_i from its mean: near 0
when the encoder has collapsed and gives every clip the same latents); latent tokens per clip, parameters, encode
and decode seconds per clip, and the peak of live tensor storages while encoding + decoding one clip
(``LiveTensorBytes``). Ratios are against the first row.

``--generation``: the two audio-video transformers trained on each VAE's latents
(``runs/vae4k/transformer_<name>/pipeline``) generate clips for the same held-out prompts as
``benchmark_quality.py``'s (seeds from 1,000,000, static camera, one object, every other prompt without its camera
phrase; the pipelines' saved size and sampling), scored with colour adherence
(``metrics.prompt_adherence(..., shapes=False)``) beside the real clips and each VAE's reconstruction of them.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

NAMES = {
    "ltx32": "AutoencoderKLLTXVideo, 32x (baseline)",
    "hierarchical": "HierarchicalVAE, 64x",
    "no_wavelet": "64x, no wavelet",
    "no_context": "64x, no context",
    "no_adaptive": "64x, no adaptive patches",
    "ltx32_long": "AutoencoderKLLTXVideo, 32x, 2,500 steps on 128 px windows",
    "hierarchical_long": "HierarchicalVAE, 64x, 2,500 steps on 128 px windows",
    "no_wavelet_long": "64x, no wavelet, 2,500 steps",
    "no_context_long": "64x, no context, 2,500 steps",
    "no_adaptive_long": "64x, no adaptive patches, 2,500 steps",
}


def load(folder: Path):
    import json

    from diffusers import AutoencoderKLLTXVideo

    from ltx_video.models.autoencoders import HierarchicalVAE

    kind = json.loads((folder / "config.json").read_text())["_class_name"]
    cls = HierarchicalVAE if kind == "HierarchicalVAE" else AutoencoderKLLTXVideo
    return cls.from_pretrained(folder).eval()


def held_out(num: int, size: int, frames: int) -> list[torch.Tensor]:
    from ltx_video.training.data import DataConfig, synthetic_clip

    config = DataConfig(num_clips=num, height=size, width=size, num_frames=frames, camera=None, max_objects=3)
    return [synthetic_clip(100_000 + i, config).video.permute(1, 0, 2, 3)[None] for i in range(num)]


@torch.no_grad()
def evaluate(vae, clips: list[torch.Tensor]) -> dict:
    from ltx_video.metrics.fidelity import psnr, ssim
    from ltx_video.training.stages import object_pixels
    from ltx_video.utils.memory import LiveTensorBytes

    psnrs, ssims, object_errors, encode_s, decode_s, spreads = [], [], [], [], [], []
    peak, previous = 0, None
    for i, clip in enumerate(clips):
        with LiveTensorBytes(existing=[*vae.parameters(), *vae.buffers(), clip]) as tracker:
            start = time.perf_counter()
            latents = vae.encode(clip).latent_dist.mode()
            middle = time.perf_counter()
            video = vae.decode(latents, None, return_dict=False)[0]
            end = time.perf_counter()
        peak = max(peak, tracker.peak)
        if previous is not None:  # a collapsed encoder gives every clip the same latents
            spreads.append(((latents - previous).abs().mean() / (latents - latents.mean()).abs().mean()).item())
        previous = latents
        if i:  # the first clip warms up the allocator and kernels
            encode_s.append(middle - start)
            decode_s.append(end - middle)
        real = ((clip[0].permute(1, 2, 3, 0) + 1) / 2).clamp(0, 1).numpy()
        fake = ((video[0].permute(1, 2, 3, 0) + 1) / 2).clamp(0, 1).numpy()
        psnrs += [psnr(f, r) for f, r in zip(fake, real, strict=True)]
        mask = object_pixels(clip)[0, 0]  # the objects, as the video_vae stage's loss weights them
        if mask.any():
            object_errors.append(((video.clamp(-1, 1) - clip) / 2).square().sum(1)[0][mask].mean().item() / 3)
        ssims += [ssim(f, r) for f, r in zip(fake, real, strict=True)]
    return {"psnr": float(np.mean(psnrs)), "object_psnr": float(-10 * np.log10(np.mean(object_errors or [np.nan]))),
            "ssim": float(np.mean(ssims)), "spread": float(np.mean(spreads or [np.nan])),
            "tokens": latents[0, 0].numel(),
            "channels": latents.shape[1], "encode": float(np.mean(encode_s)), "decode": float(np.mean(decode_s)),
            "peak": peak, "params": sum(p.numel() for p in vae.parameters())}


GENERATORS = {
    "ltx32": "transformer on the 32x latents (baseline)",
    "hierarchical": "transformer on the 64x latents",
    "hierarchical_wide": "transformer twice as wide (8 x 32 heads) on the 64x latents",
}


@torch.no_grad()
def generation(runs: Path, num: int) -> int:
    """Colour adherence of the transformers trained on each VAE's latents, side by side on the same prompts."""
    from benchmark_quality import held_out_clip

    from ltx_video.metrics import prompt_adherence
    from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline

    rows, real = {}, None
    for name, label in GENERATORS.items():
        folder = runs / f"transformer_{name}" / "pipeline"
        if not (folder / "model_index.json").is_file():
            print(f"skipped {name}: {folder} not trained", file=sys.stderr)
            continue
        pipe = LTXAudioVideoPipeline.from_pretrained(folder)
        pipe.set_progress_bar_config(disable=True)
        call = pipe.generation_defaults.call_kwargs()
        clips = [held_out_clip(i, call) for i in range(num)]
        if real is None:
            real = [prompt_adherence(c.video, c.prompt, shapes=False) for c, _ in clips]
        generated, reconstructed, seconds = [], [], []
        for i, (clip, prompt) in enumerate(clips):
            start = time.perf_counter()
            out = pipe(prompt, generator=torch.Generator().manual_seed(i), output_type="pt", **call)
            seconds.append(time.perf_counter() - start)
            generated.append(prompt_adherence(out.frames[0], clip.prompt, shapes=False))
            latents = pipe.vae.encode(clip.video.permute(1, 0, 2, 3)[None]).latent_dist.mode()
            video = pipe.vae.decode(latents, None, return_dict=False)[0][0].permute(1, 0, 2, 3).clamp(-1, 1)
            reconstructed.append(prompt_adherence(video, clip.prompt, shapes=False))
        rows[name] = dict(label=label, generated=float(np.mean(generated)), reconstructed=float(np.mean(reconstructed)),
                          seconds=float(np.median(seconds[1:] or seconds)), tokens=latents[0, 0].numel(),
                          size=(call["height"], call["width"], call["num_frames"]),
                          steps=call["num_inference_steps"], cfg=call["guidance_scale"])
    if not rows:
        return 1
    base = rows.get("ltx32")  # the 32x baseline, when it was trained under --runs
    first = next(iter(rows.values()))
    h, w, f = first["size"]
    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()} {os.cpu_count()} cores, PyTorch {torch.__version__}; "
          f"{num} held-out prompts at {h} x {w} x {f}, {first['steps']} steps, CFG {first['cfg']}; real clips' colour "
          f"adherence {np.mean(real):.3f}\n")
    print("| transformer | video tokens per clip | colour adherence, generated | minus baseline (target >= -0.05) | "
          "colour adherence, VAE reconstruction | seconds per clip |")
    print("|---|---|---|---|---|---|")
    for r in rows.values():
        versus = "no baseline in this run" if base is None else f"{r['generated'] - base['generated']:+.3f}"
        print(f"| {r['label']} | {r['tokens']} | {r['generated']:.3f} | {versus} | "
              f"{r['reconstructed']:.3f} | {r['seconds']:.2f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num", type=int, default=32, help="held-out clips (default: 32)")
    parser.add_argument("--runs", type=Path, default=Path("runs/vae4k"))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=17)
    parser.add_argument("--generation", action="store_true",
                        help="score the transformers trained on each VAE's latents instead of the VAEs")
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f"--num must be >= 1, got {args.num}")
    if args.generation:
        return generation(args.runs, args.num)
    torch.manual_seed(0)
    clips = held_out(args.num, args.size, args.frames)
    rows = {}
    for name in NAMES:
        folder = args.runs / name / "video_vae"
        if (folder / "config.json").is_file():
            rows[name] = evaluate(load(folder), clips)
        else:
            print(f"skipped {name}: {folder} not trained", file=sys.stderr)
    if not rows:
        return 1
    base = next(iter(rows.values()))
    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()} {os.cpu_count()} cores, PyTorch {torch.__version__}; "
          f"{args.num} held-out clips of {args.size} x {args.size} x {args.frames}\n")
    print("| VAE | params (M) | latent (channels x tokens per clip) | PSNR (dB) | object PSNR (dB) | SSIM | "
          "latent spread | encode s | decode s | peak (MiB) | tokens x baseline |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {NAMES[name]} | {r['params'] / 1e6:.1f} | {r['channels']} x {r['tokens']} | {r['psnr']:.2f} | "
              f"{r['object_psnr']:.2f} | {r['ssim']:.3f} | {r['spread']:.4f} | {r['encode']:.3f} | {r['decode']:.3f} | "
              f"{r['peak'] / 2**20:.0f} | {r['tokens'] / base['tokens']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
