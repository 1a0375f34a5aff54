"""Tiled VAE decoding: exact for a local decoder, seamless for the trained built-in VAE, validated tile sizes."""

import pathlib

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKLLTXVideo

import ltx_video
from ltx_video import LTXVideoPipeline
from ltx_video.data.synthetic import make_clip
from ltx_video.models.autoencoders.tiling import TilingConfig, blend_weights, tile_spans, tiled_decode
from ltx_video.testing import tiny_components
from ltx_video.utils.memory import LiveTensorBytes, tiled_output_bytes


def local_decode(spatial: int, temporal: int):
    """A decoder that is local in space and time, with LTX-Video's causal time layout (latent 0 -> 1 frame,
    later latents -> ``temporal`` frames each): tiling must reproduce it exactly."""

    def decode(z):
        frames = torch.cat([z[:, :, :1], z[:, :, 1:].repeat_interleave(temporal, 2)], 2)
        return frames.repeat_interleave(spatial, 3).repeat_interleave(spatial, 4)[:, :3].tanh()

    return decode


def psnr(a, b):
    return 10 * torch.log10(4 / (a - b).square().mean()).item()


@pytest.mark.parametrize(
    "config",
    [
        TilingConfig(tile_size=32, tile_overlap=16, tile_frames=8, frame_overlap=4),
        TilingConfig(tile_size=40, tile_overlap=8, tile_frames=12, frame_overlap=0),
        TilingConfig(tile_size=24, tile_overlap=16, tile_frames=4, frame_overlap=0),
    ],
)
def test_local_decoder_is_reproduced_exactly(config):
    z = torch.randn(2, 4, 11, 13, 9, generator=torch.Generator().manual_seed(0))
    decode = local_decode(8, 4)
    full = decode(z)
    calls = []
    tiled = tiled_decode(lambda t: calls.append(t.shape) or decode(t), z, config, spatial_ratio=8, temporal_ratio=4)
    assert len(calls) > 4  # it really tiled
    assert tiled.shape == full.shape == (2, 3, 41, 104, 72)
    assert torch.allclose(tiled, full, atol=1e-5)


