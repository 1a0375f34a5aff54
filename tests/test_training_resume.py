"""What a resume must find as the run left it (2026-12-08): the model folders a run reads. A transformer run stopped
at step 2 resumed without a word after its frozen video VAE was trained further in place (the documented
``--resume latest --steps N`` of the VAE run rewrites ``video_vae/``): steps 3-4 trained on another VAE's latents."""

import json
import os
from pathlib import Path

import torch
import yaml
from test_training import DATA, TINY_MODELS, _train_main

from ltx_video.training import components
from ltx_video.training.checks import check_resume, model_folders
from ltx_video.training.config import load_train_config


def _autoencoders(folder: Path) -> dict[str, str]:
    """Untrained tiny autoencoders saved as the autoencoder stages save them (the transformer stage's inputs)."""
    components.build_video_vae(**TINY_MODELS["video_vae"]).save_pretrained(folder / "video_vae")
    components.build_audio_autoencoder(**TINY_MODELS["audio_vae"]).save_pretrained(folder / "audio_vae")
    return {"video_vae": str(folder / "video_vae"), "audio_vae": str(folder / "audio_vae")}


def _transformer_run(tmp_path: Path, folders: dict[str, str]) -> Path:
    config = {"stage": "transformer", "output_dir": str(tmp_path / "run"), "steps": 2, "batch_size": 1,
              "warmup_steps": 1, "checkpoint_every": 1, "log_every": 1, "data": {**DATA, "num_clips": 2},
              "model": {**TINY_MODELS["transformer"], "num_layers": 1, "av_cross_attention_layers": [0]},
              "stage_options": {**folders, "text_encoder": {"d_model": 16}, "max_sequence_length": 8}}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_resume_after_a_model_folder_changed_is_refused(tmp_path):
    folders = _autoencoders(tmp_path / "models")
    config = _transformer_run(tmp_path, folders)
    stopped = _train_main(["--config", str(config), "--stop-after", "1"])
    assert stopped.returncode == 0, stopped.stderr[-2000:]
    checkpoint = tmp_path / "run" / "checkpoints" / "step-1"
    record = json.loads((checkpoint / "step.json").read_text())
    assert sorted(record["model_folders"]) == ["stage_options.audio_vae", "stage_options.video_vae"]

    vae = Path(folders["video_vae"])
    for path in vae.iterdir():  # the same files with new times (a copy, a restore): the same model
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    check_resume(load_train_config(config), checkpoint)

    retrained = components.build_video_vae(**TINY_MODELS["video_vae"])  # the VAE run extended in place
    with torch.no_grad():
        next(retrained.parameters()).add_(0.01)
    retrained.save_pretrained(vae)
    refused = _train_main(["--config", str(config), "--resume", "latest"])
    said = refused.stderr.strip()
    assert refused.returncode == 2 and said.count("\n") == 0, said
    assert said.startswith(f"train.py: error: --resume: the files of stage_options.video_vae {vae} changed since ")
    assert "(1 changed: diffusion_pytorch_model.safetensors)" in said
    assert "put the files back, or train with the changed folder as a new run (another output_dir, without --resume)" in said
    assert not (tmp_path / "run" / "checkpoints" / "step-2").exists()

    # a checkpoint written before the record existed still resumes (there is nothing to compare with)
    del record["model_folders"]
    (checkpoint / "step.json").write_text(json.dumps(record))
    resumed = _train_main(["--config", str(config), "--resume", "latest"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "model_folders" in json.loads((tmp_path / "run" / "checkpoints" / "step-2" / "step.json").read_text())


def test_a_resume_reads_only_the_model_files_whose_size_or_time_changed(tmp_path):
    # A resume of a large model's run re-reads none of its weights when their sizes and times are the recorded ones.
    folders = _autoencoders(tmp_path / "models")
    config = load_train_config(_transformer_run(tmp_path, folders))
    start = model_folders(config)
    files = start["stage_options.video_vae"]["files"]
    assert set(files) == {"config.json", "diffusion_pytorch_model.safetensors"}
    recorded = json.loads(json.dumps(start))
    recorded["stage_options.video_vae"]["files"]["config.json"][2] = "recorded"
    assert model_folders(config, known=recorded)["stage_options.video_vae"]["files"]["config.json"][2] == "recorded"
    path = Path(folders["video_vae"]) / "config.json"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert model_folders(config, known=recorded)["stage_options.video_vae"]["files"]["config.json"][2] == \
        files["config.json"][2]  # a new time: read, and found the same
