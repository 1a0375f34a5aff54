"""Quality of a generated audio-video model on held-out synthetic prompts, with bounds, in one run.

    python scripts/benchmark_quality.py                       # the built-in default model, 32 clips
    python scripts/benchmark_quality.py --num 64 --model runs/default/transformer/pipeline --out runs/quality

For ``--num`` held-out seeds (from 1,000,000; the default model trained on seeds 0-2047) it renders the
real synthetic clip (static camera, one object, as the default model's training data) and generates a
clip from the same prompt (every other prompt without its ``", the camera is static"`` phrase) at the
model's training size. Then, with ``ltx_video.metrics``, on three sets:

- ``real``: the synthetic clips themselves (upper bound),
- ``generated``: the model's video with the model's audio,
- ``shuffled``: the model's video with the audio generated for the next prompt (lower bound: same
  kind of sound, unrelated timing).

Reported: mean and median absolute audio-video offset (ms, clips whose video has a motion event and
audio an onset), the share within 42 ms (one frame at 24 fps) and 65 ms, AV-Align (tolerance one
frame), prompt adherence (colour and shape) and flicker. Writes ``results.json`` and ``results.md``
to ``--out`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HELD_OUT_SEED = 1_000_000


def _clip_metrics(frames, audio, fps: float, prompt: str) -> dict:
    from ltx_video import metrics

    return {
        "offset_ms": metrics.av_sync_offset_ms(frames, audio, fps),
        "av_align": metrics.av_align_score(frames, audio, fps),
        "adherence": metrics.prompt_adherence(frames, prompt),
        "flicker": metrics.flicker(frames),
    }


def summarise(rows: list[dict]) -> dict:
    offsets = np.array([abs(r["offset_ms"]) for r in rows if math.isfinite(r["offset_ms"])])
    return {
        "clips": len(rows),
        "clips_with_offset": int(offsets.size),
        "mean_abs_offset_ms": float(offsets.mean()) if offsets.size else float("nan"),
        "median_abs_offset_ms": float(np.median(offsets)) if offsets.size else float("nan"),
        "within_42ms": float((offsets <= 42).mean()) if offsets.size else float("nan"),
        "within_65ms": float((offsets <= 65).mean()) if offsets.size else float("nan"),
        "av_align": float(np.mean([r["av_align"] for r in rows])),
        "adherence": float(np.mean([r["adherence"] for r in rows])),
        "flicker": float(np.mean([r["flicker"] for r in rows])),
    }


def markdown(summary: dict[str, dict]) -> str:
    lines = [
        "| set | clips (with offset) | mean abs offset ms | median ms | within 42 ms | within 65 ms | AV-Align | adherence | flicker |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {name} | {s['clips']} ({s['clips_with_offset']}) | {s['mean_abs_offset_ms']:.1f} | "
            f"{s['median_abs_offset_ms']:.1f} | {s['within_42ms']:.2f} | {s['within_65ms']:.2f} | {s['av_align']:.3f} | "
            f"{s['adherence']:.3f} | {s['flicker']:.4f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num", type=int, default=32, help="held-out clips (>= 2)")
    parser.add_argument("--model", type=Path, help="an LTXAudioVideoPipeline folder (default: the built-in model)")
    parser.add_argument("--steps", type=int, help="denoising steps (default: the built-in model's)")
    parser.add_argument("--guidance-scale", type=float, help="CFG scale (default: the built-in model's)")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmark_quality"))
    args = parser.parse_args(argv)
    if args.num < 2:
        parser.error(f"--num must be >= 2 (the shuffled bound pairs clips), got {args.num}")

    import torch
    from tqdm import tqdm

    from ltx_video.default_model import DEFAULT_GENERATION, load_default_pipeline
    from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline
    from ltx_video.training.data import DataConfig, synthetic_clip

    pipe = LTXAudioVideoPipeline.from_pretrained(args.model) if args.model else load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    call = dict(DEFAULT_GENERATION)
    call["num_inference_steps"] = args.steps or call["num_inference_steps"]
    call["guidance_scale"] = args.guidance_scale if args.guidance_scale is not None else call["guidance_scale"]
    data = DataConfig(height=call["height"], width=call["width"], num_frames=call["num_frames"], fps=call["frame_rate"],
                      camera="static", max_objects=1)
    fps = call["frame_rate"]

    began = time.perf_counter()
    real, generated = [], []
    for i in tqdm(range(args.num), desc="clips"):
        clip = synthetic_clip(HELD_OUT_SEED + i, data)
        prompt = clip.prompt if i % 2 == 0 else clip.prompt.removesuffix(", the camera is static")
        out = pipe(prompt, generator=torch.Generator().manual_seed(i), output_type="pt", **call)
        frames, (waveform, _) = out.frames[0], out.audio
        real.append(dict(frames=clip.video, audio=clip.audio, prompt=clip.prompt))
        generated.append(dict(frames=frames, audio=waveform[0], prompt=clip.prompt))
    generation_seconds = time.perf_counter() - began

    sets = {
        "real (upper bound)": [_clip_metrics(c["frames"], c["audio"], fps, c["prompt"]) for c in real],
        "generated": [_clip_metrics(c["frames"], c["audio"], fps, c["prompt"]) for c in generated],
        "generated, shuffled audio (lower bound)": [
            _clip_metrics(c["frames"], generated[(i + 1) % len(generated)]["audio"], fps, c["prompt"])
            for i, c in enumerate(generated)
        ],
    }
    summary = {name: summarise(rows) for name, rows in sets.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"summary": summary, "per_clip": sets, "generation": {k: v for k, v in call.items()},
              "model": str(args.model or "built-in"), "generation_seconds": generation_seconds}
    (args.out / "results.json").write_text(json.dumps(report, indent=2, default=float).replace("NaN", "null"))
    table = markdown(summary)
    (args.out / "results.md").write_text(table + "\n")
    print(table)
    print(f"{args.num} clips generated in {generation_seconds:.0f} s (with rendering the real ones)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
