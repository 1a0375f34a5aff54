"""The ``camera`` stage: a :class:`CameraMotionEncoder` trained on a frozen audio-video transformer.

The clips are the synthetic world's with the camera motion drawn per clip (``data.camera: null``); each clip's
exact motion (type and speed) gives its motion field (:class:`CameraController`), and the encoder's
embeddings are added to the video tokens after ``proj_in`` as at inference (:mod:`ltx_video.pipelines.control`).
The prompts lose their camera phrase, so the motion can only come from the encoder. The autoencoders and
the text encoder are the base pipeline's (``stage_options.pipeline``) and stay frozen. So does the
transformer by default, and then the base model's output without ``camera=`` is unchanged, bit for bit;
``train_transformer: true`` fine-tunes it too, with ``no_camera_prob`` of the samples seen without the
encoder (as a call without ``camera=``), so it keeps working without one; with ``phrase_when_off: true`` those
samples keep their prompt's camera phrase (the prompt-only path); with ``phrase_with_camera: true`` the samples
seen with the encoder keep it too, so the phrase says the motion and the encoder its speed and exact field (the
saved encoder records it, ``camera_phrase``, and a camera call then puts the phrase in the prompt);
``phrase_pace: true`` makes those phrases say each clip's pace too (``"... pans left slowly"``,
:func:`~ltx_video.conditioning.motions.pace_word`), a speed path through the text that the transformer already
reads (the saved encoder records ``camera_pace``). ``feature_scale`` (six numbers) scales the encoder's
motion features to about 1 before its MLP (:class:`CameraMotionEncoder`); ``encoder_lr_scale`` multiplies the
encoder's learning rate; ``phrase_drop`` strips the phrase from that share of the samples seen with the encoder, so
that the motion has to come from the encoder there.
``world_positions: true`` moves the video tokens' RoPE coordinates to world coordinates as inference does
(:meth:`CameraController.world_positions`): content that stays put in the world keeps its position across frames, the correspondence a static-camera
model already uses, and the transformer only has to learn the rest. ``warp_noise: true`` noises each moving
clip with noise warped along its camera (:mod:`ltx_video.conditioning.noise_warp`), as inference then starts
from (``CameraController(warp_noise=True)``); static clips and samples seen without the camera keep independent
noise.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from ltx_video.conditioning.camera_controller import Camera, CameraController
from ltx_video.conditioning.camera_encoder import CameraMotionEncoder
from ltx_video.conditioning.items import pack
from ltx_video.conditioning.motions import prompt_with_camera, strip_camera_phrase
from ltx_video.conditioning.noise_warp import NoiseWarp
from ltx_video.data.synthetic import sample_params
from ltx_video.training.losses import joint_flow_loss, sample_flow_times
from ltx_video.training.stages import PipelineStage, _check_clip_size, _options

__all__ = ["CameraStage", "clip_camera", "strip_camera_phrase"]


def clip_camera(seed: int, data) -> Camera:
    """The exact camera of the synthetic clip of ``seed`` under the data config ``data`` (no rendering)."""
    overrides = dict(height=data.height, width=data.width, fps=data.fps, duration=data.num_frames / data.fps)
    if data.camera is not None:
        overrides["camera"] = data.camera
    params = sample_params(seed, **overrides)
    return Camera(motion_type=params.camera, speed=params.camera_speed)


class _CameraObjective(nn.Module):
    """The frozen transformer with the trainable encoder's embeddings added after ``proj_in``."""

    def __init__(self, transformer: nn.Module, encoder: CameraMotionEncoder) -> None:
        super().__init__()
        self.transformer, self.encoder = transformer, encoder
        self._inputs: tuple | None = None
        self.grid: tuple[int, int, int] | None = None  # the latent grid (F', h, w), set once the bank is encoded
        encoder.attach(transformer, lambda: self._inputs)

    def forward(self, features: torch.Tensor, keep: torch.Tensor, **kwargs):
        """``features`` (B, N, 6); ``keep`` (B,): 1 where the sample sees the encoder, 0 where it does not."""
        self._inputs = (features, keep, 0, self.grid)
        try:
            return self.transformer(**kwargs)
        finally:
            self._inputs = None


