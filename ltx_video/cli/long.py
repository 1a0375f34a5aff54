"""``ltx-video long``: a long video, chunk by chunk, streamed to ``<output>.parts/`` and resumable.

Checks first (prompt or --prompts file, output path, an earlier run's folder, model folder, chunk sizes against
the model's VAE read from its config, device), then the model loads and ``generate_long`` runs with a bar over
chunks (its time per chunk and the time left) and one over each chunk's steps. Ctrl-C (or a crash) leaves the
finished segments and the manifest; the same command with ``--resume`` continues from the first unfinished chunk.
"""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path

from ltx_video.cli import PROG, CLIError, add_guidance_arguments, check_output, output_path, vae_compression
from ltx_video.cli.generate import (
    _check_device,
    inspect_model,
    load_pipeline,
    quiet_console,
    resolve_modality,
    resolve_stg,
)

__all__ = ["add_parser", "check_layout", "interrupted_detail", "run_long"]


def add_parser(commands, positive_int, positive_float, model_default, *, seed, non_negative_float) -> None:
    long = commands.add_parser(
        "long", help="a long video in chunks, streamed to disk, resumable after a crash (--resume)",
        description="Generate a long mp4 chunk by chunk (docs/long_video.md). Each finished chunk is written at once "
        "to OUTPUT.parts/ beside a manifest; the final mp4 joins them without re-encoding the video. Values left out "
        "come from the model, as for 'generate'.",
    )
    long.add_argument("prompt", nargs="?", help="the text prompt (or give --prompts)")
    long.add_argument("--prompts", type=Path, metavar="FILE", help="a text file, one prompt per line (blank lines "
                      "and lines starting with # are skipped): prompt i of n is used for the chunks whose new frames "
                      "mostly fall in the i-th n-th of the video (each prompt at least one chunk, so at most one "
                      "prompt per chunk)")
    long.add_argument("--duration", type=positive_float, metavar="SECONDS", help="length in seconds")
    long.add_argument("--num-frames", type=positive_int, metavar="N", help="length in frames (instead of --duration)")
    long.add_argument("--chunk-frames", type=positive_int, metavar="N", help="frames per chunk (8k + 1 for LTX-Video, "
                      "4k + 1 for the built-in model); " + model_default("frame count", 49, 121))
    long.add_argument("--overlap-frames", type=positive_int, metavar="N",
                      help="frames each chunk shares with the next (a multiple of the VAE's temporal compression, at "
                      "most half a chunk); default: two latent frames (8 for the built-in model, 16 for LTX-Video), "
                      "one for chunks of fewer than four")
    long.add_argument("--carryover-strength", type=float, default=0.8, metavar="S",
                      help="how strongly a chunk starts from the last one's overlap, 0 to 1 (default: 0.8)")
    long.add_argument("--adain-factor", type=float, default=1.0, metavar="F",
                      help="pull each chunk's latent statistics toward the first chunk's, 0 to 1 (default: 1.0)")
    long.add_argument("--colour-match", type=float, metavar="F",
                      help="pull each chunk's decoded colours (per-channel mean and std) toward the first chunk's, "
                      "0 to 1 (default: 1 with one prompt, 0 with --prompts that change; on --resume, the run's own)")
    long.add_argument("--colour-match-scope", choices=["chunk", "frame"], default="chunk",
                      help="--colour-match per chunk (default) or per frame, the first chunk's frames included")
    long.add_argument("--no-anchor", action="store_true", help="no first-chunk anchor before each chunk")
    long.add_argument("--no-audio", action="store_true", help="video only (audio-video models)")
    long.add_argument("--resume", action="store_true", help="continue the run in OUTPUT.parts/ (same arguments)")
    long.add_argument("--restart", action="store_true",
                      help="start over in a new folder (OUTPUT.parts-2/ ...), keeping the old run")
    long.add_argument("--negative-prompt", help=model_default("negative prompt", "''", "LTX-Video's"))
    long.add_argument("--height", type=positive_int, metavar="PX", help=model_default("height", 64, 704))
    long.add_argument("--width", type=positive_int, metavar="PX", help=model_default("width", 64, 1216))
    long.add_argument("--frame-rate", type=positive_float, metavar="FPS", help=model_default("frame rate", 24, 30))
    long.add_argument("--steps", type=positive_int, metavar="N", help=model_default("steps", 30, 30))
    long.add_argument("--guidance-scale", type=non_negative_float, metavar="CFG", help=model_default("guidance scale", 3.0, 3.0))
    add_guidance_arguments(long)
    long.add_argument("--seed", type=seed, default=0, help="random seed, 0 to 2**63 - 1 (default: 0); chunk k uses a "
                      "seed derived from it")
    long.add_argument("--model", type=Path, help="a local diffusers-format folder; default: the built-in model")
    long.add_argument("--base-model", type=Path, help="with a single-file --model: the folder giving the text encoder")
    long.add_argument("--variant", metavar="NAME", help="with a --model folder saved with save_pretrained(variant=NAME): "
                      "load those weight files (diffusers' variant=)")
    long.add_argument("--output", type=output_path, default=Path("long.mp4"), help="the .mp4 to write (default: long.mp4); "
                      "an existing file is kept unless --overwrite (or --resume of the run that wrote it)")
    long.add_argument("--overwrite", action="store_true", help="start over in a new folder as --restart does (the "
                      "old run's folder is kept), the new video replacing an existing --output (an unfinished run is "
                      "refused: --resume or --restart); with --resume: continue the run, replacing an --output that "
                      "it did not write")
    long.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps ... (default: cpu)")
    long.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32", help="default: float32")
    long.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    long.set_defaults(upsampler=None, fp8=False, attention=None, ff_chunk_size=None, vae_tiling=False, four_k=False)


