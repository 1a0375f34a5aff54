"""The built-in default model: small enough to ship, loads offline, and draws what the prompt asks with
its sound at the bounces (one fixed seed; scripts/benchmark_quality.py measures 32 held-out prompts)."""

from __future__ import annotations

import math

import pytest
import torch

from ltx_video import metrics
from ltx_video.cli import main
from ltx_video.data.synthetic import COLOURS
from ltx_video.default_model import DEFAULT_GENERATION, DEFAULT_MODEL_DIR, load_default_pipeline
from ltx_video.io.media import audio_start_offset, read_audio, read_video_tensor


def test_default_model_is_at_most_30_mb_of_safetensors():
    files = [p for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file()]
    weights = [p for p in files if p.suffix == ".safetensors"]
    assert {p.parent.name for p in weights} == {"transformer", "vae", "audio_vae", "text_encoder"}
    assert sum(p.stat().st_size for p in files) <= 30 * 2**20


@pytest.fixture(scope="module")
def pipe():
    return load_default_pipeline()


def test_default_model_follows_the_prompt_colour(pipe):
    out = pipe(["a red ball bounces", "a blue square bounces, the camera is static"], output_type="pt",
               generator=torch.Generator().manual_seed(0), **DEFAULT_GENERATION)
    assert out.frames.shape == (2, 49, 3, 64, 64)
    assert "red" in metrics.detect_objects(out.frames[0]) and "blue" not in metrics.detect_objects(out.frames[0])
    assert "blue" in metrics.detect_objects(out.frames[1]) and "red" not in metrics.detect_objects(out.frames[1])


def test_cli_default_writes_a_red_ball_with_sound_at_the_bounces(tmp_path):
    out = tmp_path / "ball.mp4"
    assert main(["generate", "a red ball bounces", "--output", str(out)]) == 0
    frames, fps = read_video_tensor(out)
    audio, rate = read_audio(out)
    assert frames.shape == (49, 3, 64, 64) and fps == pytest.approx(24.0) and rate == 16000
    assert "red" in metrics.detect_objects(frames)
    shift = round(audio_start_offset(out) * rate)  # the AAC stream's start relative to the first frame
    audio = torch.nn.functional.pad(audio[0], (shift, 0)) if shift > 0 else audio[0, -shift:]
    times, strengths = metrics.colour_bounce_events(frames, fps, COLOURS["red"])
    offset = metrics.offset_from_events_ms(times, strengths, metrics.audio_onset_envelope(audio))
    assert math.isfinite(offset) and abs(offset) <= 65
