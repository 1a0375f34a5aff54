"""LTXVideoPipeline.from_single_file on LTX-Video's original single-file checkpoints, offline."""

import copy
import json

import pytest
import torch
from conftest import assert_fp32_equal, gen
from diffusers import AutoencoderKLLTXVideo
from safetensors.torch import save_file

from ltx_video import LTXAudioVideoPipeline, LTXVideoPipeline
from ltx_video.pipelines.generation_defaults import GenerationDefaults
from ltx_video.pipelines.single_file import (
    check_file_configs,
    load_single_file_components,
    save_original_checkpoint,
    to_original_checkpoint,
    vae_config_from_original,
)
from ltx_video.testing import TINY_VAE_ORIGINAL_CONFIG, tiny_components, tiny_vae, tiny_vae_original_layout

KW = dict(prompt="a red ball bounces", height=64, width=64, num_frames=9, num_inference_steps=2,
          max_sequence_length=16, output_type="latent")

# The tiny models' config in LTX-Video's own format, as a checkpoint's safetensors metadata holds it.
ORIGINAL_CONFIG = {
    "transformer": {
        "_class_name": "Transformer3DModel", "activation_fn": "gelu-approximate", "attention_bias": True,
        "attention_head_dim": 8, "num_attention_heads": 2, "num_layers": 2, "in_channels": 8, "out_channels": 8,
        "caption_channels": 16, "cross_attention_dim": 16, "norm_eps": 1e-6, "qk_norm": "rms_norm",
        "positional_embedding_type": "rope", "positional_embedding_theta": 10000.0,
    },
    "vae": TINY_VAE_ORIGINAL_CONFIG,
    "scheduler": {"_class_name": "RectifiedFlowScheduler", "num_train_timesteps": 1000, "sampler": "LinearQuadratic"},
}


@pytest.fixture(scope="module")
def source():
    return {**tiny_components(), "vae": tiny_vae_original_layout()}


@pytest.fixture(scope="module")
def checkpoint(source, tmp_path_factory):
    path = tmp_path_factory.mktemp("single") / "ltxv-tiny.safetensors"
    return save_original_checkpoint(path, source["transformer"], source["vae"], ORIGINAL_CONFIG)


def _run(pipe):
    pipe.set_progress_bar_config(disable=True)
    return pipe(**KW, generator=gen()).frames


def _assert_same_weights(loaded, reference):
    ours, theirs = loaded.state_dict(), reference.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(ours[k].dtype == theirs[k].dtype and torch.equal(ours[k], theirs[k]) for k in ours)


def _text(source):
    return dict(text_encoder=source["text_encoder"], tokenizer=source["tokenizer"])


def test_original_layout(source, checkpoint):
    from safetensors import safe_open

    with safe_open(str(checkpoint), framework="pt") as f:
        keys, metadata = set(f.keys()), f.metadata()
    assert json.loads(metadata["config"]) == ORIGINAL_CONFIG
    assert "model.diffusion_model.patchify_proj.weight" in keys
    assert "model.diffusion_model.transformer_blocks.1.attn1.q_norm.weight" in keys
    assert {"vae.per_channel_statistics.mean-of-means", "vae.per_channel_statistics.std-of-means",
            "vae.decoder.last_time_embedder.timestep_embedder.linear_1.weight"} <= keys
    # 10 encoder and 7 decoder blocks, numbered as the original config lists them.
    assert {k.split(".")[3] for k in keys if k.startswith("vae.encoder.down_blocks.")} == set(map(str, range(10)))
    assert {k.split(".")[3] for k in keys if k.startswith("vae.decoder.up_blocks.")} == set(map(str, range(7)))


