"""``ltx-video generate``: check every input (before any model loads), load the model as what it is, run, write.

Order matters for the user: cheap checks first (prompt, output path, model folder, size and keyframes,
media files, config, device), then the models load, then the video is generated and written to a
temporary file next to ``--output`` that replaces it only once it is complete, so an existing file is
never left half-written.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import re
import sys
from dataclasses import replace
from pathlib import Path

from ltx_video.cli import (
    ATTENTION_BACKENDS,
    PROG,
    CLIError,
    check_clip_frame,
    check_frame_inside,
    check_output,
    vae_compression,
)
from ltx_video.cli.model_source import ModelSource, inspect_model
from ltx_video.cli.output import given_sound, place_output, write_output

__all__ = ["ModelSource", "check_inputs", "flag_words", "inspect_model", "load_pipeline", "place_output",
           "quiet_console", "run", "write_output"]

# ltx_video.conditioning.media.IMAGE_SUFFIXES (a test keeps them equal); not imported, as it imports torch.
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


def _check_media(path: str, spec: str, flag: str = "--condition") -> None:
    """Open a --condition (--keyframe) file as an image (by suffix) or a video, without decoding it all."""
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise CLIError(f"{flag} {spec}: {path} is not a readable image ({error})") from None
        return
    import av

    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise CLIError(f"{flag} {spec}: {path} has no video stream; expected an image "
                               f"({', '.join(sorted(IMAGE_SUFFIXES))}) or a video")
            next(container.decode(video=0))
    except (av.error.FFmpegError, StopIteration, UnicodeDecodeError) as error:
        raise CLIError(f"{flag} {spec}: {path} is neither an image ({', '.join(sorted(IMAGE_SUFFIXES))}) nor a "
                       f"video PyAV can decode ({type(error).__name__})") from None


def _check_audio(path: Path, source: ModelSource) -> None:
    """--audio: an audio-video model, and a file with a sound track PyAV can decode."""
    if source.pipeline_class != "LTXAudioVideoPipeline":
        raise CLIError(f"--audio needs an audio-video model (LTXAudioVideoPipeline); this model is a {source.pipeline_class}")
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise CLIError(f"--audio {path} has no sound track")
            next(container.decode(audio=0))
    except FileNotFoundError:
        raise CLIError(f"--audio {path}: no such file") from None
    except (av.error.FFmpegError, StopIteration, UnicodeDecodeError) as error:
        raise CLIError(f"--audio {path} is not audio PyAV can decode ({type(error).__name__})") from None


def _check_device(text: str):
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise CLIError(f"--device: unknown device {text!r}; expected cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only build of PyTorch" if torch.version.cuda is None else "no CUDA GPU visible"
            raise CLIError(f"--device {text}: CUDA is not available here ({build}); use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise CLIError(f"--device {text}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                           f"cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise CLIError(f"--device {text}: MPS is not available here; use --device cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise CLIError(f"--device: {text!r} is not supported; expected cpu, cuda, cuda:N or mps")
    return device


def _resolve_call(args, source: ModelSource, config) -> dict:
    """Pipeline call arguments: the command line's, else the --config's (guidance), else the model's defaults."""
    defaults = source.defaults
    call = dict(
        prompt=args.prompt,
        negative_prompt=args.negative_prompt if args.negative_prompt is not None else defaults.negative_prompt,
        height=args.height or (2160 if args.four_k else defaults.height),
        width=args.width or (3840 if args.four_k else defaults.width),
        num_frames=args.num_frames or defaults.num_frames,
        frame_rate=args.frame_rate or defaults.frame_rate,
    )
    passes = [] if config is None else [config.first_pass, *([config.second_pass] if config.is_multiscale else [])]
    if args.guidance_scale is not None:
        call["guidance_scale"] = args.guidance_scale
    elif not any("guidance_scale" in p for p in passes):  # a --config that sets none: the model's
        call["guidance_scale"] = defaults.guidance_scale
    if config is None or "timesteps" not in config.first_pass:  # a multi-scale config has them (load_config checks)
        call["num_inference_steps"] = args.steps or defaults.num_inference_steps
    elif args.steps and config.is_multiscale:
        print(f"{PROG}: note: --steps {args.steps} is not used: a multi-scale --config's passes set their own "
              "schedules", file=sys.stderr)
    elif args.steps and "first_pass" in config.step_sections:
        # its num_inference_steps, replaced as config.generate(num_inference_steps=) does, with the config's sampler
        # and skips (since 2026-12-07: the config's count ran, and a note said its timesteps, which it has none of,
        # set the schedule)
        call["num_inference_steps"] = args.steps
    elif args.steps:
        print(f"{PROG}: note: --steps {args.steps} is not used: the --config's timesteps set the schedule",
              file=sys.stderr)
    call.update(resolve_stg(args, source, config))
    call.update(resolve_modality(args, source))
    return call


