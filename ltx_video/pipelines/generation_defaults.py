"""The size, rate and sampling a model was made for, saved beside its ``model_index.json``.

diffusers' pipeline folders record components, not how to call them: LTX-Video's 2B and 13B models run
at 704 x 1216, the built-in toy model at 64 x 64. A pipeline with ``generation_defaults`` writes them to
``generation_defaults.json`` in ``save_pretrained`` and reads them back in ``from_pretrained``; the
``ltx-video`` command uses them for every value not given on the command line (else
:data:`LTX_VIDEO_DEFAULTS`), and so does a call in Python for every argument left out (:func:`fill_call_defaults`;
else diffusers' defaults, :data:`DIFFUSERS_CALL_DEFAULTS`), as ``generate()`` in transformers reads a model's
``generation_config``. ``prompt_grammar`` is set for models of the synthetic world: the prompts
they were trained on (:class:`ltx_video.data.prompts.PromptGrammar`), so a prompt outside it is warned about.
``given_audio`` holds the arguments that differ when a call takes a sound (``audio=``, video to a given sound):
the built-in model's video follows a given sound best with ``modality_scale=3``, which hurts joint generation.

This module imports neither torch nor diffusers: the command line reads it before loading anything.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

__all__ = [
    "DIFFUSERS_CALL_DEFAULTS",
    "GENERATION_DEFAULTS_FILE",
    "GIVEN_AUDIO_KEYS",
    "LTX_VIDEO_DEFAULTS",
    "GenerationDefaults",
    "fill_call_defaults",
    "prompt_grammar_warnings",
]

GENERATION_DEFAULTS_FILE = "generation_defaults.json"
# The sampling arguments ``given_audio`` may change; size, length and rate follow the call, not the sound.
GIVEN_AUDIO_KEYS = (
    "num_inference_steps", "guidance_scale", "negative_prompt", "stg_scale", "skip_block_list", "modality_scale",
)


@dataclass(frozen=True)
class GenerationDefaults:
    """Call arguments a model was trained or tuned for (diffusers' names); ``prompt_grammar`` as a dict
    ``{"max_objects": int, "cameras": [str, ...]}`` or None (any prompt). ``stg_scale`` and ``skip_block_list``:
    spatiotemporal guidance (LTX-Video 0.9.8's STG, ``attention_values``), passed to a call only when the scale is
    above 0. ``modality_scale`` / ``audio_modality_scale``: modality guidance of an audio-video model (LTX-2's),
    passed only when not 1 (off), and only to calls that generate or take audio. ``given_audio``: a dict of those
    call arguments (``GIVEN_AUDIO_KEYS``) that replace these when the call takes a sound, or None
    (:meth:`call_kwargs` with ``audio_given=True``)."""

    height: int
    width: int
    num_frames: int
    frame_rate: float
    num_inference_steps: int
    guidance_scale: float
    negative_prompt: str = ""
    prompt_grammar: dict[str, Any] | None = None
    stg_scale: float = 0.0
    skip_block_list: tuple[int, ...] = ()
    modality_scale: float = 1.0
    audio_modality_scale: float = 1.0
    given_audio: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in ("height", "width", "num_frames", "num_inference_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"generation defaults: {name} must be a positive int, got {value!r}")
        for name in ("frame_rate", "guidance_scale"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"generation defaults: {name} must be a finite number, got {value!r}")
        if not self.frame_rate > 0:
            raise ValueError(f"generation defaults: frame_rate must be > 0, got {self.frame_rate!r}")
        if not isinstance(self.negative_prompt, str):
            raise ValueError(f"generation defaults: negative_prompt must be a str, got {self.negative_prompt!r}")
        for name in ("stg_scale", "modality_scale", "audio_modality_scale"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"generation defaults: {name} must be a number >= 0, got {value!r}")
        blocks = self.skip_block_list
        if not isinstance(blocks, (list, tuple)) or any(isinstance(b, bool) or not isinstance(b, int) or b < 0 for b in blocks):
            raise ValueError(f"generation defaults: skip_block_list must be a list of block indices >= 0, got {blocks!r}")
        object.__setattr__(self, "skip_block_list", tuple(blocks))
        if self.stg_scale > 0 and not blocks:
            raise ValueError("generation defaults: stg_scale > 0 needs a non-empty skip_block_list")
        if self.prompt_grammar is not None and not isinstance(self.prompt_grammar, dict):
            raise ValueError(f"generation defaults: prompt_grammar must be a dict or None, got {self.prompt_grammar!r}")
        if self.given_audio is not None:
            if not isinstance(self.given_audio, dict):
                raise ValueError(f"generation defaults: given_audio must be a dict or None, got {self.given_audio!r}")
            unknown = sorted(set(self.given_audio) - set(GIVEN_AUDIO_KEYS))
            if unknown:
                raise ValueError(f"generation defaults: given_audio: unknown key(s) {unknown}; expected some of "
                                 f"{list(GIVEN_AUDIO_KEYS)}")
            try:
                self.for_given_audio()
            except ValueError as error:
                raise ValueError(str(error).replace("generation defaults: ", "generation defaults: given_audio: ")) from None

    def for_given_audio(self) -> GenerationDefaults:
        """These defaults as they apply to a call that takes a sound: ``given_audio`` folded in (itself if None)."""
        return replace(self, given_audio=None, **self.given_audio) if self.given_audio else self

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "generation defaults") -> GenerationDefaults:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"{source}: unknown key(s) {unknown}; expected {sorted(names)}")
        try:
            return cls(**values)
        except TypeError as error:  # a required key is missing
            raise ValueError(f"{source}: {error}") from None

    def _values(self) -> dict[str, Any]:
        """Every field as JSON-ready values; the STG and modality fields only when on (so the files and calls of
        models without them stay as they were)."""
        values = asdict(self)
        if self.stg_scale > 0:
            values["skip_block_list"] = list(self.skip_block_list)
        else:
            del values["stg_scale"], values["skip_block_list"]
        for name in ("modality_scale", "audio_modality_scale"):
            if values[name] == 1:
                del values[name]
        if self.given_audio is None:
            del values["given_audio"]
        return values

    def call_kwargs(self, audio_given: bool = False) -> dict[str, Any]:
        """The pipeline ``__call__`` arguments (``prompt_grammar`` is not one); with ``audio_given``, those of a call
        that takes a sound (``audio=``): ``given_audio`` applied.

        Example:
            >>> defaults = pipe.generation_defaults  # the built-in model's: given_audio={"modality_scale": 3.0}
            >>> video = pipe(prompt, audio=waveform, audio_sample_rate=16000, **defaults.call_kwargs(audio_given=True))
        """
        values = (self.for_given_audio() if audio_given else self)._values()
        values.pop("prompt_grammar")
        values.pop("given_audio", None)
        return values

    def save(self, folder: str | os.PathLike[str]) -> Path:
        path = Path(folder) / GENERATION_DEFAULTS_FILE
        path.write_text(json.dumps(self._values(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> GenerationDefaults | None:
        """The defaults saved in ``folder``, or None if it has none; ValueError naming the file if it is broken."""
        path = Path(folder) / GENERATION_DEFAULTS_FILE
        if not path.is_file():
            return None
        try:
            values = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path} is not readable JSON: {error}") from None
        if not isinstance(values, dict):
            raise ValueError(f"{path} must hold a JSON object, got {type(values).__name__}")
        return cls.from_dict(values, source=str(path))


# What a pipeline call uses for an argument left out (None) when its pipeline has no generation defaults: the
# signature defaults of diffusers' LTXPipeline and LTXConditionPipeline (and "off" for the guidance they lack).
DIFFUSERS_CALL_DEFAULTS: dict[str, Any] = {
    "height": 512, "width": 704, "num_frames": 161, "frame_rate": 25, "num_inference_steps": 50, "guidance_scale": 3.0,
    "stg_scale": 0.0, "modality_scale": 1.0, "audio_modality_scale": 1.0,
}


def fill_call_defaults(
    defaults: GenerationDefaults | None, values: dict[str, Any], *, audio_given: bool = False, use_audio: bool = True
) -> dict[str, Any]:
    """A call's arguments with each one left out (None) filled: from ``defaults`` (the model's; those for a given
    sound when ``audio_given``), else from :data:`DIFFUSERS_CALL_DEFAULTS`. Only the names of
    ``DIFFUSERS_CALL_DEFAULTS`` that ``values`` holds are filled, plus ``negative_prompt`` (the model's, when it has
    one and no ``negative_prompt_embeds`` are given) and ``skip_block_list`` (the model's STG blocks). The modality
    scales come from the model only when ``use_audio`` (a call without audio has nothing for them to act on)."""
    model: dict[str, Any] = {}
    if defaults is not None:
        model = (defaults.for_given_audio() if audio_given else defaults).call_kwargs()
        for name in () if use_audio else ("modality_scale", "audio_modality_scale"):
            model.pop(name, None)
    filled = dict(values)
    for name, fallback in DIFFUSERS_CALL_DEFAULTS.items():
        if name in filled and filled[name] is None:
            filled[name] = model.get(name, fallback)
    left_out = {name for name, value in filled.items() if value is None}
    if "skip_block_list" in left_out and model.get("skip_block_list"):
        filled["skip_block_list"] = list(model["skip_block_list"])
    if "negative_prompt" in left_out and filled.get("negative_prompt_embeds") is None and model.get("negative_prompt"):
        filled["negative_prompt"] = model["negative_prompt"]
    return filled


# LTX-Video 0.9.8's own inference script (inference.py: --height 704 --width 1216 --num_frames 121
# --frame_rate 30, its negative prompt), the first pass of its dev configs (30 steps) and diffusers' LTX
# pipelines' guidance scale (3.0).
LTX_VIDEO_DEFAULTS = GenerationDefaults(
    height=704, width=1216, num_frames=121, frame_rate=30.0, num_inference_steps=30, guidance_scale=3.0,
    negative_prompt="worst quality, inconsistent motion, blurry, jittery, distorted",
)


def prompt_grammar_warnings(defaults: GenerationDefaults | None, prompt: str | list[str] | None) -> list[str]:
    """One warning line per prompt that a model of the synthetic world was not trained on (``prompt_grammar`` of
    its defaults): it still runs, but gives a video that does not follow the prompt. Empty for other models."""
    if defaults is None or defaults.prompt_grammar is None or prompt is None:
        return []
    from ltx_video.data.prompts import PromptGrammar

    grammar = PromptGrammar(**defaults.prompt_grammar)
    warnings = []
    for text in [prompt] if isinstance(prompt, str) else prompt:
        if isinstance(text, str) and not text.strip():  # the unconditional prompt: trained (CFG dropout), no warning
            continue
        reason = grammar.check(text)
        if reason is not None:
            shown = text if len(text) <= 80 else text[:77] + "..."
            reason = reason if len(reason) <= 160 else reason[:157] + "..."
            warnings.append(
                f"prompt {shown!r} is outside what this model was trained on: {reason}. It knows only "
                f"{grammar.describe()}; expect a video that does not follow the prompt."
            )
    return warnings
