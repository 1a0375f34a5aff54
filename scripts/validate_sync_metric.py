"""Validate the sync metric on footage it was not built on: bouncing objects drawn by ``tests/footage.py``.

    python scripts/validate_sync_metric.py                 # the full grid: 108 clips x 9 offsets
    python scripts/validate_sync_metric.py --quick         # 18 clips x 5 offsets (what the tests run)
    python scripts/validate_sync_metric.py --quick --crf 35  # each clip through H.264 at crf 35 first

Every clip (sizes, hard or soft edges, plain / dark / textured backgrounds, speeds, with and without
sensor noise, under gravity) gets clicks at its bounces, shifted by each offset from -200 to +200 ms.
Prints the recovery error of ``metrics.av_sync_offset_ms`` (through its two halves:
``video_motion_events`` once per clip, ``offset_from_events_ms`` per offset), per group and overall,
and how many bounces the video events find within 10 ms.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from footage import BACKGROUNDS, EDGES, SAMPLE_RATE, Scene, clicks, h264, render  # noqa: E402

from ltx_video.metrics import audio_onset_envelope, offset_from_events_ms, video_motion_events  # noqa: E402

RADII = (4.0, 6.0, 9.0)  # disks of about 50, 113 and 254 px at 64 x 64
SPEEDS = (1.0, 2.0, 3.5)  # px per frame
NOISES = (0.0, 0.02)


def scenes(quick: bool) -> list[Scene]:
    if quick:
        # every size, edge and background; the speed crossed with the background (each background at each speed
        # twice; before 2026-12-07 SPEEDS[i % 3] tied each background to one speed, so their rows were one group)
        grid = itertools.product(RADII, EDGES, BACKGROUNDS)
        return [
            Scene(radius=r, edge=e, background=b, speed=SPEEDS[(i // 3) % 3], shape=("disk", "square")[i % 2],
                  seed=100 + i)
            for i, (r, e, b) in enumerate(grid)
        ]
    grid = itertools.product(RADII, EDGES, BACKGROUNDS, SPEEDS, NOISES)
    return [
        Scene(radius=r, edge=e, background=b, speed=v, noise=n, shape=("disk", "square")[i % 2], seed=i)
        for i, (r, e, b, v, n) in enumerate(grid)
    ]


def evaluate(scene: Scene, offsets, crf: int | None = None) -> dict:
    """Recovery errors over ``offsets`` (ms) and the bounces found, for one clip (through H.264 at ``crf``)."""
    video, _, bounces = render(scene)
    if crf is not None:  # yuv420p: chroma at half resolution, as a user's mp4
        video = h264(video, scene.fps, crf)
    times, strengths = video_motion_events(video, scene.fps)
    duration = scene.num_frames / scene.fps
    errors = []
    for offset in offsets:
        envelope = audio_onset_envelope(clicks(bounces, duration, seed=scene.seed, offset_ms=offset), SAMPLE_RATE)
        errors.append(offset_from_events_ms(times, strengths, envelope) - offset)
    visible = bounces[(bounces > 1 / scene.fps) & (bounces < (scene.num_frames - 2) / scene.fps)]
    found = int((np.abs(visible[:, None] - times[None, :]).min(axis=1) <= 0.01).sum()) if len(times) else 0
    return {"errors": np.abs(errors), "found": found, "visible": len(visible), "events": len(times)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="18 clips x 5 offsets instead of 108 x 9")
    parser.add_argument("--crf", type=int, default=None, choices=range(52), metavar="0..51",
                        help="encode every clip with H.264 (libx264, yuv420p) at this crf and decode it first")
    args = parser.parse_args(argv)
    offsets = range(-200, 201, 100) if args.quick else range(-200, 201, 50)
    start = time.perf_counter()
    rows = [(scene, evaluate(scene, offsets, args.crf)) for scene in scenes(args.quick)]
    seconds = time.perf_counter() - start
    groups = {
        "size": lambda s: f"radius {s.radius:g} px",
        "edge": lambda s: s.edge,
        "background": lambda s: s.background,
        "speed": lambda s: f"{s.speed:g} px/frame",
        "noise": lambda s: f"noise {s.noise:g}",
    }
    print(
        "| group | clips | cases | mean abs error ms | median | max | cases > 42 ms | nan | bounces found within 10 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for key in groups.values():
        values = sorted({key(s) for s, _ in rows})
        for value in values if len(values) > 1 else ():  # a factor the grid does not vary has no rows
            print(_row(value, [r for s, r in rows if key(s) == value]))
    print(_row("**all**", [r for _, r in rows]))
    codec = "" if args.crf is None else f", through H.264 at crf {args.crf}"
    print(f"\n{len(rows)} clips x {len(offsets)} offsets{codec} in {seconds:.0f} s")
    return 0


def _row(label: str, results: list[dict]) -> str:
    errors = np.concatenate([r["errors"] for r in results])
    finite = errors[np.isfinite(errors)]
    found, visible = sum(r["found"] for r in results), sum(r["visible"] for r in results)
    mean = f"{finite.mean():.2f}" if len(finite) else "-"
    median = f"{np.median(finite):.2f}" if len(finite) else "-"
    worst = f"{finite.max():.1f}" if len(finite) else "-"
    nans = int(np.isnan(errors).sum())
    gross = int((finite > 42).sum())
    return (
        f"| {label} | {len(results)} | {len(errors)} | {mean} | {median} | {worst} | {gross} | {nans} | "
        f"{found}/{visible} |"
    )


if __name__ == "__main__":
    raise SystemExit(main())
