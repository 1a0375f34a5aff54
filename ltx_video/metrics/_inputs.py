"""Input normalisation shared by the metrics: frames, single images and audio as float64 numpy.

Accepted frames: a tensor / array ``(F, 3, H, W)`` or ``(F, H, W, 3)``, either uint8 (``0..255``) or float; a
shape with 3 in both dim 1 and the last dim (``(F, 3, H, 3)``: 3 pixels wide channels-first or 3 high
channels-last) fits both layouts and is refused (since 2026-12-07: it was read as channels-last, as
:mod:`ltx_video.io.media` still reads it); images ``(3, H, 3)`` likewise. Floats are read as ``[-1, 1]`` when their minimum is below -0.1 and as
``[0, 1]`` otherwise (a decoder's undershoot of a few hundredths below 0 leaves a ``[0, 1]`` video in
``[0, 1]``), so a ``[-1, 1]`` video with no value below -0.1 (nothing darker than 45 % grey) is misread;
pass such videos rescaled to ``[0, 1]``. A list of PIL images of one size (a pipeline's ``output_type="pil"``
frames) is read as uint8 frames; a pipeline's whole output (a list of such lists, a 5-D batch) is refused with
the hint to pass one video, ``output.frames[0]``. Audio: float, or integer PCM scaled by its type's full scale
(int16 as ``/ 32768``), ``(S,)`` or ``(C, S)`` (channels, averaged: a bare ``(2, S)`` is stereo), or an
:class:`~ltx_video.io.waveforms.AudioTrack` of one video (its waveform at its sample rate).
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


def _is_pil_list(value) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, Image.Image) for v in value)


_ONE_VIDEO = "a batch of videos (a pipeline's whole output): pass one video, `output.frames[0]`"


def _check_one_size(images, name: str) -> None:
    sizes = sorted({image.size for image in images})
    if len(sizes) > 1:  # NumPy's own "all input arrays must have the same shape" names nothing
        raise ValueError(f"{name} must be PIL images of one size, got sizes (width, height) {sizes}")


def stack_pil(images, name: str) -> np.ndarray:
    """A list of PIL images of one size as uint8 ``(N, H, W, 3)``; a ValueError naming ``name`` when sizes differ."""
    _check_one_size(images, name)
    return np.stack([np.asarray(image.convert("RGB")) for image in images])


def channels_first(shape: tuple[int, ...], name: str) -> bool:
    """Whether an image / frames ``shape`` has its 3 channels at dim -3 (``(..., 3, H, W)``) rather than last;
    ValueError naming ``name`` when neither is 3, or when both are (``(..., 3, H, 3)``: either layout fits)."""
    first, last = len(shape) >= 3 and shape[-3] == 3, bool(shape) and shape[-1] == 3
    if first and last:
        raise ValueError(f"{name} has shape {tuple(shape)}: 3 in dim {len(shape) - 3} and in the last dim fits both "
                         "(..., 3, H, W) with W = 3 and (..., H, W, 3) with H = 3; give a frame 3 pixels wide as "
                         "(..., H, 3, 3), one 3 pixels high as (..., 3, 3, W)")
    if not (first or last):
        raise ValueError(f"{name} must have 3 channels in dim {max(len(shape) - 3, 0)} or the last dim, got shape "
                         f"{tuple(shape)}")
    return first


def frame_count(frames: FramesLike, name: str = "frames") -> int:
    """The number of frames of a video in any form :func:`as_frames` accepts, from its shape alone (nothing is
    converted): refuses what :func:`as_frames` would refuse for its shape or type."""
    if isinstance(frames, (list, tuple)) and frames and all(_is_pil_list(f) for f in frames):
        raise ValueError(f"{name} is a list of {len(frames)} lists of PIL images, {_ONE_VIDEO}")
    if _is_pil_list(frames):
        _check_one_size(frames, name)
        return len(frames)
    if not isinstance(frames, (torch.Tensor, np.ndarray)):
        raise ValueError(f"{name} must be a torch.Tensor, numpy array or list of PIL images, got {type(frames).__name__}")
    shape = tuple(frames.shape)
    if len(shape) == 5:
        raise ValueError(f"{name} must have 4 dims (F, 3, H, W) or (F, H, W, 3), got shape {shape}: {_ONE_VIDEO}")
    if len(shape) != 4:
        raise ValueError(f"{name} must have 4 dims (F, 3, H, W) or (F, H, W, 3), got shape {shape}")
    spatial = shape[2:] if channels_first(shape, name) else shape[1:3]
    if shape[0] == 0 or 0 in spatial:
        raise ValueError(f"{name} must not be empty, got shape {shape}")
    return shape[0]


def as_frames(frames: FramesLike, name: str = "frames", signed: bool | None = None) -> np.ndarray:
    """Frames as float64 ``(F, H, W, 3)`` in ``[0, 1]`` (see the module docstring for the inputs); ``signed``: a float
    video's range (``[-1, 1]`` when True), detected when None."""
    frame_count(frames, name)  # the layout refused before any conversion
    if _is_pil_list(frames):
        frames = stack_pil(frames, name)  # a pipeline's output_type="pil" frames
    array = _numpy(frames)
    if channels_first(array.shape, name):
        array = array.transpose(0, 2, 3, 1)
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
    if channels_first(array.shape, name):
        array = array.transpose(1, 2, 0)
    return np.ascontiguousarray(_unit_range(array, name, signed))


DEFAULT_SAMPLE_RATE = 16000  # the synthetic world's (ltx_video.data.synthetic)


def audio_and_rate(audio, sample_rate: float | None, name: str = "audio") -> tuple[AudioLike, float]:
    """``(waveform, sample rate)``: an :class:`~ltx_video.io.waveforms.AudioTrack` (a pipeline's ``output.audio``) or
    a ``(waveform, rate)`` pair gives its own, and a ``sample_rate`` given beside it must agree; a track of several
    videos is refused (its rows are videos, not channels), as :func:`ltx_video.io.waveforms.waveform_and_rate`
    does. Other audio is returned as it is, with ``sample_rate`` (16000 when None)."""
    if isinstance(audio, tuple):
        from ltx_video.io.waveforms import waveform_and_rate

        audio, sample_rate = waveform_and_rate(audio, sample_rate, name, rate_name="sample_rate")
    return audio, check_positive(DEFAULT_SAMPLE_RATE if sample_rate is None else sample_rate, "sample_rate")


def as_mono_audio(audio: AudioLike, name: str = "audio") -> np.ndarray:
    """Audio ``(S,)`` or ``(C, S)`` float as float64 ``(S,)`` (the mean over channels: a ``(2, S)`` is stereo, never
    two videos); an ``AudioTrack`` goes through :func:`audio_and_rate` first, for its rate."""
    if not isinstance(audio, (torch.Tensor, np.ndarray)):
        raise ValueError(f"{name} must be a torch.Tensor, numpy array or AudioTrack, got {type(audio).__name__}")
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