def test_loads_exact_weights_and_configs(source, checkpoint):
    pipe = LTXVideoPipeline.from_single_file(checkpoint, **_text(source))
    assert isinstance(pipe, LTXVideoPipeline) and pipe.text_encoder is source["text_encoder"]
    for name in ("transformer", "vae"):
        _assert_same_weights(getattr(pipe, name), source[name])
        loaded, reference = getattr(pipe, name).config, source[name].config
        for key, value in reference.items():
            if not key.startswith("_") and value is not None:
                assert loaded[key] == value or tuple(loaded[key]) == tuple(value), (name, key)
        assert not getattr(pipe, name).training
    assert (pipe.vae_spatial_compression_ratio, pipe.vae_temporal_compression_ratio) == (32, 8)
    assert pipe.scheduler.config.use_dynamic_shifting is False and pipe.scheduler.config.shift == 1.0


def test_generation_matches_source_components(source, checkpoint):
    loaded = LTXVideoPipeline.from_single_file(checkpoint, **_text(source))
    expected = _run(LTXVideoPipeline(**source))
    assert_fp32_equal(_run(loaded), expected)  # the weights are bit-equal (test above); two instances compute
    # The VAE decodes the same too (its noise injection and timestep conditioning included).
    temb = torch.tensor([0.05])
    with torch.no_grad():
        decoded = [p.vae.decode(expected, temb, return_dict=False)[0] for p in (loaded, LTXVideoPipeline(**source))]
    assert_fp32_equal(*decoded)


def test_config_folder(source, tmp_path):
    folder = tmp_path / "diffusers"
    LTXVideoPipeline(**source).save_pretrained(folder)
    bare = save_original_checkpoint(tmp_path / "bare.safetensors", source["transformer"], source["vae"], None)
    with pytest.raises(ValueError, match="config="):  # no metadata, no folder: the VAE's structure is unknown
        load_single_file_components(bare)
    pipe = LTXVideoPipeline.from_single_file(bare, config=folder)  # text encoder and tokenizer from the folder too
    for name in ("transformer", "vae", "text_encoder"):
        _assert_same_weights(getattr(pipe, name), source[name])
    assert pipe.tokenizer("a red ball").input_ids == source["tokenizer"]("a red ball").input_ids
    assert_fp32_equal(_run(pipe), _run(LTXVideoPipeline(**source)))


def test_errors_are_clear(source, checkpoint, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        LTXVideoPipeline.from_single_file(tmp_path / "nope.safetensors", **_text(source))

    other = tmp_path / "other.safetensors"
    save_file({"encoder.weight": torch.zeros(2, 2)}, str(other))
    with pytest.raises(ValueError, match="other.safetensors is not an LTX-Video checkpoint"):
        LTXVideoPipeline.from_single_file(other, **_text(source))
    text_file = tmp_path / "notes.safetensors"
    text_file.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="notes.safetensors"):
        LTXVideoPipeline.from_single_file(text_file, **_text(source))

    with pytest.raises(ValueError, match=r"text_encoder.*config="):
        LTXVideoPipeline.from_single_file(checkpoint)
    with pytest.raises(ValueError, match="tokenizer"):
        LTXVideoPipeline.from_single_file(checkpoint, text_encoder=source["text_encoder"])
    with pytest.raises(FileNotFoundError, match="config folder"):
        LTXVideoPipeline.from_single_file(checkpoint, config=tmp_path / "missing", **_text(source))


def test_strict_loading(source, tmp_path):
    # A key missing is an error; one left over is not loaded, with a warning (test_single_file_forms.py).
    sd = to_original_checkpoint(source["transformer"], source["vae"])
    sd = {k: v.contiguous() for k, v in sd.items() if k != "vae.encoder.conv_in.conv.bias"}
    path = tmp_path / "broken.safetensors"
    save_file(sd, str(path), metadata={"config": json.dumps(ORIGINAL_CONFIG)})
    with pytest.raises(ValueError, match=r"AutoencoderKLLTXVideo.*missing \(1\): encoder.conv_in.conv.bias"):
        load_single_file_components(path)


