"""``ltx_video.metrics`` audio-video synchronisation against the synthetic world's ground truth.

* offsets: for 12 clips (seeds 0-11: one to three objects, every camera motion) and injected
  offsets -200 ... +200 ms in 50 ms steps (audio shifted, padded with zeros), the estimated offset
  has a mean absolute error <= 15 ms;
* AV-Align: the matching audio scores >= 0.8 on average, the audio of another clip (seed + 1000)
  <= 0.5.

The video events of a clip do not depend on the audio, so the sweeps compute them once
(:func:`video_motion_events`) and call :func:`offset_from_events_ms` / :func:`align_score_from_times`,
the two halves :func:`av_sync_offset_ms` / :func:`av_align_score` are made of; a few end-to-end
calls check that the wrappers are exactly those halves.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from ltx_video.metrics import (
    align_score_from_times,
    audio_onset_envelope,
    audio_onset_times,
    av_align_score,
    av_sync_offset_ms,
    offset_from_events_ms,
    video_motion_events,
)

SEEDS = range(12)
OFFSETS_MS = range(-200, 201, 50)
SAMPLE_RATE = 16000


def shifted(audio: torch.Tensor, offset_ms: float) -> torch.Tensor:
    """``audio`` delayed by ``offset_ms`` (advanced when negative), zero-padded to the same length."""
    n = round(offset_ms * SAMPLE_RATE / 1000)
    out = torch.zeros_like(audio)
    if n >= 0:
        out[n:] = audio[: len(audio) - n]
    else:
        out[:n] = audio[-n:]
    return out


def test_label_components_follow_shapes_and_colours():
    from ltx_video.metrics._image import label_components

    # a spiral-like U: one component that label propagation must follow around two corners
    mask = np.zeros((7, 9), bool)
    mask[1, 1:8] = mask[1:6, 1] = mask[5, 1:8] = mask[3, 3:8] = mask[3:6, 7] = True
    mask[0, 0] = True
    labels, count = label_components(mask)
    assert count == 2
    spiral = mask.copy()
    spiral[0, 0] = False
    assert labels[0, 0] == 1 and set(np.unique(labels[spiral])) == {2}
    # its right part another colour: the colour edge cuts the spiral into four pieces
    colours = np.zeros((7, 9, 3))
    colours[:, 5:] = 1.0
    labels, count = label_components(mask, colours, tolerance=0.5)
    assert count == 5
    assert labels[1, 4] != labels[1, 5] and labels[3, 5] == labels[5, 5] != labels[5, 4]


def burst(at_s: float, *, length_s: float = 1.0, frequency: float = 700.0) -> np.ndarray:
    t = np.arange(int(length_s * SAMPLE_RATE)) / SAMPLE_RATE
    return np.where(t >= at_s, 0.5 * np.sin(2 * np.pi * frequency * (t - at_s)) * np.exp(-(t - at_s) / 0.02), 0.0)


def test_onset_envelope_peaks_at_the_attack():
    for at_s in (0.1003, 0.25, 0.7771):
        envelope = audio_onset_envelope(burst(at_s))
        assert len(envelope) == 1000
        assert abs(np.argmax(envelope) - at_s * 1000) <= 2
        np.testing.assert_allclose(audio_onset_times(burst(at_s)), [at_s], atol=0.002)
    # channels are averaged; silence has no onset
    stereo = np.stack([burst(0.3), burst(0.3)])
    np.testing.assert_allclose(audio_onset_envelope(stereo), audio_onset_envelope(burst(0.3)))
    assert audio_onset_times(np.zeros(SAMPLE_RATE)).size == 0


def test_offset_from_events_on_exact_events():
    times = np.array([0.2, 0.65, 1.3])
    audio = sum(burst(t + 0.123, length_s=2.0) for t in times)
    offset = offset_from_events_ms(times, np.ones(3), audio_onset_envelope(audio))
    assert offset == pytest.approx(123, abs=1.0)
    assert math.isnan(offset_from_events_ms(np.zeros(0), np.zeros(0), audio_onset_envelope(audio)))
    assert math.isnan(offset_from_events_ms(times, np.ones(3), np.zeros(2000)))
    # Never past the limit searched, though the lag grid is whole milliseconds: the 123 ms is outside 0.3 ms
    with pytest.warns(UserWarning, match="may be outside max_offset_ms=0.3"):
        assert math.isnan(offset_from_events_ms(times, np.ones(3), audio_onset_envelope(audio), max_offset_ms=0.3))
    with pytest.raises(ValueError, match="as long as each other"):
        offset_from_events_ms(times, np.ones(2), audio_onset_envelope(audio))
    with pytest.raises(ValueError, match="finite"):
        offset_from_events_ms(np.array([np.nan]), np.ones(1), audio_onset_envelope(audio))


@pytest.mark.parametrize("limit", [100, 190, 199])
def test_an_offset_beyond_max_offset_ms_is_nan_with_a_warning(limit):
    # audio 200 ms late: within +-limit the correlation still rises at the edge (before 2026-12-07: `limit` itself)
    times = np.array([0.2, 0.65, 1.3])
    envelope = audio_onset_envelope(sum(burst(t + 0.2, length_s=2.0) for t in times))
    with pytest.warns(UserWarning, match=rf"outside max_offset_ms={limit}: .*pass a larger max_offset_ms"):
        assert math.isnan(offset_from_events_ms(times, np.ones(3), envelope, max_offset_ms=limit))


@pytest.mark.parametrize(("true_ms", "limit"), [(90, 100), (180, 200), (123, 125)])
def test_an_offset_near_max_offset_ms_is_still_recovered(true_ms, limit):
    times = np.array([0.2, 0.65, 1.3])
    envelope = audio_onset_envelope(sum(burst(t + true_ms / 1000, length_s=2.0) for t in times))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert offset_from_events_ms(times, np.ones(3), envelope, max_offset_ms=limit) == pytest.approx(true_ms, abs=1.0)


@pytest.fixture(scope="module")
def clips():
    synthetic = pytest.importorskip("ltx_video.data.synthetic")
    out = {}
    for seed in SEEDS:
        clip = synthetic.make_clip(seed)
        out[seed] = (clip, *video_motion_events(clip.video, clip.fps))
    return out


def test_video_events_match_the_bounces(clips):
    """Most bounces are found within 10 ms (events within a frame of the clip's ends cannot be)."""
    found, visible, errors = 0, 0, []
    for clip, times, _ in clips.values():
        bounce_times = np.unique([bounce.time for bounce in clip.bounces])
        inside = bounce_times[(bounce_times > 1 / clip.fps) & (bounce_times < (clip.num_frames - 2) / clip.fps)]
        visible += len(inside)
        if len(times):
            distance = np.abs(inside[:, None] - times[None, :]).min(axis=1)
            found += int((distance <= 0.01).sum())
            errors.extend(distance[distance <= 0.01])
    print(f"bounces found within 10 ms: {found}/{visible}; mean error {1000 * np.mean(errors):.2f} ms")
    assert found >= 0.8 * visible
    assert np.mean(errors) < 0.004


def test_injected_offsets_are_recovered(clips):
    errors = []
    for clip, times, strengths in clips.values():
        for offset in OFFSETS_MS:
            envelope = audio_onset_envelope(shifted(clip.audio, offset), SAMPLE_RATE)
            errors.append(offset_from_events_ms(times, strengths, envelope) - offset)
    errors = np.abs(errors)
    print(f"offset recovery over {len(errors)} cases: MAE {errors.mean():.2f} ms, max {errors.max():.2f} ms")
    assert errors.mean() <= 15.0
    assert np.median(errors) <= 5.0


@pytest.mark.parametrize(("seed", "offset"), [(2, 120.0), (5, -80.0), (9, 0.0)])
def test_av_sync_offset_end_to_end(clips, seed, offset):
    clip, times, strengths = clips[seed]
    audio = shifted(clip.audio, offset)
    estimate = av_sync_offset_ms(clip.video, audio, clip.fps, sample_rate=SAMPLE_RATE)
    assert estimate == offset_from_events_ms(times, strengths, audio_onset_envelope(audio))
    assert abs(estimate - offset) <= 15.0


def test_av_sync_offset_with_background_noise():
    synthetic = pytest.importorskip("ltx_video.data.synthetic")
    clip = synthetic.make_clip(4, background_noise=0.1)  # three objects, zooming out, noisy audio
    estimate = av_sync_offset_ms(clip.video, shifted(clip.audio, 90.0), clip.fps)
    assert abs(estimate - 90.0) <= 15.0


def test_av_sync_offset_is_nan_without_events(clips):
    clip, _, _ = clips[0]
    assert math.isnan(av_sync_offset_ms(clip.video, torch.zeros_like(clip.audio), clip.fps))
    frozen = clip.video[:1].expand(12, -1, -1, -1)
    assert math.isnan(av_sync_offset_ms(frozen, clip.audio, clip.fps))
    with pytest.raises(ValueError, match="max_offset_ms"):
        av_sync_offset_ms(clip.video, clip.audio, clip.fps, max_offset_ms=0)


def test_av_align_matched_beats_mismatched(clips):
    synthetic = pytest.importorskip("ltx_video.data.synthetic")
    matched, mismatched = [], []
    for seed, (clip, times, _) in clips.items():
        tolerance = 1 / clip.fps
        matched.append(align_score_from_times(audio_onset_times(clip.audio), times, tolerance))
        other = synthetic.make_clip(seed + 1000)
        mismatched.append(align_score_from_times(audio_onset_times(other.audio), times, tolerance))
    print(f"AV-Align matched mean {np.mean(matched):.3f} (min {min(matched):.3f}), ", end="")
    print(f"mismatched mean {np.mean(mismatched):.3f} (max {max(mismatched):.3f})")
    assert np.mean(matched) >= 0.8
    assert np.mean(mismatched) <= 0.5
    assert sum(m > o for m, o in zip(matched, mismatched, strict=True)) >= 0.9 * len(matched)


def test_av_align_score_end_to_end(clips):
    clip, times, _ = clips[1]
    score = av_align_score(clip.video, clip.audio, clip.fps)
    assert score == align_score_from_times(audio_onset_times(clip.audio), times, 1 / clip.fps)
    assert score >= 0.8
    # no peaks at all, or only on one side: 0
    frozen = clip.video[:1].expand(12, -1, -1, -1)
    assert av_align_score(frozen, torch.zeros(8000), clip.fps) == 0.0
    assert av_align_score(frozen, clip.audio, clip.fps) == 0.0
    assert align_score_from_times(np.array([0.5, 1.0]), np.array([0.52, 1.3]), 0.042) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="window_frames"):
        av_align_score(clip.video, clip.audio, clip.fps, window_frames=-1)


