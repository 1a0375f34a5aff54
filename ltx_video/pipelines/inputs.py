"""Steps 1-3 of the pipelines: every call argument checked before any model runs, the three conditioning
interfaces (diffusers' ``conditions``, LTX-Video's ``conditioning_items``, the ``image``/``video`` shortcut)
brought to one list of ``(media, frame_index, strength)``, and the :class:`GenerationPlan` they settle."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch

from ltx_video.attention.stg import SkipLayerStrategy
from ltx_video.pipelines.latent_ops import Padding

logger = logging.getLogger(__name__)

__all__ = ["ArgumentsChecked", "checking_only", "check_only", "OUTPUT_TYPES", "TIMESTEP_SCHEDULES", "CALL_ARGUMENTS", "ConditionInput", "GenerationPlan", "check_call_arguments",
           "check_decode_arguments", "check_flag", "check_inputs", "check_real", "collect_conditions", "count_prompts",
           "decode_values", "python_integer", "warn_unused_blocks"]

OUTPUT_TYPES = ("pil", "np", "pt", "latent")
TIMESTEP_SCHEDULES = ("linear_quadratic", "shifted")


class ArgumentsChecked(Exception):
    """Raised by ``plan_generation`` after its checks inside :func:`checking_only`: a call that only checks its
    arguments (generate_multiscale's second pass, before the first runs a model)."""


_CHECK_ONLY = contextvars.ContextVar("ltx_video_check_only", default=False)  # per thread / task, not on the pipeline


@contextlib.contextmanager
def checking_only():
    """Calls made inside stop right after their checks, raising :class:`ArgumentsChecked` (nothing runs a model)."""
    token = _CHECK_ONLY.set(True)
    try:
        yield
    finally:
        _CHECK_ONLY.reset(token)


def check_only() -> bool:
    return _CHECK_ONLY.get()


@dataclass(frozen=True)
class GenerationPlan:
    """Everything ``__call__`` settles before the latents: sizes, conditions, schedule, guidance, text.

    conditions: (pixels (1, 3, F, H, W) padded like the video, frame index, strength) per condition.
    timesteps: (T,) and sigmas: (T + 1,) ending at 0; guidance: one GuidanceConfig per step.
    prompt_embeds / negative_embeds: (B, L, D) with boolean masks (B, L); negatives None without CFG.
    control: keyframes, their interpolation and the camera (None when neither is given).
    """

    padding: Padding
    device: torch.device
    batch_size: int
    strategy: SkipLayerStrategy
    conditions: list
    timesteps: torch.Tensor
    sigmas: torch.Tensor
    guidance: list
    prompt_embeds: torch.Tensor
    prompt_mask: torch.Tensor
    negative_embeds: torch.Tensor | None
    negative_mask: torch.Tensor | None
    diffusers_conventions: bool
    image_cond_noise_scale: float
    control: Any = None  # ltx_video.pipelines.control.ControlPlan: keyframes= and camera=


def check_latents_shape(latents, expected: tuple[int, ...]) -> None:
    """ValueError unless ``latents`` (if given) is ``expected`` (B, C, F, H, W) or its packed (B, F H W, C): known from
    the sizes alone, so checked before the text encoder (``prepare_latents`` found it after)."""
    if latents is None:
        return
    packed = (expected[0], math.prod(expected[2:]), expected[1])
    if not torch.is_tensor(latents) or tuple(latents.shape) not in (expected, packed):
        got = tuple(latents.shape) if torch.is_tensor(latents) else type(latents).__name__
        raise ValueError(f"`latents` must have shape {expected} (or packed {packed}), got {got}.")


def check_audio_latents_shape(latents: torch.Tensor, batch_size: int, expected: tuple[int, int]) -> None:
    """ValueError unless ``latents`` is (``batch_size`` or 1, *``expected``) (the generated audio's starting noise: one
    row is every video's). For one video it says "(1, ...)" (since 2026-12-08; it said "(1 or 1, ...)")."""
    if latents.ndim != 3 or tuple(latents.shape[1:]) != expected or latents.shape[0] not in (1, batch_size):
        rows = "1" if batch_size == 1 else f"{batch_size} or 1"
        raise ValueError(f"`audio_latents` must have shape ({rows}, {expected[0]}, {expected[1]}) for this call, got "
                         f"{tuple(latents.shape)}.")


def check_frame_rate(frame_rate) -> None:
    """ValueError naming `frame_rate` unless it is a finite real number > 0 (``inf`` put every frame at time 0)."""
    if (isinstance(frame_rate, bool) or not isinstance(frame_rate, numbers.Real)
            or not math.isfinite(frame_rate) or not frame_rate > 0):
        raise ValueError(f"`frame_rate` must be a finite number > 0, got {frame_rate!r}.")


def check_real(name: str, value, low: float = -math.inf, high: float = math.inf, none: bool = False) -> None:
    """ValueError naming ``name`` unless ``value`` is a finite real number in ``[low, high]`` (NumPy numbers and 0-d
    tensors too, not a bool), or None when ``none``: a string failed in a comparison, NaN and inf came out as NaN."""
    if value is None and none:
        return
    number = value.item() if isinstance(value, torch.Tensor) and value.ndim == 0 else value
    if (isinstance(number, bool) or not isinstance(number, numbers.Real) or not math.isfinite(number)
            or not low <= number <= high):
        span = f" in [{low:g}, {high:g}]" if high < math.inf else f" >= {low:g}" if low > -math.inf else ""
        raise ValueError(f"`{name}` must be a finite number{span}{' or None' if none else ''}, got {value!r}.")


def check_flag(name: str, value, none: str | None = None) -> None:
    """ValueError naming ``name`` unless ``value`` is a bool (Python's or NumPy's), or None when ``none`` says what
    None means: a string or a number was taken by its truth ("no", "False" and 1 all meant True)."""
    if isinstance(value, (bool, np.bool_)) or (value is None and none is not None):
        return
    also = f", or None ({none})" if none is not None else ""
    raise ValueError(f"`{name}` must be True or False{also}, got {value!r}.")


def _decode_entries(value):
    """A decode value as given, a list for one per video: a NumPy array or tensor becomes a list (1-D) or a number
    (0-d), as ``guidance_scale`` takes them."""
    from ltx_video.pipelines.denoising import as_list

    return list(value) if isinstance(value, tuple) else as_list(value)


def _described(value) -> str:
    """``value`` for an error message: an array by its type and shape, a non-number by its type too."""
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return f"{type(value).__name__} of shape {tuple(value.shape)}"
    if value is None or isinstance(value, (numbers.Real, list, tuple)):
        return repr(value)
    return f"{type(value).__name__} {value!r}"


def check_decode_arguments(decode_timestep, decode_noise_scale, tone_map_compression_ratio, videos: int) -> None:
    """The decoder's arguments, read only after the whole denoising loop: checked as the call starts. Each is a
    number, or one per video as a list, tuple, 1-D NumPy array or tensor (:func:`decode_values`)."""
    for name, value, none in (("decode_timestep", decode_timestep, False),
                              ("decode_noise_scale", decode_noise_scale, True)):
        if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim > 1:  # a (1, 2) tensor read as "1 entries"
            raise ValueError(f"`{name}` must be a number or one per video (1-D), got {_described(value)}.")
        entries = _decode_entries(value)
        if isinstance(entries, list) and len(entries) != videos:
            raise ValueError(f"`{name}` has {len(entries)} entries but {videos} videos are made: give one number "
                             "for all, or one per video.")
        try:
            for entry in entries if isinstance(entries, list) else [entries]:
                check_real(name, entry, 0.0, 1.0, none=none and not isinstance(entries, list))
        except ValueError:
            raise ValueError(f"`{name}` must be a finite number in [0, 1]{' or None' if none else ''}, or one per "
                             f"video (a list, 1-D array or tensor of them), got {_described(value)}.") from None
    check_real("tone_map_compression_ratio", tone_map_compression_ratio, 0.0, 1.0)


def decode_values(decode_timestep, decode_noise_scale, videos: int) -> tuple[list[float], list[float]]:
    """(timestep, noise scale) per video, as floats, from the forms :func:`check_decode_arguments` takes; a
    ``decode_noise_scale`` of None is ``decode_timestep`` (diffusers' LTX pipelines)."""
    def per_video(value) -> list[float]:
        entries = _decode_entries(value)
        return [float(v) for v in entries] if isinstance(entries, list) else [float(entries)] * videos

    timestep = per_video(decode_timestep)
    return timestep, (timestep if decode_noise_scale is None else per_video(decode_noise_scale))


def warn_unused_blocks(stg_scale, skip_block_list, defaults, audio_given: bool = False) -> None:
    """One warning line when ``skip_block_list`` is given but ``stg_scale`` is left out (None) and the model's
    default (``defaults``, a GenerationDefaults or None: diffusers' 0) turns STG off: the blocks would be silently
    unused. An explicit ``stg_scale=0`` is a choice, kept quiet: LTX-Video's distilled configs carry their blocks
    with it, so that only the scale needs raising."""
    from ltx_video.pipelines.generation_defaults import fill_call_defaults

    blocks = isinstance(skip_block_list, (list, tuple, np.ndarray, torch.Tensor))  # other forms: refused later
    if stg_scale is not None or not blocks or len(skip_block_list) == 0:
        return
    default = fill_call_defaults(defaults, {"stg_scale": None}, audio_given=audio_given)["stg_scale"]
    if not default > 0:
        logger.warning("`skip_block_list` is given but `stg_scale` is left out, and this model's default STG scale is "
                       "%g: no block is perturbed. Pass stg_scale > 0 to use the blocks.", default)


def python_integer(value):
    """A NumPy or 0-d torch integer (a size or a step count read from an array) as a Python int, as diffusers'
    pipelines take them; anything else unchanged (a bool stays a bool, for the checks to refuse)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, int)):
        return int(value)
    if isinstance(value, torch.Tensor) and value.ndim == 0 and value.dtype in (torch.int8, torch.int16, torch.int32,
                                                                                torch.int64, torch.uint8):
        return int(value)
    return value


def check_inputs(
    *,
    prompt,
    prompt_embeds,
    prompt_attention_mask,
    negative_prompt_embeds,
    negative_prompt_attention_mask,
    height,
    width,
    num_frames,
    frame_rate,
    num_inference_steps,
    timesteps,
    guidance_timesteps=None,
    output_type,
    timestep_schedule,
    conditions: list[ConditionInput],
    skip_block_list,
    skip_layer_strategy,
    callback_on_step_end_tensor_inputs,
    denoise_strength=1.0,
    image_cond_noise_scale=None,
    allowed_callback_inputs: Sequence[str] = ("latents",),
    num_prompts: int = 1,
    num_videos_per_prompt: int = 1,
    generator=None,
) -> None:
    """Validate every argument before any model runs; each error names the argument."""
    if isinstance(num_videos_per_prompt, bool) or not isinstance(num_videos_per_prompt, int) or num_videos_per_prompt < 1:
        raise ValueError(f"`num_videos_per_prompt` must be an integer >= 1, got {num_videos_per_prompt!r}.")
    videos = num_prompts * num_videos_per_prompt
    if isinstance(generator, list) and len(generator) != videos:
        raise ValueError(
            f"`generator` is a list of {len(generator)} generators, but {videos} videos are made ({num_prompts} "
            f"prompt(s) x `num_videos_per_prompt` {num_videos_per_prompt}): give one generator per video, or one for all."
        )
    check_real("denoise_strength", denoise_strength, 0.0, 1.0)
    check_real("image_cond_noise_scale", image_cond_noise_scale, 0.0, none=True)
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"`num_frames` must be an integer >= 1, got {num_frames!r}.")
    check_frame_rate(frame_rate)
    if timesteps is None and (isinstance(num_inference_steps, bool) or not isinstance(num_inference_steps, int)
                              or num_inference_steps < 1):
        raise ValueError(f"`num_inference_steps` must be an integer >= 1, got {num_inference_steps!r}.")
    if timesteps is not None:
        ts = timesteps.tolist() if hasattr(timesteps, "tolist") else timesteps
        if isinstance(ts, (list, tuple)):  # 0-d tensors, as iterating a scheduler's timesteps gives them
            ts = [t.item() if isinstance(t, torch.Tensor) and t.ndim == 0 else t for t in ts]
        if isinstance(ts, str) or not isinstance(ts, (list, tuple)) or not all(
                isinstance(t, numbers.Real) and not isinstance(t, bool) and math.isfinite(t) for t in ts):
            raise ValueError(f"`timesteps` must be a list (or 1-D array) of numbers in (0, 1000], got {timesteps!r}.")
        ts = list(ts)
        inner = ts[:-1] if ts and ts[-1] == 0 else ts  # a final 0 is a no-op step, as in diffusers' own recipes
        if not inner or any(not 0 < t <= 1000 for t in inner) or any(a <= b for a, b in zip(ts, ts[1:], strict=False)):
            raise ValueError(f"`timesteps` must be strictly decreasing values in (0, 1000] (and may end in 0), got {ts}.")
        if max(ts) <= 1.0:
            raise ValueError(
                f"`timesteps` are in diffusers' units, 0..1000; got {ts}, which look like LTX-Video's 0..1 "
                "units (multiply by 1000, or load the YAML config with ltx_video.configs.load_config)."
            )
    gts = guidance_timesteps.tolist() if hasattr(guidance_timesteps, "tolist") else guidance_timesteps
    # its form is checked by denoising.guidance_schedule (before the text encoder too); here only its units
    if isinstance(gts, (list, tuple)) and gts and all(isinstance(v, numbers.Real) for v in gts) and max(gts) <= 1.0:
        raise ValueError(
            f"`guidance_timesteps` are in 0..1000 like `timesteps`; got {list(guidance_timesteps)} (LTX-Video's "
            "0..1 units: multiply by 1000)."
        )
    if output_type not in OUTPUT_TYPES:
        raise ValueError(f"`output_type` must be one of {OUTPUT_TYPES}, got {output_type!r}.")
    if timestep_schedule not in TIMESTEP_SCHEDULES:
        raise ValueError(f"`timestep_schedule` must be one of {TIMESTEP_SCHEDULES}, got {timestep_schedule!r}.")
    _check_one_text(prompt, prompt_embeds)
    if prompt is not None and not isinstance(prompt, (str, list)):
        hint = ""
        if _is_media(prompt):  # diffusers' LTXImageToVideoPipeline takes the image first: pipe(image, prompt)
            hint = " (an image goes in `image=`; the prompt is the first argument here)"
        raise ValueError(f"`prompt` must be a str or a list of str, got {type(prompt).__name__}{hint}.")
    if prompt_embeds is not None and prompt_attention_mask is None:
        raise ValueError("`prompt_attention_mask` is required with `prompt_embeds`.")
    if negative_prompt_embeds is not None and negative_prompt_attention_mask is None:
        raise ValueError("`negative_prompt_attention_mask` is required with `negative_prompt_embeds`.")
    if prompt_embeds is not None and negative_prompt_embeds is not None:
        if prompt_embeds.shape != negative_prompt_embeds.shape:
            raise ValueError(
                f"`negative_prompt_embeds` shape {tuple(negative_prompt_embeds.shape)} must equal "
                f"`prompt_embeds` shape {tuple(prompt_embeds.shape)}."
            )
    for media, kind, frame_index, strength, _ in conditions:
        if media is None:
            raise ValueError("each condition needs an `image` or a `video`.")
        if isinstance(frame_index, bool) or not isinstance(frame_index, int) or not 0 <= frame_index < num_frames:
            name = "media_frame_number" if kind == "ltx" else "frame_index"  # a ConditioningItem's own name
            raise ValueError(f"`{name}` must be in [0, {num_frames - 1}] (inside the video), got {frame_index!r}.")
        check_real("strength", strength, 0.0, 1.0)
    SkipLayerStrategy.parse(skip_layer_strategy)
    bad = [k for k in callback_on_step_end_tensor_inputs if k not in allowed_callback_inputs]
    if bad:
        raise ValueError(f"`callback_on_step_end_tensor_inputs` must be in {list(allowed_callback_inputs)}, got {bad}.")


def _check_one_text(prompt, prompt_embeds) -> None:
    """Exactly one of ``prompt`` and ``prompt_embeds`` (diffusers' "Cannot forward both")."""
    if prompt is not None and prompt_embeds is not None:
        raise ValueError("Cannot forward both `prompt` and `prompt_embeds`: pass exactly one of them.")
    if prompt is None and prompt_embeds is None:
        raise ValueError("Provide exactly one of `prompt` and `prompt_embeds`.")


def _check_text(name: str, value) -> None:
    """A (B, L, D) embedding tensor, or a (B, L) mask."""
    dims = 3 if name.endswith("embeds") else 2
    if value is not None and (not isinstance(value, torch.Tensor) or value.ndim != dims):
        layout = "(B, L, D)" if dims == 3 else "(B, L)"
        got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(f"`{name}` must be a tensor {layout}, got {got}.")


CALL_ARGUMENTS = (
    "prompt", "negative_prompt", "prompt_embeds", "prompt_attention_mask", "negative_prompt_embeds",
    "negative_prompt_attention_mask", "generator", "callback_on_step_end", "attention_kwargs", "decode_timestep",
    "decode_noise_scale", "max_sequence_length", "output_type", "num_videos_per_prompt", "tone_map_compression_ratio",
    "guidance_scale", "cfg_star_rescale", "stochastic_sampling", "return_dict", "guidance_timesteps", "stg_scale",
    "rescaling_scale", "skip_block_list",
)


def check_call_arguments(
    *, prompt, negative_prompt, prompt_embeds, prompt_attention_mask, negative_prompt_embeds,
    negative_prompt_attention_mask, generator, callback_on_step_end, attention_kwargs, decode_timestep,
    decode_noise_scale, max_sequence_length, output_type, num_videos_per_prompt, vae, scheduler,
    tone_map_compression_ratio=0.0, guidance_scale=1.0, text_channels: int | None = None, cfg_star_rescale=False,
    stochastic_sampling=None, return_dict=True, guidance_timesteps=None, stg_scale=0.0, rescaling_scale=0.7,
    skip_block_list=None,
) -> None:
    """The arguments :func:`check_inputs` does not see, checked as the call starts (each failed inside a model,
    some after the whole denoising loop): the prompt's and the text tensors' forms, the generator, the callback,
    ``attention_kwargs``, the decoder's arguments, the sequence length, the text tensors against each other, the
    negative prompt and ``text_channels`` (the transformer's), a VAE to decode with, a scheduler whose steps this
    pipeline takes (it steps as ``FlowMatchEulerDiscreteScheduler`` does; others were ignored), the boolean flags
    (:func:`check_flag`), and ``guidance_timesteps`` against the scheduler's range (unused without a per-interval
    guidance list: said in one line)."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    from ltx_video.pipelines import denoising

    # first: the checks below read the text from whichever is given (since 2026-12-07: prompt= with prompt_embeds=
    # said "pass max_sequence_length=...", and following that led here)
    _check_one_text(prompt, prompt_embeds)
    if isinstance(prompt, list) and (not prompt or not all(isinstance(p, str) for p in prompt)):
        kinds = sorted({type(p).__name__ for p in prompt if not isinstance(p, str)})
        hint = " (conditions go in `conditions=`)" if "LTXVideoCondition" in kinds else ""
        raise ValueError(f"`prompt` must be a str or a non-empty list of str, got a list holding {kinds or 'nothing'}{hint}.")
    if negative_prompt is not None and not isinstance(negative_prompt, str) and not (
            isinstance(negative_prompt, list) and all(isinstance(p, str) for p in negative_prompt)):
        raise ValueError(f"`negative_prompt` must be a str or a list of str, got {type(negative_prompt).__name__}.")
    for name, value in (("prompt_embeds", prompt_embeds), ("prompt_attention_mask", prompt_attention_mask),
                        ("negative_prompt_embeds", negative_prompt_embeds),
                        ("negative_prompt_attention_mask", negative_prompt_attention_mask)):
        _check_text(name, value)
    for embeds, mask, name in ((prompt_embeds, prompt_attention_mask, "prompt_attention_mask"),
                               (negative_prompt_embeds, negative_prompt_attention_mask, "negative_prompt_attention_mask")):
        if embeds is not None and mask is not None and tuple(mask.shape) != tuple(embeds.shape[:2]):
            raise ValueError(f"`{name}` must have shape {tuple(embeds.shape[:2])} (the embeddings' (B, L)), got "
                             f"{tuple(mask.shape)}.")
    generators = generator if isinstance(generator, list) else [generator]
    if generator is not None and not all(isinstance(g, torch.Generator) for g in generators):
        raise ValueError(f"`generator` must be a torch.Generator or a list of them, got {type(generator).__name__} "
                         "(for a seed: torch.Generator().manual_seed(seed)).")
    if callback_on_step_end is not None and not callable(callback_on_step_end):
        raise ValueError(f"`callback_on_step_end` must be callable (or a PipelineCallback), got "
                         f"{type(callback_on_step_end).__name__}.")
    if attention_kwargs is not None and not isinstance(attention_kwargs, dict):
        raise ValueError(f"`attention_kwargs` must be a dict, got {type(attention_kwargs).__name__}.")
    if prompt_embeds is None and (isinstance(max_sequence_length, bool) or not isinstance(max_sequence_length, int)
                                  or max_sequence_length < 1):
        raise ValueError(f"`max_sequence_length` must be an integer >= 1, got {max_sequence_length!r}.")
    num_prompts = count_prompts(prompt, prompt_embeds)
    videos = num_prompts * (num_videos_per_prompt if isinstance(num_videos_per_prompt, int) else 1)
    check_decode_arguments(decode_timestep, decode_noise_scale, tone_map_compression_ratio, videos)
    _check_text_batch(num_prompts, negative_prompt, prompt_embeds, negative_prompt_embeds, max_sequence_length,
                      guidance_scale, text_channels)
    if output_type != "latent" and vae is None:
        raise ValueError(f"`output_type={output_type!r}` decodes with a `vae`, and this pipeline has none: pass "
                         "output_type='latent'.")
    if scheduler is not None and not isinstance(scheduler, FlowMatchEulerDiscreteScheduler):
        raise ValueError(f"`scheduler` must be a FlowMatchEulerDiscreteScheduler (this pipeline takes LTX-Video's "
                         f"Euler steps; a {type(scheduler).__name__} would not be used), got {type(scheduler).__name__}.")
    if scheduler is not None and scheduler.config.get("invert_sigmas"):
        raise ValueError("`scheduler` has invert_sigmas=True, a schedule from clean to noise (Mochi's): this pipeline "
                         "generates from noise to clean; use a scheduler with invert_sigmas=False.")
    check_flag("cfg_star_rescale", cfg_star_rescale)
    check_flag("stochastic_sampling", stochastic_sampling, none="the scheduler's flag")
    # LTX-Video's schedules are 1000 per sigma (a scheduler of other units is refused with them); diffusers' shifted
    # one is the scheduler's num_train_timesteps per sigma
    units = (getattr(scheduler, "config", None) or {}).get("num_train_timesteps", 1000)
    denoising.check_guidance_timesteps(guidance_timesteps, units)
    lists = denoising.per_interval_lists(guidance_scale, stg_scale, rescaling_scale, skip_block_list)
    if guidance_timesteps is not None and not any(lists.values()):
        logger.warning("`guidance_timesteps` is given but none of guidance_scale, stg_scale, rescaling_scale and "
                       "skip_block_list is a per-interval list: it is not used (every step takes the same guidance).")


def _check_text_batch(num_prompts, negative_prompt, prompt_embeds, negative_prompt_embeds, max_sequence_length,
                      guidance_scale, text_channels) -> None:
    """What the text encoder's outputs must agree on, checked before it runs (each failed in torch.cat or inside the
    transformer): one negative prompt per prompt, one length for both sides of CFG, the transformer's width."""
    scales = guidance_scale if isinstance(guidance_scale, (list, tuple)) else [guidance_scale]
    cfg = any(isinstance(s, numbers.Real) and s > 1.0 for s in scales)
    if isinstance(negative_prompt, list) and negative_prompt_embeds is None and cfg and len(negative_prompt) != num_prompts:
        raise ValueError(f"`negative_prompt` has {len(negative_prompt)} entries but `prompt` has {num_prompts}: give one "
                         "negative prompt for all, or one per prompt.")
    for name, embeds in (("prompt_embeds", prompt_embeds), ("negative_prompt_embeds", negative_prompt_embeds)):
        if embeds is None:
            continue
        if text_channels is not None and embeds.shape[-1] != text_channels:
            raise ValueError(f"`{name}` has {embeds.shape[-1]} channels but the transformer takes {text_channels} (its "
                             "caption_channels): encode with this pipeline's text encoder.")
        if name == "negative_prompt_embeds" and embeds.shape[0] != num_prompts:
            raise ValueError(f"`negative_prompt_embeds` has {embeds.shape[0]} rows but there are {num_prompts} prompts.")
    given = [e for e in (prompt_embeds, negative_prompt_embeds) if e is not None]
    if cfg and len(given) == 1 and given[0].shape[1] != max_sequence_length:
        name = "prompt_embeds" if prompt_embeds is not None else "negative_prompt_embeds"
        raise ValueError(f"`{name}` has length {given[0].shape[1]} but the other side of classifier-free guidance is "
                         f"encoded to `max_sequence_length`={max_sequence_length}: pass max_sequence_length="
                         f"{given[0].shape[1]}, or both embeddings.")


def count_prompts(prompt, prompt_embeds) -> int:
    """The prompt batch: 1 for a str, len of a list, rows of ``prompt_embeds`` (1 when neither is given:
    :func:`check_inputs` reports that)."""
    if isinstance(prompt, list):
        return len(prompt)
    if prompt is None and isinstance(prompt_embeds, torch.Tensor):
        return prompt_embeds.shape[0]
    return 1


class ConditionInput(NamedTuple):
    """One condition as the caller gave it. ``kind`` says how ``media`` is read
    (:func:`ltx_video.conditioning.media.read_condition_media`): "image" or "video" in diffusers'
    conventions, "ltx" in LTX-Video's (``ConditioningItem``)."""

    media: Any
    kind: str
    frame_index: int
    strength: float
    argument: str | None = None  # the call argument errors name (default: the kind's, image= or video=)


def _is_media(value) -> bool:
    """An image or a video in a form diffusers takes: a PIL image, an array or tensor."""
    import PIL.Image

    return isinstance(value, (PIL.Image.Image, np.ndarray, torch.Tensor))


def _is_clip(media) -> bool:
    """A single video as diffusers takes one: a list of frames, or a 4-D array or tensor."""
    return isinstance(media, list) or (hasattr(media, "ndim") and media.ndim == 4)


def collect_conditions(
    conditions, image, video, frame_index, strength, conditioning_items, num_prompts: int = 1
) -> list[ConditionInput]:
    """The three conditioning interfaces -> one list of :class:`ConditionInput`.

    ``image=[a, b]`` (or ``video=[clip_a, clip_b]``) with a single ``frame_index`` and ``strength`` is one image per
    prompt, as ``LTXImageToVideoPipeline`` reads it, and needs as many entries as prompts; with a ``frame_index``
    list, one keyframe per entry at its index (``conditions=`` in ``LTXConditionPipeline``). Several entries at one
    ``frame_index`` otherwise (a count that is not the prompts', or a ``strength`` list) are refused. A list of one
    entry is that entry. A list of frames passed as ``video`` is one clip.
    """
    given = [x is not None for x in (conditions, conditioning_items, image if image is not None else video)]
    if sum(given) > 1:
        raise ValueError("Use only one of `conditions`, `conditioning_items` and `image`/`video`.")
    if conditions is not None:
        conditions = conditions if isinstance(conditions, list) else [conditions]
        return [
            ConditionInput(c.video, "video", python_integer(c.frame_index), c.strength) if c.video is not None
            else ConditionInput(c.image, "image", python_integer(c.frame_index), c.strength)
            for c in conditions
        ]
    if conditioning_items is not None:
        conditioning_items = conditioning_items if isinstance(conditioning_items, (list, tuple)) else [conditioning_items]
        return [
            ConditionInput(c.media_item, "ltx", python_integer(c.media_frame_number), c.conditioning_strength)
            for c in conditioning_items
        ]
    if image is None and video is None:
        return []
    if image is not None and video is not None:
        raise ValueError("Pass `image` or `video`, not both.")
    kind, media = ("image", image) if image is not None else ("video", video)
    if isinstance(media, (list, tuple)) and len(media) == 0:  # an empty list conditioned nothing, without a word
        raise ValueError(f"`{kind}` is an empty list: give an image (clip), a list of them, or None.")
    if kind == "image":
        several = isinstance(media, list)
    else:  # a list of clips, not a list of frames
        several = isinstance(media, list) and bool(media) and _is_clip(media[0])
    if several and len(media) > 1 and not isinstance(frame_index, list):
        # (since 2026-12-07: refused; the entries were keyframes all at `frame_index`, on every video)
        if isinstance(strength, list):
            raise ValueError(
                f"`strength` is a list, which gives each entry of `{kind}` its own keyframe, but one `frame_index` "
                f"would put all {len(media)} at frame {frame_index}: give one `strength` for all (one {kind} per "
                f"prompt), or a `frame_index` list too (keyframes on every video); for a strength per prompt, call once "
                "per strength."
            )
        if len(media) != num_prompts:
            raise ValueError(
                f"`{kind}` is a list of {len(media)} but there are {num_prompts} prompt(s), and one `frame_index` would "
                f"put all {len(media)} at frame {frame_index}: give one {kind} for all, one per prompt ({num_prompts}), "
                "or a `frame_index` list placing each entry (keyframes on every video)."
            )
        several = False  # one image (clip) per prompt: a batch in one condition
    entries = media if several else [media]
    indices = frame_index if isinstance(frame_index, list) else [frame_index] * len(entries)
    strengths = strength if isinstance(strength, list) else [strength] * len(entries)
    if len(indices) != len(entries) or len(strengths) != len(entries):
        raise ValueError(
            f"`frame_index` ({len(indices)}) and `strength` ({len(strengths)}) must match the number of "
            f"conditioning media in `{kind}` ({len(entries)})."
        )
    return [ConditionInput(m, kind, python_integer(i), s) for m, i, s in zip(entries, indices, strengths, strict=True)]
