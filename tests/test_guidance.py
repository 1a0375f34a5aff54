"""Schedules, guidance maths and spatiotemporal guidance against their definitions."""

import copy
import logging

import pytest
import torch
from conftest import gen
from diffusers.models.transformers.transformer_ltx import LTXAttention
from diffusers.pipelines.ltx.pipeline_ltx_condition import linear_quadratic_schedule as diffusers_lq

from ltx_video import LTXVideoPipeline
from ltx_video.attention.stg import SkipLayerStrategy, STGAttnProcessor, spatiotemporal_perturbation
from ltx_video.pipelines import denoising


@pytest.mark.parametrize("steps", [1, 2, 7, 30, 50])
def test_linear_quadratic_schedule_equals_ltx(steps):
    assert torch.allclose(denoising.linear_quadratic_schedule(steps), diffusers_lq(steps), atol=1e-7)


def test_next_sigmas_per_token():
    schedule = torch.tensor([1.0, 0.7, 0.3, 0.0])
    tokens = torch.tensor([[1.0, 0.7, 0.5, 0.0]])
    assert torch.equal(denoising.next_sigmas(tokens, schedule), torch.tensor([[0.7, 0.3, 0.3, 0.0]]))


def test_apply_guidance_formula():
    g = torch.Generator().manual_seed(0)
    u, c, p = (torch.randn(2, 5, 3, generator=g) for _ in range(3))
    cfg = denoising.GuidanceConfig(guidance_scale=4.0, stg_scale=2.0, rescaling_scale=0.7, skip_block_list=(1,))
    guided = u + 4.0 * (c - u) + 2.0 * (c - p)
    ratio = c.flatten(1).std(1) / guided.flatten(1).std(1)
    expected = guided * (0.7 * ratio + 0.3).view(2, 1, 1)
    assert torch.allclose(denoising.apply_guidance(torch.cat([u, c, p]), cfg), expected, atol=1e-6)
    # rescaling_scale == 1 means "no rescale" in LTX-Video 0.9.8.
    cfg1 = denoising.GuidanceConfig(guidance_scale=4.0, stg_scale=2.0, rescaling_scale=1.0, skip_block_list=(1,))
    assert torch.allclose(denoising.apply_guidance(torch.cat([u, c, p]), cfg1), guided, atol=1e-6)
    # CFG-Zero*: uncond is replaced by its projection onto cond.
    star = denoising.GuidanceConfig(guidance_scale=3.0, cfg_star_rescale=True)
    alpha = (u * c).flatten(1).sum(1) / (u * u).flatten(1).sum(1)
    u_star = u * alpha.view(2, 1, 1)
    assert torch.allclose(denoising.apply_guidance(torch.cat([u, c]), star), u_star + 3 * (c - u_star), atol=1e-5)


def test_modality_guidance_formula():
    """LTX-2's modality term: each stream moves (scale - 1) times its difference from the isolated pass."""
    g = torch.Generator().manual_seed(1)
    u, c, i, p = (torch.randn(2, 5, 3, generator=g) for _ in range(4))
    cfg = denoising.GuidanceConfig(guidance_scale=4.0, stg_scale=2.0, skip_block_list=(1,), modality_scale=3.0,
                                   audio_modality_scale=1.5)
    assert cfg.do_modality and cfg.num_passes == 4
    stacked = torch.cat([u, c, i, p])  # [uncond, cond, isolated, perturbed]
    assert torch.allclose(denoising.apply_guidance(stacked, cfg), u + 4 * (c - u) + 2 * (c - i) + 2 * (c - p), atol=1e-6)
    audio = denoising.apply_audio_guidance(stacked, cfg, audio_guidance_scale=5.0)
    assert torch.allclose(audio, u + 5 * (c - u) + 0.5 * (c - i), atol=1e-6)
    # Without CFG or STG: [cond, isolated]; the audio term alone when only the audio's scale is set.
    only = denoising.GuidanceConfig(audio_modality_scale=2.0)
    assert only.num_passes == 2
    assert torch.equal(denoising.apply_guidance(torch.cat([c, i]), only), c)
    assert torch.allclose(denoising.apply_audio_guidance(torch.cat([c, i]), only), c + (c - i), atol=1e-6)
    assert not denoising.GuidanceConfig(modality_scale=1.0, audio_modality_scale=1.0).do_modality
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="modality_scale"):
            denoising.GuidanceConfig(modality_scale=bad)


