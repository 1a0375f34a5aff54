"""The joint rectified-flow objective against its definition."""

import pytest
import torch

from ltx_video.training import flow_pair, joint_flow_loss, sample_flow_times


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(3, 6, 4, generator=g), torch.randn(3, 10, 2, generator=g)


def test_flow_pair_definition():
    x0, e = torch.randn(2, 5, 3), torch.randn(2, 5, 3)
    t = torch.tensor([0.0, 0.25])
    xt, v = flow_pair(x0, e, t)
    assert torch.equal(xt[0], x0[0]) and torch.allclose(xt[1], 0.75 * x0[1] + 0.25 * e[1])
    assert torch.equal(v, e - x0)
    # integrating the exact velocity from t back to 0 recovers x0
    assert torch.allclose(xt - t.view(-1, 1, 1) * v, x0, atol=1e-6)


class Recorder:
    """A velocity model that returns the exact target from what it was given, and records its inputs."""

    def __init__(self, video, audio, offset=0.0):
        self.video, self.audio, self.offset, self.calls = video, audio, offset, []

    def __call__(self, video_t, video_timestep, audio_t, audio_timestep):
        self.calls.append((video_t, video_timestep, audio_t, audio_timestep))
        tv = (video_timestep / 1000).view(-1, 1, 1)
        ta = (audio_timestep / 1000).view(-1, 1, 1)
        # e = (x_t - (1 - t) x0) / t where t > 0; the target v = e - x0
        v_video = torch.where(tv > 0, (video_t - (1 - tv) * self.video) / tv.clamp(min=1e-6) - self.video, 0.0)
        v_audio = torch.where(ta > 0, (audio_t - (1 - ta) * self.audio) / ta.clamp(min=1e-6) - self.audio, 0.0)
        return v_video + self.offset, v_audio + 2 * self.offset


def test_perfect_model_has_zero_loss_and_shared_t():
    video, audio = _data()
    t = torch.tensor([0.2, 0.5, 0.9])
    model = Recorder(video, audio)
    out = joint_flow_loss(model, video, audio, t=t, generator=torch.Generator().manual_seed(1))
    assert out.loss.item() < 1e-8
    _, tv, _, ta = model.calls[0]
    assert torch.equal(tv, ta) and torch.allclose(tv, 1000 * t)


def test_audio_weight_and_modes():
    video, audio = _data()
    t = torch.tensor([0.3, 0.6, 0.8])
    off = Recorder(video, audio, offset=0.5)  # video error 0.25, audio error 1.0 per element
    both = joint_flow_loss(off, video, audio, t=t, audio_weight=0.5)
    assert both.video.item() == pytest.approx(0.25, abs=1e-5) and both.audio.item() == pytest.approx(1.0, abs=1e-5)
    assert both.loss.item() == pytest.approx(0.25 + 0.5 * 1.0, abs=1e-5)

    a2v = Recorder(video, audio, offset=0.5)
    out = joint_flow_loss(a2v, video, audio, t=t, mode="audio_to_video")
    _, tv, audio_in, ta = a2v.calls[0]
    assert torch.equal(ta, torch.zeros(3)) and torch.equal(audio_in, audio)  # clean audio, timestep 0
    assert out.audio.item() == 0 and out.loss.item() == pytest.approx(0.25, abs=1e-5)

    v2a = Recorder(video, audio, offset=0.5)
    out = joint_flow_loss(v2a, video, audio, t=t, mode="video_to_audio")
    _, tv, _, _ = v2a.calls[0]
    assert torch.equal(tv, torch.zeros(3)) and torch.equal(v2a.calls[0][0], video)
    assert out.video.item() == 0 and out.loss.item() == pytest.approx(1.0, abs=1e-5)


def test_bad_arguments():
    video, audio = _data()
    model = Recorder(video, audio)
    with pytest.raises(ValueError, match="mode"):
        joint_flow_loss(model, video, audio, mode="audio_only")
    with pytest.raises(ValueError, match="audio_weight"):
        joint_flow_loss(model, video, audio, audio_weight=-1)
    with pytest.raises(ValueError, match="batch"):
        joint_flow_loss(model, video, audio[:2])
    with pytest.raises(ValueError, match="`t`"):
        joint_flow_loss(model, video, audio, t=torch.tensor([0.1, 2.0, 0.3]))
    with pytest.raises(ValueError, match="distribution"):
        sample_flow_times(2, distribution="beta")


def test_time_sampling_is_seeded_and_in_range():
    a = sample_flow_times(1000, generator=torch.Generator().manual_seed(0))
    b = sample_flow_times(1000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and 0 < a.min() and a.max() < 1
    assert abs(a.mean().item() - 0.5) < 0.03  # logit-normal is symmetric about 1/2