def resolve_modality(args, source: ModelSource, audio: bool = True) -> dict:
    """Modality guidance from --modality-scale / --audio-modality-scale, else the model's defaults; only for an
    audio-video model generating audio."""
    flags = {"modality_scale": args.modality_scale, "audio_modality_scale": args.audio_modality_scale}
    if source.pipeline_class != "LTXAudioVideoPipeline" or not audio:
        given = [name for name, value in flags.items() if value is not None]
        if given:
            flag = "--" + given[0].replace("_", "-")
            reason = "with --no-audio" if source.pipeline_class == "LTXAudioVideoPipeline" else \
                f"this model is a {source.pipeline_class}"
            raise CLIError(f"{flag} guides with the audio track, which there is none of ({reason})")
        return {}
    if getattr(args, "audio", None) is not None and args.audio_modality_scale is not None:
        # the pipeline sets it to 1 for a given sound (nothing to steer): refused since 2026-12-07 (silently unused)
        raise CLIError("--audio-modality-scale steers the audio the model generates; with --audio the sound is given, "
                       "not generated: leave it out (--modality-scale sets how hard the given sound steers the video)")
    values = {name: getattr(source.defaults, name) for name in flags}
    values.update({name: value for name, value in flags.items() if value is not None})
    # 1 is off: left out unless given (a given 1 must reach the call, or the model's own default would fill it)
    return {name: value for name, value in values.items() if value != 1 or flags[name] is not None}


def resolve_stg(args, source: ModelSource, config=None) -> dict:
    """STG call arguments from --stg-scale / --stg-blocks, else the model's defaults. A --config keeps its own; with
    --stg-scale alone, its scale replaces the config's and the config's blocks stay (the model's only for a config
    that names none)."""
    defaults = source.defaults
    scale = args.stg_scale
    if scale is None:
        if args.stg_blocks is not None and config is not None:
            raise CLIError("--stg-blocks with --config needs --stg-scale too (the --config sets its own STG scales and "
                           "blocks)")
        if args.stg_blocks is not None and not defaults.stg_scale > 0:
            raise CLIError("--stg-blocks needs --stg-scale > 0 (this model's default STG scale is 0)")
        if config is not None:
            return {}
        scale = defaults.stg_scale
    if scale == 0:
        return {"stg_scale": 0.0} if args.stg_scale is not None else {}
    if args.stg_blocks is None and config is not None:  # its blocks over the model's (since 2026-12-07: the model's)
        passes = {"first_pass": config.first_pass, **({"second_pass": config.second_pass} if config.is_multiscale
                                                        else {})}
        without = [name for name, stage in passes.items() if "skip_block_list" not in stage]
        if not without:
            return {"stg_scale": scale}
        if len(without) < len(passes):
            raise CLIError(f"--stg-scale {scale:g}: the --config's {without[0]} names no skip_block_list (its other "
                           "pass does): pass --stg-blocks too, for both passes")
    blocks = args.stg_blocks or list(defaults.skip_block_list)
    if not blocks:
        config_too = "the --config names no skip_block_list and " if config is not None else ""
        raise CLIError(f"--stg-scale {scale:g} needs --stg-blocks ({config_too}this model has no default STG blocks)")
    layers = transformer_layers(source)
    if layers is not None and max(blocks) >= layers:
        raise CLIError(f"--stg-blocks {','.join(map(str, blocks))}: this model's transformer has blocks 0 to "
                       f"{layers - 1}")
    return {"stg_scale": scale, "skip_block_list": blocks}


