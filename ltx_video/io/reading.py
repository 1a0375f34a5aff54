"""Reading videos and audio with PyAV (FFmpeg); :mod:`ltx_video.io.media` writes them and re-exports these names.

Frames are RGB, in display orientation: a file flagged as rotated (a display matrix: phone portrait clips, stored
landscape) is turned (and mirrored) upright as FFmpeg's command line does by default (since 2026-12-07; before, such
frames came back as stored, sideways). Tensors follow the library conventions:

* video frames: ``(F, 3, H, W)`` float in ``[0, 1]``;
* audio waveforms: ``(C, S)`` float32 in ``[-1, 1]`` (``C`` channels, ``S`` samples).
"""

from __future__ import annotations

import errno
import itertools
import math
import numbers
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import torch
from av.sidedata.sidedata import Type as SideDataType
from PIL import Image

from ltx_video.io.waveforms import planar_waveform, sample_rate_value

__all__ = ["audio_start_offset", "read_audio", "read_video", "read_video_tensor", "resample_audio"]

PathLike = str | os.PathLike[str]

_LAYOUTS = {1: "mono", 2: "stereo"}  # channel count -> FFmpeg layout, for reading and writing


def _existing_file(path: PathLike) -> Path:
    """``path`` as a :class:`Path` (``~`` expanded, as imageio does), or :class:`FileNotFoundError` naming it if it is
    no file."""
    path = Path(path).expanduser()
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


def _upright_rgb(frame: av.VideoFrame, path: PathLike) -> np.ndarray:
    """``frame`` as uint8 RGB ``(H, W, 3)`` in display orientation, as FFmpeg's command line (``-autorotate``, on by
    default) turns it by its display matrix: the same ``transpose`` / ``hflip`` / ``vflip`` picked from the same angle
    and signs (fftools ``ffmpeg_filter.c``). A frame without a display matrix is returned as decoded.

    The matrix (9 native int32, 16.16 fixed point) turns the stored frame counterclockwise by ``frame.rotation``
    degrees (PyAV's reading of it), so a phone portrait clip flagged ``-90`` is stored landscape and shown turned 90
    degrees clockwise. An angle off a multiple of 90 (FFmpeg's ``rotate`` filter, black corners) is not applied: a
    warning names it and the frame is read as stored.

    The conversion to RGB runs on this thread (swscale ``threads=1``, the same pixels as its threaded default): the
    frame keeps its converter, and reading ``side_data`` ties the frame in a reference cycle, so the two live until the
    garbage collector runs, possibly after a fork (DataLoader workers). A threaded converter freed in the child waited
    forever for its pool's threads, which the child does not have (since 2026-12-08; it hung DataLoader workers started
    after an item was read in the main process).
    """
    image = frame.to_ndarray(format="rgb24", threads=1)
    side = frame.side_data.get(SideDataType.DISPLAYMATRIX)
    if side is None:
        return image
    m = np.frombuffer(bytes(side), dtype=np.int32)
    scale_x, scale_y = math.hypot(m[0], m[3]), math.hypot(m[1], m[4])
    if scale_x == 0 or scale_y == 0:  # no rotation to read (av_display_rotation_get is NaN): FFmpeg leaves it
        return image
    clockwise = math.degrees(math.atan2(m[1] / scale_y, m[0] / scale_x))  # -frame.rotation
    theta = math.copysign(math.floor(abs(clockwise) + 0.5), clockwise)  # C round(): halves away from zero
    theta -= 360 * math.floor(theta / 360 + 0.9 / 360)
    if abs(theta - 90) < 1:
        image = image.transpose(1, 0, 2) if m[3] > 0 else np.rot90(image, -1)  # transpose=cclock_flip / clock
    elif abs(theta - 180) < 1:
        image = image[:, ::-1] if m[0] < 0 else image
        image = image[::-1] if m[4] < 0 else image
    elif abs(theta - 270) < 1:
        image = np.rot90(image, -1)[::-1] if m[3] < 0 else np.rot90(image, 1)  # transpose=clock_flip / cclock
    elif abs(theta) > 1:
        warnings.warn(f"{str(path)!r} is flagged to be shown turned {theta:g} degrees clockwise, not a multiple of 90: "
                      f"its frames are read as stored", stacklevel=3)
    elif m[4] < 0:
        image = image[::-1]
    return np.ascontiguousarray(image)


