"""Keyframe / MultiKeyframeProcessor: the smoothstep interpolation, the checks, injection through LTX-Video's
token mechanism (equal to ``image=``/``frame_index=``), and the zero-gated adapter and motion encoder on
both pipelines."""

import logging

import numpy as np
import pytest
import torch
from conftest import gen

from ltx_video import Camera, CameraController, Keyframe, LTXVideoPipeline
from ltx_video.conditioning.camera_controller import CameraMotionEncoder
from ltx_video.conditioning.multi_keyframe_processor import (
    KeyframeAdapter,
    MultiKeyframeProcessor,
    cubic_smoothstep,
    keyframe_latent_index,
)
from ltx_video.testing import tiny_audio_video_pipeline

ARGS = dict(prompt="a red ball", height=64, width=64, num_frames=25, num_inference_steps=3, output_type="latent",
            max_sequence_length=16)


def run(pipe, seed=0, **kw):
    return pipe(**{**ARGS, **kw}, generator=gen(seed)).frames


def test_cubic_smoothstep_and_latent_index():
    a = torch.tensor([0.0, 0.25, 0.5, 1.0, 1.5])
    assert cubic_smoothstep(a).tolist() == pytest.approx([0.0, 0.15625, 0.5, 1.0, 1.0])
    eps = 1e-3
    assert cubic_smoothstep(torch.tensor([eps])).item() / eps < 0.01  # flat at the ends
    assert [keyframe_latent_index(f) for f in (0, 1, 8, 9, 16, 24)] == [0, 1, 1, 2, 2, 3]


def test_interpolation_between_keyframes():
    a, b, c = torch.zeros(1, 2, 1, 1), torch.ones(1, 2, 1, 1), torch.full((1, 2, 1, 1), 3.0)
    out, covered = MultiKeyframeProcessor.interpolate([(0, a), (4, b), (6, c)], 8)
    assert out[0, 0, :, 0, 0].tolist() == pytest.approx([0, 0.15625, 0.5, 0.84375, 1, 2, 3, 0])
    assert covered.tolist() == [True] * 7 + [False]
    noise = torch.randn(1, 2, 8, 1, 1)
    held = torch.zeros(1, 8)
    held[0, 0] = 1.0
    mixed = MultiKeyframeProcessor(0.25).mix(noise, out, covered, held)
    expected = torch.lerp(noise, out, 0.25)
    assert torch.equal(mixed[:, :, 1:7], expected[:, :, 1:7])
    assert torch.equal(mixed[:, :, [0, 7]], noise[:, :, [0, 7]])  # held by a condition / past the last keyframe


def test_bad_keyframes_are_refused(pipes, images):
    _, pipe = pipes
    with pytest.raises(ValueError, match=r"frame_index must be in \[0, 24\].*\[30\]"):
        run(pipe, keyframes=[Keyframe(images[0], 0), Keyframe(images[1], 30)])
    with pytest.raises(ValueError, match="different frames"):
        run(pipe, keyframes=[Keyframe(images[0], 8), Keyframe(images[1], 8)])
    with pytest.raises(ValueError, match="increasing frame order"):
        run(pipe, keyframes=[Keyframe(images[0], 16), Keyframe(images[1], 8)])
    with pytest.raises(ValueError, match="`keyframes` or one of"):
        run(pipe, keyframes=[Keyframe(images[0], 0)], image=images[1])
    with pytest.raises(ValueError, match="strength"):
        Keyframe(images[0], 0, strength=1.5)
    with pytest.raises(ValueError, match=r"takes one clip, \(F, C, H, W\) or \(1, F, C, H, W\).* not a batch of 2"):
        Keyframe(torch.rand(2, 9, 3, 64, 64), 0)  # was read as an image and refused with image layouts
    with pytest.raises(ValueError, match="`keyframe_interpolation` must be a number in \[0, 1\)"):
        run(pipe, keyframes=[Keyframe(images[0], 0)], keyframe_interpolation=1.0)
    with pytest.raises(ValueError, match="the whole frame or more"):
        run(pipe, camera=Camera(motion_type="pan_left", speed=9))  # 72 px in one latent step of a 64 px video


