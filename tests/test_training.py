"""scripts/train.py end to end on tiny models: every stage, two CPU processes (gloo), and --resume."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
import torch
import yaml

from ltx_video import Camera, Keyframe
from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline
from ltx_video.training.camera_stage import clip_camera, strip_camera_phrase
from ltx_video.training.config import load_train_config
from ltx_video.training.data import ClipBank, DataConfig, batch_indices, training_prompt

ROOT = Path(__file__).resolve().parents[1]
TRAIN = [str(ROOT / "scripts" / "train.py")]
DATA = {"source": "synthetic", "num_clips": 8, "height": 32, "width": 32, "num_frames": 9, "fps": 12.0, "max_objects": 1}
TINY_MODELS = {
    "video_vae": {"latent_channels": 8, "block_out_channels": [8, 8], "patch_size": 4},
    "audio_vae": {"latent_channels": 8, "num_heads": 2, "encoder_hidden_channels": 8, "encoder_num_layers": 1,
                  "decoder_hidden_channels": 8, "decoder_num_layers": 1},
    "transformer": {"in_channels": 8, "out_channels": 8, "num_attention_heads": 2, "attention_head_dim": 8,
                    "cross_attention_dim": 16, "num_layers": 2, "caption_channels": 16, "audio_in_channels": 8,
                    "audio_num_attention_heads": 2, "audio_attention_head_dim": 8, "av_cross_attention_layers": [1]},
}


def _write_config(path: Path, stage: str, output_dir: Path, **extra) -> Path:
    config = {"stage": stage, "output_dir": str(output_dir), "steps": 2, "batch_size": 2, "warmup_steps": 1,
              "checkpoint_every": 2, "log_every": 1, "data": DATA, "model": TINY_MODELS[stage], **extra}
    if stage == "video_vae":
        config["stage_options"] = {"crop_frames": 5}
    path.write_text(yaml.safe_dump(config))
    return path


def _train_main(args: list[str]) -> subprocess.CompletedProcess:
    """scripts/train.py's ``main`` in this process, on one thread, its stdout and stderr captured: a subprocess per
    run spent most of its time importing torch and diffusers (about 6 s a run on 2 cores, some 20 runs here).
    accelerate's state is a process-wide singleton that refuses another mixed precision, so each run starts anew,
    as a process of its own would."""
    from accelerate.state import AcceleratorState

    spec = importlib.util.spec_from_file_location("train_script", TRAIN[0])
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out, err, threads = io.StringIO(), io.StringIO(), torch.get_num_threads()
    AcceleratorState._reset_state(reset_partial_state=True)
    torch.set_num_threads(1)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = script.main(args)
            except Exception:  # what the interpreter prints and exits 1 with
                traceback.print_exc()
                code = 1
    finally:
        torch.set_num_threads(threads)
        AcceleratorState._reset_state(reset_partial_state=True)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def _run(args: list[str], launcher: list[str] | None = None) -> subprocess.CompletedProcess:
    """One training run: in this process, or as processes started by ``launcher`` (torchrun)."""
    if launcher is None:
        result = _train_main(args)
    else:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
        result = subprocess.run([*launcher, *TRAIN, *args], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def autoencoders(tmp_path_factory) -> dict[str, Path]:
    """The two autoencoder stages trained for 2 steps each (the transformer stage needs their outputs)."""
    root = tmp_path_factory.mktemp("autoencoders")
    for stage in ("video_vae", "audio_vae"):
        _run(["--config", str(_write_config(root / f"{stage}.yaml", stage, root / stage))])
    return {"video_vae": root / "video_vae" / "video_vae", "audio_vae": root / "audio_vae" / "audio_vae"}


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory, autoencoders) -> Path:
    """A transformer stage trained one step: the pipeline the camera, keyframe and continuation stages start from
    (they read it and write their own folders)."""
    root = tmp_path_factory.mktemp("base")
    _run(["--config", str(_transformer_config(root / "t.yaml", root / "base", autoencoders, steps=1))])
    return root / "base" / "pipeline"


def _transformer_config(path: Path, output_dir: Path, autoencoders: dict[str, Path], steps: int) -> Path:
    options = {"video_vae": str(autoencoders["video_vae"]), "audio_vae": str(autoencoders["audio_vae"]),
               "text_encoder": {"d_model": 16}, "max_sequence_length": 16}
    return _write_config(path, "transformer", output_dir, steps=steps, stage_options=options)


def test_autoencoder_stages_save_models_with_fitted_latent_statistics(autoencoders):
    from diffusers import AutoencoderKLLTXVideo

    from ltx_video.models.audio import AudioAutoencoder

    vae = AutoencoderKLLTXVideo.from_pretrained(autoencoders["video_vae"])
    audio = AudioAutoencoder.from_pretrained(autoencoders["audio_vae"])
    # Fitted, not the identity defaults.
    assert not torch.equal(vae.latents_std, torch.ones_like(vae.latents_std))
    assert not torch.equal(audio.latents_mean, torch.zeros_like(audio.latents_mean))
    summary = json.loads((autoencoders["video_vae"].parent / "summary.json").read_text())
    assert summary["steps"] == 2 and summary["processes"] == 1


def test_two_cpu_processes_train_identical_replicas_and_resume_continues(tmp_path, autoencoders):
    """torchrun starts two gloo processes: both end with the same weights, which moved from the init;
    a run stopped at step 2 and resumed to step 4 ends where an uninterrupted 4-step run ends."""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517"]
    full = _transformer_config(tmp_path / "full.yaml", tmp_path / "full", autoencoders, steps=4)
    printed = _run(["--config", str(full), "--cpu"], launcher).stdout
    # Both processes end inside train (os._exit), rank 0 printing the summary: a process that returned from train
    # would print it again, and could deadlock in gloo's teardown (ltx_video.training.trainer).
    assert printed.count("process(es); outputs in") == 1, printed
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["processes"] == 2
    rank0, rank1 = summary["replica_checksums"]
    assert rank0 == rank1
    assert abs(summary["initial_checksum"][1] - rank0[1]) > 1e-4  # trained: the weights moved

    part = _transformer_config(tmp_path / "part.yaml", tmp_path / "part", autoencoders, steps=4)
    _run(["--config", str(part), "--cpu", "--stop-after", "2"], launcher)
    assert (tmp_path / "part" / "checkpoints" / "step-2" / "step.json").is_file()
    assert not (tmp_path / "part" / "pipeline").exists()  # models are saved when the run completes
    _run(["--config", str(part), "--cpu", "--resume", "latest"], launcher)
    resumed = json.loads((tmp_path / "part" / "summary.json").read_text())
    assert resumed["resumed_from"] == 2
    logged = [json.loads(line)["step"] for line in (tmp_path / "part" / "log.jsonl").read_text().splitlines()]
    assert logged == [1, 2, 3, 4]  # the resumed run logged steps 3 and 4 only
    assert resumed["replica_checksums"][0] == pytest.approx(rank0, rel=1e-9)
    full_log = [json.loads(line) for line in (tmp_path / "full" / "log.jsonl").read_text().splitlines()]
    part_log = [json.loads(line) for line in (tmp_path / "part" / "log.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in part_log] == pytest.approx([r["loss"] for r in full_log], rel=1e-5)
    # The saved pipeline loads and generates.
    from ltx_video import LTXAudioVideoPipeline

    pipe = LTXAudioVideoPipeline.from_pretrained(tmp_path / "part" / "pipeline")
    out = pipe("a red ball bounces", height=32, width=32, num_frames=9, frame_rate=12.0, num_inference_steps=2,
               generator=torch.Generator().manual_seed(0), output_type="pt")
    assert out.frames.shape == (1, 9, 3, 32, 32) and torch.isfinite(out.frames).all()
    assert out.audio[0].shape[-1] == 12000


def test_gradient_checkpointing_and_bf16_autocast(tmp_path, autoencoders):
    config = _transformer_config(tmp_path / "gc.yaml", tmp_path / "gc", autoencoders, steps=2)
    raw = yaml.safe_load(config.read_text())
    config.write_text(yaml.safe_dump({**raw, "gradient_checkpointing": True, "mixed_precision": "bf16"}))
    _run(["--config", str(config)])
    losses = [json.loads(line)["loss"] for line in (tmp_path / "gc" / "log.jsonl").read_text().splitlines()]
    assert len(losses) == 2 and all(0 < loss < 100 for loss in losses)
    plain = _transformer_config(tmp_path / "plain.yaml", tmp_path / "plain", autoencoders, steps=2)
    _run(["--config", str(plain)])
    fp32 = [json.loads(line)["loss"] for line in (tmp_path / "plain" / "log.jsonl").read_text().splitlines()]
    assert fp32[0] != losses[0] and fp32[0] == pytest.approx(losses[0], rel=0.05)  # bf16 autocast ran, same step
    transformer = json.loads((tmp_path / "gc" / "transformer" / "config.json").read_text())
    assert transformer["_class_name"] == "LTXAudioVideoTransformer3DModel"


def test_transformer_stage_fine_tunes_from_a_saved_transformer(tmp_path, autoencoders):
    """``stage_options.init_transformer`` starts from saved weights (the first run's end is the second's
    start, checksum for checksum) and keeps its pipeline's sampling defaults at the clips' size; a folder whose
    config differs is refused, naming the option."""
    from ltx_video.pipelines.generation_defaults import GenerationDefaults

    first = _transformer_config(tmp_path / "a.yaml", tmp_path / "a", autoencoders, steps=2)
    _run(["--config", str(first)])
    scratch = GenerationDefaults.load(tmp_path / "a" / "pipeline")  # from scratch: no base, the plain sampling
    assert (scratch.stg_scale, scratch.audio_modality_scale, scratch.given_audio) == (0.0, 1.0, None)
    # the fine-tune of a pipeline with STG and modality guidance (the built-in model's) saved them without either
    sampling = dict(num_inference_steps=20, guidance_scale=4.0, negative_prompt="blurry", stg_scale=1.5,
                    skip_block_list=(1,), modality_scale=2.0, audio_modality_scale=8.0,
                    given_audio={"modality_scale": 3.0}, prompt_grammar={"max_objects": 1, "cameras": ["static"]})
    GenerationDefaults(height=64, width=64, num_frames=49, frame_rate=24.0, **sampling).save(tmp_path / "a" / "pipeline")
    second = _transformer_config(tmp_path / "b.yaml", tmp_path / "b", autoencoders, steps=1)
    raw = yaml.safe_load(second.read_text())
    raw["stage_options"]["init_transformer"] = str(tmp_path / "a" / "transformer")  # a run's, beside its pipeline/
    second.write_text(yaml.safe_dump(raw))
    _run(["--config", str(second)])
    ended = json.loads((tmp_path / "a" / "summary.json").read_text())["replica_checksums"][0]
    began = json.loads((tmp_path / "b" / "summary.json").read_text())["initial_checksum"]
    assert began == pytest.approx(ended, rel=1e-12)
    assert GenerationDefaults.load(tmp_path / "b" / "pipeline") == GenerationDefaults(
        height=32, width=32, num_frames=9, frame_rate=12.0, **sampling)  # the clips' size, length and rate
    raw["model"] = {**raw["model"], "num_layers": 3}
    raw["output_dir"] = str(tmp_path / "c")  # b holds the run above: a new run never starts over it
    second.write_text(yaml.safe_dump(raw))
    failed = _train_main(["--config", str(second)])
    assert failed.returncode != 0 and "init_transformer" in failed.stderr and "num_layers" in failed.stderr


def test_init_generation_defaults_are_the_init_pipelines(tmp_path):
    """Which pipeline's defaults a fine-tune keeps: a pipeline's transformer/ (the built-in model's), a run's
    transformer/ beside its pipeline/, or none (a lone transformer folder: the plain sampling)."""
    from ltx_video.pipelines.generation_defaults import GenerationDefaults
    from ltx_video.training.checks import init_generation_defaults

    built_in = ROOT / "ltx_video" / "assets" / "default_model"
    carried = init_generation_defaults(built_in / "transformer")
    assert carried == GenerationDefaults.load(built_in) and carried.stg_scale > 0 and carried.audio_modality_scale != 1
    (tmp_path / "alone").mkdir()
    assert init_generation_defaults(tmp_path / "alone") is None and init_generation_defaults(None) is None
    (tmp_path / "model_index.json").write_text("{}")
    (tmp_path / "generation_defaults.json").write_text("{not json")
    with pytest.raises(ValueError, match="generation_defaults.json is not readable JSON"):
        init_generation_defaults(tmp_path / "transformer")


def test_resume_follows_the_new_config_learning_rate(tmp_path):
    from ltx_video.training.trainer import _lr_lambda

    config = _write_config(tmp_path / "vae.yaml", "video_vae", tmp_path / "vae", steps=4, warmup_steps=1)
    _run(["--config", str(config), "--stop-after", "2"])
    _run(["--config", str(config), "--resume", "latest", "--learning-rate", "0.002"])
    logged = {r["step"]: r["lr"] for r in map(json.loads, (tmp_path / "vae" / "log.jsonl").read_text().splitlines())}
    factor = _lr_lambda(load_train_config(config))
    # Step N's line holds the rate of its own update, factor(N - 1): it held the next step's, factor(N).
    assert logged[1] == pytest.approx(3e-4 * factor(0)) and logged[2] == pytest.approx(3e-4 * factor(1))
    assert logged[3] == pytest.approx(2e-3 * factor(2)) and logged[4] == pytest.approx(2e-3 * factor(3))


def test_batches_are_a_pure_function_of_step_and_rank_and_ranks_are_disjoint():
    first = batch_indices(7, 0, 2, 4, 100, seed=3)
    assert first == batch_indices(7, 0, 2, 4, 100, seed=3)
    assert not set(first) & set(batch_indices(7, 1, 2, 4, 100, seed=3))
    assert first != batch_indices(8, 0, 2, 4, 100, seed=3)


def test_static_phrase_dropout_and_bank_layout():
    import random

    rng = random.Random(0)
    prompts = {training_prompt("a red ball bounces, the camera is static", rng, 0.5) for _ in range(50)}
    assert prompts == {"a red ball bounces", "a red ball bounces, the camera is static"}
    assert training_prompt("a red ball bounces, the camera pans left", rng, 1.0).endswith("pans left")
    bank = ClipBank(DataConfig(**{**DATA, "num_clips": 2}), show_progress=False)
    batch = bank.batch([1, 0], step=0, rank=0)
    assert batch["video"].shape == (2, 3, 9, 32, 32) and batch["audio"].shape == (2, 1, 12000)
    from ltx_video.data.synthetic import make_clip

    clip = make_clip(1, height=32, width=32, fps=12.0, duration=0.75, camera="static")
    assert (batch["video"][0].permute(1, 0, 2, 3) - clip.video).abs().max() <= 1 / 127.5  # uint8 storage


def test_folder_source_reads_videos_audio_and_prompt_sidecars(tmp_path):
    from ltx_video.data.synthetic import make_clip
    from ltx_video.io.media import write_video

    for seed in range(2):
        clip = make_clip(seed, height=32, width=32, fps=12.0, duration=1.0)
        write_video(tmp_path / f"clip{seed}.mp4", (clip.video + 1) / 2, 12.0, audio=clip.audio, sample_rate=16000)
        (tmp_path / f"clip{seed}.txt").write_text(clip.prompt + "\n")
    config = DataConfig(source="folder", root=str(tmp_path), num_clips=0, height=32, width=32, num_frames=9, fps=12.0,
                        drop_static_phrase=0.0)
    bank = ClipBank(config, show_progress=False)
    assert len(bank) >= 2
    batch = bank.batch([0], step=0, rank=0)
    assert batch["video"].shape == (1, 3, 9, 32, 32) and batch["audio"].shape == (1, 1, 12000)
    assert batch["prompts"][0] == make_clip(0, height=32, width=32, fps=12.0, duration=1.0).prompt
    assert batch["audio"].abs().max() > 0.05  # the tone bursts came through


@pytest.mark.parametrize(
    "change,message",
    [
        ({"stage": "unet"}, "stage must be one of"),
        ({"steps": 0}, "steps must be an integer >= 1"),
        ({"learning_rate": "fast"}, "learning_rate must be a number"),
        ({"mixed_precision": "fp8"}, "mixed_precision must be one of"),
        ({"colour": "red"}, "unknown key"),
        ({"data": {"max_objects": 4}}, r"data.max_objects must be in \[1, 3\]"),
        ({"data": {"source": "folder"}}, "data.root is required"),
        ({"gradient_checkpointing": "no"}, "gradient_checkpointing must be true or false"),
        ({"warmup_steps": True}, "warmup_steps must be an integer"),
        ({"learning_rate": float("inf")}, "must be finite"),
        ({"seed": "abc"}, "seed must be an integer"),
        ({"output_dir": 5}, "output_dir must be a folder path"),
        ({"model": [1]}, "model must be a mapping"),
        ({"data": [1]}, "data must be a mapping"),
    ],
)
def test_bad_configs_name_the_key(tmp_path, change, message):
    config = {"stage": "video_vae", "output_dir": str(tmp_path), "steps": 1, **change}
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(ValueError, match=message):
        load_train_config(tmp_path / "run.yaml")


def test_yaml_that_is_not_a_mapping_is_named(tmp_path):
    for text, message in (("- 1\n- 2\n", "must hold a mapping of settings"), ("stage: [video_vae\n", "not valid YAML")):
        (tmp_path / "run.yaml").write_text(text)
        with pytest.raises(ValueError, match=message):
            load_train_config(tmp_path / "run.yaml")


def test_script_reports_bad_config_and_missing_checkpoint(tmp_path):
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"stage": "video_vae", "output_dir": str(tmp_path), "steps": -1}))
    bad = _train_main(["--config", str(tmp_path / "bad.yaml")])
    assert bad.returncode == 2 and "steps must be an integer >= 1" in bad.stderr
    # A stage option's typo is named at once, before the clips are rendered; so is a --stop-after below 1.
    typo = {"stage": "video_vae", "output_dir": str(tmp_path / "t"), "steps": 1, "stage_options": {"crop_frame": 9},
            "data": {"num_clips": 100000}}
    (tmp_path / "typo.yaml").write_text(yaml.safe_dump(typo))
    (tmp_path / "model_typo.yaml").write_text(yaml.safe_dump({**typo, "stage_options": {}, "model": {"patch_sz": 4}}))
    for argv, message in ((["--config", str(tmp_path / "typo.yaml")], "unknown key(s) ['crop_frame']"),
                          (["--config", str(tmp_path / "model_typo.yaml")], "model: unknown key(s) ['patch_sz']"),
                          (["--config", str(tmp_path / "bad.yaml"), "--stop-after", "0"], "--stop-after must be")):
        bad = _train_main(argv)
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr
    config = _write_config(tmp_path / "vae.yaml", "video_vae", tmp_path / "vae")
    missing = _train_main(["--config", str(config), "--resume", "latest"])
    assert missing.returncode != 0 and "no checkpoint" in missing.stderr


@pytest.mark.parametrize("stage, options, message", [
    ("video_vae", {"kl_weight": "big"}, "stage_options.kl_weight must be a number >= 0, got 'big'"),
    ("video_vae", {"object_weight": float("nan")}, "stage_options.object_weight must be a number >= 0"),
    ("video_vae", {"crop_frames": 9.0}, "stage_options.crop_frames must be a whole number >= 0"),
    ("video_vae", {"crop_frames": True}, "stage_options.crop_frames must be a whole number >= 0"),
    ("transformer", {"uncond_prob": 1.5}, "stage_options.uncond_prob must be a probability in [0, 1]"),
    ("transformer", {"audio_weight": -1}, "stage_options.audio_weight must be a number >= 0"),
    ("transformer", {"mode_probs": "text_to_video"}, "stage_options.mode_probs must be a mapping"),
    ("transformer", {"t_distribution": 3}, "stage_options.t_distribution must be 'uniform' or 'logit_normal', got 3"),
    ("transformer", {"video_vae": "no/such/folder"}, "stage_options.video_vae must be a folder holding config.json"),
    ("continuation", {"carry_audio": "yes"}, "stage_options.carry_audio must be true or false, got 'yes'"),
    ("keyframes", {"frames": 8}, "stage_options.frames must be a list such as [0, 8, 16, 24, 32, 40, 48]"),
    ("camera", {"phrase_drop": 2.0}, "stage_options.phrase_drop must be a probability in [0, 1]"),
    # 2026-12-07: these failed at the first step (the tokenizer's error), after output_dir was written and the clips
    # rendered (the crops), or named no key (`build_text_encoder() got an unexpected keyword argument`)
    ("transformer", {"max_sequence_length": 0}, "stage_options.max_sequence_length must be a whole number >= 1, got 0"),
    ("transformer", {"text_encoder": {"num_layerz": 2}}, "stage_options.text_encoder: unknown key(s) ['num_layerz']; "
                                                         "accepted: ['d_model', 'num_heads', 'num_layers', 'seed']"),
    ("transformer", {"text_encoder": {"d_model": "16"}}, "stage_options.text_encoder.d_model must be a whole number"),
    ("video_vae", {"crop_frames": 4}, "stage_options.crop_frames must be 4k + 1 (this VAE's temporal compression 4)"),
    ("video_vae", {"crop_size": 8}, "stage_options.crop_size must be a multiple of 16 (this VAE's spatial compression)"),
])
def test_stage_option_values_are_checked_before_rendering(tmp_path, stage, options, message):
    # Each failed at its first use (a YAML typo such as `kl_weight: big` only at step 1, after the clips were
    # rendered); now the check that runs before rendering names the option and what it takes.
    from ltx_video.training.stages import check_stage_options

    (tmp_path / "run.yaml").write_text(yaml.safe_dump({"stage": stage, "output_dir": str(tmp_path / "out"), "steps": 1,
                                                       "stage_options": options}))
    with pytest.raises(ValueError) as error:
        check_stage_options(load_train_config(tmp_path / "run.yaml"))
    assert str(error.value).startswith(message), str(error.value)


# ----------------------------------------------------------------------------- the camera stage
def test_clip_cameras_are_the_worlds_and_phrases_are_stripped():
    data = DataConfig(camera=None, num_clips=64, height=32, width=32, num_frames=9, fps=12.0)
    cameras = [clip_camera(seed, data) for seed in range(64)]
    assert len({c.motion_type for c in cameras}) == 7  # every motion the world draws
    assert all(0.5 <= c.speed <= 1.5 for c in cameras)
    assert clip_camera(3, DataConfig(camera="zoom_in")).motion_type == "zoom_in"
    assert strip_camera_phrase("a red ball bounces, the camera pans left") == "a red ball bounces"
    from types import SimpleNamespace

    from ltx_video.training.camera_stage import CameraStage

    stage = SimpleNamespace(options={"phrase_pace": True}, cameras=[Camera(motion_type="zoom_out", speed=0.6)],
                            config=SimpleNamespace(data=data))
    said = CameraStage._phrase(stage, "a red ball bounces, the camera zooms out", 0)
    assert said == "a red ball bounces, the camera zooms out slowly"  # the clip's pace, under phrase_pace
    stage.options["phrase_pace"] = False
    assert CameraStage._phrase(stage, "a red ball bounces, the camera zooms out", 0).endswith("zooms out")


def _trained_beside_base(base_dir, trained_dir):
    """The base pipeline and the one a control stage saved, both quiet; the stage must have left the
    transformer as it was (same operations on both sides: exact)."""
    base = LTXAudioVideoPipeline.from_pretrained(base_dir)
    trained = LTXAudioVideoPipeline.from_pretrained(trained_dir)
    for (name, a), (_, b) in zip(base.transformer.state_dict().items(), trained.transformer.state_dict().items(),
                                 strict=True):
        assert torch.equal(a, b), name  # the transformer stayed frozen
    for pipe in (base, trained):
        pipe.set_progress_bar_config(disable=True)
    return base, trained


CONTROL_ARGS = dict(prompt="a red ball bounces", height=32, width=32, num_frames=9, num_inference_steps=2,
                    output_type="latent", generate_audio=False)


def test_camera_stage_trains_the_encoder_only(tmp_path, base_dir):
    config = {"stage": "camera", "output_dir": str(tmp_path / "camera"), "steps": 3, "batch_size": 2,
              "learning_rate": 0.05, "warmup_steps": 1, "checkpoint_every": 3, "log_every": 1,
              "data": {**DATA, "camera": ["pan_left", "orbit_right", "dolly_forward"]},
              "stage_options": {"pipeline": str(base_dir), "hidden": 8, "world_positions": True, "warp_context": True,
                                "phrase_when_off": True, "phrase_with_camera": True, "phrase_pace": True,
                                "no_camera_prob": 0.5, "feature_scale": [4, 4, 4, 4, 25, 25],
                                "encoder_lr_scale": 10.0, "phrase_drop": 0.5}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    _run(["--config", str(tmp_path / "c.yaml")])

    base, trained = _trained_beside_base(base_dir, tmp_path / "camera" / "pipeline")
    assert base.camera_encoder is None and trained.camera_encoder is not None
    assert trained.camera_encoder.gate.abs().max() > 0  # trained away from its zero start
    assert trained.camera_encoder.context_gate.abs().max() > 0  # the warped context too
    assert trained.camera_encoder.config.camera_phrase and trained.camera_encoder.config.world_positions
    assert trained.camera_encoder.config.camera_pace and trained.camera_encoder.config.feature_scale[4] == 25
    args = CONTROL_ARGS
    plain = base(**args, generator=torch.Generator().manual_seed(0)).frames
    assert torch.equal(trained(**args, generator=torch.Generator().manual_seed(0)).frames, plain)
    moved = trained(**args, camera=Camera(motion_type="pan_left"), generator=torch.Generator().manual_seed(0)).frames
    assert not torch.allclose(moved, plain, atol=1e-5)
    with pytest.raises(ValueError, match="stage_options.pipeline"):
        bad = {**config, "stage_options": {"pipeline": str(tmp_path / "missing")}}
        (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
        from ltx_video.training.stages import build_stage

        build_stage(load_train_config(tmp_path / "bad.yaml"), None, torch.device("cpu"))


def test_keyframe_stage_trains_the_adapter_only(tmp_path, base_dir):
    config = {"stage": "keyframes", "output_dir": str(tmp_path / "keyframes"), "steps": 4, "batch_size": 2,
              "learning_rate": 0.05, "warmup_steps": 1, "checkpoint_every": 4, "log_every": 1, "data": DATA,
              "stage_options": {"pipeline": str(base_dir), "blocks": [0], "frames": [0, 4, 8], "num_keyframes": 2,
                                "drop_prob": 0.4}}  # some batches without keyframes
    (tmp_path / "k.yaml").write_text(yaml.safe_dump(config))
    _run(["--config", str(tmp_path / "k.yaml")])

    base, trained = _trained_beside_base(base_dir, tmp_path / "keyframes" / "pipeline")
    assert base.keyframe_adapter is None and trained.keyframe_adapter is not None
    assert all(layer.gate.abs().max() > 0 for layer in trained.keyframe_adapter.layers)  # away from zero
    args = CONTROL_ARGS
    plain = base(**args, generator=torch.Generator().manual_seed(0)).frames
    assert torch.equal(trained(**args, generator=torch.Generator().manual_seed(0)).frames, plain)  # no keyframes
    image = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(1))
    keyframes = [Keyframe(image, 0), Keyframe(image.flip(-1), 8)]
    with_base = base(**args, keyframes=keyframes, generator=torch.Generator().manual_seed(0)).frames
    with_adapter = trained(**args, keyframes=keyframes, generator=torch.Generator().manual_seed(0)).frames
    assert not torch.allclose(with_adapter, with_base, atol=1e-5)
    bad = {**config, "stage_options": {"pipeline": str(base_dir), "frames": [0, 9]}}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    from ltx_video.training.stages import build_stage

    with pytest.raises(ValueError, match="stage_options.frames"):
        build_stage(load_train_config(tmp_path / "bad.yaml"), None, torch.device("cpu"))


# ----------------------------------------------------------------------------- the continuation stage
def test_continuation_losses_are_zero_for_the_truth_and_grow_with_a_seam():
    from ltx_video.training.continuation_stage import seam_flow_loss, style_consistency_loss

    torch.manual_seed(0)
    x0 = torch.randn(2, 4, 6, 2, 2)
    assert seam_flow_loss(x0, x0, 2) == 0 and style_consistency_loss(x0, x0) == 0
    jumped = x0.clone()
    jumped[:, :, 2:] += 1.0  # the generated frames jump away from the carried ones
    assert seam_flow_loss(jumped, x0, 2) == pytest.approx(1.0)  # (x + 1) - 2 (x + 1) + x: off by exactly -1
    assert style_consistency_loss(jumped[:, :, 2:], x0[:, :, 2:]) == pytest.approx(1.0)  # means off by 1
    with pytest.raises(ValueError, match="overlap"):
        seam_flow_loss(x0, x0, 5)


def test_continuation_stage_fine_tunes_the_transformer(tmp_path, base_dir):
    config = {"stage": "continuation", "output_dir": str(tmp_path / "cont"), "steps": 2, "batch_size": 2,
              "learning_rate": 0.01, "warmup_steps": 1, "checkpoint_every": 2, "log_every": 1, "data": DATA,
              "stage_options": {"pipeline": str(base_dir), "overlap_latents": 1, "flow_weight": 1.0,
                                "style_weight": 0.5}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    _run(["--config", str(tmp_path / "c.yaml")])
    logged = [json.loads(line) for line in (tmp_path / "cont" / "log.jsonl").read_text().splitlines()]
    assert {"flow", "style", "video", "audio"} <= set(logged[-1]) and logged[-1]["flow"] > 0
    base = LTXAudioVideoPipeline.from_pretrained(base_dir)
    tuned = LTXAudioVideoPipeline.from_pretrained(tmp_path / "cont" / "pipeline")
    changed = [not torch.equal(a, b) for a, b in zip(base.transformer.state_dict().values(),
                                                      tuned.transformer.state_dict().values(), strict=True)]
    assert any(changed)


def test_continuation_stage_carries_the_audio_overlap_as_generate_long_does(tmp_path, base_dir):
    """With ``carry_audio``, the audio tokens of the overlap's time are held at ``min(t, 1 - strength)`` like the
    carried video frames; they are as many as generate_long carries into chunk 1; plain samples carry nothing."""
    import random

    from ltx_video.pipelines.long_video import ChunkLayout
    from ltx_video.training.stages import build_stage

    config = {"stage": "continuation", "output_dir": str(tmp_path / "cont"), "steps": 1, "batch_size": 6,
              "data": DATA, "stage_options": {"pipeline": str(base_dir), "overlap_latents": 1,
                                              "carry_audio": True, "plain_prob": 0.5}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    config = load_train_config(tmp_path / "c.yaml")
    stage = build_stage(config, ClipBank(config.data, show_progress=False), torch.device("cpu"))
    seen = {}

    def velocity_fn(model, text, mask, size):
        def velocity(video_t, video_timestep, audio_t, audio_timestep):
            seen.update(video=video_timestep, audio=audio_timestep)
            return torch.zeros_like(video_t), torch.zeros_like(audio_t)
        return velocity

    stage.velocity_fn = velocity_fn
    generator = torch.Generator().manual_seed(3)
    stage.loss(stage.model, {"indices": list(range(6)), "prompts": ["a red ball bounces"] * 6}, generator, random.Random(1))
    video, audio = seen["video"], seen["audio"]
    t = audio.max(dim=1).values  # the sample's time: its free tokens'
    per_frame = video.shape[1] // stage.video_latents.shape[2]
    held = stage.audio_overlap_tokens()
    # generate_long's chunk 1 of clips this long: the tokens it shares with chunk 0 are the ones carried.
    layout = ChunkLayout(num_frames=4 * DATA["num_frames"], chunk_frames=DATA["num_frames"],
                         overlap_frames=stage.base.vae_temporal_compression_ratio, ratio=stage.base.vae_temporal_compression_ratio)
    token_seconds = stage.audio_vae.config.temporal_factor / stage.audio_vae.config.sample_rate
    _, end0 = layout.audio_tokens(0, DATA["fps"], token_seconds)
    first1, _ = layout.audio_tokens(1, DATA["fps"], token_seconds)
    assert held == end0 - first1 > 0
    carried = [bool((audio[b, :held] < t[b] - 1e-3).any() or (video[b, :per_frame] < t[b] - 1e-3).any())
               for b in range(6)]
    assert 0 < sum(carried) < 6  # plain_prob 0.5: both kinds in the batch (seeded)
    for b in range(6):
        clamp = torch.clamp(t[b], max=200.0) if carried[b] else t[b]
        torch.testing.assert_close(audio[b, :held], clamp.expand(held))
        torch.testing.assert_close(audio[b, held:], t[b].expand(audio.shape[1] - held))
        torch.testing.assert_close(video[b, :per_frame], clamp.expand(per_frame))
        torch.testing.assert_close(video[b, per_frame:], t[b].expand(video.shape[1] - per_frame))

    # The loss counts the generated tokens only: a model exact on them and wrong by 5 on the carried ones scores 0.
    from ltx_video.conditioning.items import pack

    def exact_but_carried(model, text, mask, size):
        def velocity(video_t, video_timestep, audio_t, audio_timestep):
            outputs = []
            for x_t, timestep, x0 in ((video_t, video_timestep, pack(stage.video_latents[:6])),
                                      (audio_t, audio_timestep, stage.audio_latents[:6])):
                sigma = (timestep / 1000.0)[..., None]
                wrong = (timestep < timestep.max(dim=1, keepdim=True).values - 1e-3)[..., None]
                outputs.append((x_t - x0) / sigma + 5.0 * wrong)
            return tuple(outputs)
        return velocity

    stage.velocity_fn = exact_but_carried
    terms = stage.loss(stage.model, {"indices": list(range(6)), "prompts": ["a red ball bounces"] * 6},
                       torch.Generator().manual_seed(3), random.Random(1))
    assert terms["video"] < 1e-8 and terms["audio"] < 1e-8



_GRAMMAR = {"max_objects": 1, "cameras": ["static"]}  # the built-in model's


@pytest.mark.parametrize("stage, options, known", [
    ("continuation", {"overlap_latents": 1}, None),  # trained on captions outside the grammar: any prompt
    ("keyframes", {"frames": [0, 4, 8], "blocks": [0]}, _GRAMMAR),  # a frozen transformer: the base's prompts
    ("camera", {"train_transformer": True, "phrase_with_camera": True},  # trained with the clips' camera phrases
     {"max_objects": 1, "cameras": ["pan_left", "static"], "paces": False}),
])
def test_every_stage_that_saves_a_pipeline_saves_its_defaults_by_one_rule(tmp_path, base_dir, stage, options, known):
    """A continuation fine-tune of the built-in model on one's own clips (17 frames at 12 fps, captions outside its
    grammar) saved the base's defaults unchanged: ``pipe(prompt)`` made 49 frames at 24 fps and warned that its own
    training captions were outside what it was trained on (a None grammar warns about none). Every stage that saves a
    pipeline now saves by one rule: the base's sampling, the clips' size, length and rate, the prompts its transformer
    knows (the camera stage's fine-tune with phrases raised KeyError 'init_transformer' on a base with defaults)."""
    import shutil
    import warnings

    import numpy as np

    from ltx_video import export_to_video
    from ltx_video.pipelines.generation_defaults import GenerationDefaults
    from ltx_video.training.stages import build_stage

    base = tmp_path / "base"
    shutil.copytree(base_dir, base)
    sampling = dict(num_inference_steps=20, guidance_scale=4.0, stg_scale=1.5, skip_block_list=(0,),
                    audio_modality_scale=8.0, given_audio={"modality_scale": 3.0})
    GenerationDefaults(height=64, width=64, num_frames=49, frame_rate=24.0, prompt_grammar=_GRAMMAR, **sampling).save(base)
    clips, captions = tmp_path / "clips", ["a cat walks across the kitchen", "waves roll onto a beach"]
    clips.mkdir()
    for name, value, caption in zip("ab", (40, 160), captions, strict=True):
        export_to_video(np.full((12, 32, 32, 3), value / 255, np.float32), str(clips / f"{name}.mp4"), fps=12)
        (clips / f"{name}.txt").write_text(caption)
    data = ({**DATA, "num_clips": 2, "camera": ["pan_left", "static"]} if stage == "camera"  # synthetic clips only
            else {**DATA, "source": "folder", "root": str(clips), "num_clips": 0})
    raw = {"stage": stage, "output_dir": str(tmp_path / stage), "steps": 1, "batch_size": 1, "data": data,
           "stage_options": {"pipeline": str(base), **options}}
    (tmp_path / f"{stage}.yaml").write_text(yaml.safe_dump(raw))
    config = load_train_config(tmp_path / f"{stage}.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the word tokenizer's notes on these captions
        built = build_stage(config, ClipBank(config.data, show_progress=False), torch.device("cpu"))
    built.save(built.model, tmp_path / stage)
    saved = GenerationDefaults.load(tmp_path / stage / "pipeline")
    assert saved == GenerationDefaults(height=32, width=32, num_frames=9, frame_rate=12.0, prompt_grammar=known,
                                       **sampling)
    built.base.generation_defaults = None  # a base without defaults (a diffusers folder): diffusers' call sampling
    built.save(built.model, tmp_path / "plain")
    plain = GenerationDefaults.load(tmp_path / "plain" / "pipeline")
    assert (plain.num_inference_steps, plain.guidance_scale, plain.stg_scale, plain.num_frames) == (50, 3.0, 0.0, 9)
