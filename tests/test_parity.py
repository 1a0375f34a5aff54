"""LTXVideoPipeline against diffusers' own LTX pipelines on the same components and generator."""

import pytest
import torch
from conftest import gen
from diffusers import FlowMatchEulerDiscreteScheduler, LTXConditionPipeline, LTXImageToVideoPipeline, LTXPipeline
from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

from ltx_video import ConditioningItem, LTXVideoPipeline
from ltx_video.testing import tiny_components, tiny_latent_upsampler

TOL = 1e-5
COMMON = dict(height=64, width=96, num_frames=17, num_inference_steps=3, max_sequence_length=16,
              decode_timestep=0.05, decode_noise_scale=0.025)


def run(pipe, seed=0, **kw):
    return pipe(**{**COMMON, **kw}, generator=gen(seed)).frames


CASES = {
    "t2v_cfg": dict(prompt="a red ball bounces", output_type="pt"),
    "t2v_no_cfg": dict(prompt="a red ball bounces", guidance_scale=1.0, output_type="pt"),
    "t2v_rescale": dict(prompt="a red ball bounces", guidance_rescale=0.7, output_type="pt"),
    "batch_of_two": dict(prompt=["a red ball", "a blue cube"], negative_prompt=["dark", "blurry"], output_type="pt"),
    "latent": dict(prompt="a red ball bounces", output_type="latent"),
    "np": dict(prompt="a red ball bounces", output_type="np"),
}


@pytest.mark.parametrize("case", CASES)
def test_text_to_video_matches_ltx_condition_pipeline(pipes, case):
    ref, ours = pipes
    expected, got = run(ref, **CASES[case]), run(ours, **CASES[case])
    expected, got = torch.as_tensor(expected), torch.as_tensor(got)
    assert expected.shape == got.shape
    assert (expected - got).abs().max().item() <= TOL
    # Negative control: another seed changes the output, so the comparison above has teeth.
    other = torch.as_tensor(run(ours, seed=1, **CASES[case]))
    assert (other - got).abs().max().item() > 1e-2


def test_image_to_video_matches(pipes, images):
    ref, ours = pipes
    kw = dict(prompt="a ball", image=images[0], output_type="pt", width=64)
    assert (run(ref, **kw) - run(ours, **kw)).abs().max().item() <= TOL


@pytest.mark.parametrize("guidance_scale", [1.0, 3.0])
def test_three_keyframes_match(pipes, images, guidance_scale):
    ref, ours = pipes
    conds = [
        LTXVideoCondition(image=images[0], frame_index=0),
        LTXVideoCondition(image=images[1], frame_index=8, strength=0.8),
        LTXVideoCondition(image=images[2], frame_index=16),
    ]
    kw = dict(prompt="a ball", conditions=conds, guidance_scale=guidance_scale, width=64)
    for output_type in ("latent", "pt"):
        expected, got = run(ref, output_type=output_type, **kw), run(ours, output_type=output_type, **kw)
        assert (expected - got).abs().max().item() <= TOL


def test_conditioning_items_equal_conditions(pipes, images):
    """LTX-Video's ConditioningItem and diffusers' LTXVideoCondition are the same request."""
    _, ours = pipes
    a = run(ours, prompt="a ball", width=64, output_type="latent",
            conditions=[LTXVideoCondition(image=images[0], frame_index=0), LTXVideoCondition(image=images[1], frame_index=9)])
    b = run(ours, prompt="a ball", width=64, output_type="latent",
            conditioning_items=[ConditioningItem(images[0], 0, 1.0), ConditioningItem(images[1], 9, 1.0)])
    c = run(ours, prompt="a ball", width=64, output_type="latent", image=images[:2], frame_index=[0, 9])
    assert torch.equal(a, b) and torch.equal(a, c)


def test_video_condition_matches(pipes, images):
    ref, ours = pipes
    clip = [images[i % 3] for i in range(9)]
    kw = dict(prompt="a ball", width=64, output_type="latent",
              conditions=[LTXVideoCondition(video=clip, frame_index=8, strength=0.9)], num_frames=25)
    assert (run(ref, **kw) - run(ours, **kw)).abs().max().item() <= TOL


