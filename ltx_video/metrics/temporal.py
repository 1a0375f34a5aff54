"""Temporal stability of a video: frame-to-frame flicker and slow colour drift."""

from __future__ import annotations

import numpy as np

from ltx_video.metrics._inputs import FramesLike, as_frames

__all__ = ["flicker", "temporal_drift"]


def flicker(frames: FramesLike) -> float:
    """Mean absolute difference of consecutive frames, in ``[0, 1]`` pixel units.

    ``flicker = mean_{k, pixel, channel} |x_{k+1} - x_k|`` over the ``F - 1`` consecutive pairs of
    RGB frames in ``[0, 1]``. 0 for a frozen video; any motion raises it too, so compare videos of
    similar motion. VBench's "temporal flickering" score is ``1 - flicker`` (it averages
    ``absdiff`` of uint8 frames, divides by 255 and subtracts from 1), up to uint8 rounding.

    Args:
        frames: ``(F, 3, H, W)`` or ``(F, H, W, 3)``, float in ``[0, 1]`` / ``[-1, 1]`` or uint8; F >= 2.
    """
    video = as_frames(frames)
    if len(video) < 2:
        raise ValueError(f"frames must hold at least 2 frames, got {len(video)}")
    return float(np.abs(np.diff(video, axis=0)).mean())


def temporal_drift(frames: FramesLike, window: int = 8) -> dict[str, np.ndarray | float]:
    """Change of the colour statistics between the start and the end of a video.

    With ``A`` the first ``window`` frames and ``B`` the last ``window`` frames (they overlap when
    ``2 * window > F``), per RGB channel ``c`` (values in ``[0, 1]``, statistics over all pixels of
    all frames of the window):

    * ``mean_change[c] = mean(B_c) - mean(A_c)``,
    * ``std_change[c] = std(B_c) - std(A_c)``,
    * ``drift = ||mean_change||_2`` and ``std_drift = ||std_change||_2``.

    Args:
        frames: ``(F, 3, H, W)`` or ``(F, H, W, 3)``, float in ``[0, 1]`` / ``[-1, 1]`` or uint8.
        window: frames per end, ``1 <= window <= F``.

    Returns:
        ``{"mean_change": (3,), "std_change": (3,), "drift": float, "std_drift": float}``.
    """
    video = as_frames(frames)
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or not 1 <= window <= len(video):
        raise ValueError(f"window must be an int in [1, {len(video)}] (the number of frames), got {window!r}")
    first = video[:window].reshape(-1, 3)
    last = video[-window:].reshape(-1, 3)
    mean_change = last.mean(axis=0) - first.mean(axis=0)
    std_change = last.std(axis=0) - first.std(axis=0)
    return {
        "mean_change": mean_change,
        "std_change": std_change,
        "drift": float(np.linalg.norm(mean_change)),
        "std_drift": float(np.linalg.norm(std_change)),
    }
