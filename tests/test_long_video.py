"""generate_long: chunk layout, carry-over, closed segments and manifest, remux assembly, kill-and-resume."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from conftest import av_gates, stream_seconds

from ltx_video.io.media import read_video_tensor
from ltx_video.io.segments import atomic_path, read_wav
from ltx_video.pipelines import long_video
from ltx_video.pipelines.long_segments import colour_statistics, match_colours
from ltx_video.pipelines.long_video import ChunkLayout, chunk_seed
from ltx_video.testing import tiny_audio_video_pipeline, tiny_pipeline

# Tiny models: r = 8, 64 x 64 px (2 x 2 latents). 17-frame chunks (3 latents), overlap 8 (1 latent):
# 41 frames need 6 latents -> 3 chunks.
LONG = dict(num_frames=41, chunk_frames=17, overlap_frames=8, height=64, width=64, frame_rate=24,
            num_inference_steps=2, guidance_scale=1.0, max_sequence_length=16, seed=3)


@pytest.fixture(scope="module")
def av_pipe():
    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    return pipe


# ---------------------------------------------------------------------------------------------- layout
@pytest.mark.parametrize("num_frames,chunk,overlap,ratio", [
    (1440, 49, 8, 4), (1440, 49, 12, 4), (150, 49, 4, 4), (41, 17, 8, 8), (257, 121, 16, 8), (30, 49, 8, 4),
])
def test_segments_tile_the_video_exactly(num_frames, chunk, overlap, ratio):
    layout = ChunkLayout(num_frames, chunk, overlap, ratio)
    layout.check()
    spans = [layout.segment_pixels(k) for k in range(layout.num_chunks)]
    assert spans[0][0] == 0 and spans[-1][1] == num_frames
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))  # contiguous, no frame twice
    assert all(end > start for start, end in spans)
    for k in range(layout.num_chunks - 1):  # the next chunk starts inside this one: the overlap
        assert layout.chunk_pixels(k + 1)[0] == layout.segment_pixels(k)[1]
        assert layout.chunk_pixels(k)[1] - layout.chunk_pixels(k + 1)[0] == overlap
        first, last = layout.audio_tokens(k, 24.0, 0.02)
        next_first, _ = layout.audio_tokens(k + 1, 24.0, 0.02)
        assert first <= next_first < last  # the next chunk's audio overlaps this one's on the global grid
    # The last chunk is needed: the one before it ends before the video does.
    if layout.num_chunks > 1:
        assert layout.chunk_pixels(layout.num_chunks - 2)[1] < num_frames


def test_built_in_layout_values():
    layout = ChunkLayout(1440, 49, 8, 4)
    assert (layout.chunk_latents, layout.overlap_latents, layout.stride, layout.num_chunks) == (13, 2, 11, 33)
    assert layout.segment_pixels(0) == (0, 41) and layout.segment_pixels(1) == (41, 85)
    assert layout.chunk_pixels(1) == (41, 93)


@pytest.mark.parametrize("kwargs,message", [
    (dict(chunk_frames=20), "`chunk_frames` must be 8k + 1"),
    (dict(overlap_frames=4), "`overlap_frames` must be a multiple of 8"),
    (dict(overlap_frames=16), "`overlap_frames` must be a multiple of 8 in [8, 8]"),
    (dict(duration=2.0), "exactly one of `duration`"),
    (dict(carryover_strength=1.5), "`carryover_strength` must be in [0, 1]"),
    (dict(adain_factor=-0.1), "`adain_factor` must be in [0, 1]"),
    (dict(colour_match=2.0), "`colour_match` must be in [0, 1]"),
    (dict(colour_match_scope="video"), "`colour_match_scope` must be 'chunk' or 'frame'"),
    (dict(output="x.avi"), "`output` must end in .mp4"),
    (dict(foo=1), "unexpected argument(s) ['foo']"),
    (dict(prompt=[]), "`prompt` must be a string or a non-empty list"),
    (dict(prompt=None), "`prompt` must be a string or a non-empty list"),
    (dict(prompt=["a", "b", "c", "d"]), "`prompt` has 4 prompts but the video has 3 chunks"),
])
def test_bad_input_is_refused_before_any_work(av_pipe, tmp_path, kwargs, message):
    call = dict(LONG, prompt="a red ball bounces", output=tmp_path / "long.mp4")
    call.update(kwargs)
    with pytest.raises(ValueError) as error:
        av_pipe.generate_long(call.pop("prompt"), **call)
    assert message in str(error.value)
    assert list(tmp_path.iterdir()) == []  # nothing was written


# ---------------------------------------------------------------------------------------------- generation
def test_first_chunk_is_a_plain_call(av_pipe, tmp_path):
    """One chunk: the same latents as ``pipe(...)`` with the chunk's seed, video and audio."""
    kw = {k: v for k, v in LONG.items() if k not in ("num_frames", "seed", "chunk_frames", "overlap_frames")}
    out = av_pipe.generate_long("a red ball bounces", output=tmp_path / "one.mp4", num_frames=17, chunk_frames=17,
                                overlap_frames=8, seed=5, **kw)
    assert out.num_chunks == 1
    state = json.loads((out.folder / "manifest.json").read_text())["chunks"][0]
    from safetensors.torch import load_file

    saved = load_file(str(out.folder / state["state"]))
    expected = av_pipe("a red ball bounces", num_frames=17, output_type="latent",
                       generator=torch.Generator().manual_seed(chunk_seed(5, 0)), **kw)
    assert torch.equal(saved["reference"], expected.frames.float())
    assert torch.equal(saved["tail_audio_latents"], expected.audio_latents.float())


