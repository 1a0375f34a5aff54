"""generate_long's arguments in the forms users pass them: the overlap's real range, files the user already has,
generator lists, values of the wrong type, and what a refused resume names (tiny models, r = 8)."""

from __future__ import annotations

import functools
import json
import logging

import av
import numpy as np
import pytest
import torch

from ltx_video.pipelines.long_video import ChunkLayout, default_overlap_frames
from ltx_video.testing import tiny_audio_video_pipeline

BASE = dict(height=64, width=64, frame_rate=24, num_inference_steps=2, guidance_scale=1.0, max_sequence_length=16,
            seed=3)
LONG = dict(BASE, num_frames=41, chunk_frames=17, overlap_frames=8)


@pytest.fixture(scope="module")
def pipe():
    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def video_frames(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_the_longest_overlap_accepted_works_and_a_longer_one_is_refused_first(pipe, tmp_path):
    # 33 frames = 5 latents: an overlap of 2 latents (16 frames) leaves each segment the 3 it must cross-fade into;
    # 3 latents (24 frames) passed the old check and failed after the first chunk was written.
    out = pipe.generate_long("a red ball bounces", output=tmp_path / "a.mp4", num_frames=60, chunk_frames=33,
                             overlap_frames=16, **BASE)
    assert out.num_chunks == 3 and video_frames(out.path) == 60
    with pytest.raises(ValueError, match=r"`overlap_frames` must be a multiple of 8 in \[8, 16\] .*at most half"):
        pipe.generate_long("a red ball bounces", output=tmp_path / "b.mp4", num_frames=60, chunk_frames=33,
                           overlap_frames=24, **BASE)
    assert not (tmp_path / "b.mp4.parts").exists()


def test_the_default_overlap_fits_every_chunk_size(pipe, tmp_path):
    assert [default_overlap_frames(c, 4) for c in (5, 9, 13, 49)] == [4, 4, 8, 8]
    for chunk in (5, 9, 13, 17, 49, 121):
        ChunkLayout(200, chunk, default_overlap_frames(chunk, 4), 4).check()
    out = pipe.generate_long("a red ball bounces", output=tmp_path / "short.mp4", num_frames=30, chunk_frames=9,
                             **BASE)  # 2 latents per chunk: the default 2 r would be refused
    assert out.num_chunks == 4 and video_frames(out.path) == 30


def test_a_file_the_user_already_has_is_not_replaced_without_overwrite(pipe, tmp_path):
    output = tmp_path / "mine.mp4"
    output.write_bytes(b"the user's own video")
    with pytest.raises(ValueError, match=r"`output` .*mine.mp4 exists and no run .* pass overwrite=True"):
        pipe.generate_long("a red ball bounces", output=output, **LONG)
    with pytest.raises(ValueError, match="pass overwrite=True"):
        pipe.generate_long("a red ball bounces", output=output, resume=False, **LONG)
    assert output.read_bytes() == b"the user's own video" and not (tmp_path / "mine.mp4.parts").exists()
    out = pipe.generate_long("a red ball bounces", output=output, overwrite=True, **LONG)
    assert out.path == output and video_frames(output) == 41
    # The run's own file: the same call returns it; a file put in its place is the user's again.
    assert pipe.generate_long("a red ball bounces", output=output, **LONG).chunks_generated == 0
    output.write_bytes(b"edited")
    with pytest.raises(ValueError, match=r"is not the file this run in .* assembled \(or .*pass overwrite=True"):
        pipe.generate_long("a red ball bounces", output=output, **LONG)
    assert output.read_bytes() == b"edited"


def test_a_list_of_one_generator_is_its_seed_and_other_generators_are_named(pipe, tmp_path):
    call = {k: v for k, v in LONG.items() if k != "seed"}
    by_seed = pipe.generate_long("a red ball bounces", output=tmp_path / "s.mp4", seed=11, **call)
    by_list = pipe.generate_long("a red ball bounces", output=tmp_path / "g.mp4",
                                 generator=[torch.Generator().manual_seed(11)], **call)
    assert by_list.path.read_bytes() == by_seed.path.read_bytes()
    with pytest.raises(ValueError, match=r"`generator` must be a torch.Generator \(or a list of one\)"):
        pipe.generate_long("a red ball bounces", output=tmp_path / "two.mp4",
                           generator=[torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)], **call)


