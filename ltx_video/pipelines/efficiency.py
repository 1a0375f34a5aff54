"""Pipeline switches for speed and memory: attention backends, feed-forward chunking.

VAE tiling is diffusers' own: ``pipe.vae.enable_tiling()``; the pipelines decode through ``vae.decode``,
which honours it. Gradient checkpointing is for training: ``pipe.transformer.enable_gradient_checkpointing()``
(or ``gradient_checkpointing: true`` in a training config).
"""

from __future__ import annotations

from ltx_video.attention import BlockSparsePattern, disable_efficient_attention, enable_efficient_attention
from ltx_video.models.memory import disable_feed_forward_chunking, enable_feed_forward_chunking


class EfficiencyMixin:
    """Methods shared by ``LTXVideoPipeline`` and ``LTXAudioVideoPipeline`` (they act on ``self.transformer``)."""

    def enable_efficient_attention(
        self,
        backend: str = "auto",
        *,
        pattern: BlockSparsePattern | None = None,
        chunk_size: int | None = None,
        tile_shape: tuple[int, int, int] | None = None,
    ) -> str:
        """Pick the transformer's attention backend; returns the diffusers backend name that was set.

        ``"auto"``: flash-attn when installed on a CUDA machine, else PyTorch SDPA. ``"sdpa"``, ``"flash"``
        (a clear error without flash-attn), ``"ltx_block_sparse"`` (exact attention restricted to
        ``pattern``, tokens grouped in 3D tiles of ``tile_shape``), ``"ltx_chunked"`` (exact, memory
        O(N x chunk_size)). See :mod:`ltx_video.attention.backends`.

        Example:
            >>> pipe.enable_efficient_attention("ltx_block_sparse", pattern=BlockSparsePattern(block_size=64, global_stride=4))
            'ltx_block_sparse'
        """
        return enable_efficient_attention(
            self.transformer, backend, pattern=pattern, chunk_size=chunk_size, tile_shape=tile_shape
        )

    def disable_efficient_attention(self) -> None:
        """Back to diffusers' default attention backend (SDPA unless ``DIFFUSERS_ATTN_BACKEND`` says otherwise)."""
        disable_efficient_attention(self.transformer)

    def enable_feed_forward_chunking(self, chunk_size: int = 4096) -> None:
        """Run the transformer's feed-forwards ``chunk_size`` tokens at a time: same output, less peak memory."""
        enable_feed_forward_chunking(self.transformer, chunk_size)

    def disable_feed_forward_chunking(self) -> None:
        disable_feed_forward_chunking(self.transformer)
