"""Writing videos with PyAV (FFmpeg); the reading side lives in :mod:`ltx_video.io.reading`, re-exported here.

Frames are RGB. Tensors follow the library conventions:

* video frames: ``(F, 3, H, W)`` float in ``[0, 1]``;
* audio waveforms: ``(C, S)`` float32 in ``[-1, 1]`` (``C`` channels, ``S`` samples).

Videos are written as H.264 (``libx264``, ``yuv420p``) with an optional AAC audio track, stereo: mono is written as
two identical channels, as diffusers' ``encode_video`` writes it (since 2026-12-07; FFmpeg's native AAC encoder codes
one channel at its 69 kb/s default for a single channel erratically: a 0.5 tone at 44.1 kHz read back at 17 dB SNR,
peaks at 1.0; as a channel pair, 128 kb/s with mid/side coding, at 44 dB). :func:`read_audio`'s default mono mix, the
channels' mean, gives the mono samples back. In an mp4 / mov the movie time scale is the sample rate, so the track ends
on its last sample (with FFmpeg's default of 1000 it ended on a whole millisecond: 1000 samples at 16 kHz read 1008). The encoder's
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

import logging
import numbers
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
import torch
from PIL import Image

from ltx_video.io.images import read_image
from ltx_video.io.reading import (  # the reading side, importable from here as before the split (2026-12-07)
    _LAYOUTS,
    PathLike,
    _to_numpy,
    audio_start_offset,
    read_audio,
    read_video,
    read_video_tensor,
    resample_audio,
)
from ltx_video.io.waveforms import planar_waveform, sample_rate_value

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

FramesLike = torch.Tensor | np.ndarray | Sequence[Image.Image]
AudioLike = torch.Tensor | np.ndarray

logger = logging.getLogger(__name__)

_AAC_FRAME_SIZE = 1024  # samples per AAC frame; used if the encoder does not report its own
ENCODER_THREADS = 4  # fixed slice threads: the file must not depend on the machine's CPU count
_X264_PRESET = "medium"
_BT601 = 6  # smpte170m: the matrix, primaries and transfer PyAV's RGB -> YUV conversion uses
# The rates FFmpeg's AAC encoder opens at (av.Codec("aac", "w").audio_rates: MPEG-4's sampling frequency table); any
# other failed in avcodec_open2 with "Invalid argument ... returned 22", after the file was made.
AAC_RATES = (7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)


# --------------------------------------------------------------------------------------------
# Input normalisation for writing
# --------------------------------------------------------------------------------------------


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
    if array.size and array.min() < -0.5:  # [-1, 1] frames came out with their lower half black; not an overshoot
        raise ValueError(f"{name}: float frames must be in [0, 1]; got min {array.min():.4g}: frames in [-1, 1] need "
                         "(x + 1) / 2")
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


def _writable_audio(audio: AudioLike, name: str = "audio") -> np.ndarray:
    """Audio in any accepted form (:func:`~ltx_video.io.waveforms.planar_waveform`: integer PCM scaled, ``(S,)`` and
    channels-last ``(S, C)`` taken) as contiguous float32 ``(C, S)`` clipped to ``[-1, 1]``, with a warning when
    anything was past full scale."""
    array = planar_waveform(audio, name).numpy()
    if array.ndim == 1:
        array = array[None]
    if array.size and np.abs(array).max() > 1.0:  # clipped as diffusers' encode_video and the pipelines' audio= do,
        # but said (it was silent: int16 samples resampled unscaled came out a square wave)
        logger.warning("`%s` holds samples up to %.4g: float audio is in [-1, 1], so it is clipped (scale it down, or "
                       "give integer PCM as int16 / int32 / uint8).", name, float(np.abs(array).max()))
    return np.ascontiguousarray(np.clip(array, -1.0, 1.0), dtype=np.float32)


def _muxer_options(path: Path, sample_rate: int | None) -> dict[str, str]:
    """mp4 / mov with audio: the movie time scale is the sample rate, so edit lists (the audio's end) are exact to the
    sample (FFmpeg's default 1000 rounded the track to whole milliseconds). Matroska's timestamps stay milliseconds."""
    if sample_rate is None or path.suffix.lower() not in (".mp4", ".mov", ".m4v"):
        return {}
    return {"movie_timescale": str(sample_rate)}


def _add_aac_stream(container: av.container.OutputContainer, sample_rate: int) -> av.audio.stream.AudioStream:
    """A stereo AAC track; mono is given to it as two identical channels (:func:`_aac_frame`, the module docstring)."""
    stream = container.add_stream("aac", rate=sample_rate)
    stream.layout = "stereo"
    stream.format = "fltp"
    return stream


def _aac_frame(samples: np.ndarray, sample_rate: int, pts: int) -> av.AudioFrame:
    """``(C, S)`` float32, C in {1, 2}, as a stereo frame (mono duplicated) at ``pts`` samples."""
    stereo = np.repeat(samples, 2, axis=0) if samples.shape[0] == 1 else samples
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(stereo, dtype=np.float32), format="fltp", layout="stereo")
    frame.sample_rate = sample_rate
    frame.pts = pts
    frame.time_base = Fraction(1, sample_rate)
    return frame


def _aac_sample_rate(sample_rate: int, name: str = "sample_rate") -> int:
    """``sample_rate`` as an int the AAC encoder takes, else a ValueError naming ``name`` and the rates it takes."""
    sample_rate = sample_rate_value(sample_rate, name)
    if sample_rate not in AAC_RATES:
        raise ValueError(f"{name} must be a rate AAC can encode, one of {', '.join(map(str, AAC_RATES))} Hz, got "
                         f"{sample_rate} (resample_audio converts a waveform to one)")
    return sample_rate


def _frame_rate(fps: float) -> Fraction:
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not fps > 0 or not np.isfinite(float(fps)):
        raise ValueError(f"fps must be a finite number > 0, got {fps!r}")
    rate = Fraction(float(fps) if not isinstance(fps, (int, Fraction)) else fps).limit_denominator(1001)
    if rate == 0:  # was refused later as "got Fraction(0, 1)", naming no value the caller gave
        raise ValueError(f"fps must be at least 1/1001 (a frame rate's precision here), got {fps!r}")
    return rate


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


class VideoStreamWriter:
    """Incremental H.264 (+ optional AAC) writer; use as a context manager.

    ``width`` x ``height`` is the size of the frames given to :meth:`write_frames`; if either is
    odd the file is padded to even size (last row / column repeated), see the module docstring.
    With ``sample_rate``, an AAC track is added for audio of ``audio_channels`` (1 or 2) channels (stored as stereo,
    mono as two identical channels: see the module docstring) and :meth:`write_audio` accepts chunks of any length; the rate must be one AAC takes (7350 to 96000 Hz: ... 16000, 22050, 24000, 44100,
    48000 ...; since 2026-12-07 another is refused before the file is made, not by FFmpeg's encoder after).
    ``x264_options`` adds libx264 options (e.g. ``{"bf": "0"}``: no B-frames, so that segments can be joined by
    remuxing). Leaving the ``with`` block normally flushes both encoders and finalises the file; leaving it by an
    exception only closes the file.

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
            sample_rate = _aac_sample_rate(sample_rate)
            if audio_channels not in _LAYOUTS:
                raise ValueError(f"audio_channels must be 1 or 2, got {audio_channels!r}")
        if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
            raise ValueError(f"crf must be an int in [0, 51], got {crf!r}")
        if bitrate is not None and (isinstance(bitrate, bool) or not isinstance(bitrate, int) or bitrate <= 0):
            raise ValueError(f"bitrate must be a positive int (bits per second) or None, got {bitrate!r}")
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive int, got {threads!r}")

        self.path = Path(path).expanduser()  # as imageio (diffusers' writer) expands it
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

        self._container = av.open(str(self.path), mode="w", options=_muxer_options(self.path, sample_rate))
        try:
            self._video = self._add_video_stream(rate, crf, bitrate, threads, x264_options or {})
            self._audio = _add_aac_stream(self._container, sample_rate) if sample_rate is not None else None
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
        """Encode more audio: ``(C, S)`` or, for mono, ``(S,)`` float in ``[-1, 1]`` (or integer PCM, or channels last
        ``(S, C)``) at the writer's ``sample_rate``. Any length; samples are buffered into whole AAC frames."""
        self._check_open()
        if self._audio is None:
            raise ValueError("audio given but the writer has no audio track: pass sample_rate to VideoStreamWriter")
        samples = _writable_audio(audio)
        if samples.shape[0] != self.audio_channels:
            raise ValueError(f"audio must have {self.audio_channels} channel(s) like the writer (audio_channels), got "
                             f"{samples.shape[0]}")
        self._pending_audio = np.concatenate([self._pending_audio, samples], axis=1)
        frame_size = self._audio.codec_context.frame_size or _AAC_FRAME_SIZE
        while self._pending_audio.shape[1] >= frame_size:
            self._encode_audio(self._pending_audio[:, :frame_size])
            self._pending_audio = self._pending_audio[:, frame_size:]

    def _encode_audio(self, samples: np.ndarray) -> None:
        """Encode one ``(C, S)`` float32 chunk with ``S`` at most one AAC frame."""
        self._container.mux(self._audio.encode(_aac_frame(samples, self.sample_rate, self.samples_written)))
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
    repeated). ``audio``: ``(C, S)`` with ``C`` in {1, 2}, or ``(S,)``, float in ``[-1, 1]`` (or integer PCM; or
    ``(S, C)`` as WAV readers return it) at ``sample_rate`` Hz (required with ``audio``); stored as stereo. ``crf``: x264 quality, lower is better; ``bitrate``
    (bits per second) replaces it.
    """
    rate = _frame_rate(fps)
    channels = 1
    if audio is not None:
        if sample_rate is None:
            raise ValueError("sample_rate is required when audio is given")
        audio = _writable_audio(audio)  # before the frames are converted
        channels = audio.shape[0]
        _aac_sample_rate(sample_rate)
    elif sample_rate is not None:
        raise ValueError("sample_rate was given without audio")
    array = _frames_to_uint8(frames)
    height, width = array.shape[1:3]
    with VideoStreamWriter(
        path, rate, width, height, sample_rate, audio_channels=channels, crf=crf, bitrate=bitrate
    ) as writer:
        writer.write_frames(array)
        if audio is not None:
            writer.write_audio(audio)
    return writer.path


def __getattr__(name: str):
    """``export_to_video`` lives in :mod:`ltx_video.io.export` (it builds on this module); importable from here too."""
    if name == "export_to_video":
        from ltx_video.io.export import export_to_video

        return export_to_video
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
