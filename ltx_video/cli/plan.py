"""``ltx-video plan``: the memory a generation will need, before anything is loaded or run.

The transformer comes from ``--model``: ``2b`` or ``13b`` (LTX-Video 0.9.x), an LTX-Video YAML config (a file, or
a shipped config's name such as ``ltxv-13b-0.9.8-dev``; its checkpoint name says which, and ``-fp8`` configs plan FP8 weights), or a diffusers-format
folder (its ``transformer/config.json``). Only that JSON is read; no weights are loaded.

The dtype mirrors ``generate``'s: without ``--dtype``, float32, or a YAML config's precision (bfloat16 for its
bfloat16, mixed_precision and float8_e4m3fn). Sizes are padded as the pipelines pad them, and the header says so.
"""

from __future__ import annotations

import json
from pathlib import Path

from ltx_video.cli import CLIError, vae_compression

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


def transformer_config(model: str) -> tuple[dict, bool]:
    """(transformer config, whether the model is an FP8 config) for ``--model``."""
    from ltx_video.utils.presets import LTX_VIDEO_2B, LTX_VIDEO_13B

    presets = {"2b": LTX_VIDEO_2B, "13b": LTX_VIDEO_13B}
    if model.lower() in presets:
        return presets[model.lower()], False
    path = _model_path(model)
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
    raise CLIError(f"--model must be 2b, 13b, an LTX-Video YAML config or a diffusers folder with "
                   f"transformer/config.json; got {model!r}")


def run_plan(args) -> str:
    if args.vae_tiling and args.no_vae_tiling:  # the last one silently won
        raise CLIError("--vae-tiling and --no-vae-tiling cannot be combined: pass one")
    config, fp8 = transformer_config(args.model)  # a bad --model refused before torch loads
    default_dtype = generate_dtype(args.model)
    dtype = args.dtype or default_dtype
    import torch

    from ltx_video.models.autoencoders.tiling import TilingConfig
    from ltx_video.utils.memory import estimate_memory

    if config.get("_class_name", "LTXVideoTransformer3DModel") != "LTXVideoTransformer3DModel":
        raise CLIError(f"--model: the planner knows LTXVideoTransformer3DModel, not {config['_class_name']}")
    estimate = estimate_memory(
        config, args.height, args.width, args.num_frames, batch_size=args.batch_size,
        dtype=getattr(torch, dtype), attention=args.attention, fp8=args.fp8 or fp8,
        vae_tiling=TilingConfig() if args.vae_tiling else False, guidance_passes=args.guidance_passes,
        max_sequence_length=args.max_sequence_length,
    )
    decode = "tiled as 'generate --vae-tiling'" if args.vae_tiling else "untiled, as 'generate' without --vae-tiling"
    size = (-(-args.width // 32) * 32, -(-args.height // 32) * 32, (args.num_frames - 1 + 7) // 8 * 8 + 1)
    padded = "" if size == (args.width, args.height, args.num_frames) else " (padded to {} x {} x {}, as the pipelines pad)"
    dtype_note = (f" (as 'generate --dtype {dtype}'; without --dtype it loads this model in {default_dtype})"
                  if dtype != default_dtype else "")
    return (f"{args.model}: {args.width} x {args.height} x {args.num_frames}{padded.format(*size)}, batch "
            f"{args.batch_size}, {dtype}{dtype_note}{', FP8 weights' if args.fp8 or fp8 else ''}, attention "
            f"{args.attention}, VAE decode {decode}\n{estimate}{_vae_note(args.model)}")


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