def transformer_layers(source: ModelSource) -> int | None:
    """The model folder's transformer block count (its config.json's ``num_layers``), None when not known."""
    config = source.path / "transformer" / "config.json" if source.path is not None and source.path.is_dir() else None
    if config is None or not config.is_file():
        return None
    layers = json.loads(config.read_text()).get("num_layers")
    return layers if isinstance(layers, int) else None


def check_config_blocks(config, source: ModelSource, name, stg_scale: float | None = None) -> None:
    """A --config's STG blocks against the model's transformer, before it loads (refused inside the call before,
    naming `skip_block_list`, after the transformer and T5 had loaded): a config written for another model. A
    ``stg_scale`` (--stg-scale) replaces the config's scales, so all its blocks are perturbed."""
    layers = transformer_layers(source)
    if layers is None:
        return
    blocks: set[int] = set()
    for stage in (config.first_pass, config.second_pass or {}):
        values = stage.get("skip_block_list") or []
        scales = stage.get("stg_scale", 0) if stg_scale is None else stg_scale
        nested = bool(values) and isinstance(values[0], (list, tuple))  # one list of blocks per guidance interval
        groups = values if nested else [values]
        scales = scales if isinstance(scales, (list, tuple)) else [scales] * len(groups)
        if not nested:
            scales = [max(scales, default=0)]
        for group, scale in zip(groups, scales, strict=False):
            if isinstance(scale, (int, float)) and scale > 0:  # blocks of a pass without STG are never perturbed
                blocks.update(group)
    past = sorted(b for b in blocks if isinstance(b, int) and b >= layers)
    if past:
        raise CLIError(f"--config {name}: its STG blocks {past} are past this model's transformer (blocks 0 to "
                       f"{layers - 1}): a config for another model (pass --stg-scale 0 to turn its STG off)")


def _vae_compression(source: ModelSource) -> tuple[str, int, int]:
    """The model's VAE class and spatial and temporal compression (:func:`ltx_video.cli.vae_compression`)."""
    return vae_compression(source.path)


def _check_4k(args, source: ModelSource, config, call: dict) -> None:
    if config is not None and config.is_multiscale:
        raise CLIError("--4k and a multi-scale --config cannot be combined: --4k runs its own two passes")
    vae_class, ratio, _ = _vae_compression(source)
    if ratio >= 64:
        if args.upsampler is not None:  # it was loaded and never used
            raise CLIError(f"--upsampler is not used with --4k here: this model's {vae_class} compresses {ratio}x, so "
                           "it generates at 4K's latent grid directly; leave --upsampler out")
        return
    if args.upsampler is None:
        raise CLIError(f"--4k needs --upsampler DIR (an LTXLatentUpsamplerModel folder, e.g. LTX-Video's "
                       f"ltxv-spatial-upscaler-0.9.8) for this model, whose {vae_class} compresses {ratio}x; or a "
                       "--model whose vae is a HierarchicalVAE (64x)")
    from ltx_video.pipelines.four_k import check_4k_size  # torch: after the checks that need none

    try:
        check_4k_size(call["height"], call["width"], ratio)
    except ValueError as error:
        raise CLIError(f"--4k: {error}".replace("`height`", "--height").replace("`width`", "--width")) from None


def _refuse_flash() -> None:
    raise CLIError("--attention flash needs the flash-attn package on a CUDA machine (pip install flash-attn "
                   f"--no-build-isolation); accepted without it: {', '.join(a for a in ATTENTION_BACKENDS if a != 'flash')}")


