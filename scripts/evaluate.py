"""Compute every metric of ``ltx_video.metrics`` on a folder (or list) of video files.

    python scripts/evaluate.py clips/ --out results          # writes results.json and results.md
    python scripts/evaluate.py a.mp4 b.mp4 --prompts prompts.json

Prompts come from a sidecar ``prompts.json`` (file name -> prompt) next to the videos, or ``--prompts``, else from
a training folder's caption beside each video (``name.txt``); both JSON files are read and checked before any clip
is. Rows are named by file name, or by the path as given where two inputs share a name;
``annotations.json`` (as written by ``scripts/make_synthetic.py``) adds ground-truth errors: the audio-video
offset against 0 ms and the camera motion against the true one.

A folder gives its video files (the suffixes in ``VIDEO_SUFFIXES``: what the library writes, .mp4 .mov .mkv .m4v,
and other containers PyAV reads, .webm .gif .avi ...); the other files in it are named on stderr, except the
sidecars read here (prompts.json, annotations.json, captions). A variable-frame-rate file is measured on a constant
timeline (``read_video_tensor``, with a warning).

Exit status: 0 when every clip was evaluated; 1 when any clip could not be (unreadable, or under 3 frames): each is
named on stderr with its error, and both reports are still written, with the error in its row; 2 for bad arguments
(nothing evaluated).
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
from tqdm import tqdm

from ltx_video import metrics
from ltx_video.io.media import audio_start_offset, read_audio, read_video_tensor

SAMPLE_RATE = 16000
# What VideoStreamWriter writes, then other containers of video that PyAV (FFmpeg) reads.
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v", ".webm", ".gif", ".avi", ".ts", ".mts", ".m2ts", ".mpg", ".mpeg",
                  ".flv", ".wmv", ".ogv", ".3gp")
SIDECARS = ("prompts.json", "annotations.json")


def _videos(inputs: list[Path]) -> list[Path]:
    """The files given, and each folder's video files (by suffix, any case); a folder's other files are named on
    stderr (before 2026-12-07 a folder gave only its .mp4 files, and its .mov, .webm ... were left out silently)."""
    files = []
    for item in inputs:
        if item.is_dir():
            entries = sorted(f for f in item.iterdir() if f.is_file())
            videos = [f for f in entries if f.suffix.lower() in VIDEO_SUFFIXES]
            stems = {f.stem for f in videos}
            skipped = [f.name for f in entries if f not in videos and f.name not in SIDECARS
                       and not (f.suffix == ".txt" and f.stem in stems)]  # a training folder's captions
            if skipped:
                shown = ", ".join(skipped[:10]) + (f" and {len(skipped) - 10} more" if len(skipped) > 10 else "")
                print(f"evaluate.py: skipped {len(skipped)} file(s) in {item} that are not videos "
                      f"({' '.join(VIDEO_SUFFIXES)}): {shown}", file=sys.stderr)
            files += videos
        elif item.is_file():
            files.append(item)
        else:
            raise FileNotFoundError(f"not found: {item}")
    if not files:
        raise ValueError(f"no video files ({' '.join(VIDEO_SUFFIXES)}) in {', '.join(map(str, inputs))}")
    return files


def _json_object(path: Path, what: str, values: type) -> dict:
    """``path``'s JSON object (file name -> ``values``), or ValueError naming the file and what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{what} {path}: not a readable JSON file ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{what} {path}: expected a JSON object (file name -> {values.__name__}), got a "
                         f"{type(data).__name__}")
    wrong = [key for key, value in data.items() if not isinstance(value, values)]
    if wrong:
        raise ValueError(f"{what} {path}: the entry for {wrong[0]!r} must be a {values.__name__}, got "
                         f"{type(data[wrong[0]]).__name__}")
    return data


def _sidecars(files: list[Path], name: str, values: type) -> dict[Path, dict]:
    """The ``name`` JSON of each folder holding one of ``files`` (per folder, so two folders with the same file
    names do not mix), read and checked before any clip is evaluated."""
    folders = {f.parent for f in files}
    return {folder: _json_object(folder / name, name, values) for folder in sorted(folders)
            if (folder / name).is_file()}


def _labels(files: list[Path]) -> list[str]:
    """Each file's name in the report; the path as given where two files share a name (two models' seeds)."""
    names = [f.name for f in files]
    return [f.name if names.count(f.name) == 1 else str(f) for f in files]


def _aligned_audio(path: Path, num_samples_hint: int) -> np.ndarray | None:
    """Mono 16 kHz audio aligned to the first video frame (silence prepended or samples dropped), or None."""
    try:
        audio, _ = read_audio(path, sample_rate=SAMPLE_RATE)
    except ValueError:  # no audio stream
        return None
    shift = round(audio_start_offset(path) * SAMPLE_RATE)
    audio = audio[0].numpy()
    audio = np.concatenate([np.zeros(shift, audio.dtype), audio]) if shift > 0 else audio[-shift:]
    return audio[: max(num_samples_hint, 1)]


