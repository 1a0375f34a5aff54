"""The ``continuation`` stage: fine-tune a saved audio-video transformer to continue a chunk, as ``generate_long``
asks it to (docs/long_video.md).

Each sample is a clip whose first ``overlap_latents`` latent frames play the previous chunk's carried overlap:
they start at ``lerp(noise, x0, carryover_strength)`` with per-token timestep ``1000 min(t, 1 - carryover_strength)``,
exactly as inference places them, and so do the audio tokens of the overlap's time when ``carry_audio`` (as
``generate_long`` carries them); the other tokens are noised at ``t``. A share ``plain_prob`` of the samples carries
nothing: a plain generation, so that the first chunk (and any plain call) is trained as before. The loss:

    flow MSE on the free video tokens + audio_weight * audio flow MSE
    + flow_weight * L_flow + style_weight * L_style

with ``x0_hat = x_t - sigma v`` the predicted clean latents and the specification's two continuation terms in
latent form (both 0 by default; ``stage_options`` turns them on):

- ``L_flow`` (optical-flow smoothing): the latent motion across the seam must continue the real one:
  ``mse(x0_hat[O+1] - 2 x0_hat[O] + x0[O-1], x0[O+1] - 2 x0[O] + x0[O-1])``, the second temporal difference
  (acceleration) where the generated frames meet the carried ones;
- ``L_style`` (style consistency): the per-channel mean and standard deviation of the generated frames' ``x0_hat``
  (the statistics AdaIN matches) against the carried frames' clean latents.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import torch
import torch.nn.functional as F

from ltx_video.conditioning.items import pack
from ltx_video.training.checks import check_overlap
from ltx_video.training.losses import sample_flow_times
from ltx_video.training.stages import PipelineStage, _check_clip_size, _options

__all__ = ["ContinuationStage", "seam_flow_loss", "style_consistency_loss"]


def _masked_mse(prediction: torch.Tensor, target: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the elements ``keep`` (a bool mask broadcast against them) selects."""
    keep = keep.expand_as(prediction)
    return F.mse_loss(prediction[keep].float(), target[keep].float())


def seam_flow_loss(x0_hat: torch.Tensor, x0: torch.Tensor, overlap: int) -> torch.Tensor:
    """(B, C, F, H, W) predicted and real clean latents; the generated frames start at ``overlap``."""
    if not 1 <= overlap <= x0.shape[2] - 2:
        raise ValueError(f"overlap must leave two generated frames after it, got {overlap} of {x0.shape[2]}")
    predicted = x0_hat[:, :, overlap + 1] - 2 * x0_hat[:, :, overlap] + x0[:, :, overlap - 1]
    real = x0[:, :, overlap + 1] - 2 * x0[:, :, overlap] + x0[:, :, overlap - 1]
    return F.mse_loss(predicted.float(), real.float())


