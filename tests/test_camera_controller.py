"""Camera and CameraController: the motion field of each motion type, the speed check, and the training-free
constraint's direction and size, against values worked out by hand."""

import math
from dataclasses import replace

import pytest
import torch

from ltx_video.conditioning.camera_controller import (
    MOTION_TYPES,
    Camera,
    CameraController,
    CameraMotionEncoder,
    latent_frame_times,
)

H, W = 64, 96


def field(motion, speed=2.0, frames=4, **camera):
    return CameraController(Camera(motion_type=motion, speed=speed, **camera)).motion_field(frames, H, W)


def test_latent_frames_stand_for_the_centre_of_their_pixel_frames():
    assert latent_frame_times(4).tolist() == [0.0, 4.5, 12.5, 20.5]


@pytest.mark.parametrize("motion,dx,dy", [("pan_left", 2, 0), ("pan_right", -2, 0), ("pan_up", 0, 2), ("pan_down", 0, -2)])
def test_pans_shift_both_layers_by_speed_times_frames(motion, dx, dy):
    f = field(motion)
    steps = torch.tensor([4.5, 8.0, 8.0])
    for layer in (0, 1):
        torch.testing.assert_close(f.shift[:, layer], torch.stack([dx * steps, dy * steps], dim=1))
    assert torch.equal(f.scale, torch.ones(3, 2))
    # the world's convention (ltx_video.data.kinematics.camera_step): pan_left moves content right


def test_zoom_scales_about_the_centre():
    f = field("zoom_in", speed=1.0)
    torch.testing.assert_close(f.scale[1:, 1], torch.full((2,), 1.01**8))
    d = f.displacement(2, 2)  # cells centred at x = 24, 72 and y = 16, 48; the centre is (48, 32)
    torch.testing.assert_close(d[1, 0, 0, 0], torch.tensor((1.01**8 - 1) * (24 - 48)))
    torch.testing.assert_close(d[1, 1, 1, 1], torch.tensor((1.01**8 - 1) * (48 - 32)))
    torch.testing.assert_close(field("zoom_out", 1.0).scale[1:, 0], torch.full((2,), 1.01**-8))


def test_orbit_keeps_the_subject_and_moves_the_background():
    f = field("orbit_left", speed=1.5)
    assert torch.equal(f.shift[:, 0], torch.zeros(3, 2))
    torch.testing.assert_close(f.shift[1:, 1, 0], torch.full((2,), -1.5 * 8))
    assert field("orbit_right", speed=1.5).shift[1, 1, 0].item() == pytest.approx(12.0)


def test_dolly_scales_the_near_subject_more_than_the_far_background():
    camera = Camera(motion_type="dolly_forward", speed=2.0, position=(0, 0, -5), background_depth=4)
    subject, background = CameraController(camera).per_frame()[2]
    assert subject == pytest.approx(1.02)
    step = 5 * (1 - 1 / 1.02)  # the camera's move toward the subject per frame
    assert background == pytest.approx(20 / (20 - step)) and 1 < background < subject
    back = CameraController(Camera(motion_type="dolly_backward", speed=2.0)).per_frame()[2]
    assert back[0] == pytest.approx(1 / 1.02) and back[0] < back[1] < 1


def test_depth_blends_the_layers_and_roll_and_yaw_move_the_field():
    f = field("orbit_left", speed=1.0)
    near = f.displacement(2, 3, depth=torch.ones(2, 3))
    assert torch.equal(near, torch.zeros_like(near))
    half = f.displacement(2, 3, depth=torch.full((2, 3), 0.5))
    torch.testing.assert_close(half, 0.5 * f.displacement(2, 3))
    rolled = field("pan_left", speed=1.0, rotation=(0, 0, 90))
    torch.testing.assert_close(rolled.shift[1, 1], torch.tensor([0.0, 8.0]), atol=1e-5, rtol=0)
    yawed = CameraController(Camera(rotation=(10, 0, 0))).centre(H, W)
    assert yawed[0] == pytest.approx(W / 2 + (W / 2) / math.tan(math.radians(30)) * math.tan(math.radians(10)))