@pytest.mark.parametrize("kwargs,message", [
    (dict(anchor="no"), "`anchor` must be True or False, got 'no'"),
    (dict(resume=1), "`resume` must be True or False"),
    (dict(generate_audio="no"), "`generate_audio` must be True, False or None"),
    (dict(seed=1.5), r"`seed` must be an int in \[0, 2\*\*63\), got 1.5"),
    (dict(seed=2**63), r"`seed` must be an int in \[0, 2\*\*63\)"),  # its chunk seeds were seed 0's
    (dict(seed=-1), r"`seed` must be an int"),
    (dict(num_frames=None, duration=float("inf")), "`duration` must be a finite number of seconds > 0, got inf"),
    (dict(chunk_frames=33, overlap_frames=24), "at most half a chunk"),
    (dict(frame_rate="24"), "`frame_rate` must be a finite number > 0, got '24'"),  # float() took it
    (dict(frame_rate=True), "`frame_rate` must be a finite number > 0, got True"),
])
def test_values_of_the_wrong_kind_are_refused_before_any_work(pipe, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        pipe.generate_long("a red ball bounces", output=tmp_path / "x.mp4", **{**LONG, **kwargs})
    assert list(tmp_path.iterdir()) == []


def test_a_refused_resume_names_what_the_user_passed(pipe, tmp_path):
    output = tmp_path / "d.mp4"
    call = {k: v for k, v in LONG.items() if k != "num_frames"}
    pipe.generate_long("a red ball bounces", output=output, duration=41 / 24, **call)
    with pytest.raises(ValueError, match=r"`duration` 2 s is 48 frames at 24 fps but the run in .* was started "
                                         r"with 41 frames"):
        pipe.generate_long("a red ball bounces", output=output, duration=2, **call)
    with pytest.raises(ValueError, match=r"`colour_match_scope` is 'frame' but the run .* was started with 'chunk'"):
        pipe.generate_long("a red ball bounces", output=output, duration=41 / 24, colour_match_scope="frame", **call)


def test_odd_sizes_are_said_and_a_home_path_is_expanded(pipe, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        out = pipe.generate_long("a red ball bounces", output="~/odd.mp4", **{**LONG, "height": 63, "width": 65})
    assert out.path == tmp_path / "odd.mp4" and not (tmp_path / "~").exists()
    assert "height 63 x width 65" in caplog.text and "padded to 64 x 66" in caplog.text
    with av.open(str(out.path)) as container:
        assert (container.streams.video[0].height, container.streams.video[0].width) == (64, 66)


def test_cli_long_refuses_the_overlap_and_seed_it_cannot_run(capsys, tmp_path):
    from ltx_video.cli import main

    for argv, needle in ((["--overlap-frames", "28"], "--overlap-frames must be a multiple of 4 in [4, 24]"),
                         (["--seed", str(2**63)], "--seed: expected a whole number from 0 to 2**63 - 1"),
                         (["--seed", "-1"], "--seed: expected a whole number from 0 to 2**63 - 1"),  # said 2**64
                         (["--base-model", str(tmp_path)], "--base-model is for a single-file --model")):
        try:
            code = main(["long", "a red ball bounces", "--duration", "5", "--output", str(tmp_path / "l.mp4"), *argv])
        except SystemExit as exit_:  # argparse's own errors
            code = exit_.code
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and needle in err[-1], err
    assert list(tmp_path.iterdir()) == []


def test_a_run_without_a_seed_leaves_torchs_generator_alone_and_numpy_booleans_pass(pipe, tmp_path):
    call = {k: v for k, v in LONG.items() if k != "seed"}
    draws = []
    for name in ("a", "b"):
        torch.manual_seed(1234)
        pipe.generate_long("a red ball bounces", output=tmp_path / f"{name}.mp4", anchor=np.bool_(True), **call)
        draws.append(torch.rand(3))  # torch.seed() inside reseeded the global generator: two runs drew differently
    assert torch.equal(draws[0], draws[1])


def test_cli_long_passes_a_modality_scale_of_1_and_expands_a_literal_tilde(tmp_path, monkeypatch):
    from ltx_video.cli import build_parser
    from ltx_video.cli.long import check_inputs

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["long", "a red ball bounces", "--duration", "2", "--output=~/x.mp4",
                                      "--audio-modality-scale", "1"])
    _, call = check_inputs(args)
    # 1 (off) was dropped and the built-in model's 8 filled in: the flag did nothing
    assert call["audio_modality_scale"] == 1 and call.get("modality_scale", 1) == 1
    assert call["output"] == tmp_path / "x.mp4" and not (tmp_path / "~").exists()  # a "~" folder was made here


def test_a_resume_in_another_dtype_is_refused_and_older_runs_still_resume(pipe, tmp_path):
    import json

    call = dict(LONG, num_frames=25, output=tmp_path / "d.mp4")
    pipe.generate_long("a red ball bounces", **call)
    pipe.to(torch.bfloat16)
    try:
        with pytest.raises(ValueError, match=r"`dtype` is 'bfloat16' but the run in .* was started with 'float32'"):
            pipe.generate_long("a red ball bounces", **call)  # resumed and mixed dtypes in one file
    finally:
        pipe.to(torch.float32)
    import copy

    quantized = copy.deepcopy(pipe)
    quantized.enable_fp8()  # FP8 weights keep the float32 dtype: the resume was taken, mixing the two in one file
    with pytest.raises(ValueError, match=r"`quantization` is 'fp8' but the run in .* was started with None"):
        quantized.generate_long("a red ball bounces", **call)
    manifest = tmp_path / "d.mp4.parts" / "manifest.json"
    recorded = json.loads(manifest.read_text())
    del recorded["arguments"]["dtype"]  # a run started before the dtype was recorded
    manifest.write_text(json.dumps(recorded))
    assert pipe.generate_long("a red ball bounces", **call).path == tmp_path / "d.mp4"
    # stochastic_sampling's default became None (the scheduler's flag): given as that flag it is the same run (an
    # explicit False was refused as "started with None"); another value is another run
    assert pipe.generate_long("a red ball bounces", **call, stochastic_sampling=False).path == tmp_path / "d.mp4"
    with pytest.raises(ValueError, match=r"`stochastic_sampling` is True but the run in .* was started with None"):
        pipe.generate_long("a red ball bounces", **call, stochastic_sampling=True)


def test_a_rerun_answers_from_the_manifest_without_the_text_encoder(pipe, tmp_path):
    # Rerunning a notebook cell (the same arguments, or one changed) ran T5 before the manifest was read.
    from conftest import forward_calls

    output = tmp_path / "a.mp4"
    pipe.generate_long("a red ball bounces", output=output, **LONG)
    with forward_calls(pipe.text_encoder) as calls:
        assert pipe.generate_long("a red ball bounces", output=output, **LONG).chunks_generated == 0
        with pytest.raises(ValueError, match=r"`num_inference_steps` is 3 but the run in .* was started with 2"):
            pipe.generate_long("a red ball bounces", output=output, **{**LONG, "num_inference_steps": 3})
    assert calls == []
    with pytest.raises(ValueError, match=r"`num_inference_steps` must be an integer >= 1"):  # a new run: planned
        pipe.generate_long("a red ball bounces", output=tmp_path / "b.mp4", **{**LONG, "num_inference_steps": 0})
    assert not (tmp_path / "b.mp4.parts").exists()


def test_call_checks_and_defaults_hold_as_in_a_call(pipe, tmp_path):
    """generate_long skipped the call's own checks (a 2-entry decode_timestep or max_sequence_length=0 made a
    video), ignored `generator` beside `seed`, and refused to continue a run when a value was given as the call's
    own default rather than left out (an identical run)."""
    import inspect

    for kwargs, message in ((dict(decode_timestep=[0.05, 0.9]), "`decode_timestep` has 2 entries"),
                            (dict(max_sequence_length=0), "`max_sequence_length` must be an integer >= 1"),
                            (dict(negative_prompt=3), "`negative_prompt` must be a str"),
                            (dict(callback_on_step_end="x"), "`callback_on_step_end` must be callable"),
                            (dict(generator=torch.Generator().manual_seed(5)), "`seed` or `generator`, not both"),
                            (dict(output=None), "`output` must be an .mp4 path")):
        with pytest.raises(ValueError, match=message):
            pipe.generate_long("a red ball bounces", **{"output": tmp_path / "x.mp4", **LONG, **kwargs})
    assert list(tmp_path.iterdir()) == []
    output = tmp_path / "a.mp4"
    pipe.generate_long("a red ball bounces", output=output, **LONG)
    signature = inspect.signature(type(pipe).__call__).parameters
    given = {name: signature[name].default for name in ("decode_timestep", "image_cond_noise_scale", "stg_scale")}
    assert pipe.generate_long("a red ball bounces", output=output, **LONG, **given).chunks_generated == 0


def test_an_over_long_prompt_is_warned_about_once_per_run(pipe, tmp_path, caplog):
    """The text encoder's truncation warning came once per chunk plus once for the planning pass."""
    long_prompt = "a red ball bounces " * 8
    with caplog.at_level(logging.WARNING, logger="ltx_video.pipelines.ltx_video"):
        pipe.generate_long(long_prompt, output=tmp_path / "a.mp4", **LONG)
    assert sum("the text encoder reads its first" in r.getMessage() for r in caplog.records) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ltx_video.pipelines.ltx_video"):  # a plain call after it still warns
        pipe(long_prompt, num_frames=9, output_type="latent", **{k: v for k, v in BASE.items() if k != "seed"})
    assert sum("the text encoder reads its first" in r.getMessage() for r in caplog.records) == 1


def test_an_output_that_cannot_hold_a_run_is_refused_before_any_model_runs(pipe, tmp_path):
    # Both failed with a raw NotADirectoryError / FileExistsError once the first chunk was planned.
    from conftest import forward_calls

    (tmp_path / "file").write_text("x")
    (tmp_path / "b.mp4.parts").write_text("x")
    with forward_calls(pipe.text_encoder) as calls:
        with pytest.raises(ValueError, match=r"`output` .*file/a.mp4: .*file is a file, not a folder"):
            pipe.generate_long("a red ball bounces", output=tmp_path / "file" / "a.mp4", **LONG)
        for resume in (True, False):  # resume=False planned the first chunk (T5) first
            with pytest.raises(ValueError, match=r"`output` .*b.mp4: .*b.mp4.parts is a file where its run folder"):
                pipe.generate_long("a red ball bounces", output=tmp_path / "b.mp4", resume=resume, **LONG)
    assert calls == []


def test_a_hand_edited_manifest_is_named_not_a_raw_error(pipe, tmp_path):
    # `chunks` as a dict gave AttributeError, no `arguments` a KeyError.
    import json

    output, call = tmp_path / "a.mp4", dict(LONG, num_frames=17)  # one chunk
    pipe.generate_long("a red ball bounces", output=output, **call)
    manifest = tmp_path / "a.mp4.parts" / "manifest.json"
    written = json.loads(manifest.read_text())
    for edit in ({"chunks": {}}, {"arguments": None}, {"chunks": [{"index": 0}]}):
        manifest.write_text(json.dumps({**written, **edit}))
        with pytest.raises(ValueError, match="manifest.json is not a readable manifest"):
            pipe.generate_long("a red ball bounces", output=output, **call)


def test_a_read_only_run_folder_is_refused_before_a_chunk_is_generated(pipe, tmp_path, monkeypatch):
    # The chunk was generated, then writing it failed with a PermissionError naming no path.
    import os
    import stat

    from conftest import forward_calls

    def stop(pipe, step, t, tensors):
        pipe._interrupt = pipe.current_chunk == 1
        return tensors

    partial, done, call = tmp_path / "partial.mp4", tmp_path / "done.mp4", dict(LONG, num_frames=25)  # two chunks
    pipe.generate_long("a red ball bounces", output=partial, callback_on_step_end=stop, **call)
    pipe.generate_long("a red ball bounces", output=done, **call)
    read_only = [tmp_path / "partial.mp4.parts", tmp_path / "done.mp4.parts"]
    for folder in read_only:
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() == 0:  # root writes anywhere: answer as for another user
        access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: path not in read_only and access(path, mode, **kw))
    try:
        with forward_calls(pipe.transformer) as calls:
            with pytest.raises(PermissionError, match=r"cannot write in the run folder .*partial.mp4.parts"):
                pipe.generate_long("a red ball bounces", output=partial, **call)
        assert calls == []
        assert pipe.generate_long("a red ball bounces", output=done, **call).chunks_generated == 0  # nothing to write
    finally:
        for folder in read_only:
            folder.chmod(stat.S_IRWXU)