def check_inputs(args) -> tuple[ModelSource, object, dict]:
    """Every check that needs no model: returns the model source, the loaded --config and the call arguments."""
    if not args.prompt.strip() and not args.allow_empty_prompt:
        raise CLIError("PROMPT is empty: give a prompt, or pass --allow-empty-prompt for an unconditional video")
    check_output(args.output, args.overwrite)
    if args.attention == "flash" and importlib.util.find_spec("flash_attn") is None:  # at once: torch takes seconds
        _refuse_flash()
    source = inspect_model(args.model, args.base_model, args.variant)
    if args.audio is not None:
        _check_audio(args.audio, source)
        source = replace(source, defaults=source.defaults.for_given_audio())
    config = None
    if args.config is not None:
        import yaml

        from ltx_video.configs import load_config

        try:
            config = load_config(args.config)
        except (ValueError, FileNotFoundError) as error:
            raise CLIError(f"--config: {error}") from None
        except yaml.YAMLError as error:
            raise CLIError(f"--config {args.config}: not valid YAML ({str(error).splitlines()[0]})") from None
    if args.dtype is None:  # the --config's precision, as LTX-Video's inference.py loads it, else float32
        precision = config.model.get("precision") if config is not None else None
        args.dtype = "float32" if precision in (None, "float32") else "bfloat16"
        args.fp8 = args.fp8 or precision == "float8_e4m3fn"
    if args.upsampler is not None and not (args.upsampler / "config.json").is_file():
        raise CLIError(f"--upsampler: {args.upsampler} is not a model folder (no config.json); expected an "
                       "LTXLatentUpsamplerModel folder")
    if config is not None and config.is_multiscale and args.upsampler is None:
        raise CLIError("--config is multi-scale: pass --upsampler DIR (an LTXLatentUpsamplerModel folder)")
    if args.upsampler is not None and not args.four_k and not (config is not None and config.is_multiscale):
        raise CLIError("--upsampler is used only with --4k or a multi-scale --config (it would be loaded and unused)")
    if config is not None and args.stg_scale != 0 and args.stg_blocks is None:  # 0: off; --stg-blocks: not used
        check_config_blocks(config, source, args.config, args.stg_scale)
    if args.audio is not None and (args.four_k or (config is not None and config.is_multiscale)):
        other = "--4k" if args.four_k else "a multi-scale --config"
        raise CLIError(f"--audio and {other} cannot be combined: the multi-scale passes generate video only")
    call = _resolve_call(args, source, config)
    if args.four_k:
        _check_4k(args, source, config, call)
    num_frames = call["num_frames"]
    if args.condition and args.keyframe:
        raise CLIError("--keyframe and --condition cannot be combined: give every image as --keyframe")
    for flag, items in (("--condition", args.condition), ("--keyframe", args.keyframe)):
        for path, frame, _strength in items:
            spec = f"{path}:{frame}"
            check_frame_inside(flag, spec, frame, num_frames)
            _check_media(path, spec, flag)
            if flag == "--condition" and Path(path).suffix.lower() not in IMAGE_SUFFIXES:
                check_clip_frame(flag, spec, frame, num_frames, _vae_compression(source)[2])
    frames = [frame for _, frame, _ in args.keyframe]
    if len(set(frames)) != len(frames) or frames != sorted(frames):
        raise CLIError(f"--keyframe: frames must be different and in increasing order, got {frames}")
    if args.keyframe_placement is not None and not args.keyframe:
        raise CLIError("--keyframe-placement needs --keyframe")
    if args.keyframe_placement == "in-place":
        clips = [f"{path}:{frame}" for path, frame, _ in args.keyframe if Path(path).suffix.lower() not in IMAGE_SUFFIXES]
        if clips:
            raise CLIError(f"--keyframe-placement in-place takes images; {clips[0]} is a video (use --keyframe-placement tokens)")
    if args.keyframe:  # what the pipeline checks once the VAE is known: latent frames, from its config
        from ltx_video.conditioning.multi_keyframe_processor import Keyframe, MultiKeyframeProcessor

        placement = (args.keyframe_placement or "tokens").replace("-", "_")
        keyframes = [Keyframe(path, frame, strength, placement=placement) for path, frame, strength in args.keyframe]
        try:
            MultiKeyframeProcessor.check(keyframes, num_frames, _vae_compression(source)[2])
        except ValueError as error:
            raise CLIError(f"--keyframe: {error}".replace("`keyframes`: ", "").replace("`keyframes`", "keyframes")) from None
    if args.camera_space is not None and args.camera is None:
        raise CLIError("--camera-space needs --camera")
    if args.camera is not None:
        from ltx_video.conditioning.camera_controller import Camera, CameraController

        motion, speed = args.camera
        try:
            # The bound is per latent step: as many frames as this model's VAE compresses into one (4 built-in, 8 LTX).
            CameraController(Camera(motion_type=motion, speed=speed)).check(
                num_frames, call["height"], call["width"], _vae_compression(source)[2])
        except ValueError as error:
            raise CLIError(f"--camera {motion.replace('_', '-')}:{speed:g}: {error}") from None
    if args.attention == "flash":
        from ltx_video.attention.backends import flash_attn_available

        if not flash_attn_available():
            _refuse_flash()
    if config is not None and config.is_multiscale:
        _check_multiscale_size(config, source, call)
    if args.upsampler is not None:  # used by now: with --4k or a multi-scale --config
        _check_upsampler(args.upsampler, source)
    _check_device(args.device)
    _note_clip_rates(args, call["frame_rate"])
    return source, config, call