def test_keyframes_inject_like_image_and_frame_index(pipes, images):
    _, pipe = pipes
    reference = run(pipe, image=[images[0], images[1]], frame_index=[0, 16], strength=[1.0, 0.7])
    keyframes = [Keyframe(images[0], 0), Keyframe(images[1], 16, strength=0.7)]
    assert torch.equal(run(pipe, keyframes=keyframes, keyframe_interpolation=0.0), reference)
    interpolated = run(pipe, keyframes=keyframes, keyframe_interpolation=0.3)
    assert not torch.allclose(interpolated, reference, atol=1e-3)


def test_interpolation_starts_from_the_keyframes_latents(pipes, images):
    _, pipe = pipes
    seen = {}

    def grab(p, i, t, tensors):
        seen.setdefault("first", tensors["latents"].clone())
        return tensors

    keyframes = [Keyframe(images[0], 0), Keyframe(images[2], 24)]
    run(pipe, keyframes=keyframes, keyframe_interpolation=0.0, num_inference_steps=1, callback_on_step_end=grab)
    plain = seen.pop("first")
    run(pipe, keyframes=keyframes, keyframe_interpolation=0.5, num_inference_steps=1, callback_on_step_end=grab)
    mixed = seen.pop("first")
    # after one full step (sigma 1 -> 0) the free frames between the keyframes moved toward the interpolation:
    # the middle latent frames differ, the conditioning tokens appended for frame 24 do not
    prefix = mixed.shape[1] - 4 * 2 * 2
    assert torch.equal(mixed[:, :prefix], plain[:, :prefix])
    assert not torch.allclose(mixed[:, prefix + 4 : prefix + 12], plain[:, prefix + 4 : prefix + 12], atol=1e-3)


def test_zero_gated_adapter_and_encoder_leave_the_output_unchanged(components, images):
    pipe = LTXVideoPipeline(**components)
    pipe.set_progress_bar_config(disable=True)
    keyframes = [Keyframe(images[0], 0), Keyframe(images[1], 16)]
    plain = run(pipe, keyframes=keyframes)
    inner = pipe.transformer.config.num_attention_heads * pipe.transformer.config.attention_head_dim
    pipe.keyframe_adapter = KeyframeAdapter(inner, pipe.transformer.config.in_channels, blocks=(0, 1))
    assert torch.equal(run(pipe, keyframes=keyframes), plain)
    with torch.no_grad():
        for layer in pipe.keyframe_adapter.layers:
            layer.gate.fill_(0.5)
    assert not torch.allclose(run(pipe, keyframes=keyframes), plain, atol=1e-4)  # wired in
    assert all(not b._forward_hooks for b in pipe.transformer.transformer_blocks)  # hooks removed after the call
    pipe.keyframe_adapter = None

    static = run(pipe)
    pipe.camera_encoder = CameraMotionEncoder(inner, warp_context=True)
    # learned path, gates 0 and the RoPE coordinates left on screen: the legacy output
    on_screen = CameraController(Camera(motion_type="pan_left"), world_coordinates=False)
    assert torch.equal(run(pipe, camera=on_screen), static)
    world = run(pipe, camera=Camera(motion_type="pan_left"))
    assert not torch.allclose(world, static, atol=1e-4)  # world coordinates move the tokens' positions
    with torch.no_grad():
        pipe.camera_encoder.gate.fill_(1.0)
    with_embedding = run(pipe, camera=on_screen)
    assert not torch.allclose(with_embedding, static, atol=1e-4)
    with torch.no_grad():
        pipe.camera_encoder.context_gate.fill_(1.0)
    assert not torch.allclose(run(pipe, camera=on_screen), with_embedding, atol=1e-4)  # the warped context too
    assert not pipe.transformer.proj_in._forward_hooks


