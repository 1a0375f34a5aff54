"""Seam metrics of chunked video: flicker, flow and style across boundaries, with known answers."""

import numpy as np
import pytest

from ltx_video.metrics import block_flow, boundary_flicker, flow_discontinuity, style_distance


def texture(height=64, width=200, seed=0):
    rng = np.random.default_rng(seed)
    coarse = rng.random((height // 4, width // 4, 3))
    return np.kron(coarse, np.ones((4, 4, 1)))  # 4 px cells: block matching has something to lock on


def panning(num_frames, velocity, jump_at=None, jump=0):
    """Frames of a texture moving ``velocity`` px per frame to the left; from ``jump_at`` on, ``jump`` px further."""
    world = texture()
    frames = []
    for t in range(num_frames):
        x = velocity * t + (jump if jump_at is not None and t >= jump_at else 0)
        frames.append(world[:, x : x + 64])
    return np.stack(frames)


def test_block_flow_recovers_a_known_shift():
    world = texture()
    a, b = world[:, 10:74], world[:, 12:76]  # content moves 2 px to the left
    flow = block_flow(a, b)
    assert flow.shape == (8, 8, 2)
    assert (flow[:, 1:] == (-2, 0)).all()  # every block whose match lies inside the frame: 2 px to the left


def test_flow_discontinuity_sees_a_jump_at_the_boundary_only():
    video = panning(40, velocity=1, jump_at=20, jump=3)  # the motion jumps between frames 19 and 20
    at_seam = flow_discontinuity(video, [20])
    assert at_seam["boundary"] > 1.0 and at_seam["inside"] < 0.1
    elsewhere = flow_discontinuity(video, [30])
    assert elsewhere["boundary"] < 0.1 < elsewhere["inside"]


def seam_jumps(num_frames, seams, jump, speedup_at=None):
    """A pan of 1 px per frame (2 from ``speedup_at`` on) whose content jumps ``jump`` px further at each seam."""
    world, frames, x = texture(), [], 0
    for t in range(num_frames):
        if t:
            x += (2 if speedup_at is not None and t >= speedup_at else 1) + (jump if t in seams else 0)
        frames.append(world[:, x : x + 64])
    return np.stack(frames)


@pytest.mark.parametrize("jump", [1, 2, 3])
def test_flow_discontinuity_keeps_a_seam_jump_out_of_inside(jump):
    # a jump changes the flow of the seam's pair: +jump into it and -jump out of it, both the boundary's
    result = flow_discontinuity(seam_jumps(40, [16, 32], jump), [16, 32], radius=5)
    assert result["inside"] == pytest.approx(0, abs=1e-6)
    assert result["boundary"] == pytest.approx(jump, rel=0.05)


def test_flow_discontinuity_ratio_grows_with_the_seam_jump():
    # one speed change inside (frame 8) gives "inside" a fixed size; the seams' jumps must not add to it
    results = [flow_discontinuity(seam_jumps(40, [16, 32], jump, speedup_at=8), [16, 32], radius=5)
               for jump in (1, 2, 3)]
    assert [r["inside"] for r in results] == pytest.approx([results[0]["inside"]] * 3)
    assert results[0]["inside"] > 0
    ratios = [r["ratio"] for r in results]
    assert ratios[1] == pytest.approx(2 * ratios[0], rel=0.1) and ratios[2] == pytest.approx(3 * ratios[0], rel=0.1)


def test_boundary_flicker_and_style_distance_see_a_colour_step():
    video = np.full((40, 16, 16, 3), 0.5)
    video += np.random.default_rng(0).normal(0, 0.01, video.shape)  # sensor noise: inside is not 0
    video[20:] += 0.2  # a seam: brighter from frame 20
    flicker = boundary_flicker(video, [20])
    assert flicker["ratio"] > 10
    assert boundary_flicker(video, [10])["ratio"] < 1  # the step is inside: the boundary is calmer
    style = style_distance(video, [20])
    assert style["boundary"] == pytest.approx(0.2 * np.sqrt(3), rel=0.05) and style["ratio"] > 10
    widened = boundary_flicker(video, [20], width=4)  # a 4-pair transition dilutes the one jump
    assert widened["boundary"] == pytest.approx(flicker["boundary"] / 4, rel=0.2)


@pytest.mark.parametrize("boundaries,message", [([0], "boundaries"), ([30, 20], "boundaries"), ([40], "boundaries"),
                                               ([16.7], "list of frame indices"), (16, "list of frame indices")])
def test_bad_boundaries(boundaries, message):
    with pytest.raises(ValueError, match=message):
        boundary_flicker(np.zeros((40, 8, 8, 3)), boundaries)


@pytest.mark.parametrize("frames,kwargs,message", [
    ((10, 16, 16, 3), dict(block=0), "block must be an int >= 1"),
    ((10, 16, 16, 3), dict(radius=-1), "radius must be an int >= 0"),
    ((10, 6, 6, 3), {}, r"at least `block` \(8\) px on each side, got 6x6"),
])
def test_bad_flow_settings_are_named(frames, kwargs, message):
    with pytest.raises(ValueError, match=message):
        flow_discontinuity(np.zeros(frames), [5], **kwargs)
