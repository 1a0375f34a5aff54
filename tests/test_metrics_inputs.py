"""``ltx_video.metrics`` input forms: a pipeline's AudioTrack, a pipeline's whole output, PIL frames of several
sizes, and frames whose layout is ambiguous (``ltx_video/metrics/_inputs.py``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ltx_video.io.waveforms import AudioTrack
from ltx_video.metrics import audio_onset_times, av_sync_offset_ms, flicker, psnr, ssim, tone_pitch_hz


def test_an_audio_track_of_one_video_is_read_at_its_own_rate():
    """An AudioTrack was refused ("got AudioTrack"); its (B, S) waveform passed bare was averaged as stereo."""
    t = np.arange(44100) / 44100
    tone = torch.from_numpy(0.5 * np.sin(2 * np.pi * 440 * t) * (t > 0.2))
    track = AudioTrack(tone[None], 44100)
    assert tone_pitch_hz(track) == tone_pitch_hz(tone, sample_rate=44100) == pytest.approx(440, abs=1)
    assert tone_pitch_hz(track, sample_rate=44100) == tone_pitch_hz(track)
    np.testing.assert_array_equal(audio_onset_times(track), audio_onset_times(tone, 44100))
    assert audio_onset_times(track) == pytest.approx([0.2], abs=0.005)
    with pytest.raises(ValueError, match=r"`sample_rate`=16000 disagrees .* \(44100\)"):
        tone_pitch_hz(track, sample_rate=16000)
    with pytest.raises(ValueError, match=r"output\.audio` of 2 videos"):
        audio_onset_times(AudioTrack(torch.stack([tone, tone]), 44100))


def test_an_audio_track_gives_the_offset_of_its_waveform():
    synthetic = pytest.importorskip("ltx_video.data.synthetic")
    clip = synthetic.make_clip(3, duration=1.0)
    offset = av_sync_offset_ms(clip.video, AudioTrack(clip.audio[None], 16000), clip.fps)
    assert np.isfinite(offset) and offset == av_sync_offset_ms(clip.video, clip.audio, clip.fps)
    with pytest.raises(ValueError, match="2 videos"):
        av_sync_offset_ms(clip.video, AudioTrack(torch.stack([clip.audio, clip.audio]), 16000), clip.fps)


def test_a_bare_two_row_waveform_is_stereo():
    """Documented: a (2, S) array is two channels, averaged (index a batch's rows yourself)."""
    t = np.arange(16000) / 16000
    left, right = np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 1000 * t)
    assert tone_pitch_hz(np.stack([left, right])) == tone_pitch_hz((left + right) / 2)


def test_pil_frames_of_several_sizes_are_refused_by_name():
    frames = [Image.new("RGB", (16, 16)), Image.new("RGB", (16, 8))]
    with pytest.raises(ValueError, match=r"frames must be PIL images of one size, got sizes \(width, height\)"):
        flicker(frames)
    with pytest.raises(ValueError, match="reference must be PIL images of one size"):
        psnr([Image.new("RGB", (16, 16))] * 2, frames)


@pytest.mark.parametrize("form", ["pil lists", "np 5-D", "pt 5-D"])
def test_a_pipelines_whole_output_hints_at_one_video(form):
    batch = {
        "pil lists": [[Image.new("RGB", (16, 16))] * 3] * 2,
        "np 5-D": np.zeros((1, 3, 16, 16, 3), np.float32),
        "pt 5-D": torch.zeros(2, 3, 3, 16, 16),
    }[form]
    with pytest.raises(ValueError, match=r"^frames .*batch of videos.*pass one video, `output\.frames\[0\]`"):
        flicker(batch)


def test_frames_three_pixels_high_or_wide_are_ambiguous():
    """(F, 3, H, 3) fits (F, 3, H, W) and (F, H, W, 3): before 2026-12-07 it was read channels-last in silence."""
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"frames has shape \(4, 3, 16, 3\).*\(\.\.\., 3, H, W\) with W = 3 and \(\.\.\., H, W, 3\) with H = 3"):
        flicker(rng.random((4, 3, 16, 3)))
    with pytest.raises(ValueError, match=r"image has shape \(3, 16, 3\)"):
        ssim(rng.random((3, 16, 3)), rng.random((3, 16, 3)))
    # 3 pixels wide channels-last, or 3 high channels-first: one layout fits, read as before
    for frames in (rng.random((4, 16, 3, 3)), rng.random((4, 3, 3, 16))):
        assert flicker(frames) == pytest.approx(np.abs(np.diff(frames, axis=0)).mean(), rel=1e-12)
