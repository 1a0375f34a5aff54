"""generate_long runs beside one another and under the pipeline's state: two runs of one process on one output, the
state saved between chunks, numpy numbers, the callback's tensor inputs and the LoRA adapters a run started with
(tiny video pipeline, r = 8)."""

from __future__ import annotations

import copy
import json
import os
import threading

import numpy as np
import pytest
import torch
from diffusers.callbacks import PipelineCallback

from ltx_video import LTXVideoPipeline
from ltx_video.io.segments import atomic_path
from ltx_video.pipelines.long_layout import ChunkLayout
from ltx_video.pipelines.long_run import LongRun

# chunks of 3 latent frames with the default overlap of 1: the tail kept for the next chunk starts at latent 0, so
# it is the chunk's whole latents, as the first chunk's reference is
LONG = dict(num_frames=25, chunk_frames=17, height=32, width=32, frame_rate=24, num_inference_steps=2,
            max_sequence_length=16, seed=0)


def _pipe(components) -> LTXVideoPipeline:
    pipe = LTXVideoPipeline(**{**components, "transformer": copy.deepcopy(components["transformer"])})
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def pipe(components):
    return _pipe(components)


def _stop_in_chunk(k: int):
    def stop(pipe, i, t, tensors):
        pipe._interrupt = pipe.current_chunk == k
        return tensors

    return stop


def test_a_second_run_in_the_same_process_is_refused_while_the_first_runs(pipe, components, tmp_path):
    """Two threads on one output both went ahead: one failed on the other's partial file (both named by the process
    id alone), the other returned a video with the first one's segment spliced in."""
    output, second = tmp_path / "same.mp4", _pipe(components)
    started, go, result = threading.Event(), threading.Event(), {}

    def hold(p, i, t, tensors):  # the first run waits inside its first chunk until the second has been refused
        if p.current_chunk == 0 and i == 0:
            started.set()
            go.wait(120)
        return tensors

    def first():
        result["first"] = pipe.generate_long("a red ball", output=output, callback_on_step_end=hold, **LONG)

    thread = threading.Thread(target=first, name="first-run")
    thread.start()
    try:
        assert started.wait(120)
        for resume in (True, False):
            with pytest.raises(ValueError, match=r"another run in this process \(thread 'first-run'\) is running a "
                                                 r"long video into `output` .*same.mp4: wait for it"):
                second.generate_long("a blue ball", output=output, resume=resume, **dict(LONG, seed=1))
    finally:
        go.set()
        thread.join()
    alone = pipe.generate_long("a red ball", output=tmp_path / "alone.mp4", **LONG)
    assert result["first"].path.read_bytes() == alone.path.read_bytes()
    assert [p.name for p in output.parent.iterdir() if p.name.startswith("same.mp4.parts")] == ["same.mp4.parts"]

    # a retry after an error, and after an interrupt, takes the lock anew and continues the run
    retry = tmp_path / "retry.mp4"

    def fail(p, i, t, tensors):
        if p.current_chunk == 1:
            raise RuntimeError("stopped by the test")
        return tensors

    with pytest.raises(RuntimeError, match="stopped by the test"):
        pipe.generate_long("a red ball", output=retry, callback_on_step_end=fail, **LONG)
    assert pipe.generate_long("a red ball", output=retry, callback_on_step_end=_stop_in_chunk(1),
                              **LONG).path is None
    out = second.generate_long("a red ball", output=retry, **LONG)
    assert out.chunks_generated == 1 and out.path.read_bytes() == alone.path.read_bytes()


def test_every_writer_has_a_partial_name_of_its_own(tmp_path):
    names = {}

    def write(key):
        with atomic_path(tmp_path / "x.mp4") as partial:
            names[key] = partial.name
            partial.write_bytes(key.encode())

    with atomic_path(tmp_path / "x.mp4") as outer:
        thread = threading.Thread(target=write, args=("thread",))
        thread.start()
        thread.join()
        outer.write_bytes(b"outer")
    assert f".{os.getpid()}." in outer.name and outer.name != names["thread"]
    assert (tmp_path / "x.mp4").read_bytes() == b"outer" and sorted(p.name for p in tmp_path.iterdir()) == ["x.mp4"]


