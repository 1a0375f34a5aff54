"""``ltx_video.metrics.camera_motion`` against known motion: warped textures and the synthetic world.

Accuracy criteria (per clip, ``est`` / ``true`` the ``(F - 1, 3)`` rows):

* pans: ``mean |dx_est - dx_true|`` and ``mean |dy_est - dy_true|`` <= 0.5 px per frame;
* zooms: the cumulative scale over the clip, ``prod(zoom_est) / prod(zoom_true) - 1``, within 2 %,
  and ``mean |zoom_est - zoom_true|`` per frame <= 0.001 (a tenth of a 1 %-per-frame zoom);
* static camera: ``mean |dx|``, ``mean |dy|`` < 0.1 px and ``mean |zoom - 1|`` < 0.002.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ltx_video.metrics import camera_motion, compose_motions
from ltx_video.metrics._image import gaussian_blur, sample_bilinear


def warped_texture_clip(
    seed: int, *, dx: float = 0.0, dy: float = 0.0, zoom: float = 1.0, num_frames: int = 12, size: int = 64
) -> np.ndarray:
    """A smooth random texture seen through a camera, with two independently moving squares on top.

    Frame ``k`` shows the content point ``w`` of a 256 x 256 world at ``c + zoom**k (w - c_w) + k d``,
    so the content moves by ``d`` and scales by ``zoom`` per frame. ``(F, H, W, 3)`` in ``[0, 1]``.
    """
    rng = np.random.default_rng(seed)
    world = gaussian_blur(rng.standard_normal((256, 256, 3)), 3.0, axes=(0, 1))
    world = np.clip(np.array([0.45, 0.45, 0.4]) + 0.15 * world / np.abs(world).max(), 0, 1)
    centre = (size - 1) / 2
    py, px = np.mgrid[0:size, 0:size].astype(np.float64)
    starts = rng.uniform(12, size - 12, (2, 2))
    velocities = rng.uniform(-3, 3, (2, 2))
    frames = []
    for k in range(num_frames):
        scale = zoom**k
        image, _ = sample_bilinear(
            world, (px - centre - k * dx) / scale + 127.5, (py - centre - k * dy) / scale + 127.5
        )
        for (x, y), colour in zip(starts + k * velocities, ((0.9, 0.1, 0.1), (0.1, 0.3, 1.0)), strict=True):
            image[(np.abs(px - x) < 5) & (np.abs(py - y) < 5)] = colour
        frames.append(image)
    return np.stack(frames)


@pytest.mark.parametrize(("dx", "dy"), [(1.0, 0.0), (-0.7, 0.4), (0.0, -1.5), (2.3, 1.1)])
def test_pans_of_a_warped_texture(dx, dy):
    motion = camera_motion(warped_texture_clip(1, dx=dx, dy=dy))
    assert motion.shape == (11, 3)
    np.testing.assert_allclose(motion[:, 0], dx, atol=0.05)
    np.testing.assert_allclose(motion[:, 1], dy, atol=0.05)
    np.testing.assert_allclose(motion[:, 2], 1.0, atol=0.002)


@pytest.mark.parametrize("zoom", [1.01, 1 / 1.015, 1.05])
def test_zooms_of_a_warped_texture(zoom):
    motion = camera_motion(warped_texture_clip(2, zoom=zoom))
    np.testing.assert_allclose(motion[:, 2], zoom, rtol=0.001)
    np.testing.assert_allclose(motion[:, :2], 0.0, atol=0.05)


def test_static_texture_and_layouts_agree():
    clip = warped_texture_clip(3)
    motion = camera_motion(clip)
    np.testing.assert_allclose(motion, np.tile([0.0, 0.0, 1.0], (11, 1)), atol=1e-3)
    # the same clip channels-first in [-1, 1], and as uint8, give the same motion
    panned = warped_texture_clip(3, dx=0.8)
    reference = camera_motion(panned)
    np.testing.assert_allclose(
        camera_motion(torch.from_numpy(panned * 2 - 1).permute(0, 3, 1, 2)), reference, atol=1e-6
    )
    np.testing.assert_allclose(camera_motion((panned * 255 + 0.5).astype(np.uint8)), reference, atol=0.02)


def test_reversed_clip_negates_the_motion():
    clip = warped_texture_clip(4, dx=0.9, dy=-0.6)
    forward = camera_motion(clip)
    backward = camera_motion(clip[::-1].copy())[::-1]
    np.testing.assert_allclose(backward[:, :2], -forward[:, :2], atol=0.02)
    zooming = warped_texture_clip(4, zoom=1.02)
    np.testing.assert_allclose(camera_motion(zooming[::-1].copy())[:, 2], 1 / 1.02, rtol=0.001)


def test_compose_motions_chains_the_pairs():
    motions = np.array([[1.0, 0.0, 1.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]])
    maps = compose_motions(motions, 5, 5)  # centre (2, 2)
    np.testing.assert_allclose(maps[0], [0, 0, 1])
    np.testing.assert_allclose(maps[2], [1, 2, 1])
    # p -> p + (1, 2) -> 2 (p + (1, 2) - c) + c = 2 p + (0, 2)
    np.testing.assert_allclose(maps[3], [0, 2, 2])


def composed_texture_clip(seed: int, dx: float, dy: float, zoom: float, num_frames: int = 20) -> np.ndarray:
    """A smooth random texture moved by the same map ``p -> c + zoom (p - c) + (dx, dy)`` between every two frames
    (frame ``k`` shows the content after ``k`` such maps), ``(F, 64, 64, 3)`` in ``[0, 1]``."""
    rng = np.random.default_rng(seed)
    world = gaussian_blur(rng.standard_normal((256, 256, 3)), 3.0, axes=(0, 1))
    world = np.clip(0.45 + 0.15 * world / np.abs(world).max(), 0, 1)
    c = 31.5
    py, px = np.mgrid[0:64, 0:64].astype(np.float64)
    frames = []
    for k in range(num_frames):
        scale, shift = zoom**k, np.sum(zoom ** np.arange(k)) * np.array([dx, dy])  # k maps composed
        frames.append(sample_bilinear(world, (px - c - shift[0]) / scale + 127.5, (py - c - shift[1]) / scale + 127.5)[0])
    return np.stack(frames)


def test_spans_give_the_per_frame_map():
    """Over a span of ``step`` frames the registration sees ``step`` maps composed; what comes back is the one map."""
    clip = composed_texture_clip(5, dx=0.8, dy=-0.5, zoom=1.012)
    for step in (1, 3, 8):
        motion = camera_motion(clip, step=step)
        assert motion.shape == (20 - step, 3)
        np.testing.assert_allclose(motion[:, 0], 0.8, atol=0.02)
        np.testing.assert_allclose(motion[:, 1], -0.5, atol=0.02)
        np.testing.assert_allclose(motion[:, 2], 1.012, atol=3e-4)


def test_span_maps_compose_and_invert_exactly():
    """A map ``p -> c + z (p - c) + d`` applied ``S`` times, as points move, equals ``_span_map`` of ``S`` copies;
    ``_per_frame`` gives the one map back."""
    from ltx_video.metrics.camera import _per_frame, _span_map

    height, width = 48, 80
    c = np.array([(width - 1) / 2, (height - 1) / 2])
    rng = np.random.default_rng(0)
    for d, z, steps in (((0.7, -0.3), 1.03, 5), ((-2.0, 1.5), 0.97, 16), ((1.0, 0.0), 1.0, 8)):
        points = rng.uniform(0, 48, (10, 2))
        moved = points.copy()
        for _ in range(steps):
            moved = c + z * (moved - c) + np.array(d)
        span = _span_map(np.tile([*d, z], (steps, 1)), height, width)
        np.testing.assert_allclose(c + span[2] * (points - c) + span[:2], moved, atol=1e-9)
        np.testing.assert_allclose(_per_frame(span[None], steps)[0], [*d, z], atol=1e-12)
    assert np.isnan(_per_frame(np.array([[1.0, 0.0, -0.5]]), 4)).all()  # no per-frame root of a negative scale


def test_spans_read_the_speed_through_frame_noise():
    """Independent noise in every frame (as a decoder leaves) pulls a consecutive pair's estimate toward no motion;
    over a 16-frame span the shift is 16 times larger and the noise is not, so the speed comes back (within 5 %)."""
    clip = warped_texture_clip(3, dx=1.5, num_frames=33)
    noise = gaussian_blur(np.random.default_rng(0).standard_normal(clip.shape), 1.5, axes=(1, 2))
    noisy = np.clip(clip + 0.03 * noise / noise.std(), 0, 1)
    np.testing.assert_allclose(np.median(camera_motion(clip, step=16)[:, 0]), 1.5, atol=0.005)  # clean: both exact
    np.testing.assert_allclose(camera_motion(clip)[:, 0].mean(), 1.5, atol=0.005)
    assert camera_motion(noisy)[:, 0].mean() < 1.2  # the pairs read a fifth or more short (0.85)
    np.testing.assert_allclose(np.median(camera_motion(noisy, step=16)[:, 0]), 1.5, rtol=0.05)  # 1.46


@pytest.mark.parametrize("camera", ["zoom_in", "zoom_out"])
def test_spans_read_the_worlds_zooms(camera):
    """The world's zooms over 16-frame spans, its bouncing object pulling some consecutive pairs off: the median
    span reads the true rate (spans start from the median pair as well as from the chained pairs)."""
    synthetic = pytest.importorskip("ltx_video.data.synthetic")
    clip = synthetic.make_clip(6, camera=camera)
    truth = clip.camera.numpy().astype(np.float64).mean(axis=0)
    median = np.median(camera_motion(clip.video, step=16), axis=0)
    assert abs(median[2] - truth[2]) < 0.05 * abs(truth[2] - 1)  # within 5 % of the rate
    np.testing.assert_allclose(median[:2], 0.0, atol=0.02)


def test_long_spans_keep_the_basin_of_a_repeating_background():
    """A 16-frame span of a 1.5 px pan shifts the synthetic world's background by 24 px, more than its pattern's
    repeat; each span starts from its consecutive pairs' composed estimate, so it is not read as another repeat."""
    synthetic = pytest.importorskip("ltx_video.data.synthetic")
    clip = synthetic.make_clip(6, camera="pan_left")
    truth = clip.camera.numpy().astype(np.float64).mean(axis=0)
    spans = camera_motion(clip.video, step=16)
    np.testing.assert_allclose(np.median(spans, axis=0), truth, atol=0.005)
    # most spans on their own too (a few, where the bouncing object covers much of the frame, are pulled by it)
    assert (np.abs(spans - truth)[:, :2].max(axis=1) < 0.02).mean() >= 0.75
    assert (np.abs(spans[:, 0] - truth[0]) < 0.4).all()  # none in another repeat of the background


