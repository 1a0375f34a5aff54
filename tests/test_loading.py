"""from_pretrained on diffusers-format folders and save_pretrained round trips, offline."""

import json
from unittest import mock

import pytest
import torch
from conftest import assert_fp32_equal, gen
from diffusers import LTXConditionPipeline

from ltx_video import LTXVideoPipeline
from ltx_video.testing import tiny_latent_upsampler

KW = dict(prompt="a red ball", height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16,
          output_type="latent")


def _run(pipe):
    pipe.set_progress_bar_config(disable=True)
    return pipe(**KW, generator=gen()).frames


def test_loads_a_diffusers_ltx_folder(components, tmp_path):
    LTXConditionPipeline(**components).save_pretrained(tmp_path)
    assert json.loads((tmp_path / "model_index.json").read_text())["_class_name"] == "LTXConditionPipeline"
    loaded = LTXVideoPipeline.from_pretrained(tmp_path)
    assert isinstance(loaded, LTXVideoPipeline) and loaded.latent_upsampler is None
    assert_fp32_equal(_run(loaded), _run(LTXVideoPipeline(**components)))  # bit-equal weights, two instances


def test_save_pretrained_round_trip(components, tmp_path):
    pipe = LTXVideoPipeline(**components, latent_upsampler=tiny_latent_upsampler())
    pipe.save_pretrained(tmp_path)
    assert (tmp_path / "transformer" / "diffusion_pytorch_model.safetensors").exists()
    loaded = LTXVideoPipeline.from_pretrained(tmp_path)
    for name in ("transformer", "vae", "text_encoder", "latent_upsampler"):
        ours, theirs = getattr(pipe, name).state_dict(), getattr(loaded, name).state_dict()
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[k], theirs[k]) for k in ours), name
    assert loaded.tokenizer("a red ball").input_ids == pipe.tokenizer("a red ball").input_ids
    assert_fp32_equal(_run(loaded), _run(pipe))  # bit-equal weights (above), two instances


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        LTXVideoPipeline.from_pretrained(tmp_path / "nope")


def test_a_missing_component_folder_is_named(components, tmp_path):
    import shutil

    LTXVideoPipeline(**components).save_pretrained(tmp_path)
    shutil.rmtree(tmp_path / "vae")  # diffusers: "no file named config.json found in directory <the pipeline folder>"
    with pytest.raises(FileNotFoundError, match=r"component `vae` \(AutoencoderKLLTXVideo, listed in model_index.json\)"):
        LTXVideoPipeline.from_pretrained(tmp_path)
    loaded = LTXVideoPipeline.from_pretrained(tmp_path, vae=components["vae"])  # passed in: not needed on disk
    assert loaded.vae is components["vae"]


def test_a_component_the_class_does_not_take_may_be_missing(tmp_path):
    import shutil

    from ltx_video.testing import tiny_audio_video_pipeline

    tiny_audio_video_pipeline(seed=0).save_pretrained(tmp_path)
    shutil.rmtree(tmp_path / "audio_vae")  # diffusers ignores it for the video pipeline, with a warning
    assert LTXVideoPipeline.from_pretrained(tmp_path).vae is not None


def test_generation_defaults_travel_with_the_folder(components, tmp_path):
    from ltx_video.pipelines.generation_defaults import GenerationDefaults

    pipe = LTXVideoPipeline(**components)
    assert pipe.generation_defaults is None
    pipe.save_pretrained(tmp_path)
    assert not (tmp_path / "generation_defaults.json").exists()
    assert LTXVideoPipeline.from_pretrained(tmp_path).generation_defaults is None
    pipe.generation_defaults = GenerationDefaults(
        height=96, width=160, num_frames=17, frame_rate=25.0, num_inference_steps=8, guidance_scale=4.5,
        negative_prompt="blurry", prompt_grammar={"max_objects": 2, "cameras": ["static", "pan_left"]},
    )
    pipe.save_pretrained(tmp_path)
    loaded = LTXVideoPipeline.from_pretrained(tmp_path)
    assert loaded.generation_defaults == pipe.generation_defaults
    assert loaded.generation_defaults.call_kwargs() == dict(
        height=96, width=160, num_frames=17, frame_rate=25.0, num_inference_steps=8, guidance_scale=4.5,
        negative_prompt="blurry")
    pipe.generation_defaults = None
    pipe.save_pretrained(tmp_path)  # the folder no longer claims defaults it was not saved with
    assert not (tmp_path / "generation_defaults.json").exists()

    (tmp_path / "generation_defaults.json").write_text('{"height": 64}')
    weights_loaded = mock.Mock(side_effect=AssertionError("the weights loaded before the defaults were checked"))
    with mock.patch("diffusers.DiffusionPipeline.from_pretrained", weights_loaded), pytest.raises(
        ValueError, match="generation_defaults.json.*width"
    ):
        LTXVideoPipeline.from_pretrained(tmp_path)
    (tmp_path / "generation_defaults.json").write_text('{"height": 64, "colour": "red"}')
    with pytest.raises(ValueError, match="unknown key.*colour"):
        LTXVideoPipeline.from_pretrained(tmp_path)


