"""`ltx-video long` from the command line: writing and resuming, one-line errors, a warning once per run, and
Ctrl-C leaving what --resume continues (the built-in model)."""

import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import stream_seconds


def test_cli_long_writes_and_resumes(tmp_path, capsys, monkeypatch):
    from ltx_video.cli import main

    output = tmp_path / "long.mp4"
    argv = ["long", "a red ball bounces", "--num-frames", "60", "--steps", "2", "--output", str(output)]
    assert main(argv) == 0
    seconds, counts = stream_seconds(output)  # the built-in model: 49-frame chunks, 8 overlap -> 2 chunks
    assert counts["video"] == 60 and seconds["audio"] == pytest.approx(60 / 24, abs=0.5 / 16000)
    assert len(json.loads((tmp_path / "long.mp4.parts" / "manifest.json").read_text())["chunks"]) == 2
    capsys.readouterr()
    assert main(argv) == 2  # an earlier run is there: --resume or --restart
    assert "--resume" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0  # already complete: nothing generated
    assert "(0 generated now)" in capsys.readouterr().out
    finished = output.read_bytes()
    import ltx_video.cli.long as long_cli

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the changed argument was refused")

    with monkeypatch.context() as patch:  # refused before the model loads (was after it: 16 s)
        patch.setattr(long_cli, "load_pipeline", no_model)
        assert main([*argv, "--resume", "--seed", "5"]) == 2  # another run's arguments, named as flags
        err = capsys.readouterr().err
        assert "--seed is 5 but the run in" in err and "--restart" in err and "resume=False" not in err
        for flag, named in ((["--steps", "3"], "--steps is 3"), (["--colour-match", "0.5"], "--colour-match is 0.5"),
                            (["--duration", "3"], "--duration 3 s is 72 frames at 24 fps but the run in"),
                            # these were refused only once the model had loaded (13-15 s here, minutes for 13B)
                            (["--stg-scale", "0"], "--stg-scale is 0.0 but the run in"),
                            (["--stg-blocks", "1"], "--stg-blocks is [1] but the run in"),  # (was --skip-block-list)
                            (["--audio-modality-scale", "2"], "--audio-modality-scale is 2.0 but the run in"),
                            (["--colour-match-scope", "frame"], "--colour-match-scope is 'frame' but the run in"),
                            (["--dtype", "bfloat16"], "--dtype is 'bfloat16' but the run in"),
                            (["--no-anchor"], "was started without --no-anchor: leave it out to resume it, or pass "
                                              "--restart"),
                            (["--no-audio"], "was started without --no-audio: leave it out to resume it")):
            assert main([*argv[:2], *argv[4:], "--resume", *flag] if flag[0] == "--duration"
                        else [*argv, "--resume", *flag]) == 2  # were --num-inference-steps, "a version ... whose
            err = capsys.readouterr().err  # colour matching"
            assert named in err and len(err.strip().splitlines()) == 1, err
        # the model's defaults given as themselves are the same run: not refused before it loads
        assert main([*argv, "--resume", "--stg-scale", "1.5", "--stg-blocks", "2", "--audio-modality-scale", "8",
                     "--modality-scale", "1", "--colour-match-scope", "chunk", "--dtype", "float32"]) == 1
        assert "the model was loaded" in capsys.readouterr().err
    assert main([*argv, "--restart"]) == 0  # a new run; the old folder keeps the finished mp4
    kept = [p / "long.mp4" for p in tmp_path.glob("long.mp4.parts*") if (p / "long.mp4").is_file()]
    assert len(kept) == 1 and kept[0].read_bytes() == finished
    capsys.readouterr()
    newest = max(tmp_path.glob("long.mp4.parts*"), key=lambda p: p.stat().st_mtime)
    manifest = json.loads((newest / "manifest.json").read_text())
    del manifest["arguments"]["writer"]  # a run started before the writer changed: its segments would not join
    (newest / "manifest.json").write_text(json.dumps(manifest))
    assert main([*argv, "--resume"]) == 2 and "video encoder settings differs" in capsys.readouterr().err



