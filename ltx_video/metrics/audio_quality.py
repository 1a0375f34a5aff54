"""Objective audio quality of tone bursts, where listening tests would use MOS.

The synthetic world's sound is a tone burst per bounce: a sine at the object's pitch
(``ltx_video.data.synthetic.SHAPE_PITCH_HZ``) with an instantaneous attack and an exponential decay. Three
measurements tell how close a generated track is to that, without listeners:

- :func:`tone_pitch_hz`: the dominant frequency over the loud parts of the track. Short-time spectra
  (64 ms Hann windows, 16 ms hop) of the windows within 20 dB of the loudest are averaged; the peak bin
  is refined by a parabola through the log magnitudes of it and its neighbours (sub-bin: the error on a
  pure tone is well under 1 Hz). Compare with the expected pitch as a ratio in cents,
  ``1200 log2(f / f_expected)``.
- :func:`tone_snr_db`: in the same windows, the energy within +-``band_hz`` (100) of the pitch and of
  its harmonics (up to Nyquist) against all the rest, in dB; for pitches under ``4 band_hz`` the band is
  narrowed to a quarter of the pitch, so the bands cover half the spectrum between harmonics (wider, they
  would cover all of it and white noise alone would read +21 dB at 150 Hz; at a quarter, white noise reads
  about 0 dB, and less where the bands cover less: -6 dB at 1 kHz). The world's own bursts give about 13 dB,
  not more: a 20 ms exponential decay and an instantaneous attack spread the line (a Lorentzian of
  8 Hz half-width keeps about 5 % of its energy beyond +-100 Hz). Hiss, clicks and smeared spectra
  lower it; compare with the real clips' figure.
- :func:`onset_rise_ms`: for each onset (:func:`ltx_video.metrics.sync.audio_onset_times`), the time the
  amplitude envelope (RMS in 2 ms windows at 0.5 ms steps) takes to rise from 10 % to 90 % of its peak:
  the first local maximum of the envelope smoothed over 10 ms after the onset (within 250 ms, before the next
  onset), and the rise starts where the envelope was last under 10 % of it (looking back at most 250 ms, not
  past the previous onset). The median over onsets. An instantaneous attack measures about 1-2 ms (the
  window's own width); a linear ramp of ``T`` ms about ``0.8 T``.

All three return ``nan`` for silence, :func:`onset_rise_ms` also when the track's only onsets are in its first
10 ms (:func:`ltx_video.metrics.sync.audio_onset_times` takes none there), and :func:`tone_pitch_hz` and :func:`tone_snr_db` also for a track
shorter than one 64 ms window (no spectrum to read). Channels are averaged, as everywhere in
:mod:`ltx_video.metrics`: stereo whose channels cancel (one the other inverted) is silence. Every argument after ``audio`` is keyword-only; ``sample_rate``
defaults to an ``AudioTrack``'s own (a pipeline's ``output.audio`` of one video; one of several is refused) and
otherwise to the synthetic world's 16 kHz: pass your track's (a 44.1 kHz 440 Hz tone read at 16 kHz is 160 Hz).
"""

from __future__ import annotations

import numpy as np

from ltx_video.metrics._inputs import AudioLike, as_mono_audio, audio_and_rate, check_positive
from ltx_video.metrics.sync import audio_onset_times

__all__ = ["onset_rise_ms", "tone_pitch_hz", "tone_snr_db"]

_WINDOW_S = 0.064
_HOP_S = 0.016
_LOUD_DB = 20.0


def _audio_and_rate(audio: AudioLike, value) -> tuple[AudioLike, int]:
    """The waveform (an ``AudioTrack``'s own) and a rate whose 64 ms window holds enough samples for a spectrum (and
    whose 0.5 ms step is at least one): ``value``, an ``AudioTrack``'s own when None, else 16000."""
    audio, rate = audio_and_rate(audio, value)
    if rate < _MIN_RATE:
        raise ValueError(f"sample_rate must be at least {_MIN_RATE} samples per second, got {rate:g}")
    return audio, int(rate)


def _unit_peak(signal: np.ndarray) -> np.ndarray:
    """``signal`` scaled to a peak of 1 (these measures do not depend on the level; squares of 1e200 would overflow)."""
    peak = np.abs(signal).max() if signal.size else 0.0
    return signal / peak if peak > 0 else signal


_MIN_RATE = 2000
_RISE_REACH = 500  # envelope steps (0.5 ms): 250 ms


