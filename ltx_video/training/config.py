"""A training run's YAML config: one file per run, every field checked before any model is built.

    stage: transformer            # video_vae | audio_vae | transformer | camera | keyframes | continuation
    output_dir: runs/transformer
    steps: 3000
    batch_size: 8                 # per process
    learning_rate: 3.0e-4
    checkpoint_every: 500         # accelerate state (model, optimizer, scheduler, RNG) every N steps
    mixed_precision: "no"         # no | bf16 | fp16
    gradient_checkpointing: false
    data: {source: synthetic, num_clips: 2048, camera: static, max_objects: 1}
    model: {...}                  # the stage's model constructor arguments
    stage_options: {...}          # the stage's loss / input options (see ltx_video.training.stages)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ltx_video.training.data import DataConfig

__all__ = ["STAGES", "TrainConfig", "load_train_config"]

STAGES = ("video_vae", "audio_vae", "transformer", "camera", "keyframes", "continuation")
_PRECISIONS = ("no", "bf16", "fp16")
_SCHEDULES = ("cosine", "constant")


@dataclass(frozen=True)
class TrainConfig:
    stage: str
    output_dir: str
    steps: int
    batch_size: int = 8
    learning_rate: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 100
    lr_schedule: str = "cosine"
    grad_clip: float = 1.0
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    log_every: int = 10
    mixed_precision: str = "no"
    gradient_checkpointing: bool = False
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    model: dict[str, Any] = field(default_factory=dict)
    stage_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("learning_rate", "weight_decay", "grad_clip"):  # YAML reads "3e-4" as a string
            try:
                object.__setattr__(self, name, float(getattr(self, name)))
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number, got {getattr(self, name)!r}") from None
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {self.stage!r}")
        for name in ("steps", "batch_size", "checkpoint_every", "keep_checkpoints", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not isinstance(self.warmup_steps, int) or isinstance(self.warmup_steps, bool) or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an integer >= 0, got {self.warmup_steps!r}")
        if not all(math.isfinite(getattr(self, n)) for n in ("learning_rate", "weight_decay", "grad_clip")):
            raise ValueError("learning_rate, weight_decay and grad_clip must be finite")
        if not self.learning_rate > 0 or not self.grad_clip > 0 or self.weight_decay < 0:
            raise ValueError("learning_rate and grad_clip must be > 0 and weight_decay >= 0")
        if not isinstance(self.output_dir, str) or not self.output_dir:
            raise ValueError(f"output_dir must be a folder path, got {self.output_dir!r}")
        if not isinstance(self.gradient_checkpointing, bool):  # YAML's 'no' in quotes is a string, and truthy
            raise ValueError(f"gradient_checkpointing must be true or false, got {self.gradient_checkpointing!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        for name in ("model", "stage_options"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"{name} must be a mapping (key: value lines), got {getattr(self, name)!r}")
        if self.mixed_precision is False:  # YAML reads an unquoted `no` as false
            object.__setattr__(self, "mixed_precision", "no")
        if self.mixed_precision not in _PRECISIONS:
            raise ValueError(f"mixed_precision must be one of {_PRECISIONS}, got {self.mixed_precision!r}")
        if self.lr_schedule not in _SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {_SCHEDULES}, got {self.lr_schedule!r}")

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def load_train_config(path: str | Path, **overrides: Any) -> TrainConfig:
    """Read a run's YAML (unknown keys are an error naming them); ``overrides`` replace top-level fields."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path} must hold a mapping of settings (stage: ..., steps: ...), got a {type(raw).__name__}")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {unknown}; accepted: {sorted(known)}")
    data_known = {f.name for f in dataclasses.fields(DataConfig)}
    data = raw.get("data") or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: data must be a mapping, got {data!r}")
    if sorted(set(data) - data_known):
        raise ValueError(f"{path}: unknown data key(s) {sorted(set(data) - data_known)}; accepted: {sorted(data_known)}")
    missing = [k for k in ("stage", "output_dir", "steps") if k not in raw]
    if missing:
        raise ValueError(f"{path}: missing required key(s) {missing}")
    return TrainConfig(**{**raw, "data": DataConfig(**data)})
