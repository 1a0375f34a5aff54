"""Conditioning media in every form users pass them -> pixels (N, 3, F, H, W) in [-1, 1].

Two conventions meet here, told apart by the argument that carries the media:

- ``image=`` / ``video=`` and diffusers' ``LTXVideoCondition(image=, video=)`` follow diffusers'
  :class:`~diffusers.video_processor.VideoProcessor`, which reads them: an image is a PIL image, a NumPy
  array (H, W, C) or (B, H, W, C), or a tensor (C, H, W) or (B, C, H, W); a video is a list of frames, an
  array (F, H, W, C) or (B, F, H, W, C), a tensor (F, C, H, W) or (B, F, C, H, W), or a list of such
  videos. Values are in [0, 1] (uint8 is divided by 255 first) and rescaled to [-1, 1]; an array or tensor
  with negative values is taken as already in [-1, 1] (diffusers' rule, which warns that it is deprecated).
  A leading batch dimension B > 1 means one image (or clip) per prompt.
- LTX-Video's ``ConditioningItem(media_item=...)`` keeps LTX-Video's layout: a tensor (C, H, W),
  (C, F, H, W) or (N, C, F, H, W) with values in [-1, 1], resized bilinearly.

Both also take a path to an image or video file. A shape that only fits the other convention is refused
with an error naming the layouts each argument takes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import av
import numpy as np
import PIL.Image
import torch
from diffusers.video_processor import VideoProcessor

from ltx_video.io.images import NON_8BIT_MODES, rgb_image

__all__ = [
    "IMAGE_LAYOUTS", "LTX_LAYOUTS", "VIDEO_LAYOUTS", "argument_name", "clip_arguments", "clip_frame_rate", "note_clip_rates",
    "read_condition_media",
]

logger = logging.getLogger(__name__)
# Its own logger: the command line says the same before its model loads, naming its flags, and mutes this one.
clip_rate_logger = logging.getLogger(f"{__name__}.clip_rates")

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
IMAGE_LAYOUTS = (
    "a PIL image, a NumPy array (H, W, C) or (B, H, W, C), a tensor (C, H, W) or (B, C, H, W), "
    "each in [0, 1] or uint8, or a path to an image file"
)
VIDEO_LAYOUTS = (
    "a list of PIL frames, a NumPy array (F, H, W, C) or (B, F, H, W, C), a tensor (F, C, H, W) or "
    "(B, F, C, H, W), each in [0, 1] or uint8, a list of such videos, or a path to a video file"
)
LTX_LAYOUTS = "a tensor (C, H, W), (C, F, H, W) or (N, C, F, H, W) in [-1, 1], a PIL image or list of frames, or a path"


def _as_unit_range(x, argument: str):
    """uint8 (/ 255) and uint16 (/ 65535) arrays and tensors -> float in [0, 1]; floats unchanged (diffusers reads
    them as given); other integer or bool types refused (their range is unknown); 16-bit and float PIL images to
    8-bit RGB (PIL's own conversion clips them white)."""
    if isinstance(x, PIL.Image.Image):
        return rgb_image(x) if x.mode in NON_8BIT_MODES else x
    if isinstance(x, torch.Tensor):
        scale = {torch.uint8: 255.0, getattr(torch, "uint16", torch.uint8): 65535.0}.get(x.dtype)
        if scale is not None:
            return x.float() / scale
        if not x.is_floating_point():
            raise ValueError(f"`{argument}` must be float in [0, 1], uint8 or uint16, got dtype {x.dtype}")
        return _not_0_255(x.float(), argument)
    if isinstance(x, np.ndarray):
        if x.dtype in (np.uint8, np.uint16):
            return x.astype(np.float32) / float(np.iinfo(x.dtype).max)
        if x.dtype.kind != "f":
            raise ValueError(f"`{argument}` must be float in [0, 1], uint8 or uint16, got dtype {x.dtype}")
        return _not_0_255(x.astype(np.float32, copy=False), argument)
    return x


def _not_0_255(x, argument: str):
    """Floats are read in [0, 1] (or [-1, 1]) as diffusers reads them; non-negative ones reaching past 2 are 0..255
    (an image converted with np.asarray(img, np.float32)), which gave a wrong condition silently until 2026-12-07.
    Floats with negative values are diffusers' [-1, 1] and taken as they are as diffusers takes them (its own tests
    pass ``torch.randn`` images; refused from 2026-12-07 to 2026-12-08), with a warning where they reach well past
    [-1, 1] (e.g. ImageNet-normalised tensors, whose colours come out wrong), unless they are still 0..255 values:
    past 8 with negative undershoots under a sixth of the peak (a bicubic resize of a 0..255 image)."""
    count = x.size if isinstance(x, np.ndarray) else x.numel()
    low, peak = (float(x.min()), float(x.max())) if count else (0.0, 0.0)
    # 0..255: non-negative, or past 8 with undershoots small beside the peak (a resampling's ringing: bicubic gave
    # [-26, 305]); torch.randn (scaled too), ImageNet-normalised and per-image standardised tensors are taken
    if peak > 2.0 and (low >= 0.0 or (peak > 8.0 and low > -peak / 6)):
        raise ValueError(f"`{argument}` holds floats from {low:g} up to {peak:g}, read as 0..255 values: floats are "
                         "read in [0, 1] (or [-1, 1] when some are negative); divide 0..255 values by 255, or pass "
                         "them as uint8")
    if low < 0.0 and max(peak, -low) > 1.5:
        logger.warning("`%s` holds floats in [%g, %g]: negative values mean [-1, 1] (diffusers' rule) and are taken "
                       "as they are; a tensor normalised otherwise (e.g. ImageNet's mean and std) gives wrong colours: "
                       "pass [0, 1] or [-1, 1] values.", argument, low, peak)
    return x


def _shape_error(argument: str, media, layouts: str, hint: str = "") -> ValueError:
    shape = tuple(media.shape) if hasattr(media, "shape") else type(media).__name__
    return ValueError(f"`{argument}` must be {layouts}; got {shape}.{hint}")


def _check_image(media, argument: str) -> None:
    if isinstance(media, PIL.Image.Image):
        return
    if isinstance(media, list):  # a batch: one image per prompt
        if not media:
            raise ValueError(f"`{argument}` is an empty list; it must be {IMAGE_LAYOUTS}.")
        for image in media:
            _check_image(image, argument)
        _check_one_form(media, argument, "images")
        return
    if isinstance(media, np.ndarray):
        if media.ndim not in (3, 4) or media.shape[-1] != 3:
            raise _shape_error(argument, media, IMAGE_LAYOUTS, " NumPy images are channels-last.")
        return
    if isinstance(media, torch.Tensor):
        channels = media.shape[-3] if media.ndim in (3, 4) else None
        if channels != 3:
            hint = ""
            if media.ndim == 4 and media.shape[0] == 3:
                hint = (" A (C, F, H, W) clip in LTX-Video's layout goes in `ConditioningItem(media_item=...)`; "
                        "in diffusers' layout pass `video=` as (F, C, H, W).")
            elif media.ndim == 5:
                hint = " A clip goes in `video=` as (B, F, C, H, W), or in LTX-Video's layout in `ConditioningItem`."
            elif media.ndim == 3 and media.shape[-1] == 3:
                hint = " Tensors are channels-first (C, H, W); a channels-last image may be passed as a NumPy array."
            raise _shape_error(argument, media, IMAGE_LAYOUTS, hint)
        return
    raise ValueError(f"`{argument}` must be {IMAGE_LAYOUTS}; got {type(media).__name__}.")


def _check_one_form(media: list, argument: str, what: str) -> None:
    """A list of images (or a clip's frames) as diffusers' processor stacks it: one form, and arrays or tensors of one
    shape (but the batch of 4-D ones); a mix failed inside it with an interpolate or a stack error."""
    forms = {"PIL images" if isinstance(m, PIL.Image.Image) else "NumPy arrays" if isinstance(m, np.ndarray)
             else "tensors" for m in media}
    if len(forms) > 1:
        raise ValueError(f"`{argument}` is a list mixing {' and '.join(sorted(forms))}: its {what} must be all PIL "
                         "images, all NumPy arrays or all tensors.")
    shapes = sorted({(m.ndim, *(m.shape[1:] if m.ndim == 4 else m.shape)) for m in media if not isinstance(m, PIL.Image.Image)})
    if len(shapes) > 1:
        got = " and ".join(str(tuple(m.shape)) for m in media[:2]) if len(media) == 2 else f"{len(shapes)} shapes"
        raise ValueError(f"`{argument}` is a list of {what} in different shapes ({got}): arrays and tensors in one "
                         "list must have one shape (resize them, or pass PIL images, which are resized).")


def _check_video(media, argument: str) -> None:
    if isinstance(media, list):
        if not media:
            raise ValueError(f"`{argument}` is an empty list; it must be {VIDEO_LAYOUTS}.")
        if isinstance(media[0], list) or (hasattr(media[0], "ndim") and media[0].ndim == 4):
            for clip in media:  # a batch of videos
                _check_video(clip, argument)
            lengths = sorted({len(clip) if isinstance(clip, list) else clip.shape[0] for clip in media})
            if len(lengths) > 1:  # torch.stack failed on them
                raise ValueError(f"`{argument}` clips in a list (one per prompt) must have one number of frames, got "
                                 f"{', '.join(map(str, lengths))}: trim them to one length, or call once per clip.")
            return
        for frame in media:  # a list of frames
            _check_image(frame, argument)
        _check_one_form(media, argument, "frames")
        return
    if isinstance(media, PIL.Image.Image):
        return
    if isinstance(media, np.ndarray):
        if media.ndim not in (4, 5) or media.shape[-1] != 3:
            raise _shape_error(argument, media, VIDEO_LAYOUTS, " NumPy videos are channels-last.")
        return
    if isinstance(media, torch.Tensor):
        if media.ndim not in (4, 5) or media.shape[-3] != 3:
            hint = ""
            if media.shape[-4:-3] == (3,) or (media.ndim == 4 and media.shape[0] == 3):
                hint = (" This looks like LTX-Video's channels-first (C, F, H, W) layout: pass it as "
                        "`ConditioningItem(media_item=...)`, or permute it to (F, C, H, W).")
            raise _shape_error(argument, media, VIDEO_LAYOUTS, hint)
        return
    raise ValueError(f"`{argument}` must be {VIDEO_LAYOUTS}; got {type(media).__name__}.")


def _to_unit(media, argument: str):
    if isinstance(media, list):
        return [_to_unit(m, argument) for m in media]
    return _as_unit_range(media, argument)


def _read_file(path: Path, max_frames: int, argument: str, kind: str):
    """An image file -> a PIL image (an animated one -> its frames, unless ``kind`` is "image"); a video file -> its
    frames, refused for ``kind`` "image" when it has more than one. Unreadable files are named with the argument."""
    from ltx_video.io.images import read_image, read_image_frames
    from ltx_video.io.media import read_video

    if not path.exists():
        raise ValueError(f"`{argument}`: conditioning media file not found: {path}")
    try:
        if path.suffix.lower() in IMAGE_SUFFIXES:
            frames = read_image_frames(path, max_frames) if kind != "image" else []
            return frames if len(frames) > 1 else read_image(path)
        frames = read_video(path, max_frames=max_frames)
    except (OSError, ValueError, av.error.FFmpegError) as error:  # PIL's UnidentifiedImageError is an OSError
        raise ValueError(f"`{argument}`: cannot read {path} as an image or video: {error}") from error
    if kind == "image" and len(frames) > 1:
        raise ValueError(f"`{argument}` takes one image, but {path} is a video of {len(frames)} frames or more: pass it "
                         "as `video=`, or one frame of it.")
    return frames[0] if kind == "image" else frames


def _ltx_tensor(media: torch.Tensor, height: int, width: int, argument: str) -> torch.Tensor:
    """LTX-Video's layouts, values in [-1, 1] as given (uint8 from 0-255) -> (N, 3, F, H, W), resized bilinearly."""
    if media.dtype == torch.uint8:  # cannot be in [-1, 1]: 0-255 as image= reads it
        pixels = media.float() / 127.5 - 1.0
    elif not media.is_floating_point():
        raise ValueError(f"`{argument}` must be float in [-1, 1] or uint8, got dtype {media.dtype}")
    else:
        pixels = media.float()
    if pixels.ndim == 3:  # (C, H, W)
        pixels = pixels[:, None]
    if pixels.ndim == 4:  # (C, F, H, W)
        pixels = pixels[None]
    if pixels.ndim != 5 or pixels.shape[1] != 3:
        raise _shape_error(argument, media, LTX_LAYOUTS)
    if pixels.shape[-2:] != (height, width):
        n, c, f = pixels.shape[:3]
        frames = pixels.transpose(1, 2).reshape(n * f, c, *pixels.shape[-2:])
        frames = torch.nn.functional.interpolate(frames, size=(height, width), mode="bilinear", align_corners=False)
        pixels = frames.reshape(n, f, c, height, width).transpose(1, 2)
    return pixels


def argument_name(kind: str) -> str:
    """The call argument that carries media of ``kind`` (for error messages)."""
    return {"image": "image", "video": "video"}.get(kind, "media_item")


def read_condition_media(
    media, kind: str, processor: VideoProcessor, height: int, width: int, max_frames: int, argument: str | None = None
) -> torch.Tensor:
    """``media`` read as ``kind`` ("image", "video" or "ltx") -> (N, 3, F, H, W) in [-1, 1], F <= ``max_frames``
    only for files (callers trim tensors). ``argument`` names the call argument in errors."""
    argument = argument or argument_name(kind)
    if isinstance(media, (str, Path)):
        media = _read_file(Path(media), max_frames, argument, kind)
        kind = "image" if isinstance(media, PIL.Image.Image) else "video"
    elif kind in ("video", "ltx") and isinstance(media, list) and media and all(isinstance(m, (str, Path)) for m in media):
        media = [_read_file(Path(m), 1, argument, "image") for m in media]  # a clip as one image file per frame
    if kind == "ltx":
        if isinstance(media, torch.Tensor):
            return _ltx_tensor(media, height, width, argument)
        if isinstance(media, PIL.Image.Image):
            kind = "image"
        elif isinstance(media, list) and media and isinstance(media[0], PIL.Image.Image):
            kind = "video"
        else:
            raise ValueError(f"`{argument}` must be {LTX_LAYOUTS}; got {type(media).__name__}.")
    if kind == "image":
        _check_image(media, argument)
        return processor.preprocess(_to_unit(media, argument), height, width).unsqueeze(2)
    if kind == "video":
        _check_video(media, argument)
        return processor.preprocess_video(_to_unit(media, argument), height, width)
    raise ValueError(f"unknown media kind {kind!r}; expected 'image', 'video' or 'ltx'.")


def clip_frame_rate(media) -> float | None:
    """A video file's average frame rate; None for anything else (an image file, frames, a file PyAV cannot open:
    reading it names the error)."""
    if not isinstance(media, (str, Path)) or Path(media).suffix.lower() in IMAGE_SUFFIXES:
        return None
    try:
        with av.open(str(media)) as container:
            rate = container.streams.video[0].average_rate if container.streams.video else None
    except (OSError, av.error.FFmpegError):
        return None
    return float(rate) if rate else None


def clip_arguments(video, conditions, conditioning_items, keyframes) -> list[tuple[str, Any]]:
    """(argument, media) for each conditioning clip a call may give as a file, to check its frame rate against the
    call's (:func:`note_clip_rates`); anything not a path is skipped there."""

    def listed(value) -> list:
        return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]

    return [("video", video),
            *(("conditions", getattr(c, name, None)) for c in listed(conditions) for name in ("video", "image")),
            *(("conditioning_items", getattr(item, "media_item", None)) for item in listed(conditioning_items)),
            *(("keyframes", getattr(k, "image_or_clip", None)) for k in listed(keyframes))]


def note_clip_rates(media: Iterable[tuple[str, object]], frame_rate: float, sound: str | None = None) -> None:
    """One warning per video file among ``media`` ((argument, media) pairs) at another rate than ``frame_rate``: its
    frames are taken one for one, so the clip is re-timed (since 2026-12-07; said only by the command line before).
    ``sound``: "generated" or "given" when the call has a sound, which the warning says how the re-timing meets."""
    after = {"generated": ", and the sound made for it is timed to that",
             "given": ", and the given `audio` is not: they drift apart"}.get(sound, "")
    seen = set()
    for argument, item in media:
        rate = clip_frame_rate(item)
        if rate is None or str(item) in seen or abs(rate - frame_rate) <= 0.01 * frame_rate:
            continue
        seen.add(str(item))
        clip_rate_logger.warning(
            "`%s` %s is a %g fps file, taken frame for frame at `frame_rate`=%g: it plays %.2fx as long%s; pass "
            "frame_rate=%g to keep its timing.", argument, item, rate, frame_rate, rate / frame_rate, after, rate)
