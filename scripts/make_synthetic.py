"""Write synthetic bouncing-shape clips (H.264 + AAC mp4) with prompts and exact ground truth.

    python scripts/make_synthetic.py OUT_DIR --num 64 --seed 0 [--height 64 --width 64 --fps 24 --duration 2]

Clip ``i`` is ``ltx_video.data.synthetic.make_clip(seed + i, ...)`` written as ``clip_{i:05d}.mp4``.
``prompts.json`` maps each file name to its prompt, also written beside each clip as ``clip_{i:05d}.txt`` (the caption
``scripts/train.py``'s ``data: {source: folder}`` reads); ``annotations.json`` maps it to its ground truth
(seed, parameters, objects, bounce times / objects / walls, per-frame positions ``(F, N, 2)`` and camera
motion ``(F - 1, 3)``, as plain lists). Object colour, shape and size are not recoverable exactly from
the lossy mp4, so metrics should read them from ``annotations.json``. H.264 needs an even size: an odd
``--height`` / ``--width`` is written padded by one row / column (the last repeated), and the annotations keep the
rendered size, so read such files back at their rendered size (crop the padding) to keep the coordinates.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ltx_video.data.synthetic import SAMPLE_RATE, Clip, make_clip, sample_params
from ltx_video.io.media import write_video


def _number(text: str, kind: type, minimum: float, what: str) -> int | float:
    """``text`` parsed as ``kind`` and checked to be finite and ``>= minimum``, for argparse."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
    if not minimum <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    return _number(text, int, 1, "a positive int")


def _non_negative_int(text: str) -> int:
    return _number(text, int, 0, "a non-negative int")


def _positive_float(text: str) -> float:
    value = _number(text, float, 0.0, "a positive number")
    if value == 0.0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="output folder (created if missing)")
    parser.add_argument("--num", type=_positive_int, required=True, help="number of clips")
    parser.add_argument(
        "--seed", type=_non_negative_int, default=0, help="seed of the first clip (clip i uses seed + i)"
    )
    parser.add_argument("--height", type=_positive_int, default=64, help="frame height in px")
    parser.add_argument("--width", type=_positive_int, default=64, help="frame width in px")
    parser.add_argument("--fps", type=_positive_float, default=24.0, help="frames per second")
    parser.add_argument("--duration", type=_positive_float, default=2.0, help="clip length in seconds")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a clip set already in out_dir (its clips, prompts.json and annotations.json)")
    return parser


def clip_annotations(clip: Clip, seed: int) -> dict[str, Any]:
    """JSON-ready ground truth of ``clip`` (lists and numbers only)."""
    params = clip.params
    return {
        "seed": seed,
        "height": params.height,
        "width": params.width,
        "fps": params.fps,
        "duration": params.duration,
        "num_frames": clip.num_frames,
        "sample_rate": SAMPLE_RATE,
        "background": params.background,
        "camera_motion": params.camera,
        "camera_speed": params.camera_speed,
        "burst_ms": params.burst_ms,
        "objects": [
            {
                "shape": obj.shape,
                "colour": obj.colour,
                "size": obj.size,
                "position": list(obj.position),
                "velocity": list(obj.velocity),
            }
            for obj in params.objects
        ],
        "bounce_times": [bounce.time for bounce in clip.bounces],
        "bounce_objects": [bounce.object_index for bounce in clip.bounces],
        "bounce_walls": [bounce.wall for bounce in clip.bounces],
        "positions": clip.positions.tolist(),
        "camera": clip.camera.tolist(),
    }


def _clip_set(folder: Path) -> set[str]:
    """The files of a clip set this script wrote in ``folder``: prompts.json, annotations.json and the clips they list
    (nothing else in the folder)."""
    names = set()
    for index in ("prompts.json", "annotations.json"):
        path = folder / index
        if path.is_file():
            names.add(index)
            try:
                listed = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            names |= {name for name in listed if isinstance(name, str) and "/" not in name} if isinstance(listed, dict) else set()
    return names | {str(Path(name).with_suffix(".txt")) for name in names if name.endswith(".mp4")}  # their captions


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    frame = dict(height=args.height, width=args.width, fps=args.fps, duration=args.duration)
    try:
        sample_params(args.seed, **frame)  # reject a bad frame size / rate before writing anything
    except ValueError as error:
        parser.error(str(error))
    if args.out_dir.exists() and not args.out_dir.is_dir():
        parser.error(f"out_dir {args.out_dir} is a file: give a folder")
    old_set = _clip_set(args.out_dir)  # an earlier set's files: its json files and the clips they list
    written = {f"clip_{index:05d}{suffix}" for index in range(args.num) for suffix in (".mp4", ".txt")}
    written |= {"prompts.json", "annotations.json"}
    held = sorted(name for name in old_set | written if (args.out_dir / name).exists())
    if held and not args.overwrite:  # new clips over old ones would leave a set mixing the two
        parser.error(f"out_dir {args.out_dir} already holds {', '.join(held[:3])}{', ...' if len(held) > 3 else ''}"
                     ": give a new folder, or --overwrite to replace the clip set there")
    for name in sorted(old_set):  # --overwrite: the old set goes whole, so no stale clip stays without its prompt
        if (args.out_dir / name).is_file():  # a folder of that name is not the script's: it stays
            (args.out_dir / name).unlink()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    prompts: dict[str, str] = {}
    annotations: dict[str, Any] = {}
    for index in tqdm(range(args.num), desc="clips", unit="clip"):
        seed = args.seed + index
        clip = make_clip(seed, **frame)
        name = f"clip_{index:05d}.mp4"
        frames = clip.video.add(1.0).div_(2.0)  # [-1, 1] -> [0, 1]
        write_video(args.out_dir / name, frames, clip.fps, audio=clip.audio, sample_rate=SAMPLE_RATE)
        prompts[name] = clip.prompt
        (args.out_dir / name).with_suffix(".txt").write_text(clip.prompt + "\n", encoding="utf-8")  # the caption
        annotations[name] = clip_annotations(clip, seed)
        # after every clip: a run stopped part-way leaves a prompts.json listing what it wrote, so --overwrite
        # finds those clips (annotations.json, larger, is written once at the end)
        (args.out_dir / "prompts.json").write_text(json.dumps(prompts, indent=1) + "\n")
    (args.out_dir / "annotations.json").write_text(json.dumps(annotations) + "\n")
    print(f"wrote {args.num} clips to {args.out_dir} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