def _temporal_ratio(source) -> int:
    """The VAE's temporal compression, from its config (:func:`ltx_video.cli.vae_compression`)."""
    return vae_compression(source.path)[2]


def check_layout(layout):
    """``layout`` checked (ChunkLayout.check), its refusal one line naming the flags; also 'plan --long''s."""
    try:
        layout.check()
    except ValueError as error:
        text = str(error).replace("`chunk_frames`", "--chunk-frames").replace("`overlap_frames`", "--overlap-frames")
        raise CLIError(text) from None
    return layout


def _holds_a_run(output: Path) -> bool:
    """Whether a run folder of ``output`` (``.parts``, ``.parts-2`` ...) holds a run, as ``generate_long`` counts
    them: an empty one (a run killed before its manifest) is none (since 2026-12-07 the command took it for one).
    The run code (and torch) is imported only when such a folder exists."""
    if not any(output.parent.glob(glob.escape(output.name) + ".parts*")):
        return False
    from ltx_video.pipelines.long_run import LongRun

    return LongRun.has_runs(output)


def interrupted_detail(output: Path) -> str:
    """The end of the line an interrupted run prints: where its finished chunks are and how to continue, or that
    nothing was written (since 2026-12-07; a run stopped while the model loaded named a ``.parts`` folder that did
    not exist, to --resume)."""
    if _holds_a_run(output):
        from ltx_video.pipelines.long_run import LongRun

        try:
            found = LongRun.recorded_run(output)  # the run --resume continues, when it has a finished chunk
        except ValueError:
            found = None
        if found is not None:
            return f"; the finished chunks are in {found[0]}: run the same command with --resume to continue"
    return f"; no chunk was finished: {output} was not written"