def test_bad_cameras_are_refused_with_the_argument_named():
    with pytest.raises(ValueError, match="motion_type.*pan_left"):
        Camera(motion_type="spin")
    with pytest.raises(ValueError, match="speed"):
        Camera(speed=-1)
    with pytest.raises(ValueError, match="fov"):
        Camera(fov=180)
    with pytest.raises(ValueError, match="rotation"):
        Camera(rotation=(40, 0, 0))
    with pytest.raises(ValueError, match="position"):
        Camera(position=(0, 0, 0))
    with pytest.raises(ValueError, match="the whole frame or more"):
        CameraController(Camera(motion_type="pan_left", speed=13)).check(17, H, W)  # 8 * 13 = 104 px > 96
    CameraController(Camera(motion_type="pan_left", speed=11)).check(17, H, W)
    with pytest.raises(ValueError, match="unknown camera motion 'spin'.*pan-left"):
        Camera.parse("spin")
    assert Camera.parse("pan-left:2.5") == Camera(motion_type="pan_left", speed=2.5)
    assert {Camera.parse(m.replace("_", "-")).motion_type for m in MOTION_TYPES} == set(MOTION_TYPES)


def test_constraint_moves_low_frequencies_with_the_camera():
    # a blob in frame 0, empty frames after: with weight 1 each frame's low frequencies become the previous
    # frame's warped, so the blob's centroid moves by the field's shift in latent cells per latent frame
    controller = CameraController(Camera(motion_type="pan_left", speed=4.0), lowpass=0.5)
    f = controller.motion_field(4, 8 * 32, 12 * 32)  # 12 x 8 latent cells of 32 px; 4 px/frame = 1 cell per step
    clean = torch.zeros(1, 1, 4, 8, 12)
    clean[0, 0, 0, 3:5, 3:5] = 1.0
    out = controller.constrain(clean, f, weight=1.0)
    xs = torch.arange(12.0)
    centroid = [(out[0, 0, k].sum(0) * xs).sum() / out[0, 0, k].sum() for k in range(4)]
    steps = [c2 - c1 for c1, c2 in zip(centroid, centroid[1:], strict=False)]
    assert steps[0].item() == pytest.approx(4.5 * 4 / 32, abs=0.05)
    assert [s.item() for s in steps[1:]] == pytest.approx([1.0, 1.0], abs=0.05)  # rightward: pan_left
    assert torch.equal(controller.constrain(clean, f, weight=0.0), clean)
    half = controller.constrain(clean, f, weight=0.5)
    low = controller._low
    assert torch.allclose(low(half[:, :, 1]), 0.5 * low(out[:, :, 1]), atol=1e-6)


def test_weight_schedule_and_encoder_features():
    c = CameraController(Camera(motion_type="zoom_in"), strength=0.8, until=0.5)
    assert [c.weight(i, 10) for i in range(6)] == pytest.approx([0.8, 0.64, 0.48, 0.32, 0.16, 0.0])
    f = field("pan_left", speed=4.0, frames=3)
    features = CameraMotionEncoder.token_features(f, 3, 2, 3)
    assert features.shape == (3 * 2 * 3, 6)
    # 4 px/frame * 8 frames = 32 px = one 32 px latent cell (the video is 96 px wide with 3 cells)
    assert features[6:, 0].tolist() == pytest.approx([1.0] * 12) and features[6:, 2].tolist() == pytest.approx([1.0] * 12)
    encoder = CameraMotionEncoder(16)
    assert torch.equal(encoder(features), torch.zeros(18, 16))  # zero gate: no effect until trained


def test_feature_scale_multiplies_the_features_and_survives_saving(tmp_path):
    scale = [4.0, 4.0, 4.0, 4.0, 25.0, 25.0]
    scaled, plain = CameraMotionEncoder(16, feature_scale=scale), CameraMotionEncoder(16)
    with torch.no_grad():
        scaled.gate.fill_(1.0)
    plain.load_state_dict(scaled.state_dict())  # the scale is config, not a weight: old checkpoints load
    features = CameraMotionEncoder.token_features(field("zoom_in", speed=1.0, frames=3), 3, 2, 3)
    assert torch.equal(scaled(features), plain(features * torch.tensor(scale)))
    assert not torch.allclose(scaled(features), plain(features), atol=1e-3)
    scaled.save_pretrained(tmp_path)
    assert torch.equal(CameraMotionEncoder.from_pretrained(tmp_path)(features), scaled(features))
    with pytest.raises(ValueError, match="feature_scale"):
        CameraMotionEncoder(16, feature_scale=[1.0, 2.0])


