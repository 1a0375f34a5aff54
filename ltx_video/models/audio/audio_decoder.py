"""Audio decoder and autoencoder: tokens (B, N, 128) -> 16 kHz waveform (B, 1, N * 320), plus the training loss.

Read top to bottom: STFT loss (pure functions) -> decoder -> autoencoder (encoder + decoder + latent statistics).
The decoder mirrors ``AudioEncoder``: attention blocks with rotary positions in seconds, then transposed
convolutions with kernel == stride (default ``5 * 4 * 4 * 4 = 320``) so token j produces samples
``[320 j, 320 (j + 1))``, each followed by a kernel-3 residual block and a kernel-7 output conv that smooth
across token boundaries, then ``tanh`` to keep the waveform in [-1, 1].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.autoencoders.vae import DecoderOutput
from diffusers.models.modeling_outputs import AutoencoderKLOutput
from diffusers.models.modeling_utils import ModelMixin
from einops import rearrange
from torch import nn

from ltx_video.models.audio.audio_encoder import (
    AudioEncoder,
    AudioTransformerBlock,
    init_variance_preserving,
    stage_channels,
)

STFT_FFT_SIZES = (512, 1024, 256)


def stft_magnitude(x: torch.Tensor, fft_size: int) -> torch.Tensor:
    """|STFT| of x (B, S) with a Hann window of fft_size and hop fft_size // 4 -> (B, fft_size // 2 + 1, frames)."""
    window = torch.hann_window(fft_size, device=x.device, dtype=x.dtype)
    spec = torch.stft(x, fft_size, hop_length=fft_size // 4, win_length=fft_size, window=window, return_complex=True)
    # clamp before the log and keep the sqrt differentiable at exact silence
    return spec.real.square().add(spec.imag.square()).clamp_min(1e-7).sqrt()


def multi_resolution_stft_loss(pred: torch.Tensor, target: torch.Tensor,
                               fft_sizes: tuple[int, ...] = STFT_FFT_SIZES) -> torch.Tensor:
    """Mean over resolutions of spectral convergence + log-magnitude L1 (Yamamoto et al. 2020, Parallel WaveGAN, eq. 4-6).

    pred, target: (B, C, S) or (B, S) waveforms of equal shape. Each resolution uses a Hann window of n samples and
    hop n / 4. Spectral convergence is ||(|T| - |P|)||_F / ||T||_F per item; log-magnitude is mean |log|T| - log|P||.
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must have the same shape")
    pred, target = pred.reshape(-1, pred.shape[-1]).float(), target.reshape(-1, target.shape[-1]).float()
    # Clips shorter than the largest window are zero-padded (both alike), so any length has a loss.
    short = max(fft_sizes) - pred.shape[-1]
    if short > 0:
        pred, target = F.pad(pred, (0, short)), F.pad(target, (0, short))
    total = pred.new_zeros(())
    for n in fft_sizes:
        mag_p, mag_t = stft_magnitude(pred, n), stft_magnitude(target, n)
        convergence = torch.linalg.norm(mag_t - mag_p, dim=(1, 2)) / torch.linalg.norm(mag_t, dim=(1, 2))
        log_magnitude = (mag_t.log() - mag_p.log()).abs().mean()
        total = total + convergence.mean() + log_magnitude
    return total / len(fft_sizes)


class ResBlock1d(nn.Module):
    """x + conv3(gelu(conv3(x))) on (B, C, T)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, padding=1)
        self.residual_out_layers = (self.conv2,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.gelu(self.conv1(x)))