def test_chunks_use_the_models_guidance_unless_the_call_sets_its_own(av_pipe, tmp_path, monkeypatch):
    """A model whose generation_defaults turn STG and modality guidance on (the built-in model's) gets them in
    every chunk; stg_scale=0 and audio_modality_scale=1 turn them off, and a video-only run drops the modality
    guidance. Compared on chunk 0, which is a plain call."""
    from safetensors.torch import load_file

    from ltx_video.pipelines.generation_defaults import GenerationDefaults

    monkeypatch.setattr(av_pipe, "generation_defaults", GenerationDefaults(
        height=64, width=64, num_frames=17, frame_rate=24.0, num_inference_steps=2, guidance_scale=1.0,
        stg_scale=2.0, skip_block_list=(1,), audio_modality_scale=3.0))
    # Open audio<->video gates (zero at init), so that the exchange, and with it the modality term, acts.
    with av_gates(av_pipe.transformer, 0.5):
        kw = dict(num_frames=17, chunk_frames=17, overlap_frames=8, seed=5, max_sequence_length=16)
        plain = dict(num_frames=17, height=64, width=64, frame_rate=24.0, num_inference_steps=2, guidance_scale=1.0,
                     max_sequence_length=16, output_type="latent")

        def call(**extra):
            return av_pipe("a red ball bounces", generator=torch.Generator().manual_seed(chunk_seed(5, 0)), **plain,
                           **extra).frames.float()

        guided = call(stg_scale=2.0, skip_block_list=[1], audio_modality_scale=3.0)
        without = call(stg_scale=0.0, audio_modality_scale=1.0)  # a plain call takes the model's too: set off
        video_only = call(stg_scale=2.0, skip_block_list=[1], generate_audio=False)
        assert not torch.equal(guided, without)
        assert not torch.equal(guided, call(stg_scale=2.0, skip_block_list=[1], audio_modality_scale=1.0))  # it acts
        assert torch.equal(guided, call())  # a plain call left to the model's defaults
        rows = (("on", {}, guided), ("off", {"stg_scale": 0.0, "audio_modality_scale": 1.0}, without),
                ("video", {"generate_audio": False}, video_only),
                ("video_set", {"generate_audio": False, "modality_scale": 2.0, "audio_modality_scale": 8.0}, video_only))
        for name, extra, expected in rows:
            out = av_pipe.generate_long("a red ball bounces", output=tmp_path / f"{name}.mp4", **kw, **extra)
            state = json.loads((out.folder / "manifest.json").read_text())["chunks"][0]
            assert torch.equal(load_file(str(out.folder / state["state"]))["reference"], expected), name


