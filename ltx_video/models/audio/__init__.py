"""Audio models: waveform <-> time-aligned latent tokens (one per 20 ms at 16 kHz)."""

from ltx_video.models.audio.audio_decoder import AudioAutoencoder, AudioDecoder, multi_resolution_stft_loss
from ltx_video.models.audio.audio_encoder import AudioEncoder

__all__ = ["AudioAutoencoder", "AudioDecoder", "AudioEncoder", "multi_resolution_stft_loss"]
