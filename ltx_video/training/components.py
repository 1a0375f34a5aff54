"""The models a training run builds from its YAML ``model:`` section, and the text side.

Text encoder: a tiny T5 (``T5EncoderModel``) with a word-level tokenizer over the synthetic grammar's
vocabulary, kept FROZEN at its seeded random initialisation. LTX-Video freezes its T5 too; here a
frozen random encoder already maps each of the grammar's few hundred prompts to a distinct, fixed
embedding sequence (one token per word, letters as a fallback), and everything the prompt must
control is learned by the transformer's cross-attention. Training T5 as well would add a moving
target and optimiser state for no gain on a closed grammar.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler
from transformers import T5Config, T5EncoderModel, T5Tokenizer

from ltx_video.data.synthetic import BACKGROUNDS, COLOURS, SHAPES
from ltx_video.models.audio import AudioAutoencoder
from ltx_video.models.autoencoders import HierarchicalVAE
from ltx_video.models.transformer_av import LTXAudioVideoTransformer3DModel

__all__ = [
    "GRAMMAR_WORDS",
    "build_audio_autoencoder",
    "build_hierarchical_vae",
    "build_text_encoder",
    "build_transformer",
    "build_video_vae",
    "word_tokenizer",
]

GRAMMAR_WORDS = (
    "a", "and", "the", "camera", "is", "bounce", "bounces", "pans", "zooms", "left", "right", "up", "down",
    "in", "out", "static", *COLOURS, *SHAPES, *BACKGROUNDS,
)


def word_tokenizer(words: tuple[str, ...] = GRAMMAR_WORDS, model_max_length: int = 128) -> T5Tokenizer:
    """A T5 (Unigram) tokenizer with one token per word of ``words``; other text falls back to letters."""
    specials = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    letters = [(f"\u2581{c}", -8.0) for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    letters += [(c, -9.0) for c in "abcdefghijklmnopqrstuvwxyz0123456789,.!?'-"]
    vocabulary = [(f"\u2581{w}", -2.0) for w in dict.fromkeys(words)]
    tokenizer = T5Tokenizer(vocab=specials + vocabulary + letters, extra_ids=0)
    tokenizer.model_max_length = model_max_length
    return tokenizer


def build_text_encoder(vocab_size: int, *, d_model: int = 32, num_layers: int = 1, num_heads: int = 2,
                       seed: int = 0) -> T5EncoderModel:
    """A small T5 encoder, seeded, in eval mode with gradients off (it stays frozen).

    The global RNG is seeded with ``seed`` for the encoder's initialisation and left in that state, so the
    models a stage builds after it are initialised from the same stream (the built-in model was trained so).
    """
    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=vocab_size, d_model=d_model, d_kv=d_model // num_heads, d_ff=2 * d_model, num_layers=num_layers,
        num_heads=num_heads, relative_attention_num_buckets=8, relative_attention_max_distance=32,
        dropout_rate=0.0, feed_forward_proj="gated-gelu",
    )
    return T5EncoderModel(config).eval().requires_grad_(False)


def build_video_vae(*, latent_channels: int = 32, block_out_channels=(32, 64, 64), patch_size: int = 4,
                    **overrides: Any) -> AutoencoderKLLTXVideo:
    """A small ``AutoencoderKLLTXVideo``: patch ``patch_size``, then one spatio-temporal x2 downsampling per
    block but the last, so compression is ``patch_size * 2**(n-1)`` spatially and ``2**(n-1)`` in time
    (defaults: 16 x 16 and 4; a 64 x 64 x 49 clip becomes 32 x 13 x 4 x 4 latents). Causal encoder,
    no timestep conditioning, no noise injection."""
    blocks = tuple(block_out_channels)
    n = len(blocks)
    scaling = tuple(i < n - 1 for i in range(n))
    config = dict(
        in_channels=3, out_channels=3, latent_channels=latent_channels, patch_size=patch_size, patch_size_t=1,
        block_out_channels=blocks, decoder_block_out_channels=blocks, down_block_types=("LTXVideoDownBlock3D",) * n,
        layers_per_block=(1,) * (n + 1), decoder_layers_per_block=(1,) * (n + 1), spatio_temporal_scaling=scaling,
        decoder_spatio_temporal_scaling=scaling, decoder_inject_noise=(False,) * (n + 1), downsample_type=("conv",) * n,
        upsample_residual=(False,) * n, upsample_factor=(1,) * n, timestep_conditioning=False, encoder_causal=True,
        decoder_causal=False,
    )
    return AutoencoderKLLTXVideo(**{**config, **overrides})


def build_hierarchical_vae(**config: Any) -> HierarchicalVAE:
    """``HierarchicalVAE(**config)``: the 4K VAE (defaults: 128 latent channels, 64x spatial, 8x temporal)."""
    return HierarchicalVAE(**config)


def build_audio_autoencoder(**config: Any) -> AudioAutoencoder:
    """``AudioAutoencoder(**config)`` (16 kHz, 50 latents per second)."""
    return AudioAutoencoder(**config)


def build_transformer(**config: Any) -> LTXAudioVideoTransformer3DModel:
    """``LTXAudioVideoTransformer3DModel(**config)``; ``patch_size`` 1 as every LTX-Video checkpoint."""
    return LTXAudioVideoTransformer3DModel(**config)


def build_scheduler() -> FlowMatchEulerDiscreteScheduler:
    """LTX-Video's scheduler settings (the pipelines read only its config and step bookkeeping)."""
    return FlowMatchEulerDiscreteScheduler(shift=1.0, use_dynamic_shifting=False)