def test_long_video_with_audio_is_continuous_and_exact(av_pipe, tmp_path):
    out = av_pipe.generate_long(["a red ball bounces", "a blue square slides"], output=tmp_path / "long.mp4", **LONG)
    assert out.num_chunks == 3 and out.chunks_generated == 3
    manifest = json.loads((out.folder / "manifest.json").read_text())
    chunks = manifest["chunks"]
    assert [c["frames"] for c in chunks] == [9, 16, 16] and sum(c["frames"] for c in chunks) == 41
    assert [c["first_frame"] for c in chunks] == [0, 9, 25]
    assert [c["prompt"] for c in chunks] == ["a red ball bounces", "a red ball bounces", "a blue square slides"]
    assert [c["seed"] for c in chunks] == [chunk_seed(3, k) for k in range(3)]
    # The final video is the segments' H.264 packets remuxed: the same decoded frames, in order.
    video, fps = read_video_tensor(out.path)
    pieces = [read_video_tensor(out.folder / c["video"])[0] for c in chunks]
    assert fps == 24 and torch.equal(video, torch.cat(pieces))
    # The audio: exactly the video's duration, encoded once from the segments' lossless WAVs.
    seconds, counts = stream_seconds(out.path)
    assert counts["video"] == 41 and seconds["video"] == pytest.approx(41 / 24, abs=1e-9)
    assert seconds["audio"] == pytest.approx(41 / 24, abs=0.5 / 16000)  # to the sample
    samples = [read_wav(out.folder / c["audio"])[0].shape[1] for c in chunks]
    assert samples == [c["samples"] for c in chunks] and sum(samples) == round(41 / 24 * 16000)
    # Calling again finds it done; the state between chunks is only the last one's.
    again = av_pipe.generate_long(["a red ball bounces", "a blue square slides"], output=tmp_path / "long.mp4", **LONG)
    assert again.chunks_generated == 0
    assert sorted(p.name for p in out.folder.glob("state-*")) == ["state-00002.safetensors"]


def test_match_colours_moves_each_channel_toward_the_reference():
    rng = np.random.default_rng(0)
    frames = rng.uniform(0, 200, (3, 4, 5, 3)).astype(np.float32)
    reference = np.array([[100.0, 50.0, 150.0], [10.0, 40.0, 5.0]])
    matched = match_colours(frames, reference, 1.0)
    assert np.allclose(colour_statistics(matched), reference, rtol=1e-5)
    half = colour_statistics(match_colours(frames, reference, 0.5))
    assert np.allclose(half, (colour_statistics(frames) + reference) / 2, rtol=1e-5)
    assert np.allclose(match_colours(frames, reference, 0.0), frames, atol=1e-4)
    flat = np.full((2, 2, 2, 3), 7.0, np.float32)  # a flat channel keeps gain 1, moves only its mean
    assert np.allclose(match_colours(flat, reference, 1.0)[..., 0], 100.0)
    # per frame: every frame gets the reference's statistics, however far apart the frames were
    frames[1] += 40.0
    each = match_colours(frames, reference, 1.0, per_frame=True)
    assert all(np.allclose(colour_statistics(frame[None]), reference, rtol=1e-5) for frame in each)
    assert not np.allclose(colour_statistics(match_colours(frames, reference, 1.0)[1][None]), reference, rtol=1e-2)
    # fitted to the first frames only (what a chunk writes): those get the reference's statistics, the rest the same map
    frames[2] = 255.0 - frames[2]
    written = match_colours(frames, reference, 1.0, statistics=colour_statistics(frames[:2]))
    assert np.allclose(colour_statistics(written[:2]), reference, rtol=1e-5)
    assert not np.allclose(colour_statistics(written), reference, rtol=1e-2)
    mean, std = colour_statistics(frames[:2])
    assert np.allclose(written[2], (frames[2] - mean) * (reference[1] / std) + reference[0], rtol=1e-5)


def test_colour_match_leaves_the_first_chunk_and_pulls_the_rest(av_pipe, tmp_path):
    """The first segment is the same either way; later ones differ, with their colours nearer the first chunk's."""
    outs = {m: av_pipe.generate_long("a red ball bounces", output=tmp_path / f"c{m}.mp4", colour_match=m, **LONG)
            for m in (0.0, 1.0)}
    manifests = {m: json.loads((o.folder / "manifest.json").read_text()) for m, o in outs.items()}
    assert manifests[1.0]["arguments"]["colour_match"] == 1.0
    segments = {m: [read_video_tensor(o.folder / c["video"])[0].float() for c in manifests[m]["chunks"]]
                for m, o in outs.items()}
    assert torch.equal(segments[0.0][0], segments[1.0][0])

    def distance(m):  # the last segment's per-channel mean colour against the first's
        first, last = segments[m][0], segments[m][-1]
        dims = [d for d in range(first.dim()) if first.shape[d] != 3]
        return (first.mean(dim=dims) - last.mean(dim=dims)).norm().item()

    assert not torch.equal(segments[0.0][-1], segments[1.0][-1])
    assert distance(1.0) < distance(0.0)

    # per frame: the first chunk's frames are matched too (to their own chunk's statistics), and the scope is recorded
    framed = av_pipe.generate_long("a red ball bounces", output=tmp_path / "frames.mp4", colour_match=1.0,
                                   colour_match_scope="frame", **LONG)
    manifest = json.loads((framed.folder / "manifest.json").read_text())
    assert manifest["arguments"]["colour_match_scope"] == "frame"
    assert "colour_match_scope" not in manifests[1.0]["arguments"]  # the default is not recorded: old runs resume
    first = read_video_tensor(framed.folder / manifest["chunks"][0]["video"])[0].float()
    assert not torch.equal(first, segments[1.0][0])


