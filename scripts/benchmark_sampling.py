"""Does a sampling setting fix the built-in model's sync? Generated clips only, colour-tracked events.

    python scripts/benchmark_sampling.py --num 16
    python scripts/benchmark_sampling.py --tuning --num 32 --settings "no STG" "STG 1.5, block 2"

For each setting (the model's defaults; CFG 5, CFG 1.5, 50 steps; spatiotemporal guidance at several scales and
blocks; ``"no STG"``; modality guidance at several scales, ``"no modality"``; ``"audio=..."``: the video generated
to the clip's real sound and measured against it; ``"video="``: the sound generated to the clip's real frames, against
them; the sigma schedule), ``--num`` held-out prompts (``benchmark_quality.held_out_clip``: seeds from 1,000,000; with
``--tuning`` from 2,000,000, where settings are chosen so that the held-out figures stay unbiased) are generated and
measured: the absolute audio-video offset (mean, median, share within 65 ms), colour-tracked AV-Align, the share of clips whose object is
found in every frame, how far it moves per frame and the flicker (each against the real clips'), and colour adherence. Cheaper than
``benchmark_quality.py``: no real, reconstructed or shuffled rows. Beside the mean, the share within 65 ms and
AV-Align: their 95 % bootstrap intervals over the clips (``metrics.bootstrap_interval``); with several settings, each
one's differences from the first, clip by clip on the same seeds, with their intervals. ``--out`` writes the per-clip
readings (JSON, after every setting); ``--paired-with`` reads such a file back and prints each setting's differences
from that file's row of the same name, clip by clip (another model on the same prompts and seeds):

    python scripts/benchmark_sampling.py --num 64 --settings defaults --out runs/shipped.json
    python scripts/benchmark_sampling.py --num 64 --settings defaults --model PIPELINE --paired-with runs/shipped.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


SETTINGS = {
    "defaults": {},  # the model's generation_defaults.json (built-in: 30 steps, CFG 3, STG 1.5 at block 2, audio modality 8)
    "CFG 5": {"guidance_scale": 5.0},
    "CFG 1.5": {"guidance_scale": 1.5},
    "50 steps": {"num_inference_steps": 50},
    # Spatiotemporal guidance as LTX-Video 0.9.8 runs it: one block's self-attention made the identity map in a
    # third pass, the output pushed away from that pass (the video stream only).
    "STG 1, block 1": {"stg_scale": 1.0, "skip_block_list": [1]},
    "STG 1, block 3": {"stg_scale": 1.0, "skip_block_list": [3]},
    "STG 1, block 5": {"stg_scale": 1.0, "skip_block_list": [5]},
    "STG 2, block 3": {"stg_scale": 2.0, "skip_block_list": [3]},
    "STG 1, block 2": {"stg_scale": 1.0, "skip_block_list": [2]},
    "STG 1, block 4": {"stg_scale": 1.0, "skip_block_list": [4]},
    "STG 0.5, block 3": {"stg_scale": 0.5, "skip_block_list": [3]},
    "STG 1.5, block 3": {"stg_scale": 1.5, "skip_block_list": [3]},
    "STG 1, blocks 3 and 5": {"stg_scale": 1.0, "skip_block_list": [3, 5]},
    "STG 1.5, block 2": {"stg_scale": 1.5, "skip_block_list": [2]},
    "STG 1, blocks 2 and 3": {"stg_scale": 1.0, "skip_block_list": [2, 3]},
    "STG 2, block 2": {"stg_scale": 2.0, "skip_block_list": [2]},
    "STG 3, block 2": {"stg_scale": 3.0, "skip_block_list": [2]},
    "no STG": {"stg_scale": 0.0},
    "no modality": {"audio_modality_scale": 1.0},  # the defaults before modality guidance: STG only
    # Against the jittery motion of the tail clips: diffusers' CFG rescale; LTX-Video's STG rescale off; more steps.
    "CFG rescale 0.7": {"guidance_rescale": 0.7},
    "no STG rescale": {"rescaling_scale": 1.0},
    "40 steps": {"num_inference_steps": 40},
    "CFG rescale 0.5": {"guidance_rescale": 0.5},
    "CFG rescale 0.9": {"guidance_rescale": 0.9},
    "CFG rescale 0.7, no STG rescale": {"guidance_rescale": 0.7, "rescaling_scale": 1.0},
    # The STG rescale stronger (LTX-Video's r: the result times r std(cond) / std(guided) + 1 - r; 1.0 is its 'off'),
    # and off for the steps at t >= 500 only (26 of the built-in model's 30) or for the rest only (the last 4).
    "STG rescale 0.85": {"rescaling_scale": 0.85},
    # ... and weaker: r between 0 (no rescale, as 1.0) and the default 0.7.
    "STG rescale 0.35": {"rescaling_scale": 0.35},
    "STG rescale 0.5": {"rescaling_scale": 0.5},
    "no STG rescale above t 500": {"rescaling_scale": [1.0, 0.7], "guidance_timesteps": [500, 0]},
    "no STG rescale below t 500": {"rescaling_scale": [0.7, 1.0], "guidance_timesteps": [500, 0]},
    # The sigma schedule. LTX-Video's linear-quadratic one (the default) spends the first half of the steps between
    # sigma 1 and 0.975, where a model trained on logit-normal t (scripts/train.py) has almost never been trained
    # (P(t > 0.975) = 1e-4); these spread the steps over the range it was trained on (at the call's step count).
    "linear schedule": {"_schedule": "linear"},  # sigmas 1 ... 1/n, as diffusers' LTXPipeline before its shift
    "linear-quadratic, 5 linear steps": {"_schedule": "linear-quadratic, 5 linear"},
    # Not a schedule: timestep_schedule="shifted" switches to diffusers' LTXPipeline conventions as a whole (unmasked
    # text encoder, no causal temporal positions, image conditioning without noise); the built-in scheduler does not
    # shift (use_dynamic_shifting false), so its sigmas are the linear schedule's.
    "diffusers conventions": {"timestep_schedule": "shifted"},
    # Two stages: the defaults' clip, then its sound generated again for its own frames (all held, video=).
    "resound": {"_resound": True},
    # ... and the other way round: the defaults' clip, then its video generated again to its own sound (held, audio=),
    # sampled as the model's defaults for a given sound say (given_audio: video modality guidance 3).
    "revideo": {"_revideo": True},
    # LTX-2's modality guidance on top of the defaults: a fourth pass without the audio<->video exchange; each
    # stream pushed away from it (video: toward what the audio implies; audio: toward the video).
    "modality 2": {"modality_scale": 2.0, "audio_modality_scale": 2.0},
    "modality 3": {"modality_scale": 3.0, "audio_modality_scale": 3.0},
    "video modality 3": {"modality_scale": 3.0},
    "audio modality 3": {"audio_modality_scale": 3.0},
    "audio modality 2": {"audio_modality_scale": 2.0},
    "audio modality 5": {"audio_modality_scale": 5.0},
    "audio modality 8": {"audio_modality_scale": 8.0},
    "audio modality 12": {"audio_modality_scale": 12.0},
    "audio modality 20": {"audio_modality_scale": 20.0},
    "audio modality 8, audio CFG 1.5": {"audio_modality_scale": 8.0, "audio_guidance_scale": 1.5},
    # Video generated to the clip's real sound (audio=), measured against that sound: the joint generation's defaults,
    # then the video pushed toward what the audio implies (modality guidance on the video stream). Modality 3 was
    # chosen here and is the built-in model's default for a given sound (generation_defaults.json: given_audio).
    "audio=": {"_given_audio": True},
    "audio=, video modality 3": {"_given_audio": True, "modality_scale": 3.0},
    "audio=, video modality 5": {"_given_audio": True, "modality_scale": 5.0},
    # Sound generated to the clip's real frames (video=, every frame held), measured against those frames.
    "video=": {"_given_video": True},
}


def object_speed(track: np.ndarray) -> float:
    """Mean distance in px a ``colour_track`` moves per frame (over frame pairs where the object is found): a
    guidance that keeps the object by freezing it shows here."""
    steps = np.linalg.norm(np.diff(track, axis=0), axis=1)
    return float(np.nanmean(steps)) if np.isfinite(steps).any() else float("nan")


def schedule_timesteps(name: str, steps: int) -> list[float]:
    """The timesteps of a ``_schedule`` setting at ``steps`` steps."""
    from ltx_video.pipelines.denoising import linear_quadratic_schedule, shifted_sigmas

    if name == "linear":
        return (1000.0 * shifted_sigmas(steps)).tolist()
    if name == "linear-quadratic, 5 linear":
        return (1000.0 * linear_quadratic_schedule(steps, linear_steps=5)).tolist()
    raise ValueError(f"unknown schedule {name!r}")


def _interval(values, fmt: str) -> str:
    """``[low, high]``: the 95 % percentile bootstrap interval of the mean over the clips, in ``fmt``."""
    from ltx_video.metrics import bootstrap_interval

    low, high = bootstrap_interval(np.asarray(values, dtype=float))
    return f"[{low:{fmt}}, {high:{fmt}}]"


def paired_differences(clips: dict, baseline: dict) -> str:
    """Mean offset, share within 65 ms and AV-Align of one setting minus another's, clip by clip on the same seeds,
    with 95 % intervals. Clips where either setting has no offset reading are left out of the first two."""
    offset = np.array(clips["abs_offset_ms"], dtype=float)
    base = np.array(baseline["abs_offset_ms"], dtype=float)
    both = np.isfinite(offset) & np.isfinite(base)
    differences = offset[both] - base[both]
    within = (offset[both] <= 65).astype(float) - (base[both] <= 65)
    align = np.array(clips["av_align"], dtype=float) - np.array(baseline["av_align"], dtype=float)
    return (f"{differences.mean():+.1f} {_interval(differences, '+.1f')} ms | {100 * within.mean():+.1f} "
            f"{_interval(100 * within, '+.1f')} points | {align.mean():+.3f} {_interval(align, '+.3f')} | {both.sum()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num", type=int, default=16, help="held-out prompts per setting (>= 1)")
    parser.add_argument("--tuning", action="store_true", help="prompts and seeds from 2,000,000 instead of the "
                        "held-out 1,000,000: choose settings here, report them on the held-out set")
    parser.add_argument("--model", type=Path, help="a saved LTXAudioVideoPipeline folder, sampled with the built-in "
                        "model's defaults and the settings' changes (default: the built-in model)")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), metavar="NAME",
                        help=f"rows to run (default: all): {', '.join(repr(name) for name in SETTINGS)}")
    parser.add_argument("--out", type=Path, help="also write the per-clip readings here (JSON), for paired comparisons")
    parser.add_argument("--paired-with", type=Path, metavar="JSON", help="an earlier --out file on the same prompts "
                        "(--num, --tuning): each setting's differences from its row of the same name, clip by clip")
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f"--num must be >= 1, got {args.num}")
    unknown = [name for name in args.settings if name not in SETTINGS]
    if unknown:
        parser.error(f"--settings: unknown {unknown}; choose from {list(SETTINGS)}")
    if args.model is not None and not (args.model / "model_index.json").is_file():
        parser.error(f"--model: {args.model} has no model_index.json (expected a saved pipeline folder)")
    earlier = None
    if args.paired_with is not None:
        try:
            earlier = earlier_readings(args.paired_with, _seeds(args), args.settings)
        except (OSError, ValueError) as error:
            parser.error(f"--paired-with: {error}")

    from benchmark_quality import held_out_clip

    from ltx_video import metrics
    from ltx_video.data.synthetic import COLOURS, SAMPLE_RATE, parse_prompt
    from ltx_video.default_model import DEFAULT_GENERATION, DEFAULT_GENERATION_GIVEN_AUDIO, load_default_pipeline

    if args.model is not None:
        from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline

        pipe = LTXAudioVideoPipeline.from_pretrained(args.model)
    else:
        pipe = load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    print("| setting | abs offset ms: mean / median | within 65 ms | AV-Align | object in every frame | object speed "
          "px/frame (real) | flicker (real) | colour adherence | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    per_clip = {}
    for name in args.settings:
        call = {**DEFAULT_GENERATION, **SETTINGS[name]}
        if "_schedule" in call:
            call["timesteps"] = schedule_timesteps(call.pop("_schedule"), call["num_inference_steps"])
        resound = call.pop("_resound", False)
        given_audio = call.pop("_given_audio", False)
        revideo = call.pop("_revideo", False)
        given_video = call.pop("_given_video", False)
        offsets, align, present, colour, speed, real_speed, flicker, real_flicker = [], [], [], [], [], [], [], []
        start = time.perf_counter()
        for index in _seeds(args):
            clip, prompt = held_out_clip(index, call)
            sound = {"audio": clip.audio, "audio_sample_rate": SAMPLE_RATE} if given_audio else {}
            sight = {"video": (clip.video + 1) / 2, "frame_index": 0, "strength": 1.0} if given_video else {}
            out = pipe(prompt, generator=torch.Generator().manual_seed(index), output_type="pt", **sound, **sight, **call)
            frames, audio = out.frames[0], (clip.audio if given_audio else out.audio[0][0])
            if given_video:
                frames = (clip.video + 1) / 2
            if resound:
                audio = pipe(prompt, video=frames, frame_index=0, strength=1.0, output_type="pt",
                             generator=torch.Generator().manual_seed(index), **call).audio[0][0]
            if revideo:
                frames = pipe(prompt, audio=audio, audio_sample_rate=SAMPLE_RATE, output_type="pt",
                              generator=torch.Generator().manual_seed(index),
                              **{**call, **DEFAULT_GENERATION_GIVEN_AUDIO}).frames[0]
            (object_colour, _), *_ = parse_prompt(clip.prompt).objects
            rgb = COLOURS[object_colour]
            times, strengths = metrics.colour_bounce_events(frames, call["frame_rate"], rgb)
            offsets.append(abs(metrics.offset_from_events_ms(times, strengths, metrics.audio_onset_envelope(audio))))
            align.append(metrics.align_score_from_times(metrics.audio_onset_times(audio), times, 1 / call["frame_rate"]))
            track = metrics.colour_track(frames, rgb)
            present.append(bool(np.isfinite(track).all()))
            colour.append(metrics.prompt_adherence(frames, clip.prompt, shapes=False))
            speed.append(object_speed(track))
            real_speed.append(object_speed(metrics.colour_track((clip.video + 1) / 2, rgb)))
            flicker.append(metrics.flicker(frames))
            real_flicker.append(metrics.flicker((clip.video + 1) / 2))
        found = np.array([o for o in offsets if np.isfinite(o)])
        per_clip[name] = {"abs_offset_ms": offsets, "av_align": align, "object_in_every_frame": present,
                          "colour_adherence": colour}
        print(
            f"| {name} | {found.mean():.1f} {_interval(found, '.1f')} / {np.median(found):.1f} | "
            f"{(found <= 65).mean():.2f} {_interval(found <= 65, '.2f')} | {np.mean(align):.3f} {_interval(align, '.3f')} | "
            f"{np.mean(present):.2f} | {np.nanmean(speed):.2f} ({np.nanmean(real_speed):.2f}) | "
            f"{np.mean(flicker):.4f} ({np.mean(real_flicker):.4f}) | {np.mean(colour):.3f} | {time.perf_counter() - start:.0f} |",
            flush=True,
        )
        if args.out is not None:  # after every setting, so a long run that stops keeps what it measured
            report = {"model": str(args.model or "built-in"), "held_out_indices": _seeds(args), "settings": {
                n: {**DEFAULT_GENERATION, **SETTINGS[n]} for n in per_clip}, "per_clip": per_clip}
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(_finite_or_none(report), indent=1))
    if len(per_clip) > 1:
        first, *others = per_clip
        print(f"\n| setting minus {first!r}, clip by clip | mean abs offset | within 65 ms | AV-Align | clips with both "
              "offsets |\n|---|---|---|---|---|")
        for name in others:
            print(f"| {name} | {paired_differences(per_clip[name], per_clip[first])} |")
    if earlier is not None:
        print(f"\n| setting, this run minus {earlier['model']!r} ({args.paired_with}), clip by clip | mean abs offset | "
              "within 65 ms | AV-Align | clips with both offsets |\n|---|---|---|---|---|")
        for name in args.settings:
            print(f"| {name} | {paired_differences(per_clip[name], earlier['per_clip'][name])} |")
    return 0


def _seeds(args) -> list[int]:
    """The indices of the prompts and seeds a run measures (``held_out_clip``'s ``index``)."""
    return [i + 1_000_000 * args.tuning for i in range(args.num)]


def earlier_readings(path: Path, seeds: list[int], settings: list[str]) -> dict:
    """An earlier ``--out`` report, checked to hold every one of ``settings`` on exactly these ``seeds``, with its
    missing readings (``null``) as NaN again; a ValueError naming what differs otherwise."""
    report = json.loads(Path(path).read_text())
    if report.get("held_out_indices") != seeds:
        theirs = report.get("held_out_indices") or []
        raise ValueError(f"{path} measured {len(theirs)} prompts from index {theirs[0] if theirs else None}, this run "
                         f"{len(seeds)} from {seeds[0]}: pass the same --num and --tuning")
    missing = [name for name in settings if name not in report.get("per_clip", {})]
    if missing:
        raise ValueError(f"{path} has no rows {missing}; it has {list(report.get('per_clip', {}))}")
    per_clip = {name: {key: [math.nan if v is None else v for v in values] for key, values in clips.items()}
                for name, clips in report["per_clip"].items()}
    return {"model": report.get("model", "?"), "per_clip": per_clip}


def _finite_or_none(value):
    """JSON-ready: NaN and infinities as null, numpy and bool values as Python ones."""
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


if __name__ == "__main__":
    raise SystemExit(main())
