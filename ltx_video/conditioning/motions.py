"""Camera motion names (no torch import: the command line checks ``--camera`` with them before loading anything)."""

__all__ = ["MOTION_TYPES", "SPEED_UNITS", "parse_motion"]

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
    name, _, speed = text.partition(":")
    motion = name.strip().replace("-", "_")
    if motion not in MOTION_TYPES:
        raise ValueError(f"unknown camera motion {name!r}; accepted: {', '.join(m.replace('_', '-') for m in MOTION_TYPES)}")
    try:
        value = float(speed) if speed else 1.0
    except ValueError:
        raise ValueError(f"{text}: the speed must be a number ({SPEED_UNITS}), got {speed!r}") from None
    if not 0 <= value < float("inf"):
        raise ValueError(f"{text}: the speed must be >= 0 ({SPEED_UNITS}), got {speed}")
    return motion, value
