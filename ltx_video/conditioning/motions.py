"""Camera motion names (no torch import: the command line checks ``--camera`` with them before loading anything)."""

__all__ = [
    "CAMERA_PHRASES",
    "MOTION_TYPES",
    "PACE_WORDS",
    "SPEED_UNITS",
    "pace_word",
    "parse_motion",
    "prompt_with_camera",
    "strip_camera_phrase",
]

MOTION_TYPES = (
    "static",
    "pan_left",
    "pan_right",
    "pan_up",
    "pan_down",
    "zoom_in",
    "zoom_out",
    "orbit_left",
    "orbit_right",
    "dolly_forward",
    "dolly_backward",
)
SPEED_UNITS = "pixels per frame for pans and orbits, percent of scale per frame for zooms and dollies"


def parse_motion(text: str) -> tuple[str, float]:
    """``"pan-left"`` or ``"pan_left:2.5"`` -> (motion type, speed >= 0; default 1); ValueError naming the accepted
    values otherwise. ``Camera.parse`` and the CLI's ``--camera`` read it."""
    name, colon, speed = text.partition(":")
    motion = name.strip().replace("-", "_")
    if motion not in MOTION_TYPES:
        raise ValueError(f"unknown camera motion {name!r}; accepted: {', '.join(m.replace('_', '-') for m in MOTION_TYPES)}")
    try:
        value = float(speed) if colon else 1.0  # "pan-left:" (a speed left out after the colon) is not 1
    except ValueError:
        raise ValueError(f"{text}: the speed must be a number ({SPEED_UNITS}), got {speed!r}") from None
    if not 0 <= value < float("inf"):
        raise ValueError(f"{text}: the speed must be >= 0 ({SPEED_UNITS}), got {speed}")
    return motion, value


# How a prompt says each camera motion ("..., the camera pans left").
CAMERA_PHRASES = {
    "static": "is static",
    "pan_left": "pans left",
    "pan_right": "pans right",
    "pan_up": "pans up",
    "pan_down": "pans down",
    "zoom_in": "zooms in",
    "zoom_out": "zooms out",
    "orbit_left": "orbits left",
    "orbit_right": "orbits right",
    "dolly_forward": "dollies forward",
    "dolly_backward": "dollies backward",
}


# How a prompt may say the camera's speed ("..., the camera pans left slowly"): the slow and fast thirds of the
# synthetic world's speed range (0.5-1.5 px or percent per frame at 64 px, scaled by min(height, width) / 64 above;
# ``ltx_video.data.synthetic``). The middle third has no word.
PACE_WORDS = ("slowly", "quickly")
_PACE_BOUNDS = (5 / 6, 7 / 6)


def pace_word(speed: float, height: int = 64, width: int = 64) -> str | None:
    """``"slowly"``, ``"quickly"`` or None (the middle third) for a camera ``speed`` at ``height`` x ``width``."""
    relative = speed / max(1.0, min(height, width) / 64.0)
    return PACE_WORDS[0] if relative < _PACE_BOUNDS[0] else PACE_WORDS[1] if relative > _PACE_BOUNDS[1] else None


def strip_camera_phrase(prompt: str) -> str:
    """``"a red ball bounces, the camera pans left"`` -> ``"a red ball bounces"``."""
    return prompt.split(", the camera", 1)[0].rstrip()


def prompt_with_camera(prompt: str, motion_type: str, speed: float | None = None, height: int = 64,
                       width: int = 64) -> str:
    """The prompt saying ``motion_type`` in the synthetic world's words: ``"a red ball bounces"`` ->
    ``"a red ball bounces, the camera pans left"``; a camera phrase already there is replaced, so the camera
    asked for wins over the prompt's. With ``speed``, a moving camera's phrase also says its pace
    (:func:`pace_word`): ``"..., the camera pans left slowly"``."""
    phrase = CAMERA_PHRASES[motion_type]
    pace = pace_word(speed, height, width) if speed is not None and motion_type != "static" else None
    return f"{strip_camera_phrase(prompt)}, the camera {phrase}{f' {pace}' if pace else ''}"
