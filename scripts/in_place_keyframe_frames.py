"""Where an ``in_place`` keyframe off the latent grid lands on the built-in model (docs/control.md, "In place").

    python scripts/in_place_keyframe_frames.py                 # frames 9, 10, 12; 8 steps; seed 0
    python scripts/in_place_keyframe_frames.py --frames 10 --steps 30

A red 16 px square on a dark ground at x 8 is the keyframe at frame 0; the same square at x 40 (centre 47.5) is
placed at each asked frame, ``placement="in_place"`` (and, for comparison, ``"tokens"``), in a 25-frame video of the
model's defaults. For the frames around it the script prints the square's x centre (mean column of its red pixels)
and the PSNR against the keyframe image, and which frame matches best.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import PIL.Image
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

NUM_FRAMES = 25


def square(x0: int) -> PIL.Image.Image:
    image = PIL.Image.new("RGB", (64, 64), (20, 20, 20))
    image.paste((220, 40, 40), (x0, 24, x0 + 16, 40))
    return image


def red_x(frame: np.ndarray) -> float:
    mask = (frame[..., 0] > 0.5) & (frame[..., 1] < 0.35) & (frame[..., 2] < 0.35)
    return float(np.nonzero(mask)[1].mean()) if mask.sum() >= 5 else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", nargs="+", type=int, default=[9, 10, 12],
                        help=f"asked keyframe frames (1-{NUM_FRAMES - 1})")
    parser.add_argument("--steps", type=int, default=8, help="denoising steps (default: 8)")
    parser.add_argument("--placements", nargs="+", choices=["in_place", "tokens"], default=["in_place"])
    args = parser.parse_args(argv)
    outside = [f for f in args.frames if not 1 <= f < NUM_FRAMES]
    if outside:
        parser.error(f"--frames must be in 1-{NUM_FRAMES - 1} (frame 0 holds the start keyframe; the video has "
                     f"{NUM_FRAMES} frames), got {outside}")
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    from ltx_video import Keyframe
    from ltx_video.default_model import DEFAULT_GENERATION, load_default_pipeline

    pipe = load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    call = {**DEFAULT_GENERATION, "num_inference_steps": args.steps, "num_frames": NUM_FRAMES}
    start, later = square(8), square(40)
    reference = np.asarray(later, dtype=np.float32) / 255
    for placement in args.placements:
        for index in args.frames:
            keyframes = [Keyframe(start, 0), Keyframe(later, index, placement=placement)]
            video = pipe("a red square bounces", keyframes=keyframes, **call, generator=torch.Generator().manual_seed(0),
                         output_type="np").frames[0]
            shown = range(max(0, index - 3), min(NUM_FRAMES, index + 4))
            psnr = {i: float(10 * np.log10(1 / np.mean((video[i] - reference) ** 2))) for i in shown}
            best = max(psnr, key=psnr.get)
            print(f"{placement} at frame {index} ({args.steps} steps): best frame {best} ({psnr[best]:.1f} dB); asked "
                  f"frame {psnr[index]:.1f} dB")
            for i in shown:
                print(f"  frame {i:2d}: x {red_x(video[i]):5.1f}  {psnr[i]:5.1f} dB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
