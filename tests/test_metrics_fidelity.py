"""``ltx_video.metrics`` keyframe fidelity (PSNR, SSIM) and temporal stability (flicker, drift)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from ltx_video.metrics import flicker, keyframe_fidelity, psnr, ssim, temporal_drift


def smooth_frames(num_frames: int = 9, height: int = 32, width: int = 40) -> np.ndarray:
    """Slowly moving colour gradients, ``(F, H, W, 3)`` float in ``[0, 1]``."""
    y, x = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    frames = []
    for k in range(num_frames):
        red = 0.5 + 0.4 * np.sin(2 * math.pi * (x + 0.03 * k))
        green = 0.5 + 0.4 * np.cos(2 * math.pi * (y - 0.02 * k))
        blue = 0.2 + 0.3 * (x + y)
        frames.append(np.stack([red, green, blue], axis=-1))
    return np.stack(frames)


def test_identical_keyframes_give_infinite_psnr_and_unit_ssim():
    frames = smooth_frames()
    keyframes = {0: frames[0], 4: torch.from_numpy(frames[4]).permute(2, 0, 1), 8: frames[8] * 2 - 1}
    result = keyframe_fidelity(torch.from_numpy(frames).permute(0, 3, 1, 2), keyframes)
    assert set(result) == {0, 4, 8}
    assert result[0]["psnr"] == math.inf and result[4]["psnr"] == math.inf
    # [-1, 1] -> [0, 1] is exact only to rounding
    assert result[8]["psnr"] > 200.0
    for scores in result.values():
        assert scores["ssim"] == pytest.approx(1.0, abs=1e-9)


def test_noise_keyframe_gives_low_psnr_and_ssim():
    frames = smooth_frames()
    rng = np.random.default_rng(0)
    noise = rng.uniform(0, 1, frames.shape[1:])
    scores = keyframe_fidelity(frames, {3: noise})[3]
    # uniform noise against a smooth image: MSE ~ 1/12 + ..., about 9-10 dB
    assert scores["psnr"] < 15.0
    assert scores["ssim"] < 0.1
    # a lightly perturbed keyframe scores in between
    slight = np.clip(frames[3] + rng.normal(0, 0.02, frames.shape[1:]), 0, 1)
    near = keyframe_fidelity(frames, {3: slight})[3]
    assert 30.0 < near["psnr"] < 40.0
    assert scores["ssim"] < near["ssim"] < 1.0


def test_psnr_matches_its_definition_and_uint8_pil_inputs_agree():
    frames = smooth_frames()
    shifted = np.clip(frames[2] + 0.1, 0, 1)
    expected = 10 * math.log10(1 / np.mean((shifted - frames[2]) ** 2))
    assert psnr(shifted, frames[2]) == pytest.approx(expected)
    uint8 = (frames * 255 + 0.5).astype(np.uint8)
    from_pil = keyframe_fidelity(uint8, {2: Image.fromarray(uint8[2])})[2]
    assert from_pil["psnr"] == math.inf
    assert ssim(frames[2], frames[2]) == pytest.approx(1.0)
    # SSIM is symmetric and drops with a contrast change
    assert ssim(frames[2], shifted) == pytest.approx(ssim(shifted, frames[2]))
    assert ssim(frames[2], 0.5 + 0.2 * (frames[2] - 0.5)) < 0.95


def test_psnr_and_ssim_read_every_input_form_in_the_same_units():
    # uint8, PIL, [-1, 1] and channels-first inputs used to go straight into the formulas (peak 1): uint8 noise of
    # 10 / 255 read -19.8 dB instead of 28.3, and (3, H, W) shrank the SSIM window to 3 pixels.
    rng = np.random.default_rng(0)
    clean = rng.uniform(0.2, 0.8, (32, 40, 3))
    noisy = np.clip(clean + rng.normal(0, 10 / 255, clean.shape), 0, 1)
    expected_psnr, expected_ssim = psnr(noisy, clean), ssim(noisy, clean)
    assert expected_psnr == pytest.approx(10 * math.log10(1 / np.mean((noisy - clean) ** 2)))
    as_uint8 = (noisy * 255 + 0.5).astype(np.uint8), (clean * 255 + 0.5).astype(np.uint8)
    forms = {
        "uint8": as_uint8,
        "PIL": tuple(Image.fromarray(a) for a in as_uint8),
        "[-1, 1]": (noisy * 2 - 1, clean * 2 - 1),
        "(3, H, W) tensors": (torch.from_numpy(noisy).permute(2, 0, 1), torch.from_numpy(clean).permute(2, 0, 1)),
        "(3, H, W) beside (H, W, 3)": (torch.from_numpy(noisy).permute(2, 0, 1), clean),
    }
    for name, (a, b) in forms.items():
        tolerance = 0.05 if name in ("uint8", "PIL") else 1e-9  # rounding to 1/255
        assert psnr(a, b) == pytest.approx(expected_psnr, abs=tolerance * 10), name
        assert ssim(a, b) == pytest.approx(expected_ssim, abs=tolerance / 10), name
    # Each input is read on its own: a [0, 1] output against a [-1, 1] reference of the same picture, and a decoder's
    # undershoot of one pixel, do not change the other's range (one joint rule read 11.2 dB and +6 dB).
    assert psnr(clean, clean * 2 - 1) > 200
    undershoot = noisy.copy()
    undershoot[0, 0, 0] = -0.002
    assert psnr(undershoot, clean) == pytest.approx(10 * math.log10(1 / np.mean((undershoot - clean) ** 2)))
    # ... but a [-1, 1] frame whose darkest value is above -0.1 (a bright frame) beside a clearly [-1, 1] reference
    # is [-1, 1] too (read alone as [0, 1] it scored 7.4 dB against 34.4)
    bright = np.clip(noisy * 2 - 1, -0.05, 1)
    signed_reference = clean * 2 - 1
    signed_reference[0, 0] = -0.5
    expected_bright = 10 * math.log10(1 / np.mean(((bright + 1) / 2 - (signed_reference + 1) / 2) ** 2))
    assert psnr(bright, signed_reference) == pytest.approx(expected_bright)
    bright_video = (0.5 + 0.45 * smooth_frames()) * 2 - 1  # [0.09, 0.81] in [-1, 1] units
    bright_video[:, 0, 0] = -0.05  # its darkest value: read alone, a [0, 1] video's undershoot
    keyframe = bright_video[4].copy()
    keyframe[1, 1] = -0.5  # clearly [-1, 1]
    expected_key = 10 * math.log10(1 / np.mean(((bright_video[4] + 1) / 2 - (keyframe + 1) / 2) ** 2))
    assert keyframe_fidelity(bright_video, {4: keyframe})[4]["psnr"] == pytest.approx(expected_key)
    video = np.stack([noisy, clean])
    frames = [Image.fromarray(f) for f in (video * 255 + 0.5).astype(np.uint8)]
    assert psnr(frames, torch.from_numpy(video).permute(0, 3, 1, 2)) > 50  # PIL frames against (F, 3, H, W)
    with pytest.raises(ValueError, match=r"image and reference must have the same shape, got \(32, 40, 3\) and "
                                         r"\(1, 40, 3\)"):
        psnr(noisy, clean[:1])
    with pytest.raises(ValueError, match="reference must be finite"):
        psnr(noisy, np.full_like(clean, np.nan))


def test_keyframe_errors_name_the_problem():
    frames = smooth_frames(num_frames=5)
    with pytest.raises(ValueError, match="keyframe index 5 is outside"):
        keyframe_fidelity(frames, {5: frames[0]})
    with pytest.raises(ValueError, match="keyframe index -1 is outside"):
        keyframe_fidelity(frames, {-1: frames[0]})
    with pytest.raises(ValueError, match=r"keyframes\[1\] has size 16 x 20"):
        keyframe_fidelity(frames, {1: frames[0, :16, :20]})


def test_flicker_is_the_mean_consecutive_difference():
    frames = smooth_frames()
    assert flicker(np.repeat(frames[:1], 5, axis=0)) == 0.0
    expected = np.abs(np.diff(frames, axis=0)).mean()
    assert flicker(frames) == pytest.approx(expected)
    # the same video as [-1, 1] channels-first tensor and as uint8 agree
    assert flicker(torch.from_numpy(frames * 2 - 1).permute(0, 3, 1, 2)) == pytest.approx(expected)
    assert flicker((frames * 255 + 0.5).astype(np.uint8)) == pytest.approx(expected, abs=2e-3)
    # alternating brightness flickers: +-0.1 every frame
    flashing = np.clip(frames + 0.1 * (-1) ** np.arange(len(frames))[:, None, None, None], 0, 1)
    assert flicker(flashing) > flicker(frames) + 0.1


def test_temporal_drift_measures_start_to_end_colour_change():
    frames = np.full((16, 8, 8, 3), 0.5)
    steady = temporal_drift(frames, window=4)
    assert steady["drift"] == 0.0 and steady["std_drift"] == 0.0
    drifting = frames + np.linspace(0, 0.2, 16)[:, None, None, None] * np.array([1.0, 0.0, -1.0])
    result = temporal_drift(drifting, window=4)
    # mean of the last four ramp values minus the first four: 0.2 * (13.5 - 1.5) / 15 = 0.16
    np.testing.assert_allclose(result["mean_change"], [0.16, 0.0, -0.16], atol=1e-12)
    assert result["drift"] == pytest.approx(0.16 * math.sqrt(2))
    for window in (0, 17, 2.5):
        with pytest.raises(ValueError, match="window must be an int in"):
            temporal_drift(frames, window=window)


def test_keyframe_of_a_signed_video_without_negative_values():
    """A [-1, 1] video whose keyframe happens to be all >= 0 is still compared in [-1, 1]."""
    frames = torch.from_numpy(smooth_frames()).permute(0, 3, 1, 2) * 2 - 1
    bright = frames[2].clamp(min=0.05)
    frames[2] = bright
    assert bright.min() >= 0 and frames.min() < 0
    assert keyframe_fidelity(frames, {2: bright})[2]["psnr"] == math.inf


def test_keyframe_fidelity_reads_a_signed_videos_undershoot_once():
    """A [-1, 1] video with a decoder's undershoot below -1.2 is below -0.1 once brought to [0, 1]: before
    2026-12-07 keyframe_fidelity passed that to psnr / ssim, which read it as [-1, 1] again (13 dB for a frame
    against its own uint8, 46 dB from psnr itself)."""
    frames = torch.from_numpy(smooth_frames()).permute(0, 3, 1, 2) * 2 - 1
    frames[0, :, :2, :2] = -1.3
    key = ((frames[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    result = keyframe_fidelity(frames, {0: key, 4: frames[4]})
    assert result[0]["psnr"] == pytest.approx(psnr(frames[0], key), rel=1e-12)
    assert result[0]["ssim"] == pytest.approx(ssim(frames[0], key), rel=1e-12)
    assert result[0]["psnr"] > 40 and result[0]["ssim"] > 0.99
    assert result[4] == {"psnr": math.inf, "ssim": 1.0}
