"""What a diffusers user porting code met (2026-12-06), each compared with diffusers where it defines the behaviour:
diffusers' multi-scale recipe's trailing 0 timestep refused, ``current_timestep`` one step late during the
transformer call (Pyramid Attention Broadcast failed), a swapped scheduler silently unused, ``from_pipe`` losing
the built-in model's generation defaults, and arguments that failed inside a model (some after the whole loop)."""

import PIL.Image
import pytest
import torch
from conftest import assert_fp32_equal, gen
from diffusers import (
    DDIMScheduler,
    FlowMatchEulerDiscreteScheduler,
    PyramidAttentionBroadcastConfig,
    UniPCMultistepScheduler,
)

from ltx_video import LTXAudioVideoPipeline, LTXVideoPipeline

KW = dict(prompt="a red ball", height=32, width=32, num_frames=9, max_sequence_length=16)


def test_timesteps_may_end_in_zero_as_in_diffusers_recipe(pipes):
    ref, ours = pipes
    timesteps = [1000, 909, 725, 421, 0]  # diffusers' documented second pass (docs/source/en/api/pipelines/ltx_video.md)
    seen = []
    with_zero = ours(**KW, timesteps=timesteps, generator=gen(), output_type="pt",
                     callback_on_step_end=lambda p, i, t, kw: seen.append(float(t)) or kw).frames
    without = ours(**KW, timesteps=timesteps[:-1], generator=gen(), output_type="pt").frames
    assert_fp32_equal(with_zero, without)  # the last step changes nothing (was: "must be strictly decreasing")
    assert seen == [float(t) for t in timesteps]  # and is a step, as diffusers counts it
    with pytest.raises(ValueError, match="`timesteps` must be strictly decreasing"):
        ours(**KW, timesteps=[1000, 0, 500])


def test_current_timestep_is_the_running_step_during_the_model_call(pipes):
    ref, ours = pipes
    readings = {}
    for name, pipe in (("diffusers", ref), ("ours", ours)):
        seen = readings[name] = []
        handle = pipe.transformer.register_forward_pre_hook(
            lambda module, args, kwargs, p=pipe, s=seen: s.append(p.current_timestep), with_kwargs=True)
        try:
            pipe(**KW, num_inference_steps=3, guidance_scale=1.0, generator=gen())
        finally:
            handle.remove()
    assert readings["ours"] == readings["diffusers"] and None not in readings["ours"]  # ours started with None


def test_pyramid_attention_broadcast_reads_it(components):
    pipe = LTXVideoPipeline(**{**components, "transformer": type(components["transformer"]).from_config(
        components["transformer"].config)})
    pipe.transformer.load_state_dict(components["transformer"].state_dict())
    pipe.set_progress_bar_config(disable=True)
    pipe.transformer.enable_cache(PyramidAttentionBroadcastConfig(
        spatial_attention_block_skip_range=2, spatial_attention_timestep_skip_range=(0, 1000),
        current_timestep_callback=lambda: pipe.current_timestep))
    frames = pipe(**KW, num_inference_steps=3, generator=gen(), output_type="pt").frames  # was a TypeError at step 0
    assert torch.isfinite(frames).all()


def test_a_scheduler_whose_steps_are_not_taken_is_refused(components):
    for scheduler in (UniPCMultistepScheduler(), DDIMScheduler()):  # were silently unused
        pipe = LTXVideoPipeline(**{**components, "scheduler": scheduler})
        with pytest.raises(ValueError, match=f"`scheduler` must be a FlowMatchEulerDiscreteScheduler .*{type(scheduler).__name__}"):
            pipe(**KW, num_inference_steps=2)
    base = LTXVideoPipeline(**components)
    stochastic = LTXVideoPipeline(**{**components, "scheduler": FlowMatchEulerDiscreteScheduler.from_config(
        components["scheduler"].config, stochastic_sampling=True)})
    for p in (base, stochastic):
        p.set_progress_bar_config(disable=True)
    from_flag = stochastic(**KW, num_inference_steps=3, generator=gen(), output_type="pt").frames
    from_call = base(**KW, num_inference_steps=3, generator=gen(), output_type="pt", stochastic_sampling=True).frames
    plain = base(**KW, num_inference_steps=3, generator=gen(), output_type="pt").frames
    assert_fp32_equal(from_flag, from_call)  # the flag is the call's stochastic_sampling (diffusers' step honours it)
    assert not torch.equal(from_flag, plain)
    # the call's explicit False wins over the scheduler's True (it was or-ed with it: silently stochastic)
    off = stochastic(**KW, num_inference_steps=3, generator=gen(), output_type="pt", stochastic_sampling=False).frames
    assert_fp32_equal(off, plain)


