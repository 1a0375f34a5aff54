"""Utilities: the memory planner (:mod:`ltx_video.utils.memory`)."""
