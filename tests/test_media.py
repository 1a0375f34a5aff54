"""Round trips and error handling of ``ltx_video.io.media`` (PyAV), on small files in tmp_path."""

from __future__ import annotations

import math
import os
from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from PIL import Image

from ltx_video.io.media import (
    VideoStreamWriter,
    read_audio,
    read_image,
    read_video,
    read_video_tensor,
    write_video,
)

HEIGHT, WIDTH = 48, 64
AAC_FRAME = 1024


def smooth_video(num_frames: int, height: int = HEIGHT, width: int = WIDTH) -> torch.Tensor:
    """Moving colour gradients, (F, 3, H, W) float in [0, 1]: easy for H.264, so PSNR is meaningful."""
    y = torch.linspace(0, 1, height)[:, None].expand(height, width)
    x = torch.linspace(0, 1, width)[None, :].expand(height, width)
    frames = []
    for i in range(num_frames):
        red = 0.5 + 0.4 * torch.sin(2 * math.pi * (x + 0.04 * i))
        green = 0.5 + 0.4 * torch.cos(2 * math.pi * (y + 0.05 * i))
        blue = 0.2 + 0.6 * (x + y) / 2
        frames.append(torch.stack([red, green, blue]))
    return torch.stack(frames)


def sine(freq: float, num_samples: int, sample_rate: int, amplitude: float = 0.5) -> torch.Tensor:
    t = torch.arange(num_samples, dtype=torch.float64) / sample_rate
    return (amplitude * torch.sin(2 * math.pi * freq * t)).float()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = ((a - b) ** 2).mean().item()
    return 10 * math.log10(1.0 / mse)


def dominant_frequency(wave: torch.Tensor, sample_rate: int) -> float:
    """Frequency (Hz) of the largest magnitude of the real FFT of a 1-D waveform."""
    spectrum = torch.fft.rfft(wave.double() * torch.hann_window(wave.numel(), dtype=torch.float64)).abs()
    freqs = torch.fft.rfftfreq(wave.numel(), d=1.0 / sample_rate)
    return freqs[spectrum.argmax()].item()


@pytest.mark.parametrize("fps", [24, 25])
def test_video_round_trip(tmp_path, fps):
    frames = smooth_video(fps // 2 + 1)  # 13 frames
    path = write_video(tmp_path / "v.mp4", frames, fps)

    decoded, read_fps = read_video_tensor(path)
    assert decoded.dtype == torch.float32
    assert decoded.shape == frames.shape
    assert read_fps == pytest.approx(fps)
    assert 0.0 <= decoded.min() and decoded.max() <= 1.0
    assert psnr(decoded, frames) >= 30.0

    images = read_video(path, max_frames=5)
    assert len(images) == 5
    assert all(image.mode == "RGB" and image.size == (WIDTH, HEIGHT) for image in images)
    first = torch.from_numpy(np.array(images[0])).permute(2, 0, 1).float() / 255
    assert torch.equal(first, decoded[0])
    assert read_video_tensor(path, max_frames=3)[0].shape[0] == 3


def test_write_accepts_uint8_channels_last_numpy_and_pil(tmp_path):
    frames = smooth_video(9)
    uint8_hwc = (frames.permute(0, 2, 3, 1) * 255).round().to(torch.uint8)
    inputs = {
        "tensor_uint8_hwc": uint8_hwc,
        "numpy_float_chw": frames.numpy(),
        "pil": [Image.fromarray(frame.numpy()) for frame in uint8_hwc],
    }
    for name, value in inputs.items():
        decoded, _ = read_video_tensor(write_video(tmp_path / f"{name}.mp4", value, 25))
        assert decoded.shape == frames.shape, name
        assert psnr(decoded, frames) >= 30.0, name


def test_read_image(tmp_path):
    array = np.arange(12 * 10 * 3, dtype=np.uint8).reshape(12, 10, 3)
    Image.fromarray(array).save(tmp_path / "i.png")
    Image.fromarray(array[..., 0]).save(tmp_path / "gray.png")
    image = read_image(tmp_path / "i.png")
    assert image.mode == "RGB" and image.size == (10, 12)
    assert np.array_equal(np.asarray(image), array)
    gray = read_image(tmp_path / "gray.png")
    assert gray.mode == "RGB" and np.array_equal(np.asarray(gray)[..., 2], array[..., 0])


@pytest.mark.parametrize("fps", [24, 25])
def test_audio_round_trip(tmp_path, fps):
    sample_rate, num_frames = 16000, fps  # one second
    num_samples = num_frames * sample_rate // fps
    wave = sine(440, num_samples, sample_rate)
    path = write_video(tmp_path / "a.mp4", smooth_video(num_frames), fps, audio=wave, sample_rate=sample_rate)

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.rate, stream.channels) == ("aac", sample_rate, 2)  # mono as stereo

    audio, rate = read_audio(path, sample_rate=16000)
    assert rate == 16000 and audio.dtype == torch.float32 and audio.shape[0] == 1
    assert audio.shape[1] == num_samples  # the encoder's priming and padding dropped
    assert audio.abs().max() <= 1.0
    assert dominant_frequency(audio[0], rate) == pytest.approx(440, abs=5)
    rms = audio[0, AAC_FRAME : num_samples - AAC_FRAME].pow(2).mean().sqrt().item()
    assert rms == pytest.approx(0.5 / math.sqrt(2), rel=0.1)

    low, low_rate = read_audio(path, sample_rate=8000)
    assert low_rate == 8000
    assert abs(low.shape[1] - audio.shape[1] / 2) <= 64  # resampler flush keeps (almost) all samples
    assert dominant_frequency(low[0], low_rate) == pytest.approx(440, abs=5)


