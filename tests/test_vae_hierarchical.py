"""HierarchicalVAE: Haar maths, shape and time arithmetic, causality, the adaptive patch gate, the ablation
switches, save/load, that it learns, the video_vae training stage, and LTXVideoPipeline with it as its vae."""

from __future__ import annotations

import random

import pytest
import torch

from ltx_video import HierarchicalVAE, LTXVideoPipeline
from ltx_video.models.autoencoders import haar_dwt2d, haar_idwt2d
from ltx_video.pipelines.latent_ops import denormalize_latents
from ltx_video.testing import TINY_LATENT_CHANNELS, tiny_components

TINY = dict(latent_channels=TINY_LATENT_CHANNELS, block_out_channels=(8, 16, 16, 16), layers_per_block=1)


def tiny_vae(seed: int = 0, **overrides) -> HierarchicalVAE:
    torch.manual_seed(seed)
    return HierarchicalVAE(**{**TINY, **overrides}).eval()


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def clip(frames: int = 9, size: int = 64, seed: int = 0) -> torch.Tensor:
    """A smooth moving pattern plus a sliding bar, (1, 3, frames, size, size) in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, frames)[:, None, None] + torch.rand(1, generator=g)
    y = torch.linspace(-1, 1, size)[None, :, None]
    x = torch.linspace(-1, 1, size)[None, None, :]
    bar = ((x - t + 0.5).abs() < 0.3).float().expand(frames, size, size) * 1.6 - 0.8
    return torch.stack([torch.sin(3 * x + 2 * t) * torch.cos(2 * y), (x * y).expand(frames, -1, -1), bar])[None]


# ----------------------------------------------------------------------------- Haar
def test_haar_is_orthonormal_and_exactly_inverted():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 8, 6, generator=g)
    bands = haar_dwt2d(x)
    assert bands.shape == (2, 3, 4, 4, 4, 3)
    assert (haar_idwt2d(bands) - x).abs().max() < 1e-6
    assert bands.square().sum().item() == pytest.approx(x.square().sum().item(), rel=1e-6)  # Parseval
    x64 = x.double()
    assert (haar_idwt2d(haar_dwt2d(x64)) - x64).abs().max() < 1e-14
    # Dyadic values: every sum and halving is exact in floating point, so the round trip is bit-exact.
    integers = torch.randint(-1000, 1000, (3, 16, 16), generator=g).double()
    assert torch.equal(haar_idwt2d(haar_dwt2d(integers)), integers)
    assert torch.equal(haar_dwt2d(integers).square().sum(), integers.square().sum())
    # Subband meanings: a flat 2x2 block is all LL (twice its value); column, row and diagonal patterns.
    block = torch.tensor([[1.0, -1.0], [1.0, -1.0]])
    assert haar_dwt2d(torch.full((2, 2), 3.0)).flatten().tolist() == [6.0, 0.0, 0.0, 0.0]
    assert haar_dwt2d(block).flatten().tolist() == [0.0, 2.0, 0.0, 0.0]  # LH: detail across columns
    assert haar_dwt2d(block.T).flatten().tolist() == [0.0, 0.0, 2.0, 0.0]  # HL: detail across rows
    with pytest.raises(ValueError, match="even H and W"):
        haar_dwt2d(torch.zeros(3, 5))


# ----------------------------------------------------------------------------- shapes and time
@pytest.mark.parametrize("spatial", [64, 32])
def test_shapes_and_latent_token_count(spatial):
    vae = tiny_vae(spatial_compression=spatial)
    assert (vae.spatial_compression_ratio, vae.temporal_compression_ratio) == (spatial, 8)
    assert vae.config.timestep_conditioning is False and vae.config.latent_channels == TINY_LATENT_CHANNELS
    tokens = {}
    for frames in (1, 9, 17):
        x = clip(frames)
        with torch.no_grad():
            posterior = vae.encode(x).latent_dist
            z = posterior.mode()
            video = vae.decode(z).sample
        k = (frames - 1) // 8
        assert z.shape == (1, TINY_LATENT_CHANNELS, 1 + k, 64 // spatial, 64 // spatial)
        assert video.shape == x.shape and torch.isfinite(video).all()
        tokens[frames] = z.shape[2] * z.shape[3] * z.shape[4]
        assert tokens[frames] == (1 + (frames - 1) // 8) * (64 // spatial) ** 2
        assert torch.equal(posterior.mean, z) and (posterior.kl() >= 0).all()
        draw = posterior.sample(generator=torch.Generator().manual_seed(1))
        assert torch.equal(draw, posterior.sample(generator=torch.Generator().manual_seed(1))) and not torch.equal(draw, z)
    assert tokens == {1: (64 // spatial) ** 2, 9: 2 * (64 // spatial) ** 2, 17: 3 * (64 // spatial) ** 2}


def test_64x_mode_has_a_quarter_of_the_tokens_and_bad_inputs_are_rejected():
    x = clip(17, size=128)
    with torch.no_grad():
        z64 = tiny_vae(spatial_compression=64).encode(x).latent_dist.mode()
        z32 = tiny_vae(spatial_compression=32).encode(x).latent_dist.mode()
    assert z64.shape == (1, 8, 3, 2, 2) and z32.shape == (1, 8, 3, 4, 4)
    assert z32[0, 0].numel() == 4 * z64[0, 0].numel()
    vae = tiny_vae()
    with pytest.raises(ValueError, match="8k \\+ 1"):
        vae.encode(clip(8))
    with pytest.raises(ValueError, match="multiples of 64"):
        vae.encode(clip(9, size=32))
    with pytest.raises(ValueError, match="no timestep"):
        vae.decode(torch.zeros(1, 8, 2, 1, 1), torch.zeros(1))
    for bad, message in [({"spatial_compression": 16}, "32 or 64"), ({"patch_size": 3}, "power of two"),
                         ({"temporal_compression": 16}, "at most 8"), ({"block_out_channels": (8, 8)}, "4 widths"),
                         ({"timestep_conditioning": True}, "timestep")]:
        with pytest.raises(ValueError, match=message):
            HierarchicalVAE(**{**TINY, **bad})


def test_encoder_is_causal_in_time():
    """Latent frame i depends on pixel frames <= 8 i only: encoding frames [0:9] gives the first two latent
    frames of encoding [0:17], and changing frame 5 changes latent frame 1 but not latent frame 0."""
    vae = tiny_vae()
    x = clip(17)
    with torch.no_grad():
        long = vae.encode(x).latent_dist.parameters
        short = vae.encode(x[:, :, :9]).latent_dist.parameters
        changed = x.clone()
        changed[:, :, 5] = -changed[:, :, 5]
        moved = vae.encode(changed[:, :, :9]).latent_dist.parameters
    assert long.shape[2] == 3 and short.shape[2] == 2
    assert torch.allclose(short, long[:, :, :2], atol=1e-6)
    assert torch.equal(moved[:, :, 0], short[:, :, 0])
    assert (moved[:, :, 1] - short[:, :, 1]).abs().max() > 1e-3


# ----------------------------------------------------------------------------- adaptive patches
def test_patch_gate_is_coarse_on_uniform_input_and_fine_near_an_edge():
    vae = tiny_vae()
    uniform = torch.full((1, 3, 1, 64, 64), 0.3)
    gate = vae.patch_gate(uniform)
    assert gate.shape == (1, 1, 1, 16, 16) and gate.max() < 0.05
    edge = uniform.clone()
    edge[..., 32:] = -0.7  # a vertical edge between patch columns 7 and 8 (patch 4)
    gate = vae.patch_gate(edge)[0, 0, 0]
    assert gate[:, 6:9].min() > 0.95  # the edge's patches and their neighbours
    assert gate[:, :5].max() < 0.05 and gate[:, 10:].max() < 0.05
    assert torch.equal(tiny_vae(use_adaptive_patches=False).patch_gate(edge), torch.ones(1, 1, 1, 16, 16))
    # The gate is learnable: its threshold and sharpness get gradients through the reconstruction.
    vae.train()
    vae.decode(vae.encode(clip(1)).latent_dist.mode()).sample.square().mean().backward()
    patch_embed = vae.encoder.patch_embed
    assert patch_embed.gate_threshold.grad.abs() > 0 and patch_embed.gate_log_sharpness.grad.abs() > 0


# ----------------------------------------------------------------------------- ablation switches
def test_each_ablation_switch_changes_parameters_and_output():
    base = tiny_vae()
    x = clip(9)
    with torch.no_grad():
        reference = base(x).sample
    # wavelet: the encoder's and decoder's 4 fusion weights; context: proj_in (16 -> 32), depthwise 3x3 (32),
    # proj_out (32 -> 16), in encoder and decoder; adaptive patches: the coarse embedding (48 -> 8) + 2 gate scalars.
    deltas = {"use_wavelet": 2 * 4, "use_context": 2 * ((16 * 32 + 32) + (32 * 9 + 32) + (32 * 16 + 16)),
              "use_adaptive_patches": 48 * 8 + 8 + 2}
    for flag, delta in deltas.items():
        ablated = tiny_vae(**{flag: False})
        assert count(base) - count(ablated) == delta, flag
        missing, unexpected = ablated.load_state_dict(base.state_dict(), strict=False)
        assert not missing, flag  # every ablated weight exists in the full model
        with torch.no_grad():
            out = ablated(x).sample
        assert out.shape == x.shape
        if flag == "use_context":  # zero-initialised: the full model equals the ablated one until trained
            assert torch.equal(out, reference)
        else:
            assert (out - reference).abs().max() > 1e-3, flag
    trained = tiny_vae()
    torch.nn.init.normal_(trained.decoder.context.proj_out.weight, std=0.1)
    with torch.no_grad():
        assert (trained(x).sample - reference).abs().max() > 1e-3


# ----------------------------------------------------------------------------- save / load
def test_save_pretrained_round_trip_gives_identical_outputs(tmp_path):
    vae = tiny_vae()
    for context in (vae.encoder.context, vae.decoder.context):
        torch.nn.init.normal_(context.proj_out.weight, std=0.1)
    vae.latents_mean.copy_(torch.linspace(-0.2, 0.2, 8))
    vae.latents_std.copy_(torch.linspace(0.5, 1.5, 8))
    vae.save_pretrained(tmp_path)
    loaded = HierarchicalVAE.from_pretrained(tmp_path).eval()
    def public(config):  # JSON stores tuples as lists
        return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items() if not k.startswith("_")}

    assert public(loaded.config) == public(vae.config)
    assert torch.equal(loaded.latents_mean, vae.latents_mean) and torch.equal(loaded.latents_std, vae.latents_std)
    x = clip(9)
    with torch.no_grad():
        z = vae.encode(x).latent_dist.parameters
        assert torch.equal(loaded.encode(x).latent_dist.parameters, z)
        assert torch.equal(loaded.decode(z[:, :8]).sample, vae.decode(z[:, :8]).sample)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_encodes_on_the_cpu(dtype):
    """The adaptive patches' pooling has no half-precision CPU kernel; it runs in float32 there, the rest in ``dtype``."""
    vae = tiny_vae().eval()
    x = clip(9)
    with torch.no_grad():
        full = vae.encode(x).latent_dist.parameters
        half = vae.to(dtype).encode(x.to(dtype)).latent_dist.parameters
    assert half.dtype == dtype and torch.isfinite(half).all()
    assert (half.float() - full).abs().max() < 0.1 * full.abs().max()


