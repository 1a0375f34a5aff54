"""Image files and PIL images in every mode, read as RGB the way a photo viewer shows them.

- EXIF orientation is applied (a phone's portrait photo is stored sideways with a tag saying so), as diffusers'
  ``load_image`` does.
- 16-bit and 32-bit integer images (PIL modes ``I;16``, ``I;16B``, ``I``: 16-bit PNGs and TIFFs) are scaled from
  their 0-65535 range to 8 bits; PIL's own ``convert("RGB")`` clips them at 255 and shows them white. Float
  images (mode ``F``) are read as values in [0, 1].
- Animated images (GIF, WebP, APNG) have frames; :func:`read_image_frames` returns all of them.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps, ImageSequence

__all__ = ["NON_8BIT_MODES", "read_image", "read_image_frames", "rgb_image"]

_WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
#: The PIL modes PIL's own ``convert("RGB")`` reads wrong (clipped at 255, or floats as 0/1): what :func:`rgb_image` is for.
NON_8BIT_MODES = (*_WIDE_MODES, "F")


def rgb_image(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit RGB: wide integer modes scaled from 0-65535, float mode from [0, 1], others converted."""
    if image.mode in _WIDE_MODES:
        values = np.asarray(image, dtype=np.float64) / 65535.0
    elif image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
    else:
        return image.convert("RGB")
    grey = (np.clip(values, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def _open(path: str | os.PathLike[str]) -> Image.Image:
    from ltx_video.io.reading import _existing_file

    return Image.open(_existing_file(path))


def read_image(path: str | os.PathLike[str]) -> Image.Image:
    """Read an image file as an RGB :class:`PIL.Image.Image` (EXIF orientation applied, fully loaded, file closed);
    an animated image's first frame."""
    with _open(path) as image:
        return rgb_image(ImageOps.exif_transpose(image))


def read_image_frames(path: str | os.PathLike[str], max_frames: int | None = None) -> list[Image.Image]:
    """Every frame of an image file as RGB PIL images (one for a still image), at most ``max_frames``."""
    with _open(path) as image:
        frames = []
        for frame in ImageSequence.Iterator(image):
            if max_frames is not None and len(frames) >= max_frames:
                break
            frames.append(rgb_image(ImageOps.exif_transpose(frame)))
        return frames
