"""The synthetic world's prompt grammar, and the part of it a model was trained on.

Every clip of :mod:`ltx_video.data.synthetic` is described by one sentence of a fixed grammar::

    a red ball bounces, the camera is static
    a red ball and a blue square bounce, the camera pans left

:func:`prompt_for` writes it, :func:`parse_prompt` reads it back. A model trained on a subset of the world
(the built-in model: one object, static camera) records that subset as a :class:`PromptGrammar`, and
:meth:`PromptGrammar.check` tells whether a prompt is inside it, and if not, why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ltx_video.conditioning.motions import CAMERA_PHRASES, MOTION_TYPES, PACE_WORDS

__all__ = [
    "CAMERA_MOTIONS",
    "CAMERA_PHRASES",
    "DRAWN_CAMERA_MOTIONS",
    "COLOURS",
    "SHAPES",
    "PromptGrammar",
    "PromptSpec",
    "parse_prompt",
    "prompt_for",
]

COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.90, 0.10, 0.10),
    "orange": (1.00, 0.55, 0.00),
    "yellow": (0.95, 0.90, 0.10),
    "green": (0.10, 0.80, 0.20),
    "blue": (0.15, 0.35, 1.00),
    "purple": (0.60, 0.20, 0.85),
    "pink": (1.00, 0.45, 0.75),
    "white": (1.00, 1.00, 1.00),
}
SHAPES = ("ball", "square", "triangle")
CAMERA_MOTIONS = MOTION_TYPES  # static, pans, zooms, orbits, dollies
# The motions a clip's seed draws when its camera is not given (the first seven: adding orbits and dollies
# left every seed's clip as it was); ``camera=[...]`` in sample_params draws from a list instead.
DRAWN_CAMERA_MOTIONS = CAMERA_MOTIONS[:7]


@dataclass(frozen=True)
class PromptSpec:
    """What a prompt says: ``objects`` as ``(colour, shape)`` pairs, a ``camera`` motion and its ``pace``
    (``"slowly"``, ``"quickly"`` or None: a moving camera's phrase may end with one, ``"the camera pans left slowly"``)."""

    objects: tuple[tuple[str, str], ...]
    camera: str
    pace: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.objects) <= 3:
            raise ValueError(f"objects must name 1 to 3 objects, got {len(self.objects)}")
        for colour, shape in self.objects:
            if colour not in COLOURS or shape not in SHAPES:
                raise ValueError(f"objects must be (colour, shape) from COLOURS x SHAPES, got {(colour, shape)!r}")
        if self.camera not in CAMERA_MOTIONS:
            raise ValueError(f"camera must be one of {CAMERA_MOTIONS}, got {self.camera!r}")
        if self.pace is not None and (self.pace not in PACE_WORDS or self.camera == "static"):
            raise ValueError(f"pace must be None or one of {PACE_WORDS} for a moving camera, got {self.pace!r}")


def prompt_for(params: Any) -> str:
    """The fixed-grammar prompt of a clip's ``params`` (``.objects`` with ``.colour``/``.shape``, ``.camera``),
    e.g. ``"a red ball and a blue square bounce, the camera pans left"``."""
    names = [f"a {obj.colour} {obj.shape}" for obj in params.objects]
    subject = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    verb = "bounces" if len(names) == 1 else "bounce"
    return f"{subject} {verb}, the camera {CAMERA_PHRASES[params.camera]}"


def _parse_object(phrase: str) -> tuple[str, str]:
    """``"a {colour} {shape}"`` -> ``(colour, shape)``; ValueError naming unknown words."""
    words = phrase.split(" ")
    if len(words) != 3 or words[0] != "a":
        raise ValueError(f"expected an object as 'a <colour> <shape>', got {phrase!r}")
    unknown = [w for w, vocabulary in ((words[1], COLOURS), (words[2], SHAPES)) if w not in vocabulary]
    if unknown:
        raise ValueError(f"unknown word(s) {unknown} in {phrase!r}; colours: {tuple(COLOURS)}, shapes: {SHAPES}")
    return words[1], words[2]


