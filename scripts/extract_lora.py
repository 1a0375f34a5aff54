"""Write a fine-tuned pipeline's transformer as a LoRA over its base, in diffusers' format.

    python scripts/extract_lora.py --base ltx_video/assets/default_model \
        --tuned runs/default/camera_shipped/pipeline --rank 32 --out runs/camera_lora

Writes ``OUT/pytorch_lora_weights.safetensors`` (``pipe.load_lora_weights(OUT)`` reads it), and copies the tuned
pipeline's ``camera_encoder/`` and ``generation_defaults.json`` beside it when it has them (``pipe.load_camera_lora(OUT)``
reads all three). Prints the share of the weight change the rank keeps and
the parameters a LoRA cannot carry (:mod:`ltx_video.training.lora_extract`). ``--ranks 8 16 32 64`` only prints the
kept share at each rank. Folders saved with ``save_pretrained(variant="bf16")`` need ``--variant bf16`` (both
folders, and the pipelines ``--check`` loads). Either kind of folder: an ``LTXAudioVideoPipeline``'s, or LTX-Video's (diffusers'
``LTXVideoTransformer3DModel``), the LoRA then loading into ``LTXVideoPipeline`` and diffusers' LTX pipelines.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="the base pipeline folder")
    parser.add_argument("--tuned", type=Path, required=True, help="the fine-tuned pipeline folder (same architecture)")
    parser.add_argument("--rank", type=int, default=32, help="the LoRA's rank (default 32)")
    parser.add_argument("--ranks", type=int, nargs="+",
                        help="only print the share kept at each of these ranks (nothing written: no --out)")
    parser.add_argument("--out", type=Path, help="the folder to write (needed unless --ranks)")
    parser.add_argument("--variant", metavar="NAME",
                        help="with folders saved with save_pretrained(variant=NAME), e.g. bf16: load those weight files "
                             "(diffusers' variant=), for both folders and --check; default: the plain ones")
    parser.add_argument("--check", type=int, default=0, metavar="N",
                        help="then generate N prompts with the tuned pipeline, the base with the LoRA merged, and the base "
                             "(same prompts, seeds and arguments: the tuned pipeline's generation defaults) and print the "
                             "PSNR between them")
    parser.add_argument("--dtype", choices=["float32", "float16"], default="float16",
                        help="the LoRA's stored precision (default float16; loaded into the model's own)")
    parser.add_argument("--overwrite", action="store_true", help="replace the files an earlier extraction wrote in --out")
    args = parser.parse_args(argv)
    for flag, folder in (("--base", args.base), ("--tuned", args.tuned)):
        if not (folder / "transformer" / "config.json").is_file():
            parser.error(f"{flag}: {folder} has no transformer/config.json (expected a saved pipeline folder)")
    if min(args.ranks or [args.rank]) < 1:
        parser.error(f"--rank/--ranks must be >= 1, got {args.ranks or args.rank}")
    if args.ranks is None and args.out is None:
        parser.error("--out is needed (or --ranks to print the shares only)")
    call = None
    if args.check < 0:
        parser.error(f"--check must be >= 0 (the number of prompts to generate; 0: no check), got {args.check}")
    if args.check > 0:  # what the check cannot do is said now, not after the LoRA is written and videos generated
        if args.ranks is not None:
            parser.error("--check needs --out (a written LoRA to merge), not --ranks")
        for flag, folder in (("--base", args.base), ("--tuned", args.tuned)):
            if not (folder / "model_index.json").is_file():
                parser.error(f"--check: {flag} {folder} has no model_index.json (the check loads whole pipelines)")
            error = _variant_error(folder, _component_folders(folder), args.variant)
            if error:
                parser.error(f"--check: {flag} {error}")
        try:
            call = check_call(args.tuned, _class_names(args.base)[0] == "LTXAudioVideoTransformer3DModel")
        except ValueError as error:
            parser.error(f"--check: {error}")
    if args.ranks is not None and args.out is not None:  # (since 2026-12-08: --out was ignored, nothing written)
        parser.error("--ranks only prints the share kept at each rank and writes nothing: give --out with --rank, "
                     "or leave --out out")
    if args.ranks is None:
        out = args.out.resolve()
        for flag, folder in (("--base", args.base), ("--tuned", args.tuned)):
            if out == folder.resolve() or folder.resolve() in out.parents:
                parser.error(f"--out {args.out} is inside {flag} {folder}: give a folder of its own (the pipeline's "
                             "files would be replaced)")
        if args.out.exists() and not args.out.is_dir():
            parser.error(f"--out {args.out} is a file: give a folder")
        written = [name for name in OUTPUTS if (args.out / name).exists()]
        if written and not args.overwrite:
            parser.error(f"--out {args.out} already holds {', '.join(written)}: pass --overwrite to replace them, "
                         "or give another folder")

    for flag, folder in (("--base", args.base), ("--tuned", args.tuned)):
        error = _variant_error(folder, ["transformer"], args.variant)
        if error:  # diffusers failed in from_pretrained, with an OSError naming a .bin file (since 2026-12-08)
            parser.error(f"{flag} {error}")

    classes = {flag: _class_names(folder) for flag, folder in (("--base", args.base), ("--tuned", args.tuned))}
    for flag, (transformer_class, _) in classes.items():
        if transformer_class not in TRANSFORMERS:
            parser.error(f"{flag}: its transformer is a {transformer_class}; expected one of {sorted(TRANSFORMERS)}")
    if classes["--base"][0] != classes["--tuned"][0]:
        parser.error(f"--base holds a {classes['--base'][0]} and --tuned a {classes['--tuned'][0]}: a LoRA needs the "
                     "same architecture")

    import importlib

    import torch

    from ltx_video.training.lora_extract import extract_lora

    module, name = TRANSFORMERS[classes["--base"][0]]
    transformer_class = getattr(importlib.import_module(module), name)
    base = transformer_class.from_pretrained(args.base, subfolder="transformer", variant=args.variant)
    tuned = transformer_class.from_pretrained(args.tuned, subfolder="transformer", variant=args.variant)
    for rank in args.ranks or [args.rank]:
        lora = extract_lora(base, tuned, rank, dtype=getattr(torch, args.dtype))
        if not lora.kept:  # min() of no layers was a traceback
            parser.error(f"--tuned {args.tuned}: no weight changed in its linear layers against --base {args.base}: "
                         "there is no change to write as a LoRA"
                         + (f" ({len(lora.left_out)} parameters outside linear layers changed, which a LoRA cannot "
                            "carry)" if lora.left_out else ""))
        size = sum(t.numel() for t in lora.state_dict.values())
        print(f"rank {rank}: {len(lora.kept)} linear layers, {100 * lora.kept_overall:.2f} % of the weight change kept "
              f"(worst layer {100 * min(lora.kept.values()):.1f} %), {size / 1e6:.2f} M parameters")
    if lora.left_out:
        print(f"not in the LoRA (base values kept): {len(lora.left_out)} parameters, largest change "
              f"{max(lora.left_out.values()):.4f} ({max(lora.left_out, key=lora.left_out.get)})")
    if args.ranks is None:
        from ltx_video import LTXVideoPipeline  # both pipelines' loader writes diffusers' LTX LoRA format

        args.out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUTS:  # --overwrite: an earlier extraction's files go, so none of them outlives it
            if (args.out / name).is_dir():
                shutil.rmtree(args.out / name)
            else:
                (args.out / name).unlink(missing_ok=True)
        LTXVideoPipeline.save_lora_weights(args.out, transformer_lora_layers=lora.state_dict)
        if (args.tuned / "camera_encoder").is_dir():
            shutil.copytree(args.tuned / "camera_encoder", args.out / "camera_encoder", dirs_exist_ok=True)
        if (args.tuned / "generation_defaults.json").is_file():  # the prompt grammar the fine-tune learned
            shutil.copy(args.tuned / "generation_defaults.json", args.out / "generation_defaults.json")
        print(f"wrote {args.out}")
        if call is not None:
            check(args.base, args.tuned, args.out, args.check, call, variant=args.variant)
    return 0


# what an extraction writes in --out
OUTPUTS = ("pytorch_lora_weights.safetensors", "camera_encoder", "generation_defaults.json")

# transformer classes (as saved in transformer/config.json) -> where they are defined
TRANSFORMERS = {
    "LTXAudioVideoTransformer3DModel": ("ltx_video.models.transformer_av", "LTXAudioVideoTransformer3DModel"),
    "LTXVideoTransformer3DModel": ("diffusers", "LTXVideoTransformer3DModel"),
}


def _class_names(folder: Path) -> tuple[str, str | None]:
    """The transformer's and the pipeline's class names of a saved pipeline folder."""
    import json

    transformer = json.loads((folder / "transformer" / "config.json").read_text()).get("_class_name", "")
    index = folder / "model_index.json"
    pipeline = json.loads(index.read_text()).get("_class_name") if index.is_file() else None
    return transformer, pipeline


def _component_folders(folder: Path) -> list[str]:
    """The component folders a saved pipeline's ``model_index.json`` lists (those ``from_pretrained`` loads), the
    transformer first."""
    import json

    index = json.loads((folder / "model_index.json").read_text())
    names = [name for name, value in index.items() if not name.startswith("_") and isinstance(value, list)
             and value[0] is not None and (folder / name).is_dir()]
    return sorted(names, key=lambda name: name != "transformer")


def _variant_error(folder: Path, components: list[str], variant: str | None) -> str | None:
    """Why ``from_pretrained(folder, variant=variant)`` would not find the weights of ``components`` (None when it
    would): one line, naming --variant. The transformer needs that variant's files (diffusers' OSError names a .bin
    file); a pipeline's other components fall back to their plain ones."""
    from ltx_video.cli.model_source import _weight_variants  # the file names `ltx-video generate --variant` reads

    for name in components:
        found = _weight_variants(folder / name)
        if variant in found or (name != "transformer" and (not found or None in found)):  # tokenizers have none
            continue
        saved = sorted(v for v in found if v is not None)
        if not found:
            return f"{folder}/{name} holds no weight files (.safetensors or .bin)"
        if variant is None:
            return (f"{folder}/{name} holds only weights saved with variant {', '.join(saved)} "
                    f"(save_pretrained(variant=...)): pass --variant {saved[0]}")
        plain = " and plain ones (leave --variant out)" if None in found else ""
        return (f"{folder}/{name} has no weights saved with --variant {variant}; it holds variants "
                f"{', '.join(saved) or 'none'}{plain}")
    return None