def test_colour_match_holds_every_written_segment_to_the_first(av_pipe, tmp_path, monkeypatch):
    """With colour_match=1 each segment, as written (cross-fade included; the last one cut at the video's end), has
    the first segment's per-channel mean and std, up to uint8 rounding and clipping (about 0.2 of 255 here; fitted to
    the chunk's whole decode before the cross-fade, as until 2026-12-05, the std was 1.3 off). A tiny factor changes
    the video by no more than rounding."""
    from ltx_video.pipelines import long_video

    written, real = [], long_video.write_segment

    def spy(path, frames, *args, **kwargs):
        written.append(frames)
        return real(path, frames, *args, **kwargs)

    monkeypatch.setattr(long_video, "write_segment", spy)
    for m in (0.0, 1.0, 1e-6):
        av_pipe.generate_long("a red ball bounces", output=tmp_path / f"w{m}.mp4", colour_match=m, **LONG)
    plain, matched, tiny = written[:3], written[3:6], written[6:]
    assert len(tiny) == 3 and [len(s) for s in matched] == [9, 16, 16]  # the last chunk decodes 17, shows 16
    assert np.array_equal(plain[0], matched[0])
    deviation = [np.abs(colour_statistics(seg) - colour_statistics(matched[0])).max() for seg in matched[1:]]
    unmatched = [np.abs(colour_statistics(seg) - colour_statistics(plain[0])).max() for seg in plain[1:]]
    assert max(deviation) < 0.5 < min(unmatched)
    assert all(np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(plain, tiny, strict=True))


def test_colour_match_defaults_to_on_for_one_prompt_and_resumes_a_runs_own(av_pipe, tmp_path):
    """Left out, colour_match is 1 with one prompt (or one repeated) and 0 when the prompts differ. A run recorded
    with 0 (as every run started before this default) and interrupted resumes with 0 when the call leaves it out,
    and gives the file of an uninterrupted colour_match=0 run, byte for byte."""
    def recorded(out):
        return json.loads((out.folder / "manifest.json").read_text())["arguments"]

    one = av_pipe.generate_long("a red ball bounces", output=tmp_path / "one.mp4", **LONG)
    assert recorded(one)["colour_match"] == 1.0 and recorded(one)["colour_fit"] == 3
    explicit = av_pipe.generate_long("a red ball bounces", output=tmp_path / "explicit.mp4", colour_match=1.0, **LONG)
    assert one.path.read_bytes() == explicit.path.read_bytes()
    repeated = av_pipe.generate_long(["a red ball bounces"] * 2, output=tmp_path / "repeated.mp4", **LONG)
    assert recorded(repeated)["colour_match"] == 1.0
    mixed = av_pipe.generate_long(["a red ball bounces", "a blue square slides"], output=tmp_path / "mixed.mp4",
                                  **LONG)
    assert recorded(mixed)["colour_match"] == 0.0 and "colour_fit" not in recorded(mixed)

    def stop(pipe, step, t, tensors):
        if pipe.current_chunk == 1:
            pipe._interrupt = True
        return tensors

    output = tmp_path / "old.mp4"
    cut = av_pipe.generate_long("a red ball bounces", output=output, colour_match=0.0, callback_on_step_end=stop,
                                **LONG)
    assert cut.path is None
    resumed = av_pipe.generate_long("a red ball bounces", output=output, **LONG)
    assert resumed.chunks_generated == 2 and recorded(resumed)["colour_match"] == 0.0
    plain = av_pipe.generate_long("a red ball bounces", output=tmp_path / "plain.mp4", colour_match=0.0, **LONG)
    assert output.read_bytes() == plain.path.read_bytes()
    assert output.read_bytes() != one.path.read_bytes()
    # resume=False: the default for the call, not the old run's
    fresh = av_pipe.generate_long("a red ball bounces", output=output, resume=False, **LONG)
    assert recorded(fresh)["colour_match"] == 1.0 and fresh.path.read_bytes() == one.path.read_bytes()