def _check_multiscale_size(config, source: ModelSource, call: dict) -> None:
    """A size whose first pass is not empty (since 2026-12-07; refused inside the call, after the models loaded)."""
    from ltx_video.pipelines.multiscale import smallest_side

    smallest = smallest_side(config.downscale_factor, _vae_compression(source)[1])
    small = [f"--{name} {call[name]}" for name in ("height", "width") if call[name] < smallest]
    if small:
        raise CLIError(f"{' and '.join(small)}: a multi-scale --config (downscale_factor {config.downscale_factor}) "
                       f"needs --height and --width of at least {smallest} px (its first pass runs at that fraction "
                       "of the size, rounded down to a multiple of 32)")


def _read_config(path: Path, flag: str) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CLIError(f"{flag}: {path} is not readable JSON ({error})") from None


def _check_upsampler(upsampler: Path, source: ModelSource) -> None:
    """--upsampler against the model's VAE, from both config.json files (since 2026-12-07; a wrong one failed after
    loading, in the call)."""
    from ltx_video.pipelines.multiscale import check_upsampler_config

    upsampler_config = _read_config(upsampler / "config.json", "--upsampler")
    vae_file = source.path / "vae" / "config.json" if source.path is not None and source.path.is_dir() else None
    channels = None
    if vae_file is not None and vae_file.is_file():  # a single file's VAE is known only once it loads
        vae_config = _read_config(vae_file, "--model")
        default = 128 if vae_config.get("_class_name", "AutoencoderKLLTXVideo") == "AutoencoderKLLTXVideo" else None
        channels = vae_config.get("latent_channels", default)  # diffusers' default, as from_pretrained fills it
    try:
        check_upsampler_config(upsampler_config, channels, f"--upsampler {upsampler}", f"this model's VAE ({vae_file})")
    except ValueError as error:
        raise CLIError(str(error)) from None


def _note_clip_rates(args, frame_rate: float) -> None:
    """A --condition / --keyframe clip at another rate than the video's is taken frame for frame (re-timed: a 30 fps
    clip in a 24 fps video plays slower, and a sound made for it follows the slower one): said on stderr, before the
    model loads, naming the flags (the pipeline's own line, naming its arguments, is muted in :func:`run`)."""
    from ltx_video.conditioning.media import clip_frame_rate

    for flag, entries in (("--condition", args.condition), ("--keyframe", args.keyframe)):
        for path, frame, _ in entries or ():
            rate = clip_frame_rate(path)  # None for an image, or a file the pipeline's read will name
            if rate and abs(rate - frame_rate) > 0.01 * frame_rate:
                print(f"{PROG}: note: {flag} {path}:{frame} is a {rate:g} fps clip, taken frame for frame at "
                      f"--frame-rate {frame_rate:g} (it plays {rate / frame_rate:.2f}x as long); pass "
                      f"--frame-rate {rate:g} to keep its timing", file=sys.stderr)


