"""Keyframes and camera control on the built-in model, side by side in one run, on held-out seeds.

    python scripts/benchmark_control.py                                   # both sections (docs/benchmarks.md)
    python scripts/benchmark_control.py --sections camera --num 2 --motions pan_left zoom_in
    python scripts/benchmark_control.py --pipeline runs/default/camera/pipeline   # a trained motion encoder

Sections (``--sections``):

- ``camera``: for each motion type and speed, ``--num`` videos per setting: the prompt alone (the world's
  camera phrase, e.g. "..., the camera pans left": the prompt-only baseline), ``camera=`` training-free
  (the pipeline's motion encoder switched off; in latent space, or in pixel space with "training-free, pixel";
  ``--strength``, ``--until`` and ``--schedule`` set their constraint, ``--seed0`` another seed range to tune on)
  and ``camera=`` learned (when the pipeline has a motion encoder); and the ceiling: the world's own clip of that camera ("real") and the same clip through the
  video VAE ("VAE reconstruction"), which no generated video decoded by that VAE is expected to beat. Measured with
  :func:`ltx_video.metrics.camera_motion` over spans of ``--span`` frames (default 16: global dx, dy, zoom per
  frame, the median over the clip's spans; ``--span 1``: the mean over consecutive pairs, as the tables before
  2026-12-05, which read decoded motion about a quarter short): direction right (pans: the sign of dx or dy; zooms: the side of 1; orbits: the background's dx;
  dollies: the side of 1), speed error in px per frame (pans, orbits) and zoom-rate error in % per frame
  (zooms, dollies), against what :class:`~ltx_video.CameraController` asks of the background; and the object's
  own motion (its tracked step less what the measured camera motion does to it) and the share of frames it is
  found in. Videos and
  clips are made at the pipeline's saved size, length and sampling (``generation_defaults.json``; the
  built-in model's 64 x 64 x 49 when it has none).
- ``vae-scale``: the ceiling's zoom error taken apart (the zooms and dollies among ``--motions``; both zooms when
  there are none):
  per clip, each reconstructed frame's scale against the real frame at the same time, and the zoom rate that the
  reconstruction reads over spans beside the rate those scales imply.
- ``keyframes``: three frames (0, 24, 48) of held-out synthetic clips given as keyframes (strength 1):
  PSNR at those frames against the real frames, beside the video VAE's own reconstruction of them; the
  object's tracked path between keyframes against the real clip's (mean px), with and without
  interpolation (``--interpolations``), and with and without the pipeline's keyframe adapter when it has
  one; flicker against the real clips'.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SPEEDS = (0.5, 1.0, 1.5)
# Camera speed is measured over 16-frame spans: on decoded frames a consecutive pair's registration is pulled toward
# no motion (about a quarter of a 1.5 px pan through the built-in VAE); a span's shift grows with its length and the
# noise does not (VAE reconstructions: pans within 2 %; zooms read about 12 % off per clip, `--sections vae-scale`;
# docs/benchmarks.md).
SPAN = 16
SEED0 = 1_000_000  # held out: the built-in model and the motion encoder trained on seeds below 10,000


def _machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__}; " \
           f"{datetime.date.today().isoformat()}"


def _expected(motion: str, speed: float) -> tuple[float, float, float]:
    """The background's per-frame (dx, dy, zoom) that CameraController asks for."""
    from ltx_video import Camera, CameraController

    (_, _), (dx, dy), (_, zoom) = CameraController(Camera(motion_type=motion, speed=speed)).per_frame()
    return dx, dy, zoom