def test_the_state_saved_between_chunks_is_its_own_memory(tmp_path):
    """A tail that starts at the chunk's first latent frame is the chunk's latents, stored as the reference too:
    safetensors refused the two ("Some tensors share memory") after chunk 0, on every retry."""
    latents = torch.randn(1, 2, 3, 2, 2)
    state = {"tail_latents": latents[:, :, 0:].contiguous(), "reference": latents, "later": latents[:, :, 1:],
             "empty": torch.zeros(0), "also_empty": torch.zeros(0)}
    run = LongRun.open(tmp_path / "a.mp4", {"prompt": ["a"]}, resume=True)
    try:
        run.finish_chunk({"index": 0, "video": "segment-00000.mp4", "video_sha256": ""}, state)
        loaded = run.load_state()
    finally:
        run.close()
    assert sorted(loaded) == sorted(state)
    assert all(torch.equal(loaded[k], state[k]) for k in state)


def test_chunks_whose_tail_is_their_whole_latents_run_and_resume_exactly(pipe, tmp_path):
    # 17-frame chunks: 3 latent frames, the tail kept from latent 0 (as 5, 9 and 13 frames on the built-in model)
    whole = pipe.generate_long("a red ball", output=tmp_path / "whole.mp4", **dict(LONG, num_frames=41))
    assert whole.num_chunks == 3 and whole.chunks_generated == 3
    resumed = tmp_path / "resumed.mp4"
    assert pipe.generate_long("a red ball", output=resumed, callback_on_step_end=_stop_in_chunk(2),
                              **dict(LONG, num_frames=41)).path is None
    out = pipe.generate_long("a red ball", output=resumed, **dict(LONG, num_frames=41))
    assert out.chunks_generated == 1 and out.path.read_bytes() == whole.path.read_bytes()


def test_numpy_numbers_are_numbers_and_recorded_as_pythons(pipe, tmp_path):
    """np.float32 durations and strengths and np.int64 frame counts were refused ("must be a finite number", "must
    be an int") while np.int64 seeds and np.float32 frame rates passed."""
    ChunkLayout(np.int64(33), np.int64(17), np.int64(8), 8).check()
    given = dict(LONG, num_frames=np.int64(25), chunk_frames=np.int64(17), overlap_frames=np.int64(8),
                 carryover_strength=np.float32(0.5), adain_factor=np.float32(0.25), colour_match=np.float32(1.0))
    out = pipe.generate_long("a red ball", output=tmp_path / "np.mp4", **given)
    recorded = json.loads((out.folder / "manifest.json").read_text())["arguments"]
    assert [recorded[k] for k in ("num_frames", "chunk_frames", "overlap_frames", "carryover_strength",
                                  "adain_factor")] == [25, 17, 8, 0.5, 0.25]
    plain = dict(LONG, overlap_frames=8, carryover_strength=0.5, adain_factor=0.25, colour_match=1.0)
    assert pipe.generate_long("a red ball", output=tmp_path / "np.mp4", **plain).chunks_generated == 0
    by_duration = pipe.generate_long("a red ball", output=tmp_path / "d.mp4",
                                     **dict(LONG, num_frames=None, duration=np.float32(1.5)))
    assert by_duration.num_frames == 36 and by_duration.num_chunks == 3
    with pytest.raises(ValueError, match=r"`duration` must be a finite number of seconds > 0, got np.float32\(nan\)"):
        pipe.generate_long("a red ball", output=tmp_path / "n.mp4",
                           **dict(LONG, num_frames=None, duration=np.float32("nan")))


class _Embeds(PipelineCallback):
    tensor_inputs = ["latents", "prompt_embeds"]

    def __init__(self, scale: float = 1.0):
        super().__init__(cutoff_step_ratio=1.0)
        self.scale, self.seen = scale, []

    def callback_fn(self, pipeline, step_index, timestep, callback_kwargs):
        self.seen.append((pipeline.current_chunk, sorted(callback_kwargs), callback_kwargs["prompt_embeds"].clone()))
        return {**callback_kwargs, "prompt_embeds": callback_kwargs["prompt_embeds"] * self.scale}