def test_warped_context_samples_the_neighbours_along_the_motion_and_starts_silent():
    """A pan of exactly one latent cell per step: the context of cell x is the previous frame's cell x - 1 and the
    next frame's x + 1 (zeros past the border); with its gate at zero the encoder adds nothing."""
    torch.manual_seed(0)
    dim, grid = 4, (3, 2, 4)
    encoder = CameraMotionEncoder(dim, hidden=8, warp_context=True)
    frames, height, width = grid
    tokens = torch.randn(1, frames * height * width, dim)
    features = torch.zeros(frames * height * width, 6)
    features[:, 2] = 1.0  # the background moves one cell right per latent step
    assert encoder.warped_context(tokens, features, grid).abs().max() == 0  # zero gate
    with torch.no_grad():
        encoder.context_gate.fill_(1.0)
        encoder.context.weight.copy_(torch.eye(2 * dim)[: dim] * 0 + torch.cat([torch.eye(dim), torch.eye(dim) * 10], 1))
        encoder.context.bias.zero_()
    out = encoder.warped_context(tokens, features, grid).reshape(frames, height, width, dim)
    video = tokens.reshape(frames, height, width, dim)
    # frame 1, cell x: prev = frame 0 at x - 1, next = frame 2 at x + 1
    for x in range(1, width - 1):
        expected = video[0, :, x - 1] + 10 * video[2, :, x + 1]
        assert torch.allclose(out[1, :, x], expected, atol=1e-5)
    assert torch.allclose(out[1, :, 0], 10 * video[2, :, 1], atol=1e-5)  # nothing came from left of the frame
    assert torch.allclose(out[0, :, 1], 10 * video[1, :, 2], atol=1e-5)  # the first frame has no previous one


def test_warped_context_samples_where_float32_does_in_bf16():
    """In bf16 (the transformer's dtype on a GPU) the cell grid and sampling positions were bf16: on a 68 x 120
    latent grid the last column sampled x = 59.06 instead of 59.20, more than the 0.3-cell motion they carry. The
    positions are float32 now: a smooth field sampled in bf16 matches float32 to bf16's own rounding."""
    torch.manual_seed(0)
    dim, grid = 4, (2, 68, 120)
    frames, height, width = grid
    encoder = CameraMotionEncoder(dim, hidden=8, warp_context=True)
    with torch.no_grad():
        encoder.context_gate.fill_(1.0)
        encoder.context.weight.copy_(torch.cat([torch.eye(dim), torch.zeros(dim, dim)], 1))  # the previous frame's
        encoder.context.bias.zero_()
    xs = torch.arange(width, dtype=torch.float32)
    ramp = (xs / width).expand(frames, height, width).reshape(-1)  # content that rises along x
    tokens = ramp[None, :, None].expand(1, -1, dim).contiguous()
    features = torch.zeros(frames * height * width, 6)
    features[:, 2] = 0.3  # the background moves 0.3 cells right per latent step
    full = encoder.warped_context(tokens, features, grid)
    half = encoder.to(torch.bfloat16).warped_context(tokens.bfloat16(), features.bfloat16(), grid).float()
    inside = full.reshape(frames, height, width, dim)[1, :, 1:-1]  # the second frame, away from the border
    error = (half.reshape(frames, height, width, dim)[1, :, 1:-1] - inside).abs().max().item()
    assert error < 0.004, error  # bf16 rounding of values below 1 (positions in bf16 read 0.0071)