def test_float8_checkpoint(source, tmp_path):
    sd = {k: v.contiguous() for k, v in to_original_checkpoint(source["transformer"], source["vae"]).items()}
    fp8 = {k for k, v in sd.items() if k.startswith("model.diffusion_model.transformer_blocks.") and v.ndim == 2}
    assert fp8
    sd.update({k: sd[k].to(torch.float8_e4m3fn) for k in fp8})
    path = tmp_path / "ltxv-tiny-fp8.safetensors"
    save_file(sd, str(path), metadata={"config": json.dumps(ORIGINAL_CONFIG)})
    for dtype in (None, torch.bfloat16):
        transformer = load_single_file_components(path, torch_dtype=dtype)["transformer"]
        loaded, reference = transformer.state_dict(), source["transformer"].state_dict()
        for key, value in loaded.items():
            assert value.dtype == (dtype or torch.float32)
            rounded = reference[key].to(torch.float8_e4m3fn) if "model.diffusion_model." + key.replace(
                "norm_q", "q_norm").replace("norm_k", "k_norm") in fp8 else reference[key]
            assert torch.equal(value, rounded.to(value.dtype)), key
    assert any(not torch.equal(loaded[k], reference[k].to(torch.bfloat16)) for k in loaded)  # the rounding shows


V09_METADATA = {  # ltx-video-2b-v0.9.safetensors
    "_class_name": "CausalVideoAutoencoder", "dims": 3, "in_channels": 3, "out_channels": 3, "latent_channels": 128,
    "blocks": [["res_x", 4], ["compress_all", 1], ["res_x_y", 1], ["res_x", 3], ["compress_all", 1], ["res_x_y", 1],
               ["res_x", 3], ["compress_all", 1], ["res_x", 3], ["res_x", 4]],
    "scaling_factor": 1.0, "norm_layer": "pixel_norm", "patch_size": 4, "latent_log_var": "uniform",
    "use_quant_conv": False, "causal_decoder": False,
}
V095_METADATA = {  # ltx-video-2b-v0.9.5.safetensors (the 0.9.6 - 0.9.8 VAE too)
    "_class_name": "CausalVideoAutoencoder", "dims": 3, "in_channels": 3, "out_channels": 3, "latent_channels": 128,
    "encoder_blocks": [["res_x", {"num_layers": 4}], ["compress_space_res", {"multiplier": 2}],
                       ["res_x", {"num_layers": 6}], ["compress_time_res", {"multiplier": 2}],
                       ["res_x", {"num_layers": 6}], ["compress_all_res", {"multiplier": 2}],
                       ["res_x", {"num_layers": 2}], ["compress_all_res", {"multiplier": 2}], ["res_x", {"num_layers": 2}]],
    "decoder_blocks": [["res_x", {"num_layers": 5, "inject_noise": False}],
                       ["compress_all", {"residual": True, "multiplier": 2}]] * 3
    + [["res_x", {"num_layers": 5, "inject_noise": False}]],
    "scaling_factor": 1.0, "norm_layer": "pixel_norm", "patch_size": 4, "latent_log_var": "uniform",
    "use_quant_conv": False, "causal_decoder": False, "timestep_conditioning": True, "normalize_latent_channels": False,
}
# diffusers' configs for those releases (scripts/convert_ltx_to_diffusers.py; Lightricks/LTX-Video-0.9.5 vae/).
V09_DIFFUSERS = dict(
    block_out_channels=(128, 256, 512, 512), decoder_block_out_channels=(128, 256, 512, 512),
    layers_per_block=(4, 3, 3, 3, 4), decoder_layers_per_block=(4, 3, 3, 3, 4),
    spatio_temporal_scaling=(True, True, True, False), decoder_spatio_temporal_scaling=(True, True, True, False),
    upsample_residual=(False,) * 4, upsample_factor=(1,) * 4, timestep_conditioning=False, latent_channels=128,
    patch_size=4, patch_size_t=1, encoder_causal=True, decoder_causal=False,
)
V095_DIFFUSERS = dict(
    block_out_channels=(128, 256, 512, 1024, 2048), decoder_block_out_channels=(256, 512, 1024),
    decoder_inject_noise=(False,) * 4, decoder_layers_per_block=(5, 5, 5, 5),
    decoder_spatio_temporal_scaling=(True,) * 3, down_block_types=("LTXVideo095DownBlock3D",) * 4,
    downsample_type=("spatial", "temporal", "spatiotemporal", "spatiotemporal"), layers_per_block=(4, 6, 6, 2, 2),
    spatial_compression_ratio=32, temporal_compression_ratio=8, spatio_temporal_scaling=(True,) * 4,
    timestep_conditioning=True, upsample_factor=(2, 2, 2), upsample_residual=(True, True, True),
)


