"""What a long run's manifest records of the pipeline itself, beside the call's arguments.

A resumed run must write the chunks an uninterrupted one would have written, so whatever changes a chunk's numbers
without being an argument of ``generate_long`` is recorded when the run starts and compared when it resumes
(``LongRun.open``): a resume under another is refused naming it, instead of mixing chunks of two settings in one
video. :func:`model_state` gives these entries of ``manifest.json``'s ``arguments``:

- ``model``: the pipeline's class, the transformer's, VAE's and audio VAE's classes and configs (not the weights,
  which are not identified: see docs/long_video.md);
- ``dtype``, and ``quantization`` ("fp8") only with FP8 weights, which keep the transformer's dtype;
- ``lora`` (the loaded adapters, :func:`adapter_state`), ``lora_sha256`` (each adapter's weights,
  :func:`adapter_fingerprints`) and ``camera_lora`` (a merged camera LoRA);
- ``attention``: approximate attention (``ltx_block_sparse`` with its options; SDPA and ``ltx_chunked`` are exact);
- ``scheduler`` (its class and the public config the run's schedule reads: shift, sigma spacing ... for the shifted
  one, only ``num_train_timesteps`` and ``stochastic_sampling`` for LTX-Video's) and
  ``default_timestep_schedule`` (the pipeline's, where the call leaves ``timestep_schedule`` out);
- ``vae_decode``, only where the VAE does not decode each chunk whole in the transformer's dtype
  (:func:`vae_decode_state`: tiled, framewise, or in another dtype); a manifest without it decoded whole (since
  2026-12-08: a resume after ``enable_vae_tiling`` mixed untiled and tiled chunks);
- ``compiled``, only with a compiled transformer (``enable_compile``; a manifest without it ran eager);
- ``colour_fit`` and ``writer``: this version's colour matching and segment encoder settings;
- ``prompt_split``: how a list of prompts is spread over the chunks (:func:`chunk_prompts`); a manifest without it
  was written before 2026-12-07 and resumes with the rule of then, ``"chunks"``;
- ``audio_cfg``: ``"either_scale"``, the unconditional pass runs when ``guidance_scale`` or the audio's
  ``audio_guidance_scale`` is above 1 (diffusers' LTX2Pipeline); a manifest without it (before 2026-12-07) resumes
  with the rule of then, the video's scale alone.

The pipeline's state is recorded as None where there is none, so that a manifest lacking a key predates it
(``long_run.RECORDED_SINCE``) and resumes unchecked on it, as it did when it was written.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import torch

from ltx_video.attention.backends import approximate_attention
from ltx_video.pipelines.loading import MERGED_CAMERA_LORA_KEY
from ltx_video.pipelines.long_segments import COLOUR_FIT, WRITER
from ltx_video.quantization import is_fp8_quantized
from ltx_video.quantization.ltx_quantizer import is_lora_layer, lora_layers

__all__ = ["PROMPT_SPLIT", "adapter_fingerprints", "adapter_state", "chunk_prompts", "fingerprint", "model_state",
           "scheduler_state", "vae_decode_difference", "vae_decode_state"]

#: The rule :func:`chunk_prompts` applies in new runs; ``"chunks"`` is the one of runs started before 2026-12-07.
PROMPT_SPLIT = "frames"
AUDIO_CFG = "either_scale"  # the unconditional pass for guidance_scale > 1 or audio_guidance_scale > 1


def chunk_prompts(layout, num_prompts: int, split: str = PROMPT_SPLIT) -> list[int]:
    """Which of ``num_prompts`` prompts (at most ``layout.num_chunks``) each chunk takes. ``"frames"``: the prompt of
    the ``n``-th of the video that the chunk's new frames (its segment) mostly fall in, so each prompt gets about
    ``1/n`` of the frames; where that would skip a prompt (chunks longer than an ``n``-th), the chunks go on one prompt
    at a time, so every prompt gets at least one. ``"chunks"`` (before 2026-12-07): ``k n // num_chunks``, which gave
    the last prompts less, the last chunk being short (2 prompts over 96 frames: 85 frames and 11)."""
    count = layout.num_chunks
    if split == "chunks":
        return [k * num_prompts // count for k in range(count)]
    if split != "frames":
        raise ValueError(f"`prompt_split` must be 'frames' or 'chunks' (the manifest's), got {split!r}")
    indices, last = [], -1
    for k in range(count):
        start, end = layout.segment_pixels(k)  # the n-th holding the segment's middle holds most of it
        target = min(num_prompts - 1, (start + end) * num_prompts // (2 * layout.num_frames))
        # one step at most, and at least as far as leaves one chunk to each prompt after this one
        last = min(last + 1, max(target, last, num_prompts - count + k))
        indices.append(last)
    return indices


def _public_config(module: Any) -> dict:
    return {k: v for k, v in dict(module.config).items() if not k.startswith("_")}


def fingerprint(pipe) -> dict:
    """What identifies the model: the classes and configs (not the weights: see docs/long_video.md)."""
    parts = {"pipeline": type(pipe).__name__}
    for name in ("transformer", "vae", "audio_vae"):
        module = getattr(pipe, name, None)
        if module is not None and hasattr(module, "config"):
            parts[name] = {"class": type(module).__name__, "config": _public_config(module)}
    return parts


def adapter_state(models: list[torch.nn.Module]) -> dict | None:
    """The LoRA adapters loaded into ``models`` as a manifest records them, None without any: their names, the active
    ones, each one's ``set_adapters`` weight (one number, or the distinct ones where blocks were given their own),
    the fused ones, and ``disabled`` after ``disable_lora()``. A LoRA fused and then unloaded is weights, not read."""
    names, active, fused, weights, disabled = set(), set(), set(), {}, False
    for model in models:
        for module in lora_layers(model):
            names.update(module.lora_A.keys())
            active.update(getattr(module, "active_adapters", ()))
            fused.update(getattr(module, "merged_adapters", ()))
            disabled = disabled or bool(getattr(module, "disable_adapters", False))
            for name, scaling in getattr(module, "scaling", {}).items():  # alpha / r (rsLoRA: / sqrt r) x weight
                alpha, rank = getattr(module, "lora_alpha", {}).get(name), getattr(module, "r", {}).get(name)
                if isinstance(scaling, (int, float)) and alpha and rank:
                    base = alpha / (math.sqrt(rank) if getattr(module, "use_rslora", {}).get(name) else rank)
                    weights.setdefault(name, set()).add(round(scaling / base, 6))
    if not names:
        return None
    state = {"adapters": sorted(names), "active": sorted(active & names), "fused": sorted(fused & names),
             "weights": {n: min(w) if len(w) == 1 else sorted(w) for n, w in sorted(weights.items())}}
    return {**state, "disabled": True} if disabled else state


def adapter_fingerprints(models: list[torch.nn.Module]) -> dict[str, str] | None:
    """Per LoRA adapter loaded into ``models``, the SHA-256 of its weights (peft's ``lora_A`` / ``lora_B`` ... of
    every layer, in the models' and layers' order, with their names, dtypes and shapes), None without any: another
    LoRA file loaded under the same name differs, the same file under another name does not."""
    hashes: dict[str, Any] = {}
    for index, model in enumerate(models):
        for module_name, module in model.named_modules():
            if not is_lora_layer(module):
                continue
            for attr in getattr(module, "adapter_layer_names", ("lora_A", "lora_B")):
                held = getattr(module, attr, None) or {}
                for adapter in sorted(held.keys()):
                    part = held[adapter]
                    tensors = part.state_dict() if isinstance(part, torch.nn.Module) else {"": part}
                    digest = hashes.setdefault(adapter, hashlib.sha256())
                    for key, tensor in sorted(tensors.items()):
                        tensor = tensor.detach()
                        label = f"{index}.{module_name}.{attr}.{key} {tensor.dtype} {list(tensor.shape)}\n"
                        digest.update(label.encode())
                        digest.update(tensor.reshape(-1).cpu().contiguous().view(torch.uint8).numpy())
    return {name: digest.hexdigest() for name, digest in sorted(hashes.items())} or None


# What LTX-Video's linear-quadratic schedule reads of the scheduler: its stochastic flag and its unit (1000, else
# refused); the shift, sigma spacing and the rest change only diffusers' shifted schedule.
_READ_BY_EVERY_SCHEDULE = ("num_train_timesteps", "stochastic_sampling")


def scheduler_state(scheduler, schedule: str = "shifted") -> dict | None:
    """The scheduler as a manifest records it: its class and the public config the run's ``schedule`` reads (all of
    it for ``"shifted"``; only ``num_train_timesteps`` and ``stochastic_sampling`` for the linear-quadratic one, so a
    resume after changing a setting that schedule ignores is not refused); None without one."""
    if scheduler is None or not hasattr(scheduler, "config"):
        return None
    config = _public_config(scheduler)
    if schedule != "shifted":
        config = {k: config[k] for k in _READ_BY_EVERY_SCHEDULE if k in config}
    return {"class": type(scheduler).__name__, "config": config}


# diffusers' AutoencoderKLLTXVideo tiling sizes (``vae.enable_tiling(...)``), in pixels and frames
_VAE_TILE_SIZES = ("tile_sample_min_height", "tile_sample_min_width", "tile_sample_min_num_frames",
                   "tile_sample_stride_height", "tile_sample_stride_width", "tile_sample_stride_num_frames")
# How a refusal names each part of ``vae_decode`` (no backticks: the CLI reads them as flags)
_VAE_DECODE_PARTS = {"tiling": "VAE tiling (enable_vae_tiling) is",
                     "vae_tiling": "VAE's own tiling (vae.enable_tiling) is", "framewise": "VAE's framewise decoding is", "vae_dtype": "VAE's dtype is"}


def vae_decode_state(pipe) -> dict | None:
    """How the VAE decodes a chunk, as a manifest records it, None for the default (the whole chunk at once, in the
    transformer's dtype): ``tiling``, the tile sizes of ``pipe.enable_vae_tiling`` (or 4K mode; its output device only
    places the video, so it is left out); ``vae_tiling`` / ``framewise``, diffusers' ``vae.enable_tiling`` sizes and
    framewise decoding (recorded whenever on, also where the frames are smaller than its tiles); ``vae_dtype``, the
    VAE's dtype where it is not the transformer's. Each changes the decoded frames (docs/long_video.md, measured);
    ``vae.enable_slicing`` does not (a long video decodes one video at a time) and is not recorded."""
    state: dict[str, Any] = {}
    tiling = getattr(pipe, "vae_tiling", None)
    if tiling is not None:
        state["tiling"] = {k: getattr(tiling, k) for k in ("tile_size", "tile_overlap", "tile_frames", "frame_overlap")}
    vae = getattr(pipe, "vae", None)
    if getattr(vae, "use_tiling", False):
        state["vae_tiling"] = {k: getattr(vae, k) for k in _VAE_TILE_SIZES if hasattr(vae, k)}
    if getattr(vae, "use_framewise_decoding", False):
        state["framewise"] = True
    vae_dtype = getattr(vae, "dtype", None)
    if isinstance(vae_dtype, torch.dtype) and vae_dtype != pipe.transformer.dtype:
        state["vae_dtype"] = str(vae_dtype).removeprefix("torch.")
    return state or None


def vae_decode_difference(given: dict | None, recorded: dict | None) -> tuple[str, Any, Any]:
    """How a refusal names two recorded ``vae_decode`` (:func:`vae_decode_state`): by the first part that differs."""
    given, recorded = given or {}, recorded or {}
    key = next((k for k in _VAE_DECODE_PARTS if given.get(k) != recorded.get(k)), None)
    if key is None:
        return "VAE decoding is", given or None, recorded or None
    return _VAE_DECODE_PARTS[key], given.get(key), recorded.get(key)


def model_state(pipe, *, colour_match: float, timestep_schedule: str | None) -> dict[str, Any]:
    """The manifest's entries for the pipeline's state (the module docstring lists them); ``timestep_schedule`` is
    the call's (None: left out, so the pipeline's ``default_timestep_schedule`` is the one the chunks take)."""
    state: dict[str, Any] = {"model": fingerprint(pipe)}
    # the weights' dtype changes every chunk's numbers: a resume in another dtype would not give the same file
    state["dtype"] = str(pipe.transformer.dtype).removeprefix("torch.")
    if is_fp8_quantized(pipe.transformer):  # FP8 weights keep the transformer's dtype: recorded (since 2026-12-07,
        state["quantization"] = "fp8"  # a resume after enable_fp8() mixed float32 and FP8 chunks silently)
    # as are the LoRA adapters and a merged camera LoRA (since 2026-12-07: a resume after unload_lora_weights()
    # mixed chunks with and without the LoRA); always recorded, so older runs (without the keys) resume
    loadable = [getattr(pipe, n) for n in getattr(pipe, "_lora_loadable_modules", ("transformer",))
                if isinstance(getattr(pipe, n, None), torch.nn.Module)]
    state["lora"] = adapter_state(loadable)
    # and what each adapter holds (since 2026-12-07: a resume under another LoRA file loaded under the same name went
    # on without a word); a manifest without it predates it and resumes unchecked on it, with a warning
    state["lora_sha256"] = adapter_fingerprints(loadable)
    state["camera_lora"] = pipe.transformer.config.get(MERGED_CAMERA_LORA_KEY)  # a private key, out of `model`
    # and approximate attention, ltx_block_sparse with its options (since 2026-12-07: a run started dense resumed
    # under it silently); SDPA and ltx_chunked are exact, so a run recorded without it resumes under either
    state["attention"] = approximate_attention(pipe.transformer)
    # and the scheduler and the default schedule (since 2026-12-07: a resume after `pipe.scheduler = ...from_config(
    # ..., shift=3.0)`, stochastic_sampling=True or `pipe.default_timestep_schedule = "shifted"` mixed two schedules);
    # None too where there is none: a manifest without them predates them (RECORDED_SINCE) and is resumed unchecked
    # on them rather than read as "none was set"
    schedule = timestep_schedule or pipe.default_timestep_schedule
    state["scheduler"] = scheduler_state(getattr(pipe, "scheduler", None), schedule)
    state["default_timestep_schedule"] = None if timestep_schedule else pipe.default_timestep_schedule
    # how the VAE decodes (tiled, framewise, another dtype; None: whole) (since 2026-12-08: a resume after
    # enable_vae_tiling went on without a word, its chunks decoded in tiles), and whether the transformer is compiled
    # (enable_compile, torch.compile; inductor's kernels round otherwise: up to 16 / 255 in the built-in model's
    # frames). None too when off: a manifest without them predates them (RECORDED_SINCE), resumed unchecked on them
    # with a warning when either is on now
    state["vae_decode"] = vae_decode_state(pipe)
    state["compiled"] = True if hasattr(pipe.transformer, "_orig_mod") or any(  # torch.compile(model), or regional
        getattr(m, "_compiled_call_impl", None) is not None for m in pipe.transformer.modules()) else None
    if colour_match > 0:  # how the colour map is fitted (changed 2026-12-05): older runs are not resumed with it
        state["colour_fit"] = COLOUR_FIT
    # the segments' encoder settings (2026-12-06: no macroblock tree, BT.601 tags): segments of another joined
    # only after the last chunk failed, so a run started with them is refused at once
    state["writer"] = WRITER
    state["prompt_split"] = PROMPT_SPLIT  # a manifest without it took the chunk-counting rule: resumed with it
    state["audio_cfg"] = AUDIO_CFG  # a manifest without it ran no audio CFG at guidance_scale <= 1: resumed so
    return state
