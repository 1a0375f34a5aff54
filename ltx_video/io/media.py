"""Reading and writing images, videos and audio with PyAV (FFmpeg).

Frames are RGB. Tensors follow the library conventions:

* video frames: ``(F, 3, H, W)`` float in ``[0, 1]``;
* audio waveforms: ``(C, S)`` float32 in ``[-1, 1]`` (``C`` channels, ``S`` samples).

Videos are written as H.264 (``libx264``, ``yuv420p``) with an optional AAC audio track. The encoder's
settings are pinned (preset, CRF, ``threads`` slice threads), so the same frames give byte-identical
files in any process: x264 left to pick its own thread count follows the CPUs the process may use, and
its output changes with that count.
``yuv420p`` subsamples chroma by two in both directions, so it needs even frame sizes: a frame
with an odd height or width is padded to the next even size by repeating its last row / column,
and the file is that padded size (e.g. 63 x 47 is stored, and read back, as 64 x 48).

:class:`VideoStreamWriter` writes frames and audio in as many calls as needed, so long videos
can be encoded chunk by chunk; :func:`write_video` is a one-call wrapper around it.
"""

from __future__ import annotations

import errno
import itertools
import logging
import math
import numbers
import os
import warnings
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
import torch
from PIL import Image

from ltx_video.io.images import read_image
from ltx_video.io.waveforms import float_waveform, sample_rate_value

__all__ = [
    "VideoStreamWriter",
    "audio_start_offset",
    "export_to_video",  # noqa: F822 (module __getattr__: it lives in ltx_video.io.export)
    "read_audio",
    "read_image",
    "read_video",
    "read_video_tensor",
    "resample_audio",
    "write_video",
]

PathLike = str | os.PathLike[str]
FramesLike = torch.Tensor | np.ndarray | Sequence[Image.Image]
AudioLike = torch.Tensor | np.ndarray

logger = logging.getLogger(__name__)