def _score(motion: str, speed: float, measured: np.ndarray) -> dict:
    dx, dy, zoom = _expected(motion, speed)
    mdx, mdy, mzoom = (float(v) for v in measured)
    kind = motion.split("_")[0]
    if kind in ("pan", "orbit"):
        axis = 0 if abs(dx) > abs(dy) else 1
        want, got = (dx, mdx) if axis == 0 else (dy, mdy)
        return {"direction": np.sign(got) == np.sign(want) and abs(got) > 0.1 * abs(want), "error": abs(got - want),
                "unit": "px/frame", "measured": got, "requested": want}
    if kind in ("zoom", "dolly"):
        return {"direction": np.sign(mzoom - 1) == np.sign(zoom - 1) and abs(mzoom - 1) > 0.1 * abs(zoom - 1),
                "error": 100 * abs(mzoom - zoom), "unit": "%/frame", "measured": 100 * (mzoom - 1),
                "requested": 100 * (zoom - 1)}
    return {"direction": abs(mdx) < 0.25 and abs(mdy) < 0.25 and abs(mzoom - 1) < 0.0025,
            "error": float(np.hypot(mdx, mdy)), "unit": "px/frame", "measured": float(np.hypot(mdx, mdy)), "requested": 0.0}


def _object_motion(video: torch.Tensor, colour: str, motion: np.ndarray) -> tuple[float, float]:
    """The object's own motion, px per frame: its tracked step between frames less what the measured camera motion
    ``motion`` (``camera_motion(video)``: shift, and zoom about the centre) does to its position; and the share of
    frames it is found in. ``video`` (F, 3, H, W) in [0, 1]."""
    from ltx_video.data.prompts import COLOURS
    from ltx_video.metrics import colour_track

    frames = video.permute(0, 2, 3, 1).float().numpy()
    path = colour_track(frames, COLOURS[colour])
    centre = np.array([frames.shape[2], frames.shape[1]]) / 2
    carried = centre + motion[:, 2:3] * (path[:-1] - centre) + motion[:, :2]  # where the camera alone puts it
    own = np.linalg.norm(path[1:] - carried, axis=1)
    ok = ~np.isnan(own)
    return (float(own[ok].mean()) if ok.any() else float("nan")), float((~np.isnan(path[:, 0])).mean())


def prompt_only(subject: str, motion: str, speed: float | None = None, height: int = 64, width: int = 64) -> str:
    """The prompt-only baseline's prompt: the world's grammar, ``"a red ball bounces, the camera pans left"``, and
    the pace when ``speed`` is given (a model trained with pace words: ``"... pans left slowly"``)."""
    from ltx_video.conditioning.motions import prompt_with_camera

    return prompt_with_camera(subject, motion, speed, height, width)


CAMERA_SETTINGS = ("real", "VAE reconstruction", "prompt only", "training-free", "training-free, pixel",
                   "warped noise", "learned", "learned, warped noise")


def span_motions(video, span: int) -> tuple[np.ndarray, int]:
    """``camera_motion`` over ``span``-frame spans (clamped to the clip), and the step it used."""
    from ltx_video.metrics import camera_motion

    step = min(span, len(video) - 1)
    return camera_motion(video, step=step), step


def clip_speed(motions: np.ndarray, span: int) -> np.ndarray:
    """One clip's speed from its per-span motions: the median over spans (the mean over consecutive pairs for
    ``span`` 1)."""
    return motions.mean(axis=0) if span == 1 else np.median(motions, axis=0)


def camera_speed(video: torch.Tensor, span: int) -> tuple[np.ndarray, np.ndarray]:
    """A clip's camera speed, per frame ``(dx, dy, zoom)`` (:func:`clip_speed`); and its consecutive pairs' motions
    ``(F - 1, 3)``."""
    from ltx_video.metrics import camera_motion

    pairs = camera_motion(video)
    return clip_speed(pairs if span == 1 else span_motions(video, span)[0], span), pairs


