"""A long video's segments: each chunk's decoded frames cross-faded into the previous chunk's and, with
``colour_match``, held to the first segment's colours (the colour transfer of Reinhard et al., 2001, that long-video
tools apply between extensions as "color match"). Used by :mod:`ltx_video.pipelines.long_video`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ltx_video.pipelines.long_run import LongRun

__all__ = ["COLOUR_FIT", "apply_map", "colour_map", "colour_statistics", "default_colour_match", "match_colours", "ramp",
           "segment_frames", "statistics_stride"]


def colour_statistics(frames: np.ndarray) -> np.ndarray:
    """(2, C) float64: each channel's mean and std over all of ``frames`` (F, H, W, C), float32 or uint8.

    Channel by channel in float32 with float64 sums, so that a chunk of real-size frames (121 x 704 x 1216, 1.2 GB in
    float32) needs no float64 copy of the whole chunk."""
    planes = np.moveaxis(np.asarray(frames, dtype=np.float32), -1, 0).reshape(frames.shape[-1], -1)
    mean = planes.mean(axis=1, dtype=np.float64)
    var = [np.square(plane - np.float32(m)).mean(dtype=np.float64) for plane, m in zip(planes, mean, strict=True)]
    return np.stack([mean, np.sqrt(var)])


def colour_map(statistics: np.ndarray, reference: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """``(gain, offset)`` per channel (float64, broadcasting over the last axis) of the affine map that moves
    colours with ``statistics`` (mean, std; (2, C), or (2, F, 1, 1, C) per frame) toward ``reference``'s by
    ``factor`` (1: equal)."""
    mean, std = statistics
    target_mean = mean + factor * (reference[0] - mean)
    target_std = std + factor * (reference[1] - std)
    gain = np.where(std > 1e-6, target_std / np.maximum(std, 1e-6), 1.0)
    return gain, target_mean - mean * gain


def apply_map(frames: np.ndarray, gain: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """``frames * gain + offset`` in float32."""
    out = np.multiply(frames, np.asarray(gain, np.float32), dtype=np.float32)
    return np.add(out, np.asarray(offset, np.float32), out=out)


def match_colours(frames: np.ndarray, reference: np.ndarray, factor: float, per_frame: bool = False,
                  statistics: np.ndarray | None = None) -> np.ndarray:
    """``frames`` (F, H, W, C, 0-255) with each channel's mean and std moved toward ``reference``'s
    (:func:`colour_statistics`) by ``factor`` (1: equal), as one affine map per channel: for all the frames
    together, fitted to ``statistics`` (default: the frames' own; e.g. those of the frames a segment shows), or with
    ``per_frame`` one map per frame (each frame's own statistics). Float32 out (the map fitted in float64, applied
    in float32)."""
    if per_frame:  # each frame's statistics -> mean, std as (F, 1, 1, C)
        each = np.stack([colour_statistics(frame[None]) for frame in frames])
        statistics = np.stack([each[:, 0, None, None, :], each[:, 1, None, None, :]])
    elif statistics is None:
        statistics = colour_statistics(frames)
    return apply_map(frames, *colour_map(statistics, reference, factor))


def statistics_stride(frames: np.ndarray) -> int:
    """The spatial stride at which colour statistics are read: every pixel up to 256 x 256 per frame, then a grid
    of about that many (a mean and std over 65,000 pixels a frame are as good as over a 1080p frame's 2 million,
    at a thirtieth of the work)."""
    return max(1, math.ceil(math.sqrt(frames.shape[1] * frames.shape[2] / 65536)))


WRITER = 2  # the segments' H.264 settings: 2 = without x264's macroblock tree, tagged BT.601 (2026-12-06)
COLOUR_FIT = 3  # recorded in the manifest of runs with colour_match: 2 = fitted to the frames each segment shows,
# 3 = one composed map per chunk in float32, statistics read on at most ~256 x 256 pixels a frame (2026-12-06)
REFITS = 3  # each removes all but roughly the previous frames' share of the segment's colour error


def default_colour_match(prompts: list[str], output: Path | None) -> float:
    """``colour_match`` when the call leaves it out: the value recorded by the run being resumed at ``output`` (so a
    run started before this default resumes as it began), else 1.0 for one prompt and 0.0 when the prompts differ
    (they may ask for other colours, which matching would undo)."""
    recorded = LongRun.recorded_arguments(output) if output is not None else None
    if recorded is not None and "colour_match" in recorded:
        return float(recorded["colour_match"])
    return 1.0 if len(set(prompts)) == 1 else 0.0


def segment_frames(frames: np.ndarray, state: dict | None, args: dict, cut: int,
                    shown: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A chunk's decoded frames (F, H, W, C, 0-255) -> its segment (``shown`` frames, uint8), its tail (the frames
    from ``cut`` on, for the next chunk's cross-fade) and the reference colours (the first chunk's).

    The segment is ``frames[:cut]`` with its first frames cross-faded from the previous chunk's tail. With
    ``colour_match`` (chunk scope) the colour map is fitted to the frames the segment shows, not to the tail, which
    the next chunk's frames replace; then, since the cross-fade brings in the previous chunk's frames, this chunk's
    map is refitted (``REFITS`` times, each by ``colour_match``) so that the segment as written moves toward the same
    statistics; the tail takes the same map."""
    factor = args["colour_match"]
    per_frame = args.get("colour_match_scope", "chunk") == "frame"  # manifests written before the scope: chunk
    stride = statistics_stride(frames)
    sample = frames[:, ::stride, ::stride]  # the pixels the statistics are read from (all of them up to 256 px)
    colours = colour_statistics(sample[:shown]) if state is None else state["reference_colours"].numpy()
    previous = None if state is None else state["tail_frames"].numpy().astype(np.float32)

    def cross_fade(new: np.ndarray, old: np.ndarray | None) -> np.ndarray:
        segment = new[:cut].astype(np.float32)
        if old is not None:
            weight = ramp(len(old)).numpy()[:, None, None, None]
            segment[: len(old)] = old * (1 - weight) + segment[: len(old)] * weight
        return segment

    if factor > 0 and per_frame:
        frames = match_colours(frames, colours, factor, per_frame=True)
    elif factor > 0 and state is not None:
        # One map for the chunk, fitted on the sample, then applied once. Fitted first to the frames the segment
        # shows (not the tail, which the next chunk's frames replace); then, since the cross-fade brings in the
        # previous chunk's frames, refitted (never those frames, so the seam stays continuous) until the segment as
        # written is where the first fit put its shown frames.
        gain, offset = colour_map(colour_statistics(sample[:shown]), colours, factor)
        target = colour_statistics(apply_map(sample[:shown], gain, offset))
        old_sample = previous[:, ::stride, ::stride]
        for _ in range(REFITS):
            written = cross_fade(apply_map(sample, gain, offset), old_sample)
            refit_gain, refit_offset = colour_map(colour_statistics(written[:shown]), target, factor)
            gain, offset = refit_gain * gain, refit_gain * offset + refit_offset
        frames = apply_map(frames, gain, offset)
    segment = cross_fade(frames, previous)
    return np.clip(segment + 0.5, 0, 255).astype(np.uint8)[:shown], frames[cut:].copy(), colours


def ramp(count: int) -> torch.Tensor:
    """Weights of the new chunk over an overlap of ``count`` items: (1 ... count) / (count + 1)."""
    return torch.arange(1, count + 1, dtype=torch.float32) / (count + 1)
