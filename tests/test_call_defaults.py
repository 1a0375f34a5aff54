"""A call leaves out what the model's generation defaults say (as transformers' ``generate`` reads a model's
``generation_config``); a pipeline without them keeps diffusers' LTX defaults."""

from __future__ import annotations

import inspect
import logging

import pytest
import torch
from conftest import av_gates

from ltx_video.pipelines.generation_defaults import DIFFUSERS_CALL_DEFAULTS, GenerationDefaults, fill_call_defaults
from ltx_video.testing import tiny_audio_video_pipeline, tiny_pipeline

SMALL = GenerationDefaults(height=32, width=64, num_frames=9, frame_rate=12.0, num_inference_steps=2, guidance_scale=2.0,
                           negative_prompt="blurry", stg_scale=1.0, skip_block_list=(1,))


@pytest.mark.parametrize("name", ["LTXPipeline", "LTXConditionPipeline", "LTXImageToVideoPipeline"])
def test_without_generation_defaults_a_call_takes_diffusers_own(name):
    import diffusers

    parameters = inspect.signature(getattr(diffusers, name).__call__).parameters
    shared = [n for n in DIFFUSERS_CALL_DEFAULTS if n in parameters]
    assert {"height", "width", "num_frames", "frame_rate", "num_inference_steps", "guidance_scale"} <= set(shared)
    for n in shared:
        assert DIFFUSERS_CALL_DEFAULTS[n] == parameters[n].default, n
    left_out = {n: None for n in shared}
    assert fill_call_defaults(None, left_out) == {n: parameters[n].default for n in shared}


def _frames(pipe, **kwargs):
    return pipe("a red ball bounces", output_type="pt", generator=torch.Generator().manual_seed(0), **kwargs).frames


def test_a_call_fills_what_it_leaves_out_from_the_model():
    pipe = tiny_pipeline()
    pipe.set_progress_bar_config(disable=True)
    pipe.generation_defaults = SMALL
    frames = _frames(pipe)
    assert frames.shape == (1, 9, 3, 32, 64)  # the model's size, not diffusers' 161 x 512 x 704
    torch.testing.assert_close(frames, _frames(pipe, **SMALL.call_kwargs()), rtol=0, atol=0)
    # STG and the negative prompt came from the model: without them the video differs.
    assert (frames - _frames(pipe, stg_scale=0.0)).abs().max() > 1e-3
    assert (frames - _frames(pipe, negative_prompt="")).abs().max() > 1e-3
    # What the call gives wins, argument by argument.
    taller = _frames(pipe, height=64, num_inference_steps=1)
    assert taller.shape == (1, 9, 3, 64, 64)
    torch.testing.assert_close(taller, _frames(pipe, **{**SMALL.call_kwargs(), "height": 64, "num_inference_steps": 1}),
                               rtol=0, atol=0)
    # Negative embeddings given: the model's negative prompt is not added to them (diffusers refuses both); the
    # embeddings run as a batch of two, so the values agree to float rounding only.
    embeds, mask, negative, negative_mask = pipe.encode_prompt("a red ball bounces", "", max_sequence_length=16)
    out = pipe(prompt_embeds=embeds, prompt_attention_mask=mask, negative_prompt_embeds=negative,
               negative_prompt_attention_mask=negative_mask, output_type="pt", max_sequence_length=16,
               generator=torch.Generator().manual_seed(0)).frames
    torch.testing.assert_close(out, _frames(pipe, negative_prompt="", max_sequence_length=16), rtol=0, atol=1e-5)
    assert (out - _frames(pipe, max_sequence_length=16)).abs().max() > 1e-3  # the model's "blurry" was not used


def test_audio_video_calls_take_the_modality_guidance_that_fits_them(caplog):
    pipe = tiny_audio_video_pipeline()
    pipe.set_progress_bar_config(disable=True)
    pipe.generation_defaults = GenerationDefaults(
        height=32, width=32, num_frames=9, frame_rate=12.0, num_inference_steps=2, guidance_scale=2.0,
        audio_modality_scale=2.0, given_audio={"modality_scale": 3.0, "num_inference_steps": 3})

    # Open audio<->video gates (zero at init): with them closed the modality term is zero but for rounding.
    with av_gates(pipe.transformer, 0.5):
        def call(**kwargs):
            out = pipe("a red ball bounces", output_type="pt", generator=torch.Generator().manual_seed(0), **kwargs)
            return out.frames, None if out.audio is None else out.audio[0]

        joint = call()
        torch.testing.assert_close(joint, call(**pipe.generation_defaults.call_kwargs()), rtol=0, atol=0)
        assert (joint[1] - call(audio_modality_scale=1.0)[1]).abs().max() > 1e-3  # the model's 2.0 was used
        sound = torch.sin(torch.linspace(0, 400, 12000))
        given = call(audio=sound, audio_sample_rate=16000)
        torch.testing.assert_close(
            given, call(audio=sound, audio_sample_rate=16000, **pipe.generation_defaults.call_kwargs(audio_given=True)),
            rtol=0, atol=0)
        unguided = call(audio=sound, audio_sample_rate=16000, modality_scale=1.0, num_inference_steps=3)[0]
        assert (given[0] - unguided).abs().max() > 1e-3  # the given-sound modality scale 3 was used
        # Video only: the model's modality scales have nothing to act on and are not taken (no warning); a given one is.
        with caplog.at_level(logging.WARNING):
            video_only = call(generate_audio=False)
        assert video_only[1] is None and "modality" not in caplog.text
        torch.testing.assert_close(video_only[0], call(generate_audio=False, audio_modality_scale=1.0)[0], rtol=0, atol=0)
        with caplog.at_level(logging.WARNING):
            call(generate_audio=False, audio_modality_scale=4.0)
        assert "modality guidance has no audio stream" in caplog.text
