"""The built-in default model: a small audio-video model of the synthetic world, shipped in the package.

It was trained with ``scripts/train.py`` (configs/train/default_*.yaml; commands, cost and measured
quality in docs/training.md and docs/benchmarks.md) on 64 x 64 px, 49-frame, 24 fps clips of
:mod:`ltx_video.data.synthetic` with a static camera and one object: a coloured ball, square or
triangle that bounces off the frame's edges, with a tone at each bounce. It is a small model of a toy
world, the proof that every part (video VAE, audio autoencoder, joint transformer, T5 prompts, the
pipelines, mp4 with audio) works end to end, not a general video model.

    >>> from ltx_video.default_model import load_default_pipeline
    >>> pipe = load_default_pipeline()
    >>> out = pipe("a red ball bounces")  # what a call leaves out: DEFAULT_GENERATION (its generation_defaults.json)
    >>> # video to a given sound (16 kHz waveform): the sampling chosen for it (DEFAULT_GENERATION_GIVEN_AUDIO)
    >>> out = pipe("a red ball bounces", audio=waveform, audio_sample_rate=16000)
"""

from __future__ import annotations

from pathlib import Path

from ltx_video.pipelines.generation_defaults import GenerationDefaults

__all__ = ["DEFAULT_GENERATION", "DEFAULT_GENERATION_GIVEN_AUDIO", "DEFAULT_MODEL_DIR", "load_default_pipeline"]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "assets" / "default_model"

# The size, rate and sampling the model was trained and measured at: the generation_defaults.json saved with it
# (which also names the prompts it knows), as pipeline call arguments.
_DEFAULTS = GenerationDefaults.load(DEFAULT_MODEL_DIR)
DEFAULT_GENERATION = _DEFAULTS.call_kwargs()
# The same for a call given a sound (``audio=``): its ``given_audio`` applied (video modality guidance 3).
DEFAULT_GENERATION_GIVEN_AUDIO = _DEFAULTS.call_kwargs(audio_given=True)


def load_default_pipeline(**kwargs):
    """``LTXAudioVideoPipeline.from_pretrained(DEFAULT_MODEL_DIR, **kwargs)``, audio generation on."""
    from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline

    if not (DEFAULT_MODEL_DIR / "model_index.json").is_file():
        raise FileNotFoundError(f"the built-in model is missing from this install: {DEFAULT_MODEL_DIR}")
    return LTXAudioVideoPipeline.from_pretrained(DEFAULT_MODEL_DIR, **kwargs)
