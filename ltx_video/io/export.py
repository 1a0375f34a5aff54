"""``export_to_video``: diffusers' function of that name on PyAV, plus an audio track and a pipeline output taken
whole (its first video, its sound, the rate it was generated at). Writing goes through :func:`ltx_video.io.media.write_video`."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import av
import numpy as np

from ltx_video.io.media import (
    AudioLike,
    PathLike,
    _aac_sample_rate,
    _frame_rate,
    _frames_to_uint8,
    _writable_audio,
    write_video,
)
from ltx_video.io.waveforms import waveform_and_rate

__all__ = ["export_to_video"]

logger = logging.getLogger("ltx_video.io.media")  # the name its warnings had before the move (users filter by it)


def _resize_to_multiple(array: np.ndarray, multiple: int) -> np.ndarray:
    """``(F, H, W, 3)`` uint8 scaled up (bicubic, FFmpeg's swscale) to H, W divisible by ``multiple``."""
    height, width = array.shape[1:3]
    new_height, new_width = -(-height // multiple) * multiple, -(-width // multiple) * multiple
    if (new_height, new_width) == (height, width):
        return array
    logger.warning(
        "export_to_video: %dx%d (H x W) is not divisible by macro_block_size=%d; resizing to %dx%d as diffusers' "
        "export_to_video does (macro_block_size=None or 1 does not resize: an odd size is then padded to even).",
        height, width, multiple, new_height, new_width,
    )
    return np.stack([
        av.VideoFrame.from_ndarray(frame, format="rgb24")
        .reformat(width=new_width, height=new_height, interpolation="BICUBIC")
        .to_ndarray(format="rgb24")
        for frame in array
    ])


def _crf_from_quality(quality: float | None) -> int:
    """diffusers' ``quality`` 0..10 as the x264 CRF it stands for, ``int((1 - q / 10) * 51)``; None: x264's CRF 23."""
    if quality is None:
        return 23
    if isinstance(quality, bool) or not isinstance(quality, (int, float)) or not 0 <= quality <= 10:
        raise ValueError(f"quality must be a number in [0, 10] (10 is best) or None, got {quality!r}")
    return int((1 - quality / 10.0) * 51)


def export_to_video(
    video_frames,
    output_video_path: PathLike | None = None,
    fps: float | None = None,
    quality: float | None = 5.0,
    bitrate: int | None = None,
    macro_block_size: int | None = 16,
    *,
    audio: AudioLike | None = None,
    sample_rate: int | None = None,
) -> str:
    """diffusers' ``export_to_video`` on PyAV, plus audio; returns the path as a ``str``, as diffusers does.

    The arguments are diffusers': ``video_frames`` is a list of PIL images or of ``(H, W, 3)`` arrays in
    ``[0, 1]`` (``output.frames[0]`` for ``output_type="pil"`` or ``"np"``), and also a tensor or array
    ``(F, 3, H, W)`` / ``(F, H, W, 3)`` (``output_type="pt"``), float in ``[0, 1]`` or uint8.
    ``output_video_path=None`` writes a temporary ``.mp4``. ``quality`` (0-10, 10 best) maps to the same
    x264 CRF as diffusers' imageio writer; ``bitrate`` (bits/s) replaces it. Frames whose size is not divisible
    by ``macro_block_size`` are scaled up to the next multiple, as diffusers does (``None`` or 1: kept, padded
    to even if needed).

    ``fps``: by default a pipeline output's ``frame_rate`` (the rate it was generated at), else 24, not diffusers'
    10 (LTX-Video's ``frame_rate``s are 24-30); one out of step with the audio warns.

    Also accepted: a whole pipeline output with ``.frames`` and, for audio-video pipelines,
    ``.audio = (waveform (B, S) or (B, C, S), sample_rate)``: its first video is written with its audio track.
    ``sample_rate`` must be one the AAC track can take (7350 ... 16000, 24000, 44100, 48000 ... 96000 Hz); another is
    refused in one line before any work (since 2026-12-07; FFmpeg's encoder refused it after the file was made), not
    resampled: the file keeps the caller's rate, and ``resample_audio`` converts a waveform to one that fits.
    """
    if hasattr(video_frames, "frames"):
        output = video_frames
        # latents (B, C, F, h, w), marked by the pipeline: they were read as frames and refused naming no cause
        if getattr(output, "holds_latents", False) or getattr(output, "audio_latents", None) is not None:
            raise ValueError("export_to_video: this pipeline output holds latents (output_type=\"latent\"), not frames: "
                             "decode them first, or call the pipeline with output_type \"pil\", \"np\" or \"pt\".")
        if len(output.frames) > 1:  # (since 2026-12-07: said; the others were left out without a word)
            logger.warning("export_to_video: the output holds %d videos and only the first is written; for video i "
                           "pass output.frames[i] with audio=output.audio.waveform[i].", len(output.frames))
        video_frames = output.frames[0]
        if audio is None and getattr(output, "audio", None) is not None:
            waveform, sample_rate = output.audio
            audio = waveform[0]
        fps = getattr(output, "frame_rate", None) if fps is None else fps
    fps = 24 if fps is None else fps
    _frame_rate(fps)  # checked before any work
    crf = _crf_from_quality(quality)
    if macro_block_size is not None and (
        isinstance(macro_block_size, bool) or not isinstance(macro_block_size, int) or macro_block_size < 1
    ):
        raise ValueError(f"macro_block_size must be a positive int or None, got {macro_block_size!r}")
    audio, sample_rate = waveform_and_rate(audio, sample_rate, "audio", "sample_rate")  # `output.audio`, torchaudio's
    if audio is not None:  # before the frames are converted and resized
        audio = _writable_audio(audio)  # (C, S): integer PCM scaled, (S, C) transposed, past full scale clipped (said)
        sample_rate = _aac_sample_rate(sample_rate) if sample_rate is not None else None
    nested = isinstance(video_frames, (list, tuple)) and len(video_frames) > 0 and isinstance(video_frames[0], (list, tuple))
    if nested or getattr(video_frames, "ndim", 0) == 5:  # a pipeline's output.frames: was "must have 4 dims" / "got list"
        raise ValueError(f"video_frames holds a batch of {len(video_frames)} videos (a pipeline's output.frames): pass "
                         "one, output.frames[i]")
    array = _frames_to_uint8(video_frames, "video_frames")
    if macro_block_size is not None and macro_block_size > 1:
        array = _resize_to_multiple(array, macro_block_size)
    seconds = audio.shape[-1] / sample_rate if audio is not None and sample_rate else None
    if seconds and fps > 0 and abs(seconds - array.shape[0] / fps) > 1.0 / fps:  # generated: num_frames / frame_rate
        logger.warning("export_to_video: %d frames at fps=%g last %.3f s but the audio %.3f s: pass the frame rate it "
                       "was generated at (here about fps=%.3g).", len(array), fps, len(array) / fps, seconds, len(array) / seconds)
    if output_video_path is None:
        with tempfile.NamedTemporaryFile(suffix=".mp4", delete=False) as file:
            output_video_path = file.name
    output_video_path = Path(output_video_path).expanduser()  # "~/out.mp4", as imageio (diffusers' writer) expands it
    write_video(output_video_path, array, fps, audio=audio, sample_rate=sample_rate, crf=crf, bitrate=bitrate)
    return str(output_video_path)
