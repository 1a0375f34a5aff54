"""The three training stages: what each trains, its loss, and what it saves.

Each stage exposes ``model`` (the ``nn.Module`` handed to ``accelerate``; its ``forward`` is the whole
differentiable computation, so DDP sees every parameter), ``network`` (the diffusers model inside it, for
gradient checkpointing), ``needs_media`` (whether its batches need pixels and waveforms, or only clip
indices and prompts), ``loss(model, batch, generator, rng)`` and ``save(model, output_dir)``.

- ``video_vae``: a small ``AutoencoderKLLTXVideo`` (``model: {type: ltx, ...}``, the default) or the 4K
  :class:`ltx_video.models.autoencoders.HierarchicalVAE` (``model: {type: hierarchical, ...}``; the other
  keys are its constructor arguments) on random ``crop_frames``-frame crops (and, with ``crop_size``, random
  ``crop_size`` x ``crop_size`` windows: the VAEs are convolutional, so a 256 px model trains on 128 px windows
  of 256 px clips at a quarter of the cost, objects at their real pixel size); loss
  ``L1 + MSE`` with pixels far from the frame's median colour (the objects: a few percent of the frame)
  weighted ``1 + object_weight``, plus ``kl_weight * KL``. Saves ``video_vae/`` with latents_mean/std
  fitted to the bank.
- ``audio_vae``: :class:`ltx_video.models.audio.AudioAutoencoder`, L1 + multi-resolution STFT loss.
  Saves ``audio_vae/`` with fitted latent statistics.
- ``transformer``: :class:`LTXAudioVideoTransformer3DModel` on latents of the two frozen autoencoders
  (computed once for the whole bank), the joint rectified-flow objective
  (:func:`ltx_video.training.losses.joint_flow_loss`), prompts dropped to ``""`` with probability
  ``uncond_prob`` for classifier-free guidance. Saves ``transformer/`` and the whole ``pipeline/``
  (``LTXAudioVideoPipeline.save_pretrained``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ltx_video.conditioning.items import latent_positions, pack
from ltx_video.data.prompts import DRAWN_CAMERA_MOTIONS, PromptGrammar
from ltx_video.data.video_folder import DEFAULT_EXTENSIONS, walk_files
from ltx_video.pipelines.generation_defaults import DIFFUSERS_CALL_DEFAULTS, GenerationDefaults
from ltx_video.pipelines.latent_ops import normalize_latents
from ltx_video.training import components
from ltx_video.training.checks import (
    FOLDER_OPTIONS,
    check_captions,
    check_crops,
    check_fine_tune_options,
    check_init_text_encoder,
    check_init_transformer,
    check_readable_folder,
    check_transformer_widths,
    check_values,
    init_generation_defaults,
    init_transformer_differences,
    parameter_defaults,
)
from ltx_video.training.config import TrainConfig
from ltx_video.training.data import ClipBank, DataConfig, load_cache
from ltx_video.training.losses import MODES, joint_flow_loss, sample_flow_times

__all__ = ["AudioVAEStage", "PipelineStage", "TransformerStage", "VideoVAEStage", "build_stage", "object_pixels"]


def _options(config: TrainConfig, defaults: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(config.stage_options) - set(defaults))
    if unknown:
        raise ValueError(f"stage_options: unknown key(s) {unknown} for stage {config.stage!r}; accepted: {sorted(defaults)}")
    for key, value in config.stage_options.items():
        _check_option(key, value, defaults[key])
    return {**defaults, **config.stage_options}


# Whole-number options that must be >= 1 (a token count, a width, a head count); the other counts may be 0.
_AT_LEAST_ONE = ("max_sequence_length", "hidden", "heads", "spatial_features")


def _check_option(key: str, value: Any, default: Any) -> None:
    """One ``stage_options`` value against its default's type (a YAML typo fails here, not at step 1): a flag is a
    bool, a count a whole number >= 0, a weight, scale or rate a finite number >= 0 (a probability, ``*_prob``,
    ``*_drop`` or ``*_fresh``, at most 1), a name a str, a table a mapping, a list a list; the options that default to null are checked by their
    stage, except the folders, which must exist."""
    def fail(expected: str):
        raise ValueError(f"stage_options.{key} must be {expected}, got {value!r}")

    if key == "t_distribution" and value not in ("uniform", "logit_normal"):
        fail("'uniform' or 'logit_normal'")
    if key == "mode_probs":
        from ltx_video.training.losses import MODES

        if not isinstance(value, dict) or set(value) - set(MODES) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value.values()) or not sum(
                value.values()) > 0:
            fail(f"a mapping of modes from {list(MODES)} to weights >= 0 with a positive total")
    if key in FOLDER_OPTIONS:
        if value is not None and not (isinstance(value, (str, Path)) and (Path(value) / FOLDER_OPTIONS[key]).is_file()):
            fail(f"a folder holding {FOLDER_OPTIONS[key]} (what save_pretrained writes), or null")
    elif isinstance(default, bool):
        if not isinstance(value, bool):
            fail("true or false")
    elif isinstance(default, int):
        least = 1 if key in _AT_LEAST_ONE else 0  # 0 tokens or widths: an error at the first step, after rendering
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            fail(f"a whole number >= {least}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            fail("a number >= 0")
        if key.endswith(("_prob", "_drop", "_fresh")) and value > 1:
            fail("a probability in [0, 1]")
    elif isinstance(default, str) and not isinstance(value, str):
        fail(f"a string such as {default!r}")
    elif isinstance(default, dict) and not isinstance(value, dict):
        fail("a mapping")
    elif isinstance(default, (tuple, list)) and not isinstance(value, (tuple, list)):
        fail(f"a list such as {list(default)}")


def caption_warnings(tokenizer, prompts: list[str], max_length: int) -> list[str]:
    """What the word tokenizer (the synthetic grammar's words, else lower-case letters) does to a bank's captions,
    as warnings: captions cut at ``max_length`` tokens, characters it cannot spell (capitals, accents, other
    scripts), and distinct captions that become the same tokens (the model cannot tell them apart)."""
    distinct = sorted(set(prompts))
    full = {p: tokenizer(p, add_special_tokens=True).input_ids for p in distinct}
    kept = {p: tuple(ids[:max_length]) for p, ids in full.items()}
    unknown = tokenizer.unk_token_id
    notes = []
    cut = [p for p, ids in full.items() if len(ids) > max_length]
    if cut:
        notes.append(f"{len(cut)} of {len(distinct)} captions are longer than max_sequence_length={max_length} tokens "
                     f"and are cut (e.g. {cut[0][:60]!r})")
    spelled = [p for p, ids in kept.items() if unknown in ids]
    if spelled:
        notes.append(f"{len(spelled)} of {len(distinct)} captions hold characters the built-in word tokenizer cannot "
                     f"read (capitals, accents, other scripts: <unk>; e.g. {spelled[0][:60]!r}); real captions need a "
                     "real T5 (docs/training.md)")
    same = len(distinct) - len(set(kept.values()))
    if same:
        notes.append(f"{same} captions become the same tokens as another caption: the model cannot tell them apart")
    return notes


def _chunks(count: int, size: int):
    for start in range(0, count, size):
        yield list(range(start, min(start + size, count)))


def object_pixels(video: torch.Tensor) -> torch.Tensor:
    """The objects of synthetic clips ``(B, C, F, H, W)`` in [-1, 1]: pixels more than 0.25 from their frame's
    median colour in some channel, as a ``(B, 1, F, H, W)`` bool mask (what the ``video_vae`` loss weights up and
    ``scripts/benchmark_vae.py``'s object PSNR scores)."""
    background = video.flatten(3).median(dim=-1).values[..., None, None]
    return (video - background).abs().amax(dim=1, keepdim=True) > 0.25


class _VideoVAEObjective(nn.Module):
    def __init__(self, vae: nn.Module, kl_weight: float, object_weight: float) -> None:
        super().__init__()
        self.vae, self.kl_weight, self.object_weight = vae, kl_weight, object_weight

    def forward(self, video: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        posterior = self.vae.encode(video).latent_dist
        reconstruction = self.vae.decode(posterior.sample(generator=generator)).sample
        weight = 1.0 + self.object_weight * object_pixels(video).float()
        error = reconstruction - video
        l1 = (weight * error.abs()).mean()
        mse = (weight * error.square()).mean()
        kl = posterior.kl().mean() / video[0].numel()
        return {"loss": l1 + mse + self.kl_weight * kl, "l1": l1, "mse": mse, "kl": kl}


class VideoVAEStage:
    defaults = dict(crop_frames=17, crop_size=None, kl_weight=1e-6, object_weight=10.0)
    needs_media = True

    def __init__(self, config: TrainConfig, bank: ClipBank, device: torch.device) -> None:
        self.options = _options(config, self.defaults)
        self.bank, self.device = bank, device
        vae = _build_video_vae(config.model)
        self.model = _VideoVAEObjective(vae, self.options["kl_weight"], self.options["object_weight"])
        self.network = vae
        check_crops(self.options, bank.config, vae)
        _check_clip_size(bank, vae)

    def loss(self, model, batch: dict, generator: torch.Generator, rng: random.Random) -> dict:
        video = batch["video"]
        crop = min(self.options["crop_frames"], video.shape[2])
        start = rng.randrange(video.shape[2] - crop + 1)
        video = video[:, :, start : start + crop]
        size = self.options["crop_size"]
        if size is not None:
            top, left = rng.randrange(video.shape[3] - size + 1), rng.randrange(video.shape[4] - size + 1)
            video = video[..., top : top + size, left : left + size]
        return model(video.to(self.device), generator=generator)

    @torch.no_grad()
    def save(self, model: _VideoVAEObjective, output_dir: Path) -> None:
        vae = model.vae.eval()
        means = []
        for indices in _chunks(len(self.bank), 16):
            video = self.bank.batch(indices, 0, 0)["video"].to(self.device)
            means.append(vae.encode(video).latent_dist.mode().transpose(0, 1).flatten(1))
        latents = torch.cat(means, dim=1)
        vae.latents_mean.copy_(latents.mean(1))
        vae.latents_std.copy_(latents.std(1).clamp_min(1e-6))
        vae.save_pretrained(output_dir / "video_vae")


# The video_vae stage's ``model.type``: its builder and the class the builder's other keys may reach.
_VIDEO_VAES = {"ltx": (components.build_video_vae, components.AutoencoderKLLTXVideo),
               "hierarchical": (components.build_hierarchical_vae, components.HierarchicalVAE)}


def _video_vae_kind(model: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """``((builder, class), arguments)`` of a ``video_vae`` stage's ``model:`` section (``type`` picks them)."""
    kind = model.get("type", "ltx")
    if kind not in _VIDEO_VAES:
        raise ValueError(f"model.type must be one of {sorted(_VIDEO_VAES)} for the video_vae stage, got {kind!r}")
    return _VIDEO_VAES[kind], {k: v for k, v in model.items() if k != "type"}


def _build_video_vae(model: dict[str, Any]) -> nn.Module:
    """The ``video_vae`` stage's model from its ``model:`` section: ``type`` (``ltx`` or ``hierarchical``) picks the
    builder, the other keys are its arguments."""
    (builder, _), arguments = _video_vae_kind(model)
    return builder(**arguments)


def _check_clip_size(bank: ClipBank | DataConfig, vae) -> None:
    """ValueError unless whole clips fit the VAE's compression (they are encoded whole)."""
    c = bank if isinstance(bank, DataConfig) else bank.config
    s, t = vae.spatial_compression_ratio, vae.temporal_compression_ratio
    if c.height % s or c.width % s or (c.num_frames - 1) % t:
        raise ValueError(f"data.height and data.width must be multiples of {s} and data.num_frames {t}k + 1 for this "
                         f"VAE, got {c.height} x {c.width} x {c.num_frames}")


class _AudioObjective(nn.Module):
    def __init__(self, autoencoder: nn.Module) -> None:
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, waveform: torch.Tensor) -> dict[str, torch.Tensor]:
        losses = self.autoencoder.loss(waveform)
        return {"loss": losses["total"], "l1": losses["l1"], "stft": losses["stft"]}


class AudioVAEStage:
    defaults: dict[str, Any] = {}
    needs_media = True

    def __init__(self, config: TrainConfig, bank: ClipBank, device: torch.device) -> None:
        self.options = _options(config, self.defaults)
        self.bank, self.device = bank, device
        self.model = _AudioObjective(components.build_audio_autoencoder(**config.model))
        self.network = self.model.autoencoder

    def loss(self, model, batch: dict, generator: torch.Generator, rng: random.Random) -> dict:
        return model(batch["audio"].to(self.device))

    @torch.no_grad()
    def save(self, model: _AudioObjective, output_dir: Path) -> None:
        autoencoder = model.autoencoder.eval()
        raw = [autoencoder.encoder(self.bank.batch(i, 0, 0)["audio"].to(self.device)) for i in _chunks(len(self.bank), 32)]
        autoencoder.set_latent_statistics(torch.cat(raw))
        autoencoder.save_pretrained(output_dir / "audio_vae")


class TransformerStage:
    defaults = dict(
        video_vae=None, audio_vae=None, text_encoder={}, max_sequence_length=32, uncond_prob=0.1, audio_weight=1.0,
        mode_probs={"text_to_audio_video": 1.0}, t_distribution="logit_normal", init_transformer=None,
    )
    needs_media = False  # trains on latents encoded once for the whole bank

    def __init__(self, config: TrainConfig, bank: ClipBank, device: torch.device) -> None:
        from diffusers import AutoencoderKLLTXVideo

        from ltx_video.models.audio import AudioAutoencoder

        o = self.options = _options(config, self.defaults)
        for name in ("video_vae", "audio_vae"):
            if not o[name] or not Path(o[name]).is_dir():
                raise ValueError(f"stage_options.{name} must be the folder a {name} stage saved, got {o[name]!r}")
        unknown_modes = sorted(set(o["mode_probs"]) - set(MODES))
        if unknown_modes or not sum(o["mode_probs"].values()) > 0:
            raise ValueError(f"stage_options.mode_probs: keys from {MODES} with a positive total, got {o['mode_probs']}")
        self.config, self.bank, self.device = config, bank, device
        vae_class = AutoencoderKLLTXVideo
        if json.loads((Path(o["video_vae"]) / "config.json").read_text()).get("_class_name") == "HierarchicalVAE":
            from ltx_video.models.autoencoders import HierarchicalVAE as vae_class
        self.vae = vae_class.from_pretrained(o["video_vae"]).to(device).eval().requires_grad_(False)
        self.audio_vae = AudioAutoencoder.from_pretrained(o["audio_vae"]).to(device).eval().requires_grad_(False)
        self.tokenizer = components.word_tokenizer()
        self.text_encoder = components.build_text_encoder(len(self.tokenizer), **o["text_encoder"]).to(device)
        _check_clip_size(bank, self.vae)
        self.warn_about_captions(bank.prompts)
        self.model = self.network = components.build_transformer(**config.model)
        if o["init_transformer"] is not None:
            self._load_initial_weights(o["init_transformer"])
        _check_transformer_fit(self.model, self.vae, self.audio_vae, self.text_encoder)
        self._encode_bank()

    def warn_about_captions(self, prompts: list[str]) -> None:
        """:func:`caption_warnings` of the captions as this stage feeds them to its tokenizer, as warnings."""
        for warning in caption_warnings(self.tokenizer, prompts, self.options["max_sequence_length"]):
            warnings.warn(warning, stacklevel=3)

    def _load_initial_weights(self, folder) -> None:
        """Start from a saved transformer (a fine-tune): ``stage_options.init_transformer``, the folder
        ``save_pretrained`` wrote (e.g. a pipeline's ``transformer/``); its config must equal ``model``'s, except
        that ``model`` may add ``screen_position_features`` (zero-initialised, so the start is the saved model)."""
        from ltx_video.models.transformer_av import LTXAudioVideoTransformer3DModel

        if not Path(folder).is_dir():
            raise ValueError(f"stage_options.init_transformer must be a saved transformer folder, got {folder!r}")
        saved = LTXAudioVideoTransformer3DModel.from_pretrained(folder)
        differing = init_transformer_differences(dict(self.model.config), dict(saved.config))
        if differing:
            raise ValueError(f"stage_options.init_transformer: its config differs from `model` in {differing}")
        missing, unexpected = self.model.load_state_dict(saved.state_dict(), strict=False)
        if unexpected or any(not k.startswith("screen_position_proj.") for k in missing):
            raise ValueError(f"stage_options.init_transformer: weights do not fit: missing {missing}, unexpected {unexpected}")

    @torch.no_grad()
    def _encode_bank(self) -> None:
        """Normalised video latents (N, C, F', H', W') and audio latents (N, Na, Ca) of every clip."""
        video, audio = [], []
        for indices in _chunks(len(self.bank), 16):
            batch = self.bank.batch(indices, 0, 0)
            latents = self.vae.encode(batch["video"].to(self.device)).latent_dist.mode()
            video.append(normalize_latents(latents, self.vae.latents_mean, self.vae.latents_std, self.vae.config.scaling_factor))
            audio.append(self.audio_vae.encode(batch["audio"].to(self.device)))
        self.video_latents, self.audio_latents = torch.cat(video), torch.cat(audio)
        b, _, f, h, w = self.video_latents.shape
        coords = latent_positions(1, f, h, w, temporal_scale=self.vae.temporal_compression_ratio,
                                  spatial_scale=self.vae.spatial_compression_ratio, causal=True, device=self.device).float()
        coords[:, 0] /= self.bank.config.fps
        self.video_positions = coords
        seconds = self.audio_vae.config.temporal_factor / self.audio_vae.config.sample_rate
        self.audio_positions = torch.arange(self.audio_latents.shape[1], device=self.device, dtype=torch.float32)[None] * seconds

    @torch.no_grad()
    def encode_text(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = self.tokenizer(prompts, padding="max_length", max_length=self.options["max_sequence_length"],
                                truncation=True, add_special_tokens=True, return_tensors="pt")
        mask = tokens.attention_mask.to(self.device)
        embeds = self.text_encoder(tokens.input_ids.to(self.device), attention_mask=mask)[0]
        return embeds, mask.bool()

    def loss(self, model, batch: dict, generator: torch.Generator, rng: random.Random) -> dict:
        o = self.options
        indices = batch["indices"]
        prompts = ["" if rng.random() < o["uncond_prob"] else p for p in batch["prompts"]]
        text, mask = self.encode_text(prompts)
        modes, weights = zip(*o["mode_probs"].items(), strict=True)
        mode = rng.choices(modes, weights=weights)[0]
        size = len(indices)
        velocity = self.velocity_fn(model, text, mask, size)
        t = sample_flow_times(size, generator=generator, distribution=o["t_distribution"], device=self.device)
        result = joint_flow_loss(
            velocity, pack(self.video_latents[indices]), self.audio_latents[indices], mode=mode,
            audio_weight=o["audio_weight"], t=t, generator=generator,
        )
        return {"loss": result.loss, "video": result.video, "audio": result.audio}

    def velocity_fn(self, model, text: torch.Tensor, mask: torch.Tensor, size: int, *leading,
                    video_positions: torch.Tensor | None = None):
        """``velocity(video_t, video_timestep, audio_t, audio_timestep)`` for :func:`joint_flow_loss`: ``model``
        called with ``leading`` positional arguments (a stage's own inputs) and the bank's positions."""
        if video_positions is None:
            video_positions = self.video_positions.expand(size, -1, -1)
        audio_positions = self.audio_positions.expand(size, -1)

        def velocity(video_t, video_timestep, audio_t, audio_timestep):
            return model(
                *leading, hidden_states=video_t, encoder_hidden_states=text, timestep=video_timestep,
                encoder_attention_mask=mask, video_coords=video_positions, audio_hidden_states=audio_t,
                audio_timestep=audio_timestep, audio_coords=audio_positions, return_dict=False,
            )

        return velocity

    def save(self, model, output_dir: Path) -> None:
        from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline

        model.eval().save_pretrained(output_dir / "transformer")
        self.save_pipeline(LTXAudioVideoPipeline(
            scheduler=components.build_scheduler(), vae=self.vae, text_encoder=self.text_encoder,
            tokenizer=self.tokenizer, transformer=model, audio_vae=self.audio_vae,
        ), output_dir)

    def save_pipeline(self, pipe, output_dir: Path) -> None:
        """``pipe`` in ``output_dir / "pipeline"`` with this run's :meth:`generation_defaults`: every stage that
        saves a pipeline saves it here."""
        pipe.generation_defaults = self.generation_defaults()
        pipe.save_pretrained(output_dir / "pipeline")

    def base_generation_defaults(self) -> GenerationDefaults | None:
        """The generation defaults of the pipeline this stage's model starts from: here the ``init_transformer``'s
        (:func:`init_generation_defaults`); the stages built on a saved ``pipeline`` give that pipeline's."""
        return init_generation_defaults(self.options["init_transformer"])

    def prompt_grammar(self, base: dict[str, Any] | None) -> dict[str, Any] | None:
        """The prompts the saved transformer was trained on, given its base's grammar ``base``: synthetic clips' own
        grammar, or on folder clips the base's only if it describes every caption (:func:`_grammar_of_captions`).
        A stage whose transformer stays frozen keeps ``base``."""
        data = self.config.data
        if data.source == "synthetic":
            cameras = (list(DRAWN_CAMERA_MOTIONS) if data.camera is None
                       else list(data.camera) if isinstance(data.camera, tuple) else [data.camera])
            return {"max_objects": data.max_objects, "cameras": cameras}
        return _grammar_of_captions(base, self.bank.prompts)

    def generation_defaults(self) -> GenerationDefaults:
        """The defaults every stage saves with its pipeline, so ``ltx-video generate --model``, ``pipe(prompt)`` and
        prompt checks use them: the base's sampling (:meth:`base_generation_defaults`: steps, guidance, negative
        prompt, STG and its blocks, modality scales, ``given_audio``), else the sampling the built-in model is
        measured at; the clips' size, length and rate; and :meth:`prompt_grammar`. (Since 2026-12-07 for the
        transformer stage: it saved the from-scratch sampling, so the built-in model's fine-tune lost its STG and
        modality guidance; and it kept the grammar on any captions, so a fine-tune warned about its own training
        captions. Since 2026-12-08 for the continuation, keyframes and camera stages: they saved their base's
        defaults unchanged, its size, length, rate and grammar.)"""
        data = self.config.data
        clips = dict(height=data.height, width=data.width, num_frames=data.num_frames, frame_rate=float(data.fps))
        base = self.base_generation_defaults()
        grammar = self.prompt_grammar(base.prompt_grammar if base is not None else None)
        if base is not None:
            return dataclasses.replace(base, **clips, prompt_grammar=grammar)
        return GenerationDefaults(**clips, **self.sampling_without_base(), prompt_grammar=grammar)

    def sampling_without_base(self) -> dict[str, Any]:
        """The sampling saved when the base has no defaults: the built-in model's from-scratch sampling."""
        return dict(num_inference_steps=30, guidance_scale=3.0, negative_prompt="")


class PipelineStage(TransformerStage):
    """A stage built on a saved pipeline (``stage_options.pipeline``, loaded as ``self.base``: the continuation,
    keyframes and camera stages): its saved defaults start from that pipeline's."""

    def base_generation_defaults(self) -> GenerationDefaults | None:
        return self.base.generation_defaults

    def sampling_without_base(self) -> dict[str, Any]:
        """A base without saved defaults (a diffusers-format LTX-Video folder) samples as diffusers' call does: its
        fine-tune saves that sampling with the clips' size and rate (not the built-in model's 30 steps)."""
        return {name: DIFFUSERS_CALL_DEFAULTS[name] for name in ("num_inference_steps", "guidance_scale")}


def _grammar_of_captions(grammar: dict[str, Any] | None, captions: list[str]) -> dict[str, Any] | None:
    """``grammar`` if it describes every (non-empty) caption, else None: a model trained on captions outside it
    must not warn that they are outside what it was trained on."""
    if grammar is None:
        return None
    parser = PromptGrammar(**grammar)
    return grammar if all(parser.check(caption) is None for caption in captions if caption.strip()) else None


def stage_class(stage: str) -> type:
    """The class that trains ``stage`` (imported on demand)."""
    if stage == "camera":  # a frozen base pipeline with a trainable motion encoder
        from ltx_video.training.camera_stage import CameraStage

        return CameraStage
    if stage == "continuation":  # a saved pipeline's transformer fine-tuned to continue chunks
        from ltx_video.training.continuation_stage import ContinuationStage

        return ContinuationStage
    if stage == "keyframes":  # a frozen base pipeline with a trainable keyframe adapter
        from ltx_video.training.keyframe_stage import KeyframeStage

        return KeyframeStage
    return {"video_vae": VideoVAEStage, "audio_vae": AudioVAEStage, "transformer": TransformerStage}[stage]


def check_stage_options(config: TrainConfig) -> None:
    """``stage_options`` keys, and the ``model`` keys of the stages that build their model from them, checked
    before any clip is rendered."""
    _options(config, stage_class(config.stage).defaults)
    data = config.data
    if data.source == "folder" and not (Path(data.root).is_dir() and any(
            p.suffix.lower() in DEFAULT_EXTENSIONS for p in walk_files(Path(data.root)))):  # linked folders too
        raise ValueError(f"data.root {data.root} must be a folder holding video files {list(DEFAULT_EXTENSIONS)}")
    check_readable_folder(data)
    check_captions(data)  # before the output folder is written and any model loaded
    load_cache(data, mmap=True)  # a folder, or stale: named before the output folder is written or a clip rendered
    model = dict(config.model)
    if config.stage == "video_vae":
        (builder, target), model = _video_vae_kind(model)
        defaults = parameter_defaults(builder, target.__init__)
    elif config.stage == "audio_vae":
        from ltx_video.models.audio import AudioAutoencoder

        defaults = parameter_defaults(AudioAutoencoder.__init__)
    elif config.stage == "transformer":
        from ltx_video.models.transformer_av import LTXAudioVideoTransformer3DModel

        defaults = parameter_defaults(LTXAudioVideoTransformer3DModel.__init__)
        text_encoder = parameter_defaults(components.build_text_encoder)
        del text_encoder["vocab_size"]  # the tokenizer's
        check_values("stage_options.text_encoder", config.stage_options.get("text_encoder", {}), text_encoder)
    else:  # the fine-tuning stages take their model from stage_options.pipeline
        defaults = None
    unknown = sorted(set(model) - set(defaults)) if defaults is not None else []
    if unknown:
        raise ValueError(f"model: unknown key(s) {unknown} for stage {config.stage!r}; accepted: {sorted(defaults)}")
    if defaults is not None:
        check_values("model", model, defaults)
    check_shapes(config)
    if config.stage == "transformer":  # loads the init pipeline's T5: outside check_shapes' meta device
        check_init_text_encoder({**TransformerStage.defaults, **config.stage_options})


def _check_transformer_fit(model, vae, audio_vae, text_encoder) -> None:
    """ValueError unless the transformer's input widths are the autoencoders' latent channels and the text
    encoder's width."""
    cfg = model.config
    if cfg.in_channels != vae.config.latent_channels or cfg.audio_in_channels != audio_vae.config.latent_channels:
        raise ValueError("model.in_channels / audio_in_channels must equal the autoencoders' latent channels "
                         f"({vae.config.latent_channels}, {audio_vae.config.latent_channels})")
    if cfg.caption_channels != text_encoder.config.d_model:
        raise ValueError(f"model.caption_channels must equal the text encoder's d_model {text_encoder.config.d_model}")


def _video_vae_from_config(folder: str | Path):
    """A saved video VAE's class built from its ``config.json`` alone (call under ``torch.device("meta")``)."""
    from diffusers import AutoencoderKLLTXVideo

    vae_class = AutoencoderKLLTXVideo
    if json.loads((Path(folder) / "config.json").read_text()).get("_class_name") == "HierarchicalVAE":
        from ltx_video.models.autoencoders import HierarchicalVAE as vae_class
    return vae_class.from_config(vae_class.load_config(folder))


def check_shapes(config: TrainConfig) -> None:
    """What needs only the models' configs, checked before any clip is read: the clip size against the video
    VAE's compression, the transformer against its autoencoders, text encoder and ``init_transformer``, and the
    fine-tunes' options (:mod:`ltx_video.training.checks`). The models are built on the meta device (no memory, no
    weights read)."""
    from ltx_video.models.audio import AudioAutoencoder

    o = {**stage_class(config.stage).defaults, **config.stage_options}
    with torch.device("meta"), torch.random.fork_rng(devices=[]):  # the builders seed torch: the caller's RNG stays
        if config.stage == "video_vae":
            vae = _built(lambda: _build_video_vae(config.model))
            check_crops(o, config.data, vae)
            _check_clip_size(config.data, vae)
        elif config.stage == "audio_vae":
            _built(lambda: components.build_audio_autoencoder(**config.model))
        elif config.stage == "transformer":
            transformer = _built(lambda: components.build_transformer(**config.model))
            check_transformer_widths(transformer)
        if config.stage == "transformer" and o["video_vae"] and o["audio_vae"]:
            vae = _video_vae_from_config(o["video_vae"])
            _check_clip_size(config.data, vae)
            audio_vae = AudioAutoencoder.from_config(AudioAutoencoder.load_config(o["audio_vae"]))
            text_encoder = components.build_text_encoder(len(components.word_tokenizer()), **o["text_encoder"])
            _check_transformer_fit(transformer, vae, audio_vae, text_encoder)
        vae = None
        if o.get("pipeline") and (Path(o["pipeline"]) / "vae" / "config.json").is_file():  # the fine-tunes
            vae = _video_vae_from_config(Path(o["pipeline"]) / "vae")
            _check_clip_size(config.data, vae)
        check_fine_tune_options(config, o, vae)
        check_init_transformer(config, o)


def _built(build) -> nn.Module:
    """``build()``, a stage's model from its ``model:`` section (on the meta device): a constructor's refusal of a
    value is named as the ``model`` section's."""
    try:
        return build()
    except (ValueError, TypeError, ZeroDivisionError) as error:
        raise ValueError(f"model: {error}") from None


def build_stage(config: TrainConfig, bank: ClipBank, device: torch.device):
    return stage_class(config.stage)(config, bank, device)

