"""The ``keyframes`` stage: a :class:`KeyframeAdapter` trained on a frozen audio-video transformer.

Each sample gives the adapter ``stage_options.num_keyframes`` frames of its clip, drawn from
``stage_options.frames`` (pixel frames), encoded as the pipelines encode keyframes (each frame alone, the VAE's
mean, normalised) and placed in time as inference places them (:meth:`ControlMixin._attach_adapter`): the
keyframe at ``frame / (F - 1)``, each latent frame at its centre's time. The flow loss then rewards the adapter
for what the keyframes tell about the clip. The transformer, the autoencoders and the text encoder are the base
pipeline's (``stage_options.pipeline``) and stay frozen, so the base model's output without keyframes is
unchanged, bit for bit. ``drop_prob`` of the samples are seen without keyframes (the adapter is then off).

At inference the keyframes also go through LTX-Video's token mechanism (frame 0 replaces the first latent
frame, later ones are appended tokens); the adapter is trained without them, on the model's own tokens.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from ltx_video.conditioning.camera_controller import latent_frame_times
from ltx_video.conditioning.items import pack
from ltx_video.conditioning.multi_keyframe_processor import KeyframeAdapter
from ltx_video.pipelines.latent_ops import normalize_latents
from ltx_video.training.camera_stage import strip_camera_phrase
from ltx_video.training.checks import keyframe_frames
from ltx_video.training.losses import joint_flow_loss, sample_flow_times
from ltx_video.training.stages import PipelineStage, _check_clip_size, _chunks, _options

__all__ = ["KeyframeStage"]


class _KeyframeObjective(nn.Module):
    """The frozen transformer with the trainable adapter's hooks on its blocks."""

    def __init__(self, transformer: nn.Module, adapter: KeyframeAdapter) -> None:
        super().__init__()
        self.transformer, self.adapter = transformer, adapter
        adapter.attach(transformer)

    def forward(self, context: tuple | None, **kwargs):
        """``context``: None (no keyframes) or :meth:`KeyframeAdapter.set_context`'s arguments."""
        if context is not None:
            self.adapter.set_context(*context)
        try:
            return self.transformer(**kwargs)
        finally:
            self.adapter.clear_context()