@pytest.mark.parametrize("motion", ["pan_left", "zoom_in", "dolly_backward", "orbit_right"])
def test_world_positions_undo_the_background_motion(motion):
    """Moving each token's RoPE coordinates by world_offsets gives the point of the first frame whose content the
    background's motion brought there: pushing that point forward through the field's steps lands on the token."""
    from ltx_video.conditioning.items import latent_positions

    controller = CameraController(Camera(motion_type=motion, speed=1.5))
    frames, h, w, height, width = 5, 4, 6, 64, 96
    field = controller.motion_field(frames, height, width, 4)
    positions = latent_positions(1, frames, h, w, temporal_scale=4, spatial_scale=16, causal=True).float()
    prefix = positions[:, :, : h * w]  # a frame of conditioning tokens standing for frame 0: not moved
    moved = controller.world_positions(torch.cat([prefix, positions], 2), field, h, w, num_prefix_tokens=h * w)
    assert torch.equal(moved[:, :, : h * w], prefix) and torch.equal(moved[:, 0], torch.cat([prefix, positions], 2)[:, 0])
    offsets = (moved[:, 1:, h * w :] - positions[:, 1:]).reshape(2, frames, h, w)  # (y, x)
    cx, cy = field.centre
    ys, xs = torch.meshgrid((torch.arange(h) + 0.5) * 16.0, (torch.arange(w) + 0.5) * 16.0, indexing="ij")
    for k in range(frames):
        px, py = xs + offsets[1, k], ys + offsets[0, k]  # world point, then forward k steps
        for step in range(k):
            s, (tx, ty) = field.scale[step, 1].item(), field.shift[step, 1].tolist()
            px, py = cx + s * (px - cx) + tx, cy + s * (py - cy) + ty
        assert torch.allclose(px, xs, atol=1e-3) and torch.allclose(py, ys, atol=1e-3)
    assert offsets[:, 1:].abs().max() > 1.0  # it moved them
    static = CameraController(Camera(motion_type="static"))
    assert torch.equal(static.world_positions(positions, static.motion_field(frames, height, width, 4), h, w), positions)
    off = CameraController(Camera(motion_type=motion), world_coordinates=False)
    assert torch.equal(off.world_positions(positions, field, h, w), positions)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("motion", ["pan_left", "zoom_in"])
def test_world_positions_give_conditioning_tokens_the_offsets_of_the_frame_they_stand_for(motion, causal):
    """Conditioning tokens as the pipelines build them (an image at pixel frame 20, a clip's two token frames at frame
    8; times in seconds) take the world offsets of the latent frames they stand for (20: the frame holding it, 3; the
    clip: 1 and 2), read from their own time coordinate, under LTX-Video's causal positions (frame f at 8f - 7) and
    diffusers' shifted ones (8f: frame 2 for the image there before 2026-12-07); their times and the video tokens'
    coordinates are as without them. Before 2026-12-07 they kept screen coordinates."""
    from ltx_video.conditioning.items import ConditioningState, KeyframeCondition, latent_positions

    controller = CameraController(Camera(motion_type=motion, speed=1.5))
    frames, h, w, fps = 5, 2, 3, 25.0
    field = controller.motion_field(frames, 64, 96, 8)
    state = ConditioningState.from_noise(torch.zeros(2, 4, frames, h, w))
    for frame_index, latent_frames in ((20, 1), (8, 3)):  # a clip of 17 frames: 3 latent frames, 2 given as tokens
        state = KeyframeCondition(latents=torch.ones(1, 4, latent_frames, h, w), frame_index=frame_index, strength=1.0,
                                  num_pixel_frames=8 * latent_frames - 7, causal=causal,
                                  ).apply_to(state, torch.Generator().manual_seed(0))
    video = latent_positions(2, frames, h, w, causal=causal)
    positions = torch.cat([state.prefix_coords, video], dim=2).float()
    positions[:, 0] = positions[:, 0] * (1.0 / fps)  # as prepare_latents gives them
    cells, prefix = h * w, state.prefix_coords.shape[2]
    moved = controller.world_positions(positions, field, h, w, num_prefix_tokens=prefix, causal=causal)
    alone = controller.world_positions(positions[:, :, prefix:], field, h, w, causal=causal)
    assert prefix == 3 * cells and torch.equal(moved[:, :, prefix:], alone) and torch.equal(moved[:, 0], positions[:, 0])
    offsets = field.world_offsets(h, w)  # (F', 2, h, w): (dx, dy)
    for block, frame in enumerate((3, 1, 2)):
        token = slice(block * cells, (block + 1) * cells)
        shift = moved[:, 1:, token] - positions[:, 1:, token]  # (y, x)
        own = slice(frame * cells, (frame + 1) * cells)
        video_shift = alone[:, 1:, own] - positions[:, 1:, prefix:][..., own]
        assert torch.equal(shift, video_shift)  # the same offsets as the frame's own tokens
        assert torch.allclose(shift[:, 0], offsets[frame, 1].flatten()) and torch.allclose(shift[:, 1], offsets[frame, 0].flatten())
        assert shift.abs().max() > 1.0  # moved (left on screen before)
    with pytest.raises(ValueError, match="`num_prefix_tokens` must be whole 2x3 frames"):
        controller.world_positions(positions, field, h, w, num_prefix_tokens=prefix - 1, causal=causal)