def test_input_errors():
    with pytest.raises(ValueError, match="at least 2 frames"):
        camera_motion(np.zeros((1, 16, 16, 3)))
    with pytest.raises(ValueError, match="at least 9 frames"):
        camera_motion(np.zeros((8, 16, 16, 3)), step=8)
    for step in (0, 1.5, True):
        with pytest.raises(ValueError, match="step must be a positive integer"):
            camera_motion(np.zeros((4, 16, 16, 3)), step=step)
    with pytest.raises(ValueError, match="4 dims"):
        camera_motion(np.zeros((4, 16, 16)))
    with pytest.raises(ValueError, match="3 channels"):
        camera_motion(np.zeros((4, 2, 16, 16)))
    # a blank video has no motion
    np.testing.assert_array_equal(camera_motion(np.zeros((3, 16, 16, 3))), np.tile([0.0, 0.0, 1.0], (2, 1)))


# --------------------------------------------------------------------------------------------
# Ground truth of the synthetic world (ltx_video.data.synthetic)
# --------------------------------------------------------------------------------------------

CAMERA_CASES = [
    ("static", 0),
    ("static", 1),
    ("pan_left", 2),
    ("pan_right", 3),
    ("pan_up", 4),
    ("pan_down", 5),
    ("pan_left", 6),
    ("zoom_in", 7),
    ("zoom_out", 8),
    ("zoom_in", 9),
    ("zoom_out", 10),
]


