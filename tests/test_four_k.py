"""``enable_4k_mode`` on tiny components: the upsampler path equals its steps run by hand, with tiled decoding;
bad sizes and missing components are refused before any model runs."""

import logging

import pytest
import torch
from conftest import gen

from ltx_video import LTXVideoPipeline
from ltx_video.models.autoencoders.tiling import TilingConfig, tiled_decode
from ltx_video.pipelines.four_k import DISTILLED_REFINE_TIMESTEPS
from ltx_video.pipelines.multiscale import upsample_latents
from ltx_video.testing import tiny_audio_video_pipeline, tiny_latent_upsampler
from ltx_video.utils.memory import LiveTensorBytes

TILING = TilingConfig(tile_size=64, tile_overlap=32, tile_frames=8, frame_overlap=0)
KW = dict(prompt="a red ball", num_frames=17, max_sequence_length=16, num_inference_steps=2, guidance_scale=1.0)


@pytest.fixture
def pipe(components):
    pipe = LTXVideoPipeline(**components, latent_upsampler=tiny_latent_upsampler())
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_upsampler_path_equals_its_steps(pipe):
    assert pipe.enable_4k_mode(TILING) == "latent_upsampler"
    out = pipe(**KW, height=128, width=192, output_type="pt", generator=gen()).frames

    # By hand: half size, upsample x2 with AdaIN, the refinement pass, decode in tiles ...
    pipe.disable_4k_mode()
    g = gen()
    first = pipe(**KW, height=64, width=96, output_type="latent", generator=g).frames
    up = upsample_latents(pipe, pipe.latent_upsampler, first, 1.0)
    second = pipe(**{**KW, "guidance_scale": 1.0}, timesteps=list(DISTILLED_REFINE_TIMESTEPS), height=128, width=192,
                  latents=up, output_type="latent", generator=g).frames
    pipe.enable_vae_tiling(TILING)
    video = pipe.decode_latents(second, decode_timestep=0.0, decode_noise_scale=None, tone_map_compression_ratio=0.0,
                                generator=g, dtype=torch.float32)
    expected = ((video.clamp(-1, 1) + 1) / 2).transpose(1, 2)
    assert out.shape == (1, 17, 3, 128, 192)
    assert torch.allclose(out, expected, atol=1e-6)

    # ... and the decode really was tiled: whole-frame decoding differs.
    pipe.disable_vae_tiling()
    whole = pipe.decode_latents(second, decode_timestep=0.0, decode_noise_scale=None, tone_map_compression_ratio=0.0,
                                generator=gen(), dtype=torch.float32)
    assert not torch.allclose(video, whole, atol=1e-3)


def test_disable_restores_plain_calls(pipe):
    plain = pipe(**KW, height=64, width=64, output_type="latent", generator=gen()).frames
    pipe.enable_4k_mode(TILING)
    pipe.disable_4k_mode()
    assert torch.equal(pipe(**KW, height=64, width=64, output_type="latent", generator=gen()).frames, plain)
    assert pipe.vae_tiling is None
    own = TilingConfig(tile_size=32, tile_overlap=0, tile_frames=8, frame_overlap=0)
    pipe.enable_vae_tiling(own)  # the user's tiling comes back after 4K mode, twice enabled or not
    pipe.enable_4k_mode(TILING)
    pipe.enable_4k_mode(TILING)
    pipe.disable_4k_mode()
    assert pipe.vae_tiling is own
    with pytest.raises(ValueError, match="`latent_upsampler` must be a model"):
        pipe.enable_4k_mode(TILING, latent_upsampler="not a model")


def test_generate_long_refuses_the_upsampler_path(pipe, tmp_path):
    """Its chunks ran every step at full size, only the decode tiled, without a word."""
    pipe.enable_4k_mode(TILING)
    try:
        with pytest.raises(ValueError, match="call pipe.disable_4k_mode\\(\\) first"):
            pipe.generate_long("a red ball", output=tmp_path / "long.mp4", num_frames=33, chunk_frames=17,
                               height=128, width=192)
        assert list(tmp_path.iterdir()) == []
    finally:
        pipe.disable_4k_mode()


def test_4k_size_must_halve_on_the_latent_grid(pipe):
    pipe.enable_4k_mode(TILING)
    with pytest.raises(ValueError, match=r"`height`=96 is not 4K-compatible.*multiple of 64 \(96 pads to 96\)"):
        pipe(**KW, height=96, width=128)
    with pytest.raises(ValueError, match="`width`=2144 is not 4K-compatible"):
        pipe(**KW, height=2160, width=2144)
    with pytest.raises(ValueError, match="drop `latents`"):
        pipe(**KW, height=64, width=64, latents=torch.zeros(1, 8, 3, 2, 2))


