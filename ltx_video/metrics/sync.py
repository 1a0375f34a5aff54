"""Audio-video synchronisation: motion events in the video against sound onsets in the audio.

Video events are the velocity changes of moving objects, such as bounces
(:func:`ltx_video.metrics.motion_events.video_motion_events`).

Audio onsets (:func:`audio_onset_envelope`): the mean energy of the signal in a centred 4 ms window
at a 1 ms hop, its central difference over +-1 ms, half-wave rectified. An instantaneous attack at
time ``t`` gives a symmetric trapezoid (6 ms at its base) centred on ``t``, so onset times are not
biased by the window; the exponential decay of a burst only tilts it slightly.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from ltx_video.metrics._inputs import AudioLike, FramesLike, as_mono_audio, audio_and_rate, check_positive, frame_count
from ltx_video.metrics.motion_events import video_motion_events

__all__ = [
    "align_score_from_times",
    "audio_onset_envelope",
    "audio_onset_times",
    "av_align_score",
    "av_sync_offset_ms",
    "offset_from_events_ms",
]

_ENERGY_WINDOW_MS = 4
_VIDEO_SIGMA_MS = 8.0
_AUDIO_SIGMA_MS = 4.0
_ONSET_FLOOR = 0.1  # onset peaks below this fraction of the strongest are not onsets
_ONSET_SEPARATION_MS = 20
# An onset's mean power over the 10 ms after it against 60-20 ms before it (before a slow attack began): 10 ms is
# a whole number of half periods of a 50 or 100 Hz hum, whose mean power it then reads exactly. 3 dB.
_AFTER_MS, _BEFORE_MS, _RISE_RATIO = 10, (60, 20), 2.0
# Before 10 ms (a 50 Hz hum's half period) the sound from the start to a peak is too short a reference to tell a
# rise from the ripple of sound already playing at t = 0: a hum starting near a zero crossing read an onset at
# 2-5 ms. The video's events within a frame of the start are not found either, so nothing matchable is lost.
_FIRST_ONSET_MS = 10
# A container's audio often runs a few frames (even ~0.5 s of a 2 s clip) longer or shorter than its video; a
# sample rate mistaken for another (16 kHz for 44.1 or 48 kHz, 22.05 for 44.1) makes it 2-3 times off.
_DURATION_RATIO = 1.5


def _warn_on_duration_mismatch(frame_total: int, audio: AudioLike, fps: float, sample_rate: float) -> None:
    """One warning when the audio, read at ``sample_rate``, lasts over ``_DURATION_RATIO`` times longer or
    shorter than the ``frame_total / fps`` s of video: a wrong ``sample_rate`` gives finite, plausible offsets
    and scores (the onsets land at the wrong times), so it must not pass in silence. 44.1 kHz read as 48 kHz
    (9 % off) is within what a clip's audio may legitimately differ by, and is not caught. Call it once the
    frames' shape is known good (:func:`frame_count`): a batch's frame count would make it name the wrong cause."""
    video_s = frame_total / fps
    audio_s = np.shape(audio)[-1] / sample_rate if np.ndim(audio) else 0.0
    if video_s > 0 and audio_s > 0 and not 1 / _DURATION_RATIO <= audio_s / video_s <= _DURATION_RATIO:
        warnings.warn(
            f"the audio lasts {audio_s:.2f} s at sample_rate={sample_rate:g} but the video {video_s:.2f} s "
            f"({frame_total} frames at {fps:g} fps): is sample_rate the audio's?",
            UserWarning,
            stacklevel=3,
        )


def audio_onset_envelope(audio: AudioLike, sample_rate: int | None = None) -> np.ndarray:
    """Onset strength at a 1 ms hop, see the module docstring.

    Args:
        audio: ``(S,)`` or ``(C, S)`` float (channels are averaged: a ``(2, S)`` is stereo), or an
            ``AudioTrack`` of one video.
        sample_rate: samples per second; None: an ``AudioTrack``'s own, else 16000 (given beside a track, it must
            agree with the track's).

    Returns:
        float64 ``(ceil(S / sample_rate * 1000),)``: value ``m`` is the onset strength at ``m`` ms, in
        energy per ms (0 where the energy does not rise).
    """
    audio, sample_rate = audio_and_rate(audio, sample_rate)
    signal = as_mono_audio(audio)
    hop = sample_rate / 1000.0
    count = int(np.ceil(len(signal) / hop))
    if count == 0:
        return np.zeros(0)
    cumulative = np.concatenate([[0.0], np.cumsum(signal**2)])
    centres = np.arange(count) * hop
    half = _ENERGY_WINDOW_MS / 2 * hop

    def energy(at: np.ndarray) -> np.ndarray:
        lo = np.clip(np.round(at - half), 0, len(signal)).astype(np.int64)
        hi = np.clip(np.round(at + half), 0, len(signal)).astype(np.int64)
        # the mean over the samples the window holds: divided by its full length, a window cut by the start read
        # sound already playing at t = 0 (a hum, a held tone, DC) as rising, an onset (since 2026-12-07)
        return (cumulative[hi] - cumulative[lo]) / np.maximum(hi - lo, 1)

    return np.maximum(energy(centres + hop) - energy(centres - hop), 0.0) / 2.0


def _gaussian_smooth(signal: np.ndarray, sigma: float) -> np.ndarray:
    if signal.size == 0:  # no audio at all: nothing to smooth (np.convolve refuses an empty array)
        return np.zeros(0)
    radius = int(np.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    # "full" then the centred slice: the same length as ``signal`` even when it is shorter than the taps
    return np.convolve(signal, taps / taps.sum(), mode="full")[radius : radius + len(signal)]


def _parabolic_vertex(values: np.ndarray, index: int) -> float:
    if 0 < index < len(values) - 1:
        left, middle, right = values[index - 1], values[index], values[index + 1]
        denominator = left - 2 * middle + right
        if denominator < 0:
            return index + float(np.clip(0.5 * (left - right) / denominator, -0.5, 0.5))
    return float(index)


def offset_from_events_ms(
    times: np.ndarray,
    strengths: np.ndarray,
    envelope: np.ndarray,
    max_offset_ms: float = 500,
) -> float:
    """Offset in ms of an onset envelope against video events; positive when the audio is late.

    The events become a 1 ms pulse train, each a Gaussian of sigma 8 ms scaled by its strength
    normalised to the strongest; the envelope (1 ms hop, :func:`audio_onset_envelope`) is smoothed
    by a Gaussian of sigma 4 ms and normalised to its maximum. The offset maximises their
    cross-correlation ``c(L) = sum_m video(m) * audio(m + L)`` over integer lags
    ``|L| <= max_offset_ms``, refined to sub-millisecond by a parabola through the peak and its
    neighbours. So an audio track delayed by ``d`` ms gives ``+d``. The correlation is also taken one lag past
    each end of the range: when its largest value lies there, or the refined peak beyond ``max_offset_ms``, the
    correlation still rises at the edge, so the true offset may be outside the range: ``nan`` and a
    ``UserWarning`` naming ``max_offset_ms`` (a peak between two events' sounds inside the range, a bounce's sound
    paired with the next bounce's picture, cannot be told from the true one this way and is returned).

    Args:
        times, strengths: ``(E,)`` event times in seconds and their strengths (> 0), as returned by
            :func:`video_motion_events`.
        envelope: ``(M,)`` onset strength at ``m`` ms.
        max_offset_ms: the largest offset searched, > 0.

    Returns:
        The offset in ms, or ``nan`` when there is no event or no onset, or the peak is not inside the range.
    """
    max_offset_ms = check_positive(max_offset_ms, "max_offset_ms")
    times, strengths = np.asarray(times, np.float64), np.asarray(strengths, np.float64)
    if times.shape != strengths.shape or times.ndim != 1:
        raise ValueError(f"times and strengths must be 1-D and as long as each other, got {times.shape} and {strengths.shape}")
    if not (np.isfinite(times).all() and np.isfinite(strengths).all()):
        raise ValueError("times and strengths must be finite")
    # one lag past each end, so that a peak at the edge can be told from a correlation still rising there
    lags, correlation = _lag_correlation(times, strengths, envelope, max_offset_ms + 1)
    if not correlation.max() > 0:
        return float("nan")
    best = int(np.argmax(correlation))
    offset = lags[0] + _parabolic_vertex(correlation, best)
    if best in (0, len(lags) - 1) or abs(offset) > max_offset_ms:
        # before 2026-12-07 the in-range edge was returned: 190.0 for audio 200 ms late searched within 190 ms
        warnings.warn(
            f"the audio-video offset may be outside max_offset_ms={max_offset_ms:g}: the cross-correlation is "
            f"largest at the edge of the range searched ({lags[best]:+d} ms); pass a larger max_offset_ms",
            UserWarning,
            stacklevel=2,
        )
        return float("nan")
    return float(offset)


def _lag_correlation(times, strengths, envelope, max_offset_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """``(lags, c(lags))`` of :func:`offset_from_events_ms`, integer lags in ms; ``c`` all 0 when a side is empty."""
    times = np.asarray(times, np.float64)
    strengths = np.asarray(strengths, np.float64)
    envelope = np.asarray(envelope, np.float64)
    max_lag = int(np.ceil(max_offset_ms))
    lags = np.arange(-max_lag, max_lag + 1)
    if len(times) == 0 or envelope.size == 0 or not envelope.max() > 0 or not strengths.max() > 0:
        return lags, np.zeros(len(lags))
    duration_ms = max(len(envelope), int(np.ceil(times.max() * 1000)) + 1)
    pad = max_lag + int(np.ceil(4 * _VIDEO_SIGMA_MS))
    grid = np.arange(-pad, duration_ms + pad, dtype=np.float64)
    video_signal = np.zeros_like(grid)
    for time, strength in zip(times, strengths / strengths.max(), strict=True):
        video_signal += strength * np.exp(-0.5 * ((grid - time * 1000.0) / _VIDEO_SIGMA_MS) ** 2)
    audio_signal = np.zeros_like(grid)
    audio_signal[pad : pad + len(envelope)] = _gaussian_smooth(envelope, _AUDIO_SIGMA_MS)
    audio_signal /= audio_signal.max()
    centre = video_signal[pad:-pad]
    return lags, np.array([np.dot(centre, audio_signal[pad + lag : len(grid) - pad + lag]) for lag in lags])


def av_sync_offset_ms(
    frames: FramesLike,
    audio: AudioLike,
    fps: float,
    sample_rate: int | None = None,
    max_offset_ms: float = 500,
) -> float:
    """Offset of the audio against the video in milliseconds; positive when the audio is late.

    Cross-correlation, at 1 ms resolution with a parabolic peak refinement, of the video's motion
    events (:func:`video_motion_events`) with the audio's onset envelope
    (:func:`audio_onset_envelope`), over offsets within ``+-max_offset_ms``; see
    :func:`offset_from_events_ms`. An audio track delayed by ``d`` ms (silence padded at the start)
    gives ``+d``.

    Args:
        frames: ``(F, 3, H, W)`` or ``(F, H, W, 3)``, float in ``[0, 1]`` / ``[-1, 1]`` or uint8.
        audio: ``(S,)`` or ``(C, S)`` float at ``sample_rate`` (a ``(2, S)`` is stereo), or an ``AudioTrack`` of one
            video.
        fps: frame rate of ``frames``.
        sample_rate: audio samples per second; None: an ``AudioTrack``'s own, else 16000. A ``UserWarning`` names
            it when the audio then lasts over 1.5 times longer or shorter than the video (a 44.1 or 48 kHz track
            left at the default 16000); the frames' shape is checked first.
        max_offset_ms: the largest offset searched, > 0.

    Returns:
        The offset in ms, or ``nan`` when the video has no motion event or the audio no onset
        (:func:`audio_onset_times` empty: silence, or a steady sound such as a drone, a held tone or a hum), or,
        with a ``UserWarning`` naming ``max_offset_ms``, when the correlation peaks at the edge of the range (see
        :func:`offset_from_events_ms`).
    """
    fps = check_positive(fps, "fps")
    max_offset_ms = check_positive(max_offset_ms, "max_offset_ms")
    frame_total = frame_count(frames)  # a batch of videos is refused before a warning about its duration
    audio, sample_rate = audio_and_rate(audio, sample_rate)
    envelope = audio_onset_envelope(audio, sample_rate)
    _warn_on_duration_mismatch(frame_total, audio, fps, sample_rate)
    if not envelope.size or not envelope.max() > 0 or not len(audio_onset_times(audio, sample_rate)):
        # silence, or sound without an onset (a drone, a held tone, a hum: the ripple of their 4 ms energy, a few %
        # of their power, gave an arbitrary offset; since 2026-12-07): no need to look at the video
        return float("nan")
    times, strengths = video_motion_events(frames, fps)
    return offset_from_events_ms(times, strengths, envelope, max_offset_ms)


def _peak_indices(signal: np.ndarray, threshold: float, min_separation: int) -> np.ndarray:
    """Local maxima of ``signal`` above ``threshold``, strongest first kept at least ``min_separation`` apart."""
    if signal.size < 3:
        return np.zeros(0, np.int64)
    interior = (signal[1:-1] > signal[:-2]) & (signal[1:-1] >= signal[2:]) & (signal[1:-1] > threshold)
    candidates = np.flatnonzero(interior) + 1
    kept: list[int] = []
    for index in candidates[np.argsort(-signal[candidates])]:
        if all(abs(index - other) >= min_separation for other in kept):
            kept.append(int(index))
    return np.sort(np.asarray(kept, np.int64))


def audio_onset_times(audio: AudioLike, sample_rate: int | None = None) -> np.ndarray:
    """Onset times in seconds ``(K,)``: local maxima of the onset envelope (:func:`audio_onset_envelope`,
    smoothed by a Gaussian of sigma 4 ms) above 10 % of its maximum, at least 20 ms apart, where the sound
    gets louder: its mean power over the 10 ms after the peak at least twice that from 60 to 20 ms before
    it, or, within 30 ms of the start, than that from the start to the peak (so the ripple of a hum or a held
    low tone, whose 4 ms energy rises and falls every half period, is no onset, while an attack of up to about
    100 ms is). Within 60 ms of the onset before it, where that window holds the last sound, a peak must instead
    carry 1.5 times the power of the 10 ms just before it (a ripple of the sound that just started does not, a
    second bounce does). None in the first 10 ms, where sound already playing at t = 0 cannot be told from an
    onset (since 2026-12-07); empty for silence. ``audio`` and ``sample_rate`` as in :func:`audio_onset_envelope`."""
    audio, sample_rate = audio_and_rate(audio, sample_rate)
    signal = as_mono_audio(audio)
    envelope = _gaussian_smooth(audio_onset_envelope(signal, sample_rate), _AUDIO_SIGMA_MS)
    if envelope.size == 0 or not envelope.max() > 0:
        return np.zeros(0)
    peaks = _peak_indices(envelope, _ONSET_FLOOR * envelope.max(), _ONSET_SEPARATION_MS)
    peaks = peaks[peaks >= _FIRST_ONSET_MS]  # (since 2026-12-07)
    cumulative = np.concatenate([[0.0], np.cumsum(signal**2)])
    at = np.clip(np.round(peaks * sample_rate / 1000.0).astype(np.int64), 0, len(signal))

    def power(start: np.ndarray, stop: np.ndarray) -> np.ndarray:  # mean power over [start, stop) (0 if empty)
        start, stop = np.clip(start, 0, len(signal)), np.clip(stop, 0, len(signal))
        return (cumulative[stop] - cumulative[start]) / np.maximum(stop - start, 1)

    ms = sample_rate / 1000.0
    after = power(at, at + int(round(_AFTER_MS * ms)))
    # near the start, with under 10 ms of that window left, against everything before the peak
    early = at - int(round(_BEFORE_MS[1] * ms)) < int(round(10 * ms))
    before = np.where(early, power(np.zeros_like(at), at),
                      power(at - int(round(_BEFORE_MS[0] * ms)), at - int(round(_BEFORE_MS[1] * ms))))
    # a peak soon after an onset must also be louder than the 10 ms just before it: not a ripple of what started
    near = power(at - int(round(10 * ms)), at)
    kept: list[int] = []
    for index, peak in enumerate(peaks):
        if kept and peak - kept[-1] < _BEFORE_MS[0]:  # the sound before it is the last onset's, still ringing
            louder = after[index] >= 1.5 * near[index]
        else:
            louder = after[index] >= _RISE_RATIO * before[index]
        if louder:
            kept.append(int(peak))
    return np.asarray(kept, np.float64) / 1000.0


def align_score_from_times(audio_times: np.ndarray, video_times: np.ndarray, tolerance_s: float) -> float:
    """AV-Align score of two sets of peak times (seconds), see :func:`av_align_score`.

    ``(#{a : |a - v| <= tol for some v} + #{v : |v - a| <= tol for some a}) / (|A| + |V|)``; 0 when
    both sets are empty.
    """
    audio_times = np.asarray(audio_times, np.float64).ravel()
    video_times = np.asarray(video_times, np.float64).ravel()
    if len(audio_times) == 0 or len(video_times) == 0:
        return 0.0
    distance = np.abs(audio_times[:, None] - video_times[None, :])
    tolerance = tolerance_s + 1e-9
    matched = (distance.min(axis=1) <= tolerance).sum() + (distance.min(axis=0) <= tolerance).sum()
    return float(matched / (len(audio_times) + len(video_times)))


def av_align_score(
    frames: FramesLike,
    audio: AudioLike,
    fps: float,
    sample_rate: int | None = None,
    window_frames: float = 1,
) -> float:
    """Agreement of audio onsets and video motion events, in the spirit of AV-Align (Yariv et al. 2024).

    With ``A`` the audio onset times (:func:`audio_onset_times`), ``V`` the video motion-event times
    (:func:`video_motion_events`) and ``tol = window_frames / fps`` seconds:
    ``score = (#{a in A : |a - v| <= tol for some v in V} + #{v in V : |v - a| <= tol for some a in A})
    / (|A| + |V|)``, in ``[0, 1]``; 0 when there are no peaks at all (and when only one side has
    peaks). AV-Align detects video peaks in optical-flow magnitude; here they are the tracked
    objects' velocity changes, which is what a sound of an impact should line up with.

    Args:
        frames: ``(F, 3, H, W)`` or ``(F, H, W, 3)``, float in ``[0, 1]`` / ``[-1, 1]`` or uint8.
        audio: ``(S,)`` or ``(C, S)`` float at ``sample_rate`` (a ``(2, S)`` is stereo), or an ``AudioTrack`` of one
            video.
        fps: frame rate of ``frames``.
        sample_rate: audio samples per second (None: an ``AudioTrack``'s own, else 16000); warned about as in
            :func:`av_sync_offset_ms`.
        window_frames: the matching tolerance in frames, >= 0.
    """
    fps = check_positive(fps, "fps")
    if isinstance(window_frames, bool) or not isinstance(window_frames, numbers.Real) or not window_frames >= 0:
        raise ValueError(f"window_frames must be a number >= 0, got {window_frames!r}")
    frame_total = frame_count(frames)  # a batch of videos is refused before a warning about its duration
    audio, sample_rate = audio_and_rate(audio, sample_rate)
    audio_times = audio_onset_times(audio, sample_rate)
    _warn_on_duration_mismatch(frame_total, audio, fps, sample_rate)
    video_times, _ = video_motion_events(frames, fps)
    return align_score_from_times(audio_times, video_times, window_frames / fps)
