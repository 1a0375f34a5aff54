"""Keyframes under a camera: the conditioning tokens on screen or in world coordinates (docs/benchmarks.md).

    python scripts/benchmark_keyframes_camera.py              # the table's ten rows (about 10 minutes on 2 CPU cores)
    python scripts/benchmark_keyframes_camera.py --rows 1 --steps 2   # a quick check

On the built-in model (``load_default_pipeline()``, its size and length: 64 x 64, 49 frames), per row: a source clip
made with the pixel-space camera (``CameraController(Camera(motion, speed=1), space="pixel", strength=1, until=1,
schedule="constant")``, the row's source seed), so its frames move as the camera asks; then ``keyframes=[Keyframe(
src[0], 0), Keyframe(src[k], k)]`` under ``CameraController(Camera(motion, speed=1), strength=0, world_coordinates=...)``,
seed 7: the constraint off, only the tokens' RoPE coordinates differ. Prints the PSNR (dB) of frame ``k`` against the
source's frame ``k`` with the coordinates on screen (``world_coordinates=False``) and in world coordinates.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROMPT = "a red ball bounces"
STEPS = 10
SEED = 7  # the keyframe calls'
# (motion, source seed, keyframe frame)
ROWS = [
    ("pan_left", 3, 24), ("pan_left", 3, 44), ("pan_up", 3, 24), ("pan_up", 3, 44), ("zoom_in", 3, 24),
    ("zoom_in", 3, 44), ("pan_left", 11, 24), ("pan_right", 12, 24), ("zoom_in", 11, 24), ("pan_down", 12, 24),
]


def keyframe_camera_row(pipe, motion: str, source_seed: int, frame: int, steps: int = STEPS,
                        prompt: str = PROMPT, call: dict | None = None, sources: dict | None = None) -> dict:
    """PSNR at ``frame`` of the keyframed call against its source clip, coordinates on screen and in the world.
    ``call``: more call arguments for all three calls (the built-in model's saved size and sampling otherwise);
    ``sources``: source clips already made, by (motion, seed), filled as they are made."""
    from ltx_video import Camera, CameraController, Keyframe
    from ltx_video.metrics import psnr

    camera = Camera(motion_type=motion, speed=1.0)
    pixel = CameraController(camera, space="pixel", strength=1.0, until=1.0, schedule="constant")
    call = {"num_inference_steps": steps, "output_type": "pt", **(call or {})}
    sources = {} if sources is None else sources
    if (motion, source_seed) not in sources:
        sources[motion, source_seed] = pipe(prompt, camera=pixel, generator=torch.Generator().manual_seed(source_seed),
                                            **call).frames[0]
    source = sources[motion, source_seed]  # (F, 3, H, W) in [0, 1]
    if not 0 < frame < len(source):
        raise ValueError(f"keyframe frame must be in [1, {len(source) - 1}] (the source's frames), got {frame}.")
    keyframes = [Keyframe(source[0], 0), Keyframe(source[frame], frame)]
    row = {"motion": motion, "source_seed": source_seed, "frame": frame}
    for name, world in (("on_screen", False), ("world", True)):
        video = pipe(prompt, keyframes=keyframes, camera=CameraController(camera, strength=0.0, world_coordinates=world),
                     generator=torch.Generator().manual_seed(SEED), **call).frames[0]
        row[name] = psnr(video[frame], source[frame])
    print(f"  {motion:<10} seed {source_seed:>3} frame {frame:>2}: on screen {row['on_screen']:.2f} dB, "
          f"world {row['world']:.2f} dB", flush=True)
    return row


def report(rows: list[dict]) -> list[str]:
    """The table's markdown lines, the mean row last."""
    lines = ["| motion | source seed | keyframe frame | on screen (`world_coordinates=False`) | world |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['motion']} | {r['source_seed']} | {r['frame']} | {r['on_screen']:.2f} | {r['world']:.2f} |"
              for r in rows]
    mean = {key: sum(r[key] for r in rows) / len(rows) for key in ("on_screen", "world")}
    lines.append(f"| mean | | | {mean['on_screen']:.2f} | {mean['world']:.2f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=len(ROWS), help=f"the first N of the table's {len(ROWS)} rows")
    parser.add_argument("--steps", type=int, default=STEPS, help=f"denoising steps (default {STEPS})")
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= len(ROWS):
        parser.error(f"--rows must be in [1, {len(ROWS)}], got {args.rows}")
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    from ltx_video.default_model import load_default_pipeline

    pipe = load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__}; "
          f"{datetime.date.today().isoformat()}; prompt {PROMPT!r}, {args.steps} steps, keyframe seed {SEED}")
    sources = {}
    rows = [keyframe_camera_row(pipe, *row, steps=args.steps, sources=sources) for row in ROWS[: args.rows]]
    print("\n".join(report(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