def check_inputs(args) -> tuple[object, dict]:
    """Every check that needs no model; returns the model source and the ``generate_long`` arguments. The checks
    of the arguments alone come first, before torch is imported (a second or more)."""
    if (args.prompt is None) == (args.prompts is None):
        raise CLIError("give a PROMPT or --prompts FILE (one of them)")
    if args.prompts is not None:
        if not args.prompts.is_file():
            raise CLIError(f"--prompts: {args.prompts} is not a file")
        try:
            text = args.prompts.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            raise CLIError(f"--prompts: {args.prompts} must be UTF-8 text ({error.reason} at byte {error.start})") from None
        lines = (line.strip() for line in text.splitlines())
        prompts = [line for line in lines if line and not line.startswith("#")]
        if not prompts:
            raise CLIError(f"--prompts: {args.prompts} holds no prompt (one per line)")
    else:
        if not args.prompt.strip():
            raise CLIError("PROMPT is empty")
        prompts = [args.prompt]
    if (args.duration is None) == (args.num_frames is None):
        raise CLIError("give --duration SECONDS or --num-frames N (one of them)")
    if args.resume and args.restart:
        raise CLIError("--resume and --restart exclude each other")
    parts = args.output.with_name(args.output.name + ".parts")
    earlier_run = _holds_a_run(args.output)
    if earlier_run and not (args.resume or args.restart or args.overwrite):
        done = f"; {args.output} is its finished video" if args.output.exists() else ""
        replace = (f", or --overwrite to start over replacing {args.output.name} (the old folder is kept)"
                   if args.output.exists() else "")  # an unfinished run refuses --overwrite (below)
        raise CLIError(f"--output: {parts} holds an earlier run{done}: pass --resume to continue it (same arguments; "
                       "a finished run is found done), or --restart to start over in a new folder (the old one, and "
                       f"its video, are kept){replace}")
    if earlier_run and args.overwrite and not (args.resume or args.restart) and not args.output.exists():
        # an unfinished run: --overwrite (replace a finished video) would leave its progress behind without a word
        raise CLIError(f"--overwrite: {parts} holds an unfinished run ({args.output.name} is not written yet): pass "
                       "--resume to continue it, or --restart to start over in a new folder (the old one is kept)")
    # --resume finds the run's own file done; --restart moves it into the old run's folder (LongRun.open)
    check_output(args.output, args.overwrite, earlier_run_ok=(args.resume or args.restart) and earlier_run)
    for flag, value in (("--carryover-strength", args.carryover_strength), ("--adain-factor", args.adain_factor),
                        ("--colour-match", args.colour_match)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise CLIError(f"{flag} must be in [0, 1], got {value:g}")
    from ltx_video.pipelines.long_layout import ChunkLayout, default_overlap_frames  # no torch: answers at once

    source = inspect_model(args.model, args.base_model, args.variant)
    defaults = source.defaults
    frame_rate = args.frame_rate or defaults.frame_rate
    num_frames = args.num_frames or max(1, round(args.duration * frame_rate))
    ratio = _temporal_ratio(source)
    chunk_frames = args.chunk_frames or defaults.num_frames
    overlap_frames = args.overlap_frames or default_overlap_frames(chunk_frames, ratio)
    layout = check_layout(ChunkLayout(num_frames, chunk_frames, overlap_frames, ratio))
    if len(prompts) > layout.num_chunks:
        raise CLIError(f"--prompts: {args.prompts} holds {len(prompts)} prompts but the video has {layout.num_chunks} "
                       "chunks: give at most one prompt per chunk, or a longer --duration")
    _check_device(args.device)
    call = dict(
        prompt=prompts if len(prompts) > 1 else prompts[0], output=args.output, num_frames=num_frames,
        chunk_frames=chunk_frames, overlap_frames=overlap_frames, carryover_strength=args.carryover_strength,
        adain_factor=args.adain_factor, colour_match=args.colour_match,
        colour_match_scope=args.colour_match_scope, anchor=not args.no_anchor,
        resume=args.resume or not (args.restart or args.overwrite), overwrite=args.overwrite, seed=args.seed,
        negative_prompt=args.negative_prompt if args.negative_prompt is not None else defaults.negative_prompt,
        height=args.height or defaults.height, width=args.width or defaults.width, frame_rate=frame_rate,
        num_inference_steps=args.steps or defaults.num_inference_steps,
        guidance_scale=args.guidance_scale if args.guidance_scale is not None else defaults.guidance_scale,
        **resolve_stg(args, source),
        **resolve_modality(args, source, audio=not args.no_audio),
    )
    if args.no_audio:
        call["generate_audio"] = False
    if args.resume:
        _check_resume(call, args, source)
    return source, call


# Arguments the command passes to generate_long as it records them, so that a resume with one changed is refused
# here, before the model loads (generate_long refuses it too, and the rest, once it has the model).
_RECORDED_AS_GIVEN = ("prompt", "negative_prompt", "num_frames", "chunk_frames", "overlap_frames", "seed", "height",
                      "width", "frame_rate", "num_inference_steps", "guidance_scale", "carryover_strength",
                      "adain_factor", "colour_match")
# Passed through to each chunk's call and recorded under `extra` when not the call's default: STG and modality
# guidance, which the command resolves from the model's generation_defaults.json as generate_long would.
_GUIDANCE = ("stg_scale", "skip_block_list", "modality_scale", "audio_modality_scale")
# Recorded True/False, set off by a flag: a differing one is said in the flag's terms.
_SWITCHES = {"anchor": "--no-anchor", "audio": "--no-audio"}
_RESTART = "or pass --restart to start over in a new folder (the old one is kept)"


def _generates_audio(source) -> bool | None:
    """Whether the model generates audio by default (``audio`` as generate_long records it without --no-audio), from
    its files: False for a video-only model, True for an audio-video one whose model_index.json lists an audio VAE;
    None where only the loaded pipeline tells."""
    if source.pipeline_class != "LTXAudioVideoPipeline":
        return False
    index = source.path / "model_index.json" if source.path is not None and source.path.is_dir() else None
    try:
        entry = json.loads(index.read_text()).get("audio_vae") if index is not None else None
    except (OSError, ValueError, AttributeError):  # inspect_model read it: a file changed since is the loader's to name
        return None
    return isinstance(entry, list) and len(entry) == 2 and entry[1] is not None


def _call_guidance_defaults() -> dict:
    """What a pipeline call takes for each of :data:`_GUIDANCE` left out (generate_long compares the recorded
    `extra` filled with them)."""
    from ltx_video.pipelines.generation_defaults import fill_call_defaults

    return fill_call_defaults(None, dict.fromkeys(_GUIDANCE))


def _given_guidance(call: dict, source, audio: bool) -> dict:
    """The STG and modality guidance generate_long runs ``call`` with (:data:`_GUIDANCE`): the command's values,
    else the model's defaults (the modality scales only with audio, which they act on), else a call's own."""
    acts = [k for k in _GUIDANCE if audio or k not in ("modality_scale", "audio_modality_scale")]
    model = source.defaults.call_kwargs()
    return {**_call_guidance_defaults(), **{k: model[k] for k in acts if k in model},
            **{k: call[k] for k in acts if k in call}}


def _switch_refusal(key: str, given: bool, folder, args) -> str | None:
    """A differing ``anchor`` / ``audio`` in the flag's terms; None where the flag does not explain it (a video-only
    model given for a run with audio: said by the caller)."""
    flag = _SWITCHES[key]
    if not given and getattr(args, flag[2:].replace("-", "_")):
        return f"{flag}: the run in {folder} was started without {flag}: leave it out to resume it, {_RESTART}"
    if given:
        return f"{flag}: the run in {folder} was started with {flag}: pass it to resume it, {_RESTART}"
    return None


def _check_resume(call: dict, args, source) -> None:
    """--resume with an argument that differs from the run's: refused before the model loads, each argument whose
    recorded value the command line and the model's files tell exactly (the rest once the model is loaded)."""
    from ltx_video.pipelines.long_run import RECORDED_ONLY_WHEN_SET, ArgumentMismatch, LongRun, canonical

    try:
        found = LongRun.recorded_run(call["output"])
    except ValueError as error:
        raise CLIError(f"--output: {error}") from None
    if found is None:
        return
    folder, recorded = found
    given = canonical({**call, "prompt": [call["prompt"]] if isinstance(call["prompt"], str) else call["prompt"]})
    for key in _RECORDED_AS_GIVEN:
        if given.get(key) is not None and key in recorded and given[key] != recorded[key]:
            if key == "num_frames" and args.duration is not None:
                raise CLIError(f"--duration {args.duration:g} s is {given[key]} frames at {call['frame_rate']:g} fps "
                               f"but the run in {folder} was started with {recorded[key]} frames: pass the same "
                               "arguments to resume it, or --restart to start over in a new folder (the old one is "
                               "kept)")
            raise CLIError(_as_flags(str(ArgumentMismatch(key, given[key], recorded[key], folder))))
    # (since 2026-12-07: these were refused only once the model had loaded, minutes for a 13B checkpoint)
    can_audio = _generates_audio(source)
    audio = False if args.no_audio else can_audio
    for key, value in (("anchor", not args.no_anchor), ("audio", audio)):
        if value is None or not isinstance(recorded.get(key), bool) or value == recorded[key]:
            continue
        if key == "anchor" or can_audio:  # the flag is what differs
            raise CLIError(_switch_refusal(key, value, folder, args))
        if can_audio is False:
            raise CLIError(f"--model: the run in {folder} was started with audio, which this model cannot generate "
                           f"(it has no audio VAE): pass the run's --model to resume it, {_RESTART}")
    scope = RECORDED_ONLY_WHEN_SET["colour_match_scope"]  # the run's default when its manifest leaves it out
    known = {"colour_match_scope": (call["colour_match_scope"], recorded.get("colour_match_scope", scope))}
    if "dtype" in recorded:  # recorded since 2026-12-06: older runs resume unchecked on it, as generate_long does
        known["dtype"] = (args.dtype, recorded["dtype"])
    if audio is not None and isinstance(recorded.get("extra") or {}, dict):  # which modality scales count needs it
        mine = canonical(_given_guidance(call, source, audio))
        theirs = {**canonical(_call_guidance_defaults()), **(recorded.get("extra") or {})}
        known.update({key: (mine[key], theirs.get(key)) for key in _GUIDANCE})
    for key, (value, started) in known.items():
        if canonical(value) != started:
            raise CLIError(_as_flags(str(ArgumentMismatch(key, canonical(value), started, folder))))


def _refusal(error: ValueError, args) -> str:
    """generate_long's refusal in this command's terms."""
    from ltx_video.pipelines.long_run import ArgumentMismatch

    if isinstance(error, ArgumentMismatch) and error.key in _SWITCHES and isinstance(error.given, bool):
        return _switch_refusal(error.key, error.given, error.folder, args) or _as_flags(str(error))
    return _as_flags(str(error))


def _as_flags(text: str) -> str:
    """generate_long's argument names in ``text`` as this command's flags."""
    text = text.replace("resume=False", "--restart").replace("overwrite=True", "--overwrite")
    flags = {"num_frames": "--num-frames (or --duration)", "num_inference_steps": "--steps",
             "skip_block_list": "--stg-blocks", "anchor": "--no-anchor (anchor)", "generate_audio": "--no-audio",
             "audio": "--no-audio (audio)",
             "prompt": "PROMPT (or --prompts)"}
    return re.sub(r"`([a-z_]+)`", lambda m: flags.get(m.group(1), "--" + m.group(1).replace("_", "-")), text)


def run_long(args) -> Path | None:
    """Run the command; returns the video written, None when the run was already finished (nothing written)."""
    source, call = check_inputs(args)
    with quiet_console():
        pipe = load_pipeline(args, source)
        pipe.set_progress_bar_config(disable=None, desc="steps", leave=False)
        if call.get("generate_audio") is False and not hasattr(pipe, "audio_vae"):
            call.pop("generate_audio")
        try:
            output = pipe.generate_long(**call)
        except ValueError as error:  # the run's own checks (an earlier run's arguments) name Python arguments
            raise CLIError(_refusal(error, args)) from None
    if output.path is None:
        raise CLIError(f"stopped before the end; the finished chunks are in {output.folder}: run again with --resume")
    if not output.written:  # --resume of a finished run: its video is already there, nothing was written
        print(f"{PROG}: {output.path} is already finished: {output.num_chunks} chunks (0 generated now) in "
              f"{output.folder}; nothing was written (--overwrite without --resume makes it again, replacing it)")
        return None
    print(f"{PROG}: {output.num_chunks} chunks ({output.chunks_generated} generated now) in {output.folder}")
    return output.path