def test_the_callback_gets_the_tensor_inputs_a_plain_call_gives(pipe, tmp_path):
    """A PipelineCallback asking for prompt_embeds got the latents alone (KeyError mid-run) and the embeddings it
    returned were dropped; callback_on_step_end_tensor_inputs= was refused as an unexpected argument."""
    call = dict(LONG, guidance_scale=1.0)
    plain = _Embeds()
    pipe.current_chunk = None
    pipe("a red ball", num_frames=17, height=32, width=32, num_inference_steps=2, guidance_scale=1.0,
         max_sequence_length=16, output_type="latent", callback_on_step_end=plain)
    long = _Embeds()
    base = pipe.generate_long("a red ball", output=tmp_path / "a.mp4", callback_on_step_end=long, **call)
    names = ["latents", "negative_prompt_embeds", "prompt_embeds"]  # no CFG: no negative ones (None), as plainly
    assert plain.seen[0][1] == names
    assert [(chunk, given) for chunk, given, _ in long.seen] == [(k, names) for k in (0, 0, 1, 1)]
    assert all(torch.equal(embeds, plain.seen[0][2]) for _, _, embeds in long.seen)
    assert base.path.read_bytes() == pipe.generate_long("a red ball", output=tmp_path / "b.mp4", **call).path.read_bytes()
    changed = pipe.generate_long("a red ball", output=tmp_path / "c.mp4", callback_on_step_end=_Embeds(0.0), **call)
    assert changed.path.read_bytes() != base.path.read_bytes()  # the returned embeddings are used

    seen = []
    pipe.generate_long("a red ball", output=tmp_path / "d.mp4", callback_on_step_end_tensor_inputs=["latents",
                       "prompt_embeds"], callback_on_step_end=lambda p, i, t, kw: (seen.append(sorted(kw)), kw)[1],
                       **call)
    assert seen == [names] * 4
    with pytest.raises(ValueError, match=r"`callback_on_step_end_tensor_inputs` must be a list of names in \['latents', "
                                         r"'prompt_embeds', 'negative_prompt_embeds'\], got \['audio_latents'\]"):
        pipe.generate_long("a red ball", output=tmp_path / "e.mp4", callback_on_step_end_tensor_inputs=["audio_latents"],
                           callback_on_step_end=lambda p, i, t, kw: kw, **call)
    assert not (tmp_path / "e.mp4.parts").exists()


def _lora(transformer, seed: int = 1) -> dict:
    from peft import LoraConfig, get_peft_model_state_dict

    tuned = copy.deepcopy(transformer)
    torch.manual_seed(seed)
    tuned.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                 init_lora_weights=False))
    return {f"transformer.{k}": 3 * v for k, v in get_peft_model_state_dict(tuned).items()}


def test_a_resume_under_another_lora_state_is_refused(components, tmp_path):
    """A run started with a LoRA, stopped, then resumed after unload_lora_weights() went on without a word: chunk 0
    with the LoRA, the rest without."""
    pytest.importorskip("peft")
    pipe = _pipe(components)
    lora = _lora(pipe.transformer)
    output, call = tmp_path / "lora.mp4", dict(LONG, num_frames=41)
    plain = pipe.generate_long("a red ball", output=tmp_path / "plain.mp4", **call)
    assert json.loads((plain.folder / "manifest.json").read_text())["arguments"]["lora"] is None  # none, recorded
    pipe.load_lora_weights(lora, adapter_name="style")
    whole = pipe.generate_long("a red ball", output=tmp_path / "whole.mp4", **call)
    assert whole.path.read_bytes() != plain.path.read_bytes()
    assert pipe.generate_long("a red ball", output=output, callback_on_step_end=_stop_in_chunk(1), **call).path is None
    recorded = json.loads((output.with_name("lora.mp4.parts") / "manifest.json").read_text())["arguments"]
    assert recorded["lora"] == {"adapters": ["style"], "active": ["style"], "fused": [], "weights": {"style": 1.0}}

    refused = r"the pipeline's LoRA adapters are {} but the run in .* was started with \{{'active': \['style'\]"
    pipe.set_adapters("style", 0.5)
    with pytest.raises(ValueError, match=refused.format(r"\{'active': \['style'\], .*'weights': \{'style': 0.5\}\}")):
        pipe.generate_long("a red ball", output=output, **call)
    pipe.unload_lora_weights()
    with pytest.raises(ValueError, match=refused.format("None") + r".*load the same .* or pass resume=False"):
        pipe.generate_long("a red ball", output=output, **call)
    pipe.load_lora_weights(lora, adapter_name="style")
    pipe.transformer.register_to_config(_merged_camera_lora="/loras/camera")  # as load_camera_lora records a merge
    with pytest.raises(ValueError, match=r"the pipeline's merged camera LoRA is '/loras/camera' but the run in .* was "
                                         r"started with None"):
        pipe.generate_long("a red ball", output=output, **call)
    pipe.transformer.register_to_config(_merged_camera_lora=None)
    out = pipe.generate_long("a red ball", output=output, **call)
    assert out.chunks_generated == 2 and out.path.read_bytes() == whole.path.read_bytes()

    # A run started before the state was recorded (its manifest lacks the keys) resumes as it did then, with its LoRA
    # loaded: the review found it refused as "started with None", and unloading the LoRA, as that said, mixed chunks.
    # It cannot be checked, so the LoRA loaded now is said (a second review: a run started without it mixed silently).
    older = tmp_path / "older.mp4"
    assert pipe.generate_long("a red ball", output=older, callback_on_step_end=_stop_in_chunk(1), **call).path is None
    manifest_path = older.with_name("older.mp4.parts") / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for key in ("lora", "lora_sha256", "camera_lora", "attention"):
        del manifest["arguments"][key]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match=r"started before ltx_video recorded LoRA adapters, so it is resumed unchecked "
                                         r"with the pipeline's \{'active': \['style'\].* if it was started without them, "
                                         r"its chunks will mix; pass resume=False") as said:
        resumed = pipe.generate_long("a red ball", output=older, **call)
    assert resumed.chunks_generated == 2 and resumed.path.read_bytes() == whole.path.read_bytes()
    assert len([w for w in said if "started before ltx_video recorded" in str(w.message)]) == 1  # not attention's


