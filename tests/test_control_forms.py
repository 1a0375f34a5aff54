"""Keyframes and cameras in the forms users pass them (second round, 2026-12-06): a camera that does not
move, clips given as files or as a batch of one, errors that name `keyframes`, the training-free notice once (tiny
models, temporal scale 8)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from ltx_video import Camera, CameraController, Keyframe, export_to_video
from ltx_video.testing import tiny_pipeline

CALL = dict(height=64, width=64, num_frames=25, num_inference_steps=2, max_sequence_length=16, output_type="pt")


@pytest.fixture(scope="module")
def pipe():
    pipe = tiny_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.mark.parametrize("motion", ["pan_left", "zoom_in", "orbit_right", "dolly_forward"])
def test_a_motion_at_speed_0_draws_the_static_cameras_noise(motion):
    shape = (1, 8, 7, 2, 2)
    noise = {}
    for camera in (Camera(motion_type="static"), Camera(motion_type=motion, speed=0)):
        controller = CameraController(camera, warp_noise=True)
        field = controller.motion_field(7, 64, 64, 8)
        noise[camera.motion_type] = controller.noise(field, shape, generator=torch.Generator().manual_seed(0))
    # every latent frame started from the same noise (correlation 1.0 between frames 0 and 3): a frozen video
    assert torch.equal(noise[motion], noise["static"])
    assert not Camera(motion_type=motion, speed=0).moves and Camera(motion_type=motion, speed=0.5).moves


def test_camera_position_as_text_names_the_field():
    with pytest.raises(ValueError, match="Camera `position` must be three finite numbers, got 'abc'"):
        Camera(position="abc")


def frames_u8(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(count)
    return [(rng.random((64, 64, 3)) * 255).astype(np.uint8) for _ in range(count)]


@pytest.mark.parametrize("count", [3, 5])
def test_a_short_clip_file_is_refused_as_the_same_clip_in_memory(pipe, tmp_path, count):
    path = export_to_video(frames_u8(count), str(tmp_path / "clip.mp4"), fps=24)
    message = f"the clip at frame 8 has {count} frames"
    with pytest.raises(ValueError, match=message):
        pipe("a red ball", keyframes=[Keyframe(frames_u8(count), 8)], **CALL)
    with pytest.raises(ValueError, match=message + r", fewer than 9: .* Give a clip of at least 9 frames, or one "
                                            r"image\.$"):  # was kept as its first frame, silently; then array talk
        pipe("a red ball", keyframes=[Keyframe(path, 8)], **CALL)


def test_a_batch_of_one_clip_is_a_clip_as_video_takes_it(pipe):
    clip = torch.rand(9, 3, 64, 64) * 2 - 1
    as_clip = Keyframe(clip, 8)
    as_batch = Keyframe(clip[None], 8)
    assert as_batch.kind == "video" and as_batch.clip_length() == 9
    a = pipe("a red ball", keyframes=[as_clip], generator=torch.Generator().manual_seed(0), **CALL).frames
    b = pipe("a red ball", keyframes=[as_batch], generator=torch.Generator().manual_seed(0), **CALL).frames
    assert torch.equal(a, b)


def test_keyframe_media_errors_name_keyframes(pipe):
    with pytest.raises(ValueError, match=r"^`keyframes\[frame 0\]`"):
        pipe("a red ball", keyframes=[Keyframe(np.zeros((64, 64, 4), np.uint8), 0)], **CALL)


def test_the_training_free_notice_is_given_once_per_pipeline(caplog):
    pipe = tiny_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        for motion in ("pan_left", "pan_right", "zoom_in"):
            pipe("a red ball", camera=Camera(motion_type=motion, speed=0.5), **{**CALL, "num_inference_steps": 1})
    assert caplog.text.count("has no motion encoder") == 1


def test_cli_keyframe_folder_is_named_a_folder(tmp_path, capsys):
    from ltx_video.cli import main

    (tmp_path / "dir.png").mkdir()
    with pytest.raises(SystemExit) as stop:  # argparse's own exit for a flag's value
        main(["generate", "a red ball bounces", "--keyframe", f"{tmp_path / 'dir.png'}:0",
              "--output", str(tmp_path / "o.mp4")])
    assert stop.value.code == 2 and "is a folder, not an image or video file" in capsys.readouterr().err