def test_cli_long_resume_compares_switches_dtype_and_guidance_before_the_model_loads(tmp_path, capsys, monkeypatch):
    """A run started with --no-anchor --no-audio --dtype bfloat16 --colour-match-scope frame --stg-scale 0 resumes
    with the same flags (what the command knows before loading is what generate_long records), and without one of
    them is refused before the model loads, in the flag's terms (was "--no-anchor (anchor) is True but ...")."""
    import ltx_video.cli.long as long_cli
    from ltx_video.cli import main

    output = tmp_path / "long.mp4"
    flags = [["--no-anchor"], ["--no-audio"], ["--dtype", "bfloat16"], ["--colour-match-scope", "frame"],
             ["--stg-scale", "0"]]
    base = ["long", "a red ball bounces", "--num-frames", "9", "--chunk-frames", "9", "--steps", "1",
            "--output", str(output)]
    argv = [*base, *sum(flags, [])]
    assert main(argv) == 0
    recorded = json.loads((tmp_path / "long.mp4.parts" / "manifest.json").read_text())["arguments"]
    assert (recorded["anchor"], recorded["audio"], recorded["dtype"]) == (False, False, "bfloat16")
    assert main([*argv, "--resume"]) == 0  # the same flags: resumed (finished, nothing generated)
    assert "(0 generated now)" in capsys.readouterr().out

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the changed argument was refused")

    monkeypatch.setattr(long_cli, "load_pipeline", no_model)
    folder = tmp_path / "long.mp4.parts"
    for left_out, needed in ((["--no-anchor"], f"--no-anchor: the run in {folder} was started with --no-anchor: pass "
                                               "it to resume it, or pass --restart"),
                             (["--no-audio"], f"--no-audio: the run in {folder} was started with --no-audio: pass it "
                                              "to resume it"),
                             (["--dtype", "bfloat16"], "--dtype is 'float32' but the run in"),
                             (["--colour-match-scope", "frame"], "--colour-match-scope is 'chunk' but the run in"),
                             (["--stg-scale", "0"], "--stg-scale is 1.5 but the run in")):  # the model's default
        assert main([*base, *sum([f for f in flags if f != left_out], []), "--resume"]) == 2, left_out
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needed in err[0], (left_out, err)


def test_cli_long_says_generate_longs_switch_refusals_in_flag_terms(tmp_path):
    """What generate_long refuses once the model is loaded, for anchor / audio, as the flags (a resume the command
    cannot check before: "`anchor` is True but ..." became "--no-anchor (anchor) is True but ...")."""
    from argparse import Namespace

    from ltx_video.cli.long import _refusal
    from ltx_video.pipelines.long_run import ArgumentMismatch

    args = Namespace(no_anchor=False, no_audio=True)
    assert _refusal(ArgumentMismatch("anchor", True, False, tmp_path), args) == (
        f"--no-anchor: the run in {tmp_path} was started with --no-anchor: pass it to resume it, or pass --restart to "
        "start over in a new folder (the old one is kept)")
    assert _refusal(ArgumentMismatch("audio", False, True, tmp_path), args).startswith(
        f"--no-audio: the run in {tmp_path} was started without --no-audio: leave it out to resume it")
    assert _refusal(ArgumentMismatch("seed", 5, 3, tmp_path), args).startswith("--seed is 5 but the run in")