_AAC_FRAME_SIZE = 1024  # samples per AAC frame; used if the encoder does not report its own
ENCODER_THREADS = 4  # fixed slice threads: the file must not depend on the machine's CPU count
_X264_PRESET = "medium"
_BT601 = 6  # smpte170m: the matrix, primaries and transfer PyAV's RGB -> YUV conversion uses
_LAYOUTS = {1: "mono", 2: "stereo"}


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _existing_file(path: PathLike) -> Path:
    """``path`` as a :class:`Path`, or :class:`FileNotFoundError` naming it if it is no file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "No such media file", str(path))
    return path


def _check_max_frames(max_frames: int | None) -> None:
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise ValueError(f"max_frames must be a positive int or None, got {max_frames!r}")


def _decoded_frames(container: av.container.InputContainer, max_frames: int | None) -> Iterator[av.VideoFrame]:
    """Decoded frames of the first video stream, at most ``max_frames`` of them."""
    for index, frame in enumerate(container.decode(video=0)):
        if max_frames is not None and index >= max_frames:
            return
        yield frame


def _open_video(path: PathLike) -> av.container.InputContainer:
    """Open ``path`` for reading and check that it has a video stream."""
    path = _existing_file(path)
    container = av.open(str(path))
    if not container.streams.video:
        container.close()
        raise ValueError(f"{str(path)!r} has no video stream")
    return container


def _stream_fps(stream: av.video.stream.VideoStream, path: PathLike) -> float:
    """Frames per second of ``stream`` from its average rate (falling back to guessed rate)."""
    rate = stream.average_rate or stream.guessed_rate
    if not rate:
        raise ValueError(f"cannot determine the frame rate of the video stream in {str(path)!r}")
    return float(rate)


def read_video(path: PathLike, *, max_frames: int | None = None) -> list[Image.Image]:
    """Decode the first video stream of ``path`` into a list of ``F`` RGB PIL images.

    ``max_frames`` limits ``F`` to the first frames. Raises :class:`FileNotFoundError` for a
    missing file and :class:`ValueError` for a file without a video stream.
    """
    _check_max_frames(max_frames)
    with _open_video(path) as container:
        return [frame.to_image() for frame in _decoded_frames(container, max_frames)]


def _is_variable_rate(times: np.ndarray) -> bool:
    """Whether frame times stray from one constant rate by over a quarter of a frame.

    A constant-rate file whose timestamps are rounded to its time base (WebM's milliseconds, GIF's hundredths:
    33 and 34 ms apart at 30 fps) stays within that; one dropped frame strays by half a frame or more.
    """
    if len(times) < 3:
        return False
    step = (times[-1] - times[0]) / (len(times) - 1)
    return bool(np.abs(times - times[0] - step * np.arange(len(times))).max() > step / 4)


def _constant_rate_indices(times: np.ndarray, rate: float, end: float) -> np.ndarray:
    """Which decoded frame output frame ``k`` (at ``times[0] + k / rate``) shows, as FFmpeg's fps filter picks it:
    the last frame whose time rounds to ``k`` or before on the output grid. ``end``: when the last frame stops."""
    slots = np.floor((times - times[0]) * rate + 0.5)  # round half up, as the filter's default rounding
    count = max(int(slots[-1]) + 1, math.floor((end - times[0]) * rate + 0.5))
    return np.searchsorted(slots, np.arange(count), side="right") - 1


def read_video_tensor(
    path: PathLike, *, max_frames: int | None = None, constant_rate: bool = True
) -> tuple[torch.Tensor, float]:
    """Decode the first video stream of ``path`` into ``(frames, fps)``.

    ``frames`` is a float32 tensor ``(F, 3, H, W)`` in ``[0, 1]`` (decoded 8-bit RGB / 255);
    ``fps`` comes from the stream's average frame rate. ``max_frames`` limits ``F``.
    ``constant_rate`` (since 2026-12-07): frame ``i`` at ``i / fps`` after the first is what every metric assumes,
    so a variable-frame-rate file (frame times over a quarter of a frame off one constant rate: phone and screen
    recordings, dropped frames) is read on a constant timeline at the stream's guessed rate (FFmpeg's, else the
    average rate), which is then ``fps``: each output frame is the frame showing at its time (FFmpeg's fps filter:
    frames repeated or dropped), and a warning says so. Constant-rate files are read frame for frame, as before.
    ``constant_rate=False`` gives every decoded frame once, in order, at the average rate (as before 2026-12-07).
    Raises :class:`FileNotFoundError` for a missing file, :class:`ValueError` for a file without
    a video stream or without any decodable frame.
    """
    _check_max_frames(max_frames)
    if not isinstance(constant_rate, bool):
        raise ValueError(f"constant_rate must be True or False, got {constant_rate!r}")
    with _open_video(path) as container:
        stream = container.streams.video[0]
        fps = _stream_fps(stream, path)
        decoded = container.decode(video=0)
        arrays, times = [], []
        for frame in itertools.islice(decoded, max_frames):
            arrays.append(frame.to_ndarray(format="rgb24"))
            times.append(frame.time)  # None without a timestamp: then read frame for frame
        variable = (constant_rate and None not in times and bool(np.all(np.diff(times) > 0))
                    and _is_variable_rate(np.array(times)))
        if variable:
            rate = float(stream.guessed_rate or stream.average_rate)
            for frame in decoded:  # with max_frames, on until a frame falls past the last output frame
                if max_frames is not None and math.floor((times[-1] - times[0]) * rate + 0.5) >= max_frames:
                    break
                if frame.time is None or frame.time <= times[-1]:
                    break
                arrays.append(frame.to_ndarray(format="rgb24"))
                times.append(frame.time)
    if not arrays:
        raise ValueError(f"no video frames could be decoded from {str(path)!r}")
    if variable:
        gaps = np.diff(times) * 1000
        indices = _constant_rate_indices(np.array(times), rate, times[-1] + gaps[-1] / 1000)[:max_frames]
        warnings.warn(f"{str(path)!r} has a variable frame rate (frames {gaps.min():.1f} to {gaps.max():.1f} ms apart): "
                      f"read at a constant {rate:g} fps, each frame the one showing at its time ({len(arrays)} decoded, "
                      f"{len(indices)} read; constant_rate=False reads the decoded ones as they are)", stacklevel=2)
        arrays, fps = [arrays[i] for i in indices], rate
    frames = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)  # (F, H, W, 3) -> (F, 3, H, W)
    return frames.float().div_(255.0), fps


def audio_start_offset(path: PathLike) -> float:
    """Seconds from the first video frame to the first audio sample of a file (0 without either stream).

    :func:`read_audio` returns the audio from its own first sample; shift it by this to align it with
    the frames of :func:`read_video_tensor` (positive: the audio starts later, so prepend silence).
    """
    with av.open(str(_existing_file(path))) as container:
        video = next(iter(container.streams.video), None)
        audio = next(iter(container.streams.audio), None)
        if video is None or audio is None:
            return 0.0

        return _start_seconds(audio) - _start_seconds(video)


def read_audio(
    path: PathLike, *, sample_rate: int = 16000, mono: bool = True, align_to_video: bool = False,
    max_seconds: float | None = None,
) -> tuple[torch.Tensor, int]:
    """Decode the first audio stream of ``path`` into ``(waveform, sample_rate)``.

    The audio is converted with :class:`av.AudioResampler` to planar float at ``sample_rate`` Hz,
    with a ``mono`` (``C = 1``; stereo is mixed to the mean of its channels) or ``stereo`` (``C = 2``; mono sources are
    duplicated) layout. ``waveform`` is float32 ``(C, S)``, clipped to ``[-1, 1]``, and ends where the stream says
    it does (an AAC encoder's padding after the last sample is dropped).
    ``align_to_video``: the waveform starts at the file's first video frame (the audio's first decoded sample is
    placed at its own time on that axis: silence before a track that starts later, samples dropped from one that
    starts earlier), as the frames of :func:`read_video_tensor` are; without a video stream it changes nothing.
    ``max_seconds``: decoding stops once that much is read (a long file's first seconds only).
    Raises :class:`FileNotFoundError` for a missing file and :class:`ValueError` for a file
    without an audio stream.
    """
    sample_rate = sample_rate_value(sample_rate)
    if max_seconds is not None and (isinstance(max_seconds, bool) or not isinstance(max_seconds, numbers.Real)
                                    or not 0 < max_seconds < math.inf):
        raise ValueError(f"max_seconds must be a positive number of seconds or None, got {max_seconds!r}")
    path = _existing_file(path)
    layout = "mono" if mono else "stereo"
    # rematrix_maxval=1 scales FFmpeg's downmix so that no output exceeds full scale: stereo to
    # mono becomes the channel mean (L + R) / 2 instead of (L + R) / sqrt(2).
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate, options={"rematrix_maxval": "1.0"})
    chunks: list[np.ndarray] = []
    lead, end = 0, None  # samples of silence before the first decoded one; the stream's end, in samples
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError(f"{str(path)!r} has no audio stream")
        stream, video = container.streams.audio[0], next(iter(container.streams.video), None)
        origin = _start_seconds(video) if align_to_video and video is not None else _start_seconds(stream)
        if stream.duration is not None:
            end = round((_start_seconds(stream) + float(stream.duration * stream.time_base) - origin) * sample_rate)
        limit = None if max_seconds is None else math.ceil(max_seconds * sample_rate)
        read, first = 0, True
        for frame in container.decode(stream):
            if first and frame.time is not None:  # the first decoded frame's time: the resampler may hold its samples
                lead = round((frame.time - origin) * sample_rate)
            first = False
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
                read += chunks[-1].shape[1]
            if limit is not None and lead + read >= limit:
                break
    chunks.extend(out.to_ndarray() for out in resampler.resample(None))  # flush buffered samples
    channels = 1 if mono else 2
    waveform = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), np.float32)
    if lead > 0:
        waveform = np.concatenate([np.zeros((channels, lead), np.float32), waveform], axis=1)
    elif lead < 0:
        waveform = waveform[:, -lead:]
    stop = min(x for x in (end, None if max_seconds is None else limit, waveform.shape[1]) if x is not None)
    waveform = torch.from_numpy(np.ascontiguousarray(waveform[:, :max(stop, 0)], dtype=np.float32))
    return waveform.clamp_(-1.0, 1.0), sample_rate


def _start_seconds(stream) -> float:
    """A stream's first timestamp in seconds (0 when the container gives none)."""
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0


def resample_audio(waveform: torch.Tensor, sample_rate: int, target_rate: int) -> torch.Tensor:
    """Float waveform (C, S), C in {1, 2}, from ``sample_rate`` to ``target_rate`` Hz with PyAV, as :func:`read_audio`."""
    sample_rate, target_rate = sample_rate_value(sample_rate), sample_rate_value(target_rate, "target_rate")
    if sample_rate == target_rate:
        return waveform
    layout = _LAYOUTS[waveform.shape[0]]
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(_to_numpy(waveform), dtype=np.float32), format="fltp",
                                       layout=layout)
    frame.sample_rate = sample_rate
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=target_rate)
    chunks = [out.to_ndarray() for out in resampler.resample(frame)]
    chunks.extend(out.to_ndarray() for out in resampler.resample(None))
    if not chunks:
        return torch.zeros(waveform.shape[0], 0)
    return torch.from_numpy(np.concatenate(chunks, axis=1).astype(np.float32, copy=False))


