"""Conditioning media in the forms diffusers' LTX pipelines take them, and their batch semantics.

Found by running diffusers' own LTX pipeline tests against LTXVideoPipeline (scripts/diffusers_conformance.md):
tensors (B, C, H, W) in [0, 1], NumPy images, video tensors (B, F, C, H, W), one image per prompt, and
``encode_prompt`` following the pipeline's conventions. Each behaviour is compared with diffusers' own
pipeline on the same components and generator where diffusers defines it.
"""

import numpy as np
import PIL.Image
import pytest
import torch
from conftest import assert_fp32_equal, gen
from diffusers import FlowMatchEulerDiscreteScheduler, LTXImageToVideoPipeline, LTXPipeline
from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

from ltx_video import ConditioningItem, LTXVideoPipeline
from ltx_video.conditioning.items import unpack
from ltx_video.testing import tiny_audio_video_pipeline

TOL = 1e-5
COMMON = dict(height=64, width=64, num_frames=17, num_inference_steps=2, max_sequence_length=16)


@pytest.fixture(scope="module")
def i2v_pipes(components):
    """diffusers' LTXImageToVideoPipeline and ours with its conventions, on LTX-Video 0.9.0's shifting scheduler."""
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024, max_image_seq_len=4096
    )
    comps = {**components, "scheduler": scheduler}
    ref, ours = LTXImageToVideoPipeline(**comps), LTXVideoPipeline(**comps)
    ours.default_timestep_schedule = "shifted"
    for p in (ref, ours):
        p.set_progress_bar_config(disable=True)
    return ref, ours


def run(pipe, seed=0, **kw):
    """``seed``: an int (one generator) or a list (one generator per video), made fresh for every call."""
    generator = [gen(s) for s in seed] if isinstance(seed, list) else gen(seed)
    return torch.as_tensor(pipe(**{**COMMON, **kw}, generator=generator).frames)


def as_array(image: PIL.Image.Image) -> np.ndarray:
    return np.asarray(image).astype(np.float32) / 255.0


def as_tensor(image: PIL.Image.Image) -> torch.Tensor:
    return torch.from_numpy(as_array(image)).permute(2, 0, 1)


def test_numpy_and_tensor_images_match_diffusers(pipes, images):
    """(H, W, C) arrays and (B, C, H, W) tensors in [0, 1] are read as diffusers' LTXConditionPipeline reads them."""
    ref, ours = pipes
    for image in (as_array(images[1]), as_tensor(images[1])[None], (as_array(images[1]) * 255).astype(np.uint8)):
        ref_image = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image  # diffusers: floats only
        expected = run(ref, prompt="a ball", image=ref_image, output_type="latent")
        assert (run(ours, prompt="a ball", image=image, output_type="latent") - expected).abs().max() <= TOL
    # the same picture as PIL, [0, 1] array, uint8 array and [0, 1] tensor: the same pixels, bit for bit
    forms = [images[1], as_array(images[1]), np.asarray(images[1]), as_tensor(images[1])]
    loaded = [ours.load_condition_media(f, 64, 64, 17, 0, kind="image") for f in forms]
    assert all(torch.equal(loaded[0], x) for x in loaded[1:])
    assert loaded[0].shape == (1, 3, 1, 64, 64) and loaded[0].min() >= -1 and loaded[0].max() <= 1


