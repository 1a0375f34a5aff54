"""The joint audio-video objective in rectified-flow form (LTX-Video's flow, one shared t per sample).

For clean latents ``x0`` and noise ``e``, ``x_t = (1 - t) x0 + t e`` and the network predicts the
velocity ``v = e - x0`` (Liu et al. 2022; LTX-Video). Video and audio share one ``t`` per sample, so the
two streams are always equally noisy, as at sampling time where both follow one sigma schedule:

    loss = mse(v_video, e_v - x0_v) + audio_weight * mse(v_audio, e_a - x0_a)

Conditional modes (the seed's audio-conditioned generation and its reverse):

- ``"text_to_audio_video"``: both streams noised at ``t``; both terms count.
- ``"audio_to_video"``: the audio is given clean (timestep 0) and only the video term counts.
- ``"video_to_audio"``: the video is given clean (timestep 0) and only the audio term counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["MODES", "JointFlowLoss", "flow_pair", "joint_flow_loss", "sample_flow_times"]

MODES = ("text_to_audio_video", "audio_to_video", "video_to_audio")

# model(video_t (B, Nv, Cv), video_timestep (B,), audio_t (B, Na, Ca), audio_timestep (B,)) -> (v_video, v_audio);
# timesteps are 1000 * t, the transformer's units.
VelocityModel = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class JointFlowLoss:
    """The loss and its parts (each a scalar tensor; a part that does not count in the mode is 0)."""

    loss: torch.Tensor
    video: torch.Tensor
    audio: torch.Tensor


def sample_flow_times(
    batch_size: int, *, generator: torch.Generator | None = None, distribution: str = "logit_normal",
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """One ``t`` in (0, 1) per sample: ``"uniform"``, or ``"logit_normal"`` (sigmoid of N(0, 1), SD3's default)."""
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be >= 1, got {batch_size}.")
    if distribution == "uniform":
        return torch.rand(batch_size, generator=generator, device=device)
    if distribution == "logit_normal":
        return torch.sigmoid(torch.randn(batch_size, generator=generator, device=device))
    raise ValueError(f"`distribution` must be 'uniform' or 'logit_normal', got {distribution!r}.")


def flow_pair(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x_t, v)`` with ``x_t = (1 - t) x0 + t e`` and target ``v = e - x0``; ``t`` is (B,)."""
    t = t.view(-1, *([1] * (x0.ndim - 1))).to(x0)
    return (1 - t) * x0 + t * noise, noise - x0


def joint_flow_loss(
    model: VelocityModel,
    video: torch.Tensor,
    audio: torch.Tensor,
    *,
    mode: str = "text_to_audio_video",
    audio_weight: float = 1.0,
    t: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    video_noise: torch.Tensor | None = None,
) -> JointFlowLoss:
    """The joint objective for clean video latents (B, Nv, Cv) and audio latents (B, Na, Ca). ``video_noise``
    (B, Nv, Cv) replaces the video's independent noise (a camera's warped noise); the generator then draws only
    the audio's."""
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}, got {mode!r}.")
    if audio_weight < 0:
        raise ValueError(f"`audio_weight` must be >= 0, got {audio_weight}.")
    if video.shape[0] != audio.shape[0]:
        raise ValueError(f"video and audio batch sizes differ: {video.shape[0]} vs {audio.shape[0]}.")
    batch = video.shape[0]
    t = sample_flow_times(batch, generator=generator, device=video.device) if t is None else t.to(video.device)
    if t.shape != (batch,) or not bool(((t >= 0) & (t <= 1)).all()):
        raise ValueError(f"`t` must have shape ({batch},) with values in [0, 1].")
    if video_noise is None:
        noise_v = torch.randn(video.shape, generator=generator, device=video.device, dtype=video.dtype)
    elif video_noise.shape != video.shape:
        raise ValueError(f"`video_noise` must have the video's shape {tuple(video.shape)}, got {tuple(video_noise.shape)}.")
    else:
        noise_v = video_noise.to(video)
    noise_a = torch.randn(audio.shape, generator=generator, device=audio.device, dtype=audio.dtype)
    zero = torch.zeros_like(t)
    t_video = zero if mode == "video_to_audio" else t
    t_audio = zero if mode == "audio_to_video" else t
    video_t, video_target = flow_pair(video, noise_v, t_video)
    audio_t, audio_target = flow_pair(audio, noise_a, t_audio)
    v_video, v_audio = model(video_t, 1000 * t_video, audio_t, 1000 * t_audio)
    video_term = torch.nn.functional.mse_loss(v_video.float(), video_target.float())
    audio_term = torch.nn.functional.mse_loss(v_audio.float(), audio_target.float())
    if mode == "audio_to_video":
        audio_term = audio_term * 0
    if mode == "video_to_audio":
        video_term = video_term * 0
    return JointFlowLoss(loss=video_term + audio_weight * audio_term, video=video_term, audio=audio_term)
