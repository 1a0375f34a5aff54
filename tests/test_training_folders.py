"""Training runs and their folders, third round (2026-12-06): a user's own files in output_dir, a checkpoint from
another folder or a damaged one, stage options refused before any clip is rendered, fp16 on the CPU, and
make_synthetic.py over an existing clip set. Each was reported with a reproduction."""

import dataclasses
import importlib.util
import json
import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from test_training_runs import DATA, ROOT, VAE, _config, _train, in_process  # noqa: F401 (a fixture)

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
    ("video_vae", {"crop_frames": 17}, {}, r"crop_frames must be .* at most data.num_frames 9, got 17"),
    ("audio_vae", {}, {"gradient_checkpointing": True}, r"the audio_vae stage's AudioAutoencoder does not support"),
])
def test_stage_options_are_refused_before_any_clip(tmp_path, stage, options, extra, message):
    model = VAE if stage == "video_vae" else {}
    config = load_train_config(_config(tmp_path, stage=stage, model=model, stage_options=options, **extra))
    with pytest.raises(ValueError, match=message):  # each failed after the clip bank, as a traceback
        check_stage_options(config)


@pytest.mark.usefixtures("in_process")  # accelerate's state reset: a later in-process train() in fp32 was refused
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


# --------------------------------------------------------- fourth round (2026-12-07): a user's own data folder
def test_rotation_and_resume_see_only_the_runs_own_step_folders(tmp_path):
    # A copy named step-best broke --resume latest (int('best')); a copy named step-2-backup was rotated away.
    from ltx_video.training.trainer import _save_checkpoint, latest_checkpoint

    for step in (2, 4):
        _checkpoint(tmp_path, step)
    for name in ("step-best", "step-2-before-lr-change"):
        copy = tmp_path / "checkpoints" / name
        copy.mkdir()
        (copy / "step.json").write_text(json.dumps({"step": 2}))
    assert latest_checkpoint(tmp_path).name == "step-4"

    class Accelerator:  # what _save_checkpoint uses of accelerate's
        is_main_process = True

        def save_state(self, path):
            Path(path).mkdir(parents=True)

        def wait_for_everyone(self):
            pass

    _save_checkpoint(Accelerator(), tmp_path, 6, keep=2)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "step-2-before-lr-change", "step-4", "step-6", "step-best"]


def _own_clip(path: Path, value: int, frames: int) -> None:
    from ltx_video import export_to_video

    export_to_video(np.full((frames, 32, 32, 3), value / 255, np.float32), str(path), fps=12)


