"""The training-free camera in pixel space (``CameraController(space="pixel")``): the re-rendered clip's motion
against the camera's, worked out by hand, where uncovered pixels come from, and its wiring into the pipelines."""

import pytest
import torch
from conftest import gen

from ltx_video import Camera, CameraController
from ltx_video.conditioning.camera_render import camera_grid, render_camera
from ltx_video.testing import tiny_audio_video_pipeline

ARGS = dict(prompt="a red ball", height=64, width=64, num_frames=25, num_inference_steps=3, output_type="latent",
            max_sequence_length=16)


def controller(motion="pan_left", speed=1.0, **kw):
    return CameraController(Camera(motion_type=motion, speed=speed), **kw)


def texture(frames=9, height=24, width=32, seed=0):
    still = torch.rand(1, 3, 1, height, width, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return still.expand(-1, -1, frames, -1, -1).clone()


def test_a_camera_that_does_not_move_has_no_grid_and_a_grid_is_reused():
    assert camera_grid(controller("static"), 9, 24, 32) is None
    assert camera_grid(controller("pan_left", 0.0), 9, 24, 32) is None  # speed 0: nothing moves, not a frozen world
    assert camera_grid(controller("pan_left"), 1, 24, 32) is None
    clip = texture()
    grid = camera_grid(controller("zoom_out", 3.0), *clip.shape[2:])
    assert grid.shape == (9, 24, 32, 3) and grid.dtype == torch.float32
    assert torch.equal(render_camera(clip, controller("zoom_out", 3.0), grid), render_camera(clip, controller("zoom_out", 3.0)))
    with pytest.raises(ValueError, match="`grid` is for clips of"):
        render_camera(clip[:, :, :5], controller("zoom_out", 3.0), grid)


@pytest.mark.parametrize("motion,axis,sign", [("pan_left", 1, 1), ("pan_right", 1, -1), ("pan_up", 0, 1),
                                              ("pan_down", 0, -1)])
def test_a_whole_pixel_pan_moves_what_frame_0_shows_by_one_pixel_per_frame(motion, axis, sign):
    clip = texture()
    rendered = render_camera(clip, controller(motion, 1.0))
    first = clip[0, :, 0]
    for t in range(1, clip.shape[2]):
        # pan_left: content moves right (+x), pan_up: down (+y); the part of frame t that frame 0 saw is exact
        expected = torch.roll(first, shifts=sign * t, dims=axis + 1)
        seen = [slice(None)] * 3
        seen[axis + 1] = slice(t, None) if sign > 0 else slice(None, -t)
        torch.testing.assert_close(rendered[0, :, t][tuple(seen)], expected[tuple(seen)], atol=1e-6, rtol=0)


def test_uncovered_pixels_come_from_the_earliest_frame_that_saw_them():
    frames = 7
    clip = torch.arange(frames, dtype=torch.float32).view(1, 1, frames, 1, 1).expand(1, 1, frames, 6, 10).clone()
    rendered = render_camera(clip, controller("pan_left", 1.0))  # content moves right; new columns enter at x = 0
    for t in range(frames):
        # column x < t shows the world point that entered at frame t - x; columns x >= t were in frame 0
        expected = torch.tensor([float(t - x) if x < t else 0.0 for x in range(10)])
        torch.testing.assert_close(rendered[0, 0, t, 3], expected)


def test_world_render_leaves_a_clip_that_already_follows_the_camera_as_it_is():
    panning = render_camera(texture(), controller("pan_up", 1.0))
    again = render_camera(panning, controller("pan_up", 1.0))
    torch.testing.assert_close(again, panning, atol=1e-6, rtol=0)


@pytest.mark.parametrize("rotation", [(0.0, 0.0, 0.0), (20.0, -10.0, 0.0)])
def test_zoom_keeps_the_centre_and_scales_about_it(rotation):
    """A zoom scales about the image centre wherever the pivot is (a yaw and pitch moved it to the pivot's point)."""
    clip = texture(frames=5, height=33, width=33)
    rendered = render_camera(clip, CameraController(Camera(motion_type="zoom_in", speed=10.0, rotation=rotation)))
    # about the centre (16.5, 16.5): frame t's pixel p shows frame 0 at c + (p - c) / 1.1^t
    grid = torch.stack(torch.meshgrid(torch.arange(33.0) + 0.5, torch.arange(33.0) + 0.5, indexing="xy"), dim=-1)
    for t in range(1, 5):
        source = 16.5 + (grid - 16.5) / 1.1**t
        expected = torch.nn.functional.grid_sample(clip[:, :, 0], (source / 33 * 2 - 1)[None], align_corners=False)
        torch.testing.assert_close(rendered[:, :, t], expected, atol=1e-5, rtol=0)


def test_a_static_camera_returns_the_clip_and_bad_arguments_are_named():
    clip = texture()
    assert render_camera(clip, controller("static")) is clip
    with pytest.raises(ValueError, match="`frames`"):
        render_camera(clip[0], controller())
    with pytest.raises(ValueError, match="`space`.*'latent', 'pixel'"):
        controller(space="pixels")
    with pytest.raises(ValueError, match="`schedule`.*'linear', 'constant'"):
        controller(schedule="step")


def test_constant_schedule_holds_the_strength_until_it_ends():
    c = controller(strength=0.7, until=0.5, schedule="constant")
    assert [c.weight(i, 10) for i in range(10)] == [0.7] * 5 + [0.0] * 5
    every = controller(strength=1.0, until=1.0, schedule="constant")
    assert [every.weight(i, 3) for i in range(3)] == [1.0, 1.0, 1.0]


def test_pixel_camera_in_the_pipeline(monkeypatch):
    """Strength 0 is the output without a camera (on-screen coordinates); weight 1 on every step makes the final
    latents the encoding of the last re-render; a pipeline with a motion encoder refuses the pixel path."""
    import ltx_video.pipelines.control as control

    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    plain = pipe(**ARGS, generator=gen(0)).frames
    off = controller(strength=0.0, space="pixel", world_coordinates=False)
    assert torch.equal(pipe(**ARGS, camera=off, generator=gen(0)).frames, plain)

    renders = []

    def spy(frames, camera, grid):
        out = render_camera(frames, camera, grid)
        renders.append(out)
        return out

    monkeypatch.setattr(control, "render_camera", spy)
    every = controller("pan_left", 2.0, strength=1.0, until=1.0, schedule="constant", space="pixel")
    moved = pipe(**ARGS, camera=every, generator=gen(0)).frames
    assert len(renders) == ARGS["num_inference_steps"]
    torch.testing.assert_close(moved, pipe.encode_media_mean(renders[-1].clamp(-1, 1)), atol=1e-5, rtol=0)
    assert not torch.allclose(moved, plain, atol=1e-3)

    from ltx_video.conditioning.camera_controller import CameraMotionEncoder

    pipe.camera_encoder = CameraMotionEncoder(pipe.transformer.config.num_attention_heads
                                              * pipe.transformer.config.attention_head_dim)
    with pytest.raises(ValueError, match="space='pixel'.*motion encoder"):
        pipe(**ARGS, camera=every, generator=gen(0))