def test_generation_defaults_carry_stg_only_when_on(tmp_path):
    from ltx_video.pipelines.generation_defaults import GenerationDefaults

    base = dict(height=64, width=64, num_frames=9, frame_rate=24.0, num_inference_steps=4, guidance_scale=3.0)
    on = GenerationDefaults(**base, stg_scale=1.5, skip_block_list=[2, 3])
    assert on.skip_block_list == (2, 3)  # hashable and frozen like the rest
    assert on.call_kwargs()["stg_scale"] == 1.5 and on.call_kwargs()["skip_block_list"] == [2, 3]
    on.save(tmp_path)
    saved = json.loads((tmp_path / "generation_defaults.json").read_text())
    assert saved["stg_scale"] == 1.5 and saved["skip_block_list"] == [2, 3]
    assert GenerationDefaults.load(tmp_path) == on
    off = GenerationDefaults(**base)
    assert "stg_scale" not in off.call_kwargs() and "skip_block_list" not in off.call_kwargs()
    off.save(tmp_path)  # a model without STG writes the file it always wrote
    assert set(json.loads((tmp_path / "generation_defaults.json").read_text())) == set(base) | {
        "negative_prompt", "prompt_grammar"}
    for bad, match in (({"stg_scale": 1.0}, "non-empty skip_block_list"), ({"stg_scale": -1.0}, "stg_scale must be"),
                       ({"stg_scale": True, "skip_block_list": [1]}, "stg_scale must be"),
                       ({"stg_scale": 1.0, "skip_block_list": [-1]}, "skip_block_list must be"),
                       ({"stg_scale": 1.0, "skip_block_list": "3"}, "skip_block_list must be")):
        with pytest.raises(ValueError, match=match):
            GenerationDefaults(**base, **bad)


def test_generation_defaults_carry_modality_guidance_only_when_on(tmp_path):
    from ltx_video.pipelines.generation_defaults import GenerationDefaults

    base = dict(height=64, width=64, num_frames=9, frame_rate=24.0, num_inference_steps=4, guidance_scale=3.0)
    on = GenerationDefaults(**base, audio_modality_scale=8.0)
    assert on.call_kwargs()["audio_modality_scale"] == 8.0 and "modality_scale" not in on.call_kwargs()
    on.save(tmp_path)
    assert json.loads((tmp_path / "generation_defaults.json").read_text())["audio_modality_scale"] == 8.0
    assert GenerationDefaults.load(tmp_path) == on
    assert "audio_modality_scale" not in GenerationDefaults(**base, audio_modality_scale=1.0).call_kwargs()
    for bad in (-1.0, True, "8", float("nan")):
        with pytest.raises(ValueError, match="audio_modality_scale must be"):
            GenerationDefaults(**base, audio_modality_scale=bad)


def test_generation_defaults_given_audio_replace_the_sampling_of_calls_given_a_sound(tmp_path):
    from ltx_video.pipelines.generation_defaults import GenerationDefaults

    base = dict(height=64, width=64, num_frames=9, frame_rate=24.0, num_inference_steps=4, guidance_scale=3.0)
    joint = GenerationDefaults(**base, audio_modality_scale=8.0)
    assert joint.call_kwargs(audio_given=True) == joint.call_kwargs()  # nothing given: the same call
    on = GenerationDefaults(**base, audio_modality_scale=8.0, given_audio={"modality_scale": 3.0, "guidance_scale": 2.0})
    assert "modality_scale" not in on.call_kwargs() and on.call_kwargs()["guidance_scale"] == 3.0
    assert on.call_kwargs(audio_given=True) == {**on.call_kwargs(), "modality_scale": 3.0, "guidance_scale": 2.0}
    on.save(tmp_path)
    assert json.loads((tmp_path / "generation_defaults.json").read_text())["given_audio"] == {
        "modality_scale": 3.0, "guidance_scale": 2.0}
    assert GenerationDefaults.load(tmp_path) == on
    joint.save(tmp_path)  # a model without it writes the file it always wrote
    assert "given_audio" not in json.loads((tmp_path / "generation_defaults.json").read_text())
    for bad, match in (([("modality_scale", 3.0)], "given_audio must be a dict"),
                       ({"height": 128}, r"given_audio: unknown key\(s\) \['height'\]"),
                       ({"modality_scale": -1.0}, "given_audio: modality_scale must be a number >= 0"),
                       ({"stg_scale": 1.0}, "given_audio: stg_scale > 0 needs a non-empty skip_block_list")):
        with pytest.raises(ValueError, match=match):
            GenerationDefaults(**base, given_audio=bad)


