"""Training runs and their folders, third round (2026-12-06): a user's own files in output_dir, a checkpoint from
another folder or a damaged one, stage options refused before any clip is rendered, fp16 on the CPU, and
make_synthetic.py over an existing clip set. Each was reported with a reproduction."""

import dataclasses
import importlib.util
import json
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from test_training_runs import DATA, ROOT, VAE, _config, _train

from ltx_video.training.config import load_train_config
from ltx_video.training.run_folder import check_output_dir
from ltx_video.training.stages import check_stage_options
from ltx_video.training.trainer import resolve_resume


def _checkpoint(folder: Path, step: int, *, damaged: bool = False) -> Path:
    """A checkpoint folder as accelerate's save_state and the trainer leave it (tiny stand-in weights)."""
    path = folder / "checkpoints" / f"step-{step}"
    path.mkdir(parents=True)
    save_file({"w": torch.zeros(4)}, str(path / "model.safetensors"))
    if damaged:  # cut short by a full disk
        data = (path / "model.safetensors").read_bytes()
        (path / "model.safetensors").write_bytes(data[:20])
    (path / "optimizer.bin").write_bytes(b"state")
    (path / "step.json").write_text(json.dumps({"step": step}))
    return path


def test_a_new_run_keeps_a_users_own_files(tmp_path):
    config = load_train_config(_config(tmp_path))
    folder = Path(config.output_dir)
    (folder / "video_vae").mkdir(parents=True)
    (folder / "config.json").write_text('{"my": "settings"}')
    with pytest.raises(ValueError, match=r"holds video_vae, config.json, which a new run would overwrite"):
        check_output_dir(config, resuming=False)  # they were replaced without a word
    (folder / "notes.txt").write_text("mine")  # a file of no name a run writes is no reason to refuse


def test_a_checkpoint_from_another_folder_is_checked_against_its_own_run(tmp_path):
    source = load_train_config(_config(tmp_path, "source"))
    (Path(source.output_dir)).mkdir()
    (Path(source.output_dir) / "config.json").write_text(json.dumps(dataclasses.asdict(source)))
    checkpoint = _checkpoint(Path(source.output_dir), 6)
    moved = dataclasses.replace(source, output_dir=str(tmp_path / "elsewhere"), steps=10)
    check_output_dir(moved, resuming=True, checkpoint=checkpoint)  # a new folder and more steps: the same run
    with pytest.raises(ValueError, match=r"differs from the run's own .*source/config.json\) in batch_size \(2 -> 1\)"):
        check_output_dir(dataclasses.replace(moved, batch_size=1), resuming=True, checkpoint=checkpoint)