def test_diffusers_public_attributes_and_an_image_given_first(pipes):
    # scripts written for diffusers' LTX pipelines read these (AttributeError); an image passed first as
    # LTXImageToVideoPipeline takes it was refused naming only its type
    ref, pipe = pipes
    assert (pipe.tokenizer_max_length, pipe.transformer_spatial_patch_size, pipe.transformer_temporal_patch_size) == (
        ref.tokenizer_max_length, ref.transformer_spatial_patch_size, ref.transformer_temporal_patch_size)
    assert (pipe.default_height, pipe.default_width, pipe.default_frames) == (512, 704, 161)  # the call's own
    assert pipe.tokenizer_max_length == pipe.tokenizer.model_max_length
    assert (pipe.transformer_spatial_patch_size, pipe.transformer_temporal_patch_size) == (1, 1)
    image = PIL.Image.new("RGB", (32, 32))
    with pytest.raises(ValueError, match=r"got Image \(an image goes in `image=`; the prompt is the first argument"):
        pipe(image, "a prompt", num_inference_steps=1)


def test_from_pipe_keeps_the_generation_defaults():
    from ltx_video.default_model import load_default_pipeline

    source = load_default_pipeline()
    keys = dict(height=None, width=None, num_frames=None, frame_rate=None, num_inference_steps=None,
                guidance_scale=None, stg_scale=None, skip_block_list=None, negative_prompt=None)
    expected = source.call_defaults(**keys)
    assert expected[:3] == (64, 64, 49)
    assert LTXAudioVideoPipeline.from_pipe(source).call_defaults(**keys) == expected  # was 512 x 704 x 161, 50 steps
    video_only = LTXVideoPipeline.from_pipe(source)  # refused the audio-video transformer before
    assert video_only.transformer is source.transformer and video_only.call_defaults(**keys) == expected


@pytest.mark.parametrize("arguments, message", [
    (dict(decode_timestep=[0.05] * 3), "`decode_timestep` has 3 entries but 1 videos"),  # made 3 videos
    (dict(decode_timestep=0.05, decode_noise_scale=[0.1] * 2), "`decode_noise_scale` has 2 entries"),
    (dict(prompt=[]), "`prompt` must be a str or a non-empty list of str"),
    (dict(prompt=["a", 3]), "`prompt` must be a str or a non-empty list of str, got a list holding \\['int'\\]"),
    (dict(negative_prompt=3), "`negative_prompt` must be a str or a list of str, got int"),
    (dict(generator=0), "`generator` must be a torch.Generator"),
    (dict(callback_on_step_end=3), "`callback_on_step_end` must be callable"),
    (dict(attention_kwargs=[1]), "`attention_kwargs` must be a dict"),
    (dict(max_sequence_length=0), "`max_sequence_length` must be an integer >= 1"),
])
def test_arguments_are_checked_before_any_model_runs(pipes, arguments, message):
    ours = pipes[1]
    calls = []
    handle = ours.text_encoder.register_forward_pre_hook(lambda *a: calls.append(1))
    try:
        with pytest.raises(ValueError, match=message):
            ours(**{**KW, "num_inference_steps": 2, **arguments})
    finally:
        handle.remove()
    assert not calls  # nothing ran


def test_text_tensors_are_checked_and_promoted_as_diffusers_does(pipes):
    ref, ours = pipes
    with torch.no_grad():
        embeds, mask, _, _ = ours.encode_prompt("a red ball", do_classifier_free_guidance=False, max_sequence_length=16)
    bad = [
        (dict(prompt_embeds=embeds, prompt_attention_mask=mask[:, :8]), "`prompt_attention_mask` must have shape"),
        (dict(prompt_embeds=embeds[0], prompt_attention_mask=mask), r"`prompt_embeds` must be a tensor \(B, L, D\)"),
        (dict(prompt_embeds=embeds.numpy(), prompt_attention_mask=mask), "`prompt_embeds` must be a tensor"),
    ]
    for arguments, message in bad:
        with pytest.raises(ValueError, match=message):
            ours(**{**KW, "prompt": None, "num_inference_steps": 2, **arguments})
    kw = {**KW, "prompt": None, "num_inference_steps": 2, "prompt_embeds": embeds.bfloat16(),
          "prompt_attention_mask": mask, "output_type": "pt"}  # bf16 embeddings, an fp32 negative from T5
    assert_fp32_equal(ours(**kw, generator=gen()).frames, ref(**kw, generator=gen()).frames)  # failed: mat1 and mat2


def test_no_vae_needs_latent_output(components):
    pipe = LTXVideoPipeline(**{**components, "vae": None})
    with pytest.raises(ValueError, match="`output_type='pt'` decodes with a `vae`, and this pipeline has none"):
        pipe(**KW, num_inference_steps=2, output_type="pt")