@pytest.mark.parametrize("metadata, expected, blocks", [(V09_METADATA, V09_DIFFUSERS, (10, 10)),
                                                        (V095_METADATA, V095_DIFFUSERS, (9, 7))], ids=["0.9", "0.9.5"])
def test_released_vae_configs(source, metadata, expected, blocks):
    config = vae_config_from_original(metadata)
    assert {k: config[k] for k in expected} == expected
    # The full-size VAE (on the meta device) round-trips through diffusers' converter in the original layout.
    with torch.device("meta"):
        vae = AutoencoderKLLTXVideo.from_config(config)
    assert (vae.spatial_compression_ratio, vae.temporal_compression_ratio) == (32, 8)
    keys = to_original_checkpoint(source["transformer"], vae)
    numbered = [{int(k.split(".")[3]) for k in keys if k.startswith(f"vae.{part}.")}
                for part in ("encoder.down_blocks", "decoder.up_blocks")]
    assert numbered == [set(range(blocks[0])), set(range(blocks[1]))]


def test_unmappable_vae_is_an_error(source):
    with pytest.raises(ValueError, match=r"norm_layer.*config="):
        vae_config_from_original({**V09_METADATA, "norm_layer": "group_norm"})
    with pytest.raises(ValueError, match=r"compress_space.*config="):
        vae_config_from_original({**V095_METADATA, "decoder_blocks": [["compress_space", {}], ["res_x", 1]]})
    with pytest.raises(ValueError, match="tiny_vae_original_layout"):  # no original layout for this structure
        to_original_checkpoint(source["transformer"], tiny_vae())


def test_float8_checkpoint_keeps_its_e4m3_weights_with_quantization_fp8(source, tmp_path):
    """LTX-Video's fp8 files hold unscaled e4m3 casts: quantization='fp8' keeps those bytes exactly."""
    from ltx_video.quantization import FP8Linear

    sd = {k: v.contiguous() for k, v in to_original_checkpoint(source["transformer"], source["vae"]).items()}
    fp8 = {k for k, v in sd.items() if k.startswith("model.diffusion_model.transformer_blocks.") and v.ndim == 2}
    sd.update({k: sd[k].to(torch.float8_e4m3fn) for k in fp8})
    path = tmp_path / "ltxv-tiny-fp8.safetensors"
    save_file(sd, str(path), metadata={"config": json.dumps(ORIGINAL_CONFIG)})
    cast = LTXVideoPipeline.from_single_file(path, **_text(source))
    kept = LTXVideoPipeline.from_single_file(path, **_text(source), quantization="fp8")
    layer = kept.transformer.transformer_blocks[0].attn1.to_q
    assert isinstance(layer, FP8Linear) and torch.equal(layer.weight_scale, torch.ones_like(layer.weight_scale))
    original = sd["model.diffusion_model.transformer_blocks.0.attn1.to_q.weight"]
    assert torch.equal(layer.weight.view(torch.uint8), original.view(torch.uint8))
    torch.testing.assert_close(_run(kept), _run(cast), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="quantization"):
        LTXVideoPipeline.from_single_file(path, **_text(source), quantization="int8")