def test_stereo_audio_mono_mix_and_two_channels(tmp_path):
    sample_rate, fps, num_frames = 16000, 25, 25
    num_samples = sample_rate * num_frames // fps
    stereo = torch.stack([sine(440, num_samples, sample_rate), sine(880, num_samples, sample_rate)])
    path = write_video(tmp_path / "s.mp4", smooth_video(num_frames), fps, audio=stereo, sample_rate=sample_rate)

    both, _ = read_audio(path, mono=False)
    assert both.shape[0] == 2
    assert dominant_frequency(both[0], sample_rate) == pytest.approx(440, abs=5)
    assert dominant_frequency(both[1], sample_rate) == pytest.approx(880, abs=5)

    mono, _ = read_audio(path, mono=True)
    assert mono.shape == (1, both.shape[1])
    torch.testing.assert_close(mono[0], both.mean(0), atol=1e-4, rtol=0)  # mean, not (L + R) / sqrt(2)
    spectrum = torch.fft.rfft(mono[0].double()).abs()
    hz = torch.fft.rfftfreq(mono.shape[1], d=1.0 / sample_rate)
    peaks = hz[spectrum.topk(2).indices].sort().values
    torch.testing.assert_close(peaks, torch.tensor([440.0, 880.0], dtype=peaks.dtype), atol=5, rtol=0)