def check_call(tuned: Path, audio_video: bool) -> dict:
    """The arguments every ``--check`` call gets: the tuned pipeline's generation defaults, each one explicit (STG
    and modality guidance off when it has none), so the base pipelines do not fall back on their own defaults.
    ValueError when the tuned folder has no defaults to compare at.

    (since 2026-12-07; before, each pipeline read its own defaults, so base + LoRA ran the built-in model's STG and audio
    modality guidance against a tuned pipeline without them, at its own frame count, on prompts drawn per pipeline:
    an exact LoRA read 17 dB, or the comparison failed on different shapes after the videos were generated.)"""
    from ltx_video.pipelines.generation_defaults import GenerationDefaults

    defaults = GenerationDefaults.load(tuned)
    if defaults is None:
        raise ValueError(f"--tuned {tuned} has no generation_defaults.json (the size, length and sampling to compare "
                         "at); write one, or leave --check out")
    call = {**defaults.call_kwargs(), "stg_scale": defaults.stg_scale, "skip_block_list": list(defaults.skip_block_list)}
    for name in ("modality_scale", "audio_modality_scale"):
        call.pop(name, None)
    if audio_video:  # LTX-Video's pipeline has no modality guidance
        call.update(modality_scale=defaults.modality_scale, audio_modality_scale=defaults.audio_modality_scale)
    return call