def camera_rows(pipe, motions, speeds, num: int, steps: int | None = None, settings=CAMERA_SETTINGS,
                seed0: int = SEED0, constraint: dict | None = None, stg_scale: float | None = None,
                span: int = SPAN) -> list[dict]:
    """``constraint``: ``CameraController`` keyword arguments (``strength``, ``until``, ``schedule``) for the
    training-free settings; their defaults otherwise. ``seed0``: the first seed (the held-out ones by default).
    ``stg_scale``: instead of the model's (0: none). ``span``: frames per measured span (:func:`camera_speed`)."""
    from ltx_video import Camera, CameraController
    from ltx_video.data.prompts import CAMERA_PHRASES
    from ltx_video.default_model import DEFAULT_GENERATION
    encoder = pipe.camera_encoder
    # The size, length and sampling the pipeline was made for (saved with it; else the built-in model's).
    call = pipe.generation_defaults.call_kwargs() if pipe.generation_defaults else dict(DEFAULT_GENERATION)
    call.update({"num_inference_steps": steps} if steps else {})
    call.update({"stg_scale": stg_scale} if stg_scale is not None else {})
    grammar = pipe.generation_defaults.prompt_grammar if pipe.generation_defaults else None
    paces = bool(grammar and grammar.get("paces"))  # the model read the pace in its prompts
    settings = [s for s in settings if encoder is not None or not s.startswith("learned")]
    colours, shapes = ("red", "blue", "green", "yellow"), ("ball", "square", "triangle")
    rows = []
    for motion in motions:
        for speed in (speeds if motion != "static" else (0.0,)):
            for setting in settings:
                if setting == "prompt only" and motion not in CAMERA_PHRASES:
                    continue  # the world has no phrase for it
                scores = []
                for k in range(num):
                    seed = seed0 + k
                    obj = f"a {colours[k % 4]} {shapes[k % 3]} bounces"
                    kwargs = dict(call)
                    if setting in ("real", "VAE reconstruction"):  # the ceiling: the world's clip, and through the VAE
                        clip = _clip(seed, motion, speed, call)
                        video = (clip.video + 1) / 2 if setting == "real" else _reconstruct(pipe.vae, clip.video)
                        speed_measured, pairs = camera_speed(video, span)
                        scores.append(_score(motion, speed, speed_measured))
                        scores[-1]["object"] = _object_motion(video, clip.params.objects[0].colour, pairs)
                        continue
                    if setting == "prompt only":
                        size = kwargs["height"], kwargs["width"]
                        prompt, camera = prompt_only(obj, motion, speed if paces else None, *size), None
                    else:
                        camera = Camera(motion_type=motion, speed=speed)
                        free = dict(constraint or {}) if setting.startswith("training-free") else {}
                        space = "pixel" if setting.endswith("pixel") else "latent"
                        prompt, camera = obj, CameraController(camera, warp_noise=setting.endswith("warped noise"),
                                                               space=space, **free)
                    pipe.camera_encoder = encoder if setting.startswith("learned") else None
                    video = pipe(prompt, camera=camera, generator=torch.Generator().manual_seed(seed),
                                 output_type="pt", **kwargs).frames[0]
                    speed_measured, pairs = camera_speed(video, span)
                    scores.append(_score(motion, speed, speed_measured))
                    scores[-1]["object"] = _object_motion(video, colours[k % 4], pairs)
                row = {"motion": motion, "speed": speed, "setting": setting, "unit": scores[0]["unit"],
                       "direction": float(np.mean([s["direction"] for s in scores])),
                       "error": float(np.mean([s["error"] for s in scores])),
                       "measured": float(np.mean([s["measured"] for s in scores])),
                       "requested": scores[0]["requested"],
                       "object_motion": float(np.nanmean([s["object"][0] for s in scores])),
                       "object_found": float(np.mean([s["object"][1] for s in scores]))}
                rows.append(row)
                print(f"  {motion:<15} {speed:>4} {setting:<14} direction {row['direction']:.2f}  measured "
                      f"{row['measured']:+.3f} (asked {row['requested']:+.3f}) {row['unit']}  object's own motion "
                      f"{row['object_motion']:.2f} px/frame, found {100 * row['object_found']:.0f} %", flush=True)
    pipe.camera_encoder = encoder
    return rows


