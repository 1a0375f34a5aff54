"""A long video on disk: closed segments, each written once, joined at the end by remuxing.

Each segment is a playable mp4 (H.264 without B-frames, + AAC) and, beside it, the segment's audio as a
lossless 32-bit float WAV. :func:`assemble_segments` copies the segments' H.264 packets into the final mp4
without re-encoding them (their timestamps shifted to one continuous timeline) and encodes the audio once,
from the WAVs, cut to exactly the video's duration.

Why the audio is not remuxed too: every AAC stream starts with its encoder's priming (1024 samples, 64 ms
at 16 kHz) and ends on a padded frame; joining AAC packets segment by segment would insert both at every
boundary and shift the sound against the picture by up to 128 ms per boundary. Encoding the few hundred
kilobytes of audio once costs milliseconds; re-encoding the video is what remuxing avoids.

Why no B-frames: with them a segment's first decode timestamps precede its first presentation timestamp,
so packets of two segments would overlap in decode order at the join.

Every file is written to a hidden partial name beside its destination and renamed into place when complete,
so a crash leaves either the whole file or none (a long-video run removes the stale partials in its folder when it
resumes: :mod:`ltx_video.pipelines.long_run`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ltx_video.io.media import VideoStreamWriter, _aac_frame, _add_aac_stream, _frame_rate, _muxer_options

__all__ = ["SEGMENT_X264_OPTIONS", "assemble_segments", "atomic_path", "read_wav", "sha256_file", "write_segment"]

SEGMENT_X264_OPTIONS = {"bf": "0"}  # no B-frames: see the module docstring
_AAC_FRAME = 1024


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a partial path beside ``path``; renamed to ``path`` when the block completes, removed if it raises.
    The name is this writer's own (the process id and a random token): two processes, or two threads of one, writing
    one ``path`` never write into, or rename, each other's (since 2026-12-07: named by the process id alone, two
    threads shared one partial file)."""
    path = Path(path)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.partial{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """(C, S) float32 -> 32-bit float WAV (lossless)."""
    layout = {1: "mono", 2: "stereo"}[audio.shape[0]]
    with av.open(str(path), mode="w", format="wav") as container:
        stream = container.add_stream("pcm_f32le", rate=sample_rate)
        stream.layout = layout
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio.T.reshape(1, -1)), format="flt", layout=layout)
        frame.sample_rate = sample_rate
        frame.pts = 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """A WAV written by :func:`write_segment` -> ((C, S) float32, sample rate), samples exactly as written."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        channels, rate = stream.codec_context.channels, stream.codec_context.sample_rate
        parts = [frame.to_ndarray().reshape(-1, channels).T for frame in container.decode(stream)]
    return (np.concatenate(parts, axis=1) if parts else np.zeros((channels, 0), np.float32)), rate


def write_segment(
    path: str | os.PathLike[str],
    frames: np.ndarray,
    fps: float,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> dict:
    """Write one closed segment: ``path`` (.mp4: H.264 + AAC) and, with ``audio``, ``path``'s ``.wav`` beside it.

    frames: (F, H, W, 3) uint8. audio: (C, S) float32 in [-1, 1] at ``sample_rate``.
    Returns the manifest entry: file names, SHA-256 checksums, frame and sample counts.
    """
    path = Path(path)
    frames = np.ascontiguousarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"segment frames must be (F, H, W, 3) uint8, got {frames.dtype} {frames.shape}")
    entry = {"video": path.name, "frames": int(frames.shape[0])}
    if audio is not None:
        wav = path.with_suffix(".wav")
        with atomic_path(wav) as partial:
            _write_wav(partial, audio, sample_rate)
        entry.update(audio=wav.name, samples=int(audio.shape[1]), audio_sha256=sha256_file(wav))
    with atomic_path(path) as partial:
        with VideoStreamWriter(
            partial, fps, frames.shape[2], frames.shape[1], sample_rate if audio is not None else None,
            audio_channels=1 if audio is None else audio.shape[0], x264_options=SEGMENT_X264_OPTIONS,
        ) as writer:
            writer.write_frames(frames)
            if audio is not None:
                writer.write_audio(audio)
    entry["video_sha256"] = sha256_file(path)
    return entry


def _copy_video_packets(source: Path, out: av.container.OutputContainer, stream, first_frame: int, fps: Fraction,
                        extradata: bytes | None) -> int:
    """Mux ``source``'s H.264 packets into ``stream`` from frame ``first_frame`` on; returns the frames copied."""
    with av.open(str(source)) as container:
        video = container.streams.video[0]
        if extradata is not None and video.codec_context.extradata != extradata:
            raise ValueError(
                f"{source.name} was encoded with other H.264 settings than the first segment (its SPS/PPS differ): "
                "segments must come from one run"
            )
        count = 0
        for packet in container.demux(video):
            if packet.size == 0:  # the demuxer's flush packet
                continue
            index = round(packet.pts * video.time_base * fps)
            packet.pts = packet.dts = first_frame + index
            packet.duration = 1
            packet.time_base = 1 / fps
            packet.stream = stream
            out.mux(packet)
            count += 1
    return count


