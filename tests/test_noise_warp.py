"""NoiseWarp: starting noise carried along the camera's motion, exactly standard normal per cell; the pipeline
starts from it with ``CameraController(warp_noise=True)``; the camera stage and the joint loss take it."""

import pytest
import torch
from conftest import gen

from ltx_video import Camera, CameraController
from ltx_video.conditioning.noise_warp import NoiseWarp
from ltx_video.training.losses import flow_pair, joint_flow_loss

GRID = (13, 4, 4)  # 49 frames of 64 x 64 under a 4x temporal, 16x spatial VAE


def _warp(motion: str, speed: float, **kw) -> NoiseWarp:
    field = CameraController(Camera(motion_type=motion, speed=speed)).motion_field(GRID[0], 64, 64, temporal_scale=4)
    return NoiseWarp(field, GRID, **kw)


def test_a_static_camera_repeats_the_first_frame_whose_cells_are_the_draw():
    warp = _warp("static", 0.0)
    assert warp.canvas == GRID[1:]  # one frame's edges: the sheet's increments are the cells themselves
    noise = warp.sample(2, 3, generator=gen(5))
    assert all(torch.equal(noise[:, :, k], noise[:, :, 0]) for k in range(GRID[0]))
    torch.testing.assert_close(noise[:, :, 0], torch.randn((2, 3, *GRID[1:]), generator=gen(5)), atol=1e-5, rtol=0)


def test_a_pan_of_one_cell_per_latent_step_shifts_the_noise_by_one_cell():
    warp = _warp("pan_left", 4.0)  # latent steps of 4 pixel frames after the first: 16 px, one cell, rightwards
    noise = warp.sample(1, 2, generator=gen(1))
    for k in range(1, GRID[0] - 1):
        assert torch.allclose(noise[:, :, k + 1, :, 1:], noise[:, :, k, :, :-1], atol=1e-5)
        assert not torch.allclose(noise[:, :, k + 1, :, 0], noise[:, :, k, :, 0], atol=1e-2)  # new world at the edge
    up = _warp("pan_up", 4.0).sample(1, 2, generator=gen(1))  # content moves down
    assert torch.allclose(up[:, :, 3, 1:], up[:, :, 2, :-1], atol=1e-5)


@pytest.mark.parametrize("motion", ["pan_right", "zoom_in", "zoom_out", "dolly_backward", "orbit_left"])
def test_every_cell_stays_standard_normal(motion):
    noise = _warp(motion, 1.5).sample(256, 16, generator=gen(2))
    assert abs(noise.mean().item()) < 0.01 and abs(noise.std().item() - 1) < 0.01
    assert noise[:, :, -1].std().item() == pytest.approx(1.0, abs=0.02)  # the most zoomed frame too
    same_frame = (noise[:, :, 5, :, :-1] * noise[:, :, 5, :, 1:]).mean().item()  # horizontal neighbours
    assert abs(same_frame) < 0.02  # disjoint rectangles: independent cells


def test_neighbouring_frames_correlate_by_their_shared_world_and_fresh_noise_dilutes_it():
    # a 1.5 px pan moves 6 px (3 of 8 fine samples) per latent step after the first: 5/8 of a cell is shared
    noise = _warp("pan_right", 1.5).sample(512, 16, generator=gen(3))
    corr = (noise[:, :, 3] * noise[:, :, 4]).mean().item()
    assert corr == pytest.approx(5 / 8, abs=0.02)
    mixed = _warp("pan_right", 1.5, fresh=0.6).sample(512, 16, generator=gen(3))
    assert mixed.std().item() == pytest.approx(1.0, abs=0.01)
    assert (mixed[:, :, 3] * mixed[:, :, 4]).mean().item() == pytest.approx(5 / 8 * (1 - 0.36), abs=0.02)


def test_a_strong_zoom_in_keeps_neighbouring_cells_apart():
    warp = _warp("zoom_in", 5.0)  # 1.05 ** 46.5 = 9.7x by the last latent frame
    noise = warp.sample(256, 16, generator=gen(4))
    last = noise[:, :, -1]
    assert last.std().item() == pytest.approx(1.0, abs=0.02)
    assert abs((last[..., :-1] * last[..., 1:]).mean().item()) < 0.02  # disjoint rectangles, however small
    assert abs((last[..., :-1, :] * last[..., 1:, :]).mean().item()) < 0.02
    # 2 x 2 cells of 32 px, each with a corner at the centre: frame k + 1's cell is frame k's shrunk 1 / s about
    # that corner, inside it, so the two correlate by sqrt(area ratio) = 1 / s
    warp = NoiseWarp(CameraController(Camera(motion_type="zoom_in", speed=5.0)).motion_field(5, 64, 64, 4), (5, 2, 2))
    noise = warp.sample(4096, 16, generator=gen(6))
    assert (noise[:, :, 3] * noise[:, :, 4]).mean().item() == pytest.approx(1.05**-4, abs=0.01)