def test_audio_guidance_scale_above_1_adds_the_unconditional_pass_and_the_video_keeps_cond():
    """diffusers' LTX2Pipeline runs CFG when guidance_scale > 1 or audio_guidance_scale > 1; the video at its own scale
    1 is the conditional prediction itself, not ``uncond + 1 (cond - uncond)``."""
    g = torch.Generator().manual_seed(2)
    u, c, i = (torch.randn(2, 5, 3, generator=g) for _ in range(3))
    cfg = denoising.GuidanceConfig(guidance_scale=1.0, audio_guidance_scale=7.0, audio_modality_scale=2.0)
    assert cfg.do_cfg and cfg.num_passes == 3
    stacked = torch.cat([u, c, i])  # [uncond (the audio's), cond, isolated]
    assert torch.equal(denoising.apply_guidance(stacked, cfg), c)
    assert torch.allclose(denoising.apply_audio_guidance(stacked, cfg), u + 7 * (c - u) + (c - i), atol=1e-5)
    for ags in (None, 1.0, 0.5):  # no pass for the audio: as before
        assert not denoising.GuidanceConfig(guidance_scale=1.0, audio_guidance_scale=ags).do_cfg
    with pytest.raises(ValueError, match="audio_guidance_scale"):
        denoising.GuidanceConfig(audio_guidance_scale=float("inf"))
    timesteps = torch.tensor([1000.0, 600.0, 200.0])
    lists = dict(guidance_scale=[3.0, 1.0], stg_scale=0, rescaling_scale=1, skip_block_list=[],
                 guidance_timesteps=[1000.0, 500.0])
    passes = [[g.num_passes for g in denoising.guidance_schedule(timesteps, **lists, audio_guidance_scale=ags)]
              for ags in (None, 0.5, 7.0)]
    assert passes == [[2, 1, 1], [2, 1, 1], [2, 2, 2]]  # per step: its guidance_scale > 1 or the audio's


def test_guidance_schedule_maps_ltx_dev_config():
    """LTX-Video 0.9.8 13B-dev first pass: lists indexed by the first guidance timestep <= t."""
    timesteps = torch.tensor([1000.0, 995.0, 990.0, 950.0, 500.0])
    sched = denoising.guidance_schedule(
        timesteps,
        guidance_scale=[1, 1, 6, 8, 6, 1, 1],
        stg_scale=[0, 0, 4, 4, 4, 2, 1],
        rescaling_scale=[1, 1, 0.5, 0.5, 1, 1, 1],
        skip_block_list=[[], [11, 25, 35, 39], [22, 35, 39], [28], [28], [28], [28]],
        guidance_timesteps=[1000.0, 996.0, 993.3, 985.0, 976.7, 900.8, 618.0],
    )
    assert [s.guidance_scale for s in sched] == [1, 6, 8, 1, 1]
    assert [s.skip_block_list for s in sched] == [(), (22, 35, 39), (28,), (28,), (28,)]
    with pytest.raises(ValueError, match="guidance_timesteps"):
        denoising.guidance_schedule(timesteps, guidance_scale=[1, 2], stg_scale=0, rescaling_scale=1, skip_block_list=[])


def _attn():
    torch.manual_seed(0)
    return LTXAttention(query_dim=16, heads=2, kv_heads=2, dim_head=8).eval()


@pytest.mark.parametrize("strategy", [SkipLayerStrategy.ATTENTION_VALUES, SkipLayerStrategy.ATTENTION_SKIP])
def test_stg_processor_rows(strategy):
    attn = _attn()
    x = torch.randn(3, 10, 16, generator=torch.Generator().manual_seed(1))
    rope = (torch.rand(3, 10, 16) + 0.5, torch.rand(3, 10, 16))
    with torch.no_grad():
        normal = attn(x, image_rotary_emb=rope)
        perturbed = STGAttnProcessor(strategy, perturbed_from=2)(attn, x, image_rotary_emb=rope)
        replaced = attn.to_v(x[2:]) if strategy is SkipLayerStrategy.ATTENTION_VALUES else x[2:]
        expected_last = attn.to_out[0](replaced)
    assert torch.allclose(perturbed[:2], normal[:2], atol=1e-6)
    assert torch.allclose(perturbed[2:], expected_last, atol=1e-6)
    assert not torch.allclose(perturbed[2:], normal[2:], atol=1e-3)


