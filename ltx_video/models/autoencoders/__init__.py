"""Video autoencoders of ltx_video (the legacy one is diffusers' ``AutoencoderKLLTXVideo``)."""

from ltx_video.models.autoencoders.vae_hierarchical import HierarchicalVAE, haar_dwt2d, haar_idwt2d

__all__ = ["HierarchicalVAE", "haar_dwt2d", "haar_idwt2d"]
