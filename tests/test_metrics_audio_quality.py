"""Objective tone quality (``ltx_video.metrics.audio_quality``) on the world's bursts and on degraded ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltx_video.data import synthetic
from ltx_video.metrics import onset_rise_ms, tone_pitch_hz, tone_snr_db

SR = 16000


def track(pitch: float, starts=(0.2, 0.9), *, attack_s: float = 0.0, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """One second with a world burst at each start; ``attack_s`` > 0 ramps the attack up linearly."""
    burst = synthetic.burst_waveform(pitch).numpy()
    if attack_s:
        burst = burst * np.minimum(np.arange(len(burst)) / (attack_s * SR), 1.0)
    audio = np.zeros(SR)
    for start in starts:
        i = int(start * SR)
        audio[i : i + len(burst)] += burst
    return audio + noise * np.random.default_rng(seed).standard_normal(SR)


@pytest.mark.parametrize("pitch", sorted(synthetic.SHAPE_PITCH_HZ.values()))
def test_pitch_of_the_world_bursts(pitch):
    assert tone_pitch_hz(track(pitch)) == pytest.approx(pitch, abs=2.0)  # well under 10 cents
    # a 5 % detuned burst is told apart
    assert abs(1200 * math.log2(tone_pitch_hz(track(pitch * 1.05)) / pitch) - 84.5) < 5


def test_snr_falls_with_hiss_and_rise_with_smeared_attacks():
    clean = tone_snr_db(track(523.25))
    assert 10 < clean < 20
    hissy = tone_snr_db(track(523.25, noise=0.02))
    assert hissy < clean - 3
    # given the expected pitch, a wrong tone scores far below the right one
    assert tone_snr_db(track(783.99), pitch_hz=523.25) < clean - 15
    sharp = onset_rise_ms(track(523.25))
    assert sharp <= 2.0
    # a 30 ms linear ramp times the 20 ms decay peaks after about 20 ms: 10 % to 90 % about 12 ms
    smeared = onset_rise_ms(track(523.25, attack_s=0.03))
    assert 8 < smeared < 20 and smeared > 5 * sharp


def test_silence_and_bad_arguments():
    silence = np.zeros(SR)
    assert (
        math.isnan(tone_pitch_hz(silence)) and math.isnan(tone_snr_db(silence)) and math.isnan(onset_rise_ms(silence))
    )
    with pytest.raises(ValueError, match="sample_rate"):
        tone_pitch_hz(track(523.25), sample_rate=0)
    with pytest.raises(ValueError, match="band_hz"):
        tone_snr_db(track(523.25), band_hz=-1)
    with pytest.raises(ValueError, match="sample_rate must be at least 2000"):
        tone_pitch_hz(track(523.25), sample_rate=10)  # a 64 ms window of one sample
    with pytest.raises(ValueError, match="pitch_hz must be at least the spectrum's resolution"):
        tone_snr_db(track(523.25), pitch_hz=0.001)  # a harmonic per bin: 30 GiB before this check


def test_the_level_does_not_matter():
    """Pitch, SNR and rise time read the same at any level; squares of 1e200 overflowed to inf and nan."""
    audio = track(523.25, noise=0.01)
    for scale in (1e-6, 1e200):
        assert tone_pitch_hz(audio * scale) == pytest.approx(tone_pitch_hz(audio), rel=1e-9)
        assert tone_snr_db(audio * scale) == pytest.approx(tone_snr_db(audio), rel=1e-9)
        assert onset_rise_ms(audio * scale) == pytest.approx(onset_rise_ms(audio), rel=1e-9)


def test_a_constant_offset_is_no_tone():
    assert math.isnan(tone_pitch_hz(np.ones(SR))) and math.isnan(tone_snr_db(np.ones(SR)))  # read 7.8 Hz and inf


def test_nan_cases_are_the_documented_ones():
    """The hunt found ``nan`` for a 30 ms tone and for anti-phase stereo where the docs said "for silence"
    only; both are what the docs now say: shorter than a window, and channels averaged to silence."""
    tone = np.sin(2 * np.pi * 440 * np.arange(SR) / SR)
    assert math.isnan(tone_pitch_hz(tone[: int(0.03 * SR)]))
    assert math.isnan(tone_pitch_hz(np.stack([tone, -tone])))
    assert tone_pitch_hz(np.stack([tone, 0.5 * tone])) == pytest.approx(440, abs=1)


def test_a_burst_in_the_first_10_ms_has_no_rise_and_the_docs_say_so():
    from pathlib import Path

    rate = 44100
    t = np.arange(rate) / rate

    def burst(start):
        return (0.5 * np.sin(2 * np.pi * 440 * (t - start)) * ((t >= start) & (t < start + 0.3))).astype(np.float32)

    assert math.isnan(onset_rise_ms(burst(0.005), sample_rate=rate))
    assert 0.5 <= onset_rise_ms(burst(0.02), sample_rate=rate) <= 2.0
    # not indistinguishable from silence without saying so: the docstring and the docs row name the rule
    assert "first 10 ms" in onset_rise_ms.__doc__
    row = next(line for line in (Path(__file__).parents[1] / "docs" / "metrics.md").read_text().splitlines() if "`onset_rise_ms(" in line)
    assert "first 10 ms" in row
