"""Fidelity of generated frames to conditioning keyframes: PSNR and SSIM.

Both compare in ``[0, 1]``; uint8, PIL and ``[-1, 1]`` inputs are brought there first (see
:mod:`ltx_video.metrics._inputs` for the accepted inputs).
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ltx_video.metrics._image import gaussian_blur
from ltx_video.metrics._inputs import (
    FramesLike,
    ImageLike,
    _numpy,
    _unit_range,
    as_frames,
    as_image,
    is_signed_range,
)

ArrayLike = torch.Tensor | np.ndarray | Image.Image

__all__ = ["keyframe_fidelity", "psnr", "ssim"]

_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5  # an 11-tap window, as in Wang et al. (2004)
_SSIM_K1, _SSIM_K2 = 0.01, 0.03


def _pair(image, reference) -> tuple[np.ndarray, np.ndarray]:
    """Both inputs as float64 in ``[0, 1]``, of one shape (never broadcast): PIL images and uint8 are divided by
    255; floats are read as ``[-1, 1]`` when either has a negative value (as :func:`keyframe_fidelity` reads a
    keyframe against its video), else as ``[0, 1]``; a ``(3, H, W)`` beside an ``(H, W, 3)`` is turned to match."""
    arrays = []
    for value, name in ((image, "image"), (reference, "reference")):
        if isinstance(value, Image.Image):
            value = np.asarray(value.convert("RGB"))
        elif not isinstance(value, (torch.Tensor, np.ndarray)):
            raise ValueError(f"{name} must be a PIL image, torch.Tensor or numpy array, got {type(value).__name__}")
        arrays.append(_numpy(value))
    signed = any(is_signed_range(a) for a in arrays)
    x, y = (_unit_range(a, name, signed) for a, name in zip(arrays, ("image", "reference"), strict=True))
    if x.shape != y.shape and x.ndim == y.ndim == 3 and x.shape == y.shape[1:] + y.shape[:1] and y.shape[0] == 3:
        y = y.transpose(1, 2, 0)  # channels-first reference beside a channels-last image
    elif x.shape != y.shape and x.ndim == y.ndim == 3 and y.shape == x.shape[1:] + x.shape[:1] and x.shape[0] == 3:
        x = x.transpose(1, 2, 0)
    if x.shape != y.shape:
        raise ValueError(f"image and reference must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    return x, y


def psnr(image: ArrayLike, reference: ArrayLike) -> float:
    """Peak signal-to-noise ratio in dB of two images (or videos) of the same shape.

    ``PSNR = 10 * log10(1 / MSE)`` with the MSE over all pixels and channels, after both are brought to
    ``[0, 1]``: uint8 and PIL images by ``/ 255``, floats in ``[-1, 1]`` (either has a negative value) by
    ``(x + 1) / 2``, floats in ``[0, 1]`` as they are. ``inf`` when the two are identical. Shapes must match
    (no broadcasting), except that a ``(3, H, W)`` is compared with an ``(H, W, 3)``.
    """
    x, y = _pair(image, reference)
    mse = float(np.mean((x - y) ** 2))
    return float("inf") if mse == 0.0 else float(10.0 * np.log10(1.0 / mse))


def ssim(image: ImageLike, reference: ImageLike) -> float:
    """Structural similarity (Wang et al. 2004) of two RGB images, ``(H, W, 3)`` or ``(3, H, W)``, PIL, uint8 or
    float (brought to ``[0, 1]`` as :func:`psnr` does).

    Per channel, local means ``mu``, variances ``sigma^2`` and covariance ``sigma_xy`` are taken
    under an 11 x 11 Gaussian window of sigma 1.5 px (smaller frames: the largest odd window that
    fits, same sigma), at every position where the window lies inside the image;
    ``SSIM = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))``
    with ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2``, ``L = 1``. The result is the mean over positions,
    then over the three RGB channels (not luminance only). 1 for identical images.
    """
    x, y = _pair(image, reference)
    if x.ndim == 3 and x.shape[0] == 3 and x.shape[-1] != 3:
        x, y = x.transpose(1, 2, 0), y.transpose(1, 2, 0)
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"image must have shape (H, W, 3) or (3, H, W), got {tuple(x.shape)}")
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