@pytest.fixture(scope="module")
def synthetic_motion():
    synthetic = pytest.importorskip("ltx_video.data.synthetic")
    out = {}
    for camera, seed in CAMERA_CASES:
        clip = synthetic.make_clip(seed, camera=camera)
        out[camera, seed] = (camera_motion(clip.video), clip.camera.numpy().astype(np.float64), clip)
    return out


@pytest.mark.parametrize(("camera", "seed"), CAMERA_CASES)
def test_synthetic_camera_ground_truth(synthetic_motion, camera, seed):
    estimate, truth, clip = synthetic_motion[camera, seed]
    assert estimate.shape == truth.shape == (clip.num_frames - 1, 3)
    error = np.abs(estimate - truth)
    if camera == "static":
        assert np.abs(estimate[:, :2]).mean(axis=0).max() < 0.1
        assert np.abs(estimate[:, 2] - 1).mean() < 0.002
    elif camera.startswith("pan"):
        assert error[:, :2].mean(axis=0).max() <= 0.5
        # the sign convention: pan_left moves the content right
        axis = 0 if camera in ("pan_left", "pan_right") else 1
        assert np.sign(estimate[:, axis].mean()) == np.sign(truth[:, axis].mean()) != 0
    else:
        cumulative = np.prod(estimate[:, 2]) / np.prod(truth[:, 2]) - 1
        assert abs(cumulative) <= 0.02
        assert error[:, 2].mean() <= 0.001
        assert (estimate[:, 2].mean() > 1) == (camera == "zoom_in")