def test_audio_guidance_given_as_the_guidance_scale_resumes_the_run_that_left_it_out(pipe, tmp_path):
    # Refused: "`audio_guidance_scale` is 1.0 but the run ... was started with None".
    import json

    output = tmp_path / "a.mp4"
    pipe.generate_long("a red ball bounces", output=output, **LONG)
    manifest = tmp_path / "a.mp4.parts" / "manifest.json"
    assert pipe.generate_long("a red ball bounces", output=output, audio_guidance_scale=1.0,
                              **LONG).chunks_generated == 0
    recorded = json.loads(manifest.read_text())
    assert recorded["arguments"]["audio_guidance_scale"] is None
    recorded["arguments"]["audio_guidance_scale"] = 1  # recorded as given, before it was normalised
    manifest.write_text(json.dumps(recorded))
    assert pipe.generate_long("a red ball bounces", output=output, **LONG).chunks_generated == 0
    with pytest.raises(ValueError, match=r"`audio_guidance_scale` is 2.0 but the run in .* was started with 1"):
        pipe.generate_long("a red ball bounces", output=output, audio_guidance_scale=2.0, **LONG)


def test_a_forked_child_does_not_keep_the_lock_of_a_run_its_parent_closed(tmp_path):
    """A child forked while a run held the output's lock kept a copy of the lock file, so the lock outlived the
    parent's close and the parent's next run on that output was refused, naming the parent itself."""
    import multiprocessing
    import subprocess
    import sys

    from ltx_video.pipelines.long_run import LongRun

    pytest.importorskip("fcntl")
    output = tmp_path / "long.mp4"
    run = LongRun.open(output, {"prompt": "a"}, resume=True)
    child = multiprocessing.get_context("fork").Process(target=time_sleep, args=(30,))
    child.start()
    try:
        run.close()
        probe = "import fcntl, os, sys; fcntl.flock(os.open(sys.argv[1], os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)"
        subprocess.run([sys.executable, "-c", probe, str(run.folder / ".lock")], check=True)
    finally:
        child.kill()
        child.join()