def test_an_encoder_trained_with_the_phrase_says_the_camera_in_the_prompt(pipes):
    """camera_phrase: the call encodes the prompt with the camera's phrase (bit-equal to writing it, same ops);
    world_positions=False: the tokens stay on screen (zero gates: the legacy output)."""
    _, pipe = pipes
    inner = pipe.transformer.config.num_attention_heads * pipe.transformer.config.attention_head_dim
    static = run(pipe)
    pipe.camera_encoder = CameraMotionEncoder(inner, world_positions=False, camera_phrase=False)
    assert torch.equal(run(pipe, camera=Camera(motion_type="pan_left")), static)  # settled on screen
    with torch.no_grad():
        pipe.camera_encoder.gate.fill_(0.5)
    weights = pipe.camera_encoder.state_dict()
    written = run(pipe, prompt="a red ball, the camera pans left", camera=Camera(motion_type="pan_left"))
    unsaid = run(pipe, camera=Camera(motion_type="pan_left"))
    pipe.camera_encoder = CameraMotionEncoder(inner, world_positions=False, camera_phrase=True)
    pipe.camera_encoder.load_state_dict(weights)
    said = run(pipe, camera=Camera(motion_type="pan_left"))
    assert torch.equal(said, written) and not torch.allclose(said, unsaid, atol=1e-5)
    # the camera asked for replaces a phrase the prompt already has; without camera= the prompt is left alone
    assert torch.equal(run(pipe, prompt="a red ball, the camera zooms in", camera=Camera(motion_type="pan_left")),
                       written)
    assert torch.equal(run(pipe), static)
    # camera_pace: the phrase says the pace too (1.5 px per frame at 32 px: the fast third)
    pipe.camera_encoder = CameraMotionEncoder(inner, world_positions=False, camera_phrase=True, camera_pace=True)
    pipe.camera_encoder.load_state_dict(weights)
    fast = Camera(motion_type="pan_left", speed=1.5)
    assert torch.equal(run(pipe, camera=fast), run(pipe, prompt="a red ball, the camera pans left quickly", camera=fast))
    assert torch.equal(run(pipe, camera=Camera(motion_type="pan_left")), written)  # the middle third: no word
    pipe.camera_encoder = None


def test_training_free_camera_changes_only_what_it_should(pipes, caplog):
    _, pipe = pipes
    static = run(pipe)
    with caplog.at_level(logging.WARNING):
        moved = run(pipe, camera=Camera(motion_type="pan_left", speed=2.0))
    assert sum("training-free" in r.getMessage() for r in caplog.records) == 1
    assert not torch.allclose(moved, static, atol=1e-4)
    off = run(pipe, camera=CameraController(Camera(motion_type="pan_left", speed=2.0), strength=0.0,
                                            world_coordinates=False))
    assert torch.equal(off, static)  # zero strength, on-screen coordinates: the legacy output
    still = run(pipe, camera=Camera())  # "static" holds the camera still: it pulls frames toward the previous one
    assert not torch.allclose(still, static, atol=1e-4)