def test_prompt_with_camera_and_settled_coordinates():
    from ltx_video.conditioning.motions import prompt_with_camera

    assert prompt_with_camera("a red ball bounces", "pan_left") == "a red ball bounces, the camera pans left"
    assert prompt_with_camera("a red ball bounces, the camera zooms in", "dolly_backward") == (
        "a red ball bounces, the camera dollies backward")
    # the pace: the slow and fast thirds of the world's speed range (0.5-1.5 at 64 px, scaled above 64 px)
    paced = [prompt_with_camera("a red ball bounces", "pan_left", speed) for speed in (0.5, 0.8, 0.9, 1.1, 1.2, 1.5)]
    assert [p.rpartition(" ")[2] for p in paced] == ["slowly", "slowly", "left", "left", "quickly", "quickly"]
    assert prompt_with_camera("a red ball bounces", "zoom_in", 2.0, 128, 128).endswith("zooms in")  # 1.0 at 64 px
    assert prompt_with_camera("a red ball bounces", "static", 0.5) == "a red ball bounces, the camera is static"
    pan = Camera(motion_type="pan_left")
    assert CameraController(pan).settled().world_coordinates is True  # training-free: world coordinates
    assert CameraController(pan).settled({"world_positions": False}).world_coordinates is False  # as trained
    assert CameraController(pan).settled({}).world_coordinates is True  # encoders saved before the key existed
    assert CameraController(pan, world_coordinates=True).settled({"world_positions": False}).world_coordinates is True


def test_constraint_samples_a_zoom_where_its_content_was():
    """A ramp whose value is the pixel x: at weight 1 (and a blur too narrow to act) frame k is frame k - 1 sampled
    at the zoom's exact inverse, so frame 2 reads c + (x - c) / (s0 s1). Sampling at p - d(p) read c + (2 - s)(p - c):
    at 10 % per frame 11 px off, the second step mirrored about the centre."""
    controller = CameraController(Camera(motion_type="zoom_in", speed=10.0), lowpass=0.05)
    f = controller.motion_field(3, 64, 64, 8)  # 16 x 16 cells of 4 px
    xs = (torch.arange(16.0) + 0.5) * 4
    out = controller.constrain(xs.expand(1, 1, 3, 16, 16).clone(), f, weight=1.0)
    s0, s1 = f.scale[0, 1].item(), f.scale[1, 1].item()
    assert s1 == pytest.approx(1.1**8)
    torch.testing.assert_close(out[0, 0, 1], (32 + (xs - 32) / s0).expand(16, 16), atol=1e-4, rtol=0)
    torch.testing.assert_close(out[0, 0, 2], (32 + (xs - 32) / (s0 * s1)).expand(16, 16), atol=1e-4, rtol=0)


def test_warped_context_takes_a_zoom_from_where_its_content_came():
    """The previous frame is sampled at the background step's exact inverse, p - d(p) / s (from the features'
    displacement and log scale), not p - d(p); the next frame at p + d(p), as before."""
    dim, grid = 1, (2, 8, 8)
    frames, height, width = grid
    f = CameraController(Camera(motion_type="zoom_in", speed=10.0)).motion_field(frames, 256, 256, 8)  # 32 px cells
    features = CameraMotionEncoder.token_features(f, frames, height, width)
    encoder = CameraMotionEncoder(dim, hidden=8, warp_context=True)
    with torch.no_grad():
        encoder.context_gate.fill_(1.0)
        encoder.context.weight.copy_(torch.tensor([[1.0, 0.0]]))  # the previous frame's alone
        encoder.context.bias.zero_()
    xs = torch.arange(8.0)  # cell x, the ramp's value
    tokens = xs.expand(frames, height, width).reshape(1, -1, 1)
    out = encoder.warped_context(tokens, features, grid).reshape(frames, height, width)
    s = f.scale[0, 1].item()
    torch.testing.assert_close(out[1], (3.5 + (xs - 3.5) / s).expand(8, 8), atol=1e-5, rtol=0)