@pytest.mark.parametrize("motion", ["zoom_in", "zoom_out"])
def test_a_long_fast_zoom_draws_what_the_grid_needs_not_what_the_zoom_does(motion):
    """64 x 64 x 97 frames at 10 % per frame (accepted by the speed check): 2 samples per side of the most magnified
    cell (1.1 ** 92 = 6,400x) made a fine grid of 26,976 x 26,976 samples, about 1 TiB for 128 channels. The sheet
    needs every frame's cell edges at most: 13 x 3 per side."""
    camera = CameraController(Camera(motion_type=motion, speed=10.0))
    camera.check(97, 64, 64, 8)
    warp = NoiseWarp(camera.motion_field(13, 64, 64, 8), (13, 2, 2))
    assert max(warp.canvas) <= 13 * 3
    noise = warp.sample(256, 16, generator=gen(7))
    assert torch.isfinite(noise).all() and noise[:, :, -1].std().item() == pytest.approx(1.0, abs=0.02)
    assert abs((noise[:, :, -1, :, :1] * noise[:, :, -1, :, 1:]).mean().item()) < 0.02


def test_bad_arguments_are_refused():
    field = CameraController(Camera(motion_type="pan_left")).motion_field(5, 64, 64, temporal_scale=4)
    with pytest.raises(ValueError, match="`grid` of 13 latent frames"):
        NoiseWarp(field, GRID)
    with pytest.raises(ValueError, match="fresh"):
        NoiseWarp(field, (5, 4, 4), fresh=1.5)
    with pytest.raises(ValueError, match="warp_fresh"):
        CameraController(Camera(), warp_fresh=-0.1)


def test_the_joint_loss_takes_the_given_video_noise():
    video, audio = torch.randn(2, 6, 4), torch.randn(2, 5, 3)
    noise = torch.randn(2, 6, 4)
    t = torch.tensor([0.3, 0.8])
    seen = {}

    def model(video_t, tv, audio_t, ta):
        seen["video_t"] = video_t
        return torch.zeros_like(video_t), torch.zeros_like(audio_t)

    result = joint_flow_loss(model, video, audio, t=t, generator=gen(0), video_noise=noise)
    expected_t, target = flow_pair(video, noise, t)
    assert torch.equal(seen["video_t"], expected_t)
    assert result.video.item() == pytest.approx(target.pow(2).mean().item())
    with pytest.raises(ValueError, match="video_noise"):
        joint_flow_loss(model, video, audio, t=t, video_noise=noise[:, :3])


def test_the_pipeline_starts_from_the_warped_noise(pipes):
    _, pipe = pipes
    pipe.set_progress_bar_config(disable=True)
    args = dict(prompt="a red ball", height=64, width=64, num_frames=25, num_inference_steps=2, output_type="latent",
                max_sequence_length=16)
    seen = []
    original = pipe.prepare_latents

    def spy(**kw):
        state = original(**kw)
        seen.append(state.latents.clone())
        return state

    pipe.prepare_latents = spy
    try:
        camera = Camera(motion_type="pan_left", speed=2.0)
        plain = pipe(**args, camera=CameraController(camera, strength=0.0), generator=gen(0)).frames
        warped = pipe(**args, camera=CameraController(camera, strength=0.0, warp_noise=True), generator=gen(0)).frames
        still = pipe(**args, camera=CameraController(Camera(), strength=0.0, warp_noise=True), generator=gen(0)).frames
        reference = pipe(**args, camera=CameraController(Camera(), strength=0.0), generator=gen(0)).frames
        two = {**args, "prompt": ["a red ball", "a blue ball"]}
        pipe(**two, generator=[gen(0), gen(1)], camera=CameraController(camera, strength=0.0, warp_noise=True))
        with pytest.raises(ValueError, match="`generator` is a list of 1"):
            pipe(**two, generator=[gen(0)], camera=CameraController(camera, strength=0.0, warp_noise=True))
    finally:
        pipe.prepare_latents = original
    assert torch.equal(still, reference)  # a static camera keeps independent noise
    assert not torch.allclose(warped, plain, atol=1e-4)
    assert torch.equal(seen[4][:1], seen[1])  # one generator per video: the first video starts as the single call
    ratio, spatial = pipe.vae_temporal_compression_ratio, pipe.vae_spatial_compression_ratio
    frames, height, width = (25 - 1) // ratio + 1, 64 // spatial, 64 // spatial
    field = CameraController(camera).motion_field(frames, 64, 64, ratio)
    expected = NoiseWarp(field, (frames, height, width)).sample(1, pipe.transformer.config.in_channels, generator=gen(0))
    start = seen[1].reshape(1, frames, height, width, -1).permute(0, 4, 1, 2, 3)
    assert torch.allclose(start, expected, atol=1e-6)


def test_a_motion_encoder_trained_on_warped_noise_turns_it_on(pipes):
    from ltx_video.conditioning.camera_controller import CameraMotionEncoder

    _, pipe = pipes
    pipe.set_progress_bar_config(disable=True)
    args = dict(prompt="a red ball", height=64, width=64, num_frames=25, num_inference_steps=2, output_type="latent",
                max_sequence_length=16)
    inner = pipe.transformer.config.num_attention_heads * pipe.transformer.config.attention_head_dim
    camera = Camera(motion_type="zoom_in", speed=2.0)
    try:
        pipe.camera_encoder = CameraMotionEncoder(inner, warp_noise=True)
        default = pipe(**args, camera=camera, generator=gen(0)).frames
        on = pipe(**args, camera=CameraController(camera, warp_noise=True), generator=gen(0)).frames
        off = pipe(**args, camera=CameraController(camera, warp_noise=False), generator=gen(0)).frames
        pipe.camera_encoder = CameraMotionEncoder(inner)
        untrained = pipe(**args, camera=camera, generator=gen(0)).frames
    finally:
        pipe.camera_encoder = None
    assert torch.equal(default, on) and torch.equal(untrained, off)
    assert not torch.allclose(on, off, atol=1e-4)
