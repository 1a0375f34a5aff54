"""Input normalisation shared by the metrics: frames, single images and audio as float64 numpy.

Accepted frames: a tensor / array ``(F, 3, H, W)`` or ``(F, H, W, 3)`` (channels-last wins when
both dim 1 and the last dim have size 3, as in :mod:`ltx_video.io.media`), either uint8
(``0..255``) or float. Floats are read as ``[-1, 1]`` when their minimum is below -0.1 and as
``[0, 1]`` otherwise (a decoder's undershoot of a few hundredths below 0 leaves a ``[0, 1]`` video in
``[0, 1]``), so a ``[-1, 1]`` video with no value below -0.1 (nothing darker than 45 % grey) is misread;
pass such videos rescaled to ``[0, 1]``. A list of PIL images (a pipeline's ``output_type="pil"`` frames) is
read as uint8 frames. Audio: float, or integer PCM scaled by its type's full scale (int16 as ``/ 32768``).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from PIL import Image

FramesLike = torch.Tensor | np.ndarray | list
ImageLike = torch.Tensor | np.ndarray | Image.Image
AudioLike = torch.Tensor | np.ndarray

# Rec. 601 luma weights, the usual choice for "grayscale" of sRGB-ish frames.
_LUMA = np.array([0.299, 0.587, 0.114])


def _numpy(array: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        return array.detach().cpu().to(torch.float64 if array.is_floating_point() else array.dtype).numpy()
    return np.asarray(array)


def _unit_range(array: np.ndarray, name: str, signed: bool | None = None) -> np.ndarray:
    """uint8 -> ``/255``; float in ``[-1, 1]`` -> ``(x + 1) / 2``; float in ``[0, 1]`` -> as is; float64.

    ``signed`` says which float range the array is in; ``None`` detects it (a negative minimum means
    ``[-1, 1]``), which cannot tell a ``[-1, 1]`` image without negative values from a ``[0, 1]`` one.
    """
    if array.dtype == np.uint8:
        return array.astype(np.float64) / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{name} must be float in [0, 1] / [-1, 1] or uint8, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    if array.size and np.abs(array).max() > _FLOAT_LIMIT:  # e.g. 0-255 values in a float array
        raise ValueError(f"{name} holds values up to {np.abs(array).max():.4g}: float frames must be in [0, 1] or "
                         "[-1, 1] (give 0-255 values as uint8, or divide them by 255)")
    if signed is None:
        signed = bool(array.size and array.min() < _SIGNED_BELOW)
    return (array + 1.0) / 2.0 if signed else array


_FLOAT_LIMIT = 1.5  # past the range by more than rounding or a decoder's overshoot
_SIGNED_BELOW = -0.1  # a float minimum below this reads as [-1, 1]; above it, as [0, 1] with a decoder's undershoot


def paired_signs(*values) -> list[bool | None]:
    """Which of several inputs compared with one another are ``[-1, 1]``: each float one whose minimum is below
    -0.1, and, when one is, each other float one with a negative value (a bright ``[-1, 1]`` frame beside a darker
    one); None (not float) otherwise. A ``[0, 1]`` image's undershoot alone never makes it ``[-1, 1]``."""
    minima = []
    for value in values:
        array = _numpy(value) if isinstance(value, (torch.Tensor, np.ndarray)) else None
        floating = array is not None and np.issubdtype(array.dtype, np.floating) and array.size
        minima.append(float(array.min()) if floating else None)
    clearly = any(m is not None and m < _SIGNED_BELOW for m in minima)
    return [None if m is None else bool(m < _SIGNED_BELOW or (clearly and m < 0)) for m in minima]


def as_frames(frames: FramesLike, name: str = "frames", signed: bool | None = None) -> np.ndarray:
    """Frames as float64 ``(F, H, W, 3)`` in ``[0, 1]`` (see the module docstring for the inputs); ``signed``: a float
    video's range (``[-1, 1]`` when True), detected when None."""
    if isinstance(frames, (list, tuple)) and frames and all(isinstance(f, Image.Image) for f in frames):
        frames = np.stack([np.asarray(f.convert("RGB")) for f in frames])  # a pipeline's output_type="pil" frames
    if not isinstance(frames, (torch.Tensor, np.ndarray)):
        raise ValueError(f"{name} must be a torch.Tensor, numpy array or list of PIL images, got {type(frames).__name__}")
    array = _numpy(frames)
    if array.ndim != 4:
        raise ValueError(f"{name} must have 4 dims (F, 3, H, W) or (F, H, W, 3), got shape {tuple(array.shape)}")
    if array.shape[-1] != 3:
        if array.shape[1] != 3:
            raise ValueError(f"{name} must have 3 channels in dim 1 or the last dim, got shape {tuple(array.shape)}")
        array = array.transpose(0, 2, 3, 1)
    if array.shape[0] == 0 or array.shape[1] == 0 or array.shape[2] == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(array.shape)}")
    return np.ascontiguousarray(_unit_range(array, name, signed))


def as_image(image: ImageLike, name: str = "image", signed: bool | None = None) -> np.ndarray:
    """One image (PIL, or ``(3, H, W)`` / ``(H, W, 3)`` tensor / array) as float64 ``(H, W, 3)`` in ``[0, 1]``.

    ``signed``: a float image's range (``[-1, 1]`` when True), detected when None.
    """
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    if not isinstance(image, (torch.Tensor, np.ndarray)):
        raise ValueError(f"{name} must be a PIL image, torch.Tensor or numpy array, got {type(image).__name__}")
    array = _numpy(image)
    if array.ndim != 3 or 3 not in (array.shape[0], array.shape[-1]):
        raise ValueError(f"{name} must have shape (3, H, W) or (H, W, 3), got {tuple(array.shape)}")
    if array.shape[-1] != 3:
        array = array.transpose(1, 2, 0)
    return np.ascontiguousarray(_unit_range(array, name, signed))


def as_mono_audio(audio: AudioLike, name: str = "audio") -> np.ndarray:
    """Audio ``(S,)`` or ``(C, S)`` float as float64 ``(S,)`` (the mean over channels)."""
    if not isinstance(audio, (torch.Tensor, np.ndarray)):
        raise ValueError(f"{name} must be a torch.Tensor or numpy array, got {type(audio).__name__}")
    array = _numpy(audio)
    if np.issubdtype(array.dtype, np.integer):  # integer PCM (scipy's wavfile, PyAV's s16): by its full scale
        from ltx_video.io.waveforms import float_waveform

        array = float_waveform(array, name).numpy()
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{name} must be float or integer PCM, got dtype {array.dtype}")
    if array.ndim == 2 and array.shape[0] > 8 and array.shape[1] <= 8:
        raise ValueError(
            f"{name} must be (C, S), channels first; got {tuple(array.shape)}, which looks like (S, C): transpose it"
        )
    if array.ndim == 2:
        array = array.mean(axis=0)
    if array.ndim != 1:
        raise ValueError(f"{name} must have shape (S,) or (C, S), got {tuple(array.shape)}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of ``(..., 3)`` RGB -> ``(...)``."""
    return rgb @ _LUMA


def check_positive(value: float, name: str) -> float:
    """``value`` as a float, or :class:`ValueError` naming it if it is not finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # Fraction too: PyAV's stream.average_rate
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value}")
    return value