def test_diffusers_042_keywords(source, checkpoint):
    # diffusers 0.42's from_single_file takes dtype= (torch_dtype's new name) and components; these were TypeErrors.
    vae, text_encoder = source["vae"], copy.deepcopy(source["text_encoder"]).to(torch.bfloat16)
    pipe = LTXVideoPipeline.from_single_file(checkpoint, dtype=torch.bfloat16, vae=vae, local_files_only=True,
                                             text_encoder=text_encoder, tokenizer=source["tokenizer"])
    assert pipe.transformer.dtype == torch.bfloat16 and pipe.vae is vae
    with pytest.raises(ValueError, match="`dtype` .* and `torch_dtype` .* differ"):
        LTXVideoPipeline.from_single_file(checkpoint, dtype=torch.bfloat16, torch_dtype=torch.float32, **_text(source))


@pytest.mark.parametrize("cls", [LTXVideoPipeline, LTXAudioVideoPipeline])
def test_config_folder_restores_the_settings_from_pretrained_does(source, checkpoint, tmp_path, cls):
    # config= a saved folder: its default_timestep_schedule and generation_defaults.json were left out, so the same
    # call made another video than from_pretrained(folder) (latents 0.6 apart) in silence.
    saved = cls(**source)
    saved.default_timestep_schedule = "shifted"
    saved.generation_defaults = GenerationDefaults(height=64, width=64, num_frames=9, frame_rate=24.0,
                                                   num_inference_steps=3, guidance_scale=1.0)
    saved.save_pretrained(tmp_path / "saved")
    pretrained = cls.from_pretrained(tmp_path / "saved")
    single = cls.from_single_file(checkpoint, config=tmp_path / "saved")
    assert single.default_timestep_schedule == pretrained.default_timestep_schedule == "shifted"
    assert single.generation_defaults == pretrained.generation_defaults == saved.generation_defaults
    assert_fp32_equal(_run(single), _run(pretrained))
    # Without config=, nothing is restored; an unreadable generation_defaults.json is named, as in from_pretrained.
    assert cls.from_single_file(checkpoint, **_text(source)).default_timestep_schedule == "linear_quadratic"
    (tmp_path / "saved" / "generation_defaults.json").write_text("{")
    with pytest.raises(ValueError, match="generation_defaults.json is not readable JSON"):
        cls.from_single_file(checkpoint, config=tmp_path / "saved")


def test_vae_timestep_conditioning_is_read_from_the_keys_when_the_metadata_leaves_it_out(source, tmp_path):
    # The file holds the decoder's timestep embedding; the metadata left timestep_conditioning out, so LTX's default
    # False built a VAE without it and 27 weights were dropped with a log line (decodes 1.44 apart).
    assert source["vae"].config.timestep_conditioning
    vae_config = {k: v for k, v in ORIGINAL_CONFIG["vae"].items() if k != "timestep_conditioning"}
    path = save_original_checkpoint(tmp_path / "no_tc.safetensors", source["transformer"], source["vae"],
                                    {**ORIGINAL_CONFIG, "vae": vae_config})
    pipe = LTXVideoPipeline.from_single_file(path, **_text(source))
    assert pipe.vae.config.timestep_conditioning is True
    _assert_same_weights(pipe.vae, source["vae"])
    # Said False while the weights are there: the file contradicts itself.
    path = save_original_checkpoint(tmp_path / "tc_false.safetensors", source["transformer"], source["vae"],
                                    {**ORIGINAL_CONFIG, "vae": {**vae_config, "timestep_conditioning": False}})
    with pytest.raises(ValueError, match=r"tc_false.safetensors: its metadata 'vae' config says "
                                         r"timestep_conditioning=False, but the file holds the VAE decoder's "
                                         r"timestep-conditioning weights \(vae.decoder.last_time_embedder"):
        LTXVideoPipeline.from_single_file(path, **_text(source))
    with pytest.raises(ValueError, match="timestep_conditioning=False"):  # from the header, as the CLI checks
        check_file_configs(path)
