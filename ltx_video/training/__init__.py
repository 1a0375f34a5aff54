"""Training: the joint audio-video rectified-flow objective (:mod:`~ltx_video.training.losses`) and the
accelerate loop behind ``scripts/train.py`` (:mod:`~ltx_video.training.config`, ``data``, ``stages``,
``trainer``; docs/training.md)."""

import importlib

# Imported when first used (PEP 562), so that ``scripts/train.py``'s checks (config, checkpoints) answer before the
# trainer's model code (diffusers, transformers) is imported.
_HOMES = {
    "STAGES": "config", "TrainConfig": "config", "load_train_config": "config",
    "ClipBank": "data", "DataConfig": "data",
    "MODES": "losses", "JointFlowLoss": "losses", "flow_pair": "losses", "joint_flow_loss": "losses",
    "sample_flow_times": "losses",
    "train": "trainer",
}


_SUBMODULES = frozenset({"camera_stage", "checkpoints", "checks", "components", "config", "continuation_stage", "data",
                         "keyframe_stage", "lora_extract", "losses", "run_folder", "stages", "trainer"})


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f"ltx_video.training.{_HOMES[name]}"), name)
    if name in _SUBMODULES:  # ltx_video.training.trainer after `import ltx_video.training`, as before
        return importlib.import_module(f"ltx_video.training.{name}")
    raise AttributeError(f"module 'ltx_video.training' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES, *_SUBMODULES})


__all__ = [
    "MODES",
    "STAGES",
    "ClipBank",
    "DataConfig",
    "JointFlowLoss",
    "TrainConfig",
    "flow_pair",
    "joint_flow_loss",
    "load_train_config",
    "sample_flow_times",
    "train",
]