def check(base: Path, tuned: Path, lora: Path, num: int, call: dict, *, variant: str | None = None
          ) -> dict[str, list[float]]:
    """PSNR of the base-with-LoRA and of the base against the tuned pipeline, on ``num`` held-out prompts
    (``benchmark_quality.held_out_clip``), every call without a camera and with the same arguments ``call``
    (:func:`check_call`: the tuned pipeline's generation defaults), the same prompts and generator seeds
    0 ... num - 1. ``variant``: the weight files both folders were saved with (diffusers' ``variant=``). Returns the
    per-prompt values by row, as printed."""
    import numpy as np
    import torch
    from benchmark_quality import held_out_clip  # scripts/: the held-out prompts every benchmark uses

    from ltx_video import LTXAudioVideoPipeline, LTXVideoPipeline
    from ltx_video.metrics import psnr

    audio_video = _class_names(base)[0] == "LTXAudioVideoTransformer3DModel"
    pipeline_class = LTXAudioVideoPipeline if audio_video else LTXVideoPipeline
    prompts = [held_out_clip(i, call)[1] for i in range(num)]  # drawn once: the same prompts for every pipeline

    def generate(pipe):
        pipe.set_progress_bar_config(disable=True)
        return [pipe(prompt, generator=torch.Generator().manual_seed(i), output_type="np", **call).frames[0]
                for i, prompt in enumerate(prompts)]

    reference = generate(pipeline_class.from_pretrained(tuned, variant=variant))
    merged = pipeline_class.from_pretrained(base, variant=variant)
    merged.load_lora_weights(lora / "pytorch_lora_weights.safetensors")  # the transformer's change alone
    merged.fuse_lora()
    rows = {"base + LoRA": generate(merged), "base": generate(pipeline_class.from_pretrained(base, variant=variant))}
    results = {}
    for name, videos in rows.items():
        if any(v.shape != r.shape for v, r in zip(videos, reference, strict=True)):  # one `call`: never expected
            raise RuntimeError(f"{name}: videos of {videos[0].shape} against the tuned pipeline's {reference[0].shape}")
        values = results[name] = [psnr(v, r) for v, r in zip(videos, reference, strict=True)]
        print(f"{name} against the tuned pipeline: PSNR {np.mean(values):.2f} dB (per prompt "
              f"{', '.join(f'{v:.1f}' for v in values)})")
    return results


if __name__ == "__main__":
    raise SystemExit(main())