def flag_words(args):
    """The pipeline's warnings about what the flags gave, in the flags' words (as :func:`_note_clip_rates` says the
    clip-rate one): `keyframes[frame N]` is --keyframe PATH:N, `media_item` --condition PATH:FRAME (the clip at the
    frame the warning names), `audio` --audio PATH. Returns the rewrite of one warning's text."""
    from ltx_video.conditioning.media import argument_name

    names = {f"`keyframes[frame {frame}]`": f"--keyframe {path}:{frame}" for path, frame, _ in args.keyframe}
    if args.audio is not None:
        names["`audio`"] = f"--audio {args.audio}"
    media_item = f"`{argument_name('ltx')}`"  # a ConditioningItem's, as the pipeline names it

    def rewrite(text: str) -> str:
        if text.startswith(media_item) and args.condition:
            start = re.search(r"\bframe (\d+)\b", text)  # the frame its clip starts at
            specs = [f"{path}:{frame}" for path, frame, _ in args.condition if start is None or int(start[1]) == frame]
            return ("--condition " + specs[0] if len(specs) == 1 else "--condition") + text[len(media_item):]
        name = next((name for name in names if text.startswith(name)), None)
        return text if name is None else names[name] + text[len(name):]

    return rewrite


class _RewritingFormatter(logging.Formatter):
    """The command's warning line with the message rewritten (:func:`flag_words`); the record itself is left as it
    is for the logger's other handlers (a filter that rewrote it changed what they got too)."""

    def __init__(self, rewrite):
        super().__init__()
        self.rewrite = rewrite

    def format(self, record: logging.LogRecord) -> str:
        return f"{PROG}: warning: {self.rewrite(record.getMessage())}"


@contextlib.contextmanager
def quiet_console(rewrite=None):
    """Loading bars only on a terminal, never transformers' per-file bar nested inside diffusers' own, and this
    library's warnings (a prompt the built-in model does not know) as the command's own lines, their text passed
    through ``rewrite`` (:func:`flag_words`) where given. Undone on exit, so ``main()`` called from Python leaves the
    process as it found it."""
    import diffusers.utils.logging as diffusers_logging
    import transformers.utils.logging as transformers_logging

    bars = (diffusers_logging.is_progress_bar_enabled(), transformers_logging.is_progress_bar_enabled())
    transformers_logging.disable_progress_bar()
    if not sys.stderr.isatty():
        diffusers_logging.disable_progress_bar()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RewritingFormatter(rewrite or (lambda text: text)))
    package_logger = logging.getLogger("ltx_video")
    package_logger.addHandler(handler)
    propagate, package_logger.propagate = package_logger.propagate, False
    try:
        yield
    finally:
        package_logger.removeHandler(handler)
        package_logger.propagate = propagate
        for enabled, module in zip(bars, (diffusers_logging, transformers_logging), strict=True):
            (module.enable_progress_bar if enabled else module.disable_progress_bar)()


def load_pipeline(args, source: ModelSource):
    import torch

    import ltx_video

    dtype = getattr(torch, args.dtype)
    pipeline_class = getattr(ltx_video, source.pipeline_class)
    if source.kind == "builtin":
        print(f"{PROG}: using the built-in model (a small audio-video model of a toy world of bouncing shapes, "
              "64x64 px; pass --model for a real LTX-Video checkpoint)", file=sys.stderr)
        from ltx_video.default_model import load_default_pipeline

        pipe = load_default_pipeline(dtype=dtype)
    elif source.kind == "single_file":
        from ltx_video.io.safetensors_header import has_model_config
        from ltx_video.pipelines.single_file import ConfigNeededError, check_file_configs, load_text_components

        # --base-model gives the text encoder, and the model configs where the file cannot tell them (no or
        # unreadable metadata, a VAE diffusers cannot express, an unknown head size): checked from the header, before
        # the text encoder loads (since 2026-12-07: --base-model was not used then, and the error said "config=").
        lacking = [name for name in ("transformer/config.json", "vae/config.json")
                   if not (args.base_model / name).is_file()]

        def configs_from_base_model(error: ConfigNeededError):
            if lacking:
                raise CLIError(f"--model: {error.reason}; --base-model {args.base_model} has no {' or '.join(lacking)} "
                               "to take the configs from: pass a --base-model folder that has both") from None
            if has_model_config(source.path):  # a file that describes its models, but not usably
                print(f"{PROG}: note: {error.reason}: the model configs come from --base-model", file=sys.stderr)
            return args.base_model

        try:
            check_file_configs(source.path)
            config = None
        except ConfigNeededError as error:
            config = configs_from_base_model(error)
        text_encoder, tokenizer = load_text_components(args.base_model, dtype)
        kwargs = dict(text_encoder=text_encoder, tokenizer=tokenizer, torch_dtype=dtype)
        try:
            pipe = pipeline_class.from_single_file(source.path, config=config, **kwargs)
        except ConfigNeededError as error:  # what only the tensors show: a released block count of another width
            pipe = pipeline_class.from_single_file(source.path, config=configs_from_base_model(error), **kwargs)
    else:
        pipe = pipeline_class.from_pretrained(source.path, dtype=dtype, variant=source.variant)
    if args.upsampler is not None:
        from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

        pipe.register_modules(latent_upsampler=LTXLatentUpsamplerModel.from_pretrained(args.upsampler, torch_dtype=dtype))
    if args.fp8:  # before moving: the full-precision weights never reach the device
        if torch.device(args.device).type != "cuda":
            print(f"{PROG}: note: --fp8 on {args.device} stores the transformer-block weights in FP8 (less memory) "
                  f"but computes in {args.dtype}: no speed-up without a CUDA GPU with FP8 matmuls", file=sys.stderr)
        pipe.enable_fp8()
    pipe.to(args.device, silence_dtype_warnings=True)  # diffusers' "float16 cannot run on cpu": it does, here
    if args.attention is not None:
        pipe.enable_efficient_attention(args.attention)
    if args.ff_chunk_size is not None:
        pipe.enable_feed_forward_chunking(args.ff_chunk_size)
    if args.vae_tiling:
        pipe.enable_vae_tiling()
    if args.four_k:
        pipe.enable_4k_mode()
    # A bar on a terminal; none in logs and pipes (tqdm's disable=None).
    pipe.set_progress_bar_config(disable=None, desc="denoising")
    # Every component was loaded in `dtype` (a cast after loading makes diffusers warn that the user should have).
    return pipe