def read_video(path: PathLike, *, max_frames: int | None = None) -> list[Image.Image]:
    """Decode the first video stream of ``path`` into a list of ``F`` RGB PIL images, in display orientation
    (a rotated file's frames turned upright as FFmpeg does, since 2026-12-07).

    ``max_frames`` limits ``F`` to the first frames. Raises :class:`FileNotFoundError` for a
    missing file and :class:`ValueError` for a file without a video stream.
    """
    _check_max_frames(max_frames)
    with _open_video(path) as container:
        return [Image.fromarray(_upright_rgb(frame, path)) for frame in _decoded_frames(container, max_frames)]


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

    ``frames`` is a float32 tensor ``(F, 3, H, W)`` in ``[0, 1]`` (decoded 8-bit RGB / 255) in display orientation:
    since 2026-12-07 a file flagged as rotated (display matrix: phone portrait clips, stored landscape) is turned (and
    mirrored) upright as FFmpeg's command line and ``diffusers.utils.load_video`` do, so ``H x W`` is the shown size
    (before, such frames came back as stored, sideways); unflagged files read as before, bit for bit.
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
            arrays.append(_upright_rgb(frame, path))
            times.append(frame.time)  # None without a timestamp: then read frame for frame
        timed = constant_rate and None not in times and bool(np.all(np.diff(times) > 0))
        variable = timed and _is_variable_rate(np.array(times))
        if timed and not variable and max_frames is not None and len(times) == max_frames > 1:
            # A read cut short sees only the first frames: regular there, they may still stray from the average rate
            # by over a quarter of a frame (the file varies later), and are then read as a whole read reads them, on
            # the guessed rate's timeline (since 2026-12-07: they came back at the average rate, without a warning)
            variable = abs(times[-1] - times[0] - (len(times) - 1) / fps) > 0.25 / fps
        if variable:
            rate = float(stream.guessed_rate or stream.average_rate)
            for frame in decoded:  # with max_frames, on until a frame falls past the last output frame
                if max_frames is not None and math.floor((times[-1] - times[0]) * rate + 0.5) >= max_frames:
                    break
                if frame.time is None or frame.time <= times[-1]:
                    break
                arrays.append(_upright_rgb(frame, path))
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
    it does (an AAC encoder's padding after the last sample is dropped) when that end falls in the last decoded frame;
    (since 2026-12-07) an end before it is FFmpeg's estimate from the bitrate (raw ADTS ``.aac``), and the waveform
    runs to the decoded end instead (before, 0.23 s of a 2 s ADTS track was cut).
    ``align_to_video``: the waveform starts at the file's first video frame (the audio's first decoded sample is
    placed at its own time on that axis: silence before a track that starts later, samples dropped from one that
    starts earlier), as the frames of :func:`read_video_tensor` are; without a video stream it changes nothing.
    ``max_seconds``: decoding stops once that much is read (a long file's first seconds only).
    ``S`` samples decoded at the file's rate come out as ``round(S * sample_rate / rate)`` (since 2026-12-08: a file
    shorter than FFmpeg's resampling filter, about 2 ms, came back empty), before the cuts above.
    Raises :class:`FileNotFoundError` for a missing file and :class:`ValueError` for a file
    without an audio stream.
    """
    sample_rate = sample_rate_value(sample_rate)
    for name, flag in (("mono", mono), ("align_to_video", align_to_video)):  # "false" was taken by its truth
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {flag!r}")
    if max_seconds is not None and (isinstance(max_seconds, bool) or not isinstance(max_seconds, numbers.Real)
                                    or not 0 < max_seconds < math.inf):
        raise ValueError(f"max_seconds must be a positive number of seconds or None, got {max_seconds!r}")
    path = _existing_file(path)
    layout = "mono" if mono else "stereo"
    chunks: list[np.ndarray] = []
    lead, end = 0, None  # samples of silence before the first decoded one; the stream's end, in samples
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError(f"{str(path)!r} has no audio stream")
        stream, video = container.streams.audio[0], next(iter(container.streams.video), None)
        # Decoded to planar float as it is; rate and layout change once at the end (_resample_planar, the same FFmpeg
        # conversion as before), which gives every length its full round(S * rate / source) samples (since 2026-12-08:
        # a stream shorter than the resampler's filter came back empty or short)
        source_rate = stream.rate or sample_rate
        source_layout = stream.layout.name
        resampler = av.AudioResampler(format="fltp", layout=source_layout, rate=source_rate)
        origin = _start_seconds(video) if align_to_video and video is not None else _start_seconds(stream)
        if stream.duration is not None:
            end = round((_start_seconds(stream) + float(stream.duration * stream.time_base) - origin) * sample_rate)
        limit = None if max_seconds is None else math.ceil(max_seconds * sample_rate)
        read, first, last = 0, True, 0
        for frame in container.decode(stream):
            if first and frame.time is not None:
                lead = round((frame.time - origin) * sample_rate)
            first = False
            last = math.ceil(frame.samples * sample_rate / frame.sample_rate)  # the last decoded frame's length
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
                read += chunks[-1].shape[1]
            if limit is not None and lead + read * sample_rate // source_rate >= limit:
                break
    chunks.extend(out.to_ndarray() for out in resampler.resample(None))  # flush buffered samples
    channels = 1 if mono else 2
    waveform = _resample_planar(np.concatenate(chunks, axis=1), source_rate, sample_rate, source_layout, layout) \
        if chunks else np.zeros((channels, 0), np.float32)
    if lead > 0:
        waveform = np.concatenate([np.zeros((channels, lead), np.float32), waveform], axis=1)
    elif lead < 0:
        waveform = waveform[:, -lead:]
    if end is not None and end < waveform.shape[1] - last - 1:
        # A true end cuts into the last frame at most (demuxers drop whole packets past an edit list's end): one before
        # it is FFmpeg's guess from the bitrate for a format without durations (ADTS .aac), 9 % short on a click track.
        end = None
    stop = min(x for x in (end, None if max_seconds is None else limit, waveform.shape[1]) if x is not None)
    waveform = torch.from_numpy(np.ascontiguousarray(waveform[:, :max(stop, 0)], dtype=np.float32))
    return waveform.clamp_(-1.0, 1.0), sample_rate


def _start_seconds(stream) -> float:
    """A stream's first timestamp in seconds (0 when the container gives none)."""
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0


def resample_audio(waveform: torch.Tensor, sample_rate: int, target_rate: int) -> torch.Tensor:
    """``waveform`` (C, S) with C in {1, 2}, or (S,), from ``sample_rate`` to ``target_rate`` Hz with PyAV, as
    :func:`read_audio` resamples; a float32 tensor of the same rank. Taken in the forms the writers take
    (:func:`~ltx_video.io.waveforms.planar_waveform`): integer PCM scaled by its type's full scale (since 2026-12-07;
    int16 came out as floats up to 32767), channels last (S, C) transposed. ``S`` samples come out as
    ``round(S * target_rate / sample_rate)``, for every ``S`` (since 2026-12-08: under a few milliseconds came out empty
    or short, and longer ones a sample off either way)."""
    planar = planar_waveform(waveform, "waveform", video_rows=True)  # each row resampled on its own
    sample_rate, target_rate = sample_rate_value(sample_rate), sample_rate_value(target_rate, "target_rate")
    if planar.ndim == 1:
        return resample_audio(planar[None], sample_rate, target_rate)[0]
    if sample_rate == target_rate:
        return planar
    layout = _LAYOUTS[planar.shape[0]]
    return torch.from_numpy(_resample_planar(planar.numpy(), sample_rate, target_rate, layout, layout))


_FILTER_SIZE = 32  # taps of FFmpeg's resampler per input sample (swresample's filter_size default), more downsampling


def _resample_planar(planar: np.ndarray, sample_rate: int, target_rate: int, layout: str, target_layout: str
                     ) -> np.ndarray:
    """``planar`` float32 ``(C, S)`` in FFmpeg channel ``layout`` from ``sample_rate`` to ``target_rate`` Hz and
    ``target_layout`` with PyAV: float32 ``(C', round(S * target_rate / sample_rate))``. A downmix is the channel
    mean (``rematrix_maxval=1``: no output over full scale; (L + R) / 2, not (L + R) / sqrt(2)).

    FFmpeg's resampler gives nothing until it holds a filter's length of input, and its flush mirrors half a filter
    past the end: a short input came out empty or short (10 samples at 16 kHz: none at 48 kHz instead of 30), a long
    one a sample off either way. So the input is mirrored past its end here (the flush's own mirror, as far as it goes)
    for a whole filter, and the output cut to its length: a long input's samples are those FFmpeg gave, bit for bit.
    """
    length = round(planar.shape[1] * target_rate / sample_rate)
    if sample_rate == target_rate and layout == target_layout:
        return planar
    if length == 0:
        return np.zeros((len(av.AudioLayout(target_layout).channels), 0), np.float32)
    pad = 2 * math.ceil(_FILTER_SIZE / 2 * max(1.0, sample_rate / target_rate))
    padded = np.pad(planar.astype(np.float32, copy=False), ((0, 0), (0, pad)), mode="symmetric")
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(padded), format="fltp", layout=layout)
    frame.sample_rate = sample_rate
    resampler = av.AudioResampler(format="fltp", layout=target_layout, rate=target_rate,
                                  options={"rematrix_maxval": "1.0"})
    chunks = [out.to_ndarray() for out in itertools.chain(resampler.resample(frame), resampler.resample(None))]
    return np.ascontiguousarray(np.concatenate(chunks, axis=1)[:, :length], dtype=np.float32)


def _to_numpy(array: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu()
        if array.dtype == torch.bfloat16 or array.dtype == torch.float16:
            array = array.float()
        return array.numpy()
    return np.asarray(array)
