"""What ``--model`` (with ``--base-model`` and ``--variant``) names, read from its files without loading weights:
the built-in model, a diffusers-format folder or an original single ``.safetensors`` file; a CLIError naming the
flag when it is none of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ltx_video.cli import CLIError
from ltx_video.pipelines.generation_defaults import LTX_VIDEO_DEFAULTS, GenerationDefaults

__all__ = ["PIPELINE_CLASSES", "ModelSource", "inspect_model"]

# model_index.json class names -> the class that runs them. diffusers' LTX pipelines run as LTXVideoPipeline, their
# drop-in (the CLI follows LTX-Video 0.9.8's sampling; see the README for diffusers' LTXPipeline conventions).
PIPELINE_CLASSES = {
    "LTXAudioVideoPipeline": "LTXAudioVideoPipeline",
    "LTXVideoPipeline": "LTXVideoPipeline",
    "LTXConditionPipeline": "LTXVideoPipeline",
    "LTXPipeline": "LTXVideoPipeline",
    "LTXImageToVideoPipeline": "LTXVideoPipeline",
}


@dataclass(frozen=True)
class ModelSource:
    """What ``--model`` is: ``kind`` "builtin", "folder" or "single_file"; the pipeline class name to load it with;
    the defaults it records (else LTX-Video's)."""

    kind: str
    path: Path | None
    pipeline_class: str
    defaults: GenerationDefaults
    recorded_defaults: bool
    variant: str | None = None  # a folder's weights saved with save_pretrained(variant=...): --variant


def _weight_variants(component: Path) -> set[str | None]:
    """The variants of a component folder's weight files (None for plain ones, e.g. ``model.safetensors``; "bf16"
    for ``diffusion_pytorch_model.bf16.safetensors`` or its shards ``...bf16-00001-of-00002.safetensors``)."""
    found: set[str | None] = set()
    for path in component.iterdir():
        if path.suffix in (".safetensors", ".bin"):
            parts = path.stem.split(".")
            found.add(parts[1].split("-")[0] if len(parts) == 2 else None)
    return found


def _check_variant(model: Path, listed: list[str], variant: str | None) -> None:
    """A folder saved with ``variant=`` loads only with that variant (diffusers' from_pretrained ends in an OSError
    naming a file): say so, naming --variant, before any weights load."""
    found = {name: _weight_variants(model / name) for name in listed}
    found = {name: variants for name, variants in found.items() if variants}  # a tokenizer or scheduler has none
    if variant is None:
        only = {name: sorted(variants) for name, variants in found.items() if None not in variants}
        if only:
            name, variants = next(iter(only.items()))
            raise CLIError(f"--model: {model}/{name} holds only weights saved with variant {', '.join(variants)} "
                           f"(save_pretrained(variant=...)): pass --variant {variants[0]}")
    elif not any(variant in variants for variants in found.values()):
        saved = sorted({v for variants in found.values() for v in variants if v is not None})
        raise CLIError(f"--variant: {model} has no weights saved with variant {variant!r}; its variants: "
                       f"{', '.join(saved) if saved else 'none (leave --variant out)'}")


def inspect_model(model: Path | None, base_model: Path | None, variant: str | None = None) -> ModelSource:
    """Read ``--model`` (and ``--variant``) without loading weights; CLIError naming the flag if it is not a model."""
    if variant is not None and (model is None or model.is_file()):
        raise CLIError("--variant is for a --model folder written by save_pretrained(variant=...); the built-in model "
                       "and single .safetensors files have none")
    if model is None and base_model is not None:
        raise CLIError("--base-model is for a single-file --model (an original .safetensors checkpoint); without "
                       "--model the built-in model runs, which holds its own text encoder")
    if model is None:
        from ltx_video.default_model import DEFAULT_MODEL_DIR

        defaults = GenerationDefaults.load(DEFAULT_MODEL_DIR)
        return ModelSource("builtin", DEFAULT_MODEL_DIR, "LTXAudioVideoPipeline", defaults, True)
    if not model.exists():
        raise CLIError(f"--model: not found: {model}")
    if base_model is not None and not model.is_file():
        raise CLIError("--base-model is for a single-file --model (an original .safetensors checkpoint); "
                       f"{model} is a folder, which holds its own text encoder")
    if model.is_file():
        if model.suffix.lower() != ".safetensors":
            raise CLIError(f"--model: {model} is a file but not a .safetensors checkpoint; expected a diffusers-format "
                           "folder (with model_index.json) or an original LTX-Video .safetensors file")
        if base_model is None:
            raise CLIError("--model is a single file: pass --base-model DIR (a diffusers-format LTX-Video folder "
                           "with text_encoder/ and tokenizer/) for the T5 text encoder")
        if not (base_model / "model_index.json").is_file():
            raise CLIError(f"--base-model: {base_model} is not a diffusers-format model folder (no model_index.json)")
        from ltx_video.io.safetensors_header import has_model_config

        try:
            self_described = has_model_config(model)
        except ValueError as error:
            raise CLIError(f"--model: {error}") from None
        # A file whose metadata describes its models takes only the text encoder and tokenizer from --base-model;
        # one without takes the folder's transformer, VAE and scheduler configs as well.
        needed = ["text_encoder", "tokenizer"] + ([] if self_described else ["transformer/config.json", "vae/config.json"])
        missing = [name for name in needed if not (base_model / name).exists()]
        if missing:
            why = "" if self_described else f" ({model.name} has no model config in its metadata)"
            raise CLIError(f"--base-model: {base_model} has no {', '.join(missing)}{why}")
        return ModelSource("single_file", model, "LTXVideoPipeline", LTX_VIDEO_DEFAULTS, False)
    index = model / "model_index.json"
    if not index.is_file():
        raise CLIError(f"--model: {model} is not a model folder (no model_index.json); expected a diffusers-format "
                       "folder written by save_pretrained, or an original LTX-Video .safetensors file")
    try:
        entries = json.loads(index.read_text())
        class_name = entries.get("_class_name")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
        raise CLIError(f"--model: {index} is not readable JSON ({error})") from None
    if class_name not in PIPELINE_CLASSES:
        raise CLIError(f"--model: {model} holds a {class_name!r} pipeline; ltx-video runs {', '.join(PIPELINE_CLASSES)}")
    listed = [name for name, value in entries.items()
              if not name.startswith("_") and isinstance(value, list) and len(value) == 2 and value[1] is not None]
    missing = [name for name in listed if not (model / name).is_dir()]
    if missing:
        raise CLIError(f"--model: {model} lists the component(s) {missing} in model_index.json but has no "
                       f"{', '.join(name + '/' for name in missing)} folder")
    _check_variant(model, listed, variant)
    try:
        recorded = GenerationDefaults.load(model)
    except ValueError as error:
        raise CLIError(f"--model: {error}") from None
    defaults = recorded if recorded is not None else LTX_VIDEO_DEFAULTS
    return ModelSource("folder", model, PIPELINE_CLASSES[class_name], defaults, recorded is not None, variant)
