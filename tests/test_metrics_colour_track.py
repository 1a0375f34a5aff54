"""colour_bounce_events: bounce times of a named colour, on clean and on degraded (generated-like) video."""

import numpy as np
import pytest
import torch

from ltx_video import metrics
from ltx_video.data.synthetic import COLOURS, SAMPLE_RATE
from ltx_video.training.data import DataConfig, synthetic_clip

FPS = 24.0
CLIPS = [synthetic_clip(seed, DataConfig(max_objects=1)) for seed in range(6)]


def _visible_bounces(clip) -> np.ndarray:
    """Bounce times at least four frames from either end (the detector needs three frames each side) on an
    axis the object crosses at >= 0.75 px per frame (the detector ignores reversals under 0.5)."""
    vx, vy = clip.params.objects[0].velocity
    fast = {"left": abs(vx), "right": abs(vx), "top": abs(vy), "bottom": abs(vy)}
    times = np.array([b.time for b in clip.bounces if fast[b.wall] / FPS >= 0.75])
    return times[(times >= 4 / FPS) & (times <= (clip.num_frames - 5) / FPS)]


def _degrade(video: torch.Tensor, seed: int) -> torch.Tensor:
    """Blur, a shimmering background and an object whose contrast breathes by +-15 % from frame to frame."""
    g = torch.Generator().manual_seed(seed)
    blurred = torch.nn.functional.avg_pool2d(video, 3, stride=1, padding=1, count_include_pad=False)
    background = blurred.flatten(2).median(dim=-1).values[..., None, None]
    breathing = 1 + 0.15 * torch.randn(video.shape[0], 1, 1, 1, generator=g).clamp(-1, 1)
    shimmer = 0.04 * torch.randn(video.shape, generator=g)
    return (background + breathing * (blurred - background) + shimmer).clamp(-1, 1)


@pytest.mark.parametrize("clip", CLIPS, ids=lambda c: c.prompt.split(",")[0])
def test_clean_bounces_are_found_within_10_ms_and_nothing_else(clip):
    times, strengths = metrics.colour_bounce_events(clip.video, FPS, COLOURS[clip.params.objects[0].colour])
    truth = np.array([b.time for b in clip.bounces])
    visible = _visible_bounces(clip)
    assert len(times) >= len(visible) and (strengths > 0).all()
    assert np.abs(visible[:, None] - times[None]).min(axis=1).max() <= 0.010  # every visible bounce, to 1/4 frame
    assert np.abs(times[:, None] - truth[None]).min(axis=1).max() <= 0.010  # no spurious event


def test_degraded_video_keeps_the_offset_within_a_frame_and_follows_a_delay():
    errors, delayed = [], []
    for k, clip in enumerate(CLIPS):
        video = _degrade(clip.video, k)
        times, strengths = metrics.colour_bounce_events(video, FPS, COLOURS[clip.params.objects[0].colour])
        errors.append(metrics.offset_from_events_ms(times, strengths, metrics.audio_onset_envelope(clip.audio)))
        late = torch.cat([torch.zeros(int(0.1 * SAMPLE_RATE)), clip.audio])[: len(clip.audio)]
        delayed.append(metrics.offset_from_events_ms(times, strengths, metrics.audio_onset_envelope(late)))
    errors, delayed = np.array(errors), np.array(delayed)
    assert np.abs(errors).max() <= 1000 / FPS, errors
    assert np.abs(delayed - errors - 100).max() <= 5, delayed


def test_absent_colour_gives_no_events_and_no_offset():
    clip = CLIPS[0]
    other = next(c for name, c in COLOURS.items() if name != clip.params.objects[0].colour)
    times, strengths = metrics.colour_bounce_events(clip.video, FPS, other)
    assert times.size == 0 and strengths.size == 0
    assert np.isnan(metrics.offset_from_events_ms(times, strengths, metrics.audio_onset_envelope(clip.audio)))
    assert np.isnan(metrics.colour_track(clip.video, other)).all()


def test_colour_adherence_ignores_shape():
    clip = CLIPS[0]
    colour, shape = clip.params.objects[0].colour, clip.params.objects[0].shape
    wrong_shape = next(s for s in ("ball", "square", "triangle") if s != shape)
    prompt = f"a {colour} {wrong_shape} bounces"
    assert metrics.prompt_adherence(clip.video, prompt) == 0.5
    assert metrics.prompt_adherence(clip.video, prompt, shapes=False) == 1.0
    other = next(c for c in COLOURS if c != colour)
    assert metrics.prompt_adherence(clip.video, f"a {other} {shape} bounces", shapes=False) == 0.0


def test_thresholds_and_numpy_windows_are_checked():
    from ltx_video.metrics import av_align_score, colour_bounce_events, colour_track

    frames = np.zeros((12, 16, 16, 3))
    for bad in (-1.0, float("nan"), "1"):
        with pytest.raises(ValueError, match="min_speed"):
            colour_bounce_events(frames, 24, (1, 0, 0), min_speed=bad)
        with pytest.raises(ValueError, match="min_area"):
            colour_track(frames, (1, 0, 0), min_area=bad)
    audio = np.zeros(8000)
    assert av_align_score(frames, audio, 24, window_frames=np.int64(1)) == av_align_score(frames, audio, 24, window_frames=1)