def evaluate_file(path: Path, prompt: str | None, truth: dict | None, label: str | None = None) -> dict:
    """All metrics for one file; ground-truth errors when ``truth`` (its annotations) is given."""
    frames, fps = read_video_tensor(path)
    audio = _aligned_audio(path, round(frames.shape[0] / fps * SAMPLE_RATE))
    row: dict = {"file": label or path.name, "frames": int(frames.shape[0]), "fps": fps}
    if frames.shape[0] < 3:
        row["error"] = "fewer than 3 frames: no temporal metric applies"
        return row
    row["flicker"] = metrics.flicker(frames)
    row["drift"] = metrics.temporal_drift(frames, window=min(8, frames.shape[0] // 2))["drift"]
    camera = metrics.camera_motion(frames)
    row["camera_dx"], row["camera_dy"] = float(camera[:, 0].mean()), float(camera[:, 1].mean())
    row["camera_zoom"] = float(np.prod(camera[:, 2]) ** (1 / len(camera)))
    if audio is not None:
        # The video's motion events are the costly part: computed once for both sync metrics (the two
        # public halves av_sync_offset_ms / av_align_score are built from), reusing the camera motion.
        times, strengths = metrics.video_motion_events(frames, fps, camera=camera)
        envelope = metrics.audio_onset_envelope(audio, SAMPLE_RATE)
        row["av_offset_ms"] = metrics.offset_from_events_ms(times, strengths, envelope)
        row["av_align"] = metrics.align_score_from_times(metrics.audio_onset_times(audio, SAMPLE_RATE), times, 1 / fps)
    if prompt is not None:
        try:
            row["prompt_adherence"] = metrics.prompt_adherence(frames, prompt)
        except ValueError as error:  # a prompt outside the synthetic grammar
            row["prompt_adherence_error"] = str(error)
    if truth is not None and "camera" in truth:
        true_camera = np.asarray(truth["camera"], dtype=np.float64)
        n = min(len(true_camera), len(camera))
        row["camera_err_px"] = float(np.abs(camera[:n, :2] - true_camera[:n, :2]).mean())
        row["camera_zoom_err"] = float(abs(np.prod(camera[:n, 2]) / np.prod(true_camera[:n, 2]) - 1))
    return row


def _mean(rows: list[dict], key: str, fn=lambda x: x) -> float:
    values = [fn(r[key]) for r in rows if key in r and not math.isnan(r[key])]
    return float(np.mean(values)) if values else float("nan")


def summarize(rows: list[dict]) -> dict:
    return {
        "clips": len(rows),
        "mean_abs_av_offset_ms": _mean(rows, "av_offset_ms", abs),
        "av_align": _mean(rows, "av_align"),
        "prompt_adherence": _mean(rows, "prompt_adherence"),
        "flicker": _mean(rows, "flicker"),
        "drift": _mean(rows, "drift"),
        "camera_err_px": _mean(rows, "camera_err_px"),
        "camera_zoom_err": _mean(rows, "camera_zoom_err"),
        "undetected_av_offsets": sum(1 for r in rows if "av_offset_ms" in r and math.isnan(r["av_offset_ms"])),
        "errors": sum(1 for r in rows if "error" in r),
    }


def _json_safe(value):
    """NaN and infinities -> null, so strict JSON parsers read the report."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def markdown(rows: list[dict], summary: dict) -> str:
    keys = ["file", "av_offset_ms", "av_align", "prompt_adherence", "flicker", "drift", "camera_dx", "camera_dy",
            "camera_zoom", "camera_err_px", "error", "prompt_adherence_error"]
    keys = [k for k in keys if any(k in r for r in rows)]
    lines = []
    if rows:
        lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        for r in rows:
            cells = [r.get(k, "") for k in keys]
            lines.append("| " + " | ".join(f"{c:.3f}" if isinstance(c, float) else str(c).replace("|", "\\|")
                                           for c in cells) + " |")
        lines.append("")
    lines += ["| summary | value |", "|---|---|"]
    lines += [f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in summary.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="video files or folders of them")
    parser.add_argument("--prompts", type=Path, help="JSON file name -> prompt (default: prompts.json beside them)")
    parser.add_argument("--out", type=Path, default=Path("evaluation"),
                        help="output stem: STEM.json and STEM.md are written (replaced if they exist)")
    args = parser.parse_args(argv)
    try:
        files = _videos(args.inputs)
        explicit = _json_object(args.prompts, "--prompts", str) if args.prompts is not None else None
        prompts = _sidecars(files, "prompts.json", str) if explicit is None else {}
        annotations = _sidecars(files, "annotations.json", dict)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    # Where the report goes is checked before the clips are evaluated, so a bad --out loses no work.
    stem = args.out.with_name(args.out.name.removesuffix(".json").removesuffix(".md"))  # "run_v1.2" keeps its ".2"
    targets = [stem.with_name(stem.name + suffix) for suffix in (".json", ".md")]
    try:
        stem.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--out {args.out}: cannot create its folder ({error.strerror}: {error.filename})")
    for target in targets:
        if target.is_dir() or not os.access(stem.parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
            parser.error(f"--out {args.out}: cannot write {target}")
    start = time.perf_counter()
    rows = []
    for f, label in zip(tqdm(files, desc="evaluating"), _labels(files), strict=True):
        try:
            prompt = (explicit if explicit is not None else prompts.get(f.parent, {})).get(f.name)
            if prompt is None and f.with_suffix(".txt").is_file():  # a training folder's caption beside the video
                prompt = f.with_suffix(".txt").read_text(encoding="utf-8-sig").strip()
            rows.append(evaluate_file(f, prompt, annotations.get(f.parent, {}).get(f.name), label))
        except Exception as error:  # one unreadable file must not end the run; it is reported in its row
            rows.append({"file": label, "error": f"{type(error).__name__}: {error}"})
    summary = summarize(rows)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    report = json.dumps(_json_safe({"summary": summary, "clips": rows}), indent=2, allow_nan=False)
    targets[0].write_text(report)
    targets[1].write_text(markdown(rows, summary))
    print(markdown([], summary).strip())
    failed = [(f, row["error"]) for f, row in zip(files, rows, strict=True) if "error" in row]
    for f, error in failed:
        print(f"evaluate.py: {f}: {' '.join(error.split())}", file=sys.stderr)  # one line each, whatever FFmpeg said
    if failed:
        print(f"evaluate.py: {len(failed)} of {len(files)} clips could not be evaluated (reports written: "
              f"{targets[0]}, {targets[1]})", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
