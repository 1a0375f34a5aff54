"""Sampling arguments in the forms diffusers users pass them (2026-12-06, third round): schedules that cannot be
taken refused before the text encoder runs, the scheduler showing the call's schedule to callbacks as diffusers'
loops do, a swapped-in scheduler's unread settings said, NumPy numbers, STG lists as arrays (tiny models)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from conftest import forward_calls
from diffusers import FlowMatchEulerDiscreteScheduler, LTXConditionPipeline

from ltx_video import LTXVideoPipeline
from ltx_video.testing import tiny_components

CALL = dict(height=32, width=32, num_frames=9, num_inference_steps=4, max_sequence_length=16, output_type="pt")


@pytest.fixture(scope="module")
def components():
    return tiny_components(seed=0)


@pytest.fixture()
def pipe(components):
    pipe = LTXVideoPipeline(**{**components, "scheduler": FlowMatchEulerDiscreteScheduler(shift=1.0)})
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run(pipe, **kwargs):
    return pipe("a red ball bounces", generator=torch.Generator().manual_seed(0), **{**CALL, **kwargs}).frames


@pytest.fixture()
def text_encoder_calls(pipe):
    with forward_calls(pipe.text_encoder) as calls:
        yield calls


def test_one_shifted_step_with_a_terminal_stretch_is_refused_not_a_nan_video(pipe, text_encoder_calls):
    # LTX-Video's scheduler settings (dynamic shifting, shift_terminal 0.1) give sigma nan for one step: the old code
    # returned an all-black video without a word.
    pipe.scheduler = FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True, shift_terminal=0.1)
    with pytest.raises(ValueError, match=r"`num_inference_steps=1` with timestep_schedule='shifted'.*shift_terminal=0.1"):
        run(pipe, num_inference_steps=1, timestep_schedule="shifted")
    assert not text_encoder_calls
    assert torch.isfinite(run(pipe, num_inference_steps=2, timestep_schedule="shifted")).all()


@pytest.mark.parametrize("strength", [0.0, 0.1, 0.24])
def test_a_strength_that_keeps_no_step_is_refused_before_the_text_encoder(pipe, text_encoder_calls, strength):
    with pytest.raises(ValueError, match=rf"`denoise_strength={strength}` keeps int\(4 x {strength}\) = 0 of the 4 "
                                         r"steps.*>= 0.25"):
        run(pipe, denoise_strength=strength)
    assert not text_encoder_calls


def test_the_strength_advised_keeps_a_step(pipe):
    with pytest.raises(ValueError, match=r"keeps int\(30 x 0.01\) = 0 of the 30 steps.*>= 0.034,"):
        run(pipe, num_inference_steps=30, denoise_strength=0.01)  # advised 0.0333, which kept none either
    for steps in (3, 7, 30):
        lowest = float(__import__("math").ceil(1000 / steps) / 1000)
        assert int(steps * lowest) == 1


def test_decode_values_as_tuples_are_one_per_video_like_lists(pipe):
    # a tuple was read as one 6-D scale and failed after the whole loop ("too many values to unpack")
    as_list = run(pipe, decode_timestep=[0.05], decode_noise_scale=[0.025])
    as_tuple = run(pipe, decode_timestep=(0.05,), decode_noise_scale=(0.025,))
    assert torch.equal(as_list, as_tuple)
    assert not torch.equal(as_list, run(pipe, decode_timestep=0.0))


def test_callbacks_read_the_schedule_on_the_scheduler_as_in_diffusers(components, pipe):
    def recorder(seen):
        def callback(p, i, t, kwargs):
            s = p.scheduler
            seen.append((i, len(s.timesteps), s.step_index, round(float(s.sigmas[s.step_index]), 4)))
            return kwargs
        return callback

    ours, theirs = [], []
    run(pipe, num_inference_steps=3, callback_on_step_end=recorder(ours))
    reference = LTXConditionPipeline(**{**components, "scheduler": FlowMatchEulerDiscreteScheduler(shift=1.0)})
    reference.set_progress_bar_config(disable=True)
    reference(prompt="a red ball bounces", generator=torch.Generator().manual_seed(0), callback_on_step_end=recorder(theirs),
              **{**CALL, "num_inference_steps": 3})
    # the old code left the 1000-step default there and step_index None, so the idiom raised TypeError
    assert ours == theirs and [row[2] for row in ours] == [1, 2, 3] and ours[-1][3] == 0.0


def test_a_swapped_schedulers_unread_settings_are_said_once(pipe, caplog):
    baseline = run(pipe)
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        run(pipe)
    assert "shifted schedule" not in caplog.text  # the scheduler the pipeline was built with: nothing to say
    pipe.scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0, use_karras_sigmas=True)
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        swapped = run(pipe)
        run(pipe)
    assert caplog.text.count("shift=3.0, use_karras_sigmas=True shape diffusers' shifted schedule") == 1
    assert torch.equal(swapped, baseline)  # what the warning says: LTX-Video's schedule does not read them


def test_an_inverted_schedule_is_refused(pipe, text_encoder_calls):
    pipe.scheduler = FlowMatchEulerDiscreteScheduler(invert_sigmas=True)
    with pytest.raises(ValueError, match="`scheduler` has invert_sigmas=True"):
        run(pipe, timestep_schedule="shifted")
    assert not text_encoder_calls


def test_numpy_integers_are_taken_as_diffusers_takes_them(pipe):
    expected = run(pipe)
    given = run(pipe, num_inference_steps=np.int64(4), max_sequence_length=np.int64(16), height=np.int32(32),
                num_frames=np.int64(9), num_videos_per_prompt=np.int64(1))
    assert torch.equal(given, expected)
    # timesteps as a scheduler's tensor iterates them, a list of 0-d tensors (refused for a day on 2026-12-07)
    listed = [1000.0, 750.0, 500.0, 250.0]
    assert torch.equal(run(pipe, timesteps=list(torch.tensor(listed))), run(pipe, timesteps=listed))


def test_stg_scale_without_blocks_is_said(pipe, caplog):
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        run(pipe, num_inference_steps=2, stg_scale=2.0)
    assert "`stg_scale` > 0 with no `skip_block_list` perturbs no transformer block" in caplog.text


@pytest.mark.parametrize("kwargs, message", [
    (dict(stg_scale=1.0, skip_block_list=1), r"`skip_block_list` must be a list of transformer block indices.*got 1"),
    (dict(stg_scale=1.0, skip_block_list=[[0], 1], guidance_timesteps=[1000, 500]), r"got \[\[0\], 1\]"),
    (dict(guidance_scale=[], guidance_timesteps=[1000]), r"`guidance_scale` must be a finite number or a non-empty"),
    (dict(guidance_scale=[3.0], guidance_timesteps=[]), r"`guidance_timesteps` must be a non-empty list of finite numbers"),
    (dict(guidance_scale=[3.0, 1.0], guidance_timesteps=[1000, "500"]), r"`guidance_timesteps` must be a non-empty"),
])
def test_malformed_guidance_lists_are_refused_naming_the_argument(pipe, text_encoder_calls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run(pipe, **kwargs)
    assert not text_encoder_calls


@pytest.mark.parametrize("as_array", [np.array, torch.tensor])
def test_per_interval_guidance_as_an_array_equals_the_list(pipe, as_array):
    intervals = dict(guidance_timesteps=[1000, 500], stg_scale=[0.0, 1.0], skip_block_list=[[], [1]])
    expected = run(pipe, guidance_scale=[3.0, 1.0], **intervals)
    given = run(pipe, guidance_scale=as_array([3.0, 1.0]), **intervals)  # failed after the first step
    assert torch.equal(given, expected)


def test_a_lowered_start_is_said_only_where_nothing_stands_in_for_the_noise(pipe, caplog):
    """A video condition at frame 0 puts its own latents in place of the noise (diffusers' LTXConditionPipeline, the
    video-to-video recipe): the warning that denoising starts from pure noise was logged for it too."""
    from ltx_video import LTXVideoCondition

    clip = torch.rand(9, 3, 32, 32)
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        run(pipe, denoise_strength=0.5, conditions=[LTXVideoCondition(video=clip, frame_index=0)])
    assert not [r for r in caplog.records if "schedule starts at sigma" in r.getMessage()]
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        run(pipe, denoise_strength=0.5)
    assert [r for r in caplog.records if "without `latents` or a condition at frame 0" in r.getMessage()]


@pytest.mark.parametrize("kwargs, source", [({}, "the linear-quadratic schedule"),
                                            ({"timesteps": [1000.0, 500.0]}, r"explicit `timesteps` \(0..1000\)"),
                                            ({"timesteps": [1000.0, 500.0], "timestep_schedule": "shifted"},
                                             r"explicit `timesteps` \(0..1000\)")])
def test_ltx_video_units_with_a_scheduler_of_other_train_timesteps_are_refused(pipe, text_encoder_calls, kwargs,
                                                                               source):
    """LTX-Video's schedule is 1000 per sigma; a scheduler of 500 was not read (diffusers' LTXConditionPipeline
    divides by it, sigmas up to 2): refused naming the setting, before the text encoder. The shifted schedule
    follows it (tests/test_parity.py)."""
    pipe.scheduler = FlowMatchEulerDiscreteScheduler(shift=1.0, num_train_timesteps=500)
    with pytest.raises(ValueError, match=rf"the scheduler's num_train_timesteps=500 is not 1000, the units of {source}: "
                                         r"pass timestep_schedule='shifted' without `timesteps`"):
        run(pipe, **kwargs)
    assert not text_encoder_calls
    assert torch.isfinite(run(pipe, timestep_schedule="shifted")).all()