def assemble_segments(
    segments: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    fps: float,
    audio: Sequence[str | os.PathLike[str]] | None = None,
    num_samples: int | None = None,
    on_segment: Callable[[int], None] | None = None,
) -> Path:
    """Join ``segments`` (mp4 files from :func:`write_segment`) into ``output`` without re-encoding the video.

    ``audio``: the segments' WAVs; their samples, concatenated and cut (or zero-padded) to ``num_samples``, are
    encoded once as the output's AAC track. ``on_segment(k)`` is called after segment ``k`` is muxed.
    The output appears only when complete (:func:`atomic_path`).
    """
    segments = [Path(s) for s in segments]
    if not segments:
        raise ValueError("assemble_segments needs at least one segment")
    rate = _frame_rate(fps)
    output = Path(output)
    sample_rate = read_wav(audio[0])[1] if audio is not None else None
    with atomic_path(output) as partial, av.open(str(partial), mode="w",
                                                 options=_muxer_options(output, sample_rate)) as out:
        with av.open(str(segments[0])) as first:
            template = first.streams.video[0]
            extradata = template.codec_context.extradata
            video_stream = out.add_stream_from_template(template)
        audio_stream, pending, written = None, None, 0
        if audio is not None:  # stereo, the mono samples in both channels, as VideoStreamWriter stores mono
            audio_stream = _add_aac_stream(out, sample_rate)
            pending = np.zeros((1, 0), np.float32)
        frames = 0
        for k, segment in enumerate(segments):
            frames += _copy_video_packets(segment, out, video_stream, frames, rate, extradata)
            if audio_stream is not None:
                samples, wav_rate = read_wav(audio[k])
                if wav_rate != sample_rate or samples.shape[0] != 1:
                    raise ValueError(f"{Path(audio[k]).name}: expected mono audio at {sample_rate} Hz")
                budget = num_samples - written - pending.shape[1]
                pending = np.concatenate([pending, samples[:, : max(budget, 0)]], axis=1)
                if k == len(segments) - 1 and num_samples > written + pending.shape[1]:
                    pending = np.pad(pending, ((0, 0), (0, num_samples - written - pending.shape[1])))
                whole = pending.shape[1] // _AAC_FRAME * _AAC_FRAME if k < len(segments) - 1 else pending.shape[1]
                written = _encode_aac(out, audio_stream, pending[:, :whole], written)
                pending = pending[:, whole:]
            if on_segment is not None:
                on_segment(k)
        if audio_stream is not None:
            for packet in audio_stream.encode(None):
                out.mux(packet)
    return output


def _encode_aac(out, stream, samples: np.ndarray, written: int) -> int:
    """Encode (1, S) samples in AAC-frame pieces starting at sample ``written``; returns the new count."""
    for start in range(0, samples.shape[1], _AAC_FRAME):
        piece = samples[:, start : start + _AAC_FRAME]
        for packet in stream.encode(_aac_frame(piece, stream.codec_context.sample_rate, written)):
            out.mux(packet)
        written += piece.shape[1]
    return written