def test_colour_match_does_not_resume_a_run_fitted_the_old_way(av_pipe, tmp_path):
    """A run with colour_match started before the fit changed (no `colour_fit` in its manifest) is refused with a
    clear error; resume=False starts over beside it."""
    out = av_pipe.generate_long("a red ball bounces", output=tmp_path / "old.mp4", colour_match=1.0, **LONG)
    path = out.folder / "manifest.json"
    manifest = json.loads(path.read_text())
    assert manifest["arguments"]["colour_fit"] == 3
    del manifest["arguments"]["colour_fit"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="version of ltx_video whose colour matching differs.*resume=False"):
        av_pipe.generate_long("a red ball bounces", output=tmp_path / "old.mp4", colour_match=1.0, **LONG)
    again = av_pipe.generate_long("a red ball bounces", output=tmp_path / "old.mp4", colour_match=1.0, resume=False,
                                  **LONG)
    assert again.folder != out.folder and path.is_file()


def test_carry_over_holds_the_overlap(av_pipe, tmp_path):
    """Strength 1: chunk 1's first latent frame starts as chunk 0's overlap, exactly, and is held (mask 1, for the
    audio's overlap tokens too); strength 0 starts it from noise."""
    from safetensors.torch import load_file

    def states(strength, name):
        captured = []
        original = av_pipe.run_denoising

        def spy(plan, state, **kw):
            result = original(plan, state, **kw)
            captured.append((state, kw["audio"]))
            return result

        av_pipe.run_denoising = spy
        try:
            out = av_pipe.generate_long("a red ball bounces", output=tmp_path / f"{name}.mp4", carryover_strength=strength,
                                        anchor=False, adain_factor=0.0, **LONG)
        finally:
            del av_pipe.run_denoising
        return out, captured

    out, captured = states(1.0, "held")
    chunk0 = load_file(str(out.folder / "state-00002.safetensors"))["reference"]  # chunk 0's latents
    video1, audio1 = captured[1]
    first_tokens = video1.latents[:, :4]  # chunk 1's first latent frame (2 x 2 tokens)
    assert torch.equal(first_tokens, chunk0[:, :, 2].flatten(2).transpose(1, 2))
    assert (video1.conditioning_mask[:, :4] == 1).all() and (video1.conditioning_mask[:, 4:] == 0).all()
    assert audio1.conditioning_mask is not None and (audio1.conditioning_mask[:, 0] == 1).all()
    _, captured = states(0.0, "free")
    video1, _ = captured[1]
    assert not torch.equal(video1.latents[:, :4], chunk0[:, :, 2].flatten(2).transpose(1, 2))


def test_video_only_pipeline(tmp_path):
    pipe = tiny_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    out = pipe.generate_long("a red ball bounces", output=tmp_path / "v.mp4", **LONG)
    seconds, counts = stream_seconds(out.path)
    assert set(seconds) == {"video"} and counts["video"] == 41
    assert not list(out.folder.glob("*.wav"))


def test_interrupt_keeps_finished_chunks(av_pipe, tmp_path):
    def stop(pipe, step, t, tensors):
        if pipe.current_chunk == 1:
            pipe._interrupt = True
        return tensors

    out = av_pipe.generate_long("a red ball bounces", output=tmp_path / "i.mp4", callback_on_step_end=stop, **LONG)
    assert out.path is None and not (tmp_path / "i.mp4").exists()
    manifest = json.loads((out.folder / "manifest.json").read_text())
    assert len(manifest["chunks"]) == 1 and not (out.folder / "segment-00001.mp4").exists()


