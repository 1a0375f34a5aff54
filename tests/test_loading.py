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
    assert "'a cat on a sofa'" in messages[0] and "must end in the verb 'bounce'" in messages[0]
    assert "it ends in 'sofa'" in messages[0]
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


def test_a_timestep_schedule_set_on_the_pipeline_is_saved(components, tmp_path):
    """diffusers' LTXPipeline swapped in needs default_timestep_schedule = "shifted": save_pretrained keeps it (in
    model_index.json, under a private key diffusers ignores), so the saved folder gives the same videos."""
    pipe = LTXVideoPipeline(**components)
    pipe.save_pretrained(tmp_path / "plain")
    assert "_default_timestep_schedule" not in json.loads((tmp_path / "plain" / "model_index.json").read_text())
    pipe.default_timestep_schedule = "shifted"
    pipe.save_pretrained(tmp_path / "shifted")
    assert json.loads((tmp_path / "shifted" / "model_index.json").read_text())["_default_timestep_schedule"] == "shifted"
    loaded = LTXVideoPipeline.from_pretrained(tmp_path / "shifted")
    assert loaded.default_timestep_schedule == "shifted"
    assert LTXVideoPipeline.from_pretrained(tmp_path / "plain").default_timestep_schedule == "linear_quadratic"
    loaded.set_progress_bar_config(disable=True)
    default = _run(loaded)
    assert torch.equal(default, loaded(**KW, timestep_schedule="shifted", generator=gen()).frames)
    assert (default - loaded(**KW, timestep_schedule="linear_quadratic", generator=gen()).frames).abs().max() > 1e-3
    LTXConditionPipeline.from_pretrained(tmp_path / "shifted")  # diffusers still loads the folder
    loaded.default_timestep_schedule = "linear_quadratic"  # set back: the next save records it
    loaded.save_pretrained(tmp_path / "back")
    assert LTXVideoPipeline.from_pretrained(tmp_path / "back").default_timestep_schedule == "linear_quadratic"


def test_control_module_keywords_replace_or_skip_the_folders(tmp_path):
    """from_pretrained(camera_encoder=..., keyframe_adapter=...) as diffusers' component keywords: a module replaces
    the folder's, None loads none."""
    from ltx_video import LTXAudioVideoPipeline
    from ltx_video.conditioning.camera_controller import CameraMotionEncoder
    from ltx_video.conditioning.multi_keyframe_processor import KeyframeAdapter
    from ltx_video.testing import tiny_audio_video_pipeline

    pipe = tiny_audio_video_pipeline()
    pipe.camera_encoder = CameraMotionEncoder(16, hidden=8).eval()
    pipe.keyframe_adapter = KeyframeAdapter(16, latent_channels=8, blocks=(0,), heads=2).eval()
    pipe.save_pretrained(tmp_path)
    mine = CameraMotionEncoder(16, hidden=4).eval()
    loaded = LTXAudioVideoPipeline.from_pretrained(tmp_path, camera_encoder=None)
    assert loaded.camera_encoder is None and isinstance(loaded.keyframe_adapter, KeyframeAdapter)
    loaded = LTXAudioVideoPipeline.from_pretrained(tmp_path, camera_encoder=mine, keyframe_adapter=None)
    assert loaded.camera_encoder is mine and loaded.keyframe_adapter is None
    loaded = LTXAudioVideoPipeline.from_pretrained(tmp_path)
    assert loaded.camera_encoder.config.hidden == 8 and isinstance(loaded.keyframe_adapter, KeyframeAdapter)
    with pytest.raises(ValueError, match="^`camera_encoder` must be a CameraMotionEncoder or None, got KeyframeAdapter"):
        LTXAudioVideoPipeline.from_pretrained(tmp_path, camera_encoder=pipe.keyframe_adapter)


@pytest.mark.parametrize("kwargs, match", [
    (dict(transformer=None, quantization="fp8"), r"^`quantization='fp8'` quantizes the transformer.*transformer=None"),
    (dict(torch_dtype=torch.float8_e4m3fn), r"^`torch_dtype` must be .*torch.bfloat16, got torch.float8_e4m3fn .*quantization='fp8'"),
    (dict(dtype=torch.int8), r"^`dtype` must be torch.float32, torch.float16 or torch.bfloat16, got torch.int8"),
    (dict(torch_dtype="bf16"), r"^`torch_dtype` must be a torch.dtype or its name: .*'bfloat16'; got 'bf16'"),
    (dict(torch_dtype={"default": "fp8"}), r"^`torch_dtype\['default'\]` must be a torch.dtype"),
])
def test_bad_loading_arguments_are_refused_before_loading(components, tmp_path, kwargs, match):
    LTXVideoPipeline(**components).save_pretrained(tmp_path)
    with mock.patch("diffusers.DiffusionPipeline.from_pretrained", side_effect=AssertionError("loaded")):
        with pytest.raises(ValueError, match=match):
            LTXVideoPipeline.from_pretrained(tmp_path, **kwargs)