def test_transformer_block_strategy_bypasses_blocks(components):
    transformer = components["transformer"]
    empty = copy.deepcopy(transformer)
    empty.transformer_blocks = torch.nn.ModuleList()
    g = torch.Generator().manual_seed(0)
    kw = dict(
        hidden_states=torch.randn(2, 6, 8, generator=g), encoder_hidden_states=torch.randn(2, 4, 16, generator=g),
        timestep=torch.tensor([[500.0], [500.0]]), encoder_attention_mask=torch.ones(2, 4, dtype=torch.bool),
        video_coords=torch.rand(2, 3, 6), return_dict=False,
    )
    with torch.no_grad():
        normal = transformer(**kw)[0]
        with spatiotemporal_perturbation(transformer, [0, 1], SkipLayerStrategy.TRANSFORMER_BLOCK, perturbed_from=1):
            perturbed = transformer(**kw)[0]
        bypassed = empty(**kw)[0]
        after = transformer(**kw)[0]
    assert torch.allclose(perturbed[0], normal[0], atol=1e-6)
    assert torch.allclose(perturbed[1], bypassed[1], atol=1e-6)
    assert torch.equal(after, normal)  # hooks and processors are restored


def test_stg_in_pipeline(components):
    pipe = LTXVideoPipeline(**components)
    pipe.set_progress_bar_config(disable=True)
    kw = dict(prompt="a ball", height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16,
              output_type="latent")
    base = pipe(**kw, generator=gen()).frames
    stg = pipe(**kw, stg_scale=1.0, skip_block_list=[1], generator=gen()).frames
    assert (stg - base).abs().max() > 1e-3
    # LTX-Video's "residual" strategy is a no-op on LTX self-attention: equal to no STG.
    residual = pipe(**kw, stg_scale=1.0, skip_block_list=[1], skip_layer_strategy="stg_r",
                    rescaling_scale=1.0, generator=gen()).frames
    assert torch.allclose(residual, base, atol=1e-6)
    # The perturbation is restored after the call.
    assert torch.equal(pipe(**kw, generator=gen()).frames, base)


def test_stg_batch_rows_are_independent(components):
    """With B = 2, each sample's STG result equals its B = 1 run (the perturbed rows are the right ones)."""
    pipe = LTXVideoPipeline(**components)
    pipe.set_progress_bar_config(disable=True)
    kw = dict(height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16,
              output_type="latent", stg_scale=2.0, skip_block_list=[0], rescaling_scale=1.0)
    noise = torch.randn(2, 8, 2, 2, 2, generator=gen(3))
    both = pipe(prompt=["a red ball", "a blue cube"], latents=noise, **kw).frames
    for i, prompt in enumerate(["a red ball", "a blue cube"]):
        single = pipe(prompt=prompt, latents=noise[i : i + 1], **kw).frames
        assert torch.allclose(both[i : i + 1], single, atol=1e-5)


def test_guidance_lists_switch_passes_per_step(components):
    """Per-interval lists: the transformer batch is 1, 2 (CFG) or 3 (CFG + STG) copies as the interval says."""
    pipe = LTXVideoPipeline(**components)
    pipe.set_progress_bar_config(disable=True)
    sizes = []
    handle = pipe.transformer.register_forward_pre_hook(lambda m, args, kwargs: sizes.append(kwargs["hidden_states"].shape[0]), with_kwargs=True)
    try:
        pipe(prompt="a ball", height=64, width=64, num_frames=9, max_sequence_length=16, output_type="latent",
             timesteps=[1000.0, 990.0, 950.0, 500.0], guidance_scale=[1, 4, 1], stg_scale=[0, 1, 1],
             skip_block_list=[[], [1], [0]], guidance_timesteps=[1000.0, 990.0, 600.0], generator=gen())
    finally:
        handle.remove()
    assert sizes == [1, 3, 2, 2]  # t=1000 -> [0]; 990 -> [1]; 950 and 500 -> [2] (first g <= t, else the last)


def test_guidance_timestep_equal_to_a_timestep_selects_its_interval():
    """0.9008 as in the 13B dev config: 1000 * 0.9008 must select its own interval despite float32 rounding."""
    timesteps = torch.tensor([1000.0 * 0.9008], dtype=torch.float32)
    sched = denoising.guidance_schedule(timesteps, guidance_scale=[5, 2], stg_scale=0, rescaling_scale=1,
                                        skip_block_list=[], guidance_timesteps=[1000.0, 1000.0 * 0.9008])
    assert sched[0].guidance_scale == 2


def test_tone_map_formula():
    from ltx_video.pipelines.latent_ops import tone_map_latents

    x = torch.linspace(-4, 4, 9)
    s = 0.75 * 0.6
    assert torch.allclose(tone_map_latents(x, 0.6), x * (1 - 0.8 * s * torch.sigmoid(4 * s * (x.abs() - 1))))
    assert torch.equal(tone_map_latents(x, 0.0), x)
    assert tone_map_latents(torch.tensor([4.0]), 1.0).item() < 4.0 * 0.5  # large values are compressed


