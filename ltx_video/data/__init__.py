"""Datasets: synthetic audio-visual clips with exact ground truth (:mod:`ltx_video.data.synthetic`).

Folder-backed datasets live in their own modules (e.g. ``ltx_video.data.video_folder``) and are
imported from there.
"""

from ltx_video.data.synthetic import (
    BACKGROUNDS,
    CAMERA_MOTIONS,
    COLOURS,
    SAMPLE_RATE,
    SHAPE_PITCH_HZ,
    SHAPES,
    WALLS,
    Bounce,
    Clip,
    ClipParams,
    ObjectSpec,
    PromptSpec,
    SyntheticAVDataset,
    burst_start_sample,
    burst_waveform,
    camera_motion,
    compute_bounces,
    make_clip,
    object_positions,
    parse_prompt,
    prompt_for,
    render_clip,
    sample_params,
    shape_extent,
)

__all__ = [
    "BACKGROUNDS",
    "CAMERA_MOTIONS",
    "COLOURS",
    "SAMPLE_RATE",
    "SHAPES",
    "SHAPE_PITCH_HZ",
    "WALLS",
    "Bounce",
    "Clip",
    "ClipParams",
    "ObjectSpec",
    "PromptSpec",
    "SyntheticAVDataset",
    "burst_start_sample",
    "burst_waveform",
    "camera_motion",
    "compute_bounces",
    "make_clip",
    "object_positions",
    "parse_prompt",
    "prompt_for",
    "render_clip",
    "sample_params",
    "shape_extent",
]