def test_a_damaged_checkpoint_is_named_with_the_earlier_ones(tmp_path):
    _checkpoint(tmp_path, 3)
    _checkpoint(tmp_path, 6, damaged=True)
    with pytest.raises(FileNotFoundError, match=r"checkpoint .*step-6 is damaged \(.*\); resume from an earlier one: "
                                                r"step-3"):
        resolve_resume("latest", tmp_path)
    (tmp_path / "checkpoints" / "step-3" / "optimizer.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"step-3 is damaged \(no optimizer.bin\)"):
        resolve_resume(str(tmp_path / "checkpoints" / "step-3"), tmp_path)


def test_stop_after_a_resumed_step_is_refused_before_any_work(tmp_path):
    config = _config(tmp_path)
    loaded = load_train_config(config)
    Path(loaded.output_dir).mkdir()
    (Path(loaded.output_dir) / "config.json").write_text(json.dumps(dataclasses.asdict(loaded)))
    _checkpoint(Path(loaded.output_dir), 3)
    result = _train("--config", str(config), "--resume", "latest", "--stop-after", "2", check=False)
    assert result.returncode == 2 and "--stop-after 2 is not past the resumed step 3" in result.stderr


@pytest.mark.parametrize("stage, options, extra, message", [
    ("transformer", {"t_distribution": "uniformx"}, {}, r"stage_options.t_distribution must be 'uniform' or"),
    ("transformer", {"mode_probs": {"t2av": 1.0}}, {}, r"stage_options.mode_probs must be a mapping of modes"),
    ("video_vae", {"crop_frames": 17}, {}, r"crop_frames must be at most data.num_frames \(9\), got 17"),
    ("audio_vae", {}, {"gradient_checkpointing": True}, r"the audio_vae stage's AudioAutoencoder does not support"),
])
def test_stage_options_are_refused_before_any_clip(tmp_path, stage, options, extra, message):
    model = VAE if stage == "video_vae" else {}
    config = load_train_config(_config(tmp_path, stage=stage, model=model, stage_options=options, **extra))
    with pytest.raises(ValueError, match=message):  # each failed after the clip bank, as a traceback
        check_stage_options(config)


def test_fp16_on_the_cpu_is_said(tmp_path):
    from ltx_video.training.trainer import train

    config = load_train_config(_config(tmp_path, mixed_precision="fp16", steps=1, checkpoint_every=1,
                                       data={**DATA, "num_clips": 2}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(config, cpu=True)
    assert any("mixed_precision fp16 does nothing on the CPU" in str(w.message) for w in caught)


def test_make_synthetic_refuses_to_mix_clip_sets(tmp_path):
    spec = importlib.util.spec_from_file_location("make_synthetic", ROOT / "scripts" / "make_synthetic.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    clips = tmp_path / "clips"
    args = ["--duration", "0.25", "--height", "32", "--width", "32"]
    assert script.main([str(clips), "--num", "3", *args]) == 0
    with pytest.raises(SystemExit):  # the old clip_00002 stayed, without prompt or annotation
        script.main([str(clips), "--num", "2", "--seed", "10", *args])
    (clips / "clip_holiday.mp4").write_bytes(b"a user's own clip")  # not in the set: kept by --overwrite
    assert script.main([str(clips), "--num", "2", "--seed", "10", "--overwrite", *args]) == 0
    assert sorted(p.name for p in clips.glob("*.mp4")) == ["clip_00000.mp4", "clip_00001.mp4", "clip_holiday.mp4"]
    assert len(json.loads((clips / "prompts.json").read_text())) == 2


def test_a_resume_into_another_runs_folder_is_refused(tmp_path):
    source = load_train_config(_config(tmp_path, "source"))
    Path(source.output_dir).mkdir()
    (Path(source.output_dir) / "config.json").write_text(json.dumps(dataclasses.asdict(source)))
    checkpoint = _checkpoint(Path(source.output_dir), 2)
    target = tmp_path / "finished"
    _checkpoint(target, 4)
    (target / "summary.json").write_text("{}")
    into = dataclasses.replace(source, output_dir=str(target))
    with pytest.raises(ValueError, match=r"--resume into output_dir .*finished, which holds another run "
                                         r"\(checkpoints/step-4\)"):  # it was overwritten, logs mixed
        check_output_dir(into, resuming=True, checkpoint=checkpoint)


def test_a_checkpoint_kept_elsewhere_is_checked_against_the_output_folders_run(tmp_path):
    config = load_train_config(_config(tmp_path))
    Path(config.output_dir).mkdir()
    (Path(config.output_dir) / "config.json").write_text(json.dumps(dataclasses.asdict(config)))
    backup = _checkpoint(tmp_path / "backup", 6)  # backup/checkpoints/step-6, no run config beside it
    with pytest.raises(ValueError, match=r"batch_size \(2 -> 1\)"):
        check_output_dir(dataclasses.replace(config, batch_size=1), resuming=True, checkpoint=backup)


def test_a_weights_file_cut_in_its_tensors_is_damaged_and_sharded_layouts_are_not(tmp_path):
    path = _checkpoint(tmp_path, 2)
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[:-4])  # the header whole, the last tensor's bytes short
    with pytest.raises(FileNotFoundError, match=r"model.safetensors is cut short"):
        resolve_resume("latest", tmp_path)
    sharded = tmp_path / "fsdp" / "checkpoints" / "step-2"  # accelerate's FSDP sharded state: folders
    (sharded / "pytorch_model_fsdp_0").mkdir(parents=True)
    (sharded / "optimizer_0").mkdir()
    (sharded / "step.json").write_text('{"step": 2}')
    assert resolve_resume("latest", tmp_path / "fsdp") == sharded
