"""LTX-Video 0.9.8 YAML pipeline configs -> ``LTXVideoPipeline`` arguments.

LTX-Video 0.9.8's published configs ship with the package (``ltx_video/assets/configs``) and load by name,
``load_config("ltxv-13b-0.9.8-distilled")``; they carry the fields of LTX-Video's own configs, so a published config
runs as written. Conversions: LTX-Video's timesteps and ``guidance_timesteps`` are in [0, 1] and become
diffusers' 0..1000; ``num_inference_steps`` with ``skip_initial/final_inference_steps`` becomes an
explicit slice of the linear-quadratic schedule (LTX-Video's default sampler; ``sampler: from_checkpoint``
is read as linear-quadratic too, since the checkpoint's scheduler metadata is not consulted; the section is kept in
``PipelineConfig.step_sections``, so a step count given to a single-pass config's ``generate`` (``ltx-video generate
--steps``) rebuilds the schedule with the config's sampler and skips, as LTX-Video's ``inference.py`` does, and
listed timesteps are kept by the command line); ``stg_mode`` becomes
``skip_layer_strategy``; ``stochastic_sampling``, when written (true or false), goes to every pass, so it wins over
the scheduler's own flag. ``decode_timestep`` / ``decode_noise_scale`` go at the top level or, as LTX-Video's
multi-scale pipeline applies them to the decoding call, in ``second_pass``. Loading-only fields (checkpoint paths,
precision, text encoder) are kept in ``PipelineConfig.model``. An unknown key is an error naming it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PipelineConfig", "load_config", "pass_arguments"]

logger = logging.getLogger(__name__)

MODEL_KEYS = {"checkpoint_path", "spatial_upscaler_model_path", "text_encoder_model_name_or_path", "precision"}
# Prompt enhancement runs extra LLMs before generation; ltx_video does not run it, so these are accepted and unused.
IGNORED_KEYS = {
    "prompt_enhancement_words_threshold",
    "prompt_enhancer_image_caption_model_name_or_path",
    "prompt_enhancer_llm_model_name_or_path",
}
TOP_KEYS = {"pipeline_type", "downscale_factor", "stg_mode", "decode_timestep", "decode_noise_scale", "sampler",
            "stochastic_sampling", "first_pass", "second_pass"}
PASS_KEYS = {"timesteps", "guidance_scale", "stg_scale", "rescaling_scale", "skip_block_list", "guidance_timesteps",
             "num_inference_steps", "skip_initial_inference_steps", "skip_final_inference_steps",
             "cfg_star_rescale", "tone_map_compression_ratio"}
SAMPLERS = {"fromcheckpoint", "linearquadratic", "uniform", ""}
PIPELINE_TYPES = {"base", "multi-scale"}
# The decoder's arguments: at the top level, or in second_pass (LTX-Video applies second_pass to the decoding call).
DECODE_KEYS = ("decode_timestep", "decode_noise_scale")
# stg_mode, as LTX-Video's inference.py reads it (any case) -> this package's SkipLayerStrategy value. Not imported from
# ltx_video.attention.stg, which imports diffusers (seconds); a test keeps the two equal.
STG_MODES = {mode: mode for mode in ("attention_values", "attention_skip", "residual", "transformer_block")} | {
    "stg_av": "attention_values", "stg_as": "attention_skip", "stg_r": "residual", "stg_t": "transformer_block"}


@dataclass(frozen=True)
class PipelineConfig:
    """A loaded config: ``call`` arguments for every pass, per-pass overrides, and loading fields."""

    pipeline_type: str = "base"
    call: dict[str, Any] = field(default_factory=dict)
    first_pass: dict[str, Any] = field(default_factory=dict)
    second_pass: dict[str, Any] = field(default_factory=dict)
    downscale_factor: float = 0.6666666
    model: dict[str, Any] = field(default_factory=dict)
    #: pass name -> the section its ``timesteps`` were made from (``num_inference_steps``, the skips, ``sampler``); a
    #: pass that lists its timesteps is not here. :meth:`generate` given ``num_inference_steps`` rebuilds such a pass's
    #: schedule from its section with the new count; the command line keeps listed timesteps.
    step_sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def is_multiscale(self) -> bool:
        return self.pipeline_type == "multi-scale"

    def generate(self, pipe, **overrides):
        """Run ``pipe`` as the config says; ``overrides`` (prompt, size, generator, ...) take precedence over
        the config everywhere, in both passes of a multi-scale config too. For a multi-scale config
        ``downscale_factor`` replaces the config's, and ``first_pass`` / ``second_pass`` dicts go on top of its
        passes."""
        overrides = dict(overrides)
        # a multi-scale config's own keys, given: the factor replaces the config's, pass dicts go on top of its passes
        downscale_factor = overrides.pop("downscale_factor", self.downscale_factor)
        passes = {name: overrides.pop(name, None) or {} for name in ("first_pass", "second_pass")}
        if not self.is_multiscale and (downscale_factor != self.downscale_factor or any(passes.values())):
            name = "downscale_factor" if downscale_factor != self.downscale_factor else next(k for k, v in passes.items() if v)
            raise ValueError(f"`{name}` is for a multi-scale config; this one is a single pass.")
        schedule = sorted({"timesteps", "num_inference_steps"} & set(overrides))
        if schedule and self.is_multiscale:
            raise ValueError(f"`{schedule[0]}`: a multi-scale config's schedules are its passes' (first_pass and "
                             "second_pass): give them in `first_pass=` / `second_pass=`.")
        # a schedule given replaces the config's (its timesteps would win over num_inference_steps); a step count for a
        # pass made from one keeps that pass's sampler and skips (a count alone ran the pipeline's default schedule)
        if schedule == ["num_inference_steps"] and "first_pass" in self.step_sections:
            section = {**self.step_sections["first_pass"], "num_inference_steps": overrides.pop("num_inference_steps")}
            where = "`num_inference_steps` with this config's first_pass"
            overrides["timesteps"] = pass_arguments(section, section.pop("sampler"), where)["timesteps"]
        kwargs = {**self.call, **overrides}
        dropped = {"timesteps"} if schedule else set()
        first = {k: v for k, v in self.first_pass.items() if k not in overrides and k not in dropped}
        if self.is_multiscale:
            second = {k: v for k, v in self.second_pass.items() if k not in overrides}

            def on_top(own: dict, given: dict) -> dict:  # a schedule given for a pass replaces the config's for it
                mine = {k: v for k, v in own.items() if not ({"timesteps", "num_inference_steps"} & set(given))
                        or k not in ("timesteps", "num_inference_steps")}
                return {**mine, **given}

            return pipe.generate_multiscale(downscale_factor=downscale_factor,
                                            first_pass=on_top(first, passes["first_pass"]),
                                            second_pass=on_top(second, passes["second_pass"]), **kwargs)
        return pipe(**{**first, **kwargs})


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(value, high: float = math.inf) -> bool:  # a number in [0, high], or one per guidance_timesteps interval
    values = value if isinstance(value, list) else [value]
    return bool(values) and all(_number(v) and 0 <= v <= high for v in values)


def _whole(value, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _blocks(value) -> bool:  # [1, 2] or one list per interval, [[1], [2]]
    return isinstance(value, list) and all(_whole(b, 0) or (isinstance(b, list) and all(_whole(c, 0) for c in b))
                                           for b in value)


def _unit_timesteps(value) -> bool:  # LTX-Video's 0..1 units, decreasing
    return (isinstance(value, list) and bool(value) and all(_number(t) and 0 < t <= 1 for t in value)
            and all(a > b for a, b in zip(value, value[1:], strict=False)))


PRECISIONS = {"float32", "bfloat16", "mixed_precision", "float8_e4m3fn"}
# Each key's accepted values, as LTX-Video's inference.py takes them: (check, what to say).
VALUE_RULES = {
    "guidance_scale": (_numbers, "a number >= 0, or a list of them (one per guidance_timesteps interval)"),
    "stg_scale": (_numbers, "a number >= 0, or a list of them"),
    "rescaling_scale": (lambda v: _numbers(v, 1.0), "a number in [0, 1], or a list of them"),
    "skip_block_list": (_blocks, "a list of block indices, or a list of such lists"),
    "guidance_timesteps": (_unit_timesteps, "a list of decreasing times in (0, 1]"),
    "timesteps": (_unit_timesteps, "a non-empty list of decreasing times in (0, 1] (LTX-Video's units)"),
    "num_inference_steps": (lambda v: _whole(v, 1), "a whole number >= 1"),
    "skip_initial_inference_steps": (lambda v: _whole(v, 0), "a whole number >= 0"),
    "skip_final_inference_steps": (lambda v: _whole(v, 0), "a whole number >= 0"),
    "cfg_star_rescale": (lambda v: isinstance(v, bool), "true or false"),
    "tone_map_compression_ratio": (lambda v: _number(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "stochastic_sampling": (lambda v: isinstance(v, bool), "true or false"),
    # as the pipeline's call takes them
    "decode_timestep": (lambda v: _numbers(v, 1.0), "a number in [0, 1], or a list of them (one per video)"),
    "decode_noise_scale": (lambda v: v is None or _numbers(v, 1.0),
                           "a number in [0, 1], a list of them (one per video), or null (decode_timestep's)"),
    "downscale_factor": (lambda v: _number(v) and 0 < v < 1, "a number in (0, 1)"),
    "stg_mode": (lambda v: isinstance(v, str) and v.lower() in STG_MODES,
                 f"one of {', '.join(list(STG_MODES)[:4])} (or LTX-Video's {', '.join(list(STG_MODES)[4:])})"),
    "first_pass": (lambda v: isinstance(v, dict), "a mapping of pass keys"),
    "second_pass": (lambda v: isinstance(v, dict), "a mapping of pass keys"),
    "precision": (lambda v: v in PRECISIONS, f"one of {sorted(PRECISIONS)}"),
}


def _check_values(section: dict[str, Any], where: str) -> None:
    for key, value in section.items():
        rule = VALUE_RULES.get(key)
        if rule is not None and not rule[0](value):
            raise ValueError(f"{where}: `{key}` must be {rule[1]}, got {value!r}.")


_STEP_KEYS = ("num_inference_steps", "skip_initial_inference_steps", "skip_final_inference_steps")


def pass_arguments(section: dict[str, Any], sampler: str = "from_checkpoint", where: str = "config") -> dict[str, Any]:
    """One LTX-Video pass section -> ``LTXVideoPipeline.__call__`` keyword arguments."""
    unknown = sorted(set(section) - PASS_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} in {where}; accepted: {sorted(PASS_KEYS)}.")
    _check_values(section, where)
    args = {k: v for k, v in section.items() if k in {"guidance_scale", "stg_scale", "rescaling_scale",
                                                     "skip_block_list", "cfg_star_rescale",
                                                     "tone_map_compression_ratio"}}
    if "guidance_timesteps" in section:
        args["guidance_timesteps"] = [1000.0 * float(t) for t in section["guidance_timesteps"]]
    if "timesteps" in section:
        args["timesteps"] = [1000.0 * float(t) for t in section["timesteps"]]
    elif "num_inference_steps" in section:
        from ltx_video.pipelines.denoising import linear_quadratic_schedule  # torch: not for config_path

        steps = int(section["num_inference_steps"])
        if sampler == "uniform":
            full = [1000.0 * (1.0 - i / steps) for i in range(steps)]
        else:
            full = (linear_quadratic_schedule(steps) * 1000.0).tolist()
        start = int(section.get("skip_initial_inference_steps", 0))
        end = steps - int(section.get("skip_final_inference_steps", 0))
        if not 0 <= start < end <= steps:
            raise ValueError(f"skip_initial/final_inference_steps leave no steps in {where}.")
        args["timesteps"] = full[start:end]
    return args


SHIPPED_CONFIGS = Path(__file__).parent / "assets" / "configs"


def shipped_configs() -> list[str]:
    """The names of LTX-Video 0.9.8's configs that ship with the package (``load_config`` takes them)."""
    return sorted(p.stem for p in SHIPPED_CONFIGS.glob("*.yaml"))