def test_precomputed_camera_motion_gives_the_same_events(clips):
    """``camera=`` reuses a camera_motion result instead of recomputing it: same events, and a wrong shape fails."""
    from ltx_video.metrics import camera_motion

    clip, times, strengths = next(iter(clips.values()))
    reused = video_motion_events(clip.video, clip.fps, camera=camera_motion(clip.video))
    np.testing.assert_array_equal(reused[0], times)
    np.testing.assert_array_equal(reused[1], strengths)
    with pytest.raises(ValueError, match="camera"):
        video_motion_events(clip.video, clip.fps, camera=np.zeros((3, 3)))


def test_a_wrong_sample_rate_is_warned_about():
    """Before 2026-12-07 a 48 kHz track left at the default 16000 gave a finite, plausible offset in silence: its
    onsets were read three times later than they are. One warning per call now names ``sample_rate``; a clip's
    audio a little longer than its video (a container's padding) is not warned about."""
    frames = np.zeros((48, 8, 8, 3))  # 2 s at 24 fps
    at_48k = 0.1 * np.random.default_rng(0).standard_normal(2 * 48000)
    for call in (av_sync_offset_ms, av_align_score):
        with pytest.warns(UserWarning, match="sample_rate=16000") as caught:
            call(frames, at_48k, 24)
        assert len(caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        av_sync_offset_ms(frames, at_48k, 24, 48000)
        av_sync_offset_ms(frames, at_48k[: int(2.4 * 16000)], 24)  # 20 % longer than the video
        av_align_score(frames, at_48k[: int(1.6 * 16000)], 24)  # 20 % shorter


def test_sound_already_playing_at_the_start_is_no_onset(clips):
    """Before 2026-12-07 the 4 ms energy window cut by the start was divided by its full length, so DC or a held
    tone read as rising at t = 0, and a hum starting near a zero crossing had an onset at 2-5 ms: a drone with no
    click gave an offset of about -80 ms instead of nan. Clicks over a hum still give their offset."""
    clip, _, _ = clips[0]
    t = np.arange(len(clip.audio)) / SAMPLE_RATE
    drones = {"DC": np.full(len(t), 0.5), "440 Hz": 0.3 * np.sin(2 * np.pi * 440 * t)}
    drones.update({f"50 Hz at {p} deg": 0.3 * np.sin(2 * np.pi * 50 * t + np.deg2rad(p)) for p in (0, 140, 180, 340)})
    for name, drone in drones.items():
        assert audio_onset_times(drone).size == 0, name
        assert math.isnan(av_sync_offset_ms(clip.video, drone, clip.fps)), name
    assert np.all(audio_onset_envelope(drones["DC"]) == 0.0)  # equal means of equal samples, the start's too
    clean = av_sync_offset_ms(clip.video, clip.audio, clip.fps)
    hummed = clip.audio.numpy() + 0.1 * np.sin(2 * np.pi * 50 * t)
    assert abs(av_sync_offset_ms(clip.video, hummed, clip.fps) - clean) < 3.0


def test_a_batch_of_videos_is_refused_before_any_sample_rate_warning():
    """A pipeline's whole output (B, F, H, W, 3) was first warned about as a 1-frame video whose audio was too long
    (naming sample_rate, which was right), then refused; now only the refusal, naming frames and the fix."""
    batch = np.zeros((1, 48, 8, 8, 3))
    for call in (av_sync_offset_ms, av_align_score):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match=r"frames must have 4 dims .*output\.frames\[0\]"):
                call(batch, np.zeros(2 * SAMPLE_RATE), 24)


def test_slow_sub_pixel_motion_at_60_fps_gives_the_true_bounce():
    # ~0.9 px per frame whose steps alternate 0.96 / 0.79 px: one frame's second differences (+-0.17) once set the
    # acceleration the search held (median -0.053 px per frame^2), and the first second read 4 events, none at
    # the bounce; the stride of 1/24 s (two frames here) reads it
    from ltx_video.data.synthetic import make_clip

    fps = 60.0
    clip = make_clip(3, camera="static", fps=fps)
    second = clip.video[: int(fps)]
    truth = [b.time for b in clip.bounces if b.time < 1.0 - 2 / fps]
    times, _ = video_motion_events(second, fps)
    assert len(times) == len(truth) == 1
    assert abs(times[0] - truth[0]) < 0.5 / fps