# ----------------------------------------------------------------------------- learning
def test_thirty_adam_steps_reduce_the_reconstruction_loss():
    vae = tiny_vae().train()
    x = clip(9)
    optimizer = torch.optim.Adam(vae.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = (vae.decode(vae.encode(x).latent_dist.mode()).sample - x).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses
    assert not torch.equal(vae.encoder.level2[-1].fusion_weights, torch.ones(4))  # the wavelet fusion learns


# ----------------------------------------------------------------------------- training stage
def test_video_vae_stage_builds_a_hierarchical_vae(tmp_path):
    from diffusers import AutoencoderKLLTXVideo

    from ltx_video.training.config import TrainConfig
    from ltx_video.training.data import ClipBank, DataConfig
    from ltx_video.training.stages import build_stage

    data = DataConfig(num_clips=2, height=32, width=32, num_frames=9, fps=12.0, max_objects=1)
    bank = ClipBank(data, show_progress=False)
    model = {"type": "hierarchical", **TINY, "block_out_channels": [8, 16, 16, 16], "spatial_compression": 32}
    config = TrainConfig(stage="video_vae", output_dir=str(tmp_path), steps=1, data=data, model=model,
                         stage_options={"crop_frames": 9})
    torch.manual_seed(0)
    stage = build_stage(config, bank, torch.device("cpu"))
    assert isinstance(stage.network, HierarchicalVAE) and stage.network.spatial_compression_ratio == 32
    losses = stage.loss(stage.model, bank.batch([0, 1], 0, 0), torch.Generator().manual_seed(0), random.Random(0))
    losses["loss"].backward()
    assert torch.isfinite(losses["loss"]) and losses["kl"] > 0
    assert stage.network.encoder.patch_embed.fine.weight.grad.abs().max() > 0
    stage.save(stage.model, tmp_path)
    saved = HierarchicalVAE.from_pretrained(tmp_path / "video_vae")
    assert not torch.equal(saved.latents_std, torch.ones(8))  # fitted to the bank
    legacy = build_stage(config.replace(model={"latent_channels": 8, "block_out_channels": [8, 8]}), bank,
                         torch.device("cpu"))
    assert isinstance(legacy.network, AutoencoderKLLTXVideo)  # no type: today's LTX VAE
    with pytest.raises(ValueError, match="model.type"):
        build_stage(config.replace(model={"type": "unet"}), bank, torch.device("cpu"))


def test_video_vae_stage_trains_on_spatial_windows_of_the_clips(tmp_path):
    """``crop_size``: the objective sees a random crop_size x crop_size window of each batch's frames (the same
    window, pixel for pixel, that the stage's rng picks), and sizes the VAE cannot encode are refused up front."""
    from ltx_video.training.config import TrainConfig
    from ltx_video.training.data import ClipBank, DataConfig
    from ltx_video.training.stages import build_stage

    data = DataConfig(num_clips=2, height=64, width=64, num_frames=9, fps=12.0, max_objects=1)
    bank = ClipBank(data, show_progress=False)
    model = {"type": "hierarchical", **TINY, "block_out_channels": [8, 16, 16, 16], "spatial_compression": 32}
    config = TrainConfig(stage="video_vae", output_dir=str(tmp_path), steps=1, data=data, model=model,
                         stage_options={"crop_frames": 9, "crop_size": 32})
    stage = build_stage(config, bank, torch.device("cpu"))
    batch = bank.batch([0, 1], 0, 0)
    offsets = set()
    seen = []
    for seed in range(40):
        stage.loss(lambda video, generator: seen.append(video), batch, torch.Generator(), random.Random(seed))
        # Replay the stage's draws in its order: the temporal start (one choice for 9 of 9 frames), top, left.
        rng = random.Random(seed)
        rng.randrange(1)
        top, left = rng.randrange(33), rng.randrange(33)
        assert torch.equal(seen[-1], batch["video"][..., top : top + 32, left : left + 32]), seed
        offsets |= {top, left}
    assert {0, 32} <= offsets  # both edges are reachable: every window of the clip can be drawn
    losses = stage.loss(stage.model, batch, torch.Generator().manual_seed(0), random.Random(0))
    assert torch.isfinite(losses["loss"])
    for bad in (48, 16, 96, True):  # not a multiple of 32; under one latent cell; over the clip; not a size
        with pytest.raises(ValueError, match="stage_options.crop_size must be a multiple of 32"):
            build_stage(config.replace(stage_options={"crop_frames": 9, "crop_size": bad}), bank, torch.device("cpu"))


# ----------------------------------------------------------------------------- pipeline
def test_ltx_video_pipeline_decodes_with_a_hierarchical_vae():
    """Frames of a 2-step generation equal vae.decode of the same call's latents, de-normalised as the
    pipeline does (tone mapping is off by default and the VAE takes no decode timestep)."""
    vae = tiny_vae()
    vae.latents_mean.copy_(torch.linspace(-0.2, 0.2, 8))
    vae.latents_std.copy_(torch.linspace(0.5, 1.5, 8))
    pipe = LTXVideoPipeline(**{**tiny_components(), "vae": vae})
    pipe.set_progress_bar_config(disable=True)
    args = dict(prompt="a red ball bounces", height=64, width=64, num_frames=9, num_inference_steps=2)
    frames = pipe(**args, output_type="pt", generator=torch.Generator().manual_seed(0)).frames
    latents = pipe(**args, output_type="latent", generator=torch.Generator().manual_seed(0)).frames
    assert frames.shape == (1, 9, 3, 64, 64) and latents.shape == (1, 8, 2, 1, 1)
    with torch.no_grad():
        video = vae.decode(denormalize_latents(latents, vae.latents_mean, vae.latents_std, 1.0)).sample
    expected = (video / 2 + 0.5).clamp(0, 1).permute(0, 2, 1, 3, 4)  # (B, F, 3, H, W) in [0, 1]
    assert ((expected > 0) & (expected < 1)).float().mean() > 0.1  # not all saturated: a real comparison
    assert torch.allclose(frames, expected, atol=1e-6)


def test_transformer_stage_trains_on_hierarchical_latents_and_its_pipeline_generates(tmp_path):
    """The transformer stage on a saved HierarchicalVAE (issue 17's generation check): the bank's latents are
    the VAE's normalised posterior modes, a step trains, and the saved pipeline loads with the hierarchical VAE
    and decodes its own latents."""
    from ltx_video import LTXAudioVideoPipeline
    from ltx_video.pipelines.latent_ops import normalize_latents
    from ltx_video.training.config import TrainConfig
    from ltx_video.training.data import ClipBank, DataConfig
    from ltx_video.training.stages import build_stage

    vae = tiny_vae(spatial_compression=32)
    vae.latents_mean.copy_(torch.linspace(-0.1, 0.1, TINY_LATENT_CHANNELS))
    vae.latents_std.copy_(torch.linspace(0.5, 1.5, TINY_LATENT_CHANNELS))
    vae.save_pretrained(tmp_path / "vae")
    data = DataConfig(num_clips=2, height=64, width=64, num_frames=9, fps=12.0, camera="static", max_objects=1)
    bank = ClipBank(data, show_progress=False)
    model = {"in_channels": TINY_LATENT_CHANNELS, "out_channels": TINY_LATENT_CHANNELS, "num_attention_heads": 2,
             "attention_head_dim": 8, "cross_attention_dim": 16, "num_layers": 1, "caption_channels": 16,
             "audio_in_channels": 16, "audio_num_attention_heads": 2, "audio_attention_head_dim": 8,
             "av_cross_attention_layers": [0]}
    options = {"video_vae": str(tmp_path / "vae"), "audio_vae": "ltx_video/assets/default_model/audio_vae",
               "text_encoder": {"d_model": 16}, "max_sequence_length": 16}
    config = TrainConfig(stage="transformer", output_dir=str(tmp_path), steps=1, data=data, model=model,
                         stage_options=options)
    torch.manual_seed(0)
    stage = build_stage(config, bank, torch.device("cpu"))
    assert isinstance(stage.vae, HierarchicalVAE)
    with torch.no_grad():
        expected = vae.encode(bank.batch([0, 1], 0, 0)["video"]).latent_dist.mode()
    expected = normalize_latents(expected, vae.latents_mean, vae.latents_std, vae.config.scaling_factor)
    assert stage.video_latents.shape == (2, TINY_LATENT_CHANNELS, 2, 2, 2)  # 9 frames / 8x, 64 px / 32x
    assert torch.allclose(stage.video_latents, expected, atol=1e-5)
    # Positions in pixels and seconds: latent cells 32 px apart, latent frames 8 frames (2/3 s at 12 fps) apart.
    assert sorted(set(stage.video_positions[0, 2].tolist())) == [0.0, 32.0]
    losses = stage.loss(stage.model, bank.batch([0, 1], 0, 0, media=False) | {"indices": [0, 1]},
                        torch.Generator().manual_seed(0), random.Random(0))
    losses["loss"].backward()
    assert torch.isfinite(losses["loss"]) and stage.model.proj_in.weight.grad.abs().max() > 0
    stage.save(stage.model, tmp_path)
    pipe = LTXAudioVideoPipeline.from_pretrained(tmp_path / "pipeline")
    pipe.set_progress_bar_config(disable=True)
    assert isinstance(pipe.vae, HierarchicalVAE) and torch.equal(pipe.vae.latents_std, vae.latents_std)
    args = dict(prompt="a red ball bounces", height=64, width=64, num_frames=9, frame_rate=12.0,
                num_inference_steps=2)
    frames = pipe(**args, output_type="pt", generator=torch.Generator().manual_seed(0)).frames
    latents = pipe(**args, output_type="latent", generator=torch.Generator().manual_seed(0)).frames
    with torch.no_grad():
        video = vae.decode(denormalize_latents(latents, vae.latents_mean, vae.latents_std, 1.0)).sample
    assert torch.allclose(frames, (video / 2 + 0.5).clamp(0, 1).permute(0, 2, 1, 3, 4), atol=1e-5)


def test_enable_tiling_as_diffusers_vaes_offer_it():
    """``pipe.vae.enable_tiling()``, the README's memory saver, raised AttributeError on this VAE."""
    from ltx_video.models.autoencoders.tiling import TilingConfig, tiled_decode

    vae = tiny_vae()
    z = torch.randn(1, TINY_LATENT_CHANNELS, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        whole = vae.decode(z).sample
        vae.enable_tiling()  # the default tile (512 px) holds this whole latent: the same decode
        assert torch.equal(vae.decode(z).sample, whole)
        vae.enable_tiling(TilingConfig(tile_size=128, tile_overlap=64, tile_frames=16, frame_overlap=8))
        tiled = vae.decode(z).sample
        vae.disable_tiling()
        assert torch.equal(vae.decode(z).sample, whole)
        config = TilingConfig(tile_size=128, tile_overlap=64, tile_frames=16, frame_overlap=8)
        direct = tiled_decode(vae.decoder, z, config, spatial_ratio=64, temporal_ratio=8)
    # the tiles and their blending are tiled_decode's (tests/test_tiling.py); random weights give other pixels per tile
    assert tiled.shape == whole.shape and torch.equal(tiled, direct) and not torch.equal(tiled, whole)
    with pytest.raises(ValueError, match="tile_size must be a multiple of the VAE's spatial compression 64"):
        vae.enable_tiling(TilingConfig(tile_size=96, tile_overlap=32))


def test_diffusers_memory_savers_take_their_own_keywords():
    """``enable_tiling(tile_sample_min_height=...)`` and ``enable_slicing()``, as user code written for
    ``AutoencoderKLLTXVideo`` calls them, failed (TypeError / AttributeError)."""
    torch.manual_seed(0)
    vae = HierarchicalVAE(latent_channels=8, block_out_channels=(8, 16, 16, 16), layers_per_block=1).eval()
    x = torch.rand(2, 3, 9, 128, 128) * 2 - 1
    with torch.no_grad():
        latents = vae.encode(x).latent_dist.mode()
        whole = vae.decode(latents).sample
        vae.enable_slicing()
        torch.testing.assert_close(vae.encode(x).latent_dist.mode(), latents, atol=1e-5, rtol=0)
        sliced = vae.decode(latents).sample
        torch.testing.assert_close(sliced[1:], vae.decode(latents[1:]).sample, atol=0, rtol=0)  # one at a time
        torch.testing.assert_close(sliced, whole, atol=1e-5, rtol=0)
    vae.disable_slicing()
    vae.enable_tiling(tile_sample_min_height=128, tile_sample_stride_height=64, tile_sample_min_num_frames=8,
                      tile_sample_stride_num_frames=8)
    assert (vae.tiling.tile_size, vae.tiling.tile_overlap, vae.tiling.tile_frames, vae.tiling.frame_overlap) == (
        128, 64, 8, 0)
    with pytest.raises(ValueError, match=r"enable_tiling\(tile_sample_min_height=100\): .*multiple of the VAE's "
                                         r"spatial compression 64"):
        vae.enable_tiling(tile_sample_min_height=100)
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['tile_size'\]"):
        vae.enable_tiling(tile_size=128)


def test_enable_tiling_takes_diffusers_number_types_and_names_the_keyword_given():
    """diffusers types the strides ``float | None``: ``tile_sample_stride_height=448.0`` was refused with an error
    about a ``tile_overlap`` never passed, and ``np.int64(128)`` as not an integer."""
    import numpy as np

    from ltx_video.models.autoencoders.tiling import TilingConfig

    vae = tiny_vae()
    vae.enable_tiling(tile_sample_min_height=512, tile_sample_stride_height=448)
    as_ints = vae.tiling
    vae.enable_tiling(tile_sample_min_height=512.0, tile_sample_stride_height=448.0)
    assert vae.tiling == as_ints and (as_ints.tile_size, as_ints.tile_overlap) == (512, 64)
    vae.enable_tiling(tile_sample_min_height=np.int64(128), tile_sample_stride_width=np.int32(64),
                      tile_sample_min_num_frames=16.0, tile_sample_stride_num_frames=np.int64(8))
    assert (vae.tiling.tile_size, vae.tiling.tile_overlap, vae.tiling.tile_frames, vae.tiling.frame_overlap) == (
        128, 64, 16, 8)
    for kwargs, match in (
        (dict(tile_sample_min_height=128, tile_sample_stride_height=192),
         r"tile_sample_stride_height must be in \(0, tile_sample_min_height=128\], got 192"),
        (dict(tile_sample_stride_width=1024), r"tile_sample_stride_width must be in \(0, the default tile size 512\]"),
        (dict(tile_sample_min_width=100), r"tile_sample_min_width must be a positive multiple of the VAE's spatial "
                                          r"compression 64, got 100 \(try 128\)"),
        (dict(tile_sample_min_height=128.5), r"tile_sample_min_height must be a whole number .* got 128.5"),
        (dict(tile_sample_min_num_frames=16, tile_sample_stride_num_frames=12.0),
         r"tile_sample_stride_num_frames must be a multiple of the VAE's temporal compression 8, got 12"),
        (dict(tile_sample_min_height=128, tile_sample_min_width=256),
         r"tile_sample_min_height=128 and tile_sample_min_width=256 must be equal"),
    ):
        with pytest.raises(ValueError, match=match) as refused:
            vae.enable_tiling(**kwargs)
        assert "tile_overlap" not in str(refused.value) and "tile_size=" not in str(refused.value)
    with pytest.raises(ValueError, match=r"enable_tiling\(tile_sample_min_height=256\)"):
        vae.enable_tiling(256)  # diffusers' first positional argument
    # every refusal left the last tiling in place
    assert vae.tiling == TilingConfig(tile_size=128, tile_overlap=64, tile_frames=16, frame_overlap=8)


def test_accelerate_offload_hooks_fire_on_encode_and_decode_as_for_diffusers_vae():
    """diffusers' ``enable_model_cpu_offload`` moves a VAE to the GPU in its hook's ``pre_forward``, which
    ``@apply_forward_hook`` calls from ``encode`` / ``decode``; without it the VAE stayed on the CPU."""
    from accelerate.hooks import ModelHook, add_hook_to_module

    from ltx_video.testing import tiny_vae as tiny_ltx_vae

    class Count(ModelHook):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def pre_forward(self, module, *args, **kwargs):
            self.calls += 1
            return args, kwargs

    x = torch.rand(1, 3, 9, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    counts = {}
    for name, vae in (("diffusers", tiny_ltx_vae(timestep_conditioning=False)), ("hierarchical", tiny_vae())):
        hook = Count()
        add_hook_to_module(vae, hook)
        with torch.no_grad():
            z = vae.encode(x).latent_dist.mode()
            after_encode = hook.calls
            vae.decode(z)
        counts[name] = (after_encode, hook.calls)
    assert counts["hierarchical"] == counts["diffusers"] == (1, 2)

    # the pipeline's own enable_model_cpu_offload (device="cpu" so that it runs here): the VAE's hook now fires
    pipe = LTXVideoPipeline(**{**tiny_components(), "vae": tiny_vae()})
    pipe.set_progress_bar_config(disable=True)
    pipe.enable_model_cpu_offload(device="cpu")
    hook, calls = pipe.vae._hf_hook, []
    original = hook.pre_forward
    hook.pre_forward = lambda module, *a, **k: (calls.append(type(module).__name__), original(module, *a, **k))[1]
    pipe("a red ball", height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16,
         output_type="pt", generator=torch.Generator().manual_seed(0))
    assert calls == ["HierarchicalVAE"]  # the decode (a text-to-video call encodes nothing)


def test_enable_4k_mode_warns_once_of_the_upsampler_arguments_it_ignores(caplog):
    """On the hierarchical path refine_timesteps, refine_guidance_scale and adain_factor were validated, then
    dropped in silence; diffusers warns of keywords it ignores."""
    import logging

    from ltx_video.testing import tiny_latent_upsampler

    pipe = LTXVideoPipeline(**{**tiny_components(), "vae": tiny_vae()})
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        assert pipe.enable_4k_mode() == "hierarchical_vae"
        assert pipe.enable_4k_mode(refine_timesteps=(909.4, 725.0, 421.9), adain_factor=1.0) == "hierarchical_vae"
    assert caplog.records == []  # the defaults, given or not, change nothing
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        pipe.enable_4k_mode(refine_timesteps=[900, 500], refine_guidance_scale=3.0, adain_factor=0.5)
    (record,) = caplog.records
    assert ("refine_timesteps, refine_guidance_scale, adain_factor ignored" in record.getMessage()
            and "latent_upsampler" not in record.getMessage())
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        pipe.enable_4k_mode(latent_upsampler=tiny_latent_upsampler())
    (record,) = caplog.records
    assert record.getMessage().startswith("enable_4k_mode(): latent_upsampler ignored")
    assert pipe.four_k_mode.latent_upsampler is None and pipe.four_k_mode.refine == {}
    assert pipe.four_k_mode.adain_factor == 1.0
    with pytest.raises(ValueError, match="`adain_factor` must be in"):  # still validated first
        pipe.enable_4k_mode(adain_factor=2.0)


def test_forward_takes_diffusers_argument_order():
    """forward lacked diffusers' ``temb`` (second): ``vae(x, None, True)`` gave the mode, ``temb=`` a TypeError."""
    import inspect

    from diffusers import AutoencoderKLLTXVideo

    names = [list(inspect.signature(m.forward).parameters) for m in (HierarchicalVAE, AutoencoderKLLTXVideo)]
    assert names[0] == names[1]
    vae, x = tiny_vae(), clip(9)
    with torch.no_grad():
        posterior = vae.encode(x).latent_dist
        mode = vae.decode(posterior.mode()).sample
        sampled = vae.decode(posterior.sample(generator=torch.Generator().manual_seed(1))).sample
        assert not torch.allclose(mode, sampled, atol=1e-3)
        assert torch.equal(vae(x).sample, mode)
        assert torch.equal(vae(x, None, True, True, torch.Generator().manual_seed(1)).sample, sampled)
        keywords = vae(x, temb=None, sample_posterior=True, generator=torch.Generator().manual_seed(1))
        assert torch.equal(keywords.sample, sampled)
        (plain,) = vae(x, None, False, False)
        assert torch.equal(plain, mode)
        calls = []
        vae.encoder.register_forward_pre_hook(lambda *_: calls.append(1))
        with pytest.raises(ValueError, match="`temb` must be None: .*no timestep"):
            vae(x, torch.zeros(1), True)  # decode's refusal, before the encode
        assert calls == []


def test_enable_tiling_warns_once_that_encoding_is_not_tiled(caplog):
    """enable_tiling() tiled the decode only and said nothing; diffusers' LTX VAE tiles the encode too."""
    import logging

    from ltx_video.models.autoencoders.tiling import TilingConfig

    vae, x = tiny_vae(), clip(9, size=128)
    with torch.no_grad():
        whole = vae.encode(x).latent_dist.parameters
        vae.enable_tiling(TilingConfig(tile_size=64, tile_overlap=0, tile_frames=8, frame_overlap=0))
        with caplog.at_level(logging.WARNING, logger="ltx_video"):
            vae.encode(clip(9, size=64))  # one tile: nothing to say
            assert caplog.records == []
            tiled_on = vae.encode(x).latent_dist.parameters
            vae.encode(x)
        (record,) = caplog.records
        assert record.getMessage() == ("enable_tiling() tiles decoding only: this 128 x 128 x 9-frame video is "
                                       "encoded whole, not in 64-px tiles; encode memory grows with the frame")
        assert torch.equal(tiled_on, whole)
        caplog.clear()
        vae.enable_tiling()  # 512-px, 65-frame tiles: a 25-frame, 128-px clip fits
        with caplog.at_level(logging.WARNING, logger="ltx_video"):
            vae.encode(clip(25, size=128))
        assert caplog.records == []


def test_bad_inputs_are_refused_naming_the_argument(caplog):
    """A 4-channel video failed deep in a conv, Haar on too few dims raised IndexError, zero widths built."""
    import logging

    vae = tiny_vae()
    with pytest.raises(ValueError, match=r"^`x` must be a video \(B, in_channels=3, 8k \+ 1, H, W\) .*\(1, 4, 9"):
        vae.encode(torch.zeros(1, 4, 9, 64, 64))
    with pytest.raises(ValueError, match=r"^`sample` must be a video \(B, in_channels=3, "):
        vae(torch.zeros(1, 4, 9, 64, 64))
    with pytest.raises(ValueError, match=r"^haar_dwt2d: `x` must be \(\.\.\., H, W\) .*got shape \(4,\)"):
        haar_dwt2d(torch.zeros(4))
    with pytest.raises(ValueError, match=r"^haar_idwt2d: `bands` must be \(\.\.\., 4, H/2, W/2\).*got \(4, 2\)"):
        haar_idwt2d(torch.zeros(4, 2))
    for bad, message in [({"latent_channels": 0}, "latent_channels must be an integer > 0, got 0"),
                         ({"in_channels": -1}, "in_channels must be an integer > 0, got -1"),
                         ({"out_channels": 2.0}, "out_channels must be an integer > 0, got 2.0"),
                         ({"block_out_channels": (8, 0, 16, 16)}, r"block_out_channels must be integers > 0, got \(8, 0")]:
        with pytest.raises(ValueError, match=f"^{message}"):
            HierarchicalVAE(**{**TINY, **bad})
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        tiny_vae(use_wavelet=False)
        tiny_vae(spatial_compression=32)
    assert caplog.records == []


def test_use_wavelet_off_at_32x_warns_and_its_saved_config_still_loads(tmp_path, caplog):
    """The wavelet is only in the 64x level: use_wavelet=False at 32x built the same model in silence."""
    import logging

    message = ("use_wavelet=False changes nothing with spatial_compression=32: the wavelet is only in the 64x level "
               "(spatial_compression=64)")
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        vae = tiny_vae(spatial_compression=32, use_wavelet=False)
    assert [r.getMessage() for r in caplog.records] == [message]
    assert count(vae) == count(tiny_vae(spatial_compression=32))
    vae.save_pretrained(tmp_path)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ltx_video"):
        loaded = HierarchicalVAE.from_pretrained(tmp_path).eval()
    assert message in [r.getMessage() for r in caplog.records]
    with torch.no_grad():
        assert torch.equal(loaded.encode(clip(9)).latent_dist.parameters, vae.encode(clip(9)).latent_dist.parameters)
