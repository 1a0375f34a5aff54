"""``ltx-video plan``: the memory a generation will need, before anything is loaded or run.

The transformer comes from ``--model``: ``2b`` or ``13b`` (LTX-Video 0.9.x), an LTX-Video YAML config (a file, or
a shipped config's name such as ``ltxv-13b-0.9.8-dev``; its checkpoint name says which, and ``-fp8`` configs plan FP8 weights), or a diffusers-format
folder (its ``transformer/config.json``). Only that JSON is read; no weights are loaded.

The dtype mirrors ``generate``'s: without ``--dtype``, float32, or a YAML config's precision (bfloat16 for its
bfloat16, mixed_precision and float8_e4m3fn). Sizes are padded as the pipelines pad them, and the header says so. A
YAML config is planned as ``generate --config`` runs it: a multi-scale one's two passes (the second, and the decode,
at twice the first's size), and the guidance passes its guidance needs (a distilled config's one) without
``--guidance-passes``.

Since 2026-12-07: a ``--model`` folder's ``generation_defaults.json`` gives the size, frames and guidance passes
(CFG and STG) left out, as for 'generate' (the header names the source); a single ``.safetensors`` file is read from
its header (tensor shapes and metadata, as the single-file loader builds its transformer); ``--config`` plans a YAML
config with a ``--model`` folder's transformer; ``--image``, ``--keyframes``, ``--clip`` and ``--long`` plan a
conditioned call (per-token timesteps, appended tokens); ``--4k`` is refused (docs/4k.md has its memory).
"""

from __future__ import annotations

import json
from pathlib import Path

from ltx_video.cli import CLIError, check_clip_frame, vae_compression

__all__ = ["run_plan"]


def _model_path(model: str) -> Path:
    """``--model`` as a path: a shipped config's file for its name, else the path given."""
    from ltx_video.configs import config_path

    path = Path(model)
    try:
        return config_path(model) if not path.is_dir() else path
    except FileNotFoundError:
        return path


def _yaml_model(model: str) -> Path | None:
    path = _model_path(model)
    return path if path.suffix in (".yaml", ".yml") and path.is_file() and model.lower() not in ("2b", "13b") else None


def generate_dtype(model: str) -> str:
    """The dtype 'generate' loads ``model`` in without --dtype (cli/generate.py ``check_inputs``): a YAML config's
    precision (bfloat16 for bfloat16, mixed_precision and float8_e4m3fn), else float32."""
    path = _yaml_model(model)
    if path is None:
        return "float32"
    precision = next((line.split(":", 1)[1].split("#")[0].strip().strip("\"'") for line in path.read_text().splitlines()
                      if line.startswith("precision:")), None)
    return "float32" if precision in (None, "", "float32") else "bfloat16"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:  # a bare "Expecting value: line 1 column 1" named no file
        raise CLIError(f"--model: {path} is not valid JSON ({error})") from None


def _header_shapes(path: Path) -> dict[str, list[int]]:
    """A .safetensors file's tensor shapes from its JSON header (read_safetensors_header checked it); no tensor read."""
    import struct

    with path.open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    return {name: entry["shape"] for name, entry in header.items() if name != "__metadata__"}


def single_file_config(path: Path, base_model: str | None) -> dict:
    """The transformer config 'generate' builds for a single .safetensors ``--model``, from its header alone: the
    tensor shapes and the metadata's head size (pipelines/single_file.py), else ``--base-model``'s transformer."""
    import torch

    from ltx_video.io.safetensors_header import read_safetensors_header
    from ltx_video.pipelines import single_file

    if base_model is not None and (Path(base_model) / "transformer" / "config.json").is_file():
        return _read_json(Path(base_model) / "transformer" / "config.json")
    try:
        keys, metadata = read_safetensors_header(path)
        original = single_file._metadata_config(path, metadata, needed=True)
        transformer_keys = single_file._split_keys(keys)[0]
        shapes = _header_shapes(path)
        meta = {single_file._diffusers_key(key): torch.empty(shapes[key], device="meta") for key in transformer_keys}
        return single_file._infer_transformer_config(path, meta, original.get("transformer") or {})
    except (ValueError, KeyError) as error:
        raise CLIError(f"--model: {error} (or pass --base-model, a diffusers folder with transformer/config.json)") from None