def _checked(pipe, **kwargs):
    """``pipe(**kwargs)`` stopped right after its checks (no model runs)."""
    from ltx_video.pipelines.inputs import ArgumentsChecked, checking_only

    with checking_only(), pytest.raises(ArgumentsChecked):
        pipe(prompt="a ball", height=64, width=64, num_frames=9, max_sequence_length=16, output_type="latent",
             num_inference_steps=2, **kwargs)


@pytest.mark.parametrize("gts,message", [([500.0, 1000.0], "strictly decreasing"), ([900.0, 900.0], "strictly decreasing"),
                                         ([5000.0, 500.0], r"in 0\.\.1000 \(the scheduler's num_train_timesteps\)"),
                                         ([1000.0, -5.0], r"in 0\.\.1000")])
def test_guidance_timesteps_must_decrease_within_the_schedulers_range(components, gts, message):
    """[500, 1000] ran its first value from t=1000 down to 500 (the second interval never as given); 5000 and -5
    were accepted."""
    pipe = LTXVideoPipeline(**components)
    with pytest.raises(ValueError, match=rf"^`guidance_timesteps` must be {message}"):
        _checked(pipe, guidance_scale=[3.0, 1.0], guidance_timesteps=gts)
    with pytest.raises(ValueError, match="guidance_timesteps"):
        denoising.check_guidance_timesteps(gts, 1000)


def test_guidance_timesteps_range_is_the_schedulers(components):
    """A scheduler of num_train_timesteps=500 on the shifted schedule has timesteps 0..500."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    scheduler = FlowMatchEulerDiscreteScheduler.from_config(components["scheduler"].config, num_train_timesteps=500)
    pipe = LTXVideoPipeline(**{**components, "scheduler": scheduler})
    call = dict(guidance_scale=[3.0, 1.0], timestep_schedule="shifted")
    with pytest.raises(ValueError, match=r"^`guidance_timesteps` must be in 0\.\.500 "):
        _checked(pipe, guidance_timesteps=[1000.0, 400.0], **call)
    _checked(pipe, guidance_timesteps=[500.0, 200.0], **call)


def test_guidance_timesteps_without_a_per_interval_list_is_said(components, caplog):
    pipe = LTXVideoPipeline(**components)
    with caplog.at_level(logging.WARNING):
        _checked(pipe, guidance_timesteps=[1000.0, 500.0])
    said = [r.getMessage() for r in caplog.records if "guidance_timesteps" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("`guidance_timesteps` is given but none of guidance_scale, ")
    assert "it is not used" in said[0] and "\n" not in said[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _checked(pipe, guidance_timesteps=[1000.0, 500.0], guidance_scale=[3.0, 1.0])
        _checked(pipe, guidance_timesteps=[1000.0, 500.0], stg_scale=1.0, skip_block_list=[[0], [1]])
    assert not [r for r in caplog.records if "guidance_timesteps" in r.getMessage()]


def test_blocks_without_a_stg_scale_are_said(components, caplog):
    """skip_block_list with stg_scale left out (this model's default: 0) perturbed nothing, silently; an explicit
    stg_scale=0 (LTX-Video's distilled configs carry their blocks with it) and the model's own blocks stay quiet."""
    from ltx_video.configs import load_config, pass_arguments
    from ltx_video.pipelines.generation_defaults import GenerationDefaults

    pipe = LTXVideoPipeline(**components)

    def said(**kwargs) -> list[str]:
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            _checked(pipe, **kwargs)
        return [r.getMessage() for r in caplog.records if "skip_block_list" in r.getMessage()]

    lines = said(skip_block_list=[1])
    assert len(lines) == 1 and lines[0].startswith("`skip_block_list` is given but `stg_scale` is left out")
    assert "\n" not in lines[0]
    assert said(skip_block_list=[1], stg_scale=0.0) == []
    config = load_config("ltxv-2b-0.9.8-distilled")
    assert config.first_pass["stg_scale"] == 0 and config.first_pass["skip_block_list"]  # carries both by design
    first = {k: v for k, v in config.first_pass.items() if k != "timesteps"}
    assert said(**first) == []
    assert said(**pass_arguments({"stg_scale": 0, "skip_block_list": [1]})) == []
    pipe.generation_defaults = GenerationDefaults(height=64, width=64, num_frames=9, frame_rate=25.0,
                                                  num_inference_steps=2, guidance_scale=3.0, stg_scale=1.0,
                                                  skip_block_list=(1,))
    assert said(skip_block_list=[0]) == [] and said(stg_scale=0.0) == []
