"""diffusers' run-time pipeline state and component swaps: what callbacks read and change, and
``components`` passing between our pipeline and diffusers' LTXConditionPipeline both ways."""

import torch
from conftest import assert_fp32_equal, gen
from diffusers import LTXConditionPipeline

from ltx_video import LTXVideoPipeline
from ltx_video.conditioning.items import pack
from ltx_video.pipelines import denoising
from ltx_video.testing import tiny_audio_video_pipeline, tiny_pipeline

KW = dict(prompt="a red ball", height=32, width=32, num_frames=9, num_inference_steps=3, output_type="pt")


def _pipe(components, cls=LTXVideoPipeline):
    pipe = cls(**components)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_components_pass_both_ways(components):
    ours = _pipe(components)
    assert "latent_upsampler" not in ours.components  # unset: diffusers' LTX pipelines have no such component
    theirs = _pipe(ours.components, LTXConditionPipeline)
    back = _pipe(theirs.components)
    reference = ours(**KW, generator=gen()).frames
    assert_fp32_equal(theirs(**KW, generator=gen()).frames, reference)  # the project's 1e-5 parity bound
    assert torch.equal(back(**KW, generator=gen()).frames, reference)  # the same modules, the same calls


def test_callback_reads_diffusers_run_time_state(components):
    pipe = _pipe(components)
    seen = []

    def callback(p, i, t, tensors):
        seen.append((p.guidance_scale, p.do_classifier_free_guidance, p.num_timesteps, p.current_timestep,
                     p.attention_kwargs, p.interrupt, p.guidance_rescale))
        return tensors

    pipe(**KW, guidance_scale=2.5, guidance_rescale=0.3, attention_kwargs={"scale": 1.0}, callback_on_step_end=callback,
         generator=gen())
    timesteps = denoising.linear_quadratic_schedule(3) * 1000
    assert [s[3].item() for s in seen] == timesteps.tolist()
    assert all(s[:3] == (2.5, True, 3) and s[4] == {"scale": 1.0} and s[5:] == (False, 0.3) for s in seen)
    assert pipe.current_timestep is None  # after the loop, as diffusers


def test_callback_changes_the_guidance_of_later_steps(components):
    """diffusers' test_callback_cfg: +1 per step; and a change after step 0 equals the same schedule given upfront."""
    pipe = _pipe(components)

    def increase(p, i, t, tensors):
        p._guidance_scale += 1.0
        return tensors

    pipe(**KW, guidance_scale=2.0, callback_on_step_end=increase, generator=gen())
    assert pipe.guidance_scale == 2.0 + pipe.num_timesteps

    def to_five(p, i, t, tensors):
        p._guidance_scale = 5.0
        return tensors

    changed = pipe(**KW, guidance_scale=2.0, callback_on_step_end=to_five, generator=gen()).frames
    timesteps = (denoising.linear_quadratic_schedule(3) * 1000).tolist()
    upfront = pipe(**KW, guidance_scale=[2.0, 5.0], guidance_timesteps=timesteps[:2], generator=gen()).frames
    plain = pipe(**KW, guidance_scale=2.0, generator=gen()).frames
    assert torch.equal(changed, upfront) and (changed - plain).abs().max() > 1e-3


def test_interrupt_stops_the_loop(components):
    pipe = _pipe(components)
    after_first = []

    def stop(p, i, t, tensors):
        after_first.append(tensors["latents"].clone())
        p._interrupt = True
        return tensors

    latents = pipe(**{**KW, "output_type": "latent"}, callback_on_step_end=stop, generator=gen()).frames
    assert len(after_first) == 1 and pipe.interrupt
    assert torch.equal(pack(latents), after_first[0])  # the latents after step 0, not denoised further
    assert not pipe(**{**KW, "output_type": "latent"}, generator=gen()).frames.equal(latents)  # reset per call