def vae_scale_rows(pipe, motions, speeds, num: int, seed0: int = SEED0, span: int = SPAN) -> list[dict]:
    """Where the VAE reconstruction's zoom error comes from, per clip of the world's zooms and dollies: each
    reconstructed frame registered against the real frame at the same time (``camera_motion`` of the two-frame
    stack; its ``zoom`` is the reconstruction's scale against the render), and the zoom rate the reconstruction
    reads (:func:`clip_speed`, as the camera rows) beside the rate those frame-by-frame scales imply (the real
    clip's spans times ``(s[k + span] / s[k]) ** (1 / span)``, aggregated the same way). Where the two rates agree,
    the error is the VAE's, not the metric's."""
    from ltx_video.default_model import DEFAULT_GENERATION
    from ltx_video.metrics import camera_motion

    call = pipe.generation_defaults.call_kwargs() if pipe.generation_defaults else dict(DEFAULT_GENERATION)
    rows = []
    for motion in motions:
        for speed in speeds:
            for k in range(num):
                clip = _clip(seed0 + k, motion, speed, call)
                real, recon = (clip.video + 1) / 2, _reconstruct(pipe.vae, clip.video)
                scale = np.array([camera_motion(torch.stack([real[f], recon[f]]))[0, 2] for f in range(len(real))])
                real_motions, step = span_motions(real, span)
                real_rate = real_motions[:, 2]
                implied = clip_speed(real_rate * (scale[step:] / scale[:-step]) ** (1 / step), span)
                rows.append({"motion": motion, "speed": speed, "seed": seed0 + k,
                             "requested": 100 * (_expected(motion, speed)[2] - 1),
                             "real": 100 * (clip_speed(real_rate, span) - 1),
                             "read": 100 * (clip_speed(span_motions(recon, span)[0][:, 2], span) - 1),
                             "implied": 100 * (implied - 1),
                             "scale_std": 100 * float(np.std(scale)),
                             "scale_max": 100 * float(np.max(np.abs(scale - 1)))})
                r = rows[-1]
                print(f"  {motion:<15} {speed:>4} seed {r['seed']}: asked {r['requested']:+.3f} %/frame, real "
                      f"{r['real']:+.3f}, reconstruction reads {r['read']:+.3f}, its frames' scales imply "
                      f"{r['implied']:+.3f}; frame scale against the render: std {r['scale_std']:.2f} %, "
                      f"max {r['scale_max']:.2f} %", flush=True)
    return rows


def vae_scale_summary(rows: list[dict]) -> list[dict]:
    """Per kind (zooms, dollies): the mean relative error of the rate read from the reconstructions and of the rate
    their frames' scales imply, absolute and signed (relative to the signed request: negative is short of it)."""
    out = []
    for kind, plural in (("zoom", "zooms"), ("dolly", "dollies")):
        chosen = [r for r in rows if r["motion"].startswith(kind)]
        if not chosen:
            continue
        summary = {"kind": plural, "clips": len(chosen)}
        for key in ("read", "implied"):
            relative = np.array([(r[key] - r["requested"]) / r["requested"] for r in chosen])
            summary[key] = float(np.abs(relative).mean())
            summary[key + "_signed"] = float(relative.mean())
        out.append(summary)
    return out


@torch.no_grad()
def _reconstruct(vae, video: torch.Tensor) -> torch.Tensor:
    """A world clip's video (F, 3, H, W) in [-1, 1] through the VAE's mean latents and back: (F, 3, H, W) in [0, 1]
    (the built-in VAE has no timestep conditioning)."""
    x = video.permute(1, 0, 2, 3)[None].to(vae.dtype)
    y = vae.decode(vae.encode(x).latent_dist.mean, return_dict=False)[0]
    return ((y[0].float().clamp(-1, 1) + 1) / 2).permute(1, 0, 2, 3)


