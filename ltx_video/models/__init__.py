"""Model families of ltx_video: the audio autoencoder, the hierarchical video VAE and the audio-video transformer."""

from ltx_video.models.audio import AudioAutoencoder, AudioDecoder, AudioEncoder
from ltx_video.models.autoencoders import HierarchicalVAE
from ltx_video.models.transformer_av import LTXAudioVideoTransformer3DModel

__all__ = [
    "AudioAutoencoder", "AudioDecoder", "AudioEncoder", "HierarchicalVAE", "LTXAudioVideoTransformer3DModel",
]