# ---------------------------------------------------------------------------------------------- resuming
def test_the_same_call_without_a_seed_resumes_its_run(av_pipe, tmp_path):
    """No ``seed``: the first call draws one and records it; the same call again (a crash, a re-run) continues with
    the recorded seed instead of refusing a newly drawn one."""
    output, args = tmp_path / "long.mp4", {k: v for k, v in LONG.items() if k != "seed"}
    def stop_after_first_chunk(pipe, i, t, tensors):
        if pipe.current_chunk == 1:
            pipe._interrupt = True
        return tensors

    first = av_pipe.generate_long("a red ball bounces", output=output, callback_on_step_end=stop_after_first_chunk, **args)
    assert first.path is None and first.chunks_generated == 1
    seed = json.loads((first.folder / "manifest.json").read_text())["arguments"]["seed"]
    resumed = av_pipe.generate_long("a red ball bounces", output=output, **args)
    chunks = json.loads((resumed.folder / "manifest.json").read_text())["chunks"]
    assert resumed.chunks_generated == 2 and [c["seed"] for c in chunks] == [chunk_seed(seed, k) for k in range(3)]
    with pytest.raises(ValueError, match=r"`stg_scale` is 1 but the run in .* was started with 0"):  # not `extra`
        av_pipe.generate_long("a red ball bounces", output=output, stg_scale=1, **args)
    # the value a left-out stg_scale stands for, given: the same run (refused as "started with None" before)
    assert av_pipe.generate_long("a red ball bounces", output=output, stg_scale=0, **args).chunks_generated == 0


def test_other_arguments_are_refused_and_resume_false_starts_a_new_folder(av_pipe, tmp_path):
    output = tmp_path / "long.mp4"
    first = av_pipe.generate_long("a red ball bounces", output=output, **LONG)
    with pytest.raises(ValueError, match=r"`carryover_strength` is 0.5 but the run in .* was started with 0.8"):
        av_pipe.generate_long("a red ball bounces", output=output, **dict(LONG, carryover_strength=0.5))
    with pytest.raises(ValueError, match="`seed` is 4"):
        av_pipe.generate_long("a red ball bounces", output=output, **dict(LONG, seed=4))
    old_bytes = output.read_bytes()
    second = av_pipe.generate_long("a red ball bounces", output=output, resume=False, **dict(LONG, seed=4))
    assert second.folder.name == "long.mp4.parts-2" and second.chunks_generated == 3
    assert (first.folder / "manifest.json").is_file()  # the old run is kept, its video moved beside it
    assert (first.folder / "long.mp4").read_bytes() == old_bytes


def test_killed_between_checksum_and_move_finds_its_own_file(av_pipe, tmp_path, monkeypatch):
    # The checksum is recorded before the assembled file is moved to `output`: a run stopped between the two
    # leaves the file in its folder, and the next call moves it into place without generating or assembling again.
    output = tmp_path / "long.mp4"
    out = av_pipe.generate_long("a red ball bounces", output=output, **LONG)
    made = output.read_bytes()
    assert not list(tmp_path.glob(".*partial*"))  # nothing is assembled beside the user's files
    os.replace(output, out.folder / "assembled.mp4")

    def assemble(*args, **kwargs):
        raise AssertionError("assembled again")

    monkeypatch.setattr(long_video, "assemble_segments", assemble)
    again = av_pipe.generate_long("a red ball bounces", output=output, **LONG)
    assert again.chunks_generated == 0 and output.read_bytes() == made
    assert not (out.folder / "assembled.mp4").exists()


def test_changed_segment_is_refused(av_pipe, tmp_path):
    output = tmp_path / "long.mp4"
    out = av_pipe.generate_long("a red ball bounces", output=output, **LONG)
    segment = out.folder / "segment-00001.mp4"
    segment.write_bytes(segment.read_bytes()[:-10])
    with pytest.raises(ValueError, match="segment-00001.mp4 is missing or changed"):
        av_pipe.generate_long("a red ball bounces", output=output, **LONG)


HOLDER = textwrap.dedent("""
    import fcntl, os, sys
    os.makedirs(sys.argv[1], exist_ok=True)
    fd = os.open(os.path.join(sys.argv[1], ".lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a run of generate_long holds it
    os.write(fd, f"{os.getpid()}\\n".encode())
    print("ready", flush=True)
    sys.stdin.read()
""")


def test_a_second_process_on_one_output_is_refused_until_the_first_dies(av_pipe, tmp_path):
    # Two runs on one output both went on: the second took over the first's manifest (no chunk finished yet) and
    # mixed its prompt's chunks into the first's video, or both wrote one partial file (FileNotFoundError).
    pytest.importorskip("fcntl")
    output = tmp_path / "long.mp4"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "long.mp4.parts")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "ready\n"
        for resume in (True, False):
            with pytest.raises(ValueError, match=rf"process {holder.pid} is running a long video into `output`"):
                av_pipe.generate_long("a red ball bounces", output=output, resume=resume, **LONG)
    finally:
        holder.kill()  # SIGKILL: the operating system drops its lock
        holder.wait()
    out = av_pipe.generate_long("a red ball bounces", output=output, **dict(LONG, num_frames=17))
    assert out.chunks_generated == 1 and out.folder.name == "long.mp4.parts"
    # released at the call's end, an error's too (it was held until the run object went: a notebook's last
    # traceback kept it, refusing every other process)
    with pytest.raises(ValueError, match="was started with") as refused:
        av_pipe.generate_long("a red ball bounces", output=output, **dict(LONG, num_frames=25))
    probe = "import fcntl, os, sys; fcntl.flock(os.open(sys.argv[1], os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)"
    subprocess.run([sys.executable, "-c", probe, str(out.folder / ".lock")], check=True)
    assert refused.value.__traceback__ is not None  # kept alive, as a notebook keeps the last error
    with atomic_path(tmp_path / "x.mp4") as partial:  # each process writes under a name of its own
        assert f".{os.getpid()}." in partial.name
        partial.write_bytes(b"")