def style_consistency_loss(generated: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Per-(sample, channel) mean and std over (F, H, W) of ``generated`` against ``reference`` (B, C, F, H, W)."""
    std_g, mean_g = torch.std_mean(generated.float(), dim=(2, 3, 4))
    std_r, mean_r = torch.std_mean(reference.float(), dim=(2, 3, 4))
    return F.mse_loss(mean_g, mean_r) + F.mse_loss(std_g, std_r)


class ContinuationStage(PipelineStage):
    """Reuses the transformer stage's bank and text encoding on a saved pipeline's components."""

    defaults = dict(pipeline=None, max_sequence_length=32, uncond_prob=0.1, audio_weight=1.0,
                    t_distribution="logit_normal", overlap_latents=2, carryover_strength=0.8, flow_weight=0.0,
                    style_weight=0.0, carry_audio=False, plain_prob=0.0)
    needs_media = False

    def __init__(self, config, bank, device: torch.device) -> None:
        from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline

        o = self.options = _options(config, self.defaults)
        if not o["pipeline"] or not (Path(o["pipeline"]) / "model_index.json").is_file():
            raise ValueError(f"stage_options.pipeline must be a saved LTXAudioVideoPipeline folder, got {o['pipeline']!r}")
        if not 0.0 <= o["carryover_strength"] <= 1.0:
            raise ValueError(f"stage_options.carryover_strength must be in [0, 1], got {o['carryover_strength']}")
        for name in ("flow_weight", "style_weight"):
            if not o[name] >= 0:
                raise ValueError(f"stage_options.{name} must be >= 0, got {o[name]}")
        if not 0.0 <= o["plain_prob"] < 1.0:
            raise ValueError(f"stage_options.plain_prob must be in [0, 1), got {o['plain_prob']}")
        self.config, self.bank, self.device = config, bank, device
        pipe = self.base = LTXAudioVideoPipeline.from_pretrained(o["pipeline"])
        self.vae, self.audio_vae = pipe.vae.to(device).eval(), pipe.audio_vae.to(device).eval()
        self.tokenizer, self.text_encoder = pipe.tokenizer, pipe.text_encoder.to(device).eval()
        for module in (self.vae, self.audio_vae, self.text_encoder):
            module.requires_grad_(False)
        self.model = self.network = pipe.transformer.to(device).requires_grad_(True)
        _check_clip_size(bank, self.vae)  # encoded whole: clips the VAE cannot hold would be padded and cut
        check_overlap(o["overlap_latents"], (config.data.num_frames - 1) // self.vae.temporal_compression_ratio + 1)
        self.warn_about_captions(bank.prompts)
        self._encode_bank()
        self.held_audio_tokens = self.audio_overlap_tokens() if o["carry_audio"] else 0

    def audio_overlap_tokens(self) -> int:
        """The audio tokens that start within the carried overlap's time, ``overlap_latents * r`` frames: those
        ``generate_long`` carries over with the video's overlap (its tokens sit on one global grid)."""
        vae, config = self.base.vae, self.audio_vae.config
        seconds = self.options["overlap_latents"] * vae.temporal_compression_ratio / self.config.data.fps
        return min(math.ceil(seconds * config.sample_rate / config.temporal_factor - 1e-9), self.audio_latents.shape[1])

    def loss(self, model, batch: dict, generator: torch.Generator, rng: random.Random) -> dict:
        o, indices = self.options, batch["indices"]
        size, overlap, strength = len(indices), o["overlap_latents"], o["carryover_strength"]
        prompts = ["" if rng.random() < o["uncond_prob"] else p for p in batch["prompts"]]
        text, mask = self.encode_text(prompts)
        x0 = self.video_latents[indices]
        _, _, frames, height, width = x0.shape
        t = sample_flow_times(size, generator=generator, distribution=o["t_distribution"], device=self.device)
        # Which samples continue a chunk (the rest are plain generations), drawn from the stage's own stream. In
        # those, the carried tokens (the first `overlap` latent frames and the audio tokens of their time) sit at
        # min(t, 1 - strength) and are left out of the loss; every other token is noised at t and counted.
        carried = torch.tensor([rng.random() >= o["plain_prob"] for _ in range(size)], device=self.device)
        audio = self.audio_latents[indices]
        generated = torch.ones(size, frames, dtype=torch.bool, device=self.device)
        generated[:, :overlap] = ~carried[:, None]
        audio_generated = torch.ones(size, audio.shape[1], dtype=torch.bool, device=self.device)
        audio_generated[:, : self.held_audio_tokens] = ~carried[:, None]
        sigma = torch.where(generated, t[:, None], t[:, None].clamp(max=1.0 - strength))  # per latent frame
        audio_sigma = torch.where(audio_generated, t[:, None], t[:, None].clamp(max=1.0 - strength))
        noise = torch.randn(x0.shape, generator=generator, device=self.device, dtype=x0.dtype)
        s = sigma[:, None, :, None, None]
        x_t, target = (1 - s) * x0 + s * noise, noise - x0
        token_sigma = sigma.repeat_interleave(height * width, dim=1)  # (B, F*H*W)
        audio_noise = torch.randn(audio.shape, generator=generator, device=self.device, dtype=audio.dtype)
        a = audio_sigma[:, :, None]
        audio_t, audio_target = (1 - a) * audio + a * audio_noise, audio_noise - audio
        velocity = self.velocity_fn(model, text, mask, size)
        v_video, v_audio = velocity(pack(x_t), 1000 * token_sigma, audio_t, 1000 * audio_sigma)
        v_grid = v_video.transpose(1, 2).unflatten(2, (frames, height, width))
        video_term = _masked_mse(v_grid, target, generated[:, None, :, None, None])
        audio_term = _masked_mse(v_audio, audio_target, audio_generated[:, :, None])
        x0_hat = x_t - s * v_grid
        flow_term = style_term = x0.new_zeros(())
        if carried.any():  # the seam terms: continuation samples only
            flow_term = seam_flow_loss(x0_hat[carried], x0[carried], overlap)
            style_term = style_consistency_loss(x0_hat[carried][:, :, overlap:], x0[carried][:, :, :overlap])
        loss = video_term + o["audio_weight"] * audio_term + o["flow_weight"] * flow_term + o["style_weight"] * style_term
        return {"loss": loss, "video": video_term, "audio": audio_term, "flow": flow_term, "style": style_term}

    def save(self, model, output_dir: Path) -> None:
        """``transformer/`` and the base pipeline with it (``pipeline/``)."""
        model.eval().save_pretrained(output_dir / "transformer")
        self.base.transformer = model
        self.save_pipeline(self.base, output_dir)