def shifted_pair(reference_cls, components):
    """diffusers' reference and ours on LTX-Video 0.9.0's scheduler config (resolution-dependent shift)."""
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024, max_image_seq_len=4096
    )
    comps = {**components, "scheduler": scheduler}
    ref, ours = reference_cls(**comps), LTXVideoPipeline(**comps)
    for p in (ref, ours):
        p.set_progress_bar_config(disable=True)
    return ref, ours


def test_shifted_schedule_matches_ltx_pipeline(components):
    ref, ours = shifted_pair(LTXPipeline, components)
    kw = dict(prompt=["a red ball bounces", "sky"], output_type="pt")
    expected = run(ref, **kw)
    got = run(ours, timestep_schedule="shifted", **kw)
    assert (expected - got).abs().max().item() <= TOL
    assert (run(ours, **kw) - expected).abs().max().item() > 1e-2  # the default schedule is a different one


@pytest.fixture(scope="module")
def bf16_components():
    return {k: v.to(torch.bfloat16) if isinstance(v, torch.nn.Module) else v for k, v in tiny_components(seed=0).items()}


@pytest.mark.parametrize("guidance_scale", [1.0, 3.0])
def test_bf16_matches_ltx_condition_pipeline(bf16_components, images, guidance_scale):
    """bf16 CPU matmuls round by memory layout: without CFG the tokens must reach the transformer laid out as
    diffusers packs them (they were a contiguous copy, 0.006 off in the latents at guidance_scale 1)."""
    ref, ours = LTXConditionPipeline(**bf16_components), LTXVideoPipeline(**bf16_components)
    for p in (ref, ours):
        p.set_progress_bar_config(disable=True)
    for extra in ({}, {"image": images[0]}):
        kw = dict(prompt="a red ball bounces", guidance_scale=guidance_scale, width=64, **extra)
        for output_type in ("latent", "pt"):
            expected, got = run(ref, output_type=output_type, **kw), run(ours, output_type=output_type, **kw)
            assert (expected.float() - got.float()).abs().max().item() <= TOL


@pytest.mark.parametrize("guidance_scale", [1.0, 3.0])
def test_bf16_shifted_schedule_matches_ltx_pipeline(bf16_components, guidance_scale):
    """LTXPipeline combines the CFG passes in float32 (LTXConditionPipeline in the transformer's dtype): with CFG in
    bf16 the frames were 0.02 off until the shifted path did the same."""
    ref, ours = shifted_pair(LTXPipeline, bf16_components)
    kw = dict(prompt="a red ball bounces", guidance_scale=guidance_scale, output_type="pt")
    expected, got = run(ref, **kw), run(ours, timestep_schedule="shifted", **kw)
    assert (expected.float() - got.float()).abs().max().item() <= TOL
    assert (run(ours, seed=1, timestep_schedule="shifted", **kw) - got).abs().max().item() > 1e-2


def test_swap_components_from_diffusers_pipeline(pipes):
    ref, _ = pipes
    swapped = LTXVideoPipeline(**ref.components)
    assert set(swapped.components) == {"scheduler", "vae", "text_encoder", "tokenizer", "transformer"}  # as ref's
    assert swapped.transformer is ref.transformer and swapped.latent_upsampler is None
    swapped.register_modules(latent_upsampler=tiny_latent_upsampler())  # a set upsampler is a component
    assert swapped.components["latent_upsampler"] is swapped.latent_upsampler


def test_image_to_video_matches_ltx_image_to_video_pipeline(components, images):
    ref, ours = shifted_pair(LTXImageToVideoPipeline, components)
    kw = dict(prompt="a ball", image=images[0], width=64, output_type="pt")
    expected = run(ref, **kw)
    got = run(ours, timestep_schedule="shifted", **kw)
    assert (expected - got).abs().max().item() <= TOL


