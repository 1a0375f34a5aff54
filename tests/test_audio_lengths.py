"""Lengths and content of resampled audio: ``resample_audio`` and ``read_audio`` for short and long inputs."""

import wave

import numpy as np
import pytest
import torch

from ltx_video.io.media import read_audio, resample_audio

RATES = [(16000, 48000), (48000, 16000), (44100, 16000), (16000, 44100), (8000, 96000), (96000, 8000)]


@pytest.mark.parametrize(("rate", "target"), RATES)
def test_resample_audio_length_is_rounded_ratio_for_every_length(rate, target):
    for samples in (1, 2, 10, 20, 30, 64, 80, 100, 500, 1000):
        out = resample_audio(torch.full((2, samples), 0.5), rate, target)
        assert out.shape == (2, round(samples * target / rate)), samples


@pytest.mark.parametrize(("rate", "target"), RATES[:4])
def test_resample_audio_short_tone_keeps_its_content(rate, target):
    # 40 input samples of a 500 Hz tone: before 2026-12-08 most of these came out empty
    t = np.arange(40) / rate
    out = resample_audio(torch.from_numpy(np.sin(2 * np.pi * 500 * t).astype(np.float32)), rate, target)
    expected = np.sin(2 * np.pi * 500 * np.arange(round(40 * target / rate)) / target)
    assert out.shape == expected.shape
    assert np.abs(out.numpy() - expected).max() < 0.05  # a band-limited filter's ripple on a tone far below Nyquist


@pytest.mark.parametrize(("rate", "samples"), [(44100, 10), (44100, 50), (48000, 100), (22050, 7)])
def test_read_audio_short_file_has_rounded_length_and_level(tmp_path, rate, samples):
    path = tmp_path / "short.wav"
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(np.full(samples, 16384, np.int16).tobytes())
    waveform, _ = read_audio(path, sample_rate=16000)
    assert waveform.shape == (1, round(samples * 16000 / rate))
    assert torch.allclose(waveform, torch.full_like(waveform, 0.5), atol=0.02)  # a constant stays that constant