def test_mono_audio_read_as_stereo_is_duplicated(tmp_path):
    path = tmp_path / "m.m4a"  # a mono AAC track (the writer stores mono as stereo: tests/test_media_forms.py)
    _audio_file(path, sine(440, 16000 * 9 // 25, 16000).numpy(), 16000, "mp4")
    both, _ = read_audio(path, mono=False)
    assert both.shape[0] == 2
    torch.testing.assert_close(both[0], both[1])


def test_odd_size_is_padded_to_even(tmp_path):
    frames = smooth_video(9, height=47, width=63)
    path = write_video(tmp_path / "odd.mp4", frames, 25)

    decoded, _ = read_video_tensor(path)
    assert decoded.shape == (9, 3, 48, 64)  # stored padded to even, not cropped back
    assert psnr(decoded[:, :, :47, :63], frames) >= 30.0
    # the padding repeats the last row / column
    assert psnr(decoded[:, :, 47, :63], frames[:, :, 46]) >= 30.0
    assert psnr(decoded[:, :, :47, 63], frames[:, :, :, 62]) >= 30.0


def test_stream_writer_in_chunks_matches_write_video(tmp_path):
    frames = smooth_video(15)
    sample_rate = 16000
    wave = sine(440, sample_rate * 15 // 25, sample_rate)

    chunked = tmp_path / "chunked.mp4"
    with VideoStreamWriter(chunked, 25, WIDTH, HEIGHT, sample_rate=sample_rate) as writer:
        for frame_chunk, audio_chunk in zip(frames.split(5), wave.tensor_split(3), strict=True):
            writer.write_frames(frame_chunk)
            writer.write_audio(audio_chunk)  # 3200 samples: not a multiple of the AAC frame
    assert writer.frames_written == 15 and writer.samples_written == wave.numel()
    whole = write_video(tmp_path / "whole.mp4", frames, 25, audio=wave, sample_rate=sample_rate)

    chunked_frames, chunked_fps = read_video_tensor(chunked)
    whole_frames, whole_fps = read_video_tensor(whole)
    assert chunked_frames.shape[0] == whole_frames.shape[0] == 15
    assert chunked_fps == whole_fps == 25
    # x264's frame threads may decide differently when frames arrive in bursts: compare quality.
    assert psnr(chunked_frames, frames) >= 30.0 and psnr(whole_frames, frames) >= 30.0
    torch.testing.assert_close(read_audio(chunked)[0], read_audio(whole)[0])


def test_missing_file_names_path(tmp_path):
    missing = tmp_path / "nope.mp4"
    for reader in (read_image, read_video, read_video_tensor, read_audio):
        with pytest.raises(FileNotFoundError, match="nope.mp4"):
            reader(missing)


def test_no_stream_errors(tmp_path):
    silent = write_video(tmp_path / "silent.mp4", smooth_video(9), 25)
    with pytest.raises(ValueError, match="silent.mp4.*no audio stream"):
        read_audio(silent)

    audio_only = tmp_path / "audio_only.m4a"
    with av.open(str(audio_only), mode="w") as container:
        stream = container.add_stream("aac", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(ValueError, match="audio_only.m4a.*no video stream"):
        read_video_tensor(audio_only)


def _late_track(path, delay: float, click: float, rate: int = 16000) -> None:
    """An mp4 whose AAC track starts ``delay`` s after its first frame (as cut clips' do), with a click at ``click`` s
    on the file's time axis: muxed here with PyAV's own timestamps, not the library's writer."""
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=24)
        video.width = video.height = 32
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=rate)
        audio.layout = "mono"
        for i in range(48):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 128, np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            container.mux(video.encode(frame))
        samples = np.zeros((1, round((2 - delay) * rate)), np.float32)
        samples[0, round((click - delay) * rate):][:80] = 0.8
        for start in range(0, samples.shape[1], AAC_FRAME):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, start:start + AAC_FRAME]),
                                               format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, round(delay * rate) + start, Fraction(1, rate)
            container.mux(audio.encode(frame))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))


def test_read_audio_aligns_to_the_video_ends_with_the_stream_and_stops_early(tmp_path):
    """A track starting 0.5 s late was read from its own start (the click 0.44 s early in the pipeline), an AAC
    encoder's padding came back past the stream's end, and a long file was decoded whole for a short video."""
    _late_track(tmp_path / "late.mp4", delay=0.5, click=0.75)
    aligned, rate = read_audio(tmp_path / "late.mp4", align_to_video=True)
    assert abs(aligned[0].abs().argmax().item() / rate - 0.75) < 0.01  # the click where the file's timeline has it
    _late_track(tmp_path / "late44.mp4", delay=0.5, click=0.75, rate=44100)  # at another rate, resampled
    resampled, _ = read_audio(tmp_path / "late44.mp4", align_to_video=True)
    assert abs(resampled[0].abs().argmax().item() / rate - 0.75) < 0.01
    assert aligned.shape[-1] == 2 * rate  # silence before the track, the track to its end: the video's 2 s
    own, _ = read_audio(tmp_path / "late.mp4")
    assert own[0].abs().argmax().item() / rate < 0.5  # from the track's own first sample, as documented
    ours = write_video(tmp_path / "ours.mp4", smooth_video(10), 25, audio=sine(440, 6400, 16000), sample_rate=16000)
    assert read_audio(ours)[0].shape[-1] == 6400  # 0.4 s, not 0.448 with the encoder's last frame's padding
    start, _ = read_audio(tmp_path / "late.mp4", align_to_video=True, max_seconds=0.8)
    assert start.shape[-1] == round(0.8 * rate) and torch.equal(start, aligned[:, :start.shape[-1]])
    with pytest.raises(ValueError, match="max_seconds"):
        read_audio(ours, max_seconds=0)


