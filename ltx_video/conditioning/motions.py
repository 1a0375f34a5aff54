"""Camera motion names (no torch import: the command line checks ``--camera`` with them before loading anything)."""

__all__ = ["MOTION_TYPES", "SPEED_UNITS"]

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