def test_zooms_scale_about_the_image_centre_and_dollies_about_the_pivot():
    """A zoom changes the focal length: its fixed point is the image centre whatever the yaw and pitch; a dolly moves
    toward the pivot, whose image point they set."""
    camera = dict(speed=2.0, rotation=(20.0, 10.0, 0.0))
    zoom, dolly = field("zoom_in", **camera), field("dolly_forward", **camera)
    assert zoom.centre == (W / 2, H / 2)
    pivot = CameraController(Camera(**camera)).pivot(H, W)
    assert dolly.centre == pivot and pivot[0] > W / 2 and pivot[1] < H / 2
    still = zoom.displacement(H, W)[:, :, H // 2 - 1 : H // 2 + 1, W // 2 - 1 : W // 2 + 1]
    assert still.abs().max() < 0.1  # the four pixels round the image centre barely move


@pytest.mark.parametrize("num_frames", [9, 17, 49])
def test_speed_bound_is_one_whole_latent_step_at_the_frame_corners(num_frames):
    """The same bound whatever the length (9 frames: the only latent step is 4.5 frames, and 14 px per frame passed),
    measured at the frame's corners (a zoom of 15 % per frame moves the edge 66 px per step on a 64 px frame; the 2 x 2
    cell centres halfway there moved 33 px and passed)."""
    def accepted(motion, speed):
        try:
            CameraController(Camera(motion_type=motion, speed=speed)).check(num_frames, 64, 64, 8)
        except ValueError as error:
            assert "the whole frame or more" in str(error) or "from as far, in one latent step" in str(error)
            return False
        return True

    assert accepted("pan_left", 7.9) and not accepted("pan_left", 8.1) and not accepted("pan_left", 14.0)
    assert accepted("zoom_in", 14.5) and not accepted("zoom_in", 15.0)  # 1.145 ** 8 = 2.95, 1.15 ** 8 = 3.06
    assert accepted("zoom_out", 14.5) and not accepted("zoom_out", 15.0)  # held to its mirror's bound


def test_a_pan_by_exactly_the_frame_in_one_latent_step_is_refused_as_the_whole_frame():
    """At exactly the frame (8 px per frame x 8 frames = 64 px on a 64 px video) nothing of one latent frame is left
    in the next: the check refuses it (``>=``), and the message says so (it said "more than the frame" until
    2026-12-07); the zoom out's mirror bound says the same."""
    with pytest.raises(ValueError, match=r"`speed` 8.0 \(pan_left\) moves the content 64 px in one latent step \(8 "
                                         r"frames\) of a 64x64 video: the whole frame or more \(no content carries "
                                         r"over\)\. Lower the speed\."):
        CameraController(Camera(motion_type="pan_left", speed=8.0)).check(17, 64, 64, 8)
    field = CameraController(Camera(motion_type="pan_left", speed=8.0)).motion_field(3, 64, 64, 8)
    moved = field.shift[-1, 0, 0].item()
    assert moved == pytest.approx(64.0) and (torch.tensor([0.0, 64.0]) + moved >= 64).all()  # every column leaves
    CameraController(Camera(motion_type="pan_left", speed=7.9)).check(17, 64, 64, 8)
    with pytest.raises(ValueError, match=r"\(zoom_out\) brings in content from farther outside the frame than the "
                                         r"frame's size, or from as far, in one latent step \(8 frames\)"):
        CameraController(Camera(motion_type="zoom_out", speed=15.0)).check(17, 64, 64, 8)


def test_a_camera_that_does_not_move_holds_the_frames_still_in_latent_space():
    """``"static"`` (and any motion at speed 0) is a camera held still: each frame's low frequencies are pulled
    toward the previous frame's, unwarped (the pixel path, which would freeze the objects too, imposes nothing).
    Pins the behaviour the camera had since it landed (a fix on 2026-12-07 briefly made it impose nothing)."""
    clean = torch.randn(1, 2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    still = None
    for camera in (Camera(), Camera(motion_type="pan_left", speed=0.0), Camera(motion_type="zoom_in", speed=0.0)):
        controller = CameraController(camera, strength=1.0)
        held = controller.constrain(clean, controller.motion_field(3, 128, 128, 8), weight=1.0)
        assert still is None or torch.equal(held, still)
        still = held
    def step(x):  # how far the lowest spatial frequency (each frame's mean) moves from frame to frame
        means = x.mean((-2, -1))
        return (means[:, :, 1:] - means[:, :, :-1]).abs().mean()

    assert torch.equal(still[:, :, 0], clean[:, :, 0]) and step(still) < 0.5 * step(clean)


def test_a_placed_camera_takes_its_geometry_from_the_requested_frame():
    """72 x 40 padded to 96 x 64: the pivot of a 25 degree yaw is where the 72 px frame puts it (65.1 px in, 77.1 px on
    the padded grid), not where a 96 px frame would (74.8 px into the video); a zoom scales about the video's centre."""
    from ltx_video.pipelines.control import ControlPlan
    from ltx_video.pipelines.latent_ops import Padding

    camera = Camera(motion_type="dolly_forward", speed=2.0, rotation=(25.0, 0.0, 0.0))
    padding = Padding(40, 72, 17)
    left, _, top, _ = padding.pad
    plan = ControlPlan(camera=CameraController(camera))
    cx, cy = plan.motion_field(3, padding, 8).centre
    expected = CameraController(camera).pivot(40, 72)
    assert (cx - left, cy - top) == pytest.approx(expected) and expected[0] == pytest.approx(65.076, abs=1e-3)
    zoom = ControlPlan(camera=CameraController(replace(camera, motion_type="zoom_in")))
    assert zoom.motion_field(3, padding, 8).centre == (left + 36, top + 20)
    with pytest.raises(ValueError, match="does not hold it"):
        CameraController(camera).placed(top, left, 40, 72).centre(40, 72)


def test_a_merged_camera_lora_stays_merged_after_saving(tmp_path):
    """The guard against a second merge (which would add the LoRA twice) is saved with the merged weights: the
    reloaded pipeline refuses the second merge too, and its weights are the once-merged ones."""
    import copy

    from peft import LoraConfig, get_peft_model_state_dict

    from ltx_video import LTXAudioVideoPipeline
    from ltx_video.testing import tiny_audio_video_pipeline

    pipe = tiny_audio_video_pipeline(seed=0)
    tuned = copy.deepcopy(pipe.transformer)
    tuned.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                 init_lora_weights=False))
    lora = tmp_path / "lora"
    LTXAudioVideoPipeline.save_lora_weights(lora, transformer_lora_layers=get_peft_model_state_dict(tuned))
    config = pipe.transformer.config
    CameraMotionEncoder(config.num_attention_heads * config.attention_head_dim).save_pretrained(lora / "camera_encoder")
    base = {name: value.clone() for name, value in pipe.transformer.named_parameters()}
    pipe.load_camera_lora(lora)
    merged = dict(pipe.transformer.named_parameters())
    assert max((merged[name] - value).abs().max().item() for name, value in base.items()) > 1e-3
    pipe.save_pretrained(tmp_path / "merged")
    loaded = LTXAudioVideoPipeline.from_pretrained(tmp_path / "merged")
    assert loaded.transformer.config["_merged_camera_lora"] == str(lora)
    with pytest.raises(ValueError, match=r"load_camera_lora: the camera LoRA of .*lora is already merged .*also when saved"):
        loaded.load_camera_lora(lora)
    assert all(torch.equal(merged[name], value) for name, value in loaded.transformer.named_parameters())
    loaded.load_camera_lora(lora, fuse=False)  # as an adapter it may still be switched on and off
    assert loaded.get_list_adapters() == {"transformer": ["camera"]}