def transformer_config(model: str | None, base_model: str | None = None) -> tuple[dict, bool]:
    """(transformer config, whether the model is an FP8 config) for ``--model`` (None: 2b)."""
    from ltx_video.utils.presets import LTX_VIDEO_2B, LTX_VIDEO_13B

    model = "2b" if model is None else model
    presets = {"2b": LTX_VIDEO_2B, "13b": LTX_VIDEO_13B}
    if model.lower() in presets:
        return presets[model.lower()], False
    path = _model_path(model)
    if path.is_file() and path.suffix.lower() == ".safetensors":
        return single_file_config(path, base_model), "fp8" in path.name.lower()
    if _yaml_model(model) is not None:
        text = path.read_text()
        checkpoint = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                           if line.strip().startswith("checkpoint_path:")), path.name)
        for name, config in (("13b", LTX_VIDEO_13B), ("2b", LTX_VIDEO_2B)):
            if name in checkpoint.lower():
                return config, "fp8" in checkpoint.lower() or "fp8" in path.name.lower()
        raise CLIError(f"--model: cannot tell the model size from {path}'s checkpoint_path {checkpoint!r}; "
                       "pass --model 2b or --model 13b")
    config_file = path / "transformer" / "config.json"
    if path.is_dir() and config_file.is_file():
        return _read_json(config_file), False
    raise CLIError(f"--model must be 2b, 13b, an LTX-Video YAML config, a diffusers folder with "
                   f"transformer/config.json or a single .safetensors checkpoint; got {model!r}")


def generation_defaults(model: str | None):
    """(the GenerationDefaults 'generate' runs ``--model`` with, where they come from): a folder's
    generation_defaults.json (read as cli/model_source.py reads it), else LTX-Video 0.9.8's."""
    from ltx_video.pipelines.generation_defaults import LTX_VIDEO_DEFAULTS, GenerationDefaults

    path = Path(model) if model is not None else None
    if path is not None and path.is_dir() and (path / "model_index.json").is_file():
        try:
            recorded = GenerationDefaults.load(path)
        except ValueError as error:
            raise CLIError(f"--model: {error}") from None
        if recorded is not None:
            return recorded, f"{path}/generation_defaults.json"
    return LTX_VIDEO_DEFAULTS, "LTX-Video 0.9.8's defaults"


def _guidance_passes(stage: dict) -> int:
    """The most model passes a step of this config pass runs (1 + CFG + STG, as ``GuidanceConfig.num_passes``), over
    its schedule; without a guidance_scale, 'generate' uses LTX-Video's default (3.0: CFG on)."""
    import torch

    from ltx_video.pipelines.denoising import guidance_schedule
    from ltx_video.pipelines.generation_defaults import LTX_VIDEO_DEFAULTS

    # every interval of a per-interval list counts when the pass has no timesteps of its own
    timesteps = stage.get("timesteps") or stage.get("guidance_timesteps") or [1000.0]
    schedule = guidance_schedule(
        torch.tensor(timesteps), guidance_scale=stage.get("guidance_scale", LTX_VIDEO_DEFAULTS.guidance_scale),
        stg_scale=stage.get("stg_scale", 0.0), rescaling_scale=stage.get("rescaling_scale", 1.0),
        skip_block_list=stage.get("skip_block_list") or [], guidance_timesteps=stage.get("guidance_timesteps"),
    )
    return max(step.num_passes for step in schedule)


def _plan_yaml(args) -> Path | None:
    """The YAML config planned: --config, else a YAML --model."""
    if args.config is not None:
        path = _yaml_model(args.config)
        if path is None:
            raise CLIError(f"--config must be an LTX-Video YAML config (a file or a shipped name), got {args.config!r}")
        return path
    return _yaml_model(args.model) if args.model is not None else None


def defaults_passes(defaults) -> int:
    """The guidance passes 'generate' runs with a model's defaults: 1 + CFG (guidance_scale != 1) + STG."""
    return _guidance_passes({"guidance_scale": defaults.guidance_scale, "stg_scale": defaults.stg_scale,
                             "skip_block_list": list(defaults.skip_block_list)})


