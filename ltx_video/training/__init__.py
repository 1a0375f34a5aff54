"""Training: the joint audio-video rectified-flow objective (:mod:`~ltx_video.training.losses`) and the
accelerate loop behind ``scripts/train.py`` (:mod:`~ltx_video.training.config`, ``data``, ``stages``,
``trainer``; docs/training.md)."""

from ltx_video.training.config import STAGES, TrainConfig, load_train_config
from ltx_video.training.data import ClipBank, DataConfig
from ltx_video.training.losses import MODES, JointFlowLoss, flow_pair, joint_flow_loss, sample_flow_times
from ltx_video.training.trainer import train

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