def parse_prompt(prompt: str) -> PromptSpec:
    """Inverse of :func:`prompt_for`; ValueError naming any word outside the grammar.

    The camera phrase may be left out (``"a red ball bounces"``): the camera is then static.
    """
    if not isinstance(prompt, str):
        raise ValueError(f"prompt must be a string, got {type(prompt).__name__}")
    subject_verb, separator, motion = prompt.strip().rpartition(", the camera ")
    if not separator:
        subject_verb, motion = prompt.strip(), CAMERA_PHRASES["static"]
    cameras = {phrase: name for name, phrase in CAMERA_PHRASES.items()}
    phrase, _, pace = motion.rpartition(" ")
    if pace in PACE_WORDS and phrase in cameras and cameras[phrase] != "static":
        motion = phrase
    else:
        pace = None
    if motion not in cameras:
        raise ValueError(f"unknown camera phrase {motion!r}; expected one of {tuple(cameras)}")
    subject, _, verb = subject_verb.rpartition(" ")
    if verb not in ("bounce", "bounces"):
        if "the camera" in subject_verb:  # ",the camera ..." without its space, or a second camera phrase
            raise ValueError(f"the camera phrase must come once, at the end, after ', the camera ', in {prompt!r}")
        if verb.rstrip(".!;,") in ("bounce", "bounces"):
            raise ValueError(f"the prompt ends in punctuation ({verb[-1]!r}) in {prompt!r}: the grammar has none")
        # the grammar's verb ends the subject: name the last word as such (it read "unknown verb 'beach'" for
        # "a woman walks on a beach", whose verb is not last)
        raise ValueError(f"the prompt must end in the verb 'bounce' (several objects) or 'bounces' (one), before any "
                         f"camera phrase; it ends in {verb!r} in {prompt!r}")
    head, joined, last = subject.rpartition(" and ")
    phrases = [*head.split(", "), last] if joined else [subject]
    objects = tuple(_parse_object(phrase) for phrase in phrases)
    if (verb == "bounces") != (len(objects) == 1):
        raise ValueError(f"verb {verb!r} does not agree with {len(objects)} object(s) in {prompt!r}")
    return PromptSpec(objects=objects, camera=cameras[motion], pace=pace)


@dataclass(frozen=True)
class PromptGrammar:
    """The prompts a model of the synthetic world was trained on: up to ``max_objects`` objects, ``cameras``, and
    whether the camera phrases said their pace (``paces``).

    Saved with the model (``generation_defaults.json``, see :mod:`ltx_video.pipelines.generation_defaults`)
    as ``{"max_objects": 1, "cameras": ["static"]}``.
    """

    max_objects: int = 3
    cameras: tuple[str, ...] = field(default=CAMERA_MOTIONS)
    paces: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.max_objects, bool) or not isinstance(self.max_objects, int) or not 1 <= self.max_objects <= 3:
            raise ValueError(f"max_objects must be an int in [1, 3], got {self.max_objects!r}")
        object.__setattr__(self, "cameras", tuple(self.cameras))
        unknown = [c for c in self.cameras if c not in CAMERA_MOTIONS]
        if not self.cameras or unknown:
            raise ValueError(f"cameras must be a non-empty subset of {CAMERA_MOTIONS}, got {self.cameras!r}")

    def describe(self) -> str:
        """One phrase: what the model knows, e.g. "'a <colour> <shape> bounces' (one object, a static camera; ...)"."""
        example = "a <colour> <shape> bounces" if self.max_objects == 1 else "a <colour> <shape> and a ... bounce"
        count = "one object" if self.max_objects == 1 else f"1-{self.max_objects} objects"
        return (
            f"'{example}' ({count}, {self._cameras_phrase()}; colours: {', '.join(COLOURS)}; shapes: "
            f"{', '.join(SHAPES)})"
        )

    def check(self, prompt: str) -> str | None:
        """``None`` if ``prompt`` is one the model was trained on, else why not (one phrase)."""
        try:
            spec = parse_prompt(prompt)
        except ValueError as error:
            return str(error)
        if len(spec.objects) > self.max_objects:
            return f"it names {len(spec.objects)} objects, the model saw at most {self.max_objects}"
        colours = [colour for colour, _ in spec.objects]
        if len(set(colours)) < len(colours):
            return "it names one colour twice, the model saw every object in its own colour"
        if spec.camera not in self.cameras:
            return f"the camera {CAMERA_PHRASES[spec.camera]}, the model saw only {self._cameras_phrase()}"
        if spec.pace is not None and not self.paces:
            return f"the camera's pace {spec.pace!r}, the model saw no pace words"
        return None

    def _cameras_phrase(self) -> str:
        return "a static camera" if self.cameras == ("static",) else "camera motions " + ", ".join(self.cameras)
