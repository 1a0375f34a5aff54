"""LTX-Video 0.9.8 YAML pipeline configs -> ``LTXVideoPipeline`` arguments.

The files in ``configs/`` carry the fields of LTX-Video's own configs, so a published config runs
as written. Conversions: LTX-Video's timesteps and ``guidance_timesteps`` are in [0, 1] and become
diffusers' 0..1000; ``num_inference_steps`` with ``skip_initial/final_inference_steps`` becomes an
explicit slice of the linear-quadratic schedule (LTX-Video's default sampler; ``sampler: from_checkpoint``
is read as linear-quadratic too, since the checkpoint's scheduler metadata is not consulted); ``stg_mode`` becomes
``skip_layer_strategy``. Loading-only fields (checkpoint paths, precision, text encoder) are kept in
``PipelineConfig.model``. An unknown key is an error naming it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ltx_video.pipelines.denoising import linear_quadratic_schedule

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


@dataclass(frozen=True)
class PipelineConfig:
    """A loaded config: ``call`` arguments for every pass, per-pass overrides, and loading fields."""

    pipeline_type: str = "base"
    call: dict[str, Any] = field(default_factory=dict)
    first_pass: dict[str, Any] = field(default_factory=dict)
    second_pass: dict[str, Any] = field(default_factory=dict)
    downscale_factor: float = 0.6666666
    model: dict[str, Any] = field(default_factory=dict)

    @property
    def is_multiscale(self) -> bool:
        return self.pipeline_type == "multi-scale"

    def generate(self, pipe, **overrides):
        """Run ``pipe`` as the config says; ``overrides`` (prompt, size, generator, ...) take precedence over
        the config everywhere, in both passes of a multi-scale config too."""
        kwargs = {**self.call, **overrides}
        first = {k: v for k, v in self.first_pass.items() if k not in overrides}
        if self.is_multiscale:
            second = {k: v for k, v in self.second_pass.items() if k not in overrides}
            return pipe.generate_multiscale(
                downscale_factor=self.downscale_factor, first_pass=first, second_pass=second, **kwargs
            )
        return pipe(**{**first, **kwargs})


def pass_arguments(section: dict[str, Any], sampler: str = "from_checkpoint", where: str = "config") -> dict[str, Any]:
    """One LTX-Video pass section -> ``LTXVideoPipeline.__call__`` keyword arguments."""
    unknown = sorted(set(section) - PASS_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} in {where}; accepted: {sorted(PASS_KEYS)}.")
    args = {k: v for k, v in section.items() if k in {"guidance_scale", "stg_scale", "rescaling_scale",
                                                     "skip_block_list", "cfg_star_rescale",
                                                     "tone_map_compression_ratio"}}
    if "guidance_timesteps" in section:
        args["guidance_timesteps"] = [1000.0 * float(t) for t in section["guidance_timesteps"]]
    if "timesteps" in section:
        args["timesteps"] = [1000.0 * float(t) for t in section["timesteps"]]
    elif "num_inference_steps" in section:
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


def load_config(path: str | Path) -> PipelineConfig:
    """Read a YAML config in LTX-Video 0.9.8's format."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    raw = yaml.safe_load(path.read_text()) or {}
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
    call: dict[str, Any] = {}
    if "stg_mode" in raw:
        call["skip_layer_strategy"] = raw["stg_mode"]
    for key in ("decode_timestep", "decode_noise_scale"):
        if key in raw:
            call[key] = raw[key]
    if raw.get("stochastic_sampling"):
        call["stochastic_sampling"] = True
    single = {k: raw[k] for k in PASS_KEYS if k in raw}
    first = pass_arguments({**single, **(raw.get("first_pass") or {})}, sampler, f"{path}: first_pass")
    second = pass_arguments(raw.get("second_pass") or {}, sampler, f"{path}: second_pass")
    if pipeline_type == "multi-scale" and not second:
        raise ValueError(f"{path}: a multi-scale config needs a `second_pass` section.")
    return PipelineConfig(
        pipeline_type=pipeline_type,
        call=call,
        first_pass=first,
        second_pass=second,
        downscale_factor=float(raw.get("downscale_factor", 0.6666666)),
        model={k: raw[k] for k in MODEL_KEYS if k in raw},
    )