def test_negative_float_images_of_any_range_are_taken_as_diffusers_takes_them(pipes, caplog):
    """diffusers' own LTXConditionPipeline tests pass ``torch.randn((1, 3, 32, 32))`` images (-4..4); the refusal of
    floats past 2 (2026-12-07, for 0..255 floats) refused them too, and 13 of diffusers' 35 condition tests failed."""
    ref, ours = pipes
    image = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert image.max() > 2 and image.min() < -2
    expected = run(ref, prompt="a ball", image=image, output_type="latent")
    with caplog.at_level("WARNING", logger="ltx_video.conditioning.media"):
        got = run(ours, prompt="a ball", image=image, output_type="latent")
    assert (got - expected).abs().max() <= TOL
    assert "`image` holds floats in [-" in caplog.text and "gives wrong colours" in caplog.text
    bright = torch.full((3, 32, 32), 0.9).index_fill_(1, torch.tensor([0]), 1.0)  # pixels 0.4-1.0, a white row
    bright[:, 1] = 0.4
    imagenet = (bright - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor([0.229, 0.224, 0.225])[
        :, None, None]  # [-0.37, 2.64]
    scaled = 3 * torch.randn(3, 32, 32, generator=torch.Generator().manual_seed(1))  # beyond 8 both ways
    dark = torch.zeros(3, 32, 32).index_fill_(1, torch.tensor([0]), 1.0)
    standardised = (dark - dark.mean()) / dark.std()  # [-0.18, 5.6]: a dark image standardised
    for taken in (imagenet, scaled, standardised):  # diffusers takes them as [-1, 1] (the reviewer's cases)
        assert ours.load_condition_media(taken, 32, 32, 9, 0, kind="image").shape == (1, 3, 1, 32, 32)
    with pytest.raises(ValueError, match=r"`image` holds floats from 0\.5 up to 200, read as 0\.\.255 values"):
        ours.load_condition_media(torch.full((3, 32, 32), 0.5).index_fill_(1, torch.tensor([0]), 200.0), 32, 32, 9, 0,
                                  kind="image")
    # 0..255 values with a bicubic resize's undershoots are still 0..255, not [-1, 1] (one negative value let them in)
    square = torch.zeros(1, 3, 16, 16)
    square[..., 4:12, 4:12] = 255.0  # a white square on black, upscaled: ringing at its edges
    resized = torch.nn.functional.interpolate(square, size=32, mode="bicubic")
    assert resized.min() < 0
    with pytest.raises(ValueError, match=r"`image` holds floats from -[0-9.]+ up to [0-9.]+, read as 0\.\.255 values"):
        ours.load_condition_media(resized, 32, 32, 9, 0, kind="image")


def test_batched_tensor_gives_one_image_per_prompt_like_diffusers(pipes, images):
    ref, ours = pipes
    batch = torch.stack([as_tensor(images[0]), as_tensor(images[2])])  # (2, 3, H, W) in [0, 1]
    kw = dict(prompt=["a ball", "a cube"], image=batch, output_type="latent", seed=[0, 1])
    expected, got = run(ref, **kw), run(ours, **kw)
    assert (expected - got).abs().max() <= TOL
    assert (got[0] - got[1]).abs().max() > 1e-2  # two different videos


def test_video_tensor_in_diffusers_layout_matches(pipes, images):
    ref, ours = pipes
    clip = torch.stack([as_tensor(images[i % 3]) for i in range(9)])[None]  # (1, F, C, H, W) in [0, 1]
    kw = dict(prompt="a ball", output_type="latent", num_frames=25)
    expected = run(ref, conditions=[LTXVideoCondition(video=clip, frame_index=8, strength=0.9)], **kw)
    got = run(ours, conditions=[LTXVideoCondition(video=clip, frame_index=8, strength=0.9)], **kw)
    assert (expected - got).abs().max() <= TOL
    frames = [images[i % 3] for i in range(9)]  # the same clip as PIL frames and in LTX-Video's own layout
    as_list = ours.load_condition_media(frames, 64, 64, 25, 8, kind="video")
    ltx = ours.load_condition_media(clip[0].permute(1, 0, 2, 3) * 2 - 1, 64, 64, 25, 8, kind="ltx")
    assert torch.equal(as_list, ours.load_condition_media(clip, 64, 64, 25, 8, kind="video"))
    assert_fp32_equal(ltx, as_list)


def test_image_list_per_prompt_matches_ltx_image_to_video(i2v_pipes, images):
    """image=[a, b] with two prompts: one image per video, as LTXImageToVideoPipeline; each row equals its
    single-prompt run."""
    ref, ours = i2v_pipes
    kw = dict(prompt=["a ball", "a cube"], image=[images[0], images[2]])
    # (diffusers' LTXImageToVideoPipeline cannot decode with a list of generators: compared on latents there)
    for seed, output_type in ((3, "pt"), ([3, 4], "latent")):
        expected, got = run(ref, seed, output_type=output_type, **kw), run(ours, seed, output_type=output_type, **kw)
        if output_type == "latent":  # diffusers returns them packed (B, F*H*W, C)
            expected = unpack(expected, *got.shape[2:])
        assert (expected - got).abs().max() <= TOL
    kw["output_type"] = "pt"
    both = run(ours, seed=[3, 4], **kw)
    for i in range(2):
        single = run(ours, seed=3 + i, prompt=kw["prompt"][i], image=kw["image"][i], output_type="pt")
        assert_fp32_equal(both[i : i + 1], single)
    assert (both[0] - both[1]).abs().max() > 1e-2


def test_image_list_rule_in_condition_mode(pipes, images):
    """As many images as prompts with one frame_index: one per prompt; with a frame_index list: keyframes."""
    _, ours = pipes
    prompts = ["a ball", "a cube"]
    per_prompt = run(ours, prompt=prompts, image=[images[0], images[2]], output_type="latent",
                     seed=[0, 1])
    for i, image in enumerate((images[0], images[2])):
        assert_fp32_equal(per_prompt[i : i + 1], run(ours, prompt=prompts[i], image=image, output_type="latent",
                                                     seed=i))
    keyframes = run(ours, prompt=prompts, image=[images[0], images[2]], frame_index=[0, 8], output_type="latent")
    conditions = [LTXVideoCondition(image=images[0], frame_index=0), LTXVideoCondition(image=images[2], frame_index=8)]
    assert torch.equal(keyframes, run(ours, prompt=prompts, conditions=conditions, output_type="latent"))


def test_videos_per_prompt_repeat_each_prompts_image(pipes, images):
    _, ours = pipes
    out = run(ours, prompt=["a ball", "a cube"], image=[images[0], images[2]], num_videos_per_prompt=2,
              output_type="latent", seed=[0, 0, 1, 1])
    assert out.shape[0] == 4
    assert_fp32_equal(out[0], out[1])  # same prompt, image and generator
    assert (out[1] - out[2]).abs().max() > 1e-2


def test_encode_prompt_follows_default_timestep_schedule(i2v_pipes, images):
    """diffusers' LTXPipeline runs T5 without its padding mask; embeddings from ``encode_prompt`` must give
    the same video as the prompt, whichever conventions the pipeline follows."""
    _, ours = i2v_pipes
    embeds = {}
    for schedule in ("shifted", "linear_quadratic"):
        ours.default_timestep_schedule = schedule
        try:
            with torch.no_grad():  # as in the pipeline's call
                e, m, ne, nm = ours.encode_prompt("a ball", max_sequence_length=16)
            embeds[schedule] = e
            kw = dict(image=images[0], output_type="latent")
            from_embeds = run(ours, prompt_embeds=e, prompt_attention_mask=m, negative_prompt_embeds=ne,
                              negative_prompt_attention_mask=nm, **kw)
            assert torch.equal(from_embeds, run(ours, prompt="a ball", **kw))
        finally:
            ours.default_timestep_schedule = "shifted"
    assert (embeds["shifted"] - embeds["linear_quadratic"]).abs().max() > 1e-3  # the masking matters


def test_rgba_and_grayscale_images_are_converted(pipes, images):
    _, ours = pipes
    rgb = ours.load_condition_media(images[0], 64, 64, 17, 0, kind="image")
    rgba = ours.load_condition_media(images[0].convert("RGBA"), 64, 64, 17, 0, kind="image")
    assert torch.equal(rgb, rgba)
    gray = ours.load_condition_media(images[0].convert("L"), 64, 64, 17, 0, kind="image")
    assert gray.shape == rgb.shape and torch.equal(gray[:, 0], gray[:, 1])


def test_video_list_of_frames_is_one_clip_trimmed_to_8k_plus_1(pipes, images):
    """A list of PIL frames is the whole clip (diffusers' LTXConditionPipeline keeps only its first frame)."""
    _, ours = pipes
    frames = [images[i % 3] for i in range(12)]
    pixels = ours.load_condition_media(frames, 64, 64, 25, 8, kind="video")
    assert pixels.shape == (1, 3, 9, 64, 64)
    for f in range(9):
        assert torch.equal(pixels[0, :, f], ours.load_condition_media(frames[f], 64, 64, 25, 8, kind="image")[0, :, 0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(image=torch.rand(3, 9, 64, 64)), "ConditioningItem"),  # LTX-Video's (C, F, H, W) as an image
        (dict(image=torch.rand(1, 3, 9, 64, 64)), "(B, F, C, H, W)"),
        (dict(image=torch.rand(64, 64, 3)), "channels-first"),
        (dict(image=np.random.rand(3, 64, 64)), "channels-last"),
        (dict(video=torch.rand(1, 3, 9, 64, 64)), "ConditioningItem"),  # LTX-Video's (1, C, F, H, W) as a video
        (dict(video=torch.rand(3, 9, 64, 64)), "(F, C, H, W)"),
        (dict(video=[]), "empty list"),
        (dict(image="a ball"), "not found"),
        (dict(image=torch.rand(3, 3, 64, 64)), "batch of 3 but there are 2 prompts"),
        (dict(conditioning_items=[ConditioningItem(torch.rand(9, 3, 64, 64))]), "media_item"),
        # a stack error and an interpolate / TypeError from inside diffusers' processor before
        (dict(video=[[PIL.Image.new("RGB", (64, 64))] * 9, [PIL.Image.new("RGB", (64, 64))] * 17]),
         "`video` clips in a list (one per prompt) must have one number of frames, got 9, 17"),
        (dict(video=[torch.rand(9, 3, 64, 64), torch.rand(17, 3, 64, 64)]), "got 9, 17"),
        (dict(image=[PIL.Image.new("RGB", (64, 64)), torch.rand(3, 64, 64)]), "`image` is a list mixing PIL images and tensors"),
        (dict(image=[torch.rand(3, 64, 64), PIL.Image.new("RGB", (64, 64))]), "`image` is a list mixing PIL images and tensors"),
        (dict(image=[torch.rand(3, 64, 64), torch.rand(3, 32, 32)]), "different shapes ((3, 64, 64) and (3, 32, 32))"),
        (dict(video=[PIL.Image.new("RGB", (64, 64)), np.random.rand(64, 64, 3)] * 5), "its frames must be all PIL"),
        # several images stacked at one frame of every video before (diffusers' LTXConditionPipeline keeps the first)
        (dict(image=[torch.rand(3, 64, 64)] * 3), "`image` is a list of 3 but there are 2 prompt(s)"),
        (dict(image=[torch.rand(3, 64, 64)] * 2, strength=[1.0, 0.7]), "`strength` is a list"),
        (dict(video=[torch.rand(9, 3, 64, 64)] * 3), "`video` is a list of 3 but there are 2 prompt(s)"),
    ],
)
def test_ambiguous_or_wrong_media_name_the_accepted_layouts(pipes, kwargs, message):
    _, ours = pipes
    with pytest.raises(ValueError, match=None) as error:
        run(ours, prompt=["a ball", "a cube"], output_type="latent", **kwargs)
    assert message in str(error.value), str(error.value)
    assert "\n" not in str(error.value)