def test_a_resume_under_another_lora_file_of_the_same_name_is_refused(components, tmp_path):
    """The manifest recorded the adapters' names and weights only: a run resumed after loading another LoRA file
    under the same name went on without a word. Each adapter's weights are now recorded as a SHA-256; a run recorded
    before resumes unchecked on them, with a warning."""
    pytest.importorskip("peft")
    from ltx_video.pipelines.long_state import adapter_fingerprints

    pipe = _pipe(components)
    lora, other = _lora(pipe.transformer), _lora(pipe.transformer, seed=7)
    output, call = tmp_path / "lora.mp4", dict(LONG, num_frames=41)
    pipe.load_lora_weights(lora, adapter_name="style")
    assert pipe.generate_long("a red ball", output=output, callback_on_step_end=_stop_in_chunk(1), **call).path is None
    manifest_path = output.with_name("lora.mp4.parts") / "manifest.json"
    recorded = json.loads(manifest_path.read_text())["arguments"]["lora_sha256"]
    assert list(recorded) == ["style"] and len(recorded["style"]) == 64

    pipe.unload_lora_weights()
    pipe.load_lora_weights(other, adapter_name="style")
    with pytest.raises(ValueError, match=rf"the pipeline's LoRA adapter 'style' holds weights of SHA-256 "
                                         rf"'[0-9a-f]{{64}}' but the run in .* was started with '{recorded['style']}': "
                                         r"load the same"):
        pipe.generate_long("a red ball", output=output, **call)
    pipe.unload_lora_weights()
    pipe.load_lora_weights(lora, adapter_name="renamed")  # the same file under another name: the same weights
    assert adapter_fingerprints([pipe.transformer]) == {"renamed": recorded["style"]}
    pipe.unload_lora_weights()

    # a run recorded before the weights were (its LoRA adapters recorded): resumed unchecked on them, and said
    manifest = json.loads(manifest_path.read_text())
    del manifest["arguments"]["lora_sha256"]
    manifest_path.write_text(json.dumps(manifest))
    pipe.load_lora_weights(lora, adapter_name="style")
    with pytest.warns(UserWarning, match=r"started before ltx_video recorded the LoRA adapters' weights \(a SHA-256 "
                                         r"of each\), so it is resumed unchecked .*'style'.* if it was started with "
                                         r"other LoRA files loaded under these names, its chunks will mix"):
        assert pipe.generate_long("a red ball", output=output, **call).chunks_generated == 2