def test_builtin_model_follows_a_given_sound_with_video_modality_guidance():
    from ltx_video.default_model import DEFAULT_GENERATION, DEFAULT_GENERATION_GIVEN_AUDIO

    assert "modality_scale" not in DEFAULT_GENERATION  # joint generation: off (it hurts there)
    assert DEFAULT_GENERATION_GIVEN_AUDIO == {**DEFAULT_GENERATION, "modality_scale": 3.0}


def test_prompts_outside_the_trained_grammar_warn_once_each(caplog):
    from ltx_video.default_model import DEFAULT_GENERATION, load_default_pipeline

    pipe = load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    kw = {**DEFAULT_GENERATION, "num_frames": 9, "num_inference_steps": 1, "output_type": "latent"}
    with caplog.at_level("WARNING", logger="ltx_video"):
        pipe(["a red ball bounces", "a red ball bounces, the camera is static"], **kw)
    assert not caplog.records
    with caplog.at_level("WARNING", logger="ltx_video"):
        pipe(["a cat on a sofa", "a red ball bounces, the camera zooms in", "a pink square bounces"], **kw)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and all("\n" not in m for m in messages)
    assert "'a cat on a sofa'" in messages[0] and "unknown verb 'sofa'" in messages[0]
    assert "zooms in, the model saw only a static camera" in messages[1]
    assert "colours: red, orange, yellow, green, blue, purple, pink, white" in messages[1]


# ---------------------------------------------------------------- fourth round (2026-12-07): loading keywords
def _with_own_files(tmp_path):
    """A tiny audio-video pipeline with generation defaults and a motion encoder, saved."""
    from ltx_video.conditioning.camera_controller import CameraMotionEncoder
    from ltx_video.pipelines.generation_defaults import GenerationDefaults
    from ltx_video.testing import tiny_audio_video_pipeline

    pipe = tiny_audio_video_pipeline(seed=0)
    config = pipe.transformer.config
    pipe.camera_encoder = CameraMotionEncoder(config.num_attention_heads * config.attention_head_dim)
    pipe.generation_defaults = GenerationDefaults(height=64, width=64, num_frames=9, frame_rate=24.0,
                                                  num_inference_steps=2, guidance_scale=1.0)
    pipe.save_pretrained(tmp_path / "saved")
    return pipe, tmp_path / "saved"


def test_own_files_are_in_the_folder_before_diffusers_uploads_it(tmp_path):
    # save_pretrained(push_to_hub=True) uploads inside diffusers' save_pretrained: the package's files were written
    # after it, so they never reached the Hub.
    from pathlib import Path

    from diffusers import DiffusionPipeline

    pipe, _ = _with_own_files(tmp_path)
    seen = []
    original = DiffusionPipeline.save_pretrained

    def spy(self, directory, *args, **kwargs):
        seen.append(sorted(p.name for p in Path(directory).iterdir()))
        return original(self, directory, *args, **kwargs)

    with mock.patch.object(DiffusionPipeline, "save_pretrained", spy):
        pipe.save_pretrained(tmp_path / "again")
    assert {"generation_defaults.json", "camera_encoder"} <= set(seen[0])


def test_a_repo_id_from_the_cache_brings_its_own_files_and_transformer_none_loads(tmp_path):
    import shutil

    from ltx_video import LTXAudioVideoPipeline

    _, saved = _with_own_files(tmp_path)
    cache = tmp_path / "cache"
    snapshot = cache / "models--me--ball" / "snapshots" / ("0" * 40)
    shutil.copytree(saved, snapshot)
    (cache / "models--me--ball" / "refs").mkdir()
    (cache / "models--me--ball" / "refs" / "main").write_text("0" * 40)
    by_id = LTXAudioVideoPipeline.from_pretrained("me/ball", cache_dir=str(cache))  # offline: from the cache
    assert by_id.generation_defaults is not None and by_id.generation_defaults.num_frames == 9  # None before
    assert by_id.camera_encoder is not None
    # transformer=None (to encode prompts only) crashed on the motion encoder's dtype
    text_only = LTXAudioVideoPipeline.from_pretrained(saved, transformer=None)
    assert text_only.transformer is None and text_only.camera_encoder is None
