"""Long videos from the built-in model: drift, seams, sync over time, memory and speed, with ablations, in one run.

    python scripts/benchmark_long.py                            # 4 held-out prompts x 60 s, all settings
    python scripts/benchmark_long.py --num 2 --duration 20 --settings full no-adain --out runs/long_quick
    python scripts/benchmark_long.py --memory                   # peak RSS for 2, 8 and 32 chunks, fresh processes

For ``--num`` held-out seeds (from 1,000,000, as scripts/benchmark_quality.py) it renders the real synthetic clip of
``--duration`` seconds (static camera, one object) and, from the same prompt, generates a long video with
``generate_long`` under each setting: ``full`` (the defaults: carry-over 0.8, AdaIN 1.0, anchor, colour match 1 as
for one prompt, the model's STG and modality guidance), and each of them turned off in turn (``no-carryover``:
strength 0; ``no-adain``; ``no-anchor``; ``no-colour-match``; ``no-stg``). Every video is read back from its mp4 (the real clips too, written with the same encoder). Per setting, the means over the seeds of:

- drift: ``temporal_drift(frames, window=5 s)["drift"]``, the change of the mean colour between the first and
  the last 5 seconds, and its ratio to the real clips' (target <= 1.5; in brackets the 95 % bootstrap interval over
  the videos, drawn as pairs with the real clip of the same seed); beside it the same between the first and
  the next 5 seconds, and far / near: about 1 when the colour only fluctuates, above 1 when it accumulates;
- seams (:mod:`ltx_video.metrics.boundaries`, each boundary's transition = the overlap frames): flicker ratio
  (target <= 1.5), flow discontinuity ratio, style distance ratio;
- sync over time: the absolute audio-video offset (colour-tracked bounces against audio onsets, as
  benchmark_quality's "tracked" offset) in the first and the last 10 seconds, and last / first (target <= 1.2;
  its bootstrap interval likewise), and the medians over the videos of the first and the last window (one window in
  a few reads a bounce period away: docs/metrics.md); every 10-s window's signed offset is in results.json;
- direction changes at seams / inside: the object's direction changes (``colour_bounce_events``: its bounces, and
  any jump or turn) per frame inside the seams' overlap frames over those per frame elsewhere, pooled over the
  videos (the real clips, cut where the defaults' seams fall: about 1);
- the share of frames in which the prompt's object is found (colour tracking);
- wall time per generated second.

``--memory`` runs ``generate_long`` in a fresh process per length and reports each one's peak RSS
(``resource.getrusage``: the process's high-water mark, model loading included) and 8 chunks / 2 chunks (target
<= 1.1). Writes ``results.json`` and ``results.md`` to ``--out`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HELD_OUT_SEED = 1_000_000
SETTINGS = {
    "full": {},  # the defaults: since 2026-12-06 they include colour_match=1 (one prompt)
    "no-colour-match": {"colour_match": 0.0},  # the defaults until 2026-12-06
    "no-carryover": {"carryover_strength": 0.0},
    "carry-over 1": {"carryover_strength": 1.0},
    "overlap 16": {"overlap_frames": 16},  # the overlap held exactly (LTX-Video's extension at strength 1)
    "no-adain": {"adain_factor": 0.0},
    "no-anchor": {"anchor": False},
    "colour-match": {"colour_match": 1.0},  # = full for one prompt since 2026-12-06
    "colour-match frames": {"colour_match": 1.0, "colour_match_scope": "frame"},
    "no-stg": {"stg_scale": 0.0},  # the built-in model's defaults before 2026-12-04
}


def sync_windows(frames: np.ndarray, audio: np.ndarray, fps: float, colour, seconds: float) -> list[float]:
    """Signed audio-video offset (ms) of each ``seconds`` window: from the start every ``seconds``, and the last
    ``seconds`` of the video (nan where a window has no event)."""
    from ltx_video import metrics

    span, rate = round(seconds * fps), 16000
    starts = list(range(0, len(frames) - span + 1, span))
    if starts[-1] != len(frames) - span:
        starts.append(len(frames) - span)
    result = []
    for start in starts:
        window = frames[start : start + span]
        sound = audio[round(start / fps * rate) : round((start + span) / fps * rate)]
        times, strengths = metrics.colour_bounce_events(window, fps, colour)
        result.append(float(metrics.offset_from_events_ms(times, strengths, metrics.audio_onset_envelope(sound))))
    return result


def video_metrics(path: Path, prompt: str, boundaries: list[int], overlap: int, fps: float) -> dict:
    from ltx_video import metrics
    from ltx_video.data.synthetic import COLOURS, parse_prompt
    from ltx_video.io.media import read_audio, read_video_tensor

    frames = read_video_tensor(path)[0].permute(0, 2, 3, 1).numpy()
    audio = read_audio(path)[0][0].numpy()[: round(len(frames) / fps * 16000)]
    (colour, _), *_ = parse_prompt(prompt).objects
    rgb = COLOURS[colour]
    windows = sync_windows(frames, audio, fps, rgb, 10.0)
    five = round(5 * fps)
    row = {
        "drift": metrics.temporal_drift(frames, window=five)["drift"],
        "drift_near": metrics.temporal_drift(frames[: 2 * five], window=five)["drift"],
        "offset_first_ms": abs(windows[0]), "offset_last_ms": abs(windows[-1]), "offset_windows_ms": windows,
        "object_found": float(np.isfinite(metrics.colour_track(frames, rgb)[:, 0]).mean()),
    }
    if boundaries:
        # where the object changes direction (a bounce, or a jump): at the seams (each boundary's overlap frames)
        # against elsewhere; pooled over the videos in summarise()
        times, _ = metrics.colour_bounce_events(frames, fps, rgb)
        seam = np.zeros(len(frames), dtype=bool)
        for boundary in boundaries:
            seam[boundary : boundary + overlap] = True
        at = seam[np.clip(np.round(np.asarray(times) * fps).astype(int), 0, len(frames) - 1)]
        row.update(seam_events=int(at.sum()), seam_frames=int(seam.sum()), other_events=int((~at).sum()),
                   other_frames=int((~seam).sum()))
        row["flicker_ratio"] = metrics.boundary_flicker(frames, boundaries, width=overlap)["ratio"]
        row["flow_ratio"] = metrics.flow_discontinuity(frames, boundaries, width=overlap)["ratio"]
        row["style_ratio"] = metrics.style_distance(frames, boundaries, window=max(1, overlap // 2))["ratio"]
    return row


def _mean(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if key in r and np.isfinite(r[key])]
    return float(np.mean(values)) if values else float("nan")


def _column(rows: list[dict], key: str) -> np.ndarray:
    return np.array([r.get(key, np.nan) for r in rows], dtype=np.float64)


def ratio_interval(numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, float]:
    """95 % bootstrap interval of ``mean(numerator) / mean(denominator)``, the videos drawn with replacement as pairs
    (entry ``i`` of both comes from seed ``i``), as the table's ratios are read; a video without a reading in either
    is left out."""
    from ltx_video.metrics import bootstrap_interval

    kept = np.isfinite(numerator) & np.isfinite(denominator)
    numerator, denominator = numerator[kept], denominator[kept]

    def statistic(draws: np.ndarray) -> np.ndarray:
        index = draws.astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return numerator[index].mean(axis=-1) / denominator[index].mean(axis=-1)

    return bootstrap_interval(np.arange(len(numerator), dtype=np.float64), statistic)


def summarise(rows: list[dict], real_rows: list[dict]) -> dict:
    keys = ("drift", "drift_near", "flicker_ratio", "flow_ratio", "style_ratio", "offset_first_ms", "offset_last_ms",
            "object_found", "seconds_per_second")
    summary = {key: _mean(rows, key) for key in keys}
    real_drift = _mean(real_rows, "drift")
    summary["drift_vs_real"] = summary["drift"] / real_drift if real_drift > 0 else float("nan")
    summary["drift_vs_real_interval"] = ratio_interval(_column(rows, "drift"), _column(real_rows, "drift")) \
        if real_drift > 0 else (math.nan, math.nan)
    summary["drift_far_over_near"] = summary["drift"] / summary["drift_near"]
    summary["offset_last_over_first"] = summary["offset_last_ms"] / summary["offset_first_ms"]
    summary["offset_last_over_first_interval"] = ratio_interval(_column(rows, "offset_last_ms"),
                                                                _column(rows, "offset_first_ms"))
    counts = {key: sum(r.get(key, 0) for r in rows) for key in ("seam_events", "seam_frames", "other_events",
                                                                  "other_frames")}
    summary["seam_event_ratio"] = (counts["seam_events"] / counts["seam_frames"]) / (
        counts["other_events"] / counts["other_frames"]) if counts["seam_frames"] and counts["other_events"] else math.nan
    for key in ("offset_first_ms", "offset_last_ms"):  # robust to the one window in a few read a bounce away
        values = _column(rows, key)
        summary[f"{key}_median"] = float(np.median(values[np.isfinite(values)])) if np.isfinite(values).any() \
            else math.nan
    if rows is real_rows:  # a ratio to itself
        summary["drift_vs_real_interval"] = (math.nan, math.nan)
    return summary


def markdown(summary: dict[str, dict]) -> str:
    lines = [
        "| setting | drift (first vs last 5 s) | drift / real | drift first vs next 5 s | far / near | flicker at seams / inside | flow discontinuity "
        "ratio | style distance ratio | \\|AV offset\\| first 10 s (ms) | last 10 s (ms) | last / first | median first / "
        "last (ms) | direction changes at seams / inside | object found | s per video s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def with_interval(s: dict, key: str) -> str:
        low, high = s.get(f"{key}_interval", (math.nan, math.nan))
        return f"{s[key]:.2f}" + (f" [{low:.2f}, {high:.2f}]" if np.isfinite(low) and np.isfinite(high) else "")

    for name, s in summary.items():
        cells = [f"{s['drift']:.4f}", with_interval(s, "drift_vs_real"), f"{s['drift_near']:.4f}",
                 f"{s['drift_far_over_near']:.2f}", f"{s['flicker_ratio']:.2f}", f"{s['flow_ratio']:.2f}",
                 f"{s['style_ratio']:.2f}", f"{s['offset_first_ms']:.1f}", f"{s['offset_last_ms']:.1f}",
                 with_interval(s, "offset_last_over_first"),
                 f"{s['offset_first_ms_median']:.1f} / {s['offset_last_ms_median']:.1f}", f"{s['seam_event_ratio']:.2f}",
                 f"{100 * s['object_found']:.0f} %",
                 f"{s['seconds_per_second']:.2f}"]
        lines.append(f"| {name} | " + " | ".join(c.replace("nan", "-") for c in cells) + " |")
    return "\n".join(lines)


def quality(args) -> dict:
    from tqdm import tqdm

    from ltx_video.default_model import DEFAULT_GENERATION, load_default_pipeline
    from ltx_video.io.media import write_video
    from ltx_video.pipelines.long_video import ChunkLayout
    from ltx_video.training.data import DataConfig, synthetic_clip

    if args.model is not None:  # e.g. the continuation stage's pipeline/ (same size and rate as the built-in model)
        from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline

        pipe = LTXAudioVideoPipeline.from_pretrained(args.model)
    else:
        pipe = load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    fps = DEFAULT_GENERATION["frame_rate"]
    num_frames = round(args.duration * fps)
    ratio = pipe.vae_temporal_compression_ratio
    layouts = {name: ChunkLayout(num_frames, DEFAULT_GENERATION["num_frames"],
                                 SETTINGS.get(name, {}).get("overlap_frames", 2 * ratio), ratio)
               for name in ("real", *args.settings)}  # the real clips are cut where the defaults' seams are
    boundaries = {name: [layout.segment_pixels(k)[0] for k in range(1, layout.num_chunks)]
                  for name, layout in layouts.items()}
    data = DataConfig(height=DEFAULT_GENERATION["height"], width=DEFAULT_GENERATION["width"], num_frames=num_frames,
                      fps=fps, camera="static", max_objects=1)
    work = Path(tempfile.mkdtemp(prefix="benchmark_long_"))
    rows: dict[str, list[dict]] = {"real": []}
    rows.update({name: [] for name in args.settings})
    for i in tqdm(range(args.num), desc="prompts"):
        clip = synthetic_clip(HELD_OUT_SEED + i, data)
        real = write_video(work / f"real-{i}.mp4", (clip.video.permute(0, 2, 3, 1) + 1) / 2, fps,
                           audio=clip.audio, sample_rate=16000)
        rows["real"].append(video_metrics(real, clip.prompt, boundaries["real"], layouts["real"].overlap_frames, fps))
        for name in args.settings:
            began = time.perf_counter()
            out = pipe.generate_long(clip.prompt, output=work / f"{name}-{i}.mp4", num_frames=num_frames, seed=i,
                                     resume=False, **SETTINGS[name])
            seconds = time.perf_counter() - began
            row = video_metrics(out.path, clip.prompt, boundaries[name], layouts[name].overlap_frames, fps)
            row["seconds_per_second"] = seconds / args.duration
            rows[name].append(row)
    return {"summary": {name: summarise(r, rows["real"]) for name, r in rows.items()}, "per_video": rows,
            "num_chunks": {name: layout.num_chunks for name, layout in layouts.items()}, "boundaries": boundaries}


def _child_rss(chunks: int) -> None:
    """In a fresh process: ``chunks`` chunks of the built-in model; prints the peak RSS in MiB."""
    from ltx_video.default_model import load_default_pipeline

    pipe = load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    num_frames = 49 + (chunks - 1) * 44  # 49-frame chunks, 8 frames of overlap
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        out = pipe.generate_long("a red ball bounces", output=Path(folder) / "long.mp4", num_frames=num_frames, seed=0)
        seconds = time.perf_counter() - began
    assert out.num_chunks == chunks, out.num_chunks
    print(json.dumps({"chunks": chunks, "frames": num_frames, "seconds": seconds,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def memory(counts: list[int]) -> dict:
    results = {}
    for chunks in counts:
        done = subprocess.run([sys.executable, __file__, "--rss-child", str(chunks)], capture_output=True, text=True,
                              check=True)
        results[chunks] = json.loads(done.stdout.strip().splitlines()[-1])
        print(results[chunks], flush=True)
    results["ratio_8_over_2"] = results[8]["peak_rss_mib"] / results[2]["peak_rss_mib"] if 8 in results and 2 in results \
        else math.nan
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num", type=int, default=4, help="held-out prompts (default: 4)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per video (default: 60)")
    parser.add_argument("--settings", nargs="+", choices=tuple(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--model", type=Path, help="an LTXAudioVideoPipeline folder of the built-in model's size "
                        "(default: the built-in model; not used by --memory)")
    parser.add_argument("--memory", action="store_true", help="peak RSS for 2, 8 and 32 chunks instead")
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=Path("runs/benchmark_long"))
    args = parser.parse_args(argv)
    if args.rss_child:
        _child_rss(args.rss_child)
        return 0
    if args.duration < 20:
        parser.error("--duration must be >= 20 s (two 10-second sync windows)")
    if args.num < 1:  # -1 loaded the model and wrote an empty report over an earlier one
        parser.error(f"--num must be >= 1, got {args.num}")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.memory:
        report = memory([2, 8, 32])
        (args.out / "memory.json").write_text(json.dumps(report, indent=2))
        print(f"peak RSS, 8 chunks / 2 chunks: {report['ratio_8_over_2']:.3f}")
        return 0
    began = time.perf_counter()
    report = quality(args)
    report["wall_seconds"] = time.perf_counter() - began
    (args.out / "results.json").write_text(json.dumps(report, indent=2, default=float).replace("NaN", "null"))
    table = markdown(report["summary"])
    (args.out / "results.md").write_text(table + "\n")
    print(table)
    print(f"{args.num} prompts x {args.duration:g} s ({report['num_chunks']['real']} chunks each at the default overlap) "
          f"in {report['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