class AudioDecoder(ModelMixin, ConfigMixin):
    r"""Tokens (B, N, latent_channels) -> waveform (B, out_channels, N * temporal_upsample_factor) in [-1, 1].

    Args:
        latent_channels, sample_rate, temporal_upsample_factor: as the encoder's; the factor must equal the
            product of ``upsample_strides``.
        use_rope: build ``num_layers`` attention blocks with rotary positions in seconds before upsampling.
        hidden_channels, upsample_strides, num_layers, num_heads, out_channels: sizes; the attention width is
            ``hidden_channels * 2 ** (len(upsample_strides) - 1)``, halving per stage down to ``hidden_channels``.
    """

    @register_to_config
    def __init__(
        self,
        latent_channels: int = 128,
        sample_rate: int = 16000,
        temporal_upsample_factor: int = 320,
        use_rope: bool = True,
        *,
        hidden_channels: int = 64,
        upsample_strides: tuple[int, ...] = (5, 4, 4, 4),
        num_layers: int = 4,
        num_heads: int = 8,
        out_channels: int = 1,
    ):
        super().__init__()
        if math.prod(upsample_strides) != temporal_upsample_factor:
            raise ValueError(f"upsample_strides {tuple(upsample_strides)} multiply to {math.prod(upsample_strides)}, "
                             f"not temporal_upsample_factor={temporal_upsample_factor}")
        channels = stage_channels(hidden_channels, len(upsample_strides))[::-1]  # 512, 256, 128, 64
        width = channels[0]
        self.proj_in = nn.Linear(latent_channels, width)
        self.blocks = nn.ModuleList(
            [AudioTransformerBlock(width, num_heads=num_heads) for _ in range(num_layers)] if use_rope else []
        )
        self.norm_out = nn.LayerNorm(width)
        stages, c_in = [], width
        for stride, c_out in zip(upsample_strides, [*channels[1:], hidden_channels], strict=True):
            stages += [nn.ConvTranspose1d(c_in, c_out, kernel_size=stride, stride=stride), nn.GELU(), ResBlock1d(c_out)]
            c_in = c_out
        self.upsampler = nn.Sequential(*stages)
        self.conv_out = nn.Conv1d(hidden_channels, out_channels, 7, padding=3)
        init_variance_preserving(self)
        # start near silence, in tanh's linear range: a saturated tanh passes no gradient
        nn.init.normal_(self.conv_out.weight, std=0.1 / math.sqrt(hidden_channels * 7))

    def token_times(self, num_tokens: int, device: torch.device | str | None = None) -> torch.Tensor:
        """Start time in seconds of each token, (num_tokens,)."""
        seconds_per_token = self.config.temporal_upsample_factor / self.config.sample_rate
        # float64 on the CPU (MPS has none), then float32 on the device
        return torch.arange(num_tokens, dtype=torch.float64).mul(seconds_per_token).float().to(device)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        """latents (B, N, latent_channels) -> waveform (B, out_channels, N * factor) in [-1, 1]."""
        if latents.ndim != 3 or latents.shape[-1] != self.config.latent_channels:
            raise ValueError(f"latents must be (batch, tokens, {self.config.latent_channels}), got {tuple(latents.shape)}")
        x = self.proj_in(latents.to(self.dtype))
        if len(self.blocks):
            times = self.token_times(x.shape[1], device=x.device)
            for block in self.blocks:
                x = block(x, times)
        x = self.upsampler(rearrange(self.norm_out(x), "b n c -> b c n"))
        return torch.tanh(self.conv_out(x))


def _check_return_dict(return_dict: bool | None) -> None:
    if return_dict is not None and not isinstance(return_dict, bool):
        raise ValueError(f"return_dict must be True, False or None, got {return_dict!r}")


class DeterministicLatents:
    """``latent_dist`` of a deterministic encoder, as diffusers' ``DiagonalGaussianDistribution`` is used: ``mode()``
    and ``sample()`` return the latents (B, N, C), ``kl()`` zeros (B,)."""

    def __init__(self, latents: torch.Tensor):
        self.mean = latents

    def mode(self) -> torch.Tensor:
        return self.mean

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.mean

    def kl(self, other: DeterministicLatents | None = None) -> torch.Tensor:
        return self.mean.new_zeros(self.mean.shape[0])


