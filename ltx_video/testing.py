"""Tiny offline components for tests, docs and the built-in demo model.

Everything here is built locally, seeded, in well under a second: no hub access, no downloads.
The geometry matches real LTX-Video (VAE compression 32 x 32 spatially, 8 temporally; the first
latent frame is the causal first frame), only the widths are tiny, so token bookkeeping
(keyframes, padding, positions in seconds) is exercised exactly as at full size.
"""

from __future__ import annotations

import math

import torch
from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel
from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel
from transformers import T5Config, T5EncoderModel, T5Tokenizer

__all__ = [
    "TINY_LATENT_CHANNELS",
    "TINY_TEXT_DIM",
    "TINY_VAE_ORIGINAL_CONFIG",
    "tiny_components",
    "tiny_audio_video_pipeline",
    "tiny_latent_upsampler",
    "tiny_pipeline",
    "tiny_tokenizer",
    "tiny_vae_original_layout",
]

TINY_LATENT_CHANNELS = 8
TINY_TEXT_DIM = 16

# A small closed vocabulary; unknown words fall back to letters, then to <unk>.
_WORDS = (
    "a an the and or with of in on at to from is are it its this that "
    "red orange yellow green blue purple pink white black gray brown cyan magenta "
    "ball square triangle circle cube cat dog bird car tree sky sea sun moon person "
    "bounce bounces bouncing move moves moving fly flies run runs walk walks "
    "camera pans pan left right up down zoom zooms in out static slowly fast "
    "small big large bright dark video scene shot close wide view light"
).split()


def tiny_tokenizer(model_max_length: int = 128) -> T5Tokenizer:
    """A T5 (Unigram) tokenizer over a small word list plus single letters, built offline."""
    from ltx_video.training.components import word_tokenizer

    return word_tokenizer(_WORDS, model_max_length)


def tiny_text_encoder(vocab_size: int, seed: int = 0) -> T5EncoderModel:
    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=vocab_size,
        d_model=TINY_TEXT_DIM,
        d_kv=8,
        d_ff=32,
        num_layers=1,
        num_heads=2,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        dropout_rate=0.0,
        feed_forward_proj="gated-gelu",
    )
    return T5EncoderModel(config).eval()


def _seeded_vae(seed: int, **structure) -> AutoencoderKLLTXVideo:
    """A tiny LTX VAE (3 -> 8 latent channels, patch 4, causal encoder) with non-trivial latent statistics."""
    torch.manual_seed(seed)
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=TINY_LATENT_CHANNELS, patch_size=4, patch_size_t=1,
        encoder_causal=True, decoder_causal=False, **structure,
    )
    # Non-trivial latent statistics, so normalisation bugs show up in parity tests.
    vae.latents_mean.copy_(torch.linspace(-0.2, 0.2, TINY_LATENT_CHANNELS))
    vae.latents_std.copy_(torch.linspace(0.5, 1.5, TINY_LATENT_CHANNELS))
    return vae.eval()


def tiny_vae(seed: int = 0, timestep_conditioning: bool = True) -> AutoencoderKLLTXVideo:
    """An LTX video VAE with LTX's compression (32x spatial, 8x temporal) and 8 latent channels."""
    return _seeded_vae(
        seed,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=timestep_conditioning,
    )


def tiny_vae_original_layout(seed: int = 0) -> AutoencoderKLLTXVideo:
    """A tiny VAE shaped like the released LTX-Video 0.9.1 one, so it has an original single-file layout.

    diffusers' converter maps original VAE blocks by fixed positions (the 0.9.0 encoder: a channel-doubling
    ``res_x_y`` after the first two downsamplers; the 0.9.1 decoder: every up block upsamples, halving channels),
    which :func:`tiny_vae`'s constant widths do not fill. Same compression (32 x 32 spatially, 8 temporally) and
    latent width; its original config is ``TINY_VAE_ORIGINAL_CONFIG``. Its decoder injects (unseeded) noise in
    two blocks, as the released one can, so decoded frames vary between runs; latents do not.
    """
    return _seeded_vae(
        seed,
        block_out_channels=(8, 16, 32, 32),
        decoder_block_out_channels=(8, 16, 32),
        layers_per_block=(1, 2, 1, 1, 2),
        decoder_layers_per_block=(1, 1, 2, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True),
        decoder_inject_noise=(False, True, False, True),
        upsample_residual=(True, True, True),
        upsample_factor=(2, 2, 2),
        timestep_conditioning=True,
    )


# tiny_vae_original_layout() in LTX-Video's own config format (the "vae" section of a checkpoint's metadata).
TINY_VAE_ORIGINAL_CONFIG = {
    "_class_name": "CausalVideoAutoencoder",
    "dims": 3,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": TINY_LATENT_CHANNELS,
    "encoder_blocks": [
        ["res_x", {"num_layers": 1}],
        ["compress_all", {}],
        ["res_x_y", 1],
        ["res_x", {"num_layers": 2}],
        ["compress_all", {}],
        ["res_x_y", 1],
        ["res_x", {"num_layers": 1}],
        ["compress_all", {}],
        ["res_x", {"num_layers": 1}],
        ["res_x", {"num_layers": 2}],
    ],
    "decoder_blocks": [
        ["res_x", {"num_layers": 1, "inject_noise": False}],
        ["compress_all", {"residual": True, "multiplier": 2}],
        ["res_x", {"num_layers": 1, "inject_noise": True}],
        ["compress_all", {"residual": True, "multiplier": 2}],
        ["res_x", {"num_layers": 2, "inject_noise": False}],
        ["compress_all", {"residual": True, "multiplier": 2}],
        ["res_x", {"num_layers": 1, "inject_noise": True}],
    ],
    "encoder_base_channels": 8,
    "decoder_base_channels": 4,
    "scaling_factor": 1.0,
    "norm_layer": "pixel_norm",
    "patch_size": 4,
    "latent_log_var": "uniform",
    "use_quant_conv": False,
    "causal_decoder": False,
    "timestep_conditioning": True,
}