def test_a_camera_moves_the_conditioning_tokens_with_their_frame_and_no_camera_changes_nothing(pipes, images,
                                                                                              monkeypatch):
    """Under a camera with world coordinates the appended tokens of a keyframe (as tokens, or in place) get the world
    offsets of the latent frame they stand for, as that frame's own tokens (on screen before 2026-12-07); without a
    camera the call never reaches world_positions and is bit-identical to one with the camera off (same ops)."""
    _, pipe = pipes
    seen = []
    hook = pipe.transformer.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs["video_coords"].clone()), with_kwargs=True)
    keyframes = [Keyframe(images[0], 0), Keyframe(images[1], 16, placement="in_place"), Keyframe(images[2], 24)]
    pan = Camera(motion_type="pan_left", speed=2.0)
    try:
        screen_run = run(pipe, keyframes=keyframes, num_inference_steps=1,
                         camera=CameraController(pan, strength=0.0, world_coordinates=False))
        screen = seen.pop()
        run(pipe, keyframes=keyframes, num_inference_steps=1, camera=CameraController(pan, strength=0.0))
        world = seen.pop()
        monkeypatch.setattr(CameraController, "world_positions", lambda *a, **k: pytest.fail("called without camera"))
        plain = run(pipe, keyframes=keyframes, num_inference_steps=1)
        assert torch.equal(seen.pop(), screen) and torch.equal(plain, screen_run)
        monkeypatch.undo()
        run(pipe, image=[images[0], images[2]], frame_index=[0, 24], num_inference_steps=1, camera=pan)  # image= too
        given = seen.pop()
    finally:
        hook.remove()
    cells, frames = 2 * 2, 4  # 64 px / 32, 25 frames / 8 + 1
    prefix = world.shape[2] - frames * cells
    shift = (world - screen)[:, 1:]  # (y, x) offsets
    assert prefix == 2 * cells and torch.equal(world[:, 0], screen[:, 0])
    for block, frame in enumerate((2, 3)):  # frame 16: latent frame 2 (in place); frame 24: latent frame 3
        tokens, own = shift[..., block * cells : (block + 1) * cells], shift[..., prefix + frame * cells :][..., :cells]
        assert torch.equal(tokens, own) and own.abs().max() > 1.0
    assert torch.equal(given[..., :cells], world[..., cells : 2 * cells])  # image= at frame 24: as its keyframe


def test_audio_video_pipeline_takes_keyframes_and_camera(images):
    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    keyframes = [Keyframe(images[0], 0), Keyframe(images[1], 16)]
    reference = run(pipe, image=[images[0], images[1]], frame_index=[0, 16])
    assert torch.equal(run(pipe, keyframes=keyframes, keyframe_interpolation=0.0), reference)
    moved = run(pipe, keyframes=keyframes, camera=Camera(motion_type="zoom_in", speed=2.0))
    assert torch.isfinite(moved).all() and not torch.allclose(moved, reference, atol=1e-4)


def test_a_spatial_adapter_embeds_each_cells_position():
    adapter = KeyframeAdapter(16, 4, blocks=(0,), spatial_features=8)
    cells = KeyframeAdapter.cell_positions(2, 2, 3)
    assert cells.shape == (12, 2) and torch.equal(cells[:6], cells[6:])  # frame-major, the same grid per frame
    assert cells[:3, 0].tolist() == [0.25] * 3 and cells[:3, 1].tolist() == pytest.approx([1 / 6, 0.5, 5 / 6])
    times = torch.zeros(1, 12)
    with pytest.raises(ValueError, match="keyframe_cells"):
        adapter.set_context(torch.zeros(1, 6, 4), torch.zeros(1, 6), times)
    moved = adapter.embed_position(times, cells[None])
    assert moved.shape == (1, 12, 32 + 16) and not torch.allclose(moved[0, 0], moved[0, 1])  # cells differ
    assert torch.equal(moved[0, :6], moved[0, 6:])