def _camera_lora(folder, transformer):
    """A camera LoRA folder as scripts/extract_lora.py writes it: a LoRA on the attention projections and a motion
    encoder of the transformer's width."""
    import copy

    from peft import LoraConfig, get_peft_model_state_dict

    from ltx_video import LTXVideoPipeline

    tuned = copy.deepcopy(transformer)
    torch.manual_seed(1)
    tuned.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                 init_lora_weights=False))
    LTXVideoPipeline.save_lora_weights(folder, transformer_lora_layers=get_peft_model_state_dict(tuned))
    config = transformer.config
    CameraMotionEncoder(config.num_attention_heads * config.attention_head_dim).save_pretrained(folder / "camera_encoder")
    return folder


def _lora_pipe(components):
    import copy

    from ltx_video import LTXVideoPipeline

    pipe = LTXVideoPipeline(**{**components, "transformer": copy.deepcopy(components["transformer"])})
    pipe.set_progress_bar_config(disable=True)
    return pipe


LORA_CALL = dict(prompt="a red ball bounces", height=32, width=32, num_frames=9, num_inference_steps=2,
                 max_sequence_length=16, output_type="pt")


def test_a_camera_lora_kept_as_an_adapter_joins_the_active_adapters_at_their_weights(components, tmp_path, caplog):
    """``fuse=False`` beside a style LoRA set to 0.5: both act, the style still at 0.5 (diffusers' load left
    "camera" the only active adapter, the style silently off). A LoRA loaded after it is the only active one, as in
    diffusers, and the pipeline warns that the motion encoder now steers the model without its LoRA."""
    pytest.importorskip("peft")
    from peft import LoraConfig, get_peft_model_state_dict

    pipe = _lora_pipe(components)
    style_model = _lora_pipe(components).transformer
    style_model.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["ff.net.0.proj", "ff.net.2"],
                                       init_lora_weights=False))
    style = {k: 3 * v for k, v in get_peft_model_state_dict(style_model).items()}
    pipe.load_lora_weights(style, adapter_name="style")
    pipe.set_adapters("style", 0.5)
    pipe.load_camera_lora(_camera_lora(tmp_path / "lora", pipe.transformer), fuse=False)
    assert pipe.get_active_adapters() == ["style", "camera"]
    beside = pipe(**LORA_CALL, generator=torch.Generator("cpu").manual_seed(0)).frames
    for names, weights in ((["style", "camera"], [0.5, 1.0]), (["camera"], [1.0]), (["style", "camera"], [1.0, 1.0])):
        pipe.set_adapters(names, weights)
        out = pipe(**LORA_CALL, generator=torch.Generator("cpu").manual_seed(0)).frames
        assert torch.equal(out, beside) == (weights == [0.5, 1.0]), (names, weights)
    # the other order: a LoRA loaded after the camera's switches it off, as diffusers' load does, and says so
    other = _lora_pipe(components)
    other.load_camera_lora(tmp_path / "lora", fuse=False)
    with caplog.at_level("WARNING"):
        other.load_lora_weights(style, adapter_name="style")
    assert other.get_active_adapters() == ["style"]
    assert "pipe.set_adapters(['style', 'camera']) runs them together" in caplog.text


