"""Spot-check the metrics on synthetic clips at several resolutions (the tests validate 64 x 64).

    python scripts/metrics_resolution_check.py --sizes 64 128 256 --seeds 6

Prints, per size: prompt adherence, AV-Align (matching audio) and |AV offset| (truth 0) per seed, and
the seconds taken. The synthetic world scales object sizes and speeds with the resolution.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ltx_video import metrics
from ltx_video.data import make_clip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--seeds", type=int, default=6)
    args = parser.parse_args(argv)
    if args.seeds < 1 or min(args.sizes) < 8:
        parser.error(f"--seeds must be >= 1 and --sizes >= 8, got {args.seeds} and {args.sizes}")
    print("| size | adherence (mean, min) | AV-Align (mean, min) | abs AV offset ms (mean, max) | s per clip |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        adherence, align, offset = [], [], []
        start = time.perf_counter()
        for seed in range(args.seeds):
            clip = make_clip(seed, height=size, width=size)
            adherence.append(metrics.prompt_adherence(clip.video, clip.prompt))
            align.append(metrics.av_align_score(clip.video, clip.audio, clip.fps))
            offset.append(abs(metrics.av_sync_offset_ms(clip.video, clip.audio, clip.fps)))
        seconds = (time.perf_counter() - start) / args.seeds
        print(f"| {size} | {np.mean(adherence):.3f}, {min(adherence):.3f} | {np.mean(align):.3f}, {min(align):.3f} "
              f"| {np.nanmean(offset):.2f}, {np.nanmax(offset):.2f} | {seconds:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