# --------------------------------------------------------------------------------------------
# Input normalisation for writing
# --------------------------------------------------------------------------------------------


def _to_numpy(array: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu()
        if array.dtype == torch.bfloat16 or array.dtype == torch.float16:
            array = array.float()
        return array.numpy()
    return np.asarray(array)


def _uint8_from_unit_range(array: np.ndarray, name: str) -> np.ndarray:
    """uint8 unchanged; floats in ``[0, 1]`` scaled to ``0..255`` (clamped, rounded)."""
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{name} must be float in [0, 1] or uint8, got dtype {array.dtype}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values (they would be written as black)")
    if array.size and np.abs(array).max() > 1.5:  # 0-255 floats came out white; past rounding or a decoder's overshoot
        raise ValueError(f"{name} holds values up to {np.abs(array).max():.4g}: float frames must be in [0, 1] (give "
                         "0-255 values as uint8, or divide them by 255)")
    return (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _frames_to_uint8(frames: FramesLike, name: str = "frames") -> np.ndarray:
    """Frames in any accepted form as a contiguous uint8 array ``(F, H, W, 3)``.

    Accepted: a tensor / array ``(F, 3, H, W)`` or ``(F, H, W, 3)`` (float in ``[0, 1]`` or uint8;
    channels-last wins if both dim 1 and the last dim have size 3); a sequence of ``F`` such frames
    ``(3, H, W)`` / ``(H, W, 3)`` (numpy arrays or tensors, as diffusers' ``output_type="np"`` gives);
    or a sequence of PIL images of one size.
    """
    if isinstance(frames, Sequence) and not isinstance(frames, str) and frames:
        if all(isinstance(image, Image.Image) for image in frames):
            sizes = {image.size for image in frames}
            if len(sizes) > 1:
                raise ValueError(f"{name} must all have one size, got sizes {sorted(sizes)}")
            return np.ascontiguousarray(np.stack([np.asarray(image.convert("RGB")) for image in frames]))
        if all(isinstance(frame, (torch.Tensor, np.ndarray)) for frame in frames):
            arrays = [_to_numpy(frame) for frame in frames]
            shapes = {array.shape for array in arrays}
            if len(shapes) > 1 or arrays[0].ndim != 3:
                raise ValueError(
                    f"{name}: a list of frames must hold arrays of one shape (3, H, W) or (H, W, 3), got shapes "
                    f"{sorted(shapes)}"
                )
            frames = np.stack(arrays)
    if isinstance(frames, (torch.Tensor, np.ndarray)):
        array = _to_numpy(frames)
        if array.ndim != 4:
            raise ValueError(f"{name} must have 4 dims (F, 3, H, W) or (F, H, W, 3), got shape {tuple(array.shape)}")
        if array.shape[-1] != 3:
            if array.shape[1] != 3:
                raise ValueError(
                    f"{name} must have 3 channels in dim 1 or the last dim, got shape {tuple(array.shape)}"
                )
            array = array.transpose(0, 2, 3, 1)
        array = _uint8_from_unit_range(array, name)
    elif isinstance(frames, Sequence) and not isinstance(frames, str) and not frames:
        raise ValueError(f"{name} must not be empty")
    else:
        raise ValueError(
            f"{name} must be a torch.Tensor, a numpy array, or a list of PIL images, numpy arrays or tensors, got "
            f"{type(frames).__name__}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} must not be empty")
    return np.ascontiguousarray(array)


def _pad_to_even(frame: np.ndarray) -> np.ndarray:
    """Pad an ``(H, W, 3)`` frame to even H and W by repeating its last row / column."""
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    if not (pad_h or pad_w):
        return frame
    return np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def _audio_to_planar(audio: AudioLike, channels: int, name: str = "audio") -> np.ndarray:
    """Audio ``(C, S)`` or ``(S,)`` (mono) as contiguous float32 ``(C, S)`` clipped to ``[-1, 1]`` (integer PCM
    scaled by its type's full scale; :func:`~ltx_video.io.waveforms.float_waveform`)."""
    array = float_waveform(audio, name).numpy()
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[0] != channels:
        raise ValueError(
            f"{name} must have shape ({channels}, S){' or (S,)' if channels == 1 else ''}, got {tuple(audio.shape)}"
        )
    return np.ascontiguousarray(np.clip(array, -1.0, 1.0), dtype=np.float32)


def _audio_channels(audio: AudioLike) -> int:
    """Channel count of an ``audio`` argument of shape ``(C, S)`` or ``(S,)``; C must be 1 or 2."""
    shape = tuple(audio.shape)
    channels = 1 if len(shape) == 1 else shape[0]
    if len(shape) not in (1, 2) or channels not in _LAYOUTS:
        raise ValueError(f"audio must have shape (S,), (1, S) or (2, S), got {shape}")
    return channels


def _frame_rate(fps: float) -> Fraction:
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not fps > 0 or not np.isfinite(float(fps)):
        raise ValueError(f"fps must be a finite number > 0, got {fps!r}")
    return Fraction(float(fps) if not isinstance(fps, (int, Fraction)) else fps).limit_denominator(1001)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


class VideoStreamWriter:
    """Incremental H.264 (+ optional AAC) writer; use as a context manager.

    ``width`` x ``height`` is the size of the frames given to :meth:`write_frames`; if either is
    odd the file is padded to even size (last row / column repeated), see the module docstring.
    With ``sample_rate``, an AAC track with ``audio_channels`` (1 or 2) channels is added and
    :meth:`write_audio` accepts chunks of any length. ``x264_options`` adds libx264 options (e.g.
    ``{"bf": "0"}``: no B-frames, so that segments can be joined by remuxing). Leaving the ``with`` block normally flushes
    both encoders and finalises the file; leaving it by an exception only closes the file.

    Example::

        with VideoStreamWriter("out.mp4", 24, 704, 480, sample_rate=16000) as writer:
            for frames, audio in chunks:  # (F, 3, H, W) in [0, 1], (1, S) in [-1, 1]
                writer.write_frames(frames)
                writer.write_audio(audio)
    """

    def __init__(
        self,
        path: PathLike,
        fps: float,
        width: int,
        height: int,
        sample_rate: int | None = None,
        *,
        audio_channels: int = 1,
        crf: int = 18,
        bitrate: int | None = None,
        threads: int = ENCODER_THREADS,
        x264_options: dict[str, str] | None = None,
    ) -> None:
        rate = _frame_rate(fps)
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if sample_rate is not None:
            sample_rate = sample_rate_value(sample_rate)
            if audio_channels not in _LAYOUTS:
                raise ValueError(f"audio_channels must be 1 or 2, got {audio_channels!r}")
        if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
            raise ValueError(f"crf must be an int in [0, 51], got {crf!r}")
        if bitrate is not None and (isinstance(bitrate, bool) or not isinstance(bitrate, int) or bitrate <= 0):
            raise ValueError(f"bitrate must be a positive int (bits per second) or None, got {bitrate!r}")
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive int, got {threads!r}")

        self.path = Path(path)
        if self.path.suffix.lower() not in (".mp4", ".mov", ".mkv", ".m4v"):  # H.264 + AAC: not .webm, .gif, .avi
            raise ValueError(f"the output path must end in .mp4, .mov, .mkv or .m4v (H.264 + AAC), got {str(path)!r}")
        if not self.path.parent.is_dir():  # FFmpeg's own error named no path
            raise FileNotFoundError(f"the output path's folder {str(self.path.parent)!r} does not exist")
        self.width, self.height = width, height
        self.sample_rate, self.audio_channels = sample_rate, audio_channels
        self.frames_written = 0
        self.samples_written = 0
        self._pending_audio = np.zeros((audio_channels, 0), np.float32)
        self._closed = False
        self._frame_time_base = 1 / rate  # frame i is shown at i / fps seconds

        self._container = av.open(str(self.path), mode="w")
        try:
            self._video = self._add_video_stream(rate, crf, bitrate, threads, x264_options or {})
            self._audio = self._add_audio_stream() if sample_rate is not None else None
        except Exception:
            self._container.close()
            raise

    def _add_video_stream(
        self, rate: Fraction, crf: int, bitrate: int | None, threads: int, extra: dict[str, str]
    ) -> av.video.stream.VideoStream:
        # mbtree off: with it the same generated frames gave other bytes at each encode (tests/test_media_forms.py)
        options = {"preset": _X264_PRESET, "x264-params": "mbtree=0", **extra}
        if bitrate is None:
            options["crf"] = str(crf)
        stream = self._container.add_stream("libx264", rate=rate, options=options)
        if bitrate is not None:
            stream.bit_rate = bitrate
        stream.width = self.width + self.width % 2
        stream.height = self.height + self.height % 2
        stream.pix_fmt = "yuv420p"
        context = stream.codec_context  # tagged as converted (BT.601, limited range): players guess 709 for HD untagged
        context.colorspace = context.color_primaries = context.color_trc = _BT601
        context.color_range, context.thread_type, context.thread_count = 1, "SLICE", threads  # 1: MPEG (limited)
        return stream

    def _add_audio_stream(self) -> av.audio.stream.AudioStream:
        stream = self._container.add_stream("aac", rate=self.sample_rate)
        stream.layout = _LAYOUTS[self.audio_channels]
        stream.format = "fltp"
        return stream

    def __enter__(self) -> VideoStreamWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._closed = True
            self._container.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"VideoStreamWriter for {str(self.path)!r} is already closed")

    def write_frames(self, frames: FramesLike) -> None:
        """Encode ``F`` more frames: ``(F, 3, H, W)`` / ``(F, H, W, 3)`` float in ``[0, 1]`` or
        uint8 (tensor or numpy), or a list of PIL images; ``H, W`` must be the writer's size."""
        self._check_open()
        array = _frames_to_uint8(frames)
        if array.shape[1:3] != (self.height, self.width):
            raise ValueError(
                f"frames must be {self.height}x{self.width} (H x W) like the writer, got {array.shape[1]}x{array.shape[2]}"
            )
        for image in array:
            frame = av.VideoFrame.from_ndarray(_pad_to_even(image), format="rgb24")
            frame.pts = self.frames_written
            frame.time_base = self._frame_time_base
            self._container.mux(self._video.encode(frame))
            self.frames_written += 1

    def write_audio(self, audio: AudioLike) -> None:
        """Encode more audio: ``(C, S)`` or, for mono, ``(S,)`` float in ``[-1, 1]`` at the
        writer's ``sample_rate``. Any length; samples are buffered into whole AAC frames."""
        self._check_open()
        if self._audio is None:
            raise ValueError("audio given but the writer has no audio track: pass sample_rate to VideoStreamWriter")
        samples = _audio_to_planar(audio, self.audio_channels)
        self._pending_audio = np.concatenate([self._pending_audio, samples], axis=1)
        frame_size = self._audio.codec_context.frame_size or _AAC_FRAME_SIZE
        while self._pending_audio.shape[1] >= frame_size:
            self._encode_audio(self._pending_audio[:, :frame_size])
            self._pending_audio = self._pending_audio[:, frame_size:]

    def _encode_audio(self, samples: np.ndarray) -> None:
        """Encode one ``(C, S)`` float32 chunk with ``S`` at most one AAC frame."""
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples), format="fltp", layout=_LAYOUTS[self.audio_channels]
        )
        frame.sample_rate = self.sample_rate
        frame.pts = self.samples_written
        frame.time_base = Fraction(1, self.sample_rate)
        self._container.mux(self._audio.encode(frame))
        self.samples_written += samples.shape[1]

    def close(self) -> None:
        """Encode buffered audio, flush both encoders and finalise the file (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._container.mux(self._video.encode(None))
            if self._audio is not None:
                if self._pending_audio.shape[1]:
                    self._encode_audio(self._pending_audio)  # the last AAC frame may be short
                self._pending_audio = self._pending_audio[:, :0]
                self._container.mux(self._audio.encode(None))
        finally:
            self._container.close()


def write_video(
    path: PathLike,
    frames: FramesLike,
    fps: float,
    *,
    audio: AudioLike | None = None,
    sample_rate: int | None = None,
    crf: int = 18,
    bitrate: int | None = None,
) -> Path:
    """Write ``frames`` (and optionally ``audio``) to an H.264 / AAC file; return its path.

    ``frames``: ``(F, 3, H, W)`` or ``(F, H, W, 3)`` float in ``[0, 1]`` or uint8 (tensor or numpy
    array), or a list of ``F`` PIL images. Odd ``H`` / ``W`` are padded to even (last row / column
    repeated). ``audio``: ``(C, S)`` with ``C`` in {1, 2}, or ``(S,)``, float in ``[-1, 1]`` at
    ``sample_rate`` Hz (required with ``audio``). ``crf``: x264 quality, lower is better; ``bitrate``
    (bits per second) replaces it.
    """
    rate = _frame_rate(fps)
    array = _frames_to_uint8(frames)
    channels = 1
    if audio is not None:
        if sample_rate is None:
            raise ValueError("sample_rate is required when audio is given")
        channels = _audio_channels(audio)
    elif sample_rate is not None:
        raise ValueError("sample_rate was given without audio")
    height, width = array.shape[1:3]
    with VideoStreamWriter(
        path, rate, width, height, sample_rate, audio_channels=channels, crf=crf, bitrate=bitrate
    ) as writer:
        writer.write_frames(array)
        if audio is not None:
            writer.write_audio(audio)
    return Path(path)


def __getattr__(name: str):
    """``export_to_video`` lives in :mod:`ltx_video.io.export` (it builds on this module); importable from here too."""
    if name == "export_to_video":
        from ltx_video.io.export import export_to_video

        return export_to_video
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