@pytest.mark.parametrize("which", ["LTXVideoPipeline", "LTXAudioVideoPipeline"])
def test_in_place_keyframes_replace_their_latent_frame_with_the_image_held_still(which, pipes):
    from ltx_video.pipelines.latent_ops import normalize_latents

    pipe = pipes[1] if which == "LTXVideoPipeline" else tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    g = torch.Generator().manual_seed(1)
    first, later = torch.rand(3, 64, 64, generator=g), torch.rand(3, 64, 64, generator=g)
    exact = dict(image_cond_noise_scale=0.0)  # hard conditions not re-noised: kept bit for bit

    def keyframes(placement, strength=1.0):
        return [Keyframe(first, 0), Keyframe(later, 16, strength=strength, placement=placement)]

    held_out = run(pipe, keyframes=keyframes("in_place"), keyframe_interpolation=0.0, **exact)
    ratio = pipe.vae_temporal_compression_ratio
    index = -(-16 // ratio)  # the latent frame holding pixel frame 16
    vae = pipe.vae  # the image in [-1, 1] held for 1 + ratio frames; its last latent frame
    still = (later * 2 - 1)[None, :, None].expand(-1, -1, 1 + ratio, -1, -1)
    with torch.no_grad():
        held = normalize_latents(vae.encode(still).latent_dist.mean, vae.latents_mean, vae.latents_std,
                                 vae.config.scaling_factor)[:, :, -1]
    assert torch.equal(held_out[:, :, index], held)
    tokens_out = run(pipe, keyframes=keyframes("tokens"), keyframe_interpolation=0.0, **exact)
    assert not torch.allclose(tokens_out[:, :, index], held, atol=1e-3)  # appended tokens leave the frame free
    soft = run(pipe, keyframes=keyframes("in_place", 0.5), keyframe_interpolation=0.0, **exact)
    assert not torch.allclose(soft[:, :, index], held, atol=1e-3)  # strength < 1: a soft condition, denoised
    soft_tokens = run(pipe, keyframes=keyframes("tokens", 0.5), keyframe_interpolation=0.0, **exact)
    assert not torch.allclose(soft, soft_tokens, atol=1e-4)  # ... but still placed
    # two prompts, two videos each: every video holds the keyframe (media latents repeated per video)
    many = pipe(**{**ARGS, "prompt": ["a red ball", "a blue ball"]}, num_videos_per_prompt=2,
                keyframes=keyframes("in_place"), keyframe_interpolation=0.2, generator=gen(0), **exact).frames
    assert many.shape[0] == 4 and all(torch.equal(many[i, :, index], held[0]) for i in range(4))
    at_zero = [Keyframe(first, 0, placement="in_place"), Keyframe(later, 16)]
    assert torch.equal(run(pipe, keyframes=at_zero, **exact), run(pipe, keyframes=keyframes("tokens"), **exact))
    with pytest.raises(ValueError, match="placement='in_place'` takes one image"):
        Keyframe([first] * 9, 8, placement="in_place")
    with pytest.raises(ValueError, match="`placement` must be one of"):
        Keyframe(first, 8, placement="replace")


def test_an_in_place_keyframe_is_the_images_own_latent_and_its_frames_follow_the_neighbours(pipes, images):
    """What ``placement="in_place"`` can promise. The causal encoder gives the image held still over ``1 +
    temporal_scale`` frames the image's own latent (no other encoding of one image exists), every frame of a latent
    frame writes that one latent, and the decoder reads it with its neighbours: its pixel frames change when only the
    neighbouring latent frames do. So the content does not stand still at the asked frame (built-in model: about 9 px
    of motion over the latent frame, frame 11 best whether 9, 10 or 12 was asked); until 2026-12-07 the docs and the
    Keyframe docstring said it did (figures: scripts/in_place_keyframe_frames.py)."""
    _, pipe = pipes
    r = pipe.vae_temporal_compression_ratio
    image = torch.from_numpy(np.asarray(images[1])).permute(2, 0, 1)[None, :, None].float() / 127.5 - 1
    with torch.no_grad():
        own = pipe.encode_media_mean(image)[:, :, 0]
        held = pipe.encode_media_mean(image.expand(-1, -1, 1 + r, -1, -1))[:, :, -1]
    assert torch.allclose(held, own, atol=1e-5)
    assert {keyframe_latent_index(f, r) for f in range(r + 1, 2 * r + 1)} == {2}  # frames 9-16: one latent frame
    g = gen(0)
    latents = torch.randn(1, own.shape[1], 4, *own.shape[-2:], generator=g)
    latents[:, :, 2] = held
    moved = latents.clone()
    moved[:, :, [1, 3]] = torch.randn(1, own.shape[1], 2, *own.shape[-2:], generator=g)
    mine = slice(r + 1, 2 * r + 1)  # latent frame 2's pixel frames
    change = (pipe._decode_clean(latents)[:, :, mine] - pipe._decode_clean(moved)[:, :, mine]).abs().max()
    assert change > 0.05  # the held latent frame alone does not decide its pixel frames


def test_keyframe_interpolation_mixes_only_a_start_from_noise(pipes, images, monkeypatch):
    """Given latents are used as they come, noised to the first sigma (diffusers' LTXConditionPipeline): a refine
    (``denoise_strength`` < 1) is bit-equal whatever ``keyframe_interpolation`` is (same ops); before 2026-12-07 it was
    pulled toward the interpolation. Latents given at sigma 1 stand for the noise and are mixed as drawn noise is."""
    _, pipe = pipes
    keyframes = [Keyframe(images[0], 0), Keyframe(images[2], 24)]
    base = run(pipe, keyframes=keyframes, keyframe_interpolation=0.0)
    refine = dict(keyframes=keyframes, latents=base, denoise_strength=0.5, num_inference_steps=4)
    assert torch.equal(run(pipe, **refine, keyframe_interpolation=0.3), run(pipe, **refine, keyframe_interpolation=0.0))
    seen = []
    original = LTXVideoPipeline.prepare_control_state

    def spy(self, plan, state, **kw):
        out = original(self, plan, state, **kw)
        seen.append((plan, state, out))
        return out

    monkeypatch.setattr(LTXVideoPipeline, "prepare_control_state", spy)
    run(pipe, keyframes=keyframes, keyframe_interpolation=0.3)
    plan, state, mixed = seen.pop()
    assert float(plan.sigmas[0]) == 1.0 and (mixed.latents - state.latents).abs().max() > 0.1  # from noise: mixed
    noise = state.latents[:, state.num_prefix_tokens :].clone()  # the video's own tokens (after the keyframes'):
    # the same noise given as latents= at sigma 1 gives the same video
    assert torch.equal(run(pipe, keyframes=keyframes, keyframe_interpolation=0.3),
                       run(pipe, keyframes=keyframes, keyframe_interpolation=0.3, latents=noise))


def test_in_place_keyframes_survive_the_pixel_camera(pipes, images):
    """The pixel-space camera re-renders the video from frame 0's world at weight 1 on every step; a keyframe held in
    place at strength 1 keeps its latent frame bit for bit (docs/control.md; as tokens it is overridden and the call
    warns: test_control_inputs)."""
    _, pipe = pipes
    pixel = CameraController(Camera(motion_type="pan_left", speed=2.0), space="pixel", strength=1.0, until=1.0,
                             schedule="constant")
    keyframes = [Keyframe(images[0], 0), Keyframe(images[1], 16, placement="in_place")]
    exact = dict(image_cond_noise_scale=0.0, keyframe_interpolation=0.0, keyframes=keyframes)
    held, moved = run(pipe, **exact), run(pipe, **exact, camera=pixel)
    index = keyframe_latent_index(16, pipe.vae_temporal_compression_ratio)
    assert torch.equal(moved[:, :, index], held[:, :, index])
    assert not torch.allclose(moved[:, :, index - 1], held[:, :, index - 1], atol=1e-3)  # the camera acted


@pytest.mark.parametrize("timestep_schedule", ["linear_quadratic", "shifted"])
def test_a_keyframe_gets_the_world_offsets_of_its_latent_frame_under_both_schedules(pipes, images, timestep_schedule):
    """A token keyframe at frame 12 stands for latent frame keyframe_latent_index(12) = 2 under LTX-Video's causal
    positions (frame f at 8f - 7) and diffusers' shifted ones (8f, its last frame): it takes that frame's offsets
    (since 2026-12-07; the shifted positions gave it frame 1's)."""
    _, pipe = pipes
    seen = []
    hook = pipe.transformer.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs["video_coords"].clone()), with_kwargs=True)
    pan = Camera(motion_type="pan_left", speed=2.0)
    keyframes = [Keyframe(images[0], 0), Keyframe(images[1], 12)]
    try:
        for camera in (CameraController(pan, strength=0.0, world_coordinates=False), CameraController(pan, strength=0.0)):
            run(pipe, keyframes=keyframes, num_inference_steps=2, camera=camera, timestep_schedule=timestep_schedule)
    finally:
        hook.remove()
    screen, world = seen[0], seen[-1]
    cells, frame = 2 * 2, keyframe_latent_index(12)
    shift = (world - screen)[:, 1:]
    own = shift[..., cells + frame * cells :][..., :cells]
    assert torch.equal(shift[..., :cells], own) and own.abs().max() > 1.0
    assert not torch.equal(own, shift[..., cells + (frame - 1) * cells :][..., :cells])  # not the frame before


