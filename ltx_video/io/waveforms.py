"""Waveforms and rates in the forms users pass them, checked and brought to one form.

A waveform arrives as a float tensor, a NumPy array straight from ``scipy.io.wavfile.read`` or ``soundfile``
(often int16), or a Python list. :func:`float_waveform` turns each into float32 samples in [-1, 1]: integer
samples are scaled by their type's full scale, as WAV readers do (int16 / 32768, int32 / 2**31, uint8 centred on
128), so the same sound given as int16 or as float gives the same result; floats are taken as given. NaN or
infinite samples are refused: they reach the audio encoder as NaN and come out as a black video.

Rates arrive as Python ints, NumPy integers (``np.int64(16000)`` from an array's metadata) or whole floats
(``16000.0``); :func:`sample_rate_value` accepts all three. A sound may also come as the pair ``torchaudio.load``
returns and audio pipelines return as ``output.audio`` (an :class:`AudioTrack`): :func:`waveform_and_rate` splits it.

Channels come first, ``(C, S)``, or a mono waveform is ``(S,)``; WAV readers (``scipy.io.wavfile.read``, ``soundfile``)
give ``(S, C)``, which :func:`planar_waveform` turns to ``(C, S)`` when ``C`` is 1 or 2 and ``S`` is more (diffusers'
``encode_video`` takes ``(S, 2)`` too); ``(2, S)`` stays stereo.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
import torch

__all__ = ["AudioTrack", "float_waveform", "mark_video_rows", "planar_waveform", "sample_rate_value", "waveform_and_rate"]


class AudioTrack(NamedTuple):
    """An audio pipeline's ``output.audio``: ``waveform`` (B, S) float in [-1, 1], one row per video, and its
    ``sample_rate``. A tuple, so ``waveform, sample_rate = output.audio`` reads it as before."""

    waveform: torch.Tensor
    sample_rate: int


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def waveform_and_rate(audio, sample_rate, name: str = "audio", rate_name: str = "audio_sample_rate"):
    """``(waveform, rate)``: from a ``(waveform, rate)`` pair in ``audio`` (``torchaudio.load``'s (C, S) and rate, or
    a pipeline's ``output.audio`` of one video) or a ``(rate, waveform)`` pair (``scipy.io.wavfile.read``'s), else ``(audio, sample_rate)`` as given. A rate given beside a pair
    must agree with it; an ``output.audio`` of several videos must be indexed (its rows are videos, not channels)."""
    if (isinstance(audio, tuple) and len(audio) == 2 and _is_number(audio[0]) and not _is_number(audio[1])
            and not isinstance(audio, AudioTrack)):
        audio = (audio[1], audio[0])  # scipy.io.wavfile.read's order, (rate, data): unambiguous, a rate is one number
    if not (isinstance(audio, tuple) and len(audio) == 2 and _is_number(audio[1]) and not _is_number(audio[0])):
        return audio, sample_rate
    waveform, rate = audio
    if isinstance(audio, AudioTrack) and getattr(waveform, "ndim", 0) == 2 and waveform.shape[0] > 1:
        raise ValueError(f"`{name}` is an `output.audio` of {waveform.shape[0]} videos (one row each, not channels): "
                         f"pass one, `(output.audio.waveform[i], output.audio.sample_rate)`")
    rate = sample_rate_value(rate, f"the sample rate in `{name}`")
    if sample_rate is not None and sample_rate_value(sample_rate, f"`{rate_name}`") != rate:
        raise ValueError(f"`{rate_name}`={sample_rate!r} disagrees with the rate in the `{name}` pair ({rate})")
    return waveform, rate


def sample_rate_value(value, name: str = "sample_rate") -> int:
    """``value`` as a positive ``int`` (NumPy integers and whole floats accepted), else a ValueError naming ``name``."""
    if not isinstance(value, bool) and isinstance(value, numbers.Integral) and value > 0:
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer() and value > 0:
        return int(value)
    raise ValueError(f"{name} must be a positive whole number of samples per second, got {value!r}")


def _full_scale(dtype: np.dtype) -> tuple[float, float]:
    """(offset, scale) taking integer samples of ``dtype`` to [-1, 1] as WAV readers do."""
    info = np.iinfo(dtype)
    if info.min == 0:  # unsigned: centred on the middle of the range (8-bit WAV is uint8 around 128)
        middle = (int(info.max) + 1) // 2
        return float(middle), float(middle)
    return 0.0, float(-int(info.min))


def float_waveform(audio, name: str = "audio") -> torch.Tensor:
    """``audio`` (tensor, array or list; any shape) as a float32 CPU tensor in the same shape: integers scaled to
    [-1, 1] by their type's full scale, floats as given. Bool samples and NaN / infinite ones are refused."""
    if isinstance(audio, (list, tuple)):
        try:
            audio = np.asarray(audio)
        except ValueError:  # NumPy >= 1.24 refuses ragged nesting itself
            audio = np.empty(0, dtype=object)
        if audio.dtype == object:
            raise ValueError(f"`{name}` must be a waveform of numbers, got a ragged or mixed list")
        if audio.dtype.kind in "iub":  # Python ints carry no PCM width: 20000 as int16 is loud, as int64 silent
            raise ValueError(f"`{name}` as a list must hold float samples in [-1, 1]; give integer PCM as a NumPy "
                             "array or tensor of int16, int32 or uint8 (as WAV readers return it)")
    if isinstance(audio, torch.Tensor):
        if audio.dtype == torch.bool or audio.is_complex():
            raise ValueError(f"`{name}` must hold real samples (float, or integer PCM), got dtype {audio.dtype}")
        if not audio.is_floating_point():
            audio = audio.cpu().numpy()  # integer PCM: scaled below with NumPy's type ranges
        else:
            waveform = audio.detach().cpu().float()
    if isinstance(audio, np.ndarray):
        if audio.dtype.kind in "iu" and audio.dtype.itemsize > 4:  # no PCM format is 64-bit: its full scale is a guess
            raise ValueError(f"`{name}` holds {audio.dtype} samples; integer PCM must be int16, int32 or uint8 (as WAV "
                             "readers return it), or give floats in [-1, 1]")
        if audio.dtype.kind in "iu":
            offset, scale = _full_scale(audio.dtype)
            waveform = torch.from_numpy((audio.astype(np.float64) - offset) / scale).float()
        elif audio.dtype.kind == "f":
            waveform = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
        else:
            raise ValueError(f"`{name}` must hold real samples (float, or integer PCM), got dtype {audio.dtype}")
    elif not isinstance(audio, torch.Tensor):
        raise ValueError(f"`{name}` must be a waveform (a tensor, a NumPy array or a list of samples), got "
                         f"{type(audio).__name__}")
    if not torch.isfinite(waveform).all():
        raise ValueError(f"`{name}` holds NaN or infinite samples")
    return waveform


