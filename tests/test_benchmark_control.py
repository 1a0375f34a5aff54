"""scripts/benchmark_control.py runs end to end (few steps, one seed): the code docs/benchmarks.md's rows come from."""

import subprocess
import sys
from pathlib import Path

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


def test_vae_scale_section_reads_a_lossless_vae_as_the_render():
    """``--sections vae-scale`` takes the ceiling's zoom error apart; through an autoencoder that returns its input
    the reconstruction's frames have the render's scale, and both rates are the request."""
    from types import SimpleNamespace

    import torch

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from benchmark_control import vae_scale_rows
    finally:
        sys.path.remove(str(ROOT / "scripts"))

    class Lossless:
        dtype = torch.float32

        def encode(self, x):
            return SimpleNamespace(latent_dist=SimpleNamespace(mean=x))

        def decode(self, z, return_dict=False):
            return (z,)

    pipe = SimpleNamespace(vae=Lossless(), generation_defaults=None)
    (row,) = vae_scale_rows(pipe, ["zoom_in"], [1.0], num=1)
    assert abs(row["requested"] - 1.0) < 1e-9  # % per frame
    assert row["scale_std"] < 0.05 and row["scale_max"] < 0.1
    for key in ("real", "read", "implied"):
        assert abs(row[key] - 1.0) < 0.02, (key, row)
