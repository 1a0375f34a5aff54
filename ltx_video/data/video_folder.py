"""A torch ``Dataset`` of fixed-length video (+ audio) clips cut from every video file under a folder.

Indexing opens each file once with PyAV and reads only its metadata (frame rate, frame count,
whether it has an audio track); files are found in sorted path order, so the index is
deterministic. Containers that do not store a frame count (Matroska / WebM) are measured by
seeking to their last keyframe and decoding only the frames after it.

Clip timing. A file with ``N`` frames at ``r_src`` frames per second is re-timed to the output
rate ``r`` (``fps``, or ``r_src`` when ``fps`` is ``None``): output frame ``m`` sits at
``m / r`` seconds after the first frame and shows the source frame nearest in time (ties go to
the earlier frame), so the file yields ``floor(N * r / r_src)`` output frames. Clip ``c`` of a
file covers output frames ``c * stride ... c * stride + num_frames - 1``; its audio covers
exactly the same time span, ``[start_time, start_time + num_frames / r)``.

Reading a clip seeks to the keyframe before its start (``container.seek`` in the stream's
``time_base``) and decodes only up to its last frame, for video and audio alike, so long files
are never decoded whole.

Frames are read in display orientation (since 2026-12-07: a file flagged as rotated, a phone portrait clip stored
landscape, is turned upright as FFmpeg and :func:`~ltx_video.io.reading.read_video_tensor` turn it; before, it was
read sideways) and centre-cropped to the target aspect ratio ``width / height`` and then resized to
``height x width`` with antialiased bilinear interpolation (:func:`center_crop_resize`), which
averages over the source pixels like an area filter when downscaling.
"""

from __future__ import annotations

import bisect
import gc
import math
import numbers
import operator
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TypedDict

import av
import av.error
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ltx_video.io.media import AAC_RATES
from ltx_video.io.reading import _stream_fps, _upright_rgb

__all__ = [
    "VideoClip",
    "VideoFileInfo",
    "VideoFolderConfig",
    "VideoFolderDataset",
    "VideoFolderItem",
    "VideoFolderWarning",
    "center_crop_resize",
    "probe_video_file",
]

PathLike = str | os.PathLike[str]

DEFAULT_EXTENSIONS = (".mp4", ".mkv", ".webm", ".mov")
_AUDIO_PREROLL_S = 0.1  # decode a little audio before the clip: AAC frames overlap their neighbours
_TIME_EPS = 1e-6  # seconds; absorbs float rounding of timestamps
# The lowest audio rate: AAC's lowest, that of any track written (ltx_video.io.media.AAC_RATES). Lower, a clip's audio
# was a few samples of silence (1 Hz: none for a 0.5 s clip) that no audio writer, metric or audio VAE takes.
MIN_SAMPLE_RATE = min(AAC_RATES)

# Errors that mean "this file cannot be read" rather than a bug in this module.
_READ_ERRORS = (av.error.FFmpegError, OSError, ValueError, EOFError)


class VideoFolderWarning(UserWarning):
    """A file was skipped while indexing or reading a :class:`VideoFolderDataset`."""


class _ClipReadError(RuntimeError):
    """A clip of an indexed file could not be decoded (e.g. the file ends early)."""