def test_a_capped_folder_says_what_it_leaves_out_and_a_missing_caption_is_said_once(tmp_path):
    from fractions import Fraction

    from ltx_video.data.video_folder import VideoFolderDataset, VideoFolderWarning
    from ltx_video.training.data import ClipBank, DataConfig

    clips = tmp_path / "clips"
    clips.mkdir()
    _own_clip(clips / "a_long_take.mp4", 40, 48)  # 5 clips of 9 frames
    _own_clip(clips / "b_holiday.mp4", 200, 12)  # no caption
    (clips / "a_long_take.txt").write_text("a long take")
    data = DataConfig(source="folder", root=str(clips), num_clips=3, height=32, width=32, num_frames=9, fps=12.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bank = ClipBank(data, show_progress=False)
    messages = [str(w.message) for w in caught]
    assert bank.prompts == ["a long take"] * 3
    assert any("data.num_clips 3: the first 3 of the folder's 6 clips are used; 1 of its 2 files are left out whole"
               in m for m in messages), messages
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bank = ClipBank(dataclasses.replace(data, num_clips=0), show_progress=False)
    said = [str(w.message) for w in caught if "no caption" in str(w.message)]
    assert len(said) == 1 and "b_holiday.mp4" in said[0] and bank.prompts.count("") == 1
    # an empty caption file (a byte-order mark and whitespace) trains as the unconditional prompt too: said (silent)
    (clips / "b_holiday.txt").write_bytes("\ufeff  \r\n".encode())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bank = ClipBank(dataclasses.replace(data, num_clips=0), show_progress=False)
    said = [str(w.message) for w in caught if "caption" in str(w.message)]
    assert len(said) == 1 and "1 of the files have an empty caption" in said[0] and "b_holiday.mp4" in said[0]
    assert bank.prompts.count("") == 1
    # GIFs and image sequences beside them were left out in silence
    (clips / "c.gif").write_bytes(b"GIF89a")
    (clips / "frames").mkdir()
    for index in range(3):
        (clips / "frames" / f"{index:05d}.png").write_bytes(b"")
    with pytest.warns(UserWarning, match=r"1 \.gif, 3 \.png file\(s\) are not read") as caught:
        ClipBank(dataclasses.replace(data, num_clips=0), show_progress=False)
    assert sum("are not read" in str(w.message) for w in caught) == 1
    for path in (clips / "c.gif", *(clips / "frames").iterdir()):
        path.unlink()
    # A Fraction frame rate (VideoFolderConfig takes one) with a file too short: skipped with the usual warning
    # (the message's :g format raised TypeError on a Fraction).
    _own_clip(clips / "c_short.mp4", 90, 5)
    with pytest.warns(VideoFolderWarning, match=r"c_short.mp4.*frames at 11.988 fps is shorter"):
        VideoFolderDataset(clips, num_frames=9, height=32, width=32, fps=Fraction(12000, 1001))


def test_shapes_that_need_only_configs_are_refused_before_any_clip(tmp_path, monkeypatch):
    # model.in_channels against the VAE's latent channels, and data.height against its compression, were refused
    # only after every clip of the folder was decoded.
    from diffusers import AutoencoderKLLTXVideo

    from ltx_video.models.audio import AudioAutoencoder
    from ltx_video.training import data as training_data
    from ltx_video.training.components import build_video_vae

    build_video_vae(**VAE).save_pretrained(tmp_path / "vae")
    AudioAutoencoder(latent_channels=8).save_pretrained(tmp_path / "audio_vae")
    assert AutoencoderKLLTXVideo.load_config(tmp_path / "vae")["latent_channels"] == 8

    def never(*args, **kwargs):
        raise AssertionError("a clip was read")

    monkeypatch.setattr(training_data, "synthetic_clip", never)
    options = {"video_vae": str(tmp_path / "vae"), "audio_vae": str(tmp_path / "audio_vae")}
    model = {"in_channels": 16, "out_channels": 16, "num_layers": 1, "audio_in_channels": 8}
    for name, data, message in (
        ("channels", DATA, r"model.in_channels / audio_in_channels must equal the autoencoders' latent channels \(8, 8\)"),
        ("size", {**DATA, "height": 20}, r"data.height and data.width must be multiples of 8 .*got (20 x 32|32 x 20)"),
    ):
        config = load_train_config(_config(tmp_path, name, stage="transformer", model=model if name == "channels" else {
            "in_channels": 8, "out_channels": 8, "audio_in_channels": 8}, data=data, stage_options=options))
        with pytest.raises(ValueError, match=message):
            check_stage_options(config)
    config = load_train_config(_config(tmp_path, "vae_size", data={**DATA, "width": 20}))
    with pytest.raises(ValueError, match=r"data.height and data.width must be multiples of 8 .*got (20 x 32|32 x 20)"):
        check_stage_options(config)


def test_make_synthetic_after_a_stopped_run(tmp_path, capsys):
    # prompts.json was written only at the end: a run stopped part-way left clips no JSON listed, which --overwrite
    # then kept beside the new set; a listed sub-folder and an out_dir that is a file raised tracebacks.
    spec = importlib.util.spec_from_file_location("make_synthetic", ROOT / "scripts" / "make_synthetic.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    clips = tmp_path / "clips"
    args = ["--duration", "0.25", "--height", "32", "--width", "32"]
    written = []
    original = script.write_video

    def stop_after_two(path, *a, **k):
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(path)
        return original(path, *a, **k)

    script.write_video = stop_after_two
    with pytest.raises(KeyboardInterrupt):
        script.main([str(clips), "--num", "4", *args])
    script.write_video = original
    assert sorted(json.loads((clips / "prompts.json").read_text())) == ["clip_00000.mp4", "clip_00001.mp4"]
    (clips / "clip_00005.mp4").mkdir()  # a folder the JSON names is no clip of the set
    (clips / "prompts.json").write_text(json.dumps({**json.loads((clips / "prompts.json").read_text()),
                                                    "clip_00005.mp4": "x"}))
    assert script.main([str(clips), "--num", "1", "--overwrite", *args]) == 0
    assert sorted(p.name for p in clips.iterdir()) == ["annotations.json", "clip_00000.mp4", "clip_00000.txt",
                                                       "clip_00005.mp4", "prompts.json"]  # the stopped run's captions go
    (tmp_path / "file").write_text("mine")
    with pytest.raises(SystemExit):
        script.main([str(tmp_path / "file"), "--num", "1", *args])
    assert "is a file: give a folder" in capsys.readouterr().err


def test_the_worlds_ground_truth_ends_with_its_frames_and_orbits_are_not_scored_as_pans():
    from ltx_video import metrics
    from ltx_video.data.prompts import PromptGrammar, parse_prompt
    from ltx_video.data.synthetic import render_clip, sample_params

    # duration 2.01 s at 24 fps is 48 frames (2.000 s of frames and sound): a bounce at 2.005 s had no tone
    params = sample_params(16, duration=2.01, fps=24)
    assert params.num_frames == 48 and max(b.time for b in render_clip(16, params).bounces) < 2.0
    clip = render_clip(0, sample_params(0, camera="orbit_left", duration=1.0))
    assert math.isnan(metrics.camera_adherence(clip.video, clip.prompt))  # read as a pan: 0 before
    with pytest.raises(ValueError, match="the camera phrase must come once, at the end"):
        parse_prompt("a red ball bounces,the camera is static")  # "unknown verb 'static'" before
    with pytest.raises(ValueError, match=r"ends in punctuation \('\.'\)"):
        parse_prompt("a red ball bounces.")
    assert "one colour twice" in PromptGrammar(max_objects=3).check("a red ball and a red square bounce")


# ----------------------------------------------------------------------------- fourth round (2026-12-07)
def test_the_lazy_training_package_still_gives_its_names_and_parts():
    # imported when used since 2026-12-07: its parts (ltx_video.training.trainer ...) and dir() were lost at first
    import ltx_video.training as training

    assert {"TrainConfig", "train", "trainer", "config", "stages"} <= set(dir(training))
    assert training.trainer.train is training.train and training.config.TrainConfig is training.TrainConfig
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        getattr(training, "nope")  # noqa: B009 (the attribute access under test)


def test_config_and_resume_mistakes_are_answered_before_the_model_code_is_imported(tmp_path):
    """train.py's refusals of a config or a --resume came after diffusers and transformers were imported (the
    package imported the trainer): 11 s on a quiet 2-core machine, 18 s on a busy one; now torch only."""
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("stage: transformer\n")
    good = tmp_path / "good.yaml"
    good.write_text(f"stage: transformer\nsteps: 4\noutput_dir: {tmp_path / 'run'}\n")
    probe = ("import runpy, sys\nsys.argv = ['train.py', *sys.argv[1:]]\n"
             "try:\n    runpy.run_path(sys.argv[0].replace('train.py', {script!r}), run_name='__main__')\n"
             "except SystemExit as stop:\n    code = stop.code\n"
             "print('RESULT', code, sorted(m for m in ('diffusers', 'transformers', 'accelerate') if m in sys.modules))")
    script = str(ROOT / "scripts" / "train.py")
    for argv, needle in (([f"--config={bad}"], "missing required key(s) ['output_dir', 'steps']"),
                         ([f"--config={good}", "--resume=latest"], "--resume latest: no checkpoint in")):
        done = subprocess.run([sys.executable, "-c", probe.format(script=script), *argv], capture_output=True,
                              text=True, timeout=300, cwd=ROOT)
        assert needle in done.stderr, done.stderr
        assert done.stdout.strip().splitlines()[-1] == "RESULT 2 []", done.stdout


def test_a_resume_with_fewer_steps_than_its_checkpoint_is_refused_before_any_work(tmp_path, capsys):
    # `--resume latest --steps 2` on a step-3 checkpoint loaded the clips and models, trained nothing, and rewrote
    # config.json (steps 2), summary.json ("steps 3..2 of 2") and the final models; exit status 0.
    from test_training_runs import _main

    config = _config(tmp_path)
    loaded = load_train_config(config)
    Path(loaded.output_dir).mkdir()
    stored = json.dumps(dataclasses.asdict(loaded))
    (Path(loaded.output_dir) / "config.json").write_text(stored)
    _checkpoint(Path(loaded.output_dir), 3)
    assert _main("--config", config, "--resume", "latest", "--steps", "2") == 2
    said = capsys.readouterr().err
    assert "steps 2 (--steps or the config's) is below the step of the checkpoint resumed" in said
    assert "--steps above 3 extends the run" in said
    assert (Path(loaded.output_dir) / "config.json").read_text() == stored


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory) -> Path:
    """A saved LTXAudioVideoPipeline of untrained tiny models (the fine-tuning stages' base), built in seconds."""
    from ltx_video.models.audio import AudioAutoencoder
    from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline
    from ltx_video.training import components

    folder = tmp_path_factory.mktemp("base") / "pipeline"
    tokenizer = components.word_tokenizer()
    LTXAudioVideoPipeline(
        scheduler=components.build_scheduler(), vae=components.build_video_vae(**VAE), tokenizer=tokenizer,
        text_encoder=components.build_text_encoder(len(tokenizer), d_model=16),
        audio_vae=AudioAutoencoder(latent_channels=8, num_heads=2, encoder_hidden_channels=8, encoder_num_layers=1,
                                   decoder_hidden_channels=8, decoder_num_layers=1),
        transformer=components.build_transformer(
            in_channels=8, out_channels=8, num_attention_heads=2, attention_head_dim=8, cross_attention_dim=16,
            num_layers=1, caption_channels=16, audio_in_channels=8, audio_num_attention_heads=2,
            audio_attention_head_dim=8, av_cross_attention_layers=[0]),
    ).save_pretrained(folder)
    return folder


def test_config_mistakes_of_the_fine_tunes_are_refused_before_any_clip(tmp_path, tiny_pipeline, monkeypatch, capsys):
    # Each was raised inside train() after the clips were read (most after the pipeline loaded and the bank was
    # encoded): a traceback with exit status 1, not `train.py: error:` with 2.
    from test_training_runs import _main

    from ltx_video.training import data as training_data

    def never(*args, **kwargs):
        raise AssertionError("a clip was read")

    monkeypatch.setattr(training_data, "synthetic_clip", never)
    clips = tmp_path / "clips"
    clips.mkdir()
    _own_clip(clips / "a.mp4", 40, 12)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.mp4").write_bytes(b"not a video")
    pipe = {"pipeline": str(tiny_pipeline)}
    folder = {**DATA, "source": "folder", "root": str(clips), "num_clips": 0}
    for name, extra, message in (
        ("camera", {"stage": "camera", "data": folder, "stage_options": pipe},
         r"data.source must be 'synthetic' for the camera stage .*got 'folder'"),
        ("keyframes", {"stage": "keyframes", "stage_options": pipe},  # the default frames are for 49-frame clips
         r"stage_options.frames must be a list of frames in \[0, 8\] \(data.num_frames 9; the default suits 49-frame "
         r"clips\), got \(0, 8, 16"),
        ("continuation", {"stage": "continuation", "stage_options": {**pipe, "overlap_latents": 4}},
         r"stage_options.overlap_latents must be in \[1, 3\] for 5-latent-frame clips .*got 4"),
        ("init", {"stage": "transformer", "model": {"num_layers": 2},
                  "stage_options": {"init_transformer": str(tiny_pipeline / "transformer")}},
         r"init_transformer: its config differs from `model` in \[.*'num_layers'"),
        ("camera_gc", {"stage": "camera", "gradient_checkpointing": True, "stage_options": pipe},
         r"gradient_checkpointing: the camera stage's CameraMotionEncoder does not support it \(accepted: false\)"),
        ("blocks", {"stage": "keyframes", "stage_options": {**pipe, "frames": [0, 4, 8]}},  # blocks (0, 1, 2)
         r"stage_options.blocks must be transformer blocks in \[0, 0\] \(the pipeline's transformer has 1\)"),
        ("heads", {"stage": "keyframes", "stage_options": {**pipe, "frames": [0, 4, 8], "blocks": [0], "heads": 3}},
         r"stage_options.heads must divide the transformer's width 16, got 3"),  # ValueError inside train()
        ("heads0", {"stage": "keyframes", "stage_options": {**pipe, "heads": 0}},  # ZeroDivisionError inside train()
         r"stage_options.heads must be a whole number >= 1, got 0"),
        ("features0", {"stage": "keyframes", "stage_options": {**pipe, "spatial_features": 0}},
         r"stage_options.spatial_features must be a whole number >= 1, got 0"),
        ("hidden0", {"stage": "camera", "stage_options": {**pipe, "hidden": 0}},
         r"stage_options.hidden must be a whole number >= 1, got 0"),
        ("keyframes_gc", {"stage": "keyframes", "gradient_checkpointing": True,
                          "stage_options": {**pipe, "frames": [0, 4, 8]}},
         r"gradient_checkpointing: the keyframes stage's KeyframeAdapter does not support it"),
        ("unreadable", {"data": {**folder, "root": str(tmp_path / "bad")}},
         r"data.root .*bad: none of its 1 video file\(s\) can be read as a clip of data.num_frames 9"),
    ):
        config = _config(tmp_path, name, **{"model": {}, **extra})
        with pytest.raises(ValueError, match=message):
            check_stage_options(load_train_config(config))
    assert _main("--config", config) == 2 and "none of its 1 video file(s) can be read" in capsys.readouterr().err
    assert not (tmp_path / "unreadable").exists()


def test_a_fine_tune_must_keep_its_base_pipelines_text_encoder(tmp_path, tiny_pipeline):
    # A text_encoder option other than the init pipeline's (d_model, or only the seed) trained the base transformer
    # on another frozen T5's embeddings, and saved that T5 in the fine-tune's pipeline, in silence.
    from ltx_video.training import checks

    model = json.loads((tiny_pipeline / "transformer" / "config.json").read_text())
    model = {k: v for k, v in model.items() if not k.startswith("_")}
    init = {"init_transformer": str(tiny_pipeline / "transformer")}
    for text_encoder, message in (({"d_model": 16, "seed": 1}, r"with: its weights \(another seed\)"),
                                  ({"d_model": 32}, r"with: d_model 32 \(its: 16\), d_kv 16 \(its: 8\)")):
        config = load_train_config(_config(tmp_path, "ft", stage="transformer", model=model,
                                           stage_options={**init, "text_encoder": text_encoder}))
        with pytest.raises(ValueError, match=r"^stage_options.text_encoder \{.*\} builds another T5 than the one the "
                                             rf"init_transformer's pipeline {tiny_pipeline} was trained " + message):
            check_stage_options(config)
    state = torch.random.get_rng_state()
    checks.check_init_text_encoder({**init, "text_encoder": {"d_model": 16}})  # the base's own: accepted
    assert torch.equal(torch.random.get_rng_state(), state)  # and the caller's random stream is left as it was
    # the base's own saved in bfloat16: compared in its dtype (a float32-to-bfloat16 compare was a RuntimeError)
    import shutil

    from transformers import T5EncoderModel

    copy = shutil.copytree(tiny_pipeline, tmp_path / "bf16" / "pipeline")  # the module's pipeline stays float32
    T5EncoderModel.from_pretrained(copy / "text_encoder").to(torch.bfloat16).save_pretrained(copy / "text_encoder")
    init = {"init_transformer": str(copy / "transformer")}
    checks.check_init_text_encoder({**init, "text_encoder": {"d_model": 16}})
    with pytest.raises(ValueError, match=r"with: its weights \(another seed\)"):
        checks.check_init_text_encoder({**init, "text_encoder": {"d_model": 16, "seed": 1}})


def test_a_matching_base_text_encoder_is_read_once(tmp_path, tiny_pipeline, monkeypatch):
    # scripts/train.py checks the options, then train() checks them again: the base's T5 was loaded twice per run
    from transformers import T5EncoderModel

    from ltx_video.training import checks

    copy = shutil.copytree(tiny_pipeline, tmp_path / "pipeline")
    loads = []
    load = T5EncoderModel.from_pretrained

    def counted(*args, **kwargs):
        loads.append(args[0])
        return load(*args, **kwargs)

    monkeypatch.setattr(T5EncoderModel, "from_pretrained", counted)
    init = {"init_transformer": str(copy / "transformer")}
    for _ in range(2):
        checks.check_init_text_encoder({**init, "text_encoder": {"d_model": 16}})
    assert len(loads) == 1
    for _ in range(2):  # a mismatch is not remembered: refused each time
        with pytest.raises(ValueError, match=r"with: its weights \(another seed\)"):
            checks.check_init_text_encoder({**init, "text_encoder": {"d_model": 16, "seed": 1}})
    assert len(loads) == 3
    load(copy / "text_encoder").save_pretrained(copy / "text_encoder")  # the files rewritten: read again
    checks.check_init_text_encoder({**init, "text_encoder": {"d_model": 16}})
    assert len(loads) == 4


def test_model_values_are_named_before_any_model_is_built(tmp_path, monkeypatch):
    # Each was a torch or Python type error naming no key, or a crash in the first step after the clips were rendered.
    from ltx_video.training import data as training_data

    def never(*args, **kwargs):
        raise AssertionError("a clip was read")

    monkeypatch.setattr(training_data, "synthetic_clip", never)
    audio = {"latent_channels": 8, "num_heads": 2, "encoder_hidden_channels": 8, "encoder_num_layers": 1,
             "decoder_hidden_channels": 8, "decoder_num_layers": 1}
    transformer = {"in_channels": 8, "out_channels": 8, "num_attention_heads": 2, "attention_head_dim": 8,
                   "cross_attention_dim": 16, "num_layers": 1, "caption_channels": 16}
    for name, stage, model, message in (
        ("string", "video_vae", {**VAE, "latent_channels": "8"}, "model.latent_channels must be a whole number >= 1, "
                                                                 "got '8'"),
        ("int_list", "video_vae", {**VAE, "block_out_channels": 8},
         "model.block_out_channels must be a list (each a whole number >= 1) such as [32, 64, 64], got 8"),
        ("zero", "audio_vae", {**audio, "latent_channels": 0}, "model.latent_channels must be a whole number >= 1, got 0"),
        ("heads", "audio_vae", {**audio, "num_heads": 3}, "model: dim=64 must split into num_heads=3 heads of even size"),
        ("width", "transformer", {**transformer, "num_attention_heads": 3},
         "model.cross_attention_dim must equal model.num_attention_heads x model.attention_head_dim (3 x 8 = 24, the "
         "width the text is projected to), got 16"),
    ):
        config = load_train_config(_config(tmp_path, name, stage=stage, model=model, stage_options={}))
        with pytest.raises(ValueError) as error:
            check_stage_options(config)
        assert str(error.value) == message
    # counts of layers the models build with none stay accepted (a width of 0 is refused above): the first version
    # of this check refused them, though the trainer ran them
    for stage, model in (("audio_vae", {**audio, "encoder_num_layers": 0, "decoder_num_layers": 0}),
                         ("video_vae", {"type": "hierarchical", "latent_channels": 8, "block_out_channels": [8] * 4,
                                        "layers_per_block": 0, "spatial_compression": 32, "temporal_compression": 8})):
        options = {"crop_frames": 9} if stage == "video_vae" else {}
        check_stage_options(load_train_config(_config(tmp_path, f"{stage}_0", stage=stage, model=model,
                                                      stage_options=options)))


def test_the_fine_tunes_warn_about_captions_the_word_tokenizer_cannot_read(tmp_path, tiny_pipeline):
    # The transformer stage said so; the continuation and keyframes stages trained on such captions without a word.
    from ltx_video.training.data import ClipBank
    from ltx_video.training.stages import build_stage

    data = {**DATA, "num_clips": 2}
    for stage, options in (("continuation", {"overlap_latents": 1}), ("keyframes", {"frames": [0, 4, 8], "blocks": [0]})):
        config = load_train_config(_config(tmp_path, stage, stage=stage, model={}, data=data,
                                           stage_options={"pipeline": str(tiny_pipeline), **options}))
        bank = ClipBank(config.data, show_progress=False)
        bank.prompts = ["A RED BALL BOUNCES", "a blue square bounces"]
        with pytest.warns(UserWarning, match=r"1 of 2 captions hold characters the built-in word tokenizer cannot"):
            built = build_stage(config, bank, torch.device("cpu"))
        ratio = built.vae.temporal_compression_ratio  # the latent frames the early overlap check counts:
        assert built.video_latents.shape[2] == (DATA["num_frames"] - 1) // ratio + 1 == 5


def test_the_caption_check_reads_the_captions_of_the_clips_used_and_no_others(tmp_path):
    """check_captions read every caption under data.root: a Latin-1 caption of a clip left out by data.num_clips, by
    data.require_audio or as too short refused the run, though the clip bank never reads it. It now checks the files
    of the bank's own selection (folder_selection), and still names a bad caption of a clip that is used."""
    from ltx_video import export_to_video
    from ltx_video.training.checks import check_captions
    from ltx_video.training.data import ClipBank, DataConfig

    clips = tmp_path / "clips"
    clips.mkdir()
    tone = np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000).astype(np.float32)
    export_to_video(np.full((12, 32, 32, 3), 0.2, np.float32), str(clips / "a.mp4"), fps=12, audio=tone,
                    sample_rate=16000)
    _own_clip(clips / "b_silent.mp4", 120, 12)
    _own_clip(clips / "c_short.mp4", 200, 5)  # shorter than one clip of 9 frames: left out
    (clips / "a.txt").write_text("a grey square", encoding="utf-8")
    for name in ("b_silent", "c_short"):
        (clips / f"{name}.txt").write_bytes("a café at dusk".encode("latin-1"))
    data = DataConfig(source="folder", root=str(clips), num_clips=1, height=32, width=32, num_frames=9, fps=12.0)
    check_captions(data)  # the first clip only: a.mp4's
    check_captions(dataclasses.replace(data, num_clips=0, require_audio=True))  # b_silent.mp4 has no audio
    with pytest.raises(ValueError, match=r"b_silent.txt: captions must be UTF-8 text .*save it as UTF-8"):
        check_captions(dataclasses.replace(data, num_clips=0))
    (clips / "b_silent.txt").write_text("a blue square", encoding="utf-8")
    check_captions(dataclasses.replace(data, num_clips=0))  # c_short.txt is still Latin-1, its clip is not used
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ClipBank(dataclasses.replace(data, num_clips=0), show_progress=False).prompts == ["a grey square",
                                                                                              "a blue square"]


