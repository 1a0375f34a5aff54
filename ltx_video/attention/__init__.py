"""Attention: efficient kernels and diffusers backends, grouped-query conversion, STG perturbations."""

from ltx_video.attention.backends import (
    ATTENTION_BACKENDS,
    EfficientAttentionConfig,
    disable_efficient_attention,
    enable_efficient_attention,
    register_backends,
)
from ltx_video.attention.efficient_attention import (
    BlockSparsePattern,
    block_sparse_attention,
    chunked_attention,
    dense_block_mask,
    tile_permutation,
)
from ltx_video.attention.grouped_query import HeadConversion, convert_attention_heads

register_backends()

__all__ = [
    "ATTENTION_BACKENDS",
    "BlockSparsePattern",
    "EfficientAttentionConfig",
    "HeadConversion",
    "block_sparse_attention",
    "chunked_attention",
    "convert_attention_heads",
    "dense_block_mask",
    "disable_efficient_attention",
    "enable_efficient_attention",
    "register_backends",
    "tile_permutation",
]