def test_a_file_points_to_from_single_file_and_dtype_names_load(components, tmp_path):
    LTXVideoPipeline(**components).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"^from_pretrained loads a diffusers-format folder .* is a file: .*"
                                         r"LTXVideoPipeline.from_single_file"):
        LTXVideoPipeline.from_pretrained(tmp_path / "transformer" / "diffusion_pytorch_model.safetensors")
    loaded = LTXVideoPipeline.from_pretrained(tmp_path, torch_dtype="bfloat16")  # as from_single_file takes it
    assert loaded.transformer.dtype == loaded.vae.dtype == torch.bfloat16


def test_the_lora_save_refusal_gives_a_call_that_works(components, tmp_path):
    import copy

    from peft import LoraConfig, get_peft_model_state_dict

    pipe = LTXVideoPipeline(**{**components, "transformer": copy.deepcopy(components["transformer"])})
    pipe.transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                            init_lora_weights=False), adapter_name="style")
    with pytest.raises(ValueError, match=r"pipe.save_lora_weights\(folder, transformer_lora_layers=peft.get_peft_model_"
                                         r"state_dict\(pipe.transformer, adapter_name=NAME\)\)") as error:
        pipe.save_pretrained(tmp_path / "pipe")
    assert "peft.get_peft_model_state_dict" in str(error.value)
    tuned = _run(pipe)
    pipe.save_lora_weights(tmp_path / "lora", transformer_lora_layers=get_peft_model_state_dict(pipe.transformer,
                                                                                              adapter_name="style"))
    again = LTXVideoPipeline(**{**components, "transformer": copy.deepcopy(components["transformer"])})
    again.load_lora_weights(tmp_path / "lora", adapter_name="style")
    assert_fp32_equal(_run(again), tuned)
    assert (tuned - _run(LTXVideoPipeline(**components))).abs().max() > 1e-3  # the adapter changes the output


def test_the_command_line_loads_a_folder_saved_with_a_variant(components, tmp_path):
    """diffusers' raw OSError for a folder saved with variant=: --variant names the files, and without it the
    command says which variant the folder holds, before loading."""
    from argparse import Namespace

    from ltx_video.cli import CLIError
    from ltx_video.cli.generate import inspect_model, load_pipeline

    LTXVideoPipeline(**components).save_pretrained(tmp_path, variant="bf16")
    with pytest.raises(CLIError, match=r"^--model: .*/(text_encoder|transformer|vae) holds only weights saved with variant bf16 .*"
                                       r"pass --variant bf16$"):
        inspect_model(tmp_path, None)
    with pytest.raises(CLIError, match=r"^--variant: .* has no weights saved with variant 'fp16'; its variants: bf16$"):
        inspect_model(tmp_path, None, "fp16")
    with pytest.raises(CLIError, match=r"^--variant is for a --model folder"):
        inspect_model(None, None, "bf16")
    source = inspect_model(tmp_path, None, "bf16")
    args = Namespace(dtype="float32", upsampler=None, fp8=False, device="cpu", attention=None, ff_chunk_size=None,
                     vae_tiling=False, four_k=False)
    pipe = load_pipeline(args, source)
    assert_fp32_equal(_run(pipe), _run(LTXVideoPipeline(**components)))


def test_the_audio_video_transformer_takes_save_pretrained_s_variant_shards_and_format(tmp_path):
    """diffusers' pipeline saver passes ``variant``, ``max_shard_size`` and ``safe_serialization`` only to a save
    method whose signature names them: the audio-video transformer's ``*args, **kwargs`` override got none, so a
    bf16 variant saved beside float32 weights overwrote them (and reloaded without a word)."""
    from ltx_video.testing import tiny_audio_video_pipeline

    pipe = tiny_audio_video_pipeline()
    expected = {k: v.clone() for k, v in pipe.transformer.state_dict().items()}
    pipe.save_pretrained(tmp_path / "both")
    pipe.to(torch.bfloat16).save_pretrained(tmp_path / "both", variant="bf16")
    files = sorted(p.name for p in (tmp_path / "both" / "transformer").glob("*.safetensors"))
    assert files == ["diffusion_pytorch_model.bf16.safetensors", "diffusion_pytorch_model.safetensors"]
    reloaded = type(pipe).from_pretrained(tmp_path / "both").transformer.state_dict()
    assert all(reloaded[k].dtype == torch.float32 and torch.equal(reloaded[k], v) for k, v in expected.items())
    pipe.save_pretrained(tmp_path / "shards", max_shard_size="20KB", safe_serialization=False)
    assert len(list((tmp_path / "shards" / "transformer").glob("diffusion_pytorch_model-*.bin"))) > 1