def test_a_strength_list_needs_a_frame_index_list():
    """A strength list with one frame_index stacked its entries as keyframes at that frame on every video; now
    refused, and with a frame_index list each entry is still a keyframe with its strength."""
    from ltx_video.pipelines.inputs import collect_conditions

    a, b = torch.rand(3, 8, 8), torch.rand(3, 8, 8)
    per_prompt = collect_conditions(None, [a, b], None, 0, 1.0, None, num_prompts=2)
    assert len(per_prompt) == 1 and per_prompt[0].media == [a, b]
    for prompts in (1, 2, 3):
        with pytest.raises(ValueError, match="`strength` is a list"):
            collect_conditions(None, [a, b], None, 0, [1.0, 0.5], None, num_prompts=prompts)
    keyframes = collect_conditions(None, [a, b], None, [0, 8], [1.0, 0.5], None, num_prompts=2)
    assert [(c.frame_index, c.strength) for c in keyframes] == [(0, 1.0), (8, 0.5)]
    single = collect_conditions(None, [a], None, 0, [0.5], None, num_prompts=3)  # one entry: that image for all
    assert len(single) == 1 and single[0].media is a and single[0].strength == 0.5


def test_a_one_image_list_matches_diffusers(pipes, images):
    """The list forms diffusers' LTXConditionPipeline reads as given are unchanged: image=[a] is image=a."""
    ref, ours = pipes
    kw = dict(prompt="a ball", output_type="latent", strength=0.8)
    expected = run(ref, image=[images[1]], **kw)
    assert (run(ours, image=[images[1]], **kw) - expected).abs().max() <= TOL
    assert torch.equal(run(ours, image=[images[1]], **kw), run(ours, image=images[1], **kw))