def test_a_resume_under_other_approximate_attention_is_refused(components, tmp_path):
    """A run started with dense attention, stopped, then resumed under ltx_block_sparse went on without a word: chunk 0
    dense, the rest block-sparse. SDPA and ltx_chunked are exact (not recorded); block-sparse and its options are."""
    from ltx_video.attention import BlockSparsePattern

    pipe = _pipe(components)
    call = dict(LONG, num_frames=41, height=64, width=64)  # 12 tokens a chunk: blocks of 2 leave some out
    sparse = dict(pattern=BlockSparsePattern(block_size=2, global_stride=4), min_tokens=0, dense_steps=0,
                  dense_blocks=())
    try:
        dense = pipe.generate_long("a red ball", output=tmp_path / "dense.mp4", **call)
        assert json.loads((dense.folder / "manifest.json").read_text())["arguments"]["attention"] is None
        pipe.enable_efficient_attention("ltx_block_sparse", **sparse)
        whole = pipe.generate_long("a red ball", output=tmp_path / "sparse.mp4", **call)
        assert whole.path.read_bytes() != dense.path.read_bytes()  # the pattern changes the numbers
        assert json.loads((whole.folder / "manifest.json").read_text())["arguments"]["attention"] == {
            "backend": "ltx_block_sparse", "pattern": {"block_size": 2, "global_stride": 4, "boundary": True},
            "tile_shape": [4, 4, 4], "min_tokens": 0, "dense_steps": 0, "dense_blocks": []}

        started_dense = tmp_path / "a.mp4"
        pipe.disable_efficient_attention()
        assert pipe.generate_long("a red ball", output=started_dense, callback_on_step_end=_stop_in_chunk(1),
                                  **call).path is None
        pipe.enable_efficient_attention("ltx_block_sparse", **sparse)
        with pytest.raises(ValueError, match=r"the pipeline's approximate attention is \{'backend': 'ltx_block_sparse"
                                             r"', .*\} but the run in .* was started with None: switch to the same "
                                             r"\(enable_efficient_attention, disable_efficient_attention\)"):
            pipe.generate_long("a red ball", output=started_dense, **call)
        pipe.enable_efficient_attention("ltx_chunked")  # exact: the run goes on (as SDPA's does, below)
        out = pipe.generate_long("a red ball", output=started_dense, **call)
        assert out.chunks_generated == 2 and out.path is not None

        started_sparse = tmp_path / "b.mp4"
        pipe.enable_efficient_attention("ltx_block_sparse", **sparse)
        assert pipe.generate_long("a red ball", output=started_sparse, callback_on_step_end=_stop_in_chunk(1),
                                  **call).path is None
        pipe.enable_efficient_attention("ltx_block_sparse", pattern=BlockSparsePattern(block_size=2, global_stride=2))
        with pytest.raises(ValueError, match=r"approximate attention is .*'global_stride': 2.* but the run in .* was "
                                             r"started with .*'global_stride': 4"):
            pipe.generate_long("a red ball", output=started_sparse, **call)
        pipe.disable_efficient_attention()
        with pytest.raises(ValueError, match=r"approximate attention is None but the run in .* was started with "
                                             r"\{'backend': 'ltx_block_sparse'"):
            pipe.generate_long("a red ball", output=started_sparse, **call)
        pipe.enable_efficient_attention("ltx_block_sparse", **sparse)
        out = pipe.generate_long("a red ball", output=started_sparse, **call)
        assert out.chunks_generated == 2 and out.path.read_bytes() == whole.path.read_bytes()

        started_dense = tmp_path / "c.mp4"  # and a run started dense resumes dense, as runs recorded before resume
        pipe.disable_efficient_attention()
        pipe.generate_long("a red ball", output=started_dense, callback_on_step_end=_stop_in_chunk(1), **call)
        out = pipe.generate_long("a red ball", output=started_dense, **call)
        assert out.chunks_generated == 2 and out.path.read_bytes() == dense.path.read_bytes()
    finally:
        pipe.disable_efficient_attention()


