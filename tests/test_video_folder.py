"""``ltx_video.data.video_folder.VideoFolderDataset`` on small files written to tmp_path.

Fixture frames carry their index (flat red and blue levels) over a strong horizontal green
gradient, so both the picked frame and the centre crop are checked; the audio track is a 440 Hz
sine with loud 1 kHz marker bursts at known times.
"""

from __future__ import annotations

import gc
import math
import os
import re
import shutil
import signal
import time
import warnings
from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from ltx_video.data import video_folder
from ltx_video.data.video_folder import (
    VideoFolderConfig,
    VideoFolderDataset,
    VideoFolderWarning,
    center_crop_resize,
)
from ltx_video.io.media import AAC_RATES, read_video, read_video_tensor, write_video

SAMPLE_RATE = 16000
HEIGHT, WIDTH = 64, 96  # source frames; the dataset crops them to squares
SIZE = 32
CLIP = 16
AAC_FRAME = 1024
MARKERS = (0.8, 1.9)  # seconds
SINE_HZ, SINE_AMP = 440.0, 0.25


def indexed_frames(num_frames: int) -> torch.Tensor:
    """(F, 3, H, W) in [0, 1]: green is a horizontal gradient; red and blue are flat levels that
    count the frame index in base 8 (red: ``i // 8``, blue: ``i % 8``), in steps of over 20 / 255
    so that H.264's chroma error cannot blur them."""
    x = torch.linspace(0, 1, WIDTH)[None, :].expand(HEIGHT, WIDTH)
    frames = []
    for i in range(num_frames):
        red = torch.full((HEIGHT, WIDTH), 0.1 + 0.8 * (i // 8) / 15)
        blue = torch.full((HEIGHT, WIDTH), 0.1 + 0.8 * (i % 8) / 7)
        frames.append(torch.stack([red, 0.05 + 0.9 * x, blue]))
    return torch.stack(frames)


def frame_indices(video: torch.Tensor) -> list[int]:
    """The frame indices written by :func:`indexed_frames`, read back from ``(F, 3, H, W)`` in [-1, 1]."""
    levels = ((video.double() + 1) / 2).mean(dim=(2, 3))  # (F, 3)
    high = torch.round((levels[:, 0] - 0.1) / 0.8 * 15)
    low = torch.round((levels[:, 2] - 0.1) / 0.8 * 7)
    return (8 * high + low).long().tolist()


def sine_with_markers(duration: float) -> torch.Tensor:
    t = np.arange(round(duration * SAMPLE_RATE)) / SAMPLE_RATE
    wave = SINE_AMP * np.sin(2 * np.pi * SINE_HZ * t)
    for marker in MARKERS:
        lo = round(marker * SAMPLE_RATE)
        burst = t[lo : lo + 320] - t[lo]
        wave[lo : lo + 320] = 0.9 * np.sin(2 * np.pi * 1000 * burst + np.pi / 2)
    return torch.from_numpy(wave.astype(np.float32))


# name -> (fps, frames, audio)
SOURCES = {
    "a_24fps_audio.mp4": (24, 60, True),
    "b_30fps.mp4": (30, 75, False),
    "sub/c_24fps.mkv": (24, 40, False),  # Matroska stores no frame count
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    for name, (fps, num_frames, with_audio) in SOURCES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        audio = sine_with_markers(num_frames / fps) if with_audio else None
        write_video(
            root / name, indexed_frames(num_frames), fps, audio=audio, sample_rate=SAMPLE_RATE if with_audio else None
        )
    write_video(root / "short.mp4", indexed_frames(6), 24)
    (root / "corrupt.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (root / "notes.txt").write_text("not a video")
    return root


def make_dataset(root, **kwargs) -> VideoFolderDataset:
    kwargs = {"num_frames": CLIP, "height": SIZE, "width": SIZE, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VideoFolderWarning)
        return VideoFolderDataset(root, **kwargs)


def expected_clip_count(fps: float | None, stride: int, names=tuple(SOURCES)) -> int:
    total = 0
    for name in names:
        src_fps, num_frames, _ = SOURCES[name]
        available = math.floor(num_frames * (fps or src_fps) / src_fps)
        total += (available - CLIP) // stride + 1 if available >= CLIP else 0
    return total


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10 * math.log10(1.0 / ((a - b) ** 2).mean().item())


def test_indexing_skips_corrupt_and_short_files_with_warnings(folder):
    with pytest.warns(VideoFolderWarning) as record:
        dataset = VideoFolderDataset(folder, num_frames=CLIP, height=SIZE, width=SIZE)
    messages = [str(w.message) for w in record]
    assert any("corrupt.mp4" in m and "unreadable" in m for m in messages), messages
    assert any("short.mp4" in m and "shorter than one clip" in m for m in messages), messages
    assert [f.path.relative_to(folder).as_posix() for f in dataset.files] == sorted(SOURCES)
    assert [f.num_frames for f in dataset.files] == [SOURCES[n][1] for n in sorted(SOURCES)]
    assert [f.has_audio for f in dataset.files] == [SOURCES[n][2] for n in sorted(SOURCES)]
    assert len(dataset) == expected_clip_count(None, CLIP) == 3 + 4 + 2


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({}, tuple(SOURCES)),
        ({"stride": 8}, tuple(SOURCES)),
        ({"fps": 18, "stride": 8}, tuple(SOURCES)),
        ({"recursive": False}, ("a_24fps_audio.mp4", "b_30fps.mp4")),
        ({"extensions": (".MKV",)}, ("sub/c_24fps.mkv",)),
    ],
)
def test_clip_count_follows_durations_and_stride(folder, kwargs, names):
    dataset = make_dataset(folder, **kwargs)
    assert len(dataset) == expected_clip_count(kwargs.get("fps"), kwargs.get("stride", CLIP), names)
    starts = [dataset.clip(i).start_frame for i in range(len(dataset))]
    assert starts[:2] == [0, kwargs.get("stride", CLIP)]


@pytest.mark.parametrize("fps", [None, 18])
def test_frames_are_the_source_frames_at_the_clip_times(folder, fps):
    dataset = make_dataset(folder, fps=fps, stride=8)
    decoded = {f.path: read_video_tensor(f.path)[0] for f in dataset.files}
    for index in range(len(dataset)):
        item = dataset[index]
        clip = dataset.clip(index)
        src_fps, num_frames, _ = SOURCES[clip.file.path.relative_to(folder).as_posix()]
        rate = fps or src_fps
        assert item["fps"] == rate and item["path"] == str(clip.file.path)
        assert item["start_time"] == pytest.approx(clip.start_frame / rate)
        # fps 18 from 24 / 30 fps never ties, so plain rounding is the nearest-time source frame.
        picked = [min(round((clip.start_frame + j) * src_fps / rate), num_frames - 1) for j in range(CLIP)]

        video = item["video"]
        assert video.dtype == torch.float32 and video.shape == (CLIP, 3, SIZE, SIZE)
        assert video.min() >= -1.0 and video.max() <= 1.0
        unit = (video + 1) / 2
        assert frame_indices(video) == picked  # the frame index written into each frame
        # Same frames and resize as decoding the whole file: equal up to float rounding.
        expected = center_crop_resize(decoded[clip.file.path][picked], SIZE, SIZE)
        torch.testing.assert_close(unit, expected, atol=1e-5, rtol=0)
        # And close to the frames that were encoded (the crop keeps the gradient's centre).
        assert psnr(unit, center_crop_resize(indexed_frames(num_frames)[picked], SIZE, SIZE)) >= 28.0


def test_center_crop_resize_keeps_the_centre():
    frames = torch.arange(96.0).expand(2, 3, 64, 96).clone()  # value = column index
    cropped = center_crop_resize(frames, 64, 64)
    assert torch.equal(cropped, frames[..., 16:80])
    tall = center_crop_resize(frames.transpose(-1, -2), 64, 64)
    assert torch.equal(tall, frames.transpose(-1, -2)[..., 16:80, :])
    small = center_crop_resize(frames, 32, 48)  # same aspect: no crop, 2x antialiased downscale
    assert small.shape == (2, 3, 32, 48)
    torch.testing.assert_close(small[0, 0, 0, 1:-1], torch.arange(2.5, 94, 2.0))  # pairs averaged, edges aside


def marker_onset(audio: torch.Tensor) -> int | None:
    loud = (audio.abs() > 0.6).nonzero()
    return int(loud[0]) if loud.numel() else None


@pytest.mark.parametrize(("fps", "sample_rate"), [(None, SAMPLE_RATE), (18, 8000)])
def test_audio_is_the_clip_time_span(folder, fps, sample_rate):
    dataset = make_dataset(folder, fps=fps, stride=8, sample_rate=sample_rate)
    checked = 0
    for index in range(len(dataset)):
        item = dataset[index]
        rate = item["fps"]
        audio = item["audio"]
        assert audio.dtype == torch.float32 and audio.shape == (round(CLIP / rate * sample_rate),)
        if not item["path"].endswith("a_24fps_audio.mp4"):
            assert item["has_audio"] is False and torch.count_nonzero(audio) == 0
            continue
        assert item["has_audio"] is True
        start, end = item["start_time"], item["start_time"] + CLIP / rate
        inside = [m for m in MARKERS if start <= m < end - 0.03]
        onset = marker_onset(audio)
        if not inside:
            assert onset is None or onset >= audio.numel() - AAC_FRAME  # at most a marker's leading edge
            continue
        assert abs(onset - (inside[0] - start) * sample_rate) <= AAC_FRAME * sample_rate / SAMPLE_RATE
        checked += 1
        if sample_rate == SAMPLE_RATE:
            # Away from the marker the clip is the 440 Hz sine with the phase it has at start_time.
            t = start + torch.arange(audio.numel(), dtype=torch.float64) / sample_rate
            sine = SINE_AMP * torch.sin(2 * math.pi * SINE_HZ * t)
            keep = (t < inside[0] - 0.07) | (t > inside[0] + 0.1)
            correlation = torch.nn.functional.cosine_similarity(audio.double()[keep], sine[keep], dim=0)
            assert correlation > 0.98
    assert checked == {None: 4, 18: 3}[fps]  # clips holding a marker (stride 8 overlaps clips)


def test_a_files_first_clip_keeps_its_first_samples(tmp_path):
    # A seek to 0 before decoding lost the AAC decoder's priming trim: the first 448 samples (28 ms) of every file's
    # first clip were silent, cutting a bounce's tone at 15 ms from a synthetic clip (seed 4).
    from ltx_video.io.media import read_audio

    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    write_video(tmp_path / "a.mp4", np.zeros((24, 32, 32, 3), np.uint8), 24, audio=tone, sample_rate=16000)
    item = VideoFolderDataset(tmp_path, num_frames=16, height=32, width=32)[0]
    whole, _ = read_audio(tmp_path / "a.mp4")
    assert torch.equal(item["audio"], whole[0, : item["audio"].numel()])
    assert torch.count_nonzero(item["audio"][:448]) > 400


def test_require_audio_skips_files_without_audio_in_one_warning(folder):
    with pytest.warns(VideoFolderWarning) as record:
        dataset = VideoFolderDataset(folder, num_frames=CLIP, height=SIZE, width=SIZE, require_audio=True)
    no_audio = [str(w.message) for w in record if "without audio" in str(w.message)]
    assert len(no_audio) == 1 and "b_30fps.mp4" in no_audio[0] and "c_24fps.mkv" in no_audio[0]
    assert [f.path.name for f in dataset.files] == ["a_24fps_audio.mp4"]
    assert all(dataset[i]["has_audio"] for i in range(len(dataset)))


def test_unreadable_file_after_indexing_falls_back_to_the_next_clip(folder, tmp_path):
    for name in ("a_24fps_audio.mp4", "b_30fps.mp4"):
        shutil.copy(folder / name, tmp_path / name)
    dataset = make_dataset(tmp_path)
    assert len(dataset) == 3 + 4
    (tmp_path / "a_24fps_audio.mp4").unlink()
    with pytest.warns(VideoFolderWarning) as record:
        items = list(dataset)  # plain iteration: stops at IndexError after the last clip
    assert len(items) == len(dataset)
    assert all(item["path"].endswith("b_30fps.mp4") for item in items)
    assert [i["start_time"] for i in items[:4]] == [0.0] * 4  # items 0-2 fall back to b's first clip
    messages = [str(w.message) for w in record]
    assert len(messages) == 1 and "a_24fps_audio.mp4" in messages[0]  # marked bad once

    (tmp_path / "b_30fps.mp4").write_bytes(b"\x00" * 2048)  # corrupt the last readable file
    with pytest.warns(VideoFolderWarning, match="b_30fps.mp4"), pytest.raises(RuntimeError, match="no clip"):
        dataset[0]


def test_reading_a_late_clip_decodes_only_from_the_keyframe_before_it(tmp_path, monkeypatch):
    path = tmp_path / "gop.mp4"
    frames = (indexed_frames(120).permute(0, 2, 3, 1) * 255).round().to(torch.uint8).numpy()
    with av.open(str(path), mode="w") as container:  # write_video has no GOP option: keyframe every 12 frames
        stream = container.add_stream(
            "libx264", rate=Fraction(24), options={"crf": "18", "g": "12", "keyint_min": "12"}
        )
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    dataset = make_dataset(tmp_path, num_frames=8, stride=8)
    assert len(dataset) == 15

    decoded: list[float] = []
    real_open = video_folder.av.open

    class CountingContainer:
        def __init__(self, container):
            self._container = container

        def __getattr__(self, name):
            return getattr(self._container, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._container.close()

        def decode(self, *args, **kwargs):
            for frame in self._container.decode(*args, **kwargs):
                decoded.append(frame.time)
                yield frame

    monkeypatch.setattr(video_folder.av, "open", lambda *a, **k: CountingContainer(real_open(*a, **k)))
    item = dataset[13]  # frames 104..111; keyframes at 96 and 108
    assert frame_indices(item["video"]) == list(range(104, 112))
    assert 8 <= len(decoded) <= 8 + 12 and min(decoded) >= 95 / 24 - 1e-6  # not the whole file


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("num_frames", 0),
        ("num_frames", 2.0),
        ("num_frames", True),
        ("height", -1),
        ("width", "64"),
        ("fps", 0),
        ("fps", -24.0),
        ("fps", float("nan")),
        ("fps", float("inf")),
        ("fps", "24"),
        ("stride", 0),
        ("sample_rate", 0),
        ("sample_rate", 16000.0),
        ("require_audio", 1),
        ("recursive", "yes"),
        ("extensions", ".mp4"),
        ("extensions", ()),
        ("extensions", ("mp4",)),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(folder, name, value):
    with pytest.raises(ValueError, match=name):
        VideoFolderDataset(folder, **{name: value})
    with pytest.raises(ValueError, match=name):
        VideoFolderConfig(**{name: value})


def test_bad_roots_and_indices(folder, tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(FileNotFoundError, match="missing"):
        VideoFolderDataset(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no video here")
    with pytest.raises(ValueError, match="no usable video"):
        VideoFolderDataset(empty)
    shutil.copy(folder / "corrupt.mp4", empty / "corrupt.mp4")
    with pytest.warns(VideoFolderWarning, match="corrupt.mp4"), pytest.raises(ValueError, match="no usable video"):
        VideoFolderDataset(empty)
    dataset = make_dataset(folder)
    with pytest.raises(IndexError):
        dataset[len(dataset)]
    assert dataset[-1]["start_time"] == dataset.clip(len(dataset) - 1).start_time


def test_linked_folders_and_numpy_numbers(tmp_path):
    # A linked folder of clips was skipped ("no usable video"), a link to a file in the root indexed it twice, and
    # np.int64(16) from a NumPy or pandas config was refused.
    data = tmp_path / "data"
    data.mkdir()
    write_video(data / "a.mp4", np.zeros((20, 32, 32, 3), np.uint8), 24)
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked").symlink_to(data, target_is_directory=True)
    (root / "again.mp4").symlink_to(data / "a.mp4")
    (data / "loop").symlink_to(root, target_is_directory=True)  # a link loop ends
    dataset = VideoFolderDataset(root, num_frames=np.int64(16), height=np.int32(32), width=32, fps=np.float32(24))
    assert len(dataset.files) == 1 and dataset.config.num_frames == 16 and type(dataset.config.num_frames) is int


def test_a_rotated_file_is_read_upright(tmp_path):
    # A phone's portrait clip is stored landscape with a flag (display matrix) to show it turned 90 degrees clockwise;
    # before 2026-12-07 the dataset trained on it as stored, sideways. It now reads as the same clip stored upright.
    upright = (indexed_frames(CLIP).permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)  # (F, 64, 96, 3)
    upright = np.ascontiguousarray(upright.transpose(0, 2, 1, 3))  # a portrait clip: (F, 96, 64, 3)
    for name, stored, degrees in (("upright", upright, None), ("flagged", np.rot90(upright, 1, axes=(1, 2)), -90)):
        (tmp_path / name).mkdir()
        with av.open(str(tmp_path / name / "clip.mp4"), mode="w") as container:
            stream = container.add_stream("libx264", rate=24, options={"crf": "0"})
            stream.height, stream.width = stored.shape[1:3]
            stream.pix_fmt = "yuv420p"
            if degrees is not None:
                stream.set_display_rotation(degrees)  # counterclockwise, as PyAV's frame.rotation reads it back
            for image in stored:
                container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")))
            container.mux(stream.encode(None))
    expected = make_dataset(tmp_path / "upright", height=48, width=32)[0]["video"]
    video = make_dataset(tmp_path / "flagged", height=48, width=32)[0]["video"]
    assert video.shape == expected.shape == (CLIP, 3, 48, 32)
    assert (video - expected).abs().max() < 0.1  # lossless H.264 and the same resize; 4:2:0 chroma
    assert psnr(video, expected) > 40


def test_sample_rates_below_aacs_lowest_are_refused_in_one_line(folder):
    # sample_rate=1 gave no audio at all for a 0.5 s clip and 7 gave 4 samples of silence, without a word.
    lowest = min(AAC_RATES)
    for value in (1, 7, lowest - 1):
        with pytest.raises(ValueError, match=re.escape(f"sample_rate must be an int >= {lowest}, got {value}")):
            VideoFolderDataset(folder, sample_rate=value)
    dataset = make_dataset(folder, sample_rate=lowest)
    item = dataset[0]
    assert item["has_audio"] and item["audio"].shape == (round(CLIP / item["fps"] * lowest),)
    assert item["audio"].abs().max() > SINE_AMP / 2  # the sine, not silence


def _collects_after_fork(seconds: float) -> bool:
    """Whether a forked child frees every object the parent left in reference cycles within ``seconds``."""
    pid = os.fork()
    if pid == 0:  # the child: what a DataLoader worker's garbage collector does at some point
        try:
            gc.collect()
        finally:
            os._exit(0)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) == 0
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return False


@pytest.mark.parametrize("reader", ["dataset", "read_video_tensor", "read_video"])
def test_reading_leaves_nothing_a_forked_child_cannot_free(folder, reader):
    # Each decoded frame kept a threaded RGB converter (swscale) and sat in a reference cycle (its side data) until the
    # garbage collector ran; a child forked before that (DataLoader workers) hung freeing it, waiting for threads it
    # does not have. gc stays off while reading, so the cycles are there at the fork, as they were by chance before.
    path = folder / "a_24fps_audio.mp4"
    read = {"dataset": lambda: make_dataset(folder, num_frames=2)[0], "read_video_tensor": lambda: read_video_tensor(path),
            "read_video": lambda: read_video(path, max_frames=2)}[reader]
    gc.collect()
    gc.disable()
    try:
        read()
        assert _collects_after_fork(20.0), f"a child forked after {reader} hung freeing what it left"
    finally:
        gc.enable()


def test_dataloader_workers_started_after_an_item_was_read(folder):
    # The reported case: look at one item in the main process (a notebook), then a DataLoader with workers; each worker
    # hung at its first garbage collection ("DataLoader timed out"). The workers now collect at once, to meet it surely.
    dataset = make_dataset(folder, num_frames=2)
    gc.disable()
    try:
        first = dataset[0]
    finally:
        gc.enable()
    loader = DataLoader(dataset, batch_size=2, num_workers=2, multiprocessing_context="fork", timeout=20,
                        worker_init_fn=lambda _: gc.collect())
    batch = next(iter(loader))
    assert torch.equal(batch["video"][0], first["video"])  # the same decode of the same clip, in another process