def camera_summary(rows: list[dict]) -> list[dict]:
    """Per setting, against the camera targets: direction right over every moving clip (>= 95 %), mean speed
    error of pans and orbits (<= 0.3 px per frame), mean zoom-rate error of zooms and dollies (relative to the
    request; <= 2 %), and the mean fraction of the requested motion measured."""
    out = []
    for setting in dict.fromkeys(r["setting"] for r in rows):
        moving = [r for r in rows if r["setting"] == setting and r["requested"] != 0]
        pans = [r["error"] for r in moving if r["unit"] == "px/frame"]
        zooms = [r["error"] / abs(r["requested"]) for r in moving if r["unit"] == "%/frame"]
        out.append({
            "setting": setting, "rows": len(moving),
            "direction": float(np.mean([r["direction"] for r in moving])) if moving else float("nan"),
            "pan_error": float(np.mean(pans)) if pans else float("nan"),
            "zoom_error": float(np.mean(zooms)) if zooms else float("nan"),
            "fraction": float(np.mean([r["measured"] / r["requested"] for r in moving])) if moving else float("nan"),
            "object_motion": float(np.nanmean([r["object_motion"] for r in moving])) if moving else float("nan"),
            "object_found": float(np.mean([r["object_found"] for r in moving])) if moving else float("nan"),
        })
    return out


def keyframe_rows(pipe, num: int, steps: int | None = None, interpolations=(0.0, 0.2),
                  placements=("tokens",), stg_scale: float | None = None) -> list[dict]:
    from ltx_video import Keyframe
    from ltx_video.conditioning.motions import strip_camera_phrase
    from ltx_video.default_model import DEFAULT_GENERATION
    from ltx_video.metrics import colour_track, flicker, psnr

    frames_at = (0, 24, 48)
    adapter = pipe.keyframe_adapter
    settings = {}
    for placement in placements:
        label = "keyframes" if placement == "tokens" else "keyframes in place"
        settings.update({(f"{label}, no interpolation" if s == 0 else f"{label}, interpolation {s:g}"): (s, None, placement)
                         for s in interpolations})
    if adapter is not None:  # the trained adapter beside the same settings without it
        settings.update({f"{name}, adapter": (s, adapter, p) for name, (s, _, p) in list(settings.items())})
    rows = {name: [] for name in ("VAE reconstruction", *settings)}
    real_flicker, path_errors = [], {name: [] for name in rows}
    for k in range(num):
        seed = SEED0 + 500 + k
        clip = _clip(seed)
        real = ((clip.video + 1) / 2).clamp(0, 1)  # (F, 3, H, W) in [0, 1]
        real_np = real.permute(0, 2, 3, 1).numpy()
        real_flicker.append(flicker(real_np))
        rgb = _object_rgb(clip)
        real_path = colour_track(real_np, rgb)
        recon = _reconstruct(pipe.vae, clip.video).permute(0, 2, 3, 1).numpy()
        generated = {"VAE reconstruction": recon}
        for name, (s, use, placement) in settings.items():
            keyframes = [Keyframe(real[f], f, placement=placement) for f in frames_at]  # (3, H, W) in [0, 1]
            pipe.keyframe_adapter = use
            video = pipe(strip_camera_phrase(clip.prompt), keyframes=keyframes, keyframe_interpolation=s,
                         generator=torch.Generator().manual_seed(seed), output_type="np",
                         **{**DEFAULT_GENERATION, **({"num_inference_steps": steps} if steps else {}),
                            **({"stg_scale": stg_scale} if stg_scale is not None else {})}).frames[0]
            generated[name] = video
        for name, video in generated.items():
            values = [psnr(video[f], real_np[f]) for f in frames_at]
            path = colour_track(video, rgb)
            ok = ~np.isnan(path).any(axis=1) & ~np.isnan(real_path).any(axis=1)
            between = np.zeros(len(path), dtype=bool)
            between[1:48] = True
            between[list(frames_at)] = False
            error = float(np.linalg.norm(path[ok & between] - real_path[ok & between], axis=1).mean()) if (ok & between).any() else float("nan")
            rows[name].append({"psnr": float(np.mean(values)), "flicker": flicker(video)})
            path_errors[name].append(error)
    pipe.keyframe_adapter = adapter
    out = []
    for name, values in rows.items():
        out.append({"method": name, "psnr": float(np.mean([v["psnr"] for v in values])),
                    "path_px": float(np.nanmean(path_errors[name])),
                    "flicker_ratio": float(np.mean([v["flicker"] for v in values]) / np.mean(real_flicker))})
        print(f"  {name:<30} PSNR {out[-1]['psnr']:.2f} dB  path {out[-1]['path_px']:.2f} px  "
              f"flicker x{out[-1]['flicker_ratio']:.2f}", flush=True)
    return out


