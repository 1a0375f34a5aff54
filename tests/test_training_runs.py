"""A user's own runs and own clips (2026-12-06): what the training script may do to an output folder, Ctrl-C, and
the folder data's captions, cache and unreadable files. Each was reported with a reproduction: a second run in a
folder overwrote the first's model and rotated its own checkpoints away, a resume with another model config failed
inside load_state after rewriting config.json, Ctrl-C lost every step since the last checkpoint, a cache survived
new clips, a UTF-8 BOM became part of a caption, and a truncated file's clips were replaced by another file's."""

import dataclasses
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import av
import numpy as np
import pytest
import yaml

from ltx_video import export_to_video
from ltx_video.training import components
from ltx_video.training.config import load_train_config
from ltx_video.training.data import ClipBank, DataConfig
from ltx_video.training.run_folder import check_output_dir, trim_log
from ltx_video.training.stages import caption_warnings
from ltx_video.training.trainer import resolve_resume, train

ROOT = Path(__file__).resolve().parents[1]
TRAIN = [sys.executable, str(ROOT / "scripts" / "train.py")]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
DATA = {"source": "synthetic", "num_clips": 4, "height": 32, "width": 32, "num_frames": 9, "fps": 12.0, "max_objects": 1}
VAE = {"latent_channels": 8, "block_out_channels": [8, 8], "patch_size": 4}


def _config(tmp_path: Path, name: str = "run", **extra) -> Path:
    raw = {"stage": "video_vae", "output_dir": str(tmp_path / name), "steps": 2, "batch_size": 2, "warmup_steps": 1,
           "checkpoint_every": 2, "log_every": 1, "data": DATA, "model": VAE, "stage_options": {"crop_frames": 5},
           **extra}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _train(*args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run([*TRAIN, *args], capture_output=True, text=True, env=ENV, timeout=300)
    assert not check or result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture
def in_process():
    """For a test that calls ``train`` here: accelerate's state is one per process, and a later in-process run with
    another ``mixed_precision`` (test_fp16_on_the_cpu_is_said) would be refused."""
    from accelerate.state import AcceleratorState

    yield
    AcceleratorState._reset_state(reset_partial_state=True)


def _main(*args) -> int:
    """scripts/train.py's ``main`` in this process (a refusal needs no second Python start)."""
    spec = importlib.util.spec_from_file_location("train_script", ROOT / "scripts" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main([str(a) for a in args])


# ----------------------------------------------------------------------------- the output folder
def test_a_new_run_never_starts_over_another_runs_work(tmp_path):
    config = _config(tmp_path)
    _train("--config", str(config))
    weights = tmp_path / "run" / "video_vae" / "diffusion_pytorch_model.safetensors"
    before = weights.read_bytes()
    again = _train("--config", str(config), "--steps", "3", check=False)
    assert again.returncode == 2 and "already holds a run (checkpoints/step-2): --resume latest continues it" in again.stderr
    assert weights.read_bytes() == before  # was overwritten, and its checkpoints rotated away
    # A folder a run left before its first checkpoint holds nothing to keep: started over.
    aborted = load_train_config(_config(tmp_path, "aborted"))
    Path(aborted.output_dir).mkdir()
    (Path(aborted.output_dir) / "config.json").write_text(json.dumps(dataclasses.asdict(aborted)))
    (Path(aborted.output_dir) / "log.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    check_output_dir(aborted, resuming=False)


def test_a_resumed_run_must_be_the_same_run(tmp_path):
    config = load_train_config(_config(tmp_path))
    folder = Path(config.output_dir)
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(dataclasses.asdict(config)))
    check_output_dir(dataclasses.replace(config, steps=10, learning_rate=1e-4), resuming=True)  # extends it: fine
    changed = dataclasses.replace(config, model={**VAE, "latent_channels": 4}, batch_size=4)
    with pytest.raises(ValueError, match=r"differs from the run's own .* in batch_size \(2 -> 4\), "
                                         r"model.latent_channels \(8 -> 4\)"):
        check_output_dir(changed, resuming=True)  # was a size mismatch inside load_state, config.json rewritten


def test_the_log_keeps_the_lines_up_to_the_resumed_step(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps({"step": s, "loss": 1.0}) + "\n" for s in range(1, 10)))
    trim_log(log, 5)
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3, 4, 5]