def test_a_restart_never_replaces_an_earlier_video_and_the_newest_run_is_continued(av_pipe, tmp_path):
    # A restart moved the finished video onto the one an earlier restart had moved into `.parts` (after the user
    # deleted `.parts-2`), destroying it; and with a folder deleted, resume continued the run before the gap.
    output, call = tmp_path / "long.mp4", dict(LONG, num_frames=17)  # one chunk each
    av_pipe.generate_long("a red ball bounces", output=output, **call)
    videos = [output.read_bytes()]
    av_pipe.generate_long("a red ball bounces", output=output, resume=False, **dict(call, seed=4))
    videos.append(output.read_bytes())
    shutil.rmtree(tmp_path / "long.mp4.parts-2")
    third = av_pipe.generate_long("a red ball bounces", output=output, resume=False, **dict(call, seed=5))
    assert third.folder.name == "long.mp4.parts-2"
    assert sorted(p.read_bytes() for p in (tmp_path / "long.mp4.parts").glob("long*.mp4")) == sorted(videos)
    fourth = av_pipe.generate_long("a red ball bounces", output=output, resume=False, **dict(call, seed=6))
    shutil.rmtree(third.folder)
    again = av_pipe.generate_long("a red ball bounces", output=output, **dict(call, seed=6))
    assert again.folder == fourth.folder and again.chunks_generated == 0


def test_a_folder_without_its_manifest_is_refused_and_an_empty_one_is_no_run(av_pipe, tmp_path):
    # Both started over silently: the run regenerated and the finished video was moved aside.
    output, call = tmp_path / "long.mp4", dict(LONG, num_frames=17)
    first = av_pipe.generate_long("a red ball bounces", output=output, **call)
    made = output.read_bytes()
    (tmp_path / "long.mp4.parts-2").mkdir()  # a restart killed between making its folder and its manifest
    again = av_pipe.generate_long("a red ball bounces", output=output, **call)
    assert again.folder == first.folder and again.chunks_generated == 0 and output.read_bytes() == made
    (first.folder / "manifest.json").unlink()
    with pytest.raises(ValueError, match=r"long.mp4.parts holds a run's files but no manifest.json"):
        av_pipe.generate_long("a red ball bounces", output=output, **call)
    assert output.read_bytes() == made


def test_what_killed_runs_leave_is_removed_on_resume(av_pipe, tmp_path):
    # A kill between saving the manifest and removing the previous chunk's state left that state file for good.
    output, call = tmp_path / "long.mp4", dict(LONG, num_frames=25)  # two chunks
    out = av_pipe.generate_long("a red ball bounces", output=output, **call)
    shutil.copy(out.folder / "state-00001.safetensors", out.folder / "state-00000.safetensors")
    (out.folder / ".segment-00001.123.partial.mp4").write_bytes(b"a killed process's")
    assert av_pipe.generate_long("a red ball bounces", output=output, **call).chunks_generated == 0
    assert sorted(p.name for p in out.folder.glob("*state*")) == ["state-00001.safetensors"]
    assert not list(out.folder.glob("*partial*"))


KILLER = textwrap.dedent("""
    import os, signal, sys
    import torch
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))  # the test process's count (conftest): the same numbers
    from ltx_video.testing import tiny_audio_video_pipeline
    import ltx_video.pipelines.long_video as long_video
    where, output, call = sys.argv[1], sys.argv[2], eval(sys.argv[3])
    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)

    def kill_in_chunk(pipe, step, t, tensors):
        if where == "chunk" and pipe.current_chunk == 1 and step == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        return tensors

    if where == "assembly":
        original = long_video.assemble_segments
        def assemble(*args, **kwargs):
            def after(k):
                if k == 1:
                    os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, on_segment=after, **kwargs)
        long_video.assemble_segments = assemble
    pipe.generate_long("a red ball bounces", output=output, callback_on_step_end=kill_in_chunk, **call)
""")


