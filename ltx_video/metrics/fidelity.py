"""Fidelity of generated frames to conditioning keyframes: PSNR and SSIM.

Both work on RGB in ``[0, 1]`` (see :mod:`ltx_video.metrics._inputs` for the accepted inputs).
"""

from __future__ import annotations

import numpy as np

from ltx_video.metrics._image import gaussian_blur
from ltx_video.metrics._inputs import FramesLike, ImageLike, as_frames, as_image, is_signed_range

__all__ = ["keyframe_fidelity", "psnr", "ssim"]

_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5  # an 11-tap window, as in Wang et al. (2004)
_SSIM_K1, _SSIM_K2 = 0.01, 0.03


def psnr(image: np.ndarray, reference: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two equal-shape arrays in ``[0, 1]``.

    ``PSNR = 10 * log10(1 / MSE)`` with the MSE over all pixels and channels (peak value 1);
    ``inf`` when the arrays are identical.
    """
    mse = float(np.mean((np.asarray(image, np.float64) - np.asarray(reference, np.float64)) ** 2))
    return float("inf") if mse == 0.0 else float(10.0 * np.log10(1.0 / mse))


def ssim(image: np.ndarray, reference: np.ndarray) -> float:
    """Structural similarity (Wang et al. 2004) of two ``(H, W, 3)`` images in ``[0, 1]``.

    Per channel, local means ``mu``, variances ``sigma^2`` and covariance ``sigma_xy`` are taken
    under an 11 x 11 Gaussian window of sigma 1.5 px (smaller frames: the largest odd window that
    fits, same sigma), at every position where the window lies inside the image;
    ``SSIM = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))``
    with ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2``, ``L = 1``. The result is the mean over positions,
    then over the three RGB channels (not luminance only). 1 for identical images.
    """
    x = np.asarray(image, np.float64)
    y = np.asarray(reference, np.float64)
    radius = min(_SSIM_RADIUS, (min(x.shape[:2]) - 1) // 2)
    if radius < 1:
        raise ValueError(f"images must be at least 3 x 3 pixels for SSIM, got {x.shape[0]} x {x.shape[1]}")
    c1, c2 = _SSIM_K1**2, _SSIM_K2**2

    def local_mean(a: np.ndarray) -> np.ndarray:
        return gaussian_blur(a, _SSIM_SIGMA, axes=(0, 1), mode="valid", radius=radius)

    mu_x, mu_y = local_mean(x), local_mean(y)
    var_x = local_mean(x * x) - mu_x**2
    var_y = local_mean(y * y) - mu_y**2
    cov = local_mean(x * y) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(ssim_map.mean(axis=(0, 1)).mean())


def keyframe_fidelity(frames: FramesLike, keyframes: dict[int, ImageLike]) -> dict[int, dict[str, float]]:
    """PSNR and SSIM of video frames against the keyframes they were conditioned on.

    Args:
        frames: ``(F, 3, H, W)`` or ``(F, H, W, 3)``, float in ``[0, 1]`` / ``[-1, 1]`` or uint8.
        keyframes: frame index (``0 <= index < F``) -> the expected image, a PIL image or a
            ``(3, H, W)`` / ``(H, W, 3)`` tensor / array of the video's size (uint8, or float: read as
            ``[-1, 1]`` when the video has negative values, else ``[-1, 1]`` only if it has some itself).

    Returns:
        index -> ``{"psnr": dB (inf when identical), "ssim": mean RGB SSIM}``, see :func:`psnr`
        and :func:`ssim`.
    """
    video = as_frames(frames)
    # With a [-1, 1] video, float keyframes are read as [-1, 1] too (one need not have negative values);
    # with a [0, 1] video their range is detected as usual.
    signed = True if is_signed_range(frames) else None
    if not isinstance(keyframes, dict):
        raise ValueError(f"keyframes must be a dict of frame index -> image, got {type(keyframes).__name__}")
    out: dict[int, dict[str, float]] = {}
    for index, image in keyframes.items():
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise ValueError(f"keyframe index must be an int, got {index!r}")
        if not 0 <= index < len(video):
            raise ValueError(f"keyframe index {index} is outside the video's frames 0..{len(video) - 1}")
        reference = as_image(image, name=f"keyframes[{index}]", signed=signed)
        if reference.shape != video.shape[1:]:
            raise ValueError(
                f"keyframes[{index}] has size {reference.shape[0]} x {reference.shape[1]}, "
                f"the video {video.shape[1]} x {video.shape[2]}"
            )
        frame = video[index]
        out[int(index)] = {"psnr": psnr(frame, reference), "ssim": ssim(frame, reference)}
    return out