def test_ctrl_c_checkpoints_the_step_and_resume_continues(tmp_path):
    config = _config(tmp_path, steps=100000, checkpoint_every=100000)
    process = subprocess.Popen([*TRAIN, "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=ENV)
    log = tmp_path / "run" / "log.jsonl"
    deadline = time.monotonic() + 240
    while not (log.is_file() and len(log.read_text().splitlines()) >= 2) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    stopped = int(stderr.split("interrupted at step ")[1].split(",")[0])
    assert stopped >= 2 and (tmp_path / "run" / "checkpoints" / f"step-{stopped}" / "step.json").is_file()
    assert "Traceback" not in stderr  # was a KeyboardInterrupt traceback, nothing saved since the last checkpoint
    _train("--config", str(config), "--resume", "latest", "--steps", str(stopped + 1))
    steps = [json.loads(line)["step"] for line in log.read_text().splitlines()]
    assert steps == list(range(1, stopped + 2))  # each step logged once


# ----------------------------------------------------------------------------- the config's values
@pytest.mark.parametrize("data, message", [
    ({"num_frames": "17"}, "data.num_frames must be a whole number, got '17'"),
    ({"num_frames": 17.0}, "data.num_frames must be a whole number, got 17.0"),
    ({"height": "64"}, "data.height must be a whole number"),
    ({"num_clips": True}, "data.num_clips must be a whole number, got True"),
    ({"seed": "abc"}, "data.seed must be a whole number"),
    ({"fps": None}, "data.fps must be a number, got None (training needs one rate for every clip)"),
    ({"source": "folder", "root": 5}, "data.root must be a path (a string), got 5"),
    # folder-only keys with synthetic clips: the run trained on the synthetic world without a word (2026-12-07)
    ({"root": "clips"}, "data.root is read only with data.source: folder (data.source is 'synthetic'): add "
                        "`source: folder`, or remove data.root"),
    ({"require_audio": True}, "data.require_audio is read only with data.source: folder"),
])
def test_data_values_are_named(data, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DataConfig(**{**DATA, **data})


def test_mixed_precision_no_as_yaml_reads_it(tmp_path):
    assert load_train_config(_config(tmp_path, mixed_precision=False)).mixed_precision == "no"  # unquoted `no`


# ----------------------------------------------------------------------------- a folder of one's own clips
def _clip(path: Path, value: int, frames: int = 12, audio: bool = True) -> None:
    video = np.full((frames, 32, 32, 3), value / 255, np.float32)
    sound = dict(audio=np.zeros(16000 * frames // 12, np.float32), sample_rate=16000) if audio else {}
    export_to_video(video, str(path), fps=12, **sound)


def test_folder_captions_cache_and_unreadable_files(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    _clip(clips / "a.mp4", 40)
    (clips / "a.txt").write_bytes(b"\xef\xbb\xbfa red ball bounces\r\n")  # Notepad's UTF-8: a BOM and CRLF
    _clip(clips / "b.mp4", 200, audio=False)
    (clips / "b.txt").write_text("a blue square bounces")
    noise = np.random.default_rng(0).random((60, 32, 32, 3)).astype(np.float32)  # incompressible: its data is long
    export_to_video(noise, str(tmp_path / "long.mp4"), fps=12)
    with av.open(str(tmp_path / "long.mp4")) as source, av.open(str(tmp_path / "c.mp4"), "w",
                                                         options={"movflags": "faststart"}) as copy:
        streams = {s.index: copy.add_stream_from_template(s) for s in source.streams.video}
        for packet in source.demux(video=0):
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                copy.mux(packet)
    whole = (tmp_path / "c.mp4").read_bytes()  # its index first: cut short, it still looks whole until read
    (clips / "c.mp4").write_bytes(whole[: len(whole) // 2])
    (clips / "c.txt").write_text("a cut clip")
    data = DataConfig(source="folder", root=str(clips), num_clips=0, height=32, width=32, num_frames=9, fps=12.0,
                      cache=str(tmp_path / "bank.pt"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bank = ClipBank(data, show_progress=False)
    messages = " | ".join(str(w.message) for w in caught)
    assert set(bank.prompts) == {"a blue square bounces", "a red ball bounces", "a cut clip"}  # no BOM in a's
    assert "have no audio track" in messages and "b.mp4" in messages
    # c's clips past the cut were a's and b's clips again before; now c is left out from its first failing clip
    assert "c.mp4: left out, it cannot be read" in messages
    assert bank.prompts.count("a red ball bounces") == bank.prompts.count("a blue square bounces") == 1
    assert 1 <= bank.prompts.count("a cut clip") < 6  # 60 frames: 6 clips of 9, the second half cut away
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        voiced = ClipBank(dataclasses.replace(data, cache=None, require_audio=True), show_progress=False)
    assert "a blue square bounces" not in voiced.prompts and "a red ball bounces" in voiced.prompts  # b is silent
    _clip(clips / "d.mp4", 120)  # a new clip: the cache is stale
    (clips / "d.txt").write_text("a green ball bounces")
    with pytest.raises(ValueError, match="rendered for another data config or other files under data.root"):
        ClipBank(data, show_progress=False)
    (clips / "d.txt").write_bytes("a caf\xe9 scene".encode("latin-1"))
    with pytest.raises(ValueError, match=r"d.txt: captions must be UTF-8 text"):
        ClipBank(dataclasses.replace(data, cache=None), show_progress=False)


def test_caption_warnings_say_what_the_word_tokenizer_loses():
    tokenizer = components.word_tokenizer()
    long = "a woman walks along a beach at sunset, waves rolling in"
    notes = caption_warnings(tokenizer, ["a red ball bounces", "A DOG RUNS", long, long + " and dogs bark"], 32)
    assert any("longer than max_sequence_length=32" in n for n in notes)
    assert any("cannot read (capitals" in n for n in notes)
    assert any("become the same tokens" in n for n in notes)
    assert caption_warnings(tokenizer, ["a red ball bounces", "a blue square bounces, the camera is static"], 32) == []


def test_a_folder_without_videos_is_named_before_any_work(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    config = _config(tmp_path, data={**DATA, "source": "folder", "root": str(tmp_path / "empty"), "num_clips": 0})
    result = _train("--config", str(config), check=False)
    assert result.returncode == 2 and "must be a folder holding video files" in result.stderr
    assert not (tmp_path / "run").exists()  # nothing written


def test_runs_and_caches_from_before_a_new_field_still_resume(tmp_path):
    # A run whose config.json predates data.require_audio, and a cache inside the folder it reads, were refused.
    config = load_train_config(_config(tmp_path))
    folder = Path(config.output_dir)
    folder.mkdir()
    stored = dataclasses.asdict(config)
    del stored["data"]["require_audio"]
    (folder / "config.json").write_text(json.dumps(stored))
    check_output_dir(config, resuming=True)  # was "differs ... in data.require_audio (None -> False)"
    clips = tmp_path / "clips"
    (clips / "inner").mkdir(parents=True)
    _clip(clips / "inner" / "a.mp4", 40)
    (clips / "inner" / "a.txt").write_text("a red ball bounces")
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "sub").symlink_to(clips, target_is_directory=True)  # a linked folder of clips
    data = DataConfig(source="folder", root=tmp_path / "linked", num_clips=0, height=32, width=32, num_frames=9,
                      fps=12.0, cache=Path(tmp_path / "linked" / "bank.pt"))  # paths as Path: were refused
    assert isinstance(data.root, str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ClipBank(data, show_progress=False)
        ClipBank(data, show_progress=False)  # its own cache inside the folder made it stale
    from ltx_video.training.stages import check_stage_options

    check_stage_options(load_train_config(_config(tmp_path, "own", data={**DATA, "source": "folder", "num_clips": 0,
                                                                          "root": str(tmp_path / "linked")})))


def test_a_log_line_cut_short_is_dropped(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"step": 1, "loss": 1.0}\n{"step": 2, "lr": 0.00')  # killed mid-write
    trim_log(log, 5)  # was a JSONDecodeError traceback on --resume latest
    assert log.read_text() == '{"step": 1, "loss": 1.0}\n'


# ----------------------------------------------------------------------------- resuming an earlier step, other clips
def test_a_resume_from_an_earlier_step_sets_the_later_work_aside(tmp_path, capsys, in_process):
    # A finished run resumed from its own step-1 (a redo at another rate, here also longer) left the first run's
    # step-2, summary.json and video_vae/ in place: a stopped redo's `--resume latest` took the first run's step-2,
    # and the redo's checkpoints overwrote the first run's in place.
    config = load_train_config(_config(tmp_path, steps=2, batch_size=1, checkpoint_every=1, keep_checkpoints=10,
                                       data={**DATA, "num_clips": 2}))
    folder = Path(config.output_dir)
    train(config, cpu=True)
    first = (folder / "checkpoints" / "step-2" / "model.safetensors").read_bytes()
    redo = config.replace(learning_rate=1e-5, steps=3)
    train(redo, resume=str(folder / "checkpoints" / "step-1"), cpu=True, stop_after=2)
    assert "its later work (step-2, summary.json, video_vae) is moved to" in capsys.readouterr().out
    (aside,) = (folder / "checkpoints").glob("superseded-*")
    assert sorted(p.name for p in aside.iterdir()) == ["config.json", "log.jsonl", "step-2", "summary.json", "video_vae"]
    assert (aside / "step-2" / "model.safetensors").read_bytes() == first  # kept, not deleted
    assert (folder / "checkpoints" / "step-2" / "model.safetensors").read_bytes() != first  # the redo's own
    assert json.loads((aside / "config.json").read_text())["learning_rate"] == config.learning_rate
    assert [json.loads(line)["step"] for line in (aside / "log.jsonl").read_text().splitlines()] == [1, 2]
    assert resolve_resume("latest", folder) == folder / "checkpoints" / "step-2"
    summary = json.loads((folder / "summary.json").read_text())
    assert (summary["resumed_from"], summary["stopped_at"]) == (1, 2) and not (folder / "video_vae").exists()


def test_a_resume_on_changed_clips_is_refused_before_any_work(tmp_path, capsys, in_process):
    # One clip removed and one added under data.root: the resumed run trained on the new set without a word.
    clips = tmp_path / "clips"
    clips.mkdir()
    for name, value in (("a", 40), ("b", 200)):
        _clip(clips / f"{name}.mp4", value)
        (clips / f"{name}.txt").write_text(f"a {name} clip")
    data = {**DATA, "source": "folder", "root": str(clips), "num_clips": 0}
    config = _config(tmp_path, steps=2, batch_size=1, checkpoint_every=1, data=data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train(load_train_config(config), cpu=True, stop_after=1)
    from ltx_video.training.checks import data_files

    # what training does not read is no change: another .txt, a caption saved again with a BOM and no newline
    before = data_files(load_train_config(config).data)
    (clips / "NOTES.txt").write_text("my notes")
    (clips / "a.txt").write_bytes("\ufeffa a clip".encode())
    assert data_files(load_train_config(config).data) == before
    (clips / "c.mp4").write_bytes((clips / "b.mp4").read_bytes())
    (clips / "b.mp4").unlink()
    (clips / "b.txt").unlink()
    (clips / "a.txt").write_text("a changed caption")
    capsys.readouterr()
    assert _main("--config", config, "--resume", "latest") == 2
    said = capsys.readouterr().err
    assert "the files under data.root" in said and "2 removed: b.mp4, b.txt; 1 added: c.mp4; 1 changed: a.txt" in said
    assert "another output_dir, without --resume" in said
    assert not (tmp_path / "run" / "checkpoints" / "step-2").exists()


def test_a_caption_that_is_not_utf8_is_refused_before_the_output_folder(tmp_path, capsys):
    # A Latin-1 caption was a traceback (exit 1) from the clip bank, after config.json was written in output_dir.
    clips = tmp_path / "clips"
    clips.mkdir()
    _clip(clips / "x.mp4", 40)
    (clips / "x.txt").write_bytes("a caf\xe9 scene".encode("latin-1"))
    config = _config(tmp_path, data={**DATA, "source": "folder", "root": str(clips), "num_clips": 0})
    capsys.readouterr()
    assert _main("--config", config) == 2
    said = capsys.readouterr().err.strip()
    assert said.count("\n") == 0 and said.startswith("train.py: error: ")
    assert f"{clips / 'x.txt'}: captions must be UTF-8 text" in said
    assert not (tmp_path / "run").exists()  # nothing written
    with pytest.raises(ValueError, match="x.txt: captions must be UTF-8 text"):  # train() in Python refuses it first too
        train(load_train_config(config), cpu=True)
    assert not (tmp_path / "run").exists()


def test_a_caption_table_beside_clips_without_txt_captions_is_said_not_read(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    _clip(clips / "x.mp4", 40)
    (clips / "metadata.csv").write_text("file_name,text\nx.mp4,a red ball bounces\n")
    (clips / "prompts.json").write_text('{"x.mp4": "a red ball bounces"}')
    data = DataConfig(source="folder", root=str(clips), num_clips=0, height=32, width=32, num_frames=9, fps=12.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bank = ClipBank(data, show_progress=False)
    said = [str(w.message) for w in caught if "no caption" in str(w.message)]
    assert bank.prompts == [""] and len(said) == 1
    assert said[0].endswith("; metadata.csv, prompts.json are not read: captions are read only from a UTF-8 name.txt "
                            "beside each video")


def test_a_cache_or_output_dir_of_the_wrong_kind_is_named_before_any_work(tmp_path, capsys):
    # Each was a traceback after the clips were rendered (a cache that is a folder: IsADirectoryError naming a
    # made-up `<folder>.partial`; a stale cache: its ValueError, with output_dir/config.json already written) or at
    # the output folder's mkdir (FileExistsError).
    cache = tmp_path / "bank.pt"
    ClipBank(DataConfig(**{**DATA, "num_clips": 2, "cache": str(cache)}), show_progress=False)
    (tmp_path / "a_file").write_text("mine")
    for name, extra, message in (
        ("folder_cache", {"data": {**DATA, "cache": str(tmp_path)}},
         f"data.cache {tmp_path} must be a file path (the .pt file the rendered clips are saved to), but {tmp_path} "
         "is a folder"),
        ("stale_cache", {"data": {**DATA, "num_clips": 2, "seed": 5, "cache": str(cache)}},
         f"data.cache {cache} was rendered for another data config"),
        ("file_output", {"output_dir": str(tmp_path / "a_file")},
         f"output_dir {tmp_path / 'a_file'} must be a folder (a new or empty one), but it is a file"),
    ):
        assert _main("--config", _config(tmp_path, name, **extra)) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"train.py: error: {message}") and err.count("\n") == 1, err
        assert not (tmp_path / name).exists()  # nothing written, no clip rendered
    assert (tmp_path / "a_file").read_text() == "mine"