def mark_video_rows(waveform: torch.Tensor) -> torch.Tensor:
    """Mark an ``output.audio.waveform`` of several videos (one row each) so that a writer refuses it whole: diffusers'
    LTX-2 code writes ``audio[0]``, its first video's sound (B, C, S)[0], and here ``audio[0]`` is the whole (B, S)
    waveform, whose two rows read as stereo channels (another video's sound in the right channel). A row taken from
    it (``waveform[i]``) is a new tensor, unmarked."""
    if waveform.ndim == 2 and waveform.shape[0] > 1:
        waveform._ltx_video_rows = waveform.shape[0]
    return waveform


def planar_waveform(audio, name: str = "audio", video_rows: bool = False) -> torch.Tensor:
    """``audio`` as :func:`float_waveform` gives it, shaped ``(S,)`` or ``(C, S)`` with C in {1, 2}: ``(S, C)`` channels
    last (a WAV reader's, S > 2) is transposed; any other shape is a ValueError naming ``name`` and the shapes taken.
    A waveform of several videos' sounds (:func:`mark_video_rows`) is refused unless ``video_rows`` (a function that
    treats each row on its own, as ``resample_audio`` does). The mark is on the tensor object: a copy
    (``.clone()``, ``.numpy()``) is not marked, and is read as channels."""
    rows = getattr(audio, "_ltx_video_rows", 1)
    if rows > 1 and not video_rows:
        raise ValueError(f"`{name}` holds the sounds of {rows} videos (output.audio.waveform, one row per video; "
                         "diffusers' audio[0] is the first video's), not stereo channels: pass one video's, "
                         "output.audio.waveform[i]")
    waveform = float_waveform(audio, name)
    shape = tuple(waveform.shape)
    if len(shape) == 2 and shape[0] not in (1, 2) and shape[1] in (1, 2):
        waveform = waveform.T.contiguous()
    if waveform.ndim not in (1, 2) or (waveform.ndim == 2 and waveform.shape[0] not in (1, 2)):
        raise ValueError(f"{name} must have shape (S,), (1, S) or (2, S) (or (S, 1) / (S, 2) as WAV readers return "
                         f"it), got {shape}")
    return waveform