def test_callback_text_changes_follow_diffusers(components):
    """diffusers' loop takes a returned ``prompt_embeds`` whether or not the callback listed it, and uses the very
    tensor it showed, so an in-place edit counts too; ours ignored both."""
    ours, ref = _pipe(components), _pipe(components, LTXConditionPipeline)
    positive, _, negative, _ = ref.encode_prompt("a blue square", "", do_classifier_free_guidance=True)
    switched = torch.cat([negative, positive])  # the loop's layout with CFG: negative, then positive

    def switch(p, i, t, tensors):
        return {**tensors, "prompt_embeds": switched} if i == 0 else tensors

    def triple(p, i, t, tensors):
        tensors["prompt_embeds"].mul_(3.0)
        return tensors

    plain = ours(**KW, generator=gen()).frames
    for callback, names in ((switch, ["latents"]), (triple, ["latents", "prompt_embeds"])):
        got, expected = (p(**KW, callback_on_step_end=callback, callback_on_step_end_tensor_inputs=names,
                           generator=gen()).frames for p in (ours, ref))
        assert (got - plain).abs().max() > 1e-2
        assert_fp32_equal(got, expected)


def test_an_in_place_edit_of_the_negative_embeddings_counts_as_returning_it(components):
    pipe = _pipe(components)
    names = ["latents", "negative_prompt_embeds"]

    def zero_in_place(p, i, t, tensors):
        tensors["negative_prompt_embeds"].mul_(0)
        return tensors

    def zero_returned(p, i, t, tensors):
        return {**tensors, "negative_prompt_embeds": tensors["negative_prompt_embeds"] * 0}

    in_place, returned = (pipe(**KW, callback_on_step_end=cb, callback_on_step_end_tensor_inputs=names,
                               generator=gen()).frames for cb in (zero_in_place, zero_returned))
    assert torch.equal(in_place, returned) and (in_place - pipe(**KW, generator=gen()).frames).abs().max() > 1e-2


def test_do_classifier_free_guidance_tells_each_steps_unconditional_pass():
    """LTX2Pipeline's rule (guidance_scale > 1 or audio_guidance_scale > 1) on the current step's scales. It read the
    audio's CFG once per call and a list as a whole: after a callback cut the video's CFG at step 0 it said False while
    the audio's pass ran on, and for [3, 1] True where the step's scale is 1 with no audio CFG."""
    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    seen = []

    def cut(p, i, t, tensors):  # diffusers' CFG cutoff
        seen.append(p.do_classifier_free_guidance)
        p._guidance_scale = 1.0 if i == 0 else p._guidance_scale
        seen.append(p.do_classifier_free_guidance)
        return tensors

    def watch(p, i, t, tensors):
        seen.append(p.do_classifier_free_guidance)
        return tensors

    kw = dict(KW, output_type="latent", stg_scale=0.0, audio_modality_scale=1.0)
    listed = dict(kw, guidance_scale=[3.0, 1.0], guidance_timesteps=[1000, 999])  # step 0 at 3, steps 1-2 at 1
    for audio_scale, after_cut, per_step in ((3.0, [True] * 5, [True] * 3), (None, [False] * 5, [True, False, False])):
        seen.clear()
        a = pipe(**kw, guidance_scale=3.0, audio_guidance_scale=audio_scale, callback_on_step_end=cut, generator=gen())
        assert seen == [True, *after_cut]  # step 0 before the cut, then after it
        seen.clear()
        b = pipe(**listed, audio_guidance_scale=audio_scale, callback_on_step_end=watch, generator=gen())
        assert seen == per_step
        assert torch.equal(a.frames, b.frames) and torch.equal(a.audio_latents, b.audio_latents)  # the same passes


def test_do_classifier_free_guidance_follows_a_per_interval_list_in_the_video_pipeline():
    """LTXVideoPipeline showed no per-step plan: ``guidance_scale=[3, 1]`` read True at every step."""
    pipe = tiny_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    seen = []

    def watch(p, i, t, tensors):
        seen.append(p.do_classifier_free_guidance)
        return tensors

    pipe("a ball", height=32, width=32, num_frames=9, num_inference_steps=3, output_type="latent",
         guidance_scale=[3.0, 1.0], guidance_timesteps=[1000, 999], callback_on_step_end=watch, generator=gen())
    assert seen == [True, False, False]
