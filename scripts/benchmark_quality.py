"""Quality of a generated audio-video model on held-out synthetic prompts, with bounds, in one run.

    python scripts/benchmark_quality.py                       # the built-in default model, 32 clips
    python scripts/benchmark_quality.py --num 64 --model runs/default/transformer/pipeline --out runs/quality

For ``--num`` held-out seeds (from 1,000,000; the default model trained on seeds 0-2047) it renders the
real synthetic clip (static camera, one object, as the default model's training data) and generates a
clip from the same prompt (every other prompt without its ``", the camera is static"`` phrase) at the
model's training size. Then, with ``ltx_video.metrics``, on three sets:

- ``real``: the synthetic clips themselves (upper bound),
- ``reconstructed``: the real clips through the model's video VAE and audio autoencoder (what the
  autoencoders alone allow the generator to reach),
- ``generated``: the model's video with the model's audio,
- ``shuffled``: the model's video with the audio generated for the next prompt (lower bound: same
  kind of sound, unrelated timing),
- ``audio=``: video generated to match the real clip's audio (audio-to-video), against that audio, sampled with
  the model's defaults for a given sound (``given_audio``: video modality guidance 3, since 2026-12-05),
- ``video=``: audio generated to match the real clip's frames (video-to-audio: the whole clip given as the
  conditioning video at strength 1, so every video token is held clean), that audio against those frames.

Reported: the mean and median absolute audio-video offset (ms, over the clips whose video has an event
and audio an onset) and AV-Align (tolerance one frame), with the video's events found two ways: by the
toolkit's segmenting detector (:func:`ltx_video.metrics.video_motion_events`, exact on clean video,
strict on imperfect rendering) and by following the prompt's colour
(:func:`ltx_video.metrics.colour_bounce_events`); the share of clips within 42 ms (one frame at
24 fps) and 65 ms; colour adherence and full (colour + shape) prompt adherence; flicker; the share of clips
whose object (the prompt's colour) is found in every frame; and the sound's tone quality
(:mod:`ltx_video.metrics.audio_quality`: pitch error in cents against the prompt shape's pitch, unsigned and
signed, tone SNR,
onset rise time; medians). Writes ``results.json`` and ``results.md``
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
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HELD_OUT_SEED = 1_000_000


def held_out_clip(index: int, call: dict):
    """``(clip, prompt)``: held-out synthetic clip ``index`` at the generation size (static camera, one object,
    as the built-in model's training data) and its prompt, every other one without its camera phrase."""
    from ltx_video.training.data import DataConfig, synthetic_clip

    data = DataConfig(
        height=call["height"],
        width=call["width"],
        num_frames=call["num_frames"],
        fps=call["frame_rate"],
        camera="static",
        max_objects=1,
    )
    clip = synthetic_clip(HELD_OUT_SEED + index, data)
    return clip, clip.prompt if index % 2 == 0 else clip.prompt.removesuffix(", the camera is static")


def _clip_metrics(frames, audio, fps: float, prompt: str, events=None) -> dict:
    """``events``: the frames' ``video_motion_events`` when already computed (the shuffled set reuses the
    generated video's); ``av_sync_offset_ms`` and ``av_align_score`` are exactly these events through
    ``offset_from_events_ms`` and ``align_score_from_times`` (tested)."""
    from ltx_video import metrics
    from ltx_video.data.synthetic import COLOURS, SHAPE_PITCH_HZ, parse_prompt

    (colour, shape), *_ = parse_prompt(prompt).objects
    times, strengths = metrics.colour_bounce_events(frames, fps, COLOURS[colour])
    envelope = metrics.audio_onset_envelope(audio)
    segmented, segmented_strengths = metrics.video_motion_events(frames, fps) if events is None else events
    onsets = metrics.audio_onset_times(audio)
    pitch = metrics.tone_pitch_hz(audio)
    return {
        "object_in_every_frame": float(np.isfinite(metrics.colour_track(frames, COLOURS[colour])).all()),
        "pitch_error_cents": abs(1200 * math.log2(pitch / SHAPE_PITCH_HZ[shape]))
        if math.isfinite(pitch)
        else float("nan"),
        # signed (negative: flat): the unsigned median alone hid that generated tones lean flat (since 2026-12-07)
        "pitch_cents": 1200 * math.log2(pitch / SHAPE_PITCH_HZ[shape]) if math.isfinite(pitch) else float("nan"),
        "tone_snr_db": metrics.tone_snr_db(audio, pitch_hz=SHAPE_PITCH_HZ[shape]),
        "onset_rise_ms": metrics.onset_rise_ms(audio),
        "offset_ms": metrics.offset_from_events_ms(segmented, segmented_strengths, envelope),
        "av_align": metrics.align_score_from_times(onsets, segmented, 1 / fps),
        "tracked_offset_ms": metrics.offset_from_events_ms(times, strengths, envelope),
        "tracked_av_align": metrics.align_score_from_times(onsets, times, 1 / fps),
        "adherence": metrics.prompt_adherence(frames, prompt),
        "colour_adherence": metrics.prompt_adherence(frames, prompt, shapes=False),
        "flicker": metrics.flicker(frames),
    }


@torch.no_grad()
def _reconstruct(pipe, clip):
    """The clip through the pipeline's video VAE (posterior mode) and audio autoencoder."""
    vae = pipe.vae
    latents = vae.encode(clip.video.permute(1, 0, 2, 3)[None]).latent_dist.mode()
    frames = vae.decode(latents).sample[0].permute(1, 0, 2, 3).clamp(-1, 1)
    audio = pipe.audio_vae.decode(pipe.audio_vae.encode(clip.audio[None, None]))[0, 0, : clip.audio.shape[0]]
    return frames, audio


def _offsets(rows: list[dict], key: str) -> dict:
    offsets = np.array([abs(r[key]) for r in rows if math.isfinite(r[key])])
    if not offsets.size:
        return {
            "with_offset": 0,
            "mean": float("nan"),
            "median": float("nan"),
            "within_42": float("nan"),
            "within_65": float("nan"),
        }
    return {
        "with_offset": int(offsets.size),
        "mean": float(offsets.mean()),
        "median": float(np.median(offsets)),
        "within_42": float((offsets <= 42).mean()),
        "within_65": float((offsets <= 65).mean()),
    }


def summarise(rows: list[dict]) -> dict:
    mean = {
        key: float(np.mean([r[key] for r in rows]))
        for key in ("av_align", "tracked_av_align", "adherence", "colour_adherence", "flicker", "object_in_every_frame")
    }
    # medians over the clips with sound (nan for silence)
    median = {
        key: float(np.nanmedian([r[key] for r in rows])) if any(math.isfinite(r[key]) for r in rows) else float("nan")
        for key in ("pitch_error_cents", "pitch_cents", "tone_snr_db", "onset_rise_ms")
    }
    return {
        "clips": len(rows),
        "offset": _offsets(rows, "offset_ms"),
        "tracked_offset": _offsets(rows, "tracked_offset_ms"),
        **mean,
        **median,
    }


def markdown(summary: dict[str, dict]) -> str:
    lines = [
        "| set | abs offset ms: mean / median (clips with one), segmenting detector | AV-Align | abs offset ms: mean / "
        "median (clips), colour-tracked | within 42 / 65 ms | AV-Align, colour-tracked | colour adherence | "
        "adherence (colour + shape) | flicker |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        o, t = s["offset"], s["tracked_offset"]
        lines.append(
            f"| {name} | {o['mean']:.1f} / {o['median']:.1f} ({o['with_offset']}/{s['clips']}) | {s['av_align']:.3f} | "
            f"{t['mean']:.1f} / {t['median']:.1f} ({t['with_offset']}/{s['clips']}) | {t['within_42']:.2f} / "
            f"{t['within_65']:.2f} | {s['tracked_av_align']:.3f} | {s['colour_adherence']:.3f} | {s['adherence']:.3f} | "
            f"{s['flicker']:.4f} |"
        )
    lines += [
        "",
        "| set | object found in every frame | tone pitch error, cents (median) | tone pitch, cents (signed median: "
        "- flat) | tone SNR dB (median) | onset rise ms (median) |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {name} | {s['object_in_every_frame']:.2f} | {s['pitch_error_cents']:.1f} | {s['pitch_cents']:+.1f} | "
            f"{s['tone_snr_db']:.1f} | {s['onset_rise_ms']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num", type=int, default=32, help="held-out clips (>= 2)")
    parser.add_argument("--model", type=Path, help="an LTXAudioVideoPipeline folder (default: the built-in model)")
    parser.add_argument("--steps", type=int, help="denoising steps, >= 1 (default: the built-in model's)")
    parser.add_argument("--guidance-scale", type=float, help="CFG scale (default: the built-in model's)")
    parser.add_argument("--stg-scale", type=float, help="STG scale, 0 for none (default: the built-in model's)")
    parser.add_argument("--audio-modality-scale", type=float, help="modality guidance of the audio, 1 for none "
                        "(default: the built-in model's)")
    parser.add_argument("--guidance-rescale", type=float, help="diffusers' CFG std rescale in [0, 1] (default: the "
                        "built-in model's, else 0)")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmark_quality"))
    args = parser.parse_args(argv)
    if args.num < 2:
        parser.error(f"--num must be >= 2 (the shuffled bound pairs clips), got {args.num}")
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    if args.model is not None and not (args.model / "model_index.json").is_file():  # as benchmark_sampling.py
        parser.error(f"--model: {args.model} has no model_index.json (expected a saved pipeline folder)")

    from tqdm import tqdm

    from ltx_video.data.synthetic import SAMPLE_RATE
    from ltx_video.default_model import DEFAULT_GENERATION, DEFAULT_MODEL_DIR, load_default_pipeline
    from ltx_video.pipelines.generation_defaults import GenerationDefaults
    from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline

    pipe = LTXAudioVideoPipeline.from_pretrained(args.model) if args.model else load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    call = dict(DEFAULT_GENERATION)
    if args.steps is not None:
        call["num_inference_steps"] = args.steps
    call["guidance_scale"] = args.guidance_scale if args.guidance_scale is not None else call["guidance_scale"]
    if args.stg_scale is not None:
        call["stg_scale"] = args.stg_scale
    if args.audio_modality_scale is not None:
        call["audio_modality_scale"] = args.audio_modality_scale
    if args.guidance_rescale is not None:
        call["guidance_rescale"] = args.guidance_rescale
    fps = call["frame_rate"]
    # video to a given sound: sampled as the model's defaults say for it (given_audio: video modality guidance 3)
    given_audio_call = {**call, **(GenerationDefaults.load(DEFAULT_MODEL_DIR).given_audio or {})}

    began = time.perf_counter()
    real, generated, conditioned, sounded = [], [], [], []
    for i in tqdm(range(args.num), desc="clips"):
        clip, prompt = held_out_clip(i, call)
        out = pipe(prompt, generator=torch.Generator().manual_seed(i), output_type="pt", **call)
        frames, (waveform, _) = out.frames[0], out.audio
        real.append(dict(frames=clip.video, audio=clip.audio, prompt=clip.prompt, recon=_reconstruct(pipe, clip)))
        generated.append(dict(frames=frames, audio=waveform[0], prompt=clip.prompt))
        # audio-conditioned: the video generated to match the real clip's sound
        out = pipe(
            prompt,
            audio=clip.audio,
            audio_sample_rate=SAMPLE_RATE,
            generator=torch.Generator().manual_seed(i),
            output_type="pt",
            **given_audio_call,
        )
        conditioned.append(dict(frames=out.frames[0], audio=clip.audio, prompt=clip.prompt))
        # video-conditioned: the sound generated to the real clip's frames, every frame held
        out = pipe(prompt, video=(clip.video + 1) / 2, frame_index=0, strength=1.0,
                   generator=torch.Generator().manual_seed(i), output_type="pt", **call)
        sounded.append(dict(frames=clip.video, audio=out.audio[0][0], prompt=clip.prompt))
    generation_seconds = time.perf_counter() - began
    from ltx_video.metrics import video_motion_events

    for c in generated:  # shared by the generated and the shuffled sets
        c["events"] = video_motion_events(c["frames"], fps)

    sets = {
        "real (upper bound)": [_clip_metrics(c["frames"], c["audio"], fps, c["prompt"]) for c in real],
        "reconstructed (autoencoders)": [_clip_metrics(c["recon"][0], c["recon"][1], fps, c["prompt"]) for c in real],
        "generated": [_clip_metrics(c["frames"], c["audio"], fps, c["prompt"], c["events"]) for c in generated],
        "generated, shuffled audio (lower bound)": [
            _clip_metrics(c["frames"], generated[(i + 1) % len(generated)]["audio"], fps, c["prompt"], c["events"])
            for i, c in enumerate(generated)
        ],
        "video generated to the real audio (audio=)": [
            _clip_metrics(c["frames"], c["audio"], fps, c["prompt"]) for c in conditioned
        ],
        "audio generated to the real video (video=)": [
            _clip_metrics(c["frames"], c["audio"], fps, c["prompt"]) for c in sounded
        ],
    }
    summary = {name: summarise(rows) for name, rows in sets.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "summary": summary,
        "per_clip": sets,
        "generation": {k: v for k, v in call.items()},
        "model": str(args.model or "built-in"),
        "generation_seconds": generation_seconds,
    }
    (args.out / "results.json").write_text(json.dumps(report, indent=2, default=float).replace("NaN", "null"))
    table = markdown(summary)
    (args.out / "results.md").write_text(table + "\n")
    print(table)
    print(f"{args.num} clips generated in {generation_seconds:.0f} s (with rendering the real ones)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