def test_spans_cover_and_weights_sum_to_one():
    assert tile_spans(5, 8, 2) == [(0, 5)]
    assert tile_spans(20, 8, 2) == [(0, 8), (6, 14), (12, 20)]
    assert tile_spans(15, 8, 2) == [(0, 7), (4, 11), (8, 15)]  # evenly spread: no thin tile at the edge
    for length in range(1, 120):  # the fewest tiles of at most `tile`, overlapping by at least `overlap`
        for tile, overlap in ((16, 2), (9, 4), (7, 0)):
            spans = tile_spans(length, tile, overlap)
            assert spans[0][0] == 0 and spans[-1][1] == length and all(b - a <= tile for a, b in spans)
            assert all(a[1] - b[0] >= overlap for a, b in zip(spans, spans[1:], strict=False))
            assert len(spans) == max(1, -(-(length - overlap) // (tile - overlap)))
    for spans, length in (([(0, 8), (6, 14), (7, 15)], 15), ([(0, 64), (48, 112), (96, 160)], 160)):
        weights = blend_weights(spans, length)
        total = torch.zeros(length)
        for (a, b), w in zip(spans, weights, strict=True):
            total[a:b] += w
            assert (w > 0).all()
        assert torch.allclose(total, torch.ones(length), atol=1e-6)
    ramp = blend_weights([(0, 8), (4, 12)], 12)
    assert torch.allclose(ramp[0], torch.tensor([1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2]))  # linear over the overlap


def test_trained_vae_tiles_blend_without_loss():
    """The built-in model's trained VAE (16x, 4x): tiled decoding with overlap reconstructs a synthetic clip as
    well as decoding it whole, and better than tiles without overlap."""
    vae = AutoencoderKLLTXVideo.from_pretrained(pathlib.Path(ltx_video.__file__).parent / "assets/default_model/vae")
    vae.eval()
    clip = make_clip(5, height=128, width=192, duration=33 / 24)
    video = clip.video.permute(1, 0, 2, 3)[None]  # (1, 3, 33, 128, 192) in [-1, 1]
    decode = lambda z: vae.decode(z, None, return_dict=False)[0]  # noqa: E731
    with torch.no_grad():
        latents = vae.encode(video).latent_dist.mode()
        whole = decode(latents)
        one_tile = tiled_decode(decode, latents, TilingConfig(tile_size=256, tile_frames=64), spatial_ratio=16,
                                temporal_ratio=4)
        blended = tiled_decode(decode, latents, TilingConfig(tile_size=64, tile_overlap=32, tile_frames=16,
                               frame_overlap=8), spatial_ratio=16, temporal_ratio=4)
        seams = tiled_decode(decode, latents, TilingConfig(tile_size=64, tile_overlap=0, tile_frames=64,
                             frame_overlap=0), spatial_ratio=16, temporal_ratio=4)
    assert torch.equal(one_tile, whole)
    assert psnr(blended, whole) > 32  # measured 34.1 dB
    assert psnr(blended, video) > psnr(whole, video) - 0.1  # measured 27.14 vs 26.54 dB
    assert psnr(seams, video) < psnr(blended, video) - 0.5  # measured 26.15 dB: overlap blending matters


def test_output_device_and_dtype():
    """The video comes back in the decoder's dtype, as an untiled decode (it was always float32)."""
    z = torch.randn(1, 4, 3, 4, 4, dtype=torch.float64)
    out = tiled_decode(local_decode(8, 4), z, TilingConfig(tile_size=16, tile_overlap=8, output_device="cpu"),
                       spatial_ratio=8, temporal_ratio=4)
    assert out.dtype == torch.float64 and out.device.type == "cpu"
    assert torch.allclose(out, local_decode(8, 4)(z), atol=1e-6)


@pytest.mark.parametrize("config", [TilingConfig(tile_size=16, tile_overlap=8, tile_frames=4, frame_overlap=0),
                                    TilingConfig()])  # tiled, and one tile covering the video
def test_float64_decode_is_blended_in_float64(config):
    """A float64 decode went through the float32 slab: 2e-4 off the untiled video at values ~1000 in 64-px tiles,
    3e-5 with one tile, where float64 rounds at 1e-13."""
    z = torch.randn(1, 4, 3, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    decode = lambda t: local_decode(8, 4)(t) * 1000  # noqa: E731  (values to 1000: float32 keeps 7 digits of them)
    out = tiled_decode(decode, z, config, spatial_ratio=8, temporal_ratio=4)
    assert out.dtype == torch.float64
    assert torch.allclose(out, decode(z), rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("frame_overlap", [0, 4])
def test_16_bit_decode_returns_its_dtype_blended_in_float32(dtype, frame_overlap):
    """A bf16 / fp16 decoder's tiles are blended in float32 (a slab of one temporal tile's frames) and the video
    comes back in its dtype: exactly the float32 blend of the same tiles, rounded once."""
    z = torch.randn(2, 4, 11, 13, 9, generator=torch.Generator().manual_seed(0)).to(dtype)
    config = TilingConfig(tile_size=32, tile_overlap=16, tile_frames=8, frame_overlap=frame_overlap)
    decode = local_decode(8, 4)
    out = tiled_decode(decode, z, config, spatial_ratio=8, temporal_ratio=4)
    blended_in_float32 = tiled_decode(lambda t: decode(t).float(), z, config, spatial_ratio=8, temporal_ratio=4)
    assert out.dtype == dtype and blended_in_float32.dtype == torch.float32
    assert torch.equal(out, blended_in_float32.to(dtype))
    assert torch.allclose(out.float(), decode(z).float(), atol=1e-2)  # a local decoder: the untiled video


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(tile_size=0), "tile_size must be a positive integer"),
        (dict(tile_size=64, tile_overlap=64), r"tile_overlap must be an integer in \[0, tile_size=64\)"),
        (dict(tile_frames=16, frame_overlap=-8), "frame_overlap"),
        (dict(tile_frames=8.5), "tile_frames"),
        (dict(tile_overlap=np.float32(8.5)), "tile_overlap"),
        (dict(output_device="gpu0"), "TilingConfig.output_device must be a device name"),
        *([(dict(output_device="cuda"), "this machine has no CUDA device")] if not torch.cuda.is_available() else []),
        (dict(output_device=3), "TilingConfig.output_device must be a device name"),
    ],
)
def test_config_is_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TilingConfig(**kwargs)


def test_config_takes_numpy_ints_and_whole_number_floats_as_ints():
    """As HierarchicalVAE.enable_tiling takes them (np.int64(512) and 512.0 were refused), converted once."""
    config = TilingConfig(tile_size=np.int64(512), tile_overlap=64.0, tile_frames=torch.tensor(32), frame_overlap=8.0)
    assert config == TilingConfig(tile_size=512, tile_overlap=64, tile_frames=32, frame_overlap=8)
    assert all(type(getattr(config, name)) is int for name in ("tile_size", "tile_overlap", "tile_frames",
                                                               "frame_overlap"))
    with pytest.raises(ValueError, match=r"TilingConfig.tile_size must be a positive integer \(such as 512, or "
                                         r"512.0\), got 512.5."):
        TilingConfig(tile_size=512.5)
    with pytest.raises(ValueError, match="TilingConfig.tile_size"):
        TilingConfig(tile_size=np.True_)


def test_latents_that_are_not_5_d_are_named():
    with pytest.raises(ValueError, match=r"tiled_decode: `latents` must be \(B, C, F, h, w\), 5 dimensions, got "
                                         r"shape \(8, 2, 2, 2\)."):
        tiled_decode(local_decode(8, 4), torch.zeros(8, 2, 2, 2), TilingConfig(), spatial_ratio=32, temporal_ratio=8)


def test_16_bit_decode_holds_one_float32_slab_as_planned():
    """The output in bf16 plus ONE float32 slab of a temporal tile's frames, as the planner counts it
    (``tiled_output_bytes``): the next temporal tile's slab was allocated while the previous one was alive, two slabs
    at each temporal step (here the old code peaked 2.05 slabs above the output, this 1.18)."""
    z = torch.randn(1, 4, 11, 8, 8, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
    config = TilingConfig(tile_size=16, tile_overlap=0, tile_frames=32, frame_overlap=8)  # 3 temporal tiles of 16
    decode = local_decode(8, 8)
    with torch.no_grad(), LiveTensorBytes(existing=[z]) as tracker:
        out = tiled_decode(decode, z, config, spatial_ratio=8, temporal_ratio=8)
    planned = tiled_output_bytes(1, out.shape[2], 64, 64, config.tile_frames + 1, 2)
    slab = 3 * 4 * (config.tile_frames + 1) * 64 * 64
    tile = 4 * 3 * (config.tile_frames + 1) * 16 * 16  # one decoded tile in float32 (a slab is 16 of them)
    assert planned == out.numel() * 2 + slab
    assert planned <= tracker.peak <= planned + 6 * tile  # the tile and its float32 copies: 2.8 tiles; old: 16.9
    assert torch.equal(out, tiled_decode(lambda t: decode(t).float(), z, config, spatial_ratio=8,
                                         temporal_ratio=8).to(torch.bfloat16))


def test_sizes_must_divide_by_the_compression():
    with pytest.raises(ValueError, match="tile_size must be a multiple of the VAE's spatial compression 32, got 500"):
        TilingConfig(tile_size=500).check(32, 8)
    with pytest.raises(ValueError, match="frame_overlap must be a multiple of the VAE's temporal compression 8"):
        TilingConfig(frame_overlap=20).check(32, 8)
    TilingConfig().check(32, 8)
    TilingConfig().check(64, 8)
    # the suggestion is itself accepted: "try 64" for an overlap of 32 on 64 px tiles was refused in turn
    for config, ratios in ((TilingConfig(tile_size=64, tile_overlap=32), (64, 8)),
                           (TilingConfig(tile_frames=8, frame_overlap=7), (32, 8))):
        with pytest.raises(ValueError, match=r"\(try \d+\)") as refused:
            config.check(*ratios)
        name, value = refused.value.args[0].split("TilingConfig.")[1].split(" ")[0], int(
            refused.value.args[0].rsplit("(try ", 1)[1].rstrip(").")
        )
        TilingConfig(**{**config.__dict__, name: value}).check(*ratios)
    with pytest.raises(ValueError, match="tile_size"):
        tiled_decode(local_decode(8, 4), torch.zeros(1, 4, 2, 2, 2), TilingConfig(tile_size=20), spatial_ratio=8,
                     temporal_ratio=4)


@pytest.mark.parametrize(
    "device, match",
    [
        ("meta", r"a meta tensor holds no data \(the decoded video would be empty\)"),
        *[(name, f"this machine has no {name.upper()} device") for name in ("mps", "xpu")
          if not getattr(torch, name).is_available()],
    ],
)
def test_output_device_torch_cannot_allocate_on_is_refused(device, match):
    """"mps" / "xpu" were accepted and failed after the whole denoising; "meta" returned empty frames."""
    with pytest.raises(ValueError, match=rf"TilingConfig.output_device is '{device}', but {match}; use 'cpu', None"):
        TilingConfig(output_device=device)
    with pytest.raises(ValueError, match="TilingConfig.output_device"):
        TilingConfig(output_device=torch.device(device))


def test_output_device_index_is_checked_against_the_machines_devices(monkeypatch):
    """"cuda:1" on a one-GPU machine was accepted (asked without allocating: no CUDA context is created)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"'cuda:1', but this machine has 1 CUDA device\(s\), 'cuda:0' to 'cuda:0'"):
        TilingConfig(output_device="cuda:1")
    for fine in ("cuda", "cuda:0", torch.device("cuda", 0)):
        assert TilingConfig(output_device=fine).output_device == fine
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="'cuda:0', but this machine has no CUDA device"):
        TilingConfig(output_device="cuda:0")
    assert TilingConfig(output_device="cpu").output_device == "cpu"


# ----------------------------------------------------------------------------- through the pipeline
CALL = dict(height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16)


@pytest.mark.parametrize("tiling", [None, TilingConfig(tile_size=32, tile_overlap=0, tile_frames=8, frame_overlap=0)])
def test_vae_slicing_decodes_each_video_alone_with_its_timestep(tiling):
    """diffusers' ``vae.enable_slicing()`` with two videos failed after the whole denoising (its decode pairs the
    slices with the wrong timestep rows); each video now decodes exactly as it does alone, with its own row."""
    pipe = LTXVideoPipeline(**tiny_components())
    pipe.set_progress_bar_config(disable=True)
    if tiling is not None:
        pipe.enable_vae_tiling(tiling)
    latents = torch.randn(2, 8, 2, 2, 2, generator=torch.Generator().manual_seed(0))
    timestep = torch.tensor([0.05, 0.6])  # distinct rows: a swapped or shared row would show
    with torch.no_grad():
        whole = pipe.vae_decode(latents, timestep)
        pipe.vae.enable_slicing()
        sliced = pipe.vae_decode(latents, timestep)
        alone = [pipe.vae_decode(latents[k : k + 1], timestep[k : k + 1]) for k in range(2)]
    assert torch.equal(sliced, torch.cat(alone))
    assert torch.allclose(sliced, whole, atol=1e-5)  # the batched decode, up to float32 round-off
    assert not torch.allclose(alone[0], pipe.vae_decode(latents[:1], timestep[1:]), atol=1e-3)  # the row matters

    def gen():
        return torch.Generator("cpu").manual_seed(0)

    prompts = ["a red ball bounces", "a blue square bounces"]
    out = pipe(prompt=prompts, **CALL, output_type="pt", generator=gen()).frames
    pipe.vae.disable_slicing()
    reference = pipe(prompt=prompts, **CALL, output_type="pt", generator=gen()).frames
    assert torch.allclose(out, reference, atol=1e-5)


def test_tiled_decode_returns_a_bf16_pipelines_dtype():
    """A bf16 pipeline's ``output_type="pt"`` came back float32 with ``enable_vae_tiling`` only; one tile covering the
    video now gives exactly the plain call's frames, and several tiles the same dtype."""
    pipe = LTXVideoPipeline(**tiny_components()).to(torch.bfloat16)
    pipe.set_progress_bar_config(disable=True)

    def run():
        return pipe(prompt="a red ball bounces", **CALL, output_type="pt",
                    generator=torch.Generator("cpu").manual_seed(0)).frames

    plain = run()
    pipe.enable_vae_tiling(TilingConfig(tile_size=64, tile_overlap=0, tile_frames=8, frame_overlap=0))
    one_tile = run()
    pipe.enable_vae_tiling(TilingConfig(tile_size=32, tile_overlap=0, tile_frames=8, frame_overlap=0))
    tiles = run()
    assert plain.dtype == one_tile.dtype == tiles.dtype == torch.bfloat16
    assert torch.equal(one_tile, plain)
    assert ((tiles >= 0) & (tiles <= 1)).all() and not torch.equal(tiles, plain)


def test_the_tile_bar_keeps_its_label_under_the_pipelines_bar_settings(capsys):
    """A pipeline's ``set_progress_bar_config(desc="denoising")`` reaches the tile bar as its settings; its label
    stayed the user's, so the tiles showed as a second denoising loop."""
    config = TilingConfig(tile_size=32, tile_overlap=16, tile_frames=8, frame_overlap=4)
    tiled_decode(local_decode(8, 4), torch.randn(1, 4, 5, 9, 9), config, spatial_ratio=8, temporal_ratio=4,
                 progress={"desc": "denoising", "ascii": True})
    err = capsys.readouterr().err
    assert "VAE tiles" in err and "denoising" not in err