@pytest.mark.parametrize("argv,needle", [
    (["--duration", "5", "--chunk-frames", "50"], "--chunk-frames must be 4k + 1"),
    (["--duration", "5", "--overlap-frames", "6"], "--overlap-frames must be a multiple of 4"),
    (["--duration", "5", "--num-frames", "10"], "--duration SECONDS or --num-frames N"),
    (["--duration", "5", "--carryover-strength", "2"], "--carryover-strength must be in [0, 1]"),
    (["--duration", "5", "--colour-match", "-1"], "--colour-match must be in [0, 1]"),
    (["--duration", "5", "--output", "x.avi"], "--output must be a file name ending in .mp4"),
    (["--duration", "5", "--resume", "--restart"], "exclude each other"),
    (["--duration", "5", "--variant", "bf16"], "--variant is for a --model folder"),  # the flag a refusal names
    (["--duration", "5", "--prompts", "missing.txt"], "give a PROMPT or --prompts"),
    (["--duration", "1", "--prompts", "{many}"], "holds 3 prompts but the video has 1 chunks"),
])
def test_cli_long_bad_input_is_one_line_exit_2(argv, needle, capsys, tmp_path):
    from ltx_video.cli import main

    many = tmp_path / "prompts.txt"
    many.write_text("a red ball bounces\n# not a prompt\n\na blue ball bounces\na green ball bounces\n")
    argv = [a.format(many=many) for a in argv]
    code = main(["long", *(["a ball"] if "--prompts" not in argv or "missing.txt" in argv else []), *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and needle in err[-1] and not any("Traceback" in line for line in err)


def test_cli_long_warns_once_about_an_unknown_prompt(tmp_path, capsys):
    from ltx_video.cli import main

    argv = ["long", "a dog runs", "--num-frames", "100", "--steps", "1", "--output", str(tmp_path / "dog.mp4")]
    assert main(argv) == 0  # 3 chunks, one warning
    assert capsys.readouterr().err.count("outside what this model was trained on") == 1


def test_cli_ctrl_c_leaves_what_resume_continues(tmp_path):
    """SIGINT (Ctrl-C) during a later chunk: exit 130 with a one-line hint; the finished segments and the manifest
    stay, and --resume completes the video from them."""
    import time

    output = tmp_path / "long.mp4"
    argv = [sys.executable, "-m", "ltx_video.cli", "long", "a red ball bounces", "--num-frames", "200", "--steps", "4",
            "--output", str(output)]
    # Ctrl-C at a terminal: SIGINT at its default. A test process started in the background (``pytest &``, CI
    # runners) ignores SIGINT, and an ignored signal stays ignored across exec: the CLI would never see it.
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, HF_HUB_OFFLINE="1"),
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    manifest = tmp_path / "long.mp4.parts" / "manifest.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if manifest.is_file() and json.loads(manifest.read_text())["chunks"]:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    assert "run the same command with --resume" in err.strip().splitlines()[-1]
    finished = len(json.loads(manifest.read_text())["chunks"])
    assert 1 <= finished < 5 and not output.exists()
    from ltx_video.cli import main

    assert main(argv[3:] + ["--resume"]) == 0
    assert stream_seconds(output)[1]["video"] == 200


def test_ctrl_c_that_c_code_turned_into_another_error_is_still_an_interrupt(monkeypatch, capsys, tmp_path):
    """SIGINT landing inside torch.tensor's shape parsing came out as "ValueError: could not determine the shape of
    object type 'torch.storage.UntypedStorage'": exit 2 with that line, not 130 with the --resume hint (seen in CI)."""
    import ltx_video.cli.long as long_cli
    from ltx_video.cli import main

    def run_long(args):
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:  # what torch's C code does with it
            raise ValueError("could not determine the shape of object type 'torch.storage.UntypedStorage'") from None

    monkeypatch.setattr(long_cli, "run_long", run_long)
    original = signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal
    try:
        assert main(["long", "a ball", "--num-frames", "60", "--output", str(tmp_path / "l.mp4")]) == 130
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    finally:
        signal.signal(signal.SIGINT, original)
    assert "interrupted; no chunk was finished" in capsys.readouterr().err.strip().splitlines()[-1]  # none began


def test_cli_an_empty_parts_folder_is_no_earlier_run(tmp_path, capsys, monkeypatch):
    """An empty OUTPUT.parts (a run killed before its manifest) was taken for an earlier run: "holds an earlier run:
    pass --resume"; generate_long counts it as none, and so does the command now (a folder with a file still is)."""
    import ltx_video.cli.long as long_cli
    from ltx_video.cli import main

    def no_model(*args, **kwargs):
        raise RuntimeError("the checks passed: the model loads")

    monkeypatch.setattr(long_cli, "load_pipeline", no_model)
    output = tmp_path / "long.mp4"
    argv = ["long", "a red ball bounces", "--num-frames", "60", "--steps", "1", "--output", str(output)]
    (tmp_path / "long.mp4.parts").mkdir()
    assert main(argv) == 1 and "the checks passed" in capsys.readouterr().err
    output.write_bytes(b"the user's own video")  # no run wrote it: --resume does not make it the run's
    assert main([*argv, "--resume"]) == 2 and "exists: pass --overwrite" in capsys.readouterr().err
    output.unlink()
    (tmp_path / "long.mp4.parts" / "segment-00000.mp4").write_bytes(b"")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "holds an earlier run: pass --resume" in err and len(err.strip().splitlines()) == 1
    assert "--overwrite" not in err  # an unfinished run refuses it
    assert main([*argv, "--overwrite"]) == 2  # started a new run, leaving the unfinished one behind without a word
    assert ("error: --overwrite: " in (err := capsys.readouterr().err) and "holds an unfinished run (long.mp4 is not "
            "written yet): pass --resume to continue it, or --restart" in err)
    output.write_bytes(b"the run's video")  # a finished run: "continue it" alone read as if work were left
    assert main(argv) == 2
    assert (f"holds an earlier run; {output} is its finished video: pass --resume to continue it (same arguments; a "
            "finished run is found done)") in capsys.readouterr().err


def test_an_interrupt_before_any_chunk_says_nothing_was_written(tmp_path, capsys):
    """Ctrl-C while the model loaded said "the finished chunks are in OUT.parts: run the same command with --resume"
    with no such folder (2026-12-07). Now that nothing was written; once a chunk is finished, its folder and --resume."""
    from argparse import Namespace

    import torch

    from ltx_video.cli import _interrupted
    from ltx_video.pipelines.long_run import LongRun

    output = tmp_path / "early.mp4"
    args = Namespace(command="long", output=output)
    said = []
    for finish in (None, "folder", "chunk"):  # no folder; a run with no chunk yet; one finished chunk
        if finish == "folder":
            run = LongRun.open(output, {"prompt": "a red ball"}, resume=False)
        if finish == "chunk":
            run.segment_path(0).write_bytes(b"a segment")
            run.finish_chunk({"index": 0, "video": run.segment_path(0).name, "video_sha256": "0"},
                             {"latents": torch.zeros(1)})
            run.close()
        assert _interrupted(args) == 130
        said.append(capsys.readouterr().err.strip())
    nothing = f"ltx-video: interrupted; no chunk was finished: {output} was not written"
    assert said == [nothing, nothing, f"ltx-video: interrupted; the finished chunks are in {output}.parts: run the "
                                      "same command with --resume to continue"]


def test_overwrite_starts_over_replacing_a_finished_video_and_a_finished_resume_writes_nothing(tmp_path, capsys):
    """After a finished run, --overwrite was refused ("pass --resume ... or --restart", never naming it), --overwrite
    --resume printed "wrote" having generated nothing, and --restart moved the video aside rather than replacing it."""
    from ltx_video.cli import main

    output = tmp_path / "v.mp4"
    argv = ["long", "a red ball bounces", "--num-frames", "9", "--chunk-frames", "9", "--steps", "1", "--output",
            str(output)]
    assert main(argv) == 0
    first = output.read_bytes()
    capsys.readouterr()
    assert main(argv) == 2
    assert "or --overwrite to start over replacing v.mp4 (the old folder is kept)" in capsys.readouterr().err
    assert main([*argv, "--overwrite", "--resume"]) == 0  # the run is finished: found done, nothing written
    out = capsys.readouterr().out
    assert "v.mp4 is already finished: 1 chunks (0 generated now)" in out and "wrote" not in out
    assert main([*argv, "--overwrite", "--seed", "4"]) == 0  # starts over; the new video replaces the old
    assert f"wrote {output}" in capsys.readouterr().out and output.read_bytes() != first
    assert (tmp_path / "v.mp4.parts-2" / "manifest.json").is_file() and not (tmp_path / "v.mp4.parts" / "v.mp4").exists()
