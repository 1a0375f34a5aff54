"""Training utilities: the joint audio-video rectified-flow objective (:mod:`ltx_video.training.losses`)."""

from ltx_video.training.losses import MODES, JointFlowLoss, flow_pair, joint_flow_loss, sample_flow_times

__all__ = ["MODES", "JointFlowLoss", "flow_pair", "joint_flow_loss", "sample_flow_times"]