def _clip(seed: int, camera: str = "static", speed: float = 1.0, call: dict | None = None):
    """A held-out clip with one object at the size of ``call`` (pipeline call arguments; default the built-in
    model's: 64 px, 49 frames at 24 fps) with ``camera`` at ``speed`` (the keyframes section: the static camera
    the model was trained on)."""
    import dataclasses

    from ltx_video.data.synthetic import render_clip, sample_params
    from ltx_video.default_model import DEFAULT_GENERATION

    c = call or DEFAULT_GENERATION
    speed = {} if camera == "static" else {"camera_speed": speed}  # static: the seed's own draw, as trained
    params = sample_params(seed, height=c["height"], width=c["width"], fps=c["frame_rate"],
                           duration=c["num_frames"] / c["frame_rate"], camera=camera, **speed)
    return render_clip(seed, dataclasses.replace(params, objects=params.objects[:1]))


def _object_rgb(clip):
    from ltx_video.data.prompts import COLOURS

    return COLOURS[clip.params.objects[0].colour]


def main(argv: list[str] | None = None) -> int:
    from ltx_video.conditioning.motions import MOTION_TYPES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="+", choices=["camera", "keyframes", "vae-scale"],
                        default=["camera", "keyframes"])
    parser.add_argument("--num", type=int, default=4, help="videos per setting (held-out seeds)")
    parser.add_argument("--motions", nargs="+", choices=MOTION_TYPES, default=list(MOTION_TYPES))
    parser.add_argument("--speeds", nargs="+", type=float, default=list(SPEEDS))
    parser.add_argument("--settings", nargs="+", choices=CAMERA_SETTINGS, default=None,
                        help="camera settings to run (default: all; the learned ones need a pipeline with a motion "
                        "encoder, and are left out of the default without one)")
    parser.add_argument("--pipeline", default=None, help="a pipeline folder (default: the built-in model)")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's; CI: 2)")
    parser.add_argument("--interpolations", nargs="+", type=float, default=[0.0, 0.2],
                        help="keyframe_interpolation values of the keyframes section")
    parser.add_argument("--placements", nargs="+", choices=["tokens", "in_place"], default=["tokens", "in_place"],
                        help="Keyframe placements of the keyframes section")
    parser.add_argument("--seed0", type=int, default=SEED0,
                        help="first seed (default: the held-out seeds; choose another range to tune on)")
    parser.add_argument("--strength", type=float, default=None, help="CameraController strength (training-free rows)")
    parser.add_argument("--until", type=float, default=None, help="CameraController until (training-free rows)")
    parser.add_argument("--schedule", choices=["linear", "constant"], default=None,
                        help="CameraController schedule (training-free rows)")
    parser.add_argument("--stg-scale", type=float, default=None, help="STG scale instead of the model's (0: none)")
    parser.add_argument("--span", type=int, default=SPAN,
                        help=f"frames per measured camera span (default {SPAN}; 1: the mean over consecutive pairs, as "
                             "the tables before 2026-12-05)")
    args = parser.parse_args(argv)
    if args.num < 1 or min(args.speeds) <= 0:
        parser.error("--num must be >= 1 and --speeds > 0")
    if args.span < 1:
        parser.error(f"--span must be >= 1, got {args.span}")
    if not all(0 <= s <= 1 for s in args.interpolations):
        parser.error("--interpolations must lie in [0, 1]")
    from ltx_video.default_model import load_default_pipeline
    from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline

    pipe = load_default_pipeline() if args.pipeline is None else LTXAudioVideoPipeline.from_pretrained(args.pipeline)
    pipe.set_progress_bar_config(disable=True)
    if args.settings is None:  # all, the learned ones only with a motion encoder
        args.settings = [s for s in CAMERA_SETTINGS if pipe.camera_encoder is not None or not s.startswith("learned")]
    learned = [s for s in args.settings if s.startswith("learned")]
    if "camera" in args.sections and learned and pipe.camera_encoder is None:  # its rows were dropped without a word
        parser.error(f"--settings {' '.join(learned)}: the pipeline {args.pipeline or '(built-in)'} has no motion "
                     "encoder (camera_encoder); leave them out or give a --pipeline that has one")
    seeds = "held-out seeds" if args.seed0 == SEED0 else f"seeds from {args.seed0}"
    report = [f"Machine: {_machine()}; pipeline: {args.pipeline or 'built-in'}; {args.num} {seeds} per row"]
    if "camera" in args.sections:
        constraint = {k: v for k, v in (("strength", args.strength), ("until", args.until), ("schedule", args.schedule))
                      if v is not None}
        rows = camera_rows(pipe, args.motions, args.speeds, args.num, args.steps, args.settings, args.seed0, constraint,
                           args.stg_scale, args.span)
        report += ["", "| motion | speed | setting | direction right | measured | requested | error |",
                   "|---|---|---|---|---|---|---|"]
        report += [f"| {r['motion']} | {r['speed']:g} | {r['setting']} | {100 * r['direction']:.0f} % | "
                   f"{r['measured']:+.3f} | {r['requested']:+.3f} | {r['error']:.3f} {r['unit']} |" for r in rows]
        report += ["", "| setting | moving rows | direction right (target >= 95 %) | pan/orbit speed error (<= 0.3 px/frame) "
                   "| zoom/dolly rate error, relative (<= 2 %) | measured / requested | object's own motion (px/frame) "
                   "| object found |", "|---|---|---|---|---|---|---|---|"]
        report += [f"| {r['setting']} | {r['rows']} | {100 * r['direction']:.0f} % | {r['pan_error']:.3f} | "
                   f"{100 * r['zoom_error']:.0f} % | {r['fraction']:+.2f} | {r['object_motion']:.2f} | "
                   f"{100 * r['object_found']:.0f} % |" for r in camera_summary(rows)]
    if "vae-scale" in args.sections:
        motions = [m for m in args.motions if m.startswith(("zoom", "dolly"))] or ["zoom_in", "zoom_out"]
        rows = vae_scale_rows(pipe, motions, args.speeds, args.num, args.seed0, args.span)
        report += ["", "| motion | speed | seed | requested (%/frame) | real reads | reconstruction reads | implied by its "
                   "frames' scales | frame scale vs render: std / max (%) |", "|---|---|---|---|---|---|---|---|"]
        report += [f"| {r['motion']} | {r['speed']:g} | {r['seed']} | {r['requested']:+.3f} | {r['real']:+.3f} | "
                   f"{r['read']:+.3f} | {r['implied']:+.3f} | {r['scale_std']:.2f} / {r['scale_max']:.2f} |"
                   for r in rows]
        report += ["", "| kind | clips | rate read from the reconstructions: error (signed) | rate its frames' scales "
                   "imply: error (signed) |", "|---|---|---|---|"]
        report += [f"| {r['kind']} | {r['clips']} | {100 * r['read']:.1f} % ({100 * r['read_signed']:+.1f} %) | "
                   f"{100 * r['implied']:.1f} % ({100 * r['implied_signed']:+.1f} %) |" for r in vae_scale_summary(rows)]
    if "keyframes" in args.sections:
        rows = keyframe_rows(pipe, args.num, args.steps, args.interpolations, args.placements, args.stg_scale)
        report += ["", "| method | PSNR at keyframes (dB) | object path error between keyframes (px) | flicker vs real |",
                   "|---|---|---|---|"]
        report += [f"| {r['method']} | {r['psnr']:.2f} | {r['path_px']:.2f} | {r['flicker_ratio']:.2f}x |" for r in rows]
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