def _audio_file(path, samples: np.ndarray, rate: int, container_format: str | None = None) -> None:
    """A mono AAC (or the format's own codec) audio-only file, muxed with PyAV as other tools write one."""
    codec = {"adts": "aac", "mp4": "aac", None: "flac"}[container_format]
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        sample_format = stream.codec_context.format.name if stream.codec_context.format else "fltp"
        for start in range(0, len(samples), AAC_FRAME):
            chunk = samples[None, start:start + AAC_FRAME]
            if sample_format.startswith("s16"):
                chunk = (chunk * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format=sample_format, layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _clicks(rate: int, seconds: float, at: tuple[float, ...]) -> np.ndarray:
    samples = np.zeros(round(seconds * rate), np.float32)
    for time in at:
        start = round(time * rate)
        samples[start:start + 64] = 0.8
    return samples


def test_read_audio_reads_a_raw_adts_track_to_its_decoded_end(tmp_path):
    """A 2 s sparse click track as raw ADTS .aac decodes to 2.043 s, but read_audio returned 1.817 s: FFmpeg only
    estimates an ADTS stream's duration from the bitrate, and that estimate cut the end (the click at 1.9 s)."""
    rate, at = 44100, (0.25, 0.75, 1.9)
    _audio_file(tmp_path / "t.aac", _clicks(rate, 2.0, at), rate, "adts")
    with av.open(str(tmp_path / "t.aac")) as container:
        decoded = sum(frame.samples for frame in container.decode(audio=0))
    audio, _ = read_audio(tmp_path / "t.aac", sample_rate=16000)
    assert abs(audio.shape[-1] - decoded * 16000 / rate) <= 2  # 32694 samples (2.043 s), was 29076
    priming = AAC_FRAME / rate  # ADTS cannot say that the encoder's first frame is silence: FFmpeg keeps it
    for time in at:
        window = audio[0, round((time + priming - 0.01) * 16000):round((time + priming + 0.01) * 16000)]
        assert window.abs().max() > 0.3, time
    # A stream whose end the container knows is still cut there: the AAC encoder's padding stays out.
    _audio_file(tmp_path / "t.m4a", _clicks(rate, 2.0, at), rate, "mp4")
    exact, _ = read_audio(tmp_path / "t.m4a", sample_rate=16000)
    assert exact.shape[-1] == 32000
    onset = (exact[0, round(1.8 * 16000):].abs() > 0.3).nonzero()[0].item() / 16000 + 1.8
    assert abs(onset - 1.9) < 0.001
    _audio_file(tmp_path / "t.flac", _clicks(rate, 2.0, at), rate)
    assert read_audio(tmp_path / "t.flac", sample_rate=16000)[0].shape[-1] == 32000


def _write_at_times(path, times_ms) -> None:
    """A 32 x 32 mp4 whose frame ``i`` is flat grey ``8 * i`` shown from ``times_ms[i]`` (a millisecond time base, as
    phones' and screen recorders' files have): muxed with PyAV's own timestamps, not the library's writer."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=30, options={"crf": "0"})
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, time in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 8 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = time, Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _indices(frames: torch.Tensor) -> list[int]:
    """Which written frame each decoded one is (its grey level / 8)."""
    return (frames.mean(dim=(1, 2, 3)) * 255 / 8).round().int().tolist()


def test_a_variable_rate_file_is_read_on_a_constant_timeline(tmp_path):
    """A 30 fps recording at 15 fps for its first 0.4 s was read frame for frame at its average rate, 24 fps: frame i
    at i / 24 s, up to 100 ms from where it was shown (an AV offset of +120 ms on such a file)."""
    times = [round(1000 * t) for t in (*np.arange(6) / 15, *(0.4 + np.arange(18) / 30))]  # 24 frames over 1 s
    _write_at_times(tmp_path / "vfr.mp4", times)
    with pytest.warns(UserWarning, match=r"vfr\.mp4' has a variable frame rate .* constant 30 fps"):
        frames, fps = read_video_tensor(tmp_path / "vfr.mp4")
    assert fps == 30.0
    assert _indices(frames) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, *range(6, 24)]  # each 15 fps frame held twice
    with pytest.warns(UserWarning, match="variable frame rate"):
        first, _ = read_video_tensor(tmp_path / "vfr.mp4", max_frames=10)
    assert torch.equal(first, frames[:10])
    decoded, average = read_video_tensor(tmp_path / "vfr.mp4", constant_rate=False)  # as before: no warning
    assert _indices(decoded) == list(range(24)) and average == pytest.approx(24, abs=0.5)

    dropped = [round(1000 * k / 30) for k in range(30) if k not in (7, 8, 20)]  # a 30 fps clip that lost 3 frames
    _write_at_times(tmp_path / "dropped.mp4", dropped)
    with pytest.warns(UserWarning, match="27 decoded, 30 read"):
        frames, fps = read_video_tensor(tmp_path / "dropped.mp4")
    assert fps == 30.0 and _indices(frames) == [*range(7), 6, 6, *range(7, 18), 17, *range(18, 27)]
    with pytest.raises(ValueError, match="constant_rate must be True or False, got 'yes'"):
        read_video_tensor(tmp_path / "vfr.mp4", constant_rate="yes")

    # Regular first, slower later: a read cut before the change is the whole read's first frames at its rate (the
    # review found the average rate, 20.6 fps, returned for them without a warning: 31 % off in every metric's time)
    slower = [round(1000 * t) for t in (*np.arange(12) / 30, *(0.4 + np.arange(12) / 15))]
    _write_at_times(tmp_path / "slower.mp4", slower)
    with pytest.warns(UserWarning, match="variable frame rate"):
        whole, whole_fps = read_video_tensor(tmp_path / "slower.mp4")
    for cut in (9, 12, 16):
        with pytest.warns(UserWarning, match="variable frame rate"):
            first, first_fps = read_video_tensor(tmp_path / "slower.mp4", max_frames=cut)
        assert first_fps == whole_fps == 30.0 and torch.equal(first, whole[:cut]), cut


def test_constant_rate_files_are_read_frame_for_frame(tmp_path, recwarn):
    """Timestamps rounded to milliseconds (33 and 34 ms apart at 30 fps) and the library's own files are one rate."""
    _write_at_times(tmp_path / "ms.mp4", [round(1000 * k / 30) for k in range(20)])
    frames, fps = read_video_tensor(tmp_path / "ms.mp4")
    assert _indices(frames) == list(range(20)) and fps == pytest.approx(30, rel=0.01)
    ours = write_video(tmp_path / "ours.mp4", smooth_video(13), 24)
    frames, fps = read_video_tensor(ours)
    before, before_fps = read_video_tensor(ours, constant_rate=False)  # the reading of before 2026-12-07
    assert torch.equal(frames, before) and fps == before_fps == 24.0
    assert not [w for w in recwarn if "variable frame rate" in str(w.message)]


def _portrait() -> np.ndarray:
    """(4, 32, 16, 3) uint8: an upright portrait clip of flat grey 8 x 8 blocks, a different level in each of its 8
    places (4 rows, 2 columns), so any turn or mirror of it reads differently."""
    levels = (20 + 30 * np.arange(8, dtype=np.uint8)).reshape(4, 2)
    image = np.kron(levels, np.ones((8, 8), np.uint8))
    return np.repeat(image[None, :, :, None], 3, axis=3).repeat(4, axis=0)


def _write_flagged(path, frames: np.ndarray, degrees: int | None = None, vflip: bool = False) -> None:
    """An mp4 of ``frames`` (F, H, W, 3) as stored, flagged (display matrix) to be shown turned ``degrees``
    counterclockwise and then mirrored top to bottom (``vflip``); ``degrees=None``: no flag."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=24, options={"crf": "0"})
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        if degrees is not None:
            stream.set_display_rotation(degrees, vflip=vflip)
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")))
        container.mux(stream.encode(None))


@pytest.mark.parametrize(
    ("degrees", "vflip", "store"),
    [
        (-90, False, lambda u: np.rot90(u, 1, axes=(1, 2))),  # a phone held upright: shown turned 90 clockwise
        (90, False, lambda u: np.rot90(u, -1, axes=(1, 2))),
        (180, False, lambda u: u[:, ::-1, ::-1]),
        (0, True, lambda u: u[:, ::-1]),
    ],
)
def test_a_rotated_file_is_read_upright(tmp_path, degrees, vflip, store):
    """The same upright portrait clip, once stored upright and once stored turned with a flag that turns it back
    (PyAV's ``frame.rotation``: the display matrix turns the stored frame that many degrees counterclockwise), reads
    the same: before 2026-12-07 the flagged one came back as stored (sideways for a phone's portrait clip)."""
    upright = _portrait()
    _write_flagged(tmp_path / "upright.mp4", upright)
    _write_flagged(tmp_path / "flagged.mp4", store(upright), degrees, vflip)
    with av.open(str(tmp_path / "flagged.mp4")) as container:
        assert next(container.decode(video=0)).rotation % 360 == degrees % 360
    expected, _ = read_video_tensor(tmp_path / "upright.mp4")
    frames, fps = read_video_tensor(tmp_path / "flagged.mp4")
    assert frames.shape == expected.shape == (4, 3, 32, 16) and fps == 24.0
    assert (frames - expected).abs().max() < 0.05  # lossless H.264; 4:2:0 chroma of flat grey blocks
    assert (frames[0, 0, ::8, ::8] * 255 - torch.from_numpy(upright[0, ::8, ::8, 0])).abs().max() < 13
    images = read_video(tmp_path / "flagged.mp4")
    assert images[0].size == (16, 32) and np.abs(np.asarray(images[0], np.int16) - upright[0]).max() < 13
    # An unflagged file reads as PyAV decodes it, bit for bit
    with av.open(str(tmp_path / "upright.mp4")) as container:
        decoded = np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])
    assert torch.equal(expected, torch.from_numpy(decoded).permute(0, 3, 1, 2).float() / 255)


def test_a_turn_off_a_right_angle_is_named_and_not_applied(tmp_path):
    stored = _portrait()
    _write_flagged(tmp_path / "tilted.mp4", stored, 45)
    with pytest.warns(UserWarning, match=r"tilted\.mp4' is flagged to be shown turned 315 degrees clockwise, not a "
                                         r"multiple of 90: its frames are read as stored"):
        frames, _ = read_video_tensor(tmp_path / "tilted.mp4")
    assert frames.shape == (4, 3, 32, 16)


@pytest.mark.parametrize("fps", [0, -24, float("nan")])
def test_bad_fps(tmp_path, fps):
    with pytest.raises(ValueError, match="fps"):
        write_video(tmp_path / "x.mp4", smooth_video(9), fps)
    with pytest.raises(ValueError, match="fps"):
        VideoStreamWriter(tmp_path / "y.mp4", fps, WIDTH, HEIGHT)


def test_bad_write_arguments(tmp_path):
    frames = smooth_video(9)
    with pytest.raises(ValueError, match="sample_rate is required"):
        write_video(tmp_path / "x.mp4", frames, 25, audio=sine(440, 100, 16000))
    with pytest.raises(ValueError, match="frames must not be empty"):
        write_video(tmp_path / "x.mp4", frames[:0], 25)
    with pytest.raises(ValueError, match="frames must not be empty"):
        write_video(tmp_path / "x.mp4", [], 25)
    with pytest.raises(ValueError, match="frames must have 3 channels"):
        write_video(tmp_path / "x.mp4", torch.rand(9, 4, HEIGHT, WIDTH), 25)
    with pytest.raises(ValueError, match="audio must have shape"):
        write_video(tmp_path / "x.mp4", frames, 25, audio=torch.zeros(3, 100), sample_rate=16000)
    with pytest.raises(ValueError, match="max_frames"):
        read_video(tmp_path / "x.mp4", max_frames=0)
    with pytest.raises(ValueError, match="sample_rate"):
        read_audio(tmp_path / "x.mp4", sample_rate=0)

    with VideoStreamWriter(tmp_path / "w.mp4", 25, WIDTH, HEIGHT) as writer:
        with pytest.raises(ValueError, match="frames must be 48x64"):
            writer.write_frames(smooth_video(2, height=32))
        with pytest.raises(ValueError, match="pass sample_rate"):
            writer.write_audio(torch.zeros(100))
        writer.write_frames(frames)
    with pytest.raises(RuntimeError, match="already closed"):
        writer.write_frames(frames)


def test_export_to_video_takes_a_pipeline_output_with_audio(tmp_path):
    from dataclasses import dataclass

    from ltx_video import export_to_video

    @dataclass
    class Output:
        frames: torch.Tensor
        audio: tuple

    frames = torch.rand(2, 24, 3, 32, 48)  # a batch of two 1 s videos at 24 fps
    t = torch.arange(16000) / 16000
    waveform = torch.stack([0.3 * torch.sin(2 * torch.pi * 440 * t), torch.zeros(16000)])
    path = export_to_video(Output(frames, (waveform, 16000)), tmp_path / "av.mp4", fps=24)
    video, fps = read_video_tensor(path)
    audio, rate = read_audio(path, sample_rate=16000)
    assert video.shape == (24, 3, 32, 48) and fps == pytest.approx(24)
    assert rate == 16000 and 16000 <= audio.shape[1] <= 16000 + 2048  # the first video's 1 s track
    spectrum = torch.fft.rfft(audio[0, :16000]).abs()
    assert abs(int(spectrum.argmax()) - 440) <= 2  # 1 Hz bins over 1 s


def _x264_settings(path) -> str:
    """The settings x264 writes into its stream (an SEI text, e.g. "... crf=25.0 ...")."""
    data = open(path, "rb").read()
    start = data.index(b"x264 - core")
    return data[start : data.index(b"\x00", start)].decode("ascii", "replace")


@pytest.fixture(scope="module")
def diffusers_outputs(components):
    """Frames exactly as diffusers' LTXConditionPipeline returns them, for output_type "np", "pil" and "pt"."""
    from diffusers import LTXConditionPipeline

    pipe = LTXConditionPipeline(**components)
    pipe.set_progress_bar_config(disable=True)
    kw = dict(prompt="a ball", height=32, width=64, num_frames=9, num_inference_steps=2)
    return {kind: pipe(**kw, output_type=kind, generator=torch.Generator().manual_seed(0)).frames[0]
            for kind in ("np", "pil", "pt")}


def test_export_to_video_takes_what_diffusers_export_to_video_takes(tmp_path, diffusers_outputs):
    from ltx_video import export_to_video

    reference = torch.from_numpy(np.asarray(diffusers_outputs["np"])).permute(0, 3, 1, 2)  # (F, 3, H, W)
    forms = {
        "np array": diffusers_outputs["np"],
        "list of np arrays": list(diffusers_outputs["np"]),
        "list of PIL images": diffusers_outputs["pil"],
        "tensor": diffusers_outputs["pt"],
        "list of tensors": list(diffusers_outputs["pt"]),
    }
    luma = torch.tensor([0.299, 0.587, 0.114])[:, None, None]
    decoded = {}
    for name, frames in forms.items():
        path = export_to_video(frames, str(tmp_path / f"{name}.mp4"), 24, 10)  # diffusers' positional order
        assert isinstance(path, str) and path.endswith(".mp4")
        decoded[name], fps = read_video_tensor(path)
        assert decoded[name].shape == (9, 3, 32, 64) and fps == pytest.approx(24), name
        # quality=10 is CRF 0; the untrained output is colour noise that 4:2:0 chroma halves, so compare luma.
        assert ((decoded[name] - reference) * luma).sum(1).abs().mean() < 0.01, name
    # Every form, the same video: the fixture's three runs are one pipeline instance's same calls (bit-equal frames).
    assert all(torch.equal(video, decoded["np array"]) for video in decoded.values())
    temporary = export_to_video(diffusers_outputs["pil"])  # output_video_path=None: a temporary .mp4, as diffusers
    try:
        assert temporary.endswith(".mp4") and read_video_tensor(temporary)[0].shape == (9, 3, 32, 64)
    finally:
        os.unlink(temporary)


def test_export_to_video_quality_bitrate_and_macro_block_size(tmp_path):
    from ltx_video import export_to_video

    frames = [np.full((50, 70, 3), 0.5, np.float32)] * 4
    default = export_to_video(frames, tmp_path / "default.mp4")
    assert "crf=25.0" in _x264_settings(default)  # diffusers' quality=5 -> imageio-ffmpeg's -crf int(0.5 * 51)
    assert read_video_tensor(default)[0].shape == (4, 3, 64, 80)  # scaled up to multiples of 16, as diffusers does
    assert "qp=0" in _x264_settings(export_to_video(frames, tmp_path / "best.mp4", quality=10))  # CRF 0: lossless
    assert "crf=23.0" in _x264_settings(export_to_video(frames, tmp_path / "none.mp4", quality=None))
    settings = _x264_settings(export_to_video(frames, tmp_path / "rate.mp4", bitrate=200_000))
    assert "rc=abr" in settings and "bitrate=200" in settings
    kept = export_to_video(frames, tmp_path / "kept.mp4", macro_block_size=None)
    assert read_video_tensor(kept)[0].shape == (4, 3, 50, 70)
    for bad, match in (({"quality": 11}, "quality"), ({"macro_block_size": 0}, "macro_block_size"),
                       ({"bitrate": -1}, "bitrate")):
        with pytest.raises(ValueError, match=match):
            export_to_video(frames, tmp_path / "bad.mp4", **bad)
    with pytest.raises(ValueError, match="one shape"):
        export_to_video([frames[0], frames[0][:10]], tmp_path / "bad.mp4")


def test_rates_aac_cannot_encode_are_refused_before_the_file_is_made(tmp_path):
    """export_to_video(..., audio=x, sample_rate=12345) failed in FFmpeg's encoder with "avcodec_open2("aac", {})
    returned 22", naming no argument. Refused, not resampled: diffusers' export_to_video writes no audio and its
    encode_video fails the same way, so no user counts on a silent conversion, and the file keeps the caller's rate."""
    from ltx_video import export_to_video
    from ltx_video.io.media import AAC_RATES

    assert sorted(AAC_RATES) == sorted(av.Codec("aac", "w").audio_rates)  # what the encoder opens at
    frames = smooth_video(4)
    for rate in (12345, 192000):
        path, refusal = tmp_path / f"r{rate}.mp4", rf"^sample_rate must be .*8000, 11025, .*96000 Hz, got {rate} "
        with pytest.raises(ValueError, match=refusal):
            export_to_video(frames, path, fps=25, audio=np.zeros(rate // 5, np.float32), sample_rate=rate)
        with pytest.raises(ValueError, match=refusal):
            write_video(path, frames, 25, audio=torch.zeros(rate // 5), sample_rate=rate)
        with pytest.raises(ValueError, match=refusal):
            VideoStreamWriter(path, 25, WIDTH, HEIGHT, sample_rate=rate)
        assert not path.exists()
    # Every rate in the table writes and reads back at that rate (7350, the table's last, included).
    path = write_video(tmp_path / "low.mp4", frames, 25, audio=sine(440, 7350 * 4 // 25, 7350), sample_rate=7350)
    with av.open(str(path)) as container:
        assert container.streams.audio[0].rate == 7350
    assert read_audio(path, sample_rate=7350)[0].shape[-1] == 7350 * 4 // 25


def test_writer_pins_the_encoder(tmp_path):
    """The encoder's thread count is fixed whatever the machine: the file depends on it."""
    with VideoStreamWriter(tmp_path / "p.mp4", 24, 384, 256) as writer:  # x264 uses one thread below ~8 MB rows
        writer.write_frames(smooth_video(3, 256, 384))
    settings = _x264_settings(tmp_path / "p.mp4").split()
    assert "threads=4" in settings and "sliced_threads=1" in settings
