"""The synthetic world's orbits and dollies: parallax with exact ground truth (near content moves more than far)."""

import numpy as np
import pytest
import torch

from ltx_video import Camera, CameraController
from ltx_video.data.kinematics import DOLLY_DEPTH_RATIO
from ltx_video.data.prompts import CAMERA_PHRASES, DRAWN_CAMERA_MOTIONS, PromptSpec, parse_prompt
from ltx_video.data.synthetic import CAMERA_MOTIONS, make_clip, sample_params
from ltx_video.metrics import camera_motion


def object_mask(clip, frame: int) -> torch.Tensor:
    """(H, W) bool: pixels painted the first object's colour (the background is grey and textured)."""
    from ltx_video.data.prompts import COLOURS

    paint = torch.tensor(COLOURS[clip.params.objects[0].colour])[:, None, None]
    pixels = (clip.video[frame] + 1) / 2
    return (pixels - paint).abs().amax(dim=0) < 0.02


def test_the_world_names_every_motion_the_camera_takes_and_seeds_keep_their_clips():
    from ltx_video.conditioning.motions import MOTION_TYPES

    assert CAMERA_MOTIONS == MOTION_TYPES and set(CAMERA_PHRASES) == set(MOTION_TYPES)
    assert DRAWN_CAMERA_MOTIONS == ("static", "pan_left", "pan_right", "pan_up", "pan_down", "zoom_in", "zoom_out")
    assert parse_prompt("a red ball bounces, the camera dollies forward") == PromptSpec((("red", "ball"),), "dolly_forward")
    # a list of cameras is drawn on its own stream: every other field is the seed's default draw
    for seed in range(20):
        drawn, default = sample_params(seed, camera=["orbit_left", "dolly_backward"]), sample_params(seed)
        assert drawn.camera in ("orbit_left", "dolly_backward")
        assert (drawn.objects, drawn.background) == (default.objects, default.background)
    picks = {sample_params(seed, camera=list(CAMERA_MOTIONS)).camera for seed in range(200)}
    assert picks == set(CAMERA_MOTIONS)
    with pytest.raises(ValueError, match="camera must be one of"):
        sample_params(0, camera=["pan_left", "spin"])


@pytest.mark.parametrize("motion,sign", [("orbit_left", -1.0), ("orbit_right", 1.0)])
def test_an_orbit_moves_the_background_and_leaves_the_subject(motion, sign):
    clip = make_clip(7, camera=motion, camera_speed=1.5)
    still = make_clip(7, camera="static")
    assert clip.camera[:, 0].tolist() == [sign * 1.5] * (clip.num_frames - 1)
    assert torch.equal(clip.subject_camera, still.subject_camera)  # (0, 0, 1): the subject stays
    assert torch.equal(clip.positions, still.positions)
    measured = camera_motion((clip.video + 1) / 2).mean(axis=0)
    assert measured[0] == pytest.approx(sign * 1.5, abs=0.1)
    # what the camera controller asks of the background is the world's ground truth
    (sdx, _), (bdx, _), _ = CameraController(Camera(motion_type=motion, speed=1.5)).per_frame()
    assert (sdx, bdx) == (0.0, sign * 1.5)


@pytest.mark.parametrize("motion", ["dolly_forward", "dolly_backward"])
def test_a_dolly_scales_the_subject_more_than_the_background(motion):
    speed = 1.5
    clip = make_clip(11, camera=motion, camera_speed=speed)
    subject = (1 + speed / 100) ** (1 if motion == "dolly_forward" else -1)
    background = 1 / (1 - (1 - 1 / subject) / DOLLY_DEPTH_RATIO)
    assert clip.subject_camera[0, 2].item() == pytest.approx(subject, rel=1e-6)
    assert clip.camera[0, 2].item() == pytest.approx(background, rel=1e-6)
    assert abs(np.log(background)) < abs(np.log(subject)) / 3  # parallax: the far plane scales less
    _, _, (cs, cb) = CameraController(Camera(motion_type=motion, speed=speed)).per_frame()
    assert (cs, cb) == pytest.approx((subject, background), rel=1e-6)  # the controller agrees with the world
    # the background's measured zoom is the far plane's, not the subject's
    measured = camera_motion((clip.video + 1) / 2)[:, 2]
    assert np.median(measured) == pytest.approx(background, abs=0.6 * abs(background - 1))
    # the object's painted area follows the subject's scale (area ~ scale^2) and its centre the positions
    first, last = 0, clip.num_frames - 1
    areas = [object_mask(clip, k).sum().item() for k in (first, last)]
    assert areas[1] / areas[0] == pytest.approx(subject ** (2 * (last - first)), rel=0.15)
    for k in (first, last):
        ys, xs = torch.nonzero(object_mask(clip, k), as_tuple=True)
        centre = torch.stack([xs.float().mean() + 0.5, ys.float().mean() + 0.5])
        assert torch.allclose(centre, clip.positions[k, 0], atol=1.0)  # the area centroid, triangles too


@pytest.mark.parametrize(("motion", "drift"), [("dolly_forward", -1), ("dolly_backward", 1)])
def test_a_dollys_background_zoom_is_the_first_steps_compounded(motion, drift):
    # As the docstrings say (corrected 2026-12-07; they described a plane 4x as far at every frame): the background
    # takes one zoom b every frame, the 4x plane's for the first step, so b**k at frame k. A camera that had travelled
    # far enough to scale the subject by z**k would scale that plane otherwise: its apparent depth drifts towards the
    # subject's on a dolly forward, away from it on a dolly backward.
    clip = make_clip(0, camera=motion, camera_speed=1.5)
    z, b, last = clip.subject_camera[0, 2].item(), clip.camera[0, 2].item(), clip.num_frames - 1
    assert torch.equal(clip.camera[:, 2], torch.full((last,), b))
    assert torch.equal(clip.subject_camera[:, 2], torch.full((last,), z))

    def implied_depth_ratio(k: int) -> float:  # the far plane's depth over the subject's that scales by b**k at frame k
        travelled = 1 - z**-k  # in subject depths
        return travelled / (1 - b**-k)

    assert implied_depth_ratio(1) == pytest.approx(DOLLY_DEPTH_RATIO, rel=1e-4)
    assert np.sign(implied_depth_ratio(last) - DOLLY_DEPTH_RATIO) == drift
    assert abs(implied_depth_ratio(last) - DOLLY_DEPTH_RATIO) > 0.5
