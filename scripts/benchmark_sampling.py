"""Does a sampling setting fix the built-in model's sync? Generated clips only, colour-tracked events.

    python scripts/benchmark_sampling.py --num 16

For each setting (the default 30 steps at CFG 3, CFG 5, CFG 1.5, 50 steps), ``--num`` held-out prompts
(``benchmark_quality.held_out_clip``: seeds from 1,000,000) are generated and measured: the absolute audio-video
offset (mean, median, share within 65 ms), the share of clips whose object is found in every frame, and
colour adherence. Cheaper than ``benchmark_quality.py``: no real, reconstructed or shuffled rows.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SETTINGS = {
    "default (30 steps, CFG 3)": {},
    "CFG 5": {"guidance_scale": 5.0},
    "CFG 1.5": {"guidance_scale": 1.5},
    "50 steps": {"num_inference_steps": 50},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num", type=int, default=16, help="held-out prompts per setting (>= 1)")
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f"--num must be >= 1, got {args.num}")

    from benchmark_quality import held_out_clip

    from ltx_video import metrics
    from ltx_video.data.synthetic import COLOURS, parse_prompt
    from ltx_video.default_model import DEFAULT_GENERATION, load_default_pipeline

    pipe = load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    print("| setting | abs offset ms: mean / median | within 65 ms | object in every frame | colour adherence | s |")
    print("|---|---|---|---|---|---|")
    for name, override in SETTINGS.items():
        call = {**DEFAULT_GENERATION, **override}
        offsets, present, colour = [], [], []
        start = time.perf_counter()
        for i in range(args.num):
            clip, prompt = held_out_clip(i, call)
            out = pipe(prompt, generator=torch.Generator().manual_seed(i), output_type="pt", **call)
            frames, audio = out.frames[0], out.audio[0][0]
            (object_colour, _), *_ = parse_prompt(clip.prompt).objects
            rgb = COLOURS[object_colour]
            times, strengths = metrics.colour_bounce_events(frames, call["frame_rate"], rgb)
            offsets.append(abs(metrics.offset_from_events_ms(times, strengths, metrics.audio_onset_envelope(audio))))
            present.append(bool(np.isfinite(metrics.colour_track(frames, rgb)).all()))
            colour.append(metrics.prompt_adherence(frames, clip.prompt, shapes=False))
        found = np.array([o for o in offsets if np.isfinite(o)])
        print(
            f"| {name} | {found.mean():.1f} / {np.median(found):.1f} | {(found <= 65).mean():.2f} | "
            f"{np.mean(present):.2f} | {np.mean(colour):.3f} | {time.perf_counter() - start:.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
