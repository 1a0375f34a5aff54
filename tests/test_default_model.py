"""The built-in default model: small enough to ship, loads offline, and draws what the prompt asks with
its sound at the bounces (one seed, twelve prompts; scripts/benchmark_quality.py measures 64 held-out ones)."""

from __future__ import annotations

import numpy as np
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


# One prompt of each colour and shape, one seed: what the benchmark measures on 64 held-out prompts, at a size
# where the statistic survives another machine's rounding. A single clip's offset does not: the one the README's
# command writes reads -41 ms here and read -76 ms on another CPU, and weights perturbed by 1e-3 flip it to -390.
PROMPTS = [
    f"a {pair} bounces"
    for pair in "red ball, blue square, green triangle, yellow ball, purple square, orange ball, pink triangle, "
    "white square, red triangle, blue ball, green square, purple triangle".split(", ")
]


@pytest.fixture(scope="module")
def batch(pipe):
    return pipe(PROMPTS, output_type="pt", generator=torch.Generator().manual_seed(0), **DEFAULT_GENERATION)


def test_default_model_follows_the_prompt_colour(batch):
    assert batch.frames.shape == (len(PROMPTS), 49, 3, 64, 64)
    for frames, prompt in zip(batch.frames, PROMPTS, strict=True):
        assert list(metrics.detect_objects(frames)) == [prompt.split()[1]], prompt


def test_default_model_puts_its_sound_at_the_bounces(batch):
    """Median |offset| over the 12 clips <= 65 ms (46.5 ms here, 44.8-46.3 ms with the transformer's weights
    perturbed by 1 %); the same clips with each one's audio taken from the next clip read > 65 ms (122-291 ms),
    so the check tells sound at the bounces from sound anywhere."""
    waveforms, _ = batch.audio
    events = [
        metrics.colour_bounce_events(f, 24.0, COLOURS[p.split()[1]]) for f, p in zip(batch.frames, PROMPTS, strict=True)
    ]
    envelopes = [metrics.audio_onset_envelope(w) for w in waveforms]
    own = [metrics.offset_from_events_ms(*e, envelopes[i]) for i, e in enumerate(events)]
    shuffled = [metrics.offset_from_events_ms(*e, envelopes[(i + 1) % len(events)]) for i, e in enumerate(events)]
    assert np.median(np.abs(own)) <= 65, np.round(own)
    assert np.median(np.abs(shuffled)) > 65, np.round(shuffled)


def test_cli_default_writes_a_red_ball_with_its_sound_in_place(pipe, tmp_path):
    """The README's command: the mp4 holds the pipeline's frames (through H.264) and its sound at the same
    times (through AAC, its start offset applied)."""
    out = tmp_path / "ball.mp4"
    assert main(["generate", "a red ball bounces", "--output", str(out)]) == 0
    frames, fps = read_video_tensor(out)
    audio, rate = read_audio(out)
    assert frames.shape == (49, 3, 64, 64) and fps == pytest.approx(24.0) and rate == 16000
    assert "red" in metrics.detect_objects(frames)
    reference = pipe(
        "a red ball bounces", output_type="pt", generator=torch.Generator().manual_seed(0), **DEFAULT_GENERATION
    )
    assert (frames - reference.frames[0]).abs().mean() < 0.03
    shift = round(audio_start_offset(out) * rate)  # the AAC stream's start relative to the first frame
    audio = torch.nn.functional.pad(audio[0], (shift, 0)) if shift > 0 else audio[0, -shift:]
    onsets = metrics.audio_onset_times(reference.audio[0][0])
    assert len(onsets) >= 3
    offset = metrics.offset_from_events_ms(onsets, np.ones(len(onsets)), metrics.audio_onset_envelope(audio))
    assert abs(offset) <= 2
