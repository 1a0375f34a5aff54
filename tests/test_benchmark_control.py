"""scripts/benchmark_control.py runs end to end (few steps, one seed): the code docs/benchmarks.md's rows come from."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_control_benchmark_runs_both_sections():
    command = [sys.executable, str(ROOT / "scripts" / "benchmark_control.py"), "--num", "1", "--steps", "2",
               "--motions", "pan_left", "--speeds", "1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    camera = {line.split(" | ")[2]: line.split(" | ") for line in lines if line.startswith("| pan_left")}
    assert list(camera) == ["real", "VAE reconstruction", "prompt only", "training-free", "training-free, pixel",
                            "warped noise"]
    # the ceiling rows: the world's clip measures what was asked (+1 px/frame: content moves right); its VAE
    # reconstruction keeps it, measured over 16-frame spans (1.10 for this clip; per pair it read 0.8)
    assert abs(float(camera["real"][4]) - 1.0) < 0.02 and float(camera["real"][5]) == 1.0
    assert 0.85 < float(camera["VAE reconstruction"][4]) < 1.2
    keyframes = [line for line in lines if not line.startswith("| pan_left")]
    rows = {line.split(" | ")[0][2:]: line for line in keyframes
            if "PSNR" not in line and "VAE" in line or line.startswith("| keyframes")}
    assert set(rows) == {"VAE reconstruction", "keyframes, no interpolation", "keyframes, interpolation 0.2",
                         "keyframes in place, no interpolation", "keyframes in place, interpolation 0.2"}
    vae_psnr = float(rows["VAE reconstruction"].split(" | ")[1])
    assert 15 < vae_psnr < 40  # the built-in VAE reconstructs held-out frames at 23-24 dB


def test_the_prompt_only_baseline_says_each_motion_in_the_worlds_grammar():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from benchmark_control import prompt_only
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    from ltx_video.conditioning.motions import MOTION_TYPES
    from ltx_video.data.prompts import parse_prompt

    for motion in MOTION_TYPES:
        assert parse_prompt(prompt_only("a red ball bounces", motion)).camera == motion


def test_vae_scale_section_separates_the_vaes_zoom_from_the_render():
    """``--sections vae-scale`` takes the ceiling's zoom error apart. An autoencoder that magnifies frame ``f`` by
    ``a ** f`` about the centre adds ``a`` to every frame's zoom: its frames' scales against the render are
    ``a ** f``, and the rate read from the reconstruction and the rate those scales imply are both the real clip's
    times ``a``; an autoencoder that returns its input gives the render's rate."""
    from types import SimpleNamespace

    import torch
    import torch.nn.functional as F

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from benchmark_control import vae_scale_rows, vae_scale_summary
    finally:
        sys.path.remove(str(ROOT / "scripts"))

    class Zooming:
        dtype = torch.float32

        def __init__(self, a):
            self.a = a

        def encode(self, x):
            return SimpleNamespace(latent_dist=SimpleNamespace(mean=x))

        def decode(self, z, return_dict=False):  # z: (1, C, F, H, W)
            frames = z[0].permute(1, 0, 2, 3)
            theta = torch.zeros(len(frames), 2, 3)
            theta[:, 0, 0] = theta[:, 1, 1] = self.a ** -torch.arange(len(frames), dtype=torch.float32)
            grid = F.affine_grid(theta, list(frames.shape), align_corners=False)
            zoomed = F.grid_sample(frames, grid, mode="bilinear", align_corners=False)
            return (zoomed.permute(1, 0, 2, 3)[None],)

    a = 1.002
    (lossless,) = vae_scale_rows(SimpleNamespace(vae=Zooming(1.0), generation_defaults=None), ["zoom_in"], [1.0], num=1)
    (zoomed,) = vae_scale_rows(SimpleNamespace(vae=Zooming(a), generation_defaults=None), ["zoom_in"], [1.0], num=1)
    assert abs(lossless["requested"] - 1.0) < 1e-9  # % per frame
    assert lossless["scale_std"] < 0.05 and lossless["scale_max"] < 0.1
    for key in ("real", "read", "implied"):
        assert abs(lossless[key] - 1.0) < 0.02, (key, lossless)
    # the reconstruction's last frame is a ** 48 = 1.10 larger than the render's; its rate (1 + 1 %) * a
    assert abs(zoomed["scale_max"] - 100 * (a ** 48 - 1)) < 0.5
    expected = 100 * ((1 + zoomed["real"] / 100) * a - 1)
    assert abs(zoomed["read"] - expected) < 0.03 and abs(zoomed["implied"] - expected) < 0.03, zoomed
    (summary,) = vae_scale_summary([zoomed])
    assert summary["kind"] == "zooms" and summary["clips"] == 1
    # relative to the request: about 20 % too fast, read and implied alike
    assert summary["read_signed"] == summary["read"] == (zoomed["read"] - zoomed["requested"]) / zoomed["requested"]
    assert abs(summary["implied_signed"] - 0.2) < 0.01 and abs(summary["read_signed"] - 0.2) < 0.01


def test_keyframes_camera_benchmark_moves_only_the_coordinates(capsys):
    """scripts/benchmark_keyframes_camera.py (docs/benchmarks.md's "Keyframes under a camera") on the tiny pipeline:
    its two columns differ only by the tokens' coordinates, so a static camera gives the same PSNR in both and a pan
    does not; the table ends with their mean; bad flags are refused before the model loads."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from benchmark_keyframes_camera import keyframe_camera_row, main, report
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    from ltx_video.testing import tiny_pipeline

    pipe = tiny_pipeline()
    pipe.set_progress_bar_config(disable=True)
    call = dict(height=32, width=32, num_frames=9, frame_rate=24.0, guidance_scale=1.0)
    static = keyframe_camera_row(pipe, "static", 3, 4, steps=1, call=call)
    pan = keyframe_camera_row(pipe, "pan_left", 3, 4, steps=1, call=call)
    assert static["on_screen"] == static["world"]  # no motion: world_positions leaves the coordinates alone
    assert pan["on_screen"] != pan["world"] and 5 < pan["on_screen"] < 60
    lines = report([static, pan])
    assert lines[-1] == f"| mean | | | {(static['on_screen'] + pan['on_screen']) / 2:.2f} | " \
                        f"{(static['world'] + pan['world']) / 2:.2f} |"
    assert lines[2].startswith("| static | 3 | 4 | ") and len(lines) == 5
    capsys.readouterr()
    for flags, message in ((["--rows", "0"], "--rows must be in [1, 10], got 0"), (["--steps", "0"], "--steps must be")):
        with pytest.raises(SystemExit) as exit_:
            main(flags)
        assert exit_.value.code == 2 and message in capsys.readouterr().err