class CameraStage(PipelineStage):
    """Reuses the transformer stage's bank encoding and text encoding; its own model, loss and save."""

    defaults = dict(pipeline=None, hidden=64, max_sequence_length=32, uncond_prob=0.1, audio_weight=0.0,
                    t_distribution="logit_normal", train_transformer=False, no_camera_prob=0.0,
                    world_positions=False, phrase_when_off=False, phrase_with_camera=False, phrase_pace=False,
                    warp_context=False, feature_scale=None, encoder_lr_scale=1.0, phrase_drop=0.0,
                    warp_noise=False, warp_fresh=0.0)
    needs_media = False

    def __init__(self, config, bank, device: torch.device) -> None:
        from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline

        o = self.options = _options(config, self.defaults)
        if not o["pipeline"] or not (Path(o["pipeline"]) / "model_index.json").is_file():
            raise ValueError(f"stage_options.pipeline must be a saved LTXAudioVideoPipeline folder, got {o['pipeline']!r}")
        if config.data.source != "synthetic":
            raise ValueError("the camera stage trains on the synthetic world (data.source: synthetic)")
        self.config, self.bank, self.device = config, bank, device
        pipe = LTXAudioVideoPipeline.from_pretrained(o["pipeline"])
        self.base = pipe
        self.vae, self.audio_vae = pipe.vae.to(device).eval(), pipe.audio_vae.to(device).eval()
        self.tokenizer, self.text_encoder = pipe.tokenizer, pipe.text_encoder.to(device).eval()
        transformer = pipe.transformer.to(device).requires_grad_(bool(o["train_transformer"]))
        for module in (self.vae, self.audio_vae, self.text_encoder):
            module.requires_grad_(False)
        cfg = transformer.config
        self.network = CameraMotionEncoder(
            cfg.num_attention_heads * cfg.attention_head_dim, hidden=o["hidden"], warp_context=bool(o["warp_context"]),
            warp_noise=bool(o["warp_noise"]), warp_fresh=float(o["warp_fresh"]),
            world_positions=bool(o["world_positions"]), camera_phrase=bool(o["phrase_with_camera"]),
            camera_pace=bool(o["phrase_with_camera"] and o["phrase_pace"]),
            feature_scale=[float(v) for v in o["feature_scale"]] if o["feature_scale"] is not None else None,
        )
        self.model = _CameraObjective(transformer, self.network)
        _check_clip_size(bank, self.vae)  # encoded whole
        self._encode_bank()
        self.model.grid = tuple(self.video_latents.shape[2:])

    @torch.no_grad()
    def _encode_bank(self) -> None:
        """The transformer stage's latents and positions, and each clip's motion features (N, F'*h*w, 6)."""
        super()._encode_bank()
        data = self.config.data
        _, _, f, h, w = self.video_latents.shape
        self.cameras = [clip_camera(data.seed + i, data) for i in range(len(self.bank))]
        features, positions, self.warps = [], [], []
        base = self.video_positions[0]
        for camera in self.cameras:
            controller = CameraController(camera, world_coordinates=bool(self.options["world_positions"]))
            field = controller.motion_field(f, data.height, data.width, self.vae.temporal_compression_ratio)
            features.append(CameraMotionEncoder.token_features(field, f, h, w))
            positions.append(controller.world_positions(base[None], field, h, w)[0])
            moving = self.options["warp_noise"] and camera.moves
            self.warps.append(NoiseWarp(field, (f, h, w), fresh=float(self.options["warp_fresh"])) if moving else None)
        self.features = torch.stack(features).to(self.device)
        self.camera_positions = torch.stack(positions).to(self.device)  # (N, 3, F'*h*w): world coordinates

    def parameter_groups(self) -> list[dict]:
        """The transformer's parameters at the run's learning rate, the encoder's at ``encoder_lr_scale`` times it."""
        encoder = list(self.network.parameters())
        ids = {id(p) for p in encoder}
        rest = [p for p in self.model.parameters() if id(p) not in ids]
        return [{"params": rest}, {"params": encoder, "lr_scale": float(self.options["encoder_lr_scale"])}]

    def _phrase(self, prompt: str, index: int) -> str:
        """The clip's prompt with its camera phrase, which says the pace too under ``phrase_pace``."""
        if not self.options["phrase_pace"]:
            return prompt
        camera, data = self.cameras[index], self.config.data
        return prompt_with_camera(prompt, camera.motion_type, camera.speed, data.height, data.width)

    def loss(self, model, batch: dict, generator: torch.Generator, rng: random.Random) -> dict:
        o, indices = self.options, batch["indices"]
        size = len(indices)
        uncond = [rng.random() < o["uncond_prob"] for _ in batch["prompts"]]  # drawn first, as before keep existed
        keep = torch.tensor([float(rng.random() >= o["no_camera_prob"]) for _ in indices], device=self.device)
        phrase = [o["phrase_with_camera"] if kept else o["phrase_when_off"] for kept in keep.tolist()]
        if o["phrase_drop"] > 0:  # drawn only then, so earlier recipes' draws are unchanged
            phrase = [said and not (kept and rng.random() < o["phrase_drop"])
                      for said, kept in zip(phrase, keep.tolist(), strict=True)]
        prompts = [
            "" if drop else self._phrase(p, int(i)) if said else strip_camera_phrase(p)
            for p, i, drop, said in zip(batch["prompts"], indices, uncond, phrase, strict=True)
        ]
        text, mask = self.encode_text(prompts)
        features = self.features[indices]
        static = self.video_positions.expand(size, -1, -1)
        positions = torch.where(keep[:, None, None] > 0, self.camera_positions[indices], static)
        velocity = self.velocity_fn(model, text, mask, size, features, keep, video_positions=positions)
        t = sample_flow_times(size, generator=generator, distribution=o["t_distribution"], device=self.device)
        video = self.video_latents[indices]
        noise = None
        if o["warp_noise"]:
            noise = torch.randn(video.shape, generator=generator, device=self.device, dtype=video.dtype)
            for row, (index, kept) in enumerate(zip(indices, keep.tolist(), strict=True)):
                warp = self.warps[int(index)]
                if warp is not None and kept:
                    noise[row] = warp.sample(1, video.shape[1], generator=generator, device=self.device)[0]
            noise = pack(noise)
        result = joint_flow_loss(
            velocity, pack(video), self.audio_latents[indices], mode="text_to_audio_video",
            audio_weight=o["audio_weight"], t=t, generator=generator, video_noise=noise,
        )
        return {"loss": result.loss, "video": result.video, "audio": result.audio}

    def save(self, model: _CameraObjective, output_dir: Path) -> None:
        """``camera_encoder/`` and the base pipeline with it (``pipeline/``, loadable with ``from_pretrained``)."""
        model.encoder.eval().save_pretrained(output_dir / "camera_encoder")
        self.base.camera_encoder = model.encoder
        self.save_pipeline(self.base, output_dir)

    def prompt_grammar(self, base: dict[str, Any] | None) -> dict[str, Any] | None:
        """A transformer fine-tuned with the clips' camera phrases (``phrase_when_off`` or ``phrase_with_camera``)
        knows prompts with them (and their pace words, ``phrase_pace``); otherwise it saw the prompts without any
        (or stayed frozen) and keeps ``base``."""
        o = self.options
        if o["train_transformer"] and (o["phrase_when_off"] or o["phrase_with_camera"]):
            return {**super().prompt_grammar(base), "paces": bool(o["phrase_pace"])}
        return base
