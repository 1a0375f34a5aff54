"""Multi-scale generation against its steps run by hand with diffusers' latent-upsample pipeline."""

import pytest
import torch
from conftest import gen
from diffusers import LTXLatentUpsamplePipeline

from ltx_video import ConditioningItem, LTXVideoPipeline
from ltx_video.pipelines.latent_ops import adain_filter_latent
from ltx_video.pipelines.multiscale import first_pass_size, upsample_latents
from ltx_video.testing import tiny_latent_upsampler

FIRST = dict(timesteps=[1000.0, 993.7, 909.4, 725.0], guidance_scale=1.0)
SECOND = dict(timesteps=[909.4, 725.0, 421.9], guidance_scale=1.0, stg_scale=1.0, skip_block_list=[1])


@pytest.fixture(scope="module")
def pipe(components):
    pipe = LTXVideoPipeline(**components, latent_upsampler=tiny_latent_upsampler())
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_first_pass_size_as_ltx_video():
    assert first_pass_size(704, 1216, 0.6666666) == (448, 800)
    with pytest.raises(ValueError, match="downscale_factor"):
        first_pass_size(64, 64, 0.25)


def test_adain_matches_reference_statistics():
    g = torch.Generator().manual_seed(0)
    x, ref = torch.randn(2, 4, 3, 5, 5, generator=g) * 3 + 1, torch.randn(2, 4, 3, 5, 5, generator=g)
    out = adain_filter_latent(x, ref, 1.0)
    assert torch.allclose(out.mean((2, 3, 4)), ref.mean((2, 3, 4)), atol=1e-5)
    assert torch.allclose(out.std((2, 3, 4)), ref.std((2, 3, 4)), atol=1e-5)
    assert torch.equal(adain_filter_latent(x, ref, 0.0), x)


def test_multiscale_equals_manual_steps(pipe, components):
    kw = dict(prompt="a red ball", num_frames=9, max_sequence_length=16, decode_timestep=0.05, decode_noise_scale=0.025)
    out = pipe.generate_multiscale(height=96, width=96, downscale_factor=0.6666666, first_pass=FIRST,
                                   second_pass=SECOND, output_type="pt", generator=gen(), **kw).frames
    assert out.shape == (1, 9, 3, 96, 96)

    # By hand: first pass at 32x32 (int(96 * 0.6666666) = 63 -> 32), upsample (diffusers, AdaIN 1.0), 64x64, resize.
    g = gen()
    first = pipe(**kw, **FIRST, height=32, width=32, output_type="latent", generator=g).frames
    upsample = LTXLatentUpsamplePipeline(vae=components["vae"], latent_upsampler=pipe.latent_upsampler)
    up = upsample(latents=first, adain_factor=1.0, output_type="latent").frames
    second = pipe(**kw, **SECOND, height=64, width=64, latents=up, output_type="latent", generator=g).frames
    video = pipe.decode_latents(second, decode_timestep=0.05, decode_noise_scale=0.025, tone_map_compression_ratio=0.0,
                                generator=g, dtype=torch.float32)
    frames = torch.nn.functional.interpolate(video[0].transpose(0, 1), size=(96, 96), mode="bilinear")
    expected = ((frames.clamp(-1, 1) + 1) / 2)[None]
    assert torch.allclose(out, expected, atol=1e-6)


def test_second_pass_must_keep_latents(pipe):
    with pytest.raises(ValueError, match="second_pass"):
        pipe.generate_multiscale(prompt="x", height=64, width=64, num_frames=9, first_pass=FIRST,
                                 second_pass=dict(timesteps=[1000.0, 500.0]))


def test_multiscale_odd_size_with_condition(pipe, images):
    """80x100 pads to 96x128: the keyframe is padded once, resized per pass, and the result is cropped back."""
    kw = dict(prompt="a red ball", num_frames=9, max_sequence_length=16)
    out = pipe.generate_multiscale(height=80, width=100, image=images[0], first_pass=FIRST, second_pass=SECOND,
                                   output_type="pt", generator=gen(), **kw).frames
    assert out.shape == (1, 9, 3, 80, 100)

    # By hand: the image at 80x100, padded (14, 14, 8, 8) with mid-grey, passes at 32x64 then 64x128.
    pixels = pipe.media_processor.preprocess(images[0], 80, 100)
    padded = torch.nn.functional.pad(pixels, (14, 14, 8, 8), value=0.0)[:, :, None]
    item = [ConditioningItem(padded[0], 0, 1.0)]
    g = gen()
    first = pipe(**kw, **FIRST, height=32, width=64, conditioning_items=item, output_type="latent", generator=g).frames
    up = upsample_latents(pipe, pipe.latent_upsampler, first)
    second = pipe(**kw, **SECOND, height=64, width=128, conditioning_items=item, latents=up, output_type="latent",
                  generator=g).frames
    video = pipe.decode_latents(second, decode_timestep=0.0, decode_noise_scale=None, tone_map_compression_ratio=0.0,
                                generator=g, dtype=torch.float32)
    frames = torch.nn.functional.interpolate(video[0].transpose(0, 1), size=(96, 128), mode="bilinear")
    expected = ((frames[:, :, 8:88, 14:114].clamp(-1, 1) + 1) / 2)[None]
    assert torch.allclose(out, expected, atol=1e-6)