def test_denoise_strength_matches(pipes, images):
    ref, ours = pipes
    start = torch.randn(1, 8, 3, 2, 3, generator=gen(5))
    kw = dict(prompt="a ball", image=images[0], width=96, latents=start, denoise_strength=0.6, output_type="latent",
              num_inference_steps=5)
    assert (run(ref, **kw) - run(ours, **kw)).abs().max().item() <= TOL


def test_ltx_scheduler_config_keeps_explicit_timesteps(components):
    """LTX-Video's scheduler config (dynamic shifting, shift_terminal 0.1) must not move explicit timesteps."""
    ltx_scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024, max_image_seq_len=4096,
        shift_terminal=0.1,
    )
    plain = LTXVideoPipeline(**components)
    shifted = LTXVideoPipeline(**{**components, "scheduler": ltx_scheduler})
    for p in (plain, shifted):
        p.set_progress_bar_config(disable=True)
    kw = dict(prompt="a ball", output_type="latent", timesteps=[1000.0, 993.7, 909.4, 725.0])
    assert torch.equal(run(plain, **kw), run(shifted, **kw))
    timesteps, sigmas = shifted.retrieve_schedule(3, [1000.0, 909.4, 725.0], "linear_quadratic", 18, "cpu")
    assert torch.allclose(sigmas, torch.tensor([1.0, 0.9094, 0.725, 0.0]))


def test_videos_per_prompt_pairs_each_prompt_with_its_mask(pipes):
    """Two prompts of different lengths x 2 videos: every row equals its single-prompt run."""
    _, ours = pipes
    prompts = ["red", "a big blue cube with a cat"]
    noise = torch.randn(4, 8, 3, 2, 3, generator=gen(7))
    both = run(ours, prompt=prompts, num_videos_per_prompt=2, latents=noise, output_type="latent")
    for i in range(4):
        single = run(ours, prompt=prompts[i // 2], latents=noise[i : i + 1], output_type="latent")
        assert torch.allclose(both[i : i + 1], single, atol=1e-5)
    embeds, mask, _, _ = ours.encode_prompt(prompts, do_classifier_free_guidance=False, max_sequence_length=16)
    again = run(ours, prompt_embeds=embeds, prompt_attention_mask=mask, negative_prompt_embeds=torch.zeros_like(embeds),
                negative_prompt_attention_mask=mask, num_videos_per_prompt=2, latents=noise, output_type="latent")
    assert again.shape == both.shape


def test_shifted_schedule_follows_the_schedulers_num_train_timesteps_as_ltx_pipeline(components, images):
    """diffusers feeds the transformer t = sigma x num_train_timesteps and steps with the scheduler's sigmas; the loop
    took sigma = t / 1000 whatever the scheduler said, 0.219 off LTXPipeline with num_train_timesteps=500."""
    comps = {**components, "scheduler": FlowMatchEulerDiscreteScheduler.from_config(
        components["scheduler"].config, num_train_timesteps=500)}
    ours = LTXVideoPipeline(**comps)
    for reference_cls, extra in ((LTXPipeline, {}), (LTXImageToVideoPipeline, {"image": images[0]})):
        ref = reference_cls(**comps)
        for p in (ref, ours):
            p.set_progress_bar_config(disable=True)
        kw = dict(prompt="a red ball bounces", width=64, output_type="pt", **extra)
        expected, got = run(ref, **kw), run(ours, timestep_schedule="shifted", **kw)
        assert torch.equal(expected, got) if not extra else (expected - got).abs().max().item() <= TOL
    assert ours.scheduler.timesteps[0].item() == 500.0  # the schedule the transformer was fed
    thousand = LTXVideoPipeline(**components)  # the same sigmas in units of 1000: another video
    thousand.set_progress_bar_config(disable=True)
    kw = dict(prompt="a red ball bounces", width=64, output_type="pt", timestep_schedule="shifted")
    assert (run(thousand, **kw) - run(ours, **kw)).abs().max().item() > 1e-2