def test_enable_4k_mode_needs_an_upsampler_or_a_hierarchical_vae(components):
    pipe = LTXVideoPipeline(**components)
    with pytest.raises(ValueError, match="needs a `latent_upsampler`.*compresses 32x"):
        pipe.enable_4k_mode()
    assert pipe.enable_4k_mode(latent_upsampler=tiny_latent_upsampler()) == "latent_upsampler"
    assert pipe.vae_tiling == TilingConfig()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(tiling=TilingConfig(tile_size=48, tile_overlap=16)), "tile_size must be a multiple of the VAE's spatial compression 32"),
        (dict(tiling=TilingConfig(tile_frames=12, frame_overlap=8)), "tile_frames must be a multiple of the VAE's temporal compression"),
        (dict(tiling={"tile_size": 512}), "`tiling` must be a TilingConfig"),
        (dict(refine_timesteps=[1000.0, 500.0]), "refine_timesteps"),
        (dict(refine_timesteps=[400.0, 700.0]), "refine_timesteps"),
        (dict(adain_factor=2.0), "adain_factor"),
        (dict(refine_guidance_scale="x"), "`refine_guidance_scale` must be a finite number >= 0"),
        (dict(refine_guidance_scale=-3), "`refine_guidance_scale` must be a finite number >= 0"),
    ],
)
def test_bad_settings_are_named(pipe, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pipe.enable_4k_mode(**kwargs)
    assert pipe.four_k_mode is None and pipe.vae_tiling is None


def test_audio_video_pipeline_upsampler_path_is_video_only():
    pipe = tiny_audio_video_pipeline()
    pipe.set_progress_bar_config(disable=True)
    pipe.enable_4k_mode(TILING, latent_upsampler=tiny_latent_upsampler())
    with pytest.raises(ValueError, match="video-only"):
        pipe(**KW, height=64, width=64, generate_audio=True)
    out = pipe(**KW, height=64, width=64, output_type="pt", generator=gen())
    assert out.frames.shape == (1, 17, 3, 64, 64)
    assert type(out).__name__ == "LTXAudioVideoPipelineOutput" and out.audio is None  # as a video-only call's
    assert out.frame_rate == 25.0  # the default; None before: export_to_video(out, path) wrote a 30 fps call at 24
    assert pipe(**KW, height=64, width=64, frame_rate=30, generator=gen(), output_type="latent").frame_rate == 30.0
    frames, audio = pipe(**KW, height=64, width=64, output_type="pt", generator=gen(), return_dict=False)
    assert torch.equal(frames, out.frames) and audio is None


def test_the_calls_peak_is_the_decodes(pipe):
    """After the tiled decode, generate_multiscale resized the video to the size it already had, through a float32
    copy (2.0x the float32 video here, 5x a bf16 one): the 4K call now peaks where a plain tiled call of the same
    size does (1.59x here, the decode's)."""
    tiling = TilingConfig(tile_size=64, tile_overlap=0, tile_frames=8, frame_overlap=0)
    models = (pipe.transformer, pipe.vae, pipe.text_encoder, pipe.latent_upsampler)
    existing = [t for model in models for t in (*model.parameters(), *model.buffers())]
    call = {**KW, "num_frames": 9, "num_inference_steps": 1, "height": 128, "width": 128, "output_type": "pt"}
    pipe.enable_vae_tiling(tiling)
    with LiveTensorBytes(existing=existing) as plain:
        pipe(**call, generator=gen())
    pipe.enable_4k_mode(tiling, refine_timesteps=[900.0])
    with LiveTensorBytes(existing=existing) as four_k:
        video = pipe(**call, generator=gen()).frames
    assert video.shape == (1, 9, 3, 128, 128)
    assert four_k.peak <= 1.02 * plain.peak  # the old code: 1.26x


def test_tiled_decode_through_the_pipeline_matches_the_function(pipe):
    latents = torch.randn(1, 8, 3, 4, 4, generator=gen())
    pipe.enable_vae_tiling(TILING)
    timestep = torch.tensor([0.05])
    with torch.no_grad():
        via_pipe = pipe.vae_decode(latents, timestep)
        direct = tiled_decode(lambda z: pipe.vae.decode(z, timestep, return_dict=False)[0], latents, TILING,
                              spatial_ratio=32, temporal_ratio=8)
    assert torch.equal(via_pipe, direct)


def tiny_hierarchical_vae():
    from ltx_video import HierarchicalVAE

    torch.manual_seed(0)
    return HierarchicalVAE(latent_channels=8, block_out_channels=(8, 16, 16, 16), layers_per_block=1).eval()


HIERARCHICAL_TILING = TilingConfig(tile_size=64, tile_overlap=0, tile_frames=8, frame_overlap=0)


def test_hierarchical_vae_path_is_one_pass_with_tiled_decoding_and_keeps_the_audio():
    """With a 64x HierarchicalVAE, 4K mode is a plain call decoded in tiles; the audio-video pipeline keeps its audio."""
    base = tiny_audio_video_pipeline()
    pipe = type(base)(**{**base.components, "vae": tiny_hierarchical_vae()})
    pipe.set_progress_bar_config(disable=True)
    args = dict(KW, height=128, width=128, num_frames=9)
    plain = pipe(**args, output_type="pt", generator=gen())
    latents = pipe(**args, output_type="latent", generator=gen()).frames
    assert pipe.enable_4k_mode(HIERARCHICAL_TILING) == "hierarchical_vae"
    out = pipe(**args, output_type="pt", generator=gen())
    assert out.audio is not None and torch.equal(out.audio[0], plain.audio[0])
    vae = pipe.vae
    raw = latents * vae.latents_std[None, :, None, None, None] + vae.latents_mean[None, :, None, None, None]
    with torch.no_grad():
        tiled = tiled_decode(lambda z: vae.decode(z).sample, raw, HIERARCHICAL_TILING, spatial_ratio=64,
                             temporal_ratio=8)
    assert torch.allclose(out.frames, ((tiled.clamp(-1, 1) + 1) / 2).transpose(1, 2), atol=1e-6)
    assert not torch.allclose(out.frames, plain.frames, atol=1e-3)  # 4 tiles without overlap: not the whole decode
    with pytest.raises(ValueError, match="tile_size must be a multiple of the VAE's spatial compression 64"):
        pipe.enable_4k_mode(TilingConfig(tile_size=96, tile_overlap=32))


def test_a_vae_swapped_in_later_brings_its_grid(caplog):
    """``pipe.vae = HierarchicalVAE(...)`` kept the 32x grid of the VAE the pipeline was built with: a 64x VAE
    decoded 2 x 2 latents to 128 px, cropped to 64 without a word."""
    from ltx_video.testing import tiny_pipeline

    swapped = tiny_pipeline()
    swapped.vae = tiny_hierarchical_vae()
    built = type(swapped)(**{**tiny_pipeline().components, "vae": tiny_hierarchical_vae()})
    for pipe in (swapped, built):
        pipe.set_progress_bar_config(disable=True)
    assert (swapped.vae_spatial_compression_ratio, swapped.video_processor.config.vae_scale_factor) == (64, 64)
    args = dict(KW, height=64, width=64, num_frames=9, output_type="latent")
    assert swapped(**args, generator=gen()).frames.shape == (1, 8, 2, 1, 1)
    assert torch.equal(swapped(**dict(args, output_type="pt"), generator=gen()).frames,
                       built(**dict(args, output_type="pt"), generator=gen()).frames)
    assert swapped.enable_4k_mode(HIERARCHICAL_TILING) == "hierarchical_vae"
    # What was set for the VAE before follows it: 4K mode off, tiles that do not divide by 64 dropped (a call found
    # out only after denoising), both said.
    pipe = tiny_pipeline()
    pipe.enable_vae_tiling(TilingConfig(tile_size=96, tile_overlap=32, tile_frames=8, frame_overlap=0))
    kept = tiny_pipeline()
    kept.enable_4k_mode(TILING, latent_upsampler=tiny_latent_upsampler())
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        pipe.vae = tiny_hierarchical_vae()
        kept.vae = tiny_hierarchical_vae()
    assert pipe.vae_tiling is None and kept.four_k_mode is None and kept.vae_tiling is None  # as before 4K mode
    same = tiny_pipeline()
    same.enable_4k_mode(TILING, latent_upsampler=tiny_latent_upsampler())
    same.vae = same.vae.to(torch.float32)  # the same compression: 4K mode stays
    assert same.four_k_mode is not None and same.vae_tiling is TILING
    assert "its VAE tiling is off" in caplog.text and "4K mode is off" in caplog.text


def test_refine_timesteps_are_checked_as_the_call_checks_them(pipe):
    """LTX-Video's 0..1 units and repeated values passed enable_4k_mode and failed after the whole first pass."""
    for timesteps, match in (([0.9094, 0.7250, 0.4219], "in diffusers' units, 0..1000"),
                             ([900, 900, 500], "strictly decreasing")):
        with pytest.raises(ValueError, match=rf"`refine_timesteps` .*{match}"):
            pipe.enable_4k_mode(TILING, latent_upsampler=tiny_latent_upsampler(), refine_timesteps=timesteps)


def test_the_4k_size_message_never_offers_a_negative_range():
    from ltx_video.pipelines.four_k import check_4k_size

    with pytest.raises(ValueError) as caught:  # said "use a height in (-32, 0] or (32, 64]"
        check_4k_size(20, 3840, 32)
    assert str(caught.value).endswith("use a height in (32, 64], e.g. 64 (3840 x 2160 works).")
    with pytest.raises(ValueError, match=r"use a width in \(32, 64\] or \(96, 128\], e.g. 128"):  # both exist here
        check_4k_size(2160, 90, 32)