def tiny_transformer(seed: int = 0, num_layers: int = 2) -> LTXVideoTransformer3DModel:
    torch.manual_seed(seed)
    return LTXVideoTransformer3DModel(
        in_channels=TINY_LATENT_CHANNELS,
        out_channels=TINY_LATENT_CHANNELS,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        num_layers=num_layers,
        caption_channels=TINY_TEXT_DIM,
    ).eval()


def tiny_latent_upsampler(seed: int = 0) -> LTXLatentUpsamplerModel:
    """A x2 spatial latent upsampler (GroupNorm needs 32 mid channels)."""
    torch.manual_seed(seed)
    return LTXLatentUpsamplerModel(
        in_channels=TINY_LATENT_CHANNELS, mid_channels=32, num_blocks_per_stage=1, dims=3
    ).eval()


def tiny_scheduler() -> FlowMatchEulerDiscreteScheduler:
    """The scheduler settings of LTX-Video's diffusers checkpoints (no dynamic shifting)."""
    return FlowMatchEulerDiscreteScheduler(shift=1.0, use_dynamic_shifting=False)


def tiny_components(seed: int = 0, num_layers: int = 2) -> dict:
    """Components named as diffusers' LTX pipelines: scheduler, vae, text_encoder, tokenizer, transformer."""
    tokenizer = tiny_tokenizer()
    return {
        "scheduler": tiny_scheduler(),
        "vae": tiny_vae(seed),
        "text_encoder": tiny_text_encoder(len(tokenizer), seed),
        "tokenizer": tokenizer,
        "transformer": tiny_transformer(seed, num_layers=num_layers),
    }


def tiny_pipeline(seed: int = 0):
    """An untrained tiny LTXVideoPipeline (random weights, real data flow)."""
    from ltx_video.pipelines.ltx_video import LTXVideoPipeline

    return LTXVideoPipeline(**tiny_components(seed))


TINY_AUDIO_CHANNELS = 16


def tiny_audio_video_pipeline(seed: int = 0):
    """The built-in demo: an untrained tiny LTXAudioVideoPipeline (video and a 16 kHz audio track).

    The audio<->video gates are zero as at initialisation, so until a trained model exists the two
    streams do not yet influence each other.
    """
    from ltx_video.models.audio import AudioAutoencoder
    from ltx_video.models.transformer_av import LTXAudioVideoTransformer3DModel
    from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline

    components = tiny_components(seed)
    torch.manual_seed(seed)
    audio_vae = AudioAutoencoder(
        latent_channels=TINY_AUDIO_CHANNELS, num_heads=2, encoder_hidden_channels=8, encoder_num_layers=1,
        decoder_hidden_channels=8, decoder_num_layers=1,
    ).eval()
    transformer = LTXAudioVideoTransformer3DModel.from_legacy(
        components["transformer"], audio_in_channels=TINY_AUDIO_CHANNELS, audio_num_attention_heads=2,
        audio_attention_head_dim=8,
    ).eval()
    return LTXAudioVideoPipeline(**{**components, "transformer": transformer}, audio_vae=audio_vae)


def realistic_block_weights(model: torch.nn.Module, seed: int = 0, low: float = 0.002, high: float = 0.05) -> None:
    """Give a random transformer's block linears the weight statistics of trained ones, in place.

    Each ``transformer_blocks.*`` linear gets Gaussian weights with a standard deviation drawn log-uniformly
    from [low, high] (deep and zero-initialised branches end up small), and one output row in 32 is scaled
    10x (outlier channels). Used by the FP8 tests and ``scripts/benchmark_fp8.py``.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.Linear) and "transformer_blocks." in name:
                std = math.exp(torch.empty(1).uniform_(math.log(low), math.log(high), generator=g).item())
                module.weight.copy_(torch.randn(module.weight.shape, generator=g) * std)
                module.weight[::32] *= 10.0


def transformer_inputs(
    model,
    grid: tuple[int, int, int] = (3, 4, 4),
    *,
    text_tokens: int = 8,
    batch: int = 1,
    timestep: float | torch.Tensor = 500.0,
    generator: torch.Generator | None = None,
) -> dict:
    """Keyword arguments for an LTX transformer's forward: random video tokens on ``grid`` (latent frames,
    rows, columns) and random text, drawn in that order from ``generator``; full text masks. ``model``: the
    transformer or its config (``in_channels``, ``caption_channels``)."""
    config = getattr(model, "config", model)
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    tokens = grid[0] * grid[1] * grid[2]
    return dict(
        hidden_states=torch.randn(batch, tokens, config["in_channels"], generator=g),
        encoder_hidden_states=torch.randn(batch, text_tokens, config["caption_channels"], generator=g),
        timestep=torch.as_tensor(timestep, dtype=torch.float32).reshape(-1).expand(batch).clone(),
        encoder_attention_mask=torch.ones(batch, text_tokens),
        num_frames=grid[0], height=grid[1], width=grid[2], return_dict=False,
    )