def _check_positive_int(name: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:  # NumPy integers too
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class VideoFolderConfig:
    """Options of a :class:`VideoFolderDataset`; validated on construction.

    ``num_frames``: frames per clip (``F``). ``height`` / ``width``: output frame size.
    ``fps``: output frame rate, ``None`` keeps each file's own rate. ``stride``: output frames
    between the starts of consecutive clips of a file, ``None`` means ``num_frames``
    (non-overlapping clips). ``sample_rate``: audio rate in Hz, at least ``MIN_SAMPLE_RATE`` (AAC's lowest, 7350;
    since 2026-12-07: lower rates gave a few samples of silence). ``require_audio``: skip files
    without an audio track. ``extensions``: file suffixes to index (case-insensitive).
    ``recursive``: also search sub-folders.
    """

    num_frames: int = 49
    height: int = 64
    width: int = 64
    fps: float | None = None
    stride: int | None = None
    sample_rate: int = 16000
    require_audio: bool = False
    extensions: tuple[str, ...] = DEFAULT_EXTENSIONS
    recursive: bool = True

    def __post_init__(self) -> None:
        for name in ("num_frames", "height", "width", "sample_rate", "stride"):
            if name != "stride" or self.stride is not None:
                _check_positive_int(name, getattr(self, name), MIN_SAMPLE_RATE if name == "sample_rate" else 1)
                object.__setattr__(self, name, int(getattr(self, name)))  # np.int64(16) -> 16
        if self.fps is not None and (
            isinstance(self.fps, bool)
            or not isinstance(self.fps, (numbers.Real, Fraction))
            or not math.isfinite(float(self.fps))
            or self.fps <= 0
        ):
            raise ValueError(f"fps must be None or a finite number > 0, got {self.fps!r}")
        for name in ("require_audio", "recursive"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        extensions = self.extensions
        if isinstance(extensions, str) or not isinstance(extensions, Iterable):
            raise ValueError(f"extensions must be a tuple of suffixes like '.mp4', got {extensions!r}")
        extensions = tuple(extensions)
        if not extensions or not all(isinstance(e, str) and len(e) > 1 and e.startswith(".") for e in extensions):
            raise ValueError(f"extensions must be a non-empty tuple of suffixes like '.mp4', got {self.extensions!r}")
        object.__setattr__(self, "extensions", tuple(e.lower() for e in extensions))

    @property
    def clip_stride(self) -> int:
        """Output frames between clip starts (``stride``, or ``num_frames`` when ``None``)."""
        return self.num_frames if self.stride is None else self.stride


@dataclass(frozen=True)
class VideoFileInfo:
    """Metadata of one indexed video file.

    ``fps``: the video stream's average frame rate. ``num_frames``: its frame count.
    ``start``: presentation time (seconds) of its first frame, the origin of clip times.
    ``has_audio``: whether the file has an audio stream.
    """

    path: Path
    fps: float
    num_frames: int
    start: float
    has_audio: bool

    @property
    def duration(self) -> float:
        """Length of the video stream in seconds, ``num_frames / fps``."""
        return self.num_frames / self.fps


@dataclass(frozen=True)
class VideoClip:
    """One clip of a :class:`VideoFolderDataset`: ``num_frames`` output frames of ``file`` from
    output frame ``start_frame`` on, at ``fps`` output frames per second."""

    file: VideoFileInfo
    start_frame: int
    num_frames: int
    fps: float

    @property
    def start_time(self) -> float:
        """Seconds from the file's first frame to the clip's first frame."""
        return self.start_frame / self.fps

    @property
    def frame_times(self) -> list[float]:
        """Presentation time (seconds, on the file's clock) of each output frame."""
        return [self.file.start + (self.start_frame + j) / self.fps for j in range(self.num_frames)]


class VideoFolderItem(TypedDict):
    """One item: ``video`` float32 ``(F, 3, H, W)`` in ``[-1, 1]``; ``audio`` float32 mono ``(S,)``
    with ``S = round(F / fps * sample_rate)``, zeros if the file has no audio; ``start_time`` in
    seconds from the file's first frame; ``fps`` the clip's frame rate."""

    video: torch.Tensor
    audio: torch.Tensor
    has_audio: bool
    path: str
    start_time: float
    fps: float


# --------------------------------------------------------------------------------------------
# Indexing
# --------------------------------------------------------------------------------------------


def _count_frames_by_seeking(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, fps: float, start: float
) -> int:
    """Frame count of a stream whose container stores none: seek to the last keyframe and decode
    from there to the end (only that group of pictures is decoded)."""
    end = container.duration / av.time_base if container.duration else 0.0
    container.seek(max(int(end / stream.time_base), 0), stream=stream, backward=True)
    last_time = None
    for frame in container.decode(stream):
        if frame.time is not None:
            last_time = frame.time
    if last_time is None:
        raise _ClipReadError("no video frame could be decoded")
    return int(round((last_time - start) * fps)) + 1


def probe_video_file(path: PathLike) -> VideoFileInfo:
    """Read the metadata of ``path`` with PyAV, decoding no frame when the container stores the
    frame count. Raises :class:`FileNotFoundError` for a missing file, :class:`ValueError` (or a
    PyAV error) for a file that cannot be opened or has no video stream."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such video file: {str(path)!r}")
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        fps = _stream_fps(stream, path)
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        has_audio = bool(container.streams.audio)
        num_frames = stream.frames or _count_frames_by_seeking(container, stream, fps, start)
    return VideoFileInfo(path=path, fps=fps, num_frames=int(num_frames), start=start, has_audio=has_audio)


def walk_files(root: Path) -> Iterator[Path]:
    """Every file under ``root``, following linked folders once each (a link loop ends), a file reached twice
    (a link to it inside ``root``) given once."""
    seen_dirs, seen_files = set(), set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen_dirs:
            dirs[:] = []
            continue
        seen_dirs.add(real)
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            real = os.path.realpath(path)
            if real not in seen_files:
                seen_files.add(real)
                yield path


def _find_files(root: Path, extensions: tuple[str, ...], recursive: bool) -> list[Path]:
    candidates = walk_files(root) if recursive else root.iterdir()
    return sorted(
        (path for path in candidates if path.suffix.lower() in extensions and path.is_file()),
        key=lambda path: path.relative_to(root).as_posix(),
    )


def _num_output_frames(info: VideoFileInfo, fps: float) -> int:
    """Output frames of ``info`` at ``fps``: those within the stream's duration ``N / r_src``."""
    return int(math.floor(info.num_frames * fps / info.fps + 1e-9))


# --------------------------------------------------------------------------------------------
# Decoding a clip
# --------------------------------------------------------------------------------------------


def _decode_frames(container: av.container.InputContainer, clip: VideoClip) -> np.ndarray:
    """RGB frames of ``clip`` as uint8 ``(F, H, W, 3)`` in display orientation (a rotated file's frames turned upright,
    as :func:`~ltx_video.io.reading.read_video_tensor` reads them), decoding from the keyframe before its start to its
    last frame; each output time takes the decoded frame nearest to it."""
    stream = container.streams.video[0]
    src_period = 1.0 / clip.file.fps
    targets = clip.frame_times
    seek_time = max(targets[0] - src_period, 0.0)
    container.seek(int(seek_time / stream.time_base), stream=stream, backward=True)

    chosen: list[np.ndarray] = []
    previous: tuple[float, np.ndarray] | None = None
    for frame in container.decode(stream):
        if frame.time is None:
            continue
        image = None
        while len(chosen) < len(targets) and targets[len(chosen)] <= frame.time + _TIME_EPS:
            target = targets[len(chosen)]
            if previous is not None and target - previous[0] <= frame.time - target + _TIME_EPS:
                chosen.append(previous[1])
            else:
                if image is None:
                    image = _upright_rgb(frame, clip.file.path)
                chosen.append(image)
        if len(chosen) == len(targets):
            break
        if targets[len(chosen)] - frame.time < 2 * src_period:  # a candidate for the next target
            previous = (frame.time, image if image is not None else _upright_rgb(frame, clip.file.path))
        else:
            previous = None
    # Output times past the last decoded frame: it is the nearest frame, but only within one
    # source frame period; further means the file ends early.
    while len(chosen) < len(targets):
        if previous is None or targets[len(chosen)] - previous[0] > src_period + _TIME_EPS:
            raise _ClipReadError(f"the video ends before {targets[len(chosen)]:.3f} s")
        chosen.append(previous[1])
    return np.stack(chosen)


def _decode_audio(
    container: av.container.InputContainer, start: float, num_samples: int, sample_rate: int
) -> torch.Tensor:
    """Mono float32 ``(num_samples,)`` at ``sample_rate`` covering ``[start, start + num_samples /
    sample_rate)`` on the file's clock; zeros where the audio track has no samples."""
    stream = container.streams.audio[0]
    out = np.zeros(num_samples, np.float32)
    seek_time = max(start - _AUDIO_PREROLL_S, 0.0)
    if seek_time > 0:  # from the start the container is read as opened: a seek to 0 loses the decoder's priming
        container.seek(int(seek_time / stream.time_base), stream=stream, backward=True)  # trim (448 silent samples)
    # rematrix_maxval=1: a stereo downmix is the channel mean, as in ltx_video.io.media.read_audio.
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=sample_rate, options={"rematrix_maxval": "1.0"})
    position: int | None = None  # sample index in `out` of the next resampled sample

    def place(chunks: list[av.AudioFrame]) -> None:
        nonlocal position
        for chunk in chunks:
            samples = chunk.to_ndarray()[0]
            if position is None:
                if chunk.time is None:
                    raise _ClipReadError("audio frames carry no timestamps")
                position = int(round((chunk.time - start) * sample_rate))
            lo, hi = max(position, 0), min(position + samples.size, num_samples)
            if lo < hi:
                out[lo:hi] = samples[lo - position : hi - position]
            position += samples.size

    for frame in container.decode(stream):
        place(resampler.resample(frame))
        if position is not None and position >= num_samples:
            break
    else:
        place(resampler.resample(None))
    return torch.from_numpy(out).clamp_(-1.0, 1.0)


def center_crop_resize(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Centre-crop ``frames`` ``(F, C, h, w)`` to the aspect ratio ``width / height`` and resize
    to ``(F, C, height, width)`` with antialiased bilinear interpolation (area-like when
    downscaling). Float input; the dtype is kept."""
    h, w = frames.shape[-2:]
    if w * height > h * width:  # too wide: keep full height
        crop_h, crop_w = h, max(1, round(h * width / height))
    else:
        crop_h, crop_w = max(1, round(w * height / width)), w
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    frames = frames[..., top : top + crop_h, left : left + crop_w]
    if (crop_h, crop_w) == (height, width):
        return frames
    return F.interpolate(frames, size=(height, width), mode="bilinear", align_corners=False, antialias=True)


# --------------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------------


class VideoFolderDataset(Dataset):
    """Fixed-length clips of every video file under ``root`` (see the module docstring for clip
    timing, seeking and resizing).

    Item ``i`` is a dict (:class:`VideoFolderItem`): ``video`` float32 ``(F, 3, H, W)`` in
    ``[-1, 1]``; ``audio`` float32 ``(S,)`` mono at ``sample_rate`` over the clip's time span,
    ``S = round(F / fps * sample_rate)`` (zeros, with ``has_audio`` False, for a file without
    audio); ``has_audio``; ``path``; ``start_time`` (seconds from the file's first frame);
    ``fps`` (the clip's frame rate). With ``fps=None`` each file keeps its own rate, so clips of files at different
    rates hold different lengths of audio and cannot be stacked into one DataLoader batch: give ``fps`` for that.
    Linked folders are followed (once each); a file reached twice is indexed once.

    Indexing skips, each with a :class:`VideoFolderWarning` naming it, files that cannot be
    opened or have no video stream and files shorter than one clip; with ``require_audio``,
    files without audio are skipped too (one warning lists them). A missing ``root`` raises
    :class:`FileNotFoundError`, a folder without any usable clip :class:`ValueError`.

    Unreadable at read time: if a file fails while reading an item (deleted or corrupted after
    indexing), a warning names it, the file is marked bad for the rest of this dataset object's
    life (each DataLoader worker has its own), and the next readable clip in index order is
    returned instead (wrapping around), so an epoch is never stopped. Only if no clip at all can
    be read does ``__getitem__`` raise :class:`RuntimeError`.
    """

    def __init__(
        self,
        root: PathLike,
        *,
        num_frames: int = 49,
        height: int = 64,
        width: int = 64,
        fps: float | None = None,
        stride: int | None = None,
        sample_rate: int = 16000,
        require_audio: bool = False,
        extensions: tuple[str, ...] = DEFAULT_EXTENSIONS,
        recursive: bool = True,
    ) -> None:
        self.config = VideoFolderConfig(
            num_frames=num_frames,
            height=height,
            width=width,
            fps=fps,
            stride=stride,
            sample_rate=sample_rate,
            require_audio=require_audio,
            extensions=extensions,
            recursive=recursive,
        )
        self.root = Path(root)
        if not self.root.exists():
            raise FileNotFoundError(f"root folder {str(self.root)!r} does not exist")
        if not self.root.is_dir():
            raise NotADirectoryError(f"root {str(self.root)!r} is not a folder")
        self.files, self._clip_counts = self._index()
        self._clip_offsets = np.cumsum([0, *self._clip_counts]).tolist()
        self._unreadable: set[Path] = set()

    def _index(self) -> tuple[tuple[VideoFileInfo, ...], tuple[int, ...]]:
        cfg = self.config
        paths = _find_files(self.root, cfg.extensions, cfg.recursive)
        files: list[VideoFileInfo] = []
        counts: list[int] = []
        without_audio: list[str] = []
        for path in paths:
            try:
                info = probe_video_file(path)
            except (*_READ_ERRORS, _ClipReadError) as error:
                warnings.warn(
                    f"skipping unreadable video file {str(path)!r}: {error}", VideoFolderWarning, stacklevel=3
                )
                continue
            if cfg.require_audio and not info.has_audio:
                without_audio.append(str(path))
                continue
            available = _num_output_frames(info, cfg.fps or info.fps)
            if available < cfg.num_frames:
                warnings.warn(
                    f"skipping video file {str(path)!r}: {available} frames at {float(cfg.fps or info.fps):g} fps "
                    f"is shorter than one clip of num_frames={cfg.num_frames}",
                    VideoFolderWarning,
                    stacklevel=3,
                )
                continue
            files.append(info)
            counts.append((available - cfg.num_frames) // cfg.clip_stride + 1)
        if without_audio:
            warnings.warn(
                f"require_audio=True: skipping {len(without_audio)} video file(s) without audio: {without_audio}",
                VideoFolderWarning,
                stacklevel=3,
            )
        if not files:
            raise ValueError(
                f"no usable video found under {str(self.root)!r}: {len(paths)} file(s) with extensions "
                f"{list(cfg.extensions)}{' (recursive)' if cfg.recursive else ''}, none readable and at least "
                f"num_frames={cfg.num_frames} frames long{' with audio' if cfg.require_audio else ''}"
            )
        return tuple(files), tuple(counts)

    def __len__(self) -> int:
        return self._clip_offsets[-1]

    def clip(self, index: int) -> VideoClip:
        """The :class:`VideoClip` behind item ``index`` (negative indices count from the end)."""
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)} clips")
        index %= len(self)
        file_index = bisect.bisect_right(self._clip_offsets, index) - 1
        info = self.files[file_index]
        start_frame = (index - self._clip_offsets[file_index]) * self.config.clip_stride
        return VideoClip(info, start_frame, self.config.num_frames, float(self.config.fps or info.fps))

    def read_clip(self, clip: VideoClip) -> VideoFolderItem:
        """Decode ``clip``; raises PyAV / OS errors if its file cannot be read."""
        cfg = self.config
        num_samples = round(clip.num_frames / clip.fps * cfg.sample_rate)
        with av.open(str(clip.file.path)) as container:
            frames = _decode_frames(container, clip)
            if clip.file.has_audio and container.streams.audio:
                start = clip.file.start + clip.start_time
                with av.open(str(clip.file.path)) as audio_container:  # its own reader, at the file's start
                    audio = _decode_audio(audio_container, start, num_samples, cfg.sample_rate)
            else:
                audio = torch.zeros(num_samples)
        if torch.utils.data.get_worker_info() is None:
            # PyAV's audio resampler (a filter graph, with its own threads in PyAV 18.1.1) is left in a reference cycle;
            # freed in a process forked before the collector ran (DataLoader workers started after an item was read
            # here), it waited forever for threads the child does not have. Collected now, in the process that owns
            # them; a worker forks nothing, so it skips the cost.
            gc.collect(1)  # the young generations: what one read left (a full collection cost as much as the read)
        video = torch.from_numpy(frames).permute(0, 3, 1, 2).float().div_(255.0)  # (F, H, W, 3) -> (F, 3, H, W)
        video = center_crop_resize(video, cfg.height, cfg.width).mul_(2.0).sub_(1.0).clamp_(-1.0, 1.0)
        return VideoFolderItem(
            video=video.contiguous(),
            audio=audio,
            has_audio=clip.file.has_audio,
            path=str(clip.file.path),
            start_time=clip.start_time,
            fps=clip.fps,
        )

    def __getitem__(self, index: int) -> VideoFolderItem:
        first = self.clip(index)
        start = index % len(self)
        for offset in range(len(self)):
            clip = first if offset == 0 else self.clip((start + offset) % len(self))
            if clip.file.path in self._unreadable:
                continue
            try:
                return self.read_clip(clip)
            except (*_READ_ERRORS, _ClipReadError) as error:
                self._unreadable.add(clip.file.path)
                warnings.warn(
                    f"video file {str(clip.file.path)!r} became unreadable ({type(error).__name__}: {error}); "
                    f"returning the next readable clip instead of item {index}",
                    VideoFolderWarning,
                    stacklevel=2,
                )
        raise RuntimeError(f"no clip of the dataset under {str(self.root)!r} can be read (item {index} requested)")