class KeyframeStage(PipelineStage):
    """Reuses the transformer stage's bank encoding and text encoding; its own model, loss and save."""

    defaults = dict(pipeline=None, blocks=(0, 1, 2), heads=4, max_sequence_length=32, uncond_prob=0.1,
                    audio_weight=0.0, t_distribution="logit_normal", frames=(0, 8, 16, 24, 32, 40, 48),
                    num_keyframes=3, drop_prob=0.1, spatial_features=16)
    needs_media = False

    def __init__(self, config, bank, device: torch.device) -> None:
        from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline

        o = self.options = _options(config, self.defaults)
        if not o["pipeline"] or not (Path(o["pipeline"]) / "model_index.json").is_file():
            raise ValueError(f"stage_options.pipeline must be a saved LTXAudioVideoPipeline folder, got {o['pipeline']!r}")
        self.frames = keyframe_frames(o, config.data.num_frames)
        self.config, self.bank, self.device = config, bank, device
        pipe = LTXAudioVideoPipeline.from_pretrained(o["pipeline"])
        self.base = pipe
        self.vae, self.audio_vae = pipe.vae.to(device).eval(), pipe.audio_vae.to(device).eval()
        self.tokenizer, self.text_encoder = pipe.tokenizer, pipe.text_encoder.to(device).eval()
        transformer = pipe.transformer.to(device).requires_grad_(False)
        for module in (self.vae, self.audio_vae, self.text_encoder):
            module.requires_grad_(False)
        cfg = transformer.config
        self.network = KeyframeAdapter(cfg.num_attention_heads * cfg.attention_head_dim, cfg.in_channels,
                                       blocks=tuple(o["blocks"]), heads=int(o["heads"]),
                                       spatial_features=int(o["spatial_features"]))
        self.model = _KeyframeObjective(transformer, self.network)
        _check_clip_size(bank, self.vae)  # encoded whole
        self.warn_about_captions([strip_camera_phrase(p) for p in bank.prompts])
        self._encode_bank()

    @torch.no_grad()
    def _encode_bank(self) -> None:
        """The transformer stage's latents and positions, and each candidate frame's keyframe latents
        (N, len(frames), h*w, C), encoded alone as the pipelines encode a keyframe."""
        super()._encode_bank()
        keyframes = []
        for indices in _chunks(len(self.bank), 16):
            video = self.bank.batch(indices, 0, 0)["video"].to(self.device)  # (B, 3, F, H, W) in [-1, 1]
            per_frame = []
            for f in self.frames:
                latents = self.vae.encode(video[:, :, f : f + 1]).latent_dist.mean
                latents = normalize_latents(latents, self.vae.latents_mean, self.vae.latents_std,
                                            self.vae.config.scaling_factor)
                per_frame.append(latents[:, :, 0].flatten(2).transpose(1, 2))  # (B, h*w, C)
            keyframes.append(torch.stack(per_frame, dim=1))
        self.keyframe_latents = torch.cat(keyframes)
        _, _, f, h, w = self.video_latents.shape
        span = max(self.config.data.num_frames - 1, 1)
        times = latent_frame_times(f, self.vae.temporal_compression_ratio) / span
        self.token_times = times.repeat_interleave(h * w).to(self.device)  # (N,)
        self.token_cells = KeyframeAdapter.cell_positions(f, h, w)[None].to(self.device)
        self.keyframe_cells = KeyframeAdapter.cell_positions(int(self.options["num_keyframes"]), h, w)[None].to(self.device)

    def _context(self, indices, rng: random.Random) -> tuple | None:
        o = self.options
        if rng.random() < o["drop_prob"]:
            return None
        latents, times = [], []
        span = max(self.config.data.num_frames - 1, 1)
        cells = self.keyframe_latents.shape[2]
        for index in indices:
            chosen = sorted(rng.sample(range(len(self.frames)), int(o["num_keyframes"])))
            latents.append(torch.cat([self.keyframe_latents[index, k] for k in chosen]))
            times.append(torch.cat([torch.full((cells,), self.frames[k] / span) for k in chosen]))
        size = len(indices)
        return (torch.stack(latents), torch.stack(times).to(self.device), self.token_times.expand(size, -1), 0,
                self.keyframe_cells, self.token_cells)

    def loss(self, model, batch: dict, generator: torch.Generator, rng: random.Random) -> dict:
        o, indices = self.options, batch["indices"]
        prompts = ["" if rng.random() < o["uncond_prob"] else strip_camera_phrase(p) for p in batch["prompts"]]
        text, mask = self.encode_text(prompts)
        size = len(indices)
        context = self._context(indices, rng)

        velocity = self.velocity_fn(model, text, mask, size, context)
        t = sample_flow_times(size, generator=generator, distribution=o["t_distribution"], device=self.device)
        result = joint_flow_loss(
            velocity, pack(self.video_latents[indices]), self.audio_latents[indices], mode="text_to_audio_video",
            audio_weight=o["audio_weight"], t=t, generator=generator,
        )
        loss = result.loss
        if context is None:  # a batch without keyframes: nothing trainable ran; keep the graph for backward
            loss = loss + 0.0 * sum(p.sum() for p in self.network.parameters())
        return {"loss": loss, "video": result.video, "audio": result.audio}

    def prompt_grammar(self, base: dict[str, Any] | None) -> dict[str, Any] | None:
        return base  # the transformer stays frozen: it knows the prompts it knew

    def save(self, model: _KeyframeObjective, output_dir: Path) -> None:
        """``keyframe_adapter/`` and the base pipeline with it (``pipeline/``, loadable with ``from_pretrained``)."""
        model.adapter.eval().save_pretrained(output_dir / "keyframe_adapter")
        self.base.keyframe_adapter = model.adapter
        self.save_pipeline(self.base, output_dir)