def test_a_camera_lora_folder_that_fails_leaves_the_pipeline_as_it_was(components, tmp_path):
    """A motion encoder without weights, or of another width than the transformer's, is refused before the LoRA
    is merged: the transformer, its config and ``camera_encoder`` stay as they were, and the fixed folder then
    merges (the merge came first: the retry was refused as a second merge, and a wrong width failed only at the next
    camera= call, inside the hook)."""
    import shutil

    pytest.importorskip("peft")
    pipe = _lora_pipe(components)
    before = {name: value.clone() for name, value in pipe.transformer.state_dict().items()}

    def unchanged():
        state = pipe.transformer.state_dict()
        return (state.keys() == before.keys() and all(torch.equal(state[k], v) for k, v in before.items())
                and "_merged_camera_lora" not in pipe.transformer.config and pipe.camera_encoder is None)

    lora = _camera_lora(tmp_path / "lora", pipe.transformer)
    for weights in (lora / "camera_encoder").glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(OSError, match="camera_encoder"):
        pipe.load_camera_lora(lora)
    assert unchanged()
    shutil.rmtree(lora / "camera_encoder")
    CameraMotionEncoder(32).save_pretrained(lora / "camera_encoder")
    with pytest.raises(ValueError, match=r"load_camera_lora: the motion encoder of .*lora/camera_encoder is 32 wide "
                                         r"and this transformer 16"):
        pipe.load_camera_lora(lora)
    assert unchanged()
    shutil.rmtree(lora / "camera_encoder")
    CameraMotionEncoder(16).save_pretrained(lora / "camera_encoder")
    pipe.load_camera_lora(lora)
    assert pipe.transformer.config["_merged_camera_lora"] == str(lora) and pipe.camera_encoder.config.inner_dim == 16
    assert not torch.equal(pipe.transformer.state_dict()["transformer_blocks.0.attn1.to_q.weight"],
                           before["transformer_blocks.0.attn1.to_q.weight"])


def test_the_encoder_module_imports_first_in_a_fresh_interpreter():
    """camera_controller imports camera_encoder at its end; camera_encoder imported first read MotionField from the
    half-made camera_controller (ImportError, found 2026-12-07): the name is an annotation only."""
    import subprocess
    import sys

    code = "from ltx_video.conditioning.camera_encoder import CameraMotionEncoder; print(CameraMotionEncoder.__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "CameraMotionEncoder", result.stderr[-2000:]