def test_a_resume_under_another_scheduler_or_default_schedule_is_refused(components, tmp_path):
    """A run stopped in chunk 1, resumed after `pipe.scheduler = ...from_config(..., shift=3.0)`, a scheduler with
    stochastic_sampling=True or `pipe.default_timestep_schedule = "shifted"`, went on without a word: chunk 0 of one
    schedule, chunk 1 of the other. The scheduler (class, public config) and the default schedule are recorded."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    pipe = _pipe(components)
    base = pipe.scheduler
    shifted = dict(LONG, timestep_schedule="shifted")
    whole = pipe.generate_long("a red ball", output=tmp_path / "whole.mp4", **shifted)
    recorded = json.loads((whole.folder / "manifest.json").read_text())["arguments"]
    assert recorded["scheduler"] == {"class": "FlowMatchEulerDiscreteScheduler",
                                     "config": {k: v for k, v in json.loads(json.dumps(dict(base.config))).items()
                                                if not k.startswith("_")}}
    assert recorded["default_timestep_schedule"] is None  # the call gives its schedule: the default is not read

    output = tmp_path / "swapped.mp4"
    assert pipe.generate_long("a red ball", output=output, callback_on_step_end=_stop_in_chunk(1), **shifted).path is None
    for setting, message in ((dict(shift=3.0), r"shift is 3.0 but the run in .* was started with 1.0"),
                             (dict(stochastic_sampling=True), r"stochastic_sampling is True but the run in .* was "
                                                              r"started with False")):
        pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(base.config, **setting)
        with pytest.raises(ValueError, match=r"the pipeline's scheduler's " + message + r": set pipe.scheduler to one "
                                             r"of the same class and settings \(from_config\) to resume it"):
            pipe.generate_long("a red ball", output=output, **shifted)
    pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(base.config)  # the same settings: the run goes on
    out = pipe.generate_long("a red ball", output=output, **shifted)
    assert out.chunks_generated == 1 and out.path.read_bytes() == whole.path.read_bytes()

    plain = pipe.generate_long("a red ball", output=tmp_path / "plain.mp4", **LONG)
    assert json.loads((plain.folder / "manifest.json").read_text())["arguments"]["default_timestep_schedule"] == (
        "linear_quadratic")
    output = tmp_path / "default.mp4"
    assert pipe.generate_long("a red ball", output=output, callback_on_step_end=_stop_in_chunk(1), **LONG).path is None
    pipe.default_timestep_schedule = "shifted"
    with pytest.raises(ValueError, match=r"the pipeline's default_timestep_schedule is 'shifted' but the run in .* was "
                                         r"started with 'linear_quadratic': set pipe.default_timestep_schedule back"):
        pipe.generate_long("a red ball", output=output, **LONG)
    del pipe.default_timestep_schedule  # the class's again
    out = pipe.generate_long("a red ball", output=output, **LONG)
    assert out.chunks_generated == 1 and out.path.read_bytes() == plain.path.read_bytes()

    # LTX-Video's schedule reads no shift or sigma spacing: a resume after changing them goes on (the review found it
    # refused, though both whole runs are byte-identical); the stochastic flag it reads is still compared
    assert json.loads((plain.folder / "manifest.json").read_text())["arguments"]["scheduler"] == {
        "class": "FlowMatchEulerDiscreteScheduler", "config": {"num_train_timesteps": 1000, "stochastic_sampling": False}}
    output = tmp_path / "shift_unread.mp4"
    assert pipe.generate_long("a red ball", output=output, callback_on_step_end=_stop_in_chunk(1), **LONG).path is None
    pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(base.config, stochastic_sampling=True)
    with pytest.raises(ValueError, match=r"scheduler's stochastic_sampling is True but the run in .* was started with "
                                         r"False"):
        pipe.generate_long("a red ball", output=output, **LONG)
    pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(base.config, shift=3.0, use_karras_sigmas=True)
    out = pipe.generate_long("a red ball", output=output, **LONG)
    assert out.chunks_generated == 1 and out.path.read_bytes() == plain.path.read_bytes()
    pipe.scheduler = base

    # A run started before they were recorded (its manifest lacks the keys) resumes as it did then.
    older = tmp_path / "older.mp4"
    assert pipe.generate_long("a red ball", output=older, callback_on_step_end=_stop_in_chunk(1), **shifted).path is None
    manifest_path = older.with_name("older.mp4.parts") / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for key in ("scheduler", "default_timestep_schedule"):
        del manifest["arguments"][key]
    manifest_path.write_text(json.dumps(manifest))
    resumed = pipe.generate_long("a red ball", output=older, **shifted)
    assert resumed.chunks_generated == 1 and resumed.path.read_bytes() == whole.path.read_bytes()


@pytest.mark.parametrize("num_frames,chunk,overlap,ratio,num_prompts", [
    (96, 49, 8, 4, 2), (240, 49, 8, 4, 4), (240, 49, 8, 4, 3), (50, 17, 8, 8, 3), (1440, 49, 8, 4, 5),
    (87, 17, 8, 8, 6),
])
def test_each_prompt_gets_about_its_share_of_the_frames(num_frames, chunk, overlap, ratio, num_prompts):
    """Prompts were spread by counting chunks (k n // num_chunks), ignoring that the last chunk is short: 2 prompts
    over 4 s of the built-in model gave the first 85 frames, the second 11. Each prompt now starts at the chunk
    boundary nearest its n-th of the frames (where a chunk spans two n-ths, its middle decides), and none is dropped."""
    from ltx_video.pipelines.long_state import chunk_prompts

    layout = ChunkLayout(num_frames, chunk, overlap, ratio)
    indices = chunk_prompts(layout, num_prompts)
    spans = [layout.segment_pixels(k) for k in range(layout.num_chunks)]
    assert indices == sorted(indices) and set(indices) == set(range(num_prompts))  # in order, every prompt
    assert all(b - a <= 1 for a, b in zip(indices, indices[1:], strict=False))
    starts = [start for start, _ in spans]
    for i in range(1, num_prompts):  # where prompt i begins: the chunk start nearest i N / n
        begins = starts[indices.index(i)]
        assert abs(begins - i * num_frames / num_prompts) == min(abs(s - i * num_frames / num_prompts) for s in starts[1:])
    if num_frames == 96:  # the reported case: each prompt within half a segment of its share
        shares = [sum(b - a for (a, b), p in zip(spans, indices, strict=True) if p == i) for i in range(num_prompts)]
        assert max(abs(s - num_frames / num_prompts) for s in shares) <= max(b - a for a, b in spans) / 2


def test_a_run_started_before_prompts_were_spread_by_frames_resumes_with_its_rule(pipe, tmp_path):
    """A manifest without `prompt_split` was written when chunk k took prompt k n // num_chunks: resumed, its later
    chunks take their prompts by that rule, not the new one (two rules in one video); a new run records "frames"."""
    from ltx_video.pipelines.long_state import chunk_prompts

    prompts = ["a red ball", "a blue square", "a green ball"]
    call = dict(LONG, num_frames=50)  # 4 chunks of 3 latent frames: the two rules give chunk 1 different prompts
    layout = ChunkLayout(50, 17, 8, 8)
    old, new = chunk_prompts(layout, 3, "chunks"), chunk_prompts(layout, 3)
    assert old != new

    def prompts_of(out):
        manifest = json.loads((out.folder / "manifest.json").read_text())
        return manifest["arguments"]["prompt_split"], [c["prompt"] for c in manifest["chunks"]]

    fresh = pipe.generate_long(prompts, output=tmp_path / "new.mp4", callback_on_step_end=_stop_in_chunk(2), **call)
    assert prompts_of(fresh) == ("frames", [prompts[i] for i in new[:2]])
    output = tmp_path / "old.mp4"
    assert pipe.generate_long(prompts, output=output, callback_on_step_end=_stop_in_chunk(1), **call).path is None
    manifest_path = output.with_name("old.mp4.parts") / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["arguments"]["prompt_split"]  # as the code before it wrote it
    manifest_path.write_text(json.dumps(manifest))
    resumed = pipe.generate_long(prompts, output=output, **call)
    chunks = json.loads(manifest_path.read_text())["chunks"]
    assert resumed.chunks_generated == 3 and [c["prompt"] for c in chunks] == [prompts[i] for i in old]


def test_a_timestep_schedule_given_as_the_default_is_the_same_run(pipe, tmp_path):
    """`timestep_schedule` given as `pipe.default_timestep_schedule` was refused on resume, "the pipeline's
    default_timestep_schedule is None but the run ... was started with 'linear_quadratic'", though it is the same
    schedule; a really different one is refused naming `timestep_schedule`."""
    default = pipe.default_timestep_schedule
    whole = pipe.generate_long("a red ball", output=tmp_path / "whole.mp4", **LONG)
    for n, (first, then) in enumerate(((None, default), (default, None))):
        output = tmp_path / f"{n}.mp4"
        started, resumed = ({} if v is None else {"timestep_schedule": v} for v in (first, then))
        assert pipe.generate_long("a red ball", output=output, callback_on_step_end=_stop_in_chunk(1), **LONG,
                                  **started).path is None
        with pytest.raises(ValueError, match=rf"^`timestep_schedule` is 'shifted' but the run in .* was started with "
                                             rf"'{default}': pass the same arguments"):
            pipe.generate_long("a red ball", output=output, timestep_schedule="shifted", **LONG)
        out = pipe.generate_long("a red ball", output=output, **LONG, **resumed)
        assert out.chunks_generated == 1 and out.path.read_bytes() == whole.path.read_bytes()
