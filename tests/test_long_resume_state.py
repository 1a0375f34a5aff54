"""What a long run records of how the pipeline decodes, and a resume under another decode refused (tiny video
pipeline, r = 8, spatial 32)."""

from __future__ import annotations

import copy
import json

import pytest

from ltx_video import LTXVideoPipeline
from ltx_video.models.autoencoders.tiling import TilingConfig

LONG = dict(num_frames=41, chunk_frames=17, height=64, width=64, frame_rate=24, num_inference_steps=2,
            max_sequence_length=16, seed=0)
SMALL_TILES = TilingConfig(tile_size=32, tile_overlap=0, tile_frames=8, frame_overlap=0)  # 4 tiles a frame


@pytest.fixture
def pipe(components):
    pipe = LTXVideoPipeline(**{**components, "transformer": copy.deepcopy(components["transformer"]),
                               "vae": copy.deepcopy(components["vae"])})
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _stopped_after_chunk_0(pipe, output, call=LONG):
    def stop(pipe, i, t, tensors):
        pipe._interrupt = pipe.current_chunk == 1
        return tensors

    assert pipe.generate_long("a red ball", output=output, callback_on_step_end=stop, **call).path is None
    return json.loads((output.parent / (output.name + ".parts") / "manifest.json").read_text())["arguments"]


def test_a_resume_under_another_vae_tiling_is_refused(pipe, tmp_path):
    """A run stopped after chunk 0 and resumed after enable_vae_tiling went on without a word: chunk 0 decoded whole,
    the rest in tiles (the hunter's video: 10-20 / 255 off an uninterrupted run's)."""
    arguments = _stopped_after_chunk_0(pipe, tmp_path / "a.mp4")
    assert arguments["vae_decode"] is None and arguments["compiled"] is None  # decoded whole, eager
    pipe.enable_vae_tiling(SMALL_TILES)
    with pytest.raises(ValueError, match=r"^the pipeline's VAE tiling \(enable_vae_tiling\) is \{'frame_overlap': 0, "
                                         r"'tile_frames': 8, 'tile_overlap': 0, 'tile_size': 32\} but the run in .* was "
                                         r"started with None: decode as it did \(enable_vae_tiling / "
                                         r"disable_vae_tiling, .*\) to resume it, or pass resume=False"):
        pipe.generate_long("a red ball", output=tmp_path / "a.mp4", **LONG)
    # a run recorded before 2026-12-08 (no key) may have been tiled or not: resumed unchecked, with a warning (it was
    # refused as "started with None", and the advice to disable tiling would have mixed a tiled run's chunks)
    manifest = tmp_path / "a.mp4.parts" / "manifest.json"
    recorded = json.loads(manifest.read_text())
    del recorded["arguments"]["vae_decode"], recorded["arguments"]["compiled"]
    manifest.write_text(json.dumps(recorded))
    with pytest.warns(UserWarning, match=r"started before ltx_video recorded how the VAE decodes .* resumed unchecked "
                                         r"with the pipeline's \{'tiling'"):
        assert pipe.generate_long("a red ball", output=tmp_path / "a.mp4", **LONG).chunks_generated == 2


def test_a_tiled_run_is_recorded_and_resumes_tiled_only(pipe, tmp_path):
    call = dict(LONG, num_frames=25)  # two chunks
    pipe.enable_vae_tiling(SMALL_TILES)
    whole = pipe.generate_long("a red ball", output=tmp_path / "tiled.mp4", **call)
    arguments = _stopped_after_chunk_0(pipe, tmp_path / "b.mp4", call)
    assert arguments["vae_decode"] == {"tiling": {"tile_size": 32, "tile_overlap": 0, "tile_frames": 8,
                                                  "frame_overlap": 0}}
    pipe.disable_vae_tiling()
    with pytest.raises(ValueError, match=r"VAE tiling \(enable_vae_tiling\) is None but the run in .* was started with "
                                         r"\{'frame_overlap': 0, 'tile_frames': 8, 'tile_overlap': 0, 'tile_size': 32\}"):
        pipe.generate_long("a red ball", output=tmp_path / "b.mp4", **call)
    pipe.enable_vae_tiling(SMALL_TILES)
    out = pipe.generate_long("a red ball", output=tmp_path / "b.mp4", **call)
    assert out.chunks_generated == 1 and out.path.read_bytes() == whole.path.read_bytes()


def test_diffusers_vae_tiling_framewise_decoding_and_the_vae_dtype_are_recorded(pipe, tmp_path):
    import torch

    _stopped_after_chunk_0(pipe, tmp_path / "a.mp4")
    pipe.vae.enable_tiling(tile_sample_min_height=32, tile_sample_min_width=32, tile_sample_stride_height=32,
                           tile_sample_stride_width=32)
    with pytest.raises(ValueError, match=r"the pipeline's VAE's own tiling \(vae.enable_tiling\) is \{.*"
                                         r"'tile_sample_min_height': 32.*\} but the run in .* was started with None"):
        pipe.generate_long("a red ball", output=tmp_path / "a.mp4", **LONG)
    pipe.vae.disable_tiling()
    pipe.vae.use_framewise_decoding = True
    with pytest.raises(ValueError, match=r"the pipeline's VAE's framewise decoding is True but .* started with None"):
        pipe.generate_long("a red ball", output=tmp_path / "a.mp4", **LONG)
    pipe.vae.use_framewise_decoding = False
    pipe.vae.to(torch.bfloat16)
    with pytest.raises(ValueError, match=r"the pipeline's VAE's dtype is 'bfloat16' but .* started with None"):
        pipe.generate_long("a red ball", output=tmp_path / "a.mp4", **LONG)
    pipe.vae.to(torch.float32)
    pipe.vae.enable_slicing()  # a long video decodes one video at a time: slicing changes nothing, not recorded
    assert pipe.generate_long("a red ball", output=tmp_path / "a.mp4", **LONG).chunks_generated == 2


def test_a_resume_under_another_compilation_is_refused(pipe, tmp_path):
    """enable_compile changes the frames (inductor's kernels round otherwise: up to 16 / 255 on the built-in model's
    run, measured); a run started eager and resumed compiled mixed them. Refused before any compiled block runs."""
    _stopped_after_chunk_0(pipe, tmp_path / "a.mp4")
    pipe.enable_compile()  # lazy: nothing compiles until a block runs
    try:
        with pytest.raises(ValueError, match=r"^the pipeline's transformer compiled is True but the run in .* was "
                                             r"started with None: compile it the same \(enable_compile / "
                                             r"disable_compile\) to resume it"):
            pipe.generate_long("a red ball", output=tmp_path / "a.mp4", **LONG)
    finally:
        pipe.disable_compile()
    assert pipe.generate_long("a red ball", output=tmp_path / "a.mp4", **LONG).chunks_generated == 2