def time_sleep(seconds):
    import time

    time.sleep(seconds)


def test_a_changed_guidance_scale_is_named_not_the_audio_guidance_that_stands_for_it(pipe, tmp_path):
    """A resume with another guidance_scale was refused as "`audio_guidance_scale` is 1.0 but the run ... was started
    with 3.0" (audio_guidance_scale left out stands for guidance_scale), on a video-only pipeline too."""
    from ltx_video.testing import tiny_pipeline

    video_only = tiny_pipeline(seed=0)
    video_only.set_progress_bar_config(disable=True)
    call = dict(LONG, num_frames=25, guidance_scale=3.0)

    def stop(p, i, t, tensors):
        p._interrupt = p.current_chunk == 1
        return tensors

    for n, model in enumerate((video_only, pipe)):
        output = tmp_path / f"{n}.mp4"
        assert model.generate_long("a red ball bounces", output=output, callback_on_step_end=stop, **call).path is None
        with pytest.raises(ValueError, match=r"^`guidance_scale` is 1.0 but the run in .* was started with 3.0"):
            model.generate_long("a red ball bounces", output=output, **dict(call, guidance_scale=1.0))


def test_an_output_that_is_a_folder_is_named_as_one(pipe, tmp_path):
    # A folder not named .mp4 was refused as "`output` must end in .mp4", as if a file name were wrong.
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ValueError, match=r"^`output` .*out is a folder; expected an .mp4 file path$"):
        pipe.generate_long("a red ball bounces", output=folder, **LONG)
    assert list(folder.iterdir()) == []


