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
    channels_first,
    paired_signs,
    stack_pil,
)

ArrayLike = torch.Tensor | np.ndarray | Image.Image

__all__ = ["keyframe_fidelity", "psnr", "ssim"]

_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5  # an 11-tap window, as in Wang et al. (2004)
_SSIM_K1, _SSIM_K2 = 0.01, 0.03


def _channels_last(array: np.ndarray, name: str) -> np.ndarray:
    """``(..., 3, H, W)`` -> ``(..., H, W, 3)``; a shape where both could be the channels is refused
    (:func:`~ltx_video.metrics._inputs.channels_first`), as is one where neither can."""
    return np.moveaxis(array, -3, -1) if channels_first(array.shape, name) else array


def _pair(image, reference) -> tuple[np.ndarray, np.ndarray]:
    """Both inputs as float64 in ``[0, 1]`` (uint8 and PIL by ``/ 255``; floats as
    :func:`~ltx_video.metrics._inputs.paired_signs` reads them: ``[-1, 1]`` below -0.1, or negative beside one
    that is), channels last, of one shape (never broadcast). A list of PIL images is a video."""
    raw = []
    for value, name in ((image, "image"), (reference, "reference")):
        if isinstance(value, Image.Image):
            value = np.asarray(value.convert("RGB"))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Image.Image) for v in value):
            value = stack_pil(value, name)
        elif not isinstance(value, (torch.Tensor, np.ndarray)):
            raise ValueError(f"{name} must be a PIL image (or a list of them), torch.Tensor or numpy array, got "
                             f"{type(value).__name__}")
        raw.append(_numpy(value))
    x, y = (_channels_last(_unit_range(a, name, signed), name)
            for a, name, signed in zip(raw, ("image", "reference"), paired_signs(*raw), strict=True))
    if x.shape != y.shape:
        raise ValueError(f"image and reference must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)} "
                         "(channels last)")
    return x, y


def psnr(image: ArrayLike, reference: ArrayLike) -> float:
    """Peak signal-to-noise ratio in dB of two images (or videos) of the same shape.

    ``PSNR = 10 * log10(1 / MSE)`` with the MSE over all pixels and channels, after each is brought to
    ``[0, 1]`` on its own: uint8 and PIL images (or lists of them) by ``/ 255``, floats in ``[-1, 1]`` (a
    minimum below -0.1) by ``(x + 1) / 2``, floats in ``[0, 1]`` as they are. ``inf`` when the two are
    identical. Shapes must match once channels are last (no broadcasting): ``(3, H, W)`` and ``(F, 3, H, W)`` are
    compared with ``(H, W, 3)`` and ``(F, H, W, 3)``.
    """
    return _psnr(*_pair(image, reference))


def _psnr(x: np.ndarray, y: np.ndarray) -> float:
    """:func:`psnr` of two arrays already in ``[0, 1]``, channels last."""
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
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"image must have shape (H, W, 3) or (3, H, W), got {tuple(x.shape)}")
    return _ssim(x, y)


def _ssim(x: np.ndarray, y: np.ndarray) -> float:
    """:func:`ssim` of two ``(H, W, 3)`` arrays already in ``[0, 1]``."""
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
    if not isinstance(keyframes, dict):
        raise ValueError(f"keyframes must be a dict of frame index -> image, got {type(keyframes).__name__}")
    # A video with negative values beside a clearly [-1, 1] keyframe is [-1, 1] (paired_signs); with a [-1, 1]
    # video, float keyframes are read as [-1, 1] too (one need not have negative values); with a [0, 1] video
    # their range is detected as usual.
    video_signed = paired_signs(frames, *keyframes.values())[0]
    video = as_frames(frames, signed=video_signed)
    signed = True if video_signed else None
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
        # on the arrays as brought to [0, 1] above: psnr / ssim would detect their ranges again, and a [-1, 1]
        # video's undershoot below -1.2 (below -0.1 once in [0, 1]) squeezed it twice (since 2026-12-07: a frame
        # against its own uint8 read 13 dB for 46)
        frame = video[index]
        out[int(index)] = {"psnr": _psnr(frame, reference), "ssim": _ssim(frame, reference)}
    return out
