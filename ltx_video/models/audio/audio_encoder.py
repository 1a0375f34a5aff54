"""Audio encoder: 16 kHz waveform -> one latent token per 20 ms, with RoPE in seconds.

Read top to bottom: rotary maths (pure functions) -> attention -> transformer block -> conv frontend -> model.

Token/sample alignment (the contract the audio-video transformer relies on): with the default
``temporal_downsample_factor=320`` at ``sample_rate=16000``, token ``j`` covers samples
``[320 j, 320 (j + 1))``, i.e. seconds ``[0.02 j, 0.02 (j + 1))``. The waveform is zero-padded at the end to
a multiple of 320, so ``S`` samples give ``ceil(S / 320)`` tokens. The frontend is a stack of strided
convolutions whose kernel equals their stride (default strides ``4 * 4 * 4 * 5 = 320``) followed by
pointwise (kernel-1) residual blocks, so the frontend output at token ``j`` is a function of exactly
samples ``[320 j, 320 (j + 1))`` and nothing else. With ``use_rope=True`` bidirectional attention blocks
then mix tokens, with rotary positions given by each token's start time in seconds (``token_times``), the
same time axis the video latents use; with ``use_rope=False`` there is no attention and the encoder stays
strictly local.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from einops import rearrange
from torch import nn

from ltx_video.io.waveforms import float_waveform

# Shortest rotary period: two tokens (the Nyquist limit of the 20 ms grid). Longest: well past a 15 s clip.
ROPE_MIN_PERIOD_S = 0.04
ROPE_MAX_PERIOD_S = 40.0


def rope_frequencies(dim: int, *, min_period_s: float = ROPE_MIN_PERIOD_S,
                     max_period_s: float = ROPE_MAX_PERIOD_S) -> torch.Tensor:
    """Angular frequencies (dim // 2,) in rad/s, periods geometrically spaced in [min_period_s, max_period_s]."""
    if dim % 2:
        raise ValueError(f"rotary dim must be even, got {dim}")
    periods = torch.logspace(math.log10(min_period_s), math.log10(max_period_s), dim // 2, dtype=torch.float64)
    return (2 * math.pi / periods).float()


def apply_rope(x: torch.Tensor, times: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """Rotate channel pairs of x (..., N, D) by angle times (N,) [s] * freqs (D/2,) [rad/s] (RoFormer, Su et al. 2021)."""
    # compute RoPE in fp32: angles of tens of radians lose their phase in bf16
    angles = times.float()[:, None] * freqs.to(times.device)[None, :]  # (N, D/2)
    cos, sin = angles.cos(), angles.sin()
    x1, x2 = x.float()[..., 0::2], x.float()[..., 1::2]
    rotated = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)
    return rotated.to(x.dtype)


class AudioAttention(nn.Module):
    """Multi-head self-attention over audio tokens with rotary positions in seconds. Owns the weights only."""

    def __init__(self, dim: int, *, num_heads: int):
        super().__init__()
        if dim % num_heads or (dim // num_heads) % 2:
            raise ValueError(f"dim={dim} must split into num_heads={num_heads} heads of even size")
        self.num_heads = num_heads
        self.to_qkv = nn.Linear(dim, 3 * dim)
        self.to_out = nn.Linear(dim, dim)
        self.register_buffer("rope_freqs", rope_frequencies(dim // num_heads), persistent=False)

    def _apply(self, fn, recurse=True):
        # .to(torch.bfloat16) would round the frequencies (157.08 rad/s -> 157.0: 2 rad of phase over 10 s): they are
        # recomputed in float32 on the new device whatever dtype the weights take.
        module = super()._apply(fn, recurse)
        if self.rope_freqs.dtype != torch.float32:
            self.rope_freqs = rope_frequencies(2 * self.rope_freqs.numel()).to(self.rope_freqs.device)
        return module

    def forward(self, x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """x (B, N, dim), times (N,) seconds -> (B, N, dim)."""
        q, k, v = rearrange(self.to_qkv(x), "b n (three h d) -> three b h n d", three=3, h=self.num_heads)
        q, k = apply_rope(q, times, self.rope_freqs), apply_rope(k, times, self.rope_freqs)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, nh, N, hd)
        return self.to_out(rearrange(out, "b h n d -> b n (h d)"))


class AudioTransformerBlock(nn.Module):
    """Pre-norm block: x + attn(norm(x)), x + mlp(norm(x)); x (B, N, dim)."""

    def __init__(self, dim: int, *, num_heads: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = AudioAttention(dim, num_heads=num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.residual_out_layers = (self.attn.to_out, self.mlp[2])

    def forward(self, x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), times)
        return x + self.mlp(self.norm2(x))


class PointwiseResBlock(nn.Module):
    """x + conv1x1(gelu(conv1x1(x))) on (B, C, T): mixes channels, never time, so locality is kept."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, 1)
        self.conv2 = nn.Conv1d(channels, channels, 1)
        self.residual_out_layers = (self.conv2,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.gelu(self.conv1(x)))


def init_variance_preserving(module: nn.Module) -> None:
    """He-normal weights (by the taps each output actually sees) and zero biases for convs and linears.

    PyTorch's default init shrinks the signal ~3x per layer, so after the ~16 layers of a frontend the
    per-token features are almost constant and training stalls. Residual branches end at a tenth of that
    scale (not zero, so every parameter gets a gradient from the first step).
    """
    for m in module.modules():
        if isinstance(m, nn.ConvTranspose1d):
            fan_in = m.in_channels * m.kernel_size[0] / m.stride[0]
        elif isinstance(m, nn.Conv1d):
            fan_in = m.in_channels * m.kernel_size[0] // m.groups
        elif isinstance(m, nn.Linear):
            fan_in = m.in_features
        else:
            continue
        nn.init.normal_(m.weight, std=math.sqrt(2.0 / fan_in))
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    for m in module.modules():
        for layer in getattr(m, "residual_out_layers", ()):
            layer.weight.data.mul_(0.1)


def stage_channels(hidden_channels: int, num_stages: int) -> list[int]:
    """Channels after each stride stage: hidden_channels doubling per stage (64, 128, 256, 512 by default)."""
    return [hidden_channels * 2**i for i in range(num_stages)]


class AudioEncoder(ModelMixin, ConfigMixin):
    r"""Waveform (B, C, S) at ``sample_rate`` -> tokens (B, ceil(S / factor), latent_channels).

    Args:
        input_channels: channels the model expects; stereo (2-channel) input is averaged when this is 1, mono
            input is repeated when it is larger. Any other channel count is a ValueError.
        latent_channels: width of each output token.
        sample_rate: the only sample rate accepted (the pipeline resamples with PyAV beforehand).
        temporal_downsample_factor: samples per token (320 at 16 kHz = 20 ms); must equal the product of
            ``downsample_strides``.
        use_rope: build ``num_layers`` attention blocks with rotary positions in seconds. When False there is
            no attention at all (and ``num_layers``/``num_heads`` are unused): token j depends only on its
            own 320 samples.
        hidden_channels, downsample_strides, num_layers, num_heads: sizes; the attention width is the last
            stage's channels (``hidden_channels * 2 ** (len(downsample_strides) - 1)``).
    """

    @register_to_config
    def __init__(
        self,
        input_channels: int = 1,
        latent_channels: int = 128,
        sample_rate: int = 16000,
        temporal_downsample_factor: int = 320,
        use_rope: bool = True,
        *,
        hidden_channels: int = 64,
        downsample_strides: tuple[int, ...] = (4, 4, 4, 5),
        num_layers: int = 4,
        num_heads: int = 8,
    ):
        super().__init__()
        if math.prod(downsample_strides) != temporal_downsample_factor:
            raise ValueError(f"downsample_strides {tuple(downsample_strides)} multiply to "
                             f"{math.prod(downsample_strides)}, not temporal_downsample_factor={temporal_downsample_factor}")
        channels = stage_channels(hidden_channels, len(downsample_strides))
        stages, c_in = [], input_channels
        for stride, c_out in zip(downsample_strides, channels, strict=True):
            # kernel == stride: each output step sees exactly its own non-overlapping window
            stages += [nn.Conv1d(c_in, c_out, kernel_size=stride, stride=stride), nn.GELU(), PointwiseResBlock(c_out)]
            c_in = c_out
        self.frontend = nn.Sequential(*stages)
        width = channels[-1]
        self.blocks = nn.ModuleList(
            [AudioTransformerBlock(width, num_heads=num_heads) for _ in range(num_layers)] if use_rope else []
        )
        self.norm_out = nn.LayerNorm(width)
        self.proj_out = nn.Linear(width, latent_channels)
        init_variance_preserving(self)

    @property
    def seconds_per_token(self) -> float:
        return self.config.temporal_downsample_factor / self.config.sample_rate

    def token_times(self, num_tokens: int, device: torch.device | str | None = None) -> torch.Tensor:
        """Start time in seconds of each token, (num_tokens,): 0.02 j at the default config."""
        # float64 on the CPU (MPS has none), then float32 on the device
        return torch.arange(num_tokens, dtype=torch.float64).mul(self.seconds_per_token).float().to(device)

    def num_tokens(self, num_samples: int) -> int:
        """Tokens produced for num_samples samples: ceil(num_samples / temporal_downsample_factor)."""
        return -(-num_samples // self.config.temporal_downsample_factor)

    def prepare_waveform(self, waveform: torch.Tensor, sample_rate: int | None) -> torch.Tensor:
        """Validate, match channels and zero-pad the end to a multiple of the factor: (B, C, S) -> (B, Cin, N*f)."""
        if sample_rate is not None and sample_rate != self.config.sample_rate:
            raise ValueError(f"sample_rate={sample_rate} does not match the encoder's {self.config.sample_rate} Hz; "
                             "resample first (the pipeline resamples with PyAV)")
        if not isinstance(waveform, torch.Tensor):
            raise ValueError(f"waveform must be a tensor (batch, channels, samples), got {type(waveform).__name__}")
        if waveform.ndim != 3:
            raise ValueError(f"waveform must be (batch, channels, samples), got shape {tuple(waveform.shape)}")
        if not waveform.is_floating_point():  # integer PCM scaled to [-1, 1], as the pipeline and the exporter do
            waveform = float_waveform(waveform, "waveform").to(waveform.device)
        channels, num_samples = waveform.shape[1], waveform.shape[2]
        if num_samples == 0:
            raise ValueError("waveform is empty (0 samples); audio needs at least one sample")
        expected = self.config.input_channels
        if channels not in (1, expected) and not (expected == 1 and channels == 2):
            raise ValueError(f"waveform has {channels} channels; expected 1, input_channels={expected}"
                             + (" or 2 (stereo, mixed down)" if expected == 1 else ""))
        if channels != expected:
            waveform = waveform.mean(dim=1, keepdim=True) if expected == 1 else waveform.expand(-1, expected, -1)
        pad = self.num_tokens(num_samples) * self.config.temporal_downsample_factor - num_samples
        return F.pad(waveform, (0, pad))

    def forward(self, waveform: torch.Tensor, sample_rate: int | None = None) -> torch.Tensor:
        """waveform (B, C, S) -> tokens (B, ceil(S / factor), latent_channels)."""
        x = self.prepare_waveform(waveform, sample_rate).to(self.dtype)
        x = rearrange(self.frontend(x), "b c n -> b n c")
        if len(self.blocks):
            times = self.token_times(x.shape[1], device=x.device)
            for block in self.blocks:
                x = block(x, times)
        return self.proj_out(self.norm_out(x))