def test_a_long_videos_audio_takes_its_cfg_at_guidance_scale_1(pipe, tmp_path, monkeypatch):
    """As one call (diffusers' LTX2Pipeline): audio_guidance_scale > 1 runs the unconditional pass at guidance_scale
    1; each chunk's plan did not get the scale, so no chunk ran it (no audio CFG, no warning)."""
    plans = []
    plan_generation = type(pipe).plan_generation

    @functools.wraps(plan_generation)  # generate_long passes the parameters plan_generation's signature names
    def record(self, **kwargs):
        plan = plan_generation(self, **kwargs)
        plans.append(plan)
        return plan

    monkeypatch.setattr(type(pipe), "plan_generation", record)
    kw = dict(num_frames=30, chunk_frames=9, height=64, width=64, num_inference_steps=2,
              guidance_scale=1.0, seed=0)
    pipe.generate_long("a red ball bounces", output=tmp_path / "a.mp4", **kw)
    pipe.generate_long("a red ball bounces", output=tmp_path / "b.mp4", audio_guidance_scale=7.0, **kw)
    cfg = [[g.do_cfg for g in plan.guidance] for plan in plans]
    half = len(cfg) // 2
    assert half >= 2 and not any(map(any, cfg[:half])) and all(map(all, cfg[half:]))
    # a run started before the rule (its manifest records no `audio_cfg`) resumes with the rule of then
    arguments = json.loads(next((tmp_path / "b.mp4.parts").rglob("manifest.json")).read_text())["arguments"]
    assert arguments.pop("audio_cfg") == "either_scale"
    old_rule, _ = pipe._long_plan(0, arguments, warn_prompt=False)
    assert not any(g.do_cfg for g in old_rule.guidance)