@pytest.mark.parametrize("schedule", ["linear_quadratic", "shifted"])
def test_each_video_of_a_prompts_image_draws_from_its_own_generator(pipes, images, schedule):
    """One image per prompt, num_videos_per_prompt=2, a generator list: prompt p's image sample came from
    generator[p], so video 2 changed with generator[1]; now video i depends on generator[i] alone."""
    _, ours = pipes
    kw = dict(prompt=["a ball", "a cube"], image=[images[0], images[2]], num_videos_per_prompt=2,
              output_type="latent", timestep_schedule=schedule, guidance_scale=3.0)
    base, changed = run(ours, seed=[0, 1, 2, 3], **kw), run(ours, seed=[0, 99, 2, 3], **kw)
    for i in (0, 2, 3):
        assert torch.equal(base[i], changed[i]), i
    assert (base[1] - changed[1]).abs().max() > 1e-2
    for i in range(4):  # each video is the call of its own prompt, image and generator
        alone = run(ours, seed=i, prompt=kw["prompt"][i // 2], image=kw["image"][i // 2], output_type="latent",
                    timestep_schedule=schedule, guidance_scale=3.0)
        assert_fp32_equal(base[i : i + 1], alone)


@pytest.mark.parametrize("schedule", ["linear_quadratic", "shifted"])
def test_one_prompts_videos_reproducible_one_by_one_as_the_readme_says(pipes, images, schedule):
    """One prompt's one image is shared by its videos (sampled from generator[0], as LTXConditionPipeline does); the
    README's way to make each video its own call is to repeat prompt and image: video i then equals a call with g_i."""
    _, ours = pipes
    kw = dict(output_type="latent", timestep_schedule=schedule, guidance_scale=3.0)
    shared = dict(prompt="a ball", image=images[0], num_videos_per_prompt=2, **kw)
    base, changed = run(ours, seed=[0, 1], **shared), run(ours, seed=[5, 1], **shared)
    assert (base[1] - changed[1]).abs().max() > 1e-2  # the shared sample follows generator[0]
    repeated = run(ours, seed=[0, 1], prompt=["a ball"] * 2, image=[images[0]] * 2, **kw)
    for i in range(2):
        assert_fp32_equal(repeated[i : i + 1], run(ours, seed=i, prompt="a ball", image=images[0], **kw))


def test_given_latents_draw_no_noise_on_ltx_pipelines_path(components):
    """diffusers' LTXPipeline draws nothing for given ``latents``: its decode noise is the generator's first draw.
    The "shifted" path drew the noise they replace first, so its frames were 0.364 off with decode noise on."""
    ref, ours = LTXPipeline(**components), LTXVideoPipeline(**components)
    for p in (ref, ours):
        p.set_progress_bar_config(disable=True)
    start = torch.randn(1, 8, 2, 2, 2, generator=gen(42))  # (B, C, F', h, w) for 9 frames at 64x64
    kw = dict(prompt="a red ball bounces", num_frames=9, max_sequence_length=128, output_type="pt",
              decode_timestep=0.05, decode_noise_scale=0.5)
    packed = start.permute(0, 2, 3, 4, 1).reshape(1, -1, 8)
    expected = run(ref, latents=packed, **kw)
    got = run(ours, latents=packed, timestep_schedule="shifted", **kw)
    assert (expected - got).abs().max() <= TOL
    assert torch.equal(run(ours, latents=start, timestep_schedule="shifted", **kw), got)  # packed or not
    assert (run(ours, seed=1, latents=packed, timestep_schedule="shifted", **kw) - got).abs().max() > 1e-2


@pytest.mark.parametrize("schedule, skipped", [("shifted", 0), ("linear_quadratic", 1)])
def test_audio_noise_is_the_draw_after_the_videos(schedule, skipped):
    """Given video ``latents``, the audio's noise is the generator's first draw on LTXPipeline's path (nothing is
    drawn for the video there) and its second on the default one (LTXConditionPipeline draws the video noise it
    replaces)."""
    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    kw = dict(prompt="a red ball", height=64, width=64, num_frames=9, num_inference_steps=2, output_type="latent",
              max_sequence_length=16, guidance_scale=1.0, stg_scale=0.0, timestep_schedule=schedule)
    start = torch.randn(1, 8, 2, 2, 2, generator=gen(42))
    out = pipe(**kw, latents=start, generator=gen(0))
    drawn = gen(0)
    if skipped:
        torch.randn(start.shape, generator=drawn)
    noise = torch.randn(out.audio_latents.shape, generator=drawn)
    given = pipe(**kw, latents=start, audio_latents=noise, generator=gen(5))  # draws nothing for the two streams
    assert torch.equal(out.audio_latents, given.audio_latents) and torch.equal(out.frames, given.frames)


def test_bf16_image_to_video_matches_ltx_image_to_video_pipeline(images):
    """LTXImageToVideoPipeline normalises the image's sample in float32; normalised in a bf16 VAE's dtype the
    frames were up to 0.03 off (0 in fp32). LTXConditionPipeline's path keeps the VAE's dtype, as diffusers' does.
    Without CFG: with it LTXPipeline and LTXImageToVideoPipeline combine the passes in float32, this pipeline in the
    model's dtype (as LTXConditionPipeline), 0.02 apart in bf16 (README, "Swapping")."""
    from diffusers import LTXConditionPipeline

    from ltx_video.testing import tiny_components

    bf16 = {k: v.to(torch.bfloat16) if isinstance(v, torch.nn.Module) else v for k, v in tiny_components(0).items()}
    ours = LTXVideoPipeline(**bf16)
    for ref, schedule in ((LTXImageToVideoPipeline(**bf16), "shifted"), (LTXConditionPipeline(**bf16), None)):
        for p in (ref, ours):
            p.set_progress_bar_config(disable=True)
        kw = dict(prompt="a red ball bounces", image=images[0], num_frames=9, guidance_scale=1.0, output_type="pt",
                  max_sequence_length=128 if schedule else 256)
        expected, got = run(ref, **kw), run(ours, timestep_schedule=schedule, **kw)
        assert (expected.float() - got.float()).abs().max() <= TOL, schedule


def test_the_video_pipeline_says_a_video_file_at_another_rate_once(components, tmp_path, caplog):
    """LTXVideoPipeline took a 30 fps file frame for frame at frame_rate 25 without a word, as the audio-video pipeline
    did until 2026-12-07: said once, with the rate to pass; nothing at the file's own rate."""
    import logging

    from ltx_video.io.media import write_video

    pipe = LTXVideoPipeline(**components)
    pipe.set_progress_bar_config(disable=True)
    clip = write_video(tmp_path / "clip30.mp4", torch.rand(9, 3, 64, 64), 30)
    call = {**COMMON, "num_frames": 9, "num_inference_steps": 1, "output_type": "latent", "frame_rate": 25}
    with caplog.at_level(logging.WARNING):
        pipe("a red ball bounces", video=str(clip), generator=gen(), **call)
    assert [r.getMessage() for r in caplog.records if "fps file" in r.getMessage()] == [
        f"`video` {clip} is a 30 fps file, taken frame for frame at `frame_rate`=25: it plays 1.20x as long; pass "
        "frame_rate=30 to keep its timing."]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        pipe("a red ball bounces", video=str(clip), generator=gen(), **{**call, "frame_rate": 30})
    assert "fps file" not in caplog.text


def test_a_cut_clip_says_every_reason_for_its_length(pipes, caplog):
    """A clip is cut to the room the video leaves and to 1 + 8k frames; "cut to 1 (the video holds 6 frames from
    frame 11 on)" left the 1 unexplained (2026-12-07): both reasons are said when both apply."""
    import logging

    _, ours = pipes
    clip = torch.zeros(1, 3, 12, 64, 64)
    said = []
    for num_frames, frame in ((25, 16), (17, 11), (25, 0)):  # the room alone, both, the 1 + 8k form alone
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="ltx_video"):
            kept = ours.load_condition_media(clip, 64, 64, num_frames, frame, kind="ltx").shape[2]
        said.append((kept, caplog.messages[-1]))
    assert said == [
        (9, "`media_item`: the clip's 12 frames are cut to 9 (the video holds 9 frames from frame 16 on)."),
        (1, "`media_item`: the clip's 12 frames are cut to 1 (the video holds 6 frames from frame 11 on, and a clip "
            "keeps 1 + 8k frames: 1, 9, 17 ...)."),
        (9, "`media_item`: the clip's 12 frames are cut to 9 (a clip at frame 0 keeps 1 + 8k frames: 1, 9, 17 ...)."),
    ]
