"""The ``camera`` training stage: a motion encoder trained on a frozen pipeline, saved beside it, loaded back."""

from __future__ import annotations

import pytest
import torch
import yaml
from test_training import DATA, _run, _transformer_config, autoencoders  # noqa: F401 (a fixture)

from ltx_video import Camera
from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline
from ltx_video.training.camera_stage import clip_camera, strip_camera_phrase
from ltx_video.training.data import DataConfig


def test_clip_cameras_are_the_worlds_and_phrases_are_stripped():
    data = DataConfig(camera=None, num_clips=64, height=32, width=32, num_frames=9, fps=12.0)
    cameras = [clip_camera(seed, data) for seed in range(64)]
    assert len({c.motion_type for c in cameras}) == 7  # every motion the world draws
    assert all(0.5 <= c.speed <= 1.5 for c in cameras)
    assert clip_camera(3, DataConfig(camera="zoom_in")).motion_type == "zoom_in"
    assert strip_camera_phrase("a red ball bounces, the camera pans left") == "a red ball bounces"


def test_camera_stage_trains_the_encoder_only(tmp_path, autoencoders):  # noqa: F811
    _run(["--config", str(_transformer_config(tmp_path / "t.yaml", tmp_path / "base", autoencoders, steps=1))])
    base_dir = tmp_path / "base" / "pipeline"
    config = {"stage": "camera", "output_dir": str(tmp_path / "camera"), "steps": 3, "batch_size": 2,
              "learning_rate": 0.05, "warmup_steps": 1, "checkpoint_every": 3, "log_every": 1,
              "data": {**DATA, "camera": None}, "stage_options": {"pipeline": str(base_dir), "hidden": 8}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    _run(["--config", str(tmp_path / "c.yaml")])

    base = LTXAudioVideoPipeline.from_pretrained(base_dir)
    trained = LTXAudioVideoPipeline.from_pretrained(tmp_path / "camera" / "pipeline")
    assert base.camera_encoder is None and trained.camera_encoder is not None
    assert trained.camera_encoder.gate.abs().max() > 0  # trained away from its zero start
    for (name, a), (_, b) in zip(base.transformer.state_dict().items(), trained.transformer.state_dict().items(),
                                 strict=True):
        assert torch.equal(a, b), name  # the transformer stayed frozen
    args = dict(prompt="a red ball bounces", height=32, width=32, num_frames=9, num_inference_steps=2,
                output_type="latent", generate_audio=False)
    for pipe in (base, trained):
        pipe.set_progress_bar_config(disable=True)
    plain = base(**args, generator=torch.Generator().manual_seed(0)).frames
    assert torch.equal(trained(**args, generator=torch.Generator().manual_seed(0)).frames, plain)
    moved = trained(**args, camera=Camera(motion_type="pan_left"), generator=torch.Generator().manual_seed(0)).frames
    assert not torch.allclose(moved, plain, atol=1e-5)
    with pytest.raises(ValueError, match="stage_options.pipeline"):
        bad = {**config, "stage_options": {"pipeline": str(tmp_path / "missing")}}
        (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
        from ltx_video.training.config import load_train_config
        from ltx_video.training.stages import build_stage

        build_stage(load_train_config(tmp_path / "bad.yaml"), None, torch.device("cpu"))