def test_a_list_of_negative_prompts_is_paired_with_the_prompts(pipe, tmp_path, monkeypatch):
    """A list of negative prompts was checked against the first prompt alone: "`negative_prompt` has 2 entries but
    `prompt` has 1" for two prompts and two negative prompts. Now prompt i's chunks take negative prompt i."""
    planned, plan = [], pipe.plan_generation

    @functools.wraps(plan)  # its signature: generate_long passes the arguments it names
    def recording(**kwargs):
        planned.append((kwargs["prompt"], kwargs["negative_prompt"]))
        return plan(**kwargs)

    monkeypatch.setattr(pipe, "plan_generation", recording)
    prompts, call = ["a red ball", "a blue ball"], dict(LONG, num_frames=25, guidance_scale=3.0)
    out = pipe.generate_long(prompts, negative_prompt=["blurry", "dark"], output=tmp_path / "a.mp4", **call)
    assert out.num_chunks == 2 and planned[1:] == [("a red ball", "blurry"), ("a blue ball", "dark")]  # [0]: checked
    assert json.loads((out.folder / "manifest.json").read_text())["arguments"]["negative_prompt"] == ["blurry", "dark"]
    # one for all is the string: the same run
    by_string = pipe.generate_long(prompts, negative_prompt="blurry", output=tmp_path / "b.mp4", **call)
    assert pipe.generate_long(prompts, negative_prompt=["blurry"], output=by_string.path, **call).chunks_generated == 0
    with pytest.raises(ValueError, match=r"^`negative_prompt` must be a string or a list of strings, one for all "
                                         r"prompts or one per prompt \(`prompt` has 2\), got \['a', 'b', 'c'\]$"):
        pipe.generate_long(prompts, negative_prompt=["a", "b", "c"], output=tmp_path / "c.mp4", **call)
    assert not (tmp_path / "c.mp4.parts").exists()


def test_a_duration_given_as_a_0d_tensor_is_a_number(pipe, tmp_path):
    """``num_frames=torch.tensor(41)`` ran, ``duration=torch.tensor(...)`` was refused as no number of seconds."""
    call = {k: v for k, v in LONG.items() if k != "num_frames"}
    out = pipe.generate_long("a red ball bounces", output=tmp_path / "a.mp4", duration=torch.tensor(41 / 24), **call)
    assert out.num_frames == 41
    for value in (torch.tensor([1.0]), torch.tensor(float("nan")), torch.tensor(True)):
        with pytest.raises(ValueError, match=r"^`duration` must be a finite number of seconds > 0, got "):
            pipe.generate_long("a red ball bounces", output=tmp_path / "b.mp4", duration=value, **call)


def test_overwrite_with_a_new_run_replaces_a_finished_runs_video(pipe, tmp_path):
    """resume=False moves a finished run's video into its folder; with overwrite=True the new run's video replaces
    it (the old run's folder is kept). A finished run found done says it wrote nothing (written=False)."""
    call, output = dict(LONG, num_frames=17), tmp_path / "a.mp4"
    first = pipe.generate_long("a red ball bounces", output=output, **call)
    assert first.written and first.chunks_generated == 1
    done = pipe.generate_long("a red ball bounces", output=output, overwrite=True, **call)
    assert not done.written and done.chunks_generated == 0
    old = output.read_bytes()
    again = pipe.generate_long("a red ball bounces", output=output, resume=False, overwrite=True, **{**call, "seed": 4})
    assert again.written and again.folder.name == "a.mp4.parts-2" and output.read_bytes() != old
    assert sorted(p.name for p in first.folder.iterdir() if p.suffix == ".mp4") == ["segment-00000.mp4"]
