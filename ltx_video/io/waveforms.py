"""Waveforms and rates in the forms users pass them, checked and brought to one form.

A waveform arrives as a float tensor, a NumPy array straight from ``scipy.io.wavfile.read`` or ``soundfile``
(often int16), or a Python list. :func:`float_waveform` turns each into float32 samples in [-1, 1]: integer
samples are scaled by their type's full scale, as WAV readers do (int16 / 32768, int32 / 2**31, uint8 centred on
128), so the same sound given as int16 or as float gives the same result; floats are taken as given. NaN or
infinite samples are refused: they reach the audio encoder as NaN and come out as a black video.

Rates arrive as Python ints, NumPy integers (``np.int64(16000)`` from an array's metadata) or whole floats
(``16000.0``); :func:`sample_rate_value` accepts all three.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

__all__ = ["float_waveform", "sample_rate_value"]


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
        audio = np.asarray(audio)
        if audio.dtype == object:
            raise ValueError(f"`{name}` must be a waveform of numbers, got a ragged or mixed list")
    if isinstance(audio, torch.Tensor):
        if audio.dtype == torch.bool or audio.is_complex():
            raise ValueError(f"`{name}` must hold real samples (float, or integer PCM), got dtype {audio.dtype}")
        if not audio.is_floating_point():
            audio = audio.cpu().numpy()  # integer PCM: scaled below with NumPy's type ranges
        else:
            waveform = audio.detach().cpu().float()
    if isinstance(audio, np.ndarray):
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
