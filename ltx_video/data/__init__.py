"""Data: the synthetic audio-video world (:mod:`ltx_video.data.synthetic`, every name there) and
real video folders (:class:`ltx_video.data.video_folder.VideoFolderDataset`)."""

from ltx_video.data import synthetic
from ltx_video.data.synthetic import *  # noqa: F403 (the synthetic world's public names, listed in its __all__)
from ltx_video.data.video_folder import VideoFolderDataset

__all__ = [*synthetic.__all__, "VideoFolderDataset"]