def run(args) -> Path:
    """Check, load, generate, write ``args.output``; returns its path."""
    source, config, call = check_inputs(args)
    import torch

    from ltx_video import Camera, CameraController, ConditioningItem, Keyframe
    from ltx_video.io.media import write_video

    call.update(
        conditioning_items=[ConditioningItem(p, f, s) for p, f, s in args.condition] or None,

        output_type="pt",
        # on every --device: the noise is drawn on the CPU and moved, so a seed's noise is the same on any device
        # (README: --seed N is generator=torch.Generator("cpu").manual_seed(N), not the example's "cuda" one)
        generator=torch.Generator(device="cpu").manual_seed(args.seed),
    )
    if args.audio is not None:  # read (resampled to the model's rate) by the pipeline; the mp4 gets the file's own
        call["audio"] = str(args.audio)
    if args.keyframe:
        placement = (args.keyframe_placement or "tokens").replace("-", "_")
        call["keyframes"] = [Keyframe(p, f, s, placement=placement) for p, f, s in args.keyframe]
    if args.camera is not None:
        call["camera"] = Camera(motion_type=args.camera[0], speed=args.camera[1])
        if args.camera_space == "pixel":  # the setting that moves the built-in model's camera (docs/control.md)
            call["camera"] = CameraController(call["camera"], space="pixel", strength=1.0, until=1.0, schedule="constant")
    with quiet_console(flag_words(args)), _muted(logging.getLogger("ltx_video.conditioning.media.clip_rates")):  # _note_clip_rates said it
        pipe = load_pipeline(args, source)
        output = config.generate(pipe, **call) if config is not None else pipe(**call)
    audio = getattr(output, "audio", None)  # (waveform (B, S), sample_rate) from audio-video pipelines
    if args.audio is not None:  # the file's own sound, not the model's 16 kHz mono version of it
        waveform, rate = given_sound(args.audio, len(output.frames[0]), call["frame_rate"])
        audio = (waveform[None], rate)
    return write_output(args.output, args.overwrite, lambda path: write_video(
        path, output.frames[0].float().cpu(), fps=call["frame_rate"],
        audio=None if audio is None else audio[0][0], sample_rate=None if audio is None else audio[1],
    ))


@contextlib.contextmanager
def _muted(logger: logging.Logger):
    """``logger``'s records dropped inside the block (a line the command has said already, in its own words)."""
    drop = logging.Filter("\0")  # passes only a logger of that name: none
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)