class AudioAutoencoder(ModelMixin, ConfigMixin):
    r"""``AudioEncoder`` + ``AudioDecoder`` with per-channel latent normalisation.

    ``encode`` returns ``(raw - latents_mean) / latents_std``; ``decode`` undoes it before decoding. The
    statistics are buffers (saved with the weights), identity at init; ``set_latent_statistics`` fits them.

    Loaded in a lower precision (``from_pretrained(..., torch_dtype=torch.bfloat16)``), the encoder (14 M parameters)
    and the statistics stay float32 (diffusers' ``_keep_in_fp32_modules``): standardising subtracts means up to 6.6 and
    divides by stds down to 0.36, which magnified a bfloat16 encoder's 10 % error to latents 58 % off float32.

    ``encode`` / ``decode`` return a tensor by default; ``return_dict=True`` gives diffusers' output objects
    (``AutoencoderKLOutput`` whose ``latent_dist`` is deterministic: the encoder has no variance, so its ``mode()`` and
    ``sample()`` are the latents; ``DecoderOutput``), ``return_dict=False`` a 1-tuple, as diffusers' audio VAE.
    """

    _keep_in_fp32_modules = ["encoder", "latents_mean", "latents_std"]

    @register_to_config
    def __init__(
        self,
        *,
        audio_channels: int = 1,
        latent_channels: int = 128,
        sample_rate: int = 16000,
        temporal_factor: int = 320,
        use_rope: bool = True,
        num_heads: int = 8,
        encoder_hidden_channels: int = 64,
        encoder_strides: tuple[int, ...] = (4, 4, 4, 5),
        encoder_num_layers: int = 4,
        decoder_hidden_channels: int = 64,
        decoder_strides: tuple[int, ...] = (5, 4, 4, 4),
        decoder_num_layers: int = 4,
    ):
        super().__init__()
        self.encoder = AudioEncoder(
            audio_channels, latent_channels, sample_rate, temporal_factor, use_rope,
            hidden_channels=encoder_hidden_channels, downsample_strides=tuple(encoder_strides),
            num_layers=encoder_num_layers, num_heads=num_heads,
        )
        self.decoder = AudioDecoder(
            latent_channels, sample_rate, temporal_factor, use_rope,
            hidden_channels=decoder_hidden_channels, upsample_strides=tuple(decoder_strides),
            num_layers=decoder_num_layers, num_heads=num_heads, out_channels=audio_channels,
        )
        self.register_buffer("latents_mean", torch.zeros(latent_channels))
        self.register_buffer("latents_std", torch.ones(latent_channels))

    def normalize_latents(self, raw: torch.Tensor) -> torch.Tensor:
        """(B, N, C) encoder output -> per-channel standardised latents."""
        return (raw - self.latents_mean) / self.latents_std

    def denormalize_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """Inverse of ``normalize_latents``."""
        return latents * self.latents_std + self.latents_mean

    @torch.no_grad()
    def set_latent_statistics(self, latents: torch.Tensor, eps: float = 1e-6) -> None:
        """Fit latents_mean/latents_std (C,) to raw encoder outputs (B, N, C), reducing over batch and tokens."""
        flat = latents.reshape(-1, latents.shape[-1]).float()
        self.latents_mean.copy_(flat.mean(0))
        self.latents_std.copy_(flat.std(0, correction=0).clamp_min(eps))

    def encode(self, waveform: torch.Tensor, sample_rate: int | None = None, return_dict: bool | None = None
               ) -> torch.Tensor | AutoencoderKLOutput | tuple[DeterministicLatents]:
        """waveform (B, C, S) -> normalised latents (B, ceil(S / factor), latent_channels).

        ``return_dict``: None (default) the latents; True ``AutoencoderKLOutput(latent_dist=...)``; False
        ``(latent_dist,)`` (diffusers' convention), ``latent_dist.mode()`` / ``.sample()`` being the latents.
        """
        _check_return_dict(return_dict)
        latents = self.normalize_latents(self.encoder(waveform, sample_rate).float())
        if return_dict is None:
            return latents
        dist = DeterministicLatents(latents)
        return AutoencoderKLOutput(latent_dist=dist) if return_dict else (dist,)

    def decode(self, latents: torch.Tensor, return_dict: bool | None = None
               ) -> torch.Tensor | DecoderOutput | tuple[torch.Tensor]:
        """Normalised latents (B, N, latent_channels) -> waveform (B, audio_channels, N * factor) in [-1, 1].

        ``return_dict``: None (default) the waveform; True ``DecoderOutput(sample=waveform)``; False ``(waveform,)``.
        """
        _check_return_dict(return_dict)
        width = self.config.latent_channels
        if not isinstance(latents, torch.Tensor) or latents.ndim != 3 or latents.shape[-1] != width:
            shape = tuple(latents.shape) if isinstance(latents, torch.Tensor) else type(latents).__name__
            raise ValueError(f"latents must be (batch, tokens, {width}), got {shape}")
        waveform = self.decoder(self.denormalize_latents(latents))
        if return_dict is None:
            return waveform
        return DecoderOutput(sample=waveform) if return_dict else (waveform,)

    def forward(self, waveform: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """waveform (B, C, S) -> (reconstruction (B, audio_channels, S), normalised latents (B, N, C))."""
        latents = self.encode(waveform)
        return self.decode(latents)[..., : waveform.shape[-1]], latents

    def loss(self, waveform: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training loss on waveform (B, C, S): dict(total, l1, stft), total = l1 + multi-resolution STFT."""
        target = self.encoder.prepare_waveform(waveform, None)[..., : waveform.shape[-1]]
        reconstruction, _ = self(waveform)
        l1 = F.l1_loss(reconstruction, target)
        stft = multi_resolution_stft_loss(reconstruction, target)
        return {"total": l1 + stft, "l1": l1, "stft": stft}