def test_a_fine_tune_on_folder_clips_keeps_the_prompt_grammar_only_if_it_describes_their_captions(tmp_path,
                                                                                                  tiny_pipeline):
    """A fine-tune of the built-in model on one's own clips saved the base's prompt grammar (one object, a static
    camera) whatever the captions, so the fine-tune warned that 5 of its own 6 training captions were outside what
    it was trained on. Captions the grammar does not describe now save none (any prompt); captions it does all
    describe keep it."""
    import shutil

    from ltx_video.pipelines.generation_defaults import GenerationDefaults, prompt_grammar_warnings
    from ltx_video.training.data import ClipBank
    from ltx_video.training.stages import build_stage

    base = tmp_path / "base"
    shutil.copytree(tiny_pipeline, base)
    grammar = {"max_objects": 1, "cameras": ["static"]}  # the built-in model's
    GenerationDefaults(height=64, width=64, num_frames=49, frame_rate=24.0, num_inference_steps=30, guidance_scale=3.0,
                       prompt_grammar=grammar, stg_scale=1.5, skip_block_list=(0,)).save(base)
    clips = tmp_path / "clips"
    clips.mkdir()
    for name, value in (("a", 40), ("b", 160)):
        _own_clip(clips / f"{name}.mp4", value, 12)
    model = dict(in_channels=8, out_channels=8, num_attention_heads=2, attention_head_dim=8, cross_attention_dim=16,
                 num_layers=1, caption_channels=16, audio_in_channels=8, audio_num_attention_heads=2,
                 audio_attention_head_dim=8, av_cross_attention_layers=[0])
    options = {"video_vae": str(base / "vae"), "audio_vae": str(base / "audio_vae"),
               "init_transformer": str(base / "transformer"), "text_encoder": {"d_model": 16}}
    data = {**DATA, "source": "folder", "root": str(clips), "num_clips": 0}
    config = load_train_config(_config(tmp_path, stage="transformer", model=model, data=data, stage_options=options))
    for captions, kept in ((["a red ball bounces, the camera pans down",  # outside: a moving camera, two objects
                             "a green square and a purple ball bounce, the camera is static"], None),
                           (["a red ball bounces, the camera is static", "a blue square bounces"], grammar)):
        for name, caption in zip("ab", captions, strict=True):
            (clips / f"{name}.txt").write_text(caption)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the word tokenizer's notes on these captions
            stage = build_stage(config, ClipBank(config.data, show_progress=False), torch.device("cpu"))
        out = tmp_path / f"run_{kept is None}"
        stage.save(stage.model, out)
        saved = GenerationDefaults.load(out / "pipeline")
        assert saved.prompt_grammar == kept and prompt_grammar_warnings(saved, captions) == []
        assert (saved.stg_scale, saved.skip_block_list, saved.num_frames) == (1.5, (0,), 9)  # the rest still carried