def test_synthetic_camera_summary(synthetic_motion):
    """All clips together; prints the figures for the record (``pytest -s``)."""
    pans = [np.abs(e - t)[:, :2].mean() for (cam, _), (e, t, _) in synthetic_motion.items() if cam.startswith("pan")]
    zooms = [
        abs(np.prod(e[:, 2]) / np.prod(t[:, 2]) - 1)
        for (cam, _), (e, t, _) in synthetic_motion.items()
        if "zoom" in cam
    ]
    static = [np.abs(e[:, :2]).mean() for (cam, _), (e, _, _) in synthetic_motion.items() if cam == "static"]
    print(f"pan MAE per clip (px/frame): max {max(pans):.4f}; cumulative zoom error: max {max(zooms):.4%}")
    print(f"static |dx|,|dy| mean: max {max(static):.4f} px")
    # a negative control: the zoom clips are not static, nor the pans zooms
    for (cam, _), (estimate, _, _) in synthetic_motion.items():
        if cam.startswith("zoom"):
            assert abs(np.log(estimate[:, 2]).mean()) > 0.004
        if cam.startswith("pan"):
            assert np.abs(estimate[:, :2]).mean(axis=0).max() > 0.4


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8])
def test_bilinear_samples_are_the_weighted_corners(dtype):
    """``sample_bilinear`` (its channel-first gather) against the textbook formula written out point by point, a
    channel image against its channels sampled one by one, and the clamp at the border."""
    rng = np.random.default_rng(0)
    image = (rng.random((7, 9, 3)) * 255).astype(dtype)
    x, y = rng.uniform(-2, 10, (5, 8)), rng.uniform(-2, 8, (5, 8))
    values, inside = sample_bilinear(image, x, y)
    assert values.shape == (5, 8, 3) and values.dtype == np.result_type(dtype, np.float64)
    for channel in range(3):
        assert np.array_equal(sample_bilinear(image[..., channel], x, y)[0], values[..., channel])
    for (i, j), (px, py) in zip(np.ndindex(x.shape), zip(x.ravel(), y.ravel(), strict=True), strict=True):
        cx, cy = min(max(px, 0), 8), min(max(py, 0), 6)
        x0, y0 = min(int(cx), 7), min(int(cy), 5)
        fx, fy = cx - x0, cy - y0
        corners = image[y0:y0 + 2, x0:x0 + 2].astype(np.float64)
        expected = ((1 - fy) * ((1 - fx) * corners[0, 0] + fx * corners[0, 1])
                    + fy * ((1 - fx) * corners[1, 0] + fx * corners[1, 1]))
        np.testing.assert_allclose(values[i, j], expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
        assert inside[i, j] == (0 <= px <= 8 and 0 <= py <= 6)