def planned_passes(args, defaults=None) -> list[tuple[str, int, int, int]]:
    """(name, height, width, guidance passes) of each transformer pass 'generate' runs: the padded size, or for a
    multi-scale YAML config its first pass and the second at twice that (pipelines/multiscale.py), which is also the
    size decoded. Guidance passes: --guidance-passes, else a YAML config's, else the model's defaults' (CFG: 2)."""
    height, width = -(-args.height // 32) * 32, -(-args.width // 32) * 32
    path = _plan_yaml(args)
    if path is None:
        return [("", height, width, args.guidance_passes or (defaults_passes(defaults) if defaults else 2))]
    from ltx_video.configs import load_config

    try:
        config = load_config(path)
    except ValueError as error:
        raise CLIError(f"--model: {error}") from None
    if not config.is_multiscale:
        return [("", height, width, args.guidance_passes or _guidance_passes(config.first_pass))]
    from ltx_video.pipelines.multiscale import first_pass_size, smallest_side

    smallest = smallest_side(config.downscale_factor)
    small = [f"--{name} {value}" for name, value in (("height", args.height), ("width", args.width)) if value < smallest]
    if small:
        raise CLIError(f"{' and '.join(small)}: this multi-scale config (downscale_factor {config.downscale_factor}) "
                       f"needs --height and --width of at least {smallest} px")
    h1, w1 = first_pass_size(height, width, config.downscale_factor)
    return [("first pass", h1, w1, args.guidance_passes or _guidance_passes(config.first_pass)),
            ("second pass", 2 * h1, 2 * w1, args.guidance_passes or _guidance_passes(config.second_pass))]


def _conditioning(args, ratio: int) -> tuple[list[tuple[int, int]], int, bool | None, str]:
    """(conditions, appended latent frames, per-token timestep, header words) for estimate_memory from --image,
    --keyframes, --clip, --keyframe-placement and --long; a clip longer than the video from its frame is cut as
    'generate' cuts it (to 1 + ``ratio`` k frames that fit; since 2026-12-08 it was planned whole, up to 19 % high)."""
    if args.long and (args.image or args.keyframes or args.clip):
        raise CLIError("--long plans 'ltx-video long', which takes no --image, --keyframes or --clip")
    if args.long:
        anchor = 0 if args.no_anchor else 1
        return [], anchor, True, (f", a later chunk of 'long' ({args.num_frames} frames; the previous chunk's overlap "
                                  f"carried in place{'' if args.no_anchor else ' and the first chunk anchor appended'}"
                                  f", per-token timesteps)")
    later = 0 if args.keyframe_placement == "in-place" else 1  # in place: held in their latent frames
    conditions = ([(0, 1)] if args.image else []) + [(later, 1)] * (args.keyframes or 0)
    clips = [((min(frames, args.num_frames - frame) - 1) // ratio * ratio + 1, frame) for frames, frame in args.clip]
    conditions += [(later * frame, frames) for frames, frame in clips]
    if not conditions:
        return [], 0, None, ""
    cut = [f"{given}:{frame} to {kept}" for (given, frame), (kept, _) in zip(args.clip, clips, strict=True)
           if kept < given]
    words = [f"{name}" for name, on in (("an image at frame 0", args.image),
                                         (f"{args.keyframes} keyframe(s) after frame 0", args.keyframes),
                                         (f"{len(args.clip)} clip(s)" + (f" (cut as generate cuts them: {', '.join(cut)})"
                                                                          if cut else ""), args.clip)) if on]
    how = "held in place" if args.keyframe_placement == "in-place" else "appended as tokens"
    return conditions, 0, None, f", conditioned on {' and '.join(words)} (later ones {how}; per-token timesteps)"


def _check_combinations(args) -> None:
    """Flags that do nothing in this combination, refused as 'generate' and 'long' refuse them (since 2026-12-07:
    ignored without a word, so the plan was not the one asked for)."""
    if args.chunk_frames and not args.long:
        raise CLIError("--chunk-frames is for --long (the frames of a chunk of 'ltx-video long'); without --long, "
                       "--num-frames sets the frames planned")
    if args.no_anchor and not args.long:
        raise CLIError("--no-anchor is for --long (a chunk of 'ltx-video long --no-anchor', planned without the first "
                       "chunk's anchor)")
    if args.keyframe_placement is not None and not (args.keyframes or args.clip):
        raise CLIError("--keyframe-placement needs --keyframes or --clip")  # as generate's "needs --keyframe"
    if args.keyframe_placement == "in-place" and args.clip:
        frames, frame = args.clip[0]
        raise CLIError(f"--keyframe-placement in-place takes images; --clip {frames}:{frame} is a video (use "
                       "--keyframe-placement tokens)")


def _check_frames(args, model: str | None) -> int:
    """--long's chunk and each --clip's frame against the model's VAE, as 'long' and 'generate' check them; returns
    the VAE's temporal compression."""
    folder = Path(model) if model is not None and Path(model).is_dir() else None
    if folder is not None and (folder / "vae" / "config.json").is_file():
        _read_json(folder / "vae" / "config.json")  # vae_compression's own read would not name the file
    ratio = vae_compression(folder)[2]  # LTX-Video's 8 but for a folder's own VAE
    if args.long:
        from ltx_video.cli.long import check_layout
        from ltx_video.pipelines.long_layout import ChunkLayout, default_overlap_frames

        check_layout(ChunkLayout(args.num_frames, args.num_frames, default_overlap_frames(args.num_frames, ratio), ratio))
    for frames, frame in args.clip:
        check_clip_frame("--clip", f"{frames}:{frame}", frame, args.num_frames, ratio)
    return ratio


def run_plan(args) -> str:
    if args.vae_tiling and args.no_vae_tiling:  # the last one silently won
        raise CLIError("--vae-tiling and --no-vae-tiling cannot be combined: pass one")
    _check_combinations(args)
    if args.four_k:  # generate --4k runs half size, upsampler, refinement and a tiled decode: not modelled here
        raise CLIError("--4k: the plan does not model the 4K path (half-size pass, x2 upsampling, refinement, tiled "
                       "decode); see docs/4k.md's memory table, or plan its passes with --height/--width")
    if args.config is not None and args.model is not None and _yaml_model(args.model) is not None:
        raise CLIError("--config with a YAML --model: pass the YAML once (--config), with --model the weights' folder")
    if args.base_model is not None and not (args.model and Path(args.model).is_file()):
        raise CLIError("--base-model is for a single .safetensors --model")
    yaml = _plan_yaml(args)
    model = args.model if args.model is not None else (str(yaml) if yaml is not None else None)
    config, fp8 = transformer_config(model, args.base_model)  # a bad --model refused before torch loads
    defaults, source = generation_defaults(model)
    # with --long the peak is one chunk's: --chunk-frames (default: the model's frames), not the video's --num-frames
    frames_given = args.chunk_frames if args.long else args.num_frames
    taken = [name for name, value in (("size", args.height and args.width), ("frames", frames_given)) if not value]
    args.height, args.width = args.height or defaults.height, args.width or defaults.width
    args.num_frames = frames_given or defaults.num_frames
    default_dtype = generate_dtype(str(yaml)) if yaml is not None else "float32"
    dtype = args.dtype or default_dtype
    conditions, appended, per_token, conditioning = _conditioning(args, _check_frames(args, model))
    import torch

    from ltx_video.models.autoencoders.tiling import TilingConfig
    from ltx_video.utils.memory import MemoryEstimate, estimate_memory

    if config.get("_class_name", "LTXVideoTransformer3DModel") != "LTXVideoTransformer3DModel":
        raise CLIError(f"--model: the planner knows LTXVideoTransformer3DModel, not {config['_class_name']}")
    passes = planned_passes(args, defaults)
    try:
        estimates = [estimate_memory(
            config, height, width, args.num_frames, batch_size=args.batch_size,
            dtype=getattr(torch, dtype), attention=args.attention, fp8=args.fp8 or fp8,
            vae_tiling=TilingConfig() if args.vae_tiling else False, guidance_passes=guidance,
            max_sequence_length=args.max_sequence_length, conditions=conditions, appended_latent_frames=appended,
            per_token_timestep=per_token,
        ) for _, height, width, guidance in passes]
        decode = estimates[-1].vae_decode
        if args.long:  # a later chunk decodes 2 latent frames of the last chunk before its own (DECODE_CONTEXT)
            decode = estimate_memory(config, passes[-1][1], passes[-1][2], args.num_frames + 16,
                                     batch_size=args.batch_size, dtype=getattr(torch, dtype),
                                     vae_tiling=TilingConfig() if args.vae_tiling else False).vae_decode
    except ValueError as error:
        raise CLIError(f"--model: {error}") from None
    # Multi-scale (since 2026-12-07; only the requested size was planned): the larger pass's step, the last one's decode.
    step = max(estimates, key=lambda e: e.activations + e.attention)
    estimate = MemoryEstimate(weights=step.weights, activations=step.activations, attention=step.attention,
                              vae_decode=decode, total=step.weights + max(step.activations + step.attention, decode))
    tiling = "tiled as 'generate --vae-tiling'" if args.vae_tiling else "untiled, as 'generate' without --vae-tiling"
    size = (-(-args.width // 32) * 32, -(-args.height // 32) * 32, (args.num_frames - 1 + 7) // 8 * 8 + 1)
    padded = "" if size == (args.width, args.height, args.num_frames) else " (padded to {} x {} x {}, as the pipelines pad)"
    dtype_note = (f" (as 'generate --dtype {dtype}'; without --dtype it loads this model in {default_dtype})"
                  if dtype != default_dtype else "")

    def guidance(count: int) -> str:
        return f"{count} guidance pass{'es' if count > 1 else ''} per step"

    if len(passes) == 1:
        why = ("--guidance-passes" if args.guidance_passes else "the config's" if yaml is not None else
               f"{source}: guidance_scale {defaults.guidance_scale:g}, stg_scale {defaults.stg_scale:g}")
        shape = f", {guidance(passes[0][3])} ({why})"
    else:
        (_, h1, w1, g1), (_, h2, w2, g2) = passes
        larger = "first" if step is estimates[0] else "second"
        shape = (f"\nmulti-scale, as 'generate --config' runs it: first pass {w1} x {h1} ({guidance(g1)}), upsampled "
                 f"x2, second pass {w2} x {h2} ({guidance(g2)}), decoded at {w2} x {h2} and resized to {size[0]} x "
                 f"{size[1]}; the activations and attention are the {larger} pass's")
    name = model if model is not None else "2b (the default --model, LTX-Video 2B; bare 'generate' runs the built-in model instead)"
    sizes = "" if not taken else f"; {' and '.join(taken)} from {source}"
    return (f"{name}: {args.width} x {args.height} x {args.num_frames}{padded.format(*size)}{sizes}, batch "
            f"{args.batch_size}, {dtype}{dtype_note}{', FP8 weights' if args.fp8 or fp8 else ''}, attention "
            f"{args.attention}, VAE decode {tiling}{conditioning}{shape}\n{estimate}"
            f"{_vae_note(model) if model is not None else ''}")


# LTX-Video 0.9.5-0.9.8's decoder, the one whose activations the planner's VAE figures model
LTX_DECODER = {"decoder_block_out_channels": [256, 512, 1024], "patch_size": 4, "patch_size_t": 1}


def _vae_config(config: dict) -> dict:
    """A saved AutoencoderKLLTXVideo config with diffusers' defaults for the keys it leaves out."""
    import inspect

    from diffusers import AutoencoderKLLTXVideo

    defaults = {name: parameter.default for name, parameter in
                inspect.signature(AutoencoderKLLTXVideo.__init__).parameters.items()
                if parameter.default is not inspect.Parameter.empty}
    return {**defaults, **config}


def _vae_note(model: str) -> str:
    """For a folder whose VAE is not LTX-Video's: refused when the plan's token count would be wrong (another class,
    or compression other than 32x / 8 frames), a note when only its decoder differs from the one whose memory is
    modelled (a small decoder read 5x too high); empty for the presets and for LTX-Video 0.9.5-0.9.8's VAE."""
    config_file = Path(model) / "vae" / "config.json"
    if not config_file.is_file():
        return ""
    _read_json(config_file)  # vae_compression's own read would not name the file
    kind, spatial, temporal = vae_compression(Path(model))
    if kind != "AutoencoderKLLTXVideo":
        raise CLIError(f"--model: the planner models LTX-Video's VAE (AutoencoderKLLTXVideo, 32x); this folder's vae "
                       f"is a {kind} ({spatial}x), whose tokens and decoding it does not model")
    if (spatial, temporal) != (32, 8):
        raise CLIError(f"--model: the planner counts tokens for LTX-Video's 32x / 8-frame VAE; this folder's vae "
                       f"compresses {spatial}x / {temporal} frames, which it does not model")
    config = _vae_config(_read_json(config_file))
    differ = [key for key, value in LTX_DECODER.items()
              if (list(config[key]) if isinstance(value, list) else config[key]) != value]
    if differ:
        return ("\nnote: the VAE decode figure models LTX-Video 0.9.5-0.9.8's decoder ("
                + ", ".join(f"{k} {LTX_DECODER[k]}" for k in differ) + "); this folder's has "
                + ", ".join(f"{k} {config[k]}" for k in differ) + ", so that figure does not hold for it")
    return ""