def _starts(pipe, monkeypatch, **kw):
    """(plan, noise grid, mixed grid (B, C, F', h, w)) of the video's own latents before and after step 4's mix."""
    from ltx_video.conditioning.items import unpack

    seen = []
    original = LTXVideoPipeline.prepare_control_state
    monkeypatch.setattr(LTXVideoPipeline, "prepare_control_state",
                        lambda self, plan, state: seen.append((plan, state, original(self, plan, state))) or seen[-1][2])
    run(pipe, num_inference_steps=1, **kw)
    monkeypatch.undo()
    plan, state, mixed = seen.pop()
    prefix, size = state.num_prefix_tokens, plan.padding.latent_size
    return plan, unpack(state.latents[:, prefix:], *size), unpack(mixed.latents[:, prefix:], *size)


def test_a_clip_keyframe_anchors_the_interpolation_with_each_of_its_latent_frames(pipes, images, monkeypatch):
    """A 9-frame clip at frame 0 holds latent frames 0-1: the free latent frame 2 starts from the smoothstep between
    the clip's last latent frame (1) and the keyframe at frame 24 (latent 3), not from its first frame placed at 0
    (before 2026-12-08 only ``pixels[:, :, :1]`` was encoded: frame 2 read 0.5 first frame + 0.5 keyframe). Image
    keyframes keep the old operations bit for bit."""
    _, pipe = pipes
    clip = [images[0]] + [images[1]] * 8  # 9 frames: latent frame 0 is images[0], latent frame 1 images[1]
    s = 0.5
    plan, noise, mixed = _starts(pipe, monkeypatch, keyframes=[Keyframe(clip, 0), Keyframe(images[2], 24)],
                                 keyframe_interpolation=s)
    ours = pipe.encode_media_mean(plan.conditions[0][0])  # (1, C, 2, h, w): the clip's two latent frames
    target = pipe.encode_media_mean(plan.conditions[1][0])[:, :, 0]
    assert ours.shape[2] == 2 and (ours[:, :, 1] - ours[:, :, 0]).abs().max() > 0.1  # first and last differ
    pulled = noise[:, :, 2] + (mixed[:, :, 2] - noise[:, :, 2]) / s  # the interpolation frame 2 is mixed toward
    alpha = float(cubic_smoothstep(torch.tensor(0.5)))  # frame 2 halfway between latent frames 1 and 3
    torch.testing.assert_close(pulled, ours[:, :, 1] + alpha * (target - ours[:, :, 1]), atol=1e-4, rtol=1e-4)

    # images: the old code's operations (each keyframe's first frame encoded, its latent frame) give the same start
    keyframes = [Keyframe(images[0], 0), Keyframe(images[1], 8, strength=0.5), Keyframe(images[2], 24)]
    plan, noise, mixed = _starts(pipe, monkeypatch, keyframes=keyframes, keyframe_interpolation=s)
    anchors = [(keyframe_latent_index(k.frame_index), pipe.encode_media_mean(pixels[:, :, :1])[:, :, 0])
               for (pixels, _, _), k in zip(plan.conditions, keyframes, strict=True)]
    frames = plan.padding.latent_size[0]
    interpolated, covered = MultiKeyframeProcessor.interpolate(anchors, frames)
    strengths = MultiKeyframeProcessor.strength_profile(
        [(i, k.strength) for (i, _), k in zip(anchors, keyframes, strict=True)], frames)
    held = torch.zeros(1, frames)
    held[:, 0] = 1.0  # frame 0's keyframe holds its latent frame
    old = MultiKeyframeProcessor(s).mix(noise, interpolated, covered, held, strengths)
    assert torch.equal(mixed, old)