def config_path(path: str | Path) -> Path:
    """A config file: ``path`` when it exists, else the shipped config it names (``ltxv-2b-0.9.8-distilled``, with
    or without ``.yaml``, also as the repository's old ``configs/<name>.yaml``). FileNotFoundError lists the names."""
    path = Path(path).expanduser()
    if path.is_file():
        return path
    if path.parent in (Path("."), Path("configs")):
        shipped = SHIPPED_CONFIGS / (path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml")
        if shipped.is_file():
            return shipped
    raise FileNotFoundError(f"config file not found: {path} (or a shipped config's name: "
                            f"{', '.join(shipped_configs())})")


def load_config(path: str | Path) -> PipelineConfig:
    """Read a YAML config in LTX-Video 0.9.8's format: a file, or a shipped config's name (:func:`shipped_configs`)."""
    path = config_path(path)
    raw = yaml.safe_load(path.read_text())
    if raw is None:
        raise ValueError(f"{path} holds no settings (an LTX-Video config has pipeline_type, its passes, ...).")
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a config must be a mapping of keys to values.")
    unknown = sorted(set(raw) - TOP_KEYS - MODEL_KEYS - IGNORED_KEYS - PASS_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} in {path}.")
    for key in sorted(IGNORED_KEYS & set(raw)):
        logger.info("%s: %s is accepted but unused (ltx_video does not run prompt enhancement).", path, key)
    pipeline_type = raw.get("pipeline_type", "base")
    if pipeline_type not in PIPELINE_TYPES:
        raise ValueError(f"`pipeline_type` must be one of {sorted(PIPELINE_TYPES)}, got {pipeline_type!r} in {path}.")
    sampler = str(raw.get("sampler", "from_checkpoint") or "").lower().replace("-", "").replace("_", "")
    if sampler not in SAMPLERS:
        raise ValueError(
            f"`sampler` must be from_checkpoint, linear-quadratic or uniform, got {raw['sampler']!r} in {path}."
        )
    _check_values({k: v for k, v in raw.items() if k not in PASS_KEYS}, str(path))
    call: dict[str, Any] = {}
    if "stg_mode" in raw:
        call["skip_layer_strategy"] = STG_MODES[raw["stg_mode"].lower()]
    # as written, false too: left out, the pipeline would take the scheduler's own flag (LTX-Video passes it always)
    for key in (*DECODE_KEYS, "stochastic_sampling"):
        if key in raw:
            call[key] = raw[key]
    given_first, given_second = dict(raw.get("first_pass") or {}), dict(raw.get("second_pass") or {})
    unused = sorted(given_second) if pipeline_type != "multi-scale" else []  # its decode keys too: a base call
    # decodes with the top level's
    if unused:  # a single pass runs first_pass alone (since 2026-12-07: said; its second_pass was dropped silently)
        logger.warning("%s: second_pass %s is not used: pipeline_type %r runs first_pass only (set pipeline_type: "
                       "multi-scale for two passes).", path, unused, pipeline_type)
    misplaced = [k for k in DECODE_KEYS if k in given_first]
    if misplaced:
        raise ValueError(f"{path}: first_pass: `{misplaced[0]}` is the decoder's; put it at the top level or in "
                         "second_pass (a multi-scale config's first pass is not decoded, its second pass is).")
    decode = {k: given_second.pop(k) for k in DECODE_KEYS if k in given_second}
    _check_values(decode, f"{path}: second_pass")
    # Keys at the top level go to every pass, each pass's own on top (LTX-Video's multi-scale pipeline does so).
    single = {k: raw[k] for k in PASS_KEYS if k in raw}
    sections = {"first_pass": {**single, **given_first},
                "second_pass": {**single, **given_second} if "second_pass" in raw else {}}
    first = pass_arguments(sections["first_pass"], sampler, f"{path}: first_pass")
    second = pass_arguments(sections["second_pass"], sampler, f"{path}: second_pass") | decode
    step_sections = {name: {**{k: section[k] for k in _STEP_KEYS if k in section}, "sampler": sampler}
                     for name, section in sections.items()
                     if "num_inference_steps" in section and "timesteps" not in section}
    for name, section in (("first_pass", first), ("second_pass", second)):
        if pipeline_type == "multi-scale" and "timesteps" not in section:  # the second refines the upsampled latents
            raise ValueError(f"{path}: a multi-scale config needs a `{name}` with `timesteps` (or num_inference_steps, "
                             "and for the second pass skip_initial_inference_steps).")
    return PipelineConfig(
        pipeline_type=pipeline_type,
        call=call,
        first_pass=first,
        second_pass=second,
        downscale_factor=float(raw.get("downscale_factor", 0.6666666)),
        model={k: raw[k] for k in MODEL_KEYS if k in raw},
        step_sections=step_sections,
    )