@pytest.mark.parametrize("where", ["chunk", "assembly"])
def test_sigkill_then_resume_gives_the_uninterrupted_video(av_pipe, tmp_path, where):
    reference = av_pipe.generate_long("a red ball bounces", output=tmp_path / "ref" / "long.mp4", **LONG)
    output = tmp_path / "run" / "long.mp4"
    output.parent.mkdir()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    killed = subprocess.run([sys.executable, "-c", KILLER, where, str(output), repr(LONG)], env=env,
                            capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not output.exists()
    folder = output.with_name("long.mp4.parts")
    finished = json.loads((folder / "manifest.json").read_text())["chunks"]
    assert len(finished) == (1 if where == "chunk" else 3)
    kept = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("segment-*")
            if p.name.startswith(tuple(c["video"][:-4] for c in finished))}
    resumed = av_pipe.generate_long("a red ball bounces", output=output, **LONG)
    assert resumed.chunks_generated == 3 - len(finished)
    assert output.read_bytes() == reference.path.read_bytes()  # the same file, byte for byte
    for name, stamp in kept.items():  # finished segments were not rewritten
        path = folder / name
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == stamp


# ---------------------------------------------------------------------------------------------- the loop
def test_audio_conditioning_mask_holds_tokens():
    from ltx_video.pipelines import denoising

    torch.manual_seed(0)
    video = denoising.LatentState(latents=torch.randn(1, 4, 3), positions=torch.zeros(1, 3, 4))
    audio_latents = torch.randn(1, 6, 2)
    mask = torch.tensor([[1.0, 1.0, 0.5, 0.0, 0.0, 0.0]])
    audio = denoising.AudioLatentState(latents=audio_latents, positions=torch.zeros(1, 6), conditioning_mask=mask)
    seen = []

    def model(latents, timestep, positions, guidance, a_latents, a_timestep, a_positions):
        seen.append(a_timestep.clone())
        return torch.ones_like(latents), torch.ones_like(a_latents)

    timesteps = torch.tensor([1000.0, 600.0, 300.0])
    sigmas = torch.tensor([1.0, 0.6, 0.3, 0.0])
    guidance = denoising.guidance_schedule(timesteps, guidance_scale=1.0, stg_scale=0.0, rescaling_scale=0.0,
                                           skip_block_list=[], guidance_rescale=0.0, cfg_star_rescale=False,
                                           guidance_timesteps=None)
    _, out = denoising.denoise(model, video, timesteps, sigmas, guidance, audio=audio)
    assert torch.equal(out.latents[:, :2], audio_latents[:, :2])  # held tokens never move
    assert torch.allclose(out.latents[:, 3:], audio_latents[:, 3:] - 1.0)  # free tokens: sigma 1 -> 0
    # Strength 0.5: stepped only once the schedule is below 0.5 (as the video's tokens): from 0.3 to 0.
    assert torch.allclose(out.latents[:, 2], audio_latents[:, 2] - 0.3)
    assert torch.equal(seen[0][0], torch.tensor([0.0, 0.0, 500.0, 1000.0, 1000.0, 1000.0]))


def test_arguments_that_fail_in_a_chunk_are_refused_before_the_folder(av_pipe, tmp_path):
    """Arguments checked by the pipeline's own input checks (here a bad step count) fail before any file exists;
    and a run that never finished a chunk takes new arguments."""
    with pytest.raises(ValueError, match="num_inference_steps"):
        av_pipe.generate_long("a red ball bounces", output=tmp_path / "long.mp4", **dict(LONG, num_inference_steps=0))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="audio_guidance_scale"):
        av_pipe.generate_long("a red ball bounces", output=tmp_path / "long.mp4", audio_guidance_scale=-1.0, **LONG)
    assert list(tmp_path.iterdir()) == []

    def stop(pipe, step, t, tensors):
        pipe._interrupt = True
        return tensors

    first = av_pipe.generate_long("a red ball bounces", output=tmp_path / "long.mp4", callback_on_step_end=stop, **LONG)
    assert first.path is None
    again = av_pipe.generate_long("a red ball bounces", output=tmp_path / "long.mp4", **dict(LONG, seed=9))
    assert again.folder == first.folder and again.chunks_generated == 3