def _loud_spectra(audio: AudioLike, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Power spectra ``(W, K)`` of the Hann windows within ``_LOUD_DB`` of the loudest, and the bin
    frequencies ``(K,)``; ``W = 0`` for silence or audio shorter than a window."""
    signal = _unit_peak(as_mono_audio(audio))
    size = int(round(_WINDOW_S * sample_rate))
    hop = int(round(_HOP_S * sample_rate))
    frequencies = np.fft.rfftfreq(size, 1.0 / sample_rate)
    if len(signal) < size:
        return np.zeros((0, len(frequencies))), frequencies
    frames = np.lib.stride_tricks.sliding_window_view(signal, size)[::hop]
    energy = (frames**2).sum(axis=1)
    if not energy.max() > 0:
        return np.zeros((0, len(frequencies))), frequencies
    loud = frames[energy >= energy.max() * 10 ** (-_LOUD_DB / 10)]
    return np.abs(np.fft.rfft(loud * np.hanning(size), axis=1)) ** 2, frequencies


def _peak_frequency(spectra: np.ndarray, frequencies: np.ndarray) -> float:
    """The peak of the mean spectrum (not DC), refined by a parabola through the log magnitudes."""
    mean = spectra.mean(axis=0)
    peak = int(np.argmax(mean[1:])) + 1
    if peak == 1 and mean[0] >= mean[1]:  # the window's leak of a constant offset, not a tone: none to read
        return float("nan")
    if peak + 1 >= len(mean):
        return float(frequencies[peak])
    left, middle, right = np.log(mean[peak - 1 : peak + 2] + 1e-30)
    denominator = left - 2 * middle + right
    shift = 0.5 * (left - right) / denominator if denominator < 0 else 0.0
    return float(frequencies[peak] + np.clip(shift, -0.5, 0.5) * (frequencies[1] - frequencies[0]))


def tone_pitch_hz(audio: AudioLike, *, sample_rate: int | None = None) -> float:
    """The dominant frequency in Hz of the track's loud parts (see the module docstring); ``nan`` for silence
    (channels that cancel when averaged included) and for a track shorter than 64 ms."""
    audio, sample_rate = _audio_and_rate(audio, sample_rate)
    spectra, frequencies = _loud_spectra(audio, sample_rate)
    return _peak_frequency(spectra, frequencies) if len(spectra) else float("nan")


def tone_snr_db(
    audio: AudioLike, *, sample_rate: int | None = None, pitch_hz: float | None = None, band_hz: float = 100.0
) -> float:
    """Energy near the pitch and its harmonics against the rest, in dB (see the module docstring).

    Args:
        audio: ``(S,)`` or ``(C, S)`` float (a ``(2, S)`` is stereo), or an ``AudioTrack`` of one video.
        sample_rate: samples per second; None: an ``AudioTrack``'s own, else 16000.
        pitch_hz: the tone's pitch; :func:`tone_pitch_hz` of the track when None.
        band_hz: half-width of the band counted as the tone around each harmonic (a 64 ms Hann window's
            main lobe is about +-31 Hz; a burst decaying in 20 ms spreads its line further); at most a
            quarter of the pitch is used.
    """
    audio, sample_rate = _audio_and_rate(audio, sample_rate)
    band_hz = check_positive(band_hz, "band_hz")
    spectra, frequencies = _loud_spectra(audio, sample_rate)
    if not len(spectra):
        return float("nan")
    if pitch_hz is not None and check_positive(pitch_hz, "pitch_hz") < frequencies[1]:  # a harmonic per bin or more
        raise ValueError(f"pitch_hz must be at least the spectrum's resolution, {frequencies[1]:.1f} Hz, got {pitch_hz:g}")
    pitch = _peak_frequency(spectra, frequencies) if pitch_hz is None else float(pitch_hz)
    if not pitch >= frequencies[1] / 2:  # no tone read (a constant offset), or below what a window resolves
        return float("nan")
    harmonics = pitch * np.arange(1, int(frequencies[-1] // pitch) + 1)
    if not len(harmonics):
        return float("nan")
    band = min(band_hz, pitch / 4)  # the bands never cover more than half the spectrum (module docstring)
    tone = (np.abs(frequencies[:, None] - harmonics[None, :]) <= band).any(axis=1)
    total = spectra.sum(axis=0)
    signal, rest = total[tone].sum(), total[~tone].sum()
    return float("inf") if rest <= 0 else float(10 * np.log10(signal / rest))


def onset_rise_ms(audio: AudioLike, *, sample_rate: int | None = None) -> float:
    """Median 10-90 % rise time in ms of the amplitude envelope at the track's onsets; ``nan`` without one,
    which includes a burst starting in the first 10 ms: :func:`audio_onset_times` takes no onset there (sound
    already playing at t = 0 cannot be told from one), so an attack at 0 or 5 ms reads ``nan``, at 20 ms 1.5 ms."""
    audio, sample_rate = _audio_and_rate(audio, sample_rate)
    signal = _unit_peak(as_mono_audio(audio))
    onsets = audio_onset_times(signal, sample_rate)
    if not len(onsets):
        return float("nan")
    step = sample_rate / 2000.0  # 0.5 ms
    half = int(round(0.001 * sample_rate))  # a 2 ms window
    cumulative = np.concatenate([[0.0], np.cumsum(signal**2)])
    centres = np.arange(0, len(signal), step).round().astype(np.int64)
    lo = np.clip(centres - half, 0, len(signal))
    hi = np.clip(centres + half, 0, len(signal))
    envelope = np.sqrt((cumulative[hi] - cumulative[lo]) / np.maximum(hi - lo, 1))
    # the peak of a burst is the first maximum of the envelope smoothed over 10 ms (not a ripple of the tone)
    smooth = np.convolve(envelope, np.ones(21) / 21, mode="same")
    marks = np.round(np.asarray(onsets) * 2000).astype(np.int64)
    rises = []
    for index, mark in enumerate(marks):
        stop = min(len(envelope), mark + _RISE_REACH, marks[index + 1] if index + 1 < len(marks) else len(envelope))
        start = max(0, mark - _RISE_REACH, marks[index - 1] if index else 0)
        if stop - mark < 3:
            continue
        after = smooth[mark:stop]
        falls = np.flatnonzero(np.diff(after) < 0)
        crest = mark + (int(falls[0]) if len(falls) else len(after) - 1)
        # the envelope's own maximum within 5 ms of the smoothed crest
        around = slice(max(start, crest - 10), min(stop, crest + 11))
        top = around.start + int(np.argmax(envelope[around]))
        peak = envelope[top]
        if not peak > 0:
            continue
        rising = envelope[start : top + 1]
        below = np.flatnonzero(rising < 0.1 * peak)
        first = below[-1] + 1 if len(below) else 0
        reach = first + int(np.argmax(rising[first:] >= 0.9 * peak))
        rises.append((reach - first) * 0.5)
    return float(np.median(rises)) if rises else float("nan")
