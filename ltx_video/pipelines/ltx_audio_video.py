"""LTXAudioVideoPipeline: LTX-Video with a joint audio track (text-to-audio-video and audio-to-video).

The video path is ``LTXVideoPipeline``'s. With audio on, ``N = ceil(16000 * num_frames / frame_rate / 320)``
audio tokens (20 ms each, positions ``0.02 j`` s on the video's time axis) ride along in every transformer
pass of :func:`ltx_video.pipelines.denoising.denoise`, on the video's sigma schedule:

- generated audio: noise drawn from ``generator`` after the video latents, uniform timestep ``t``, CFG with
  ``audio_guidance_scale`` (STG guides the video only), Euler steps, decoded by ``audio_vae``;
- given audio (``audio=``): encoded clean and held at timestep 0 throughout; the video is generated to match.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel
from diffusers.callbacks import MultiPipelineCallbacks, PipelineCallback
from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel
from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor
from transformers import T5EncoderModel, T5Tokenizer

from ltx_video.conditioning.camera_controller import Camera, CameraController
from ltx_video.conditioning.items import ConditioningItem
from ltx_video.conditioning.media import clip_arguments, note_clip_rates
from ltx_video.conditioning.multi_keyframe_processor import Keyframe
from ltx_video.io.waveforms import AudioTrack, mark_video_rows, planar_waveform, sample_rate_value, waveform_and_rate
from ltx_video.models.audio import AudioAutoencoder
from ltx_video.models.autoencoders.vae_hierarchical import HierarchicalVAE
from ltx_video.models.transformer_av import LTXAudioVideoTransformer3DModel
from ltx_video.pipelines import denoising
from ltx_video.pipelines.four_k import four_k_dispatch
from ltx_video.pipelines.inputs import (
    check_audio_latents_shape,
    check_flag,
    check_frame_rate,
    count_prompts,
    warn_unused_blocks,
)
from ltx_video.pipelines.ltx_video import LTXVideoPipeline
from ltx_video.pipelines.postprocess import holds_latents

__all__ = ["LTXAudioVideoPipeline", "LTXAudioVideoPipelineOutput"]

logger = logging.getLogger(__name__)


@dataclass
class LTXAudioVideoPipelineOutput(BaseOutput):
    """frames: as ``LTXPipelineOutput``; audio: ``AudioTrack(waveform (B, S) float in [-1, 1], sample_rate)`` (a
    tuple) or None, with
    ``S = round(sample_rate * num_frames / frame_rate)``; audio_latents: (B, Na, Ca) normalised audio latents
    for ``output_type="latent"`` (then ``audio`` is None), else None; frame_rate: the frames per second the video
    was generated at, which ``export_to_video(output, path)`` writes it at."""

    frames: Any
    audio: AudioTrack | None = None
    audio_latents: torch.Tensor | None = None
    frame_rate: float | None = None


class LTXAudioVideoPipeline(LTXVideoPipeline):
    r"""Text/image-to-video with an audio track, or video generated to match a given audio.

    Components: ``LTXVideoPipeline``'s with ``transformer`` an ``LTXAudioVideoTransformer3DModel``, plus the
    optional ``audio_vae`` (``AudioAutoencoder``). Without audio (``generate_audio=False`` and no ``audio``)
    the output equals ``LTXVideoPipeline``'s on the same legacy weights and generator.

    Example:
        >>> from ltx_video import LTXAudioVideoPipeline, export_to_video
        >>> output = pipe("a dog barks", num_frames=121, frame_rate=25)
        >>> export_to_video(output, "dog.mp4", fps=25)  # the video with its audio track
    """

    model_cpu_offload_seq = "text_encoder->transformer->vae->audio_vae"
    _optional_components = ["latent_upsampler", "audio_vae"]
    _callback_tensor_inputs = ["latents", "audio_latents", "prompt_embeds", "negative_prompt_embeds"]

    def __init__(
        self,
        scheduler: FlowMatchEulerDiscreteScheduler,
        vae: AutoencoderKLLTXVideo | HierarchicalVAE,
        text_encoder: T5EncoderModel,
        tokenizer: T5Tokenizer,
        transformer: LTXAudioVideoTransformer3DModel | LTXVideoTransformer3DModel,  # a video-only one runs without audio
        audio_vae: AudioAutoencoder | None = None,
        latent_upsampler: LTXLatentUpsamplerModel | None = None,
    ):
        super().__init__(
            scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer,
            latent_upsampler=latent_upsampler,
        )
        if audio_vae is not None and audio_vae.config.audio_channels != 1:
            raise ValueError(
                f"`audio_vae` must be mono (audio_channels=1): the output audio is (B, S); got "
                f"{audio_vae.config.audio_channels} channels."
            )
        self.register_modules(audio_vae=audio_vae)
        self.audio_generation_enabled = audio_vae is not None

    def generate_multiscale(self, **kwargs):
        """LTX-Video's multi-scale generation, video only: the audio stream has no multi-scale path yet (its
        second pass would start below sigma 1). Returns ``LTXPipelineOutput(frames)``."""
        if kwargs.get("generate_audio") or kwargs.get("audio") is not None:
            raise ValueError("multi-scale generation is video-only for now: drop `generate_audio` / `audio`.")
        return super().generate_multiscale(**{**kwargs, "generate_audio": False})

    def enable_audio_generation(self) -> None:
        """Generate an audio track by default (``generate_audio=None``); needs ``audio_vae``."""
        if self.audio_vae is None:
            raise ValueError("enable_audio_generation needs an `audio_vae` component.")
        self.audio_generation_enabled = True

    def disable_audio_generation(self) -> None:
        """Generate video only by default (``generate_audio=None``): exactly ``LTXVideoPipeline``'s output."""
        self.audio_generation_enabled = False

    # ------------------------------------------------------------------ 1. audio inputs
    def audio_length(self, num_frames: int, frame_rate: float) -> tuple[int, int]:
        """(samples, tokens) for ``num_frames / frame_rate`` seconds: ``round(sr * T)`` and ``ceil(sr * T / factor)``."""
        check_frame_rate(frame_rate)  # the call's own checks (inputs.check_inputs) come after this
        sample_rate, factor = self.audio_vae.config.sample_rate, self.audio_vae.config.temporal_factor
        seconds_samples = sample_rate * num_frames / frame_rate
        return round(seconds_samples), math.ceil(seconds_samples / factor - 1e-9)

    def check_audio_inputs(
        self, *, audio, audio_sample_rate, generate_audio: bool, audio_guidance_scale, modality_scale=1.0,
        audio_modality_scale=1.0, num_videos: int = 1,
    ) -> None:
        """Validate the audio arguments before any model runs; each error names the argument. ``num_videos``: the
        videos the call makes (named when a list of waveforms, refused whatever their count, is meant one per video)."""
        for name, value in (("modality_scale", modality_scale), ("audio_modality_scale", audio_modality_scale),
                            ("audio_guidance_scale", audio_guidance_scale)):
            if name == "audio_guidance_scale" and value is None:
                continue
            number = isinstance(value, numbers.Real) or (torch.is_tensor(value) and value.ndim == 0)
            if isinstance(value, bool) or not number or not value >= 0:
                off = " (1 is off)" if name != "audio_guidance_scale" else " (None: guidance_scale)"
                raise ValueError(f"`{name}` must be a number >= 0{off}, got {value!r}.")
        if (audio is not None or generate_audio) and self.audio_vae is None:
            name = "audio" if audio is not None else "generate_audio"
            raise ValueError(f"`{name}` needs an `audio_vae` component (this pipeline has none).")
        transformer = getattr(self.transformer, "_orig_mod", self.transformer)  # torch.compile's wrapper
        if (audio is not None or generate_audio) and not isinstance(transformer, LTXAudioVideoTransformer3DModel):
            raise ValueError("audio needs `transformer` to be an LTXAudioVideoTransformer3DModel "
                             f"(got {type(transformer).__name__}).")
        if audio is None:
            if audio_sample_rate is not None:
                raise ValueError("`audio_sample_rate` was given without `audio`.")
            return
        if isinstance(audio, (str, Path)):
            if audio_sample_rate is not None:
                raise ValueError("`audio_sample_rate` is for a waveform tensor; a file's own rate is read from it.")
            return
        if not isinstance(audio, (torch.Tensor, np.ndarray, list, tuple)):
            raise ValueError(f"`audio` must be a waveform tensor (S,) or (C, S), or a file path; got {type(audio).__name__}.")
        items = audio if isinstance(audio, (list, tuple)) else ()
        if (num_videos > 1 and any(not isinstance(a, numbers.Real) and getattr(a, "ndim", 1) != 0 for a in items)
                or sum(getattr(a, "ndim", 0) >= 1 for a in items) > 1):  # several tensors or arrays
            # (since 2026-12-07, for one video too: refused; its waveforms were stacked as channels, their mix the
            # sound of every video)
            videos = f" and this call makes {num_videos} videos" if num_videos > 1 else ""
            raise ValueError(f"`audio` is a list of {len(audio)} waveforms{videos}: `audio` is one sound for all the "
                             "videos (a waveform (S,) or (C, S), a list of samples, a (waveform, sample_rate) pair or "
                             "a file path); for stereo pass one (2, S) waveform, for one sound per video call once per "
                             "sound.")
        if isinstance(audio, (list, tuple)) and audio and all(isinstance(a, (str, Path)) for a in audio):
            raise ValueError(f"`audio` takes one file path (one sound for all the videos), got a list of {len(audio)}.")
        # integer PCM scaled, NaN / inf refused, (S, C) as scipy gives it turned (as the writers take it), a batch's
        # output.audio.waveform refused: here, before any model runs
        audio = planar_waveform(audio, "audio")
        if audio.shape[-1] == 0:
            raise ValueError("`audio` is empty (0 samples).")
        if audio_sample_rate is None:
            raise ValueError("`audio_sample_rate` (a positive int, in Hz) is required with an `audio` waveform.")
        sample_rate_value(audio_sample_rate, "`audio_sample_rate`")

    def load_audio(self, audio, audio_sample_rate: int | None, num_samples: int, num_tokens: int) -> torch.Tensor:
        """A path or (S,)/(C, S) waveform (tensor, array or list; integer PCM scaled to [-1, 1], louder samples
        clipped as a file's are) -> (1, C, num_tokens * factor) at the VAE's rate: trimmed (or zero-padded)
        to ``num_samples`` (the video's duration), then zero-padded to whole tokens."""
        from ltx_video.io.media import read_audio, resample_audio

        sample_rate = self.audio_vae.config.sample_rate
        slack = sample_rate // 100  # 10 ms: a sound that long or shorter than the video is the video's own
        if isinstance(audio, (str, Path)):
            try:  # the file's sound from its first frame on (as its video), and no more of it than can be used
                waveform, _ = read_audio(audio, sample_rate=sample_rate, align_to_video=True,
                                         max_seconds=(num_samples + slack + 1) / sample_rate)
            except (OSError, ValueError) as error:  # PyAV's InvalidDataError is both
                raise ValueError(f"`audio`: cannot read {str(audio)!r} as audio ({error}).") from error
            if waveform.shape[-1] == 0:
                raise ValueError(f"`audio` file {str(audio)!r} has no samples.")
        else:
            waveform = planar_waveform(audio, "audio")
            waveform = waveform[None] if waveform.ndim == 1 else waveform
            if waveform.abs().max() > 1.0:  # clipped, as a file's samples are (read_audio)
                logger.warning("`audio` peaks at %.3g; it is clipped to [-1, 1].", float(waveform.abs().max()))
                waveform = waveform.clamp(-1.0, 1.0)
            waveform = resample_audio(waveform, sample_rate_value(audio_sample_rate, "`audio_sample_rate`"), sample_rate)
        if waveform.shape[-1] > num_samples + slack:  # a file is read only that far: its whole length is not known
            logger.warning("`audio` lasts longer than the video (%.2f s): it is cut to the video.",
                           num_samples / sample_rate)
        elif waveform.shape[-1] < num_samples - slack:
            logger.warning("`audio` lasts %.2f s and the video %.2f s: the rest of the video is silent.",
                           waveform.shape[-1] / sample_rate, num_samples / sample_rate)
        waveform = waveform[:, :num_samples]
        pad = num_tokens * self.audio_vae.config.temporal_factor - waveform.shape[-1]
        return F.pad(waveform, (0, pad))[None]

    # ------------------------------------------------------------------ 4. audio latents
    def prepare_audio_latents(
        self, *, batch_size: int, waveform: torch.Tensor | None, num_tokens: int, generator, device,
        latents: torch.Tensor | None = None,
    ) -> denoising.AudioLatentState:
        """Given audio -> its clean latents (held); else ``latents`` (the starting noise, (B|1, N, C)) or noise
        (B, N, C) drawn from ``generator``."""
        if waveform is not None:
            latents = self.audio_vae.encode(waveform.to(device=device, dtype=self.audio_vae.dtype)).float()
            latents = latents.expand(batch_size, -1, -1).clone()  # one buffer per video: callbacks edit in place
        elif latents is not None:
            check_audio_latents_shape(latents, batch_size, (num_tokens, self.audio_vae.config.latent_channels))
            latents = latents.to(device=device, dtype=torch.float32).expand(batch_size, -1, -1).clone()  # not the caller's
        else:
            shape = (batch_size, num_tokens, self.audio_vae.config.latent_channels)
            latents = randn_tensor(shape, generator=generator, device=device, dtype=torch.float32)
        seconds_per_token = self.audio_vae.config.temporal_factor / self.audio_vae.config.sample_rate
        # float64 on the CPU (MPS has none), then float32 on the device
        positions = (torch.arange(num_tokens, dtype=torch.float64) * seconds_per_token).float().to(device)
        return denoising.AudioLatentState(
            latents=latents, positions=positions.expand(batch_size, -1), held=waveform is not None
        )

    @staticmethod
    def note_held_video(plan, video, num_frames: int, *, given_audio: bool, generates_audio: bool) -> None:
        """One line when ``video=`` does not make the call the user likely meant (since 2026-12-07; both were silent):
        sound for a clip shorter than the video also invents the frames after it, and a whole clip held at strength
        1 with ``audio=`` given leaves nothing to generate."""
        if video is None or len(plan.conditions) != 1:
            return
        pixels, frame, strength = plan.conditions[0]
        clip_frames = pixels.shape[2]
        if generates_audio and not given_audio and frame == 0 and clip_frames < num_frames:
            logger.warning("`video` holds %d frames and `num_frames` is %d: frames %d-%d are generated with the sound "
                           "(a video extension); for sound for the clip alone, pass num_frames=%d.",
                           clip_frames, num_frames, clip_frames, num_frames - 1, clip_frames)
        elif given_audio and frame == 0 and clip_frames >= num_frames and float(strength) >= 1.0:
            logger.warning("`video` holds all %d frames at strength 1 and `audio` is given: nothing is left to "
                           "generate (the output is the clip through the video autoencoder, with the given sound).",
                           num_frames)

    # ------------------------------------------------------------------ call
    @four_k_dispatch
    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str] | None = None,
        negative_prompt: str | list[str] | None = None,
        *,
        audio: torch.Tensor | np.ndarray | str | Path | None = None,
        audio_sample_rate: int | None = None,
        generate_audio: bool | None = None,
        audio_guidance_scale: float | None = None,
        modality_scale: float | None = None,
        audio_modality_scale: float | None = None,
        conditions: LTXVideoCondition | list[LTXVideoCondition] | None = None,
        image: PIL.Image.Image | list | torch.Tensor | None = None,
        video: list | torch.Tensor | None = None,
        frame_index: int | list[int] = 0,
        strength: float | list[float] = 1.0,
        conditioning_items: list[ConditioningItem] | None = None,
        keyframes: Keyframe | list[Keyframe] | None = None,
        keyframe_interpolation: float = 0.2,
        camera: Camera | CameraController | None = None,
        height: int | None = None,
        width: int | None = None,
        num_frames: int | None = None,
        frame_rate: float | None = None,
        num_inference_steps: int | None = None,
        timesteps: list[float] | None = None,
        timestep_schedule: str | None = None,
        guidance_scale: float | list[float] | None = None,
        guidance_rescale: float = 0.0,
        stg_scale: float | list[float] | None = None,
        rescaling_scale: float | list[float] = 0.7,
        skip_block_list: list[int] | list[list[int]] | None = None,
        skip_layer_strategy: str = "attention_values",
        guidance_timesteps: list[float] | None = None,
        cfg_star_rescale: bool = False,
        image_cond_noise_scale: float | None = None,
        denoise_strength: float = 1.0,
        num_videos_per_prompt: int = 1,
        generator: torch.Generator | list[torch.Generator] | None = None,
        latents: torch.Tensor | None = None,
        audio_latents: torch.Tensor | None = None,
        prompt_embeds: torch.Tensor | None = None,
        prompt_attention_mask: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        negative_prompt_attention_mask: torch.Tensor | None = None,
        decode_timestep: float | list[float] = 0.0,
        decode_noise_scale: float | list[float] | None = None,
        tone_map_compression_ratio: float = 0.0,
        stochastic_sampling: bool | None = None,
        output_type: str = "pil",
        return_dict: bool = True,
        attention_kwargs: dict[str, Any] | None = None,
        callback_on_step_end: Callable | None = None,
        callback_on_step_end_tensor_inputs: Sequence[str] = ("latents",),
        max_sequence_length: int = 256,
    ) -> LTXAudioVideoPipelineOutput | tuple:
        r"""Generate a video with an audio track (or matching a given one).

        Every ``LTXVideoPipeline`` argument works as there (those left out from the model's ``generation_defaults``;
        with ``audio=`` its defaults for a given sound, ``given_audio``). Audio arguments:

        audio: None (generate), a waveform tensor (S,) or (C, S) (or array, or list of samples; a list of several
            waveforms is refused) with ``audio_sample_rate`` (resampled to 16 kHz
            with PyAV), a ``(waveform, sample_rate)`` pair (``torchaudio.load``'s, or an ``output.audio`` of one
            video), or a file path (read with ``read_audio`` at 16 kHz from the file's first video frame). Given audio is held clean (timestep 0)
            and the video is generated to match it. It covers exactly ``num_frames / frame_rate`` seconds: a longer
            one is trimmed, a shorter one zero-padded (silence) at the end. The output ``audio`` is then the sound
            the model used, whatever ``generate_audio`` says: the given one at 16 kHz, mono (its channels' mean),
            trimmed or padded as above, not its autoencoder round trip. A file's own sound (its rate and channels,
            as ``ltx-video generate --audio`` writes it) goes into an mp4 with ``read_audio``, e.g. for a 44.1 kHz
            stereo file: ``export_to_video(out, "out.mp4", audio=read_audio(path, sample_rate=44100, mono=False,
            align_to_video=True, max_seconds=len(out.frames[0]) / out.frame_rate))``.
        generate_audio: None -> ``audio_generation_enabled`` (True when ``audio_vae`` is present).
        audio_guidance_scale: CFG weight of the generated audio, None -> ``guidance_scale`` (per step). Above 1 every
            step runs the unconditional pass, with ``guidance_scale <= 1`` too (as diffusers' LTX2Pipeline; unlike
            it, the video then takes the conditional prediction as it is, where LTX2Pipeline extrapolates a video
            scale below 1); below 1 it acts on the steps with ``guidance_scale >
            1`` only. A value other than 1 that acts on no step, with a given ``audio`` or without audio is ignored
            with a one-line warning. STG (``stg_scale``) guides the video only.
        modality_scale / audio_modality_scale: LTX-2's modality guidance (its ``MultiModalGuiderParams``): 1 is
            off; otherwise one more pass per step runs without the audio<->video exchange, and each stream's
            prediction moves ``(scale - 1)`` times its difference from that pass: ``modality_scale`` pushes the
            video toward what the audio implies, ``audio_modality_scale`` the audio toward the video. Left out: the
            model's, in calls that generate or take audio; 1 in video-only calls.

        A video file (``video=``, or a path in ``conditions``, ``conditioning_items`` or ``keyframes``) is taken frame for
        frame at ``frame_rate``: one recorded at another rate is re-timed, and a sound made for it with it; a one-line
        warning names the file's rate (since 2026-12-07; said only by the command line before).

        Generated audio needs a schedule from sigma 1: with ``denoise_strength < 1``, ``timesteps`` starting below
        1000 or ``latents`` refinement, pass ``generate_audio=False`` or give ``audio=`` (else ValueError); multi-scale
        generation is video-only (:meth:`generate_multiscale`).

        Returns ``LTXAudioVideoPipelineOutput(frames, audio=(waveform (B, S), 16000) or None, audio_latents)``
        (with ``return_dict=False``: ``(frames, audio)``, or ``(latents, audio_latents)`` for ``output_type="latent"``);
        ``export_to_video(output, path)`` writes the first video with its audio track, at ``frame_rate``.
        ``audio_latents``: the generated audio's starting noise (B or 1, Na, Ca), as ``latents`` is the video's (LTX-2's
        pipeline takes it too): given both, the call draws neither from ``generator``.
        Callbacks may read and replace ``"latents"`` and ``"audio_latents"`` (B, Na, Ca).
        """
        # 1. Arguments left out from the model's generation defaults (those for a given sound with `audio=`); check
        # inputs before any model runs.
        check_flag("generate_audio", generate_audio, none="the model's default")  # "false" is truthy
        warn_unused_blocks(stg_scale, skip_block_list, self.generation_defaults, audio_given=audio is not None)
        if generate_audio is None:
            generate_audio = self.audio_generation_enabled and self.audio_vae is not None
        audio, audio_sample_rate = waveform_and_rate(audio, audio_sample_rate)  # torchaudio's pair, `output.audio`
        (height, width, num_frames, frame_rate, num_inference_steps, guidance_scale, stg_scale, skip_block_list,
         negative_prompt, modality_scale, audio_modality_scale, num_videos_per_prompt,
         max_sequence_length) = self.call_defaults(
            height=height, width=width, num_frames=num_frames, frame_rate=frame_rate,
            num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, stg_scale=stg_scale,
            skip_block_list=skip_block_list, negative_prompt=negative_prompt, modality_scale=modality_scale,
            audio_modality_scale=audio_modality_scale, num_videos_per_prompt=num_videos_per_prompt,
            max_sequence_length=max_sequence_length, negative_prompt_embeds=negative_prompt_embeds,
            audio_given=audio is not None, use_audio=bool(generate_audio) or audio is not None,
        )
        self.begin_call(guidance_scale=guidance_scale, guidance_rescale=guidance_rescale, attention_kwargs=attention_kwargs)
        self.check_call(locals())
        if isinstance(callback_on_step_end, (PipelineCallback, MultiPipelineCallbacks)):
            callback_on_step_end_tensor_inputs = callback_on_step_end.tensor_inputs
        self.check_audio_inputs(
            audio=audio, audio_sample_rate=audio_sample_rate, generate_audio=generate_audio,
            audio_guidance_scale=audio_guidance_scale, modality_scale=modality_scale,
            audio_modality_scale=audio_modality_scale,
            num_videos=count_prompts(prompt, prompt_embeds) * (
                num_videos_per_prompt if isinstance(num_videos_per_prompt, int) else 1),
        )
        use_audio = generate_audio or audio is not None
        if audio_latents is not None and (audio is not None or not generate_audio):
            raise ValueError("`audio_latents` is the generated audio's starting noise: it needs `generate_audio` and no "
                             "`audio=` (a given sound is encoded instead).")
        if audio_latents is not None and not torch.is_tensor(audio_latents):
            raise ValueError(f"`audio_latents` must be a tensor (B, Na, Ca), got {type(audio_latents).__name__}.")
        if not use_audio and (modality_scale != 1 or audio_modality_scale != 1):
            # Only a scale the call gives: the model's own are not taken for a call without audio.
            logger.warning("modality guidance has no audio stream to act on (no audio generated or given): ignored.")
            modality_scale = audio_modality_scale = 1.0
        if "audio_latents" in callback_on_step_end_tensor_inputs and not use_audio:
            raise ValueError("`callback_on_step_end_tensor_inputs` has 'audio_latents' but no audio is used.")
        num_samples, num_audio_tokens = self.audio_length(num_frames, frame_rate) if use_audio else (0, 0)
        if use_audio and audio is None and audio_latents is not None:  # before any model (it was after T5)
            check_audio_latents_shape(audio_latents, count_prompts(prompt, prompt_embeds) * num_videos_per_prompt,
                                      (num_audio_tokens, self.audio_vae.config.latent_channels))
        waveform = self.load_audio(audio, audio_sample_rate, num_samples, num_audio_tokens) if audio is not None else None
        videos = count_prompts(prompt, prompt_embeds) * num_videos_per_prompt
        if waveform is not None and getattr(audio, "ndim", 1) == 2 and audio.shape[0] == 2 == videos:
            logger.warning("`audio` has 2 rows and this call makes 2 videos: the rows are read as stereo channels, one "
                           "sound (their mix) for both; for one sound per video, call once per sound.")
        plan = self.plan_generation(
            prompt=prompt, negative_prompt=negative_prompt, conditions=conditions, image=image, video=video,
            frame_index=frame_index, strength=strength, conditioning_items=conditioning_items, height=height,
            width=width, num_frames=num_frames, frame_rate=frame_rate, num_inference_steps=num_inference_steps,
            timesteps=timesteps, timestep_schedule=timestep_schedule, guidance_scale=guidance_scale,
            guidance_rescale=guidance_rescale, stg_scale=stg_scale, rescaling_scale=rescaling_scale,
            skip_block_list=skip_block_list, skip_layer_strategy=skip_layer_strategy,
            guidance_timesteps=guidance_timesteps, cfg_star_rescale=cfg_star_rescale,
            image_cond_noise_scale=image_cond_noise_scale, denoise_strength=denoise_strength,
            num_videos_per_prompt=num_videos_per_prompt, latents=latents, prompt_embeds=prompt_embeds, generator=generator,
            prompt_attention_mask=prompt_attention_mask, negative_prompt_embeds=negative_prompt_embeds,
            negative_prompt_attention_mask=negative_prompt_attention_mask, output_type=output_type,
            callback_on_step_end_tensor_inputs=callback_on_step_end_tensor_inputs,
            max_sequence_length=max_sequence_length, keyframes=keyframes, camera=camera,
            keyframe_interpolation=keyframe_interpolation, modality_scale=modality_scale,
            # Given audio is held: nothing moves it, so its modality term would only cost a pass.
            audio_modality_scale=audio_modality_scale if waveform is None else 1.0,
            generates_audio=use_audio and waveform is None, audio_guidance_scale=audio_guidance_scale,
        )

        self.note_held_video(plan, video, num_frames, given_audio=waveform is not None, generates_audio=use_audio)
        note_clip_rates(clip_arguments(video, conditions, conditioning_items, keyframes), frame_rate,
                        sound="given" if waveform is not None else "generated" if use_audio else None)
        if (audio_guidance_scale is not None and audio_guidance_scale != 1 and use_audio and waveform is None
                and not any(g.do_cfg for g in plan.guidance)):
            # (since 2026-12-07 said only below 1: a scale above 1 runs the unconditional pass itself, as diffusers' LTX2)
            logger.warning(f"`audio_guidance_scale`={float(audio_guidance_scale):g} is ignored: below 1 it runs no "
                           "unconditional pass and `guidance_scale` <= 1 runs none, so the audio has no CFG.")
        elif audio_guidance_scale is not None and audio_guidance_scale != 1 and (waveform is not None or not use_audio):
            # (since 2026-12-07: said; a held or absent sound has no audio prediction to guide, silently)
            why = "the given `audio` is held, not generated" if waveform is not None else "no audio is generated"
            logger.warning(f"`audio_guidance_scale`={float(audio_guidance_scale):g} is ignored: {why}.")

        # 4. Latents: the video's (noise, then conditions), then the audio's (noise drawn after, or the given audio).
        state = self.prepare_video_latents(plan, frame_rate=frame_rate, latents=latents, generator=generator)
        audio_state = None
        if use_audio:
            audio_state = self.prepare_audio_latents(
                batch_size=plan.batch_size, waveform=waveform, num_tokens=num_audio_tokens, generator=generator,
                device=plan.device, latents=audio_latents,
            )

        # 5. Denoise both streams.
        def step_hook(i, t, tokens, audio_tokens=None):
            if callback_on_step_end is not None:
                tensors = {"latents": tokens} if audio_tokens is None else {"latents": tokens, "audio_latents": audio_tokens}
                outputs = self.run_callback(callback_on_step_end, i, t, tensors, callback_on_step_end_tensor_inputs)
                tokens = outputs.pop("latents", tokens)
                audio_tokens = outputs.pop("audio_latents", audio_tokens)
            return tokens if audio_state is None else (tokens, audio_tokens)

        with self.progress_bar(total=len(plan.timesteps)) as bar:
            result = self.run_denoising(
                plan, state, stochastic_sampling=stochastic_sampling, generator=generator,
                attention_kwargs=attention_kwargs, step_hook=step_hook, progress=bar.update, audio=audio_state,
                audio_guidance_scale=audio_guidance_scale,
            )
        state, audio_state = result if audio_state is not None else (result, None)

        # 6. Decode: video as LTXVideoPipeline, then audio trimmed to the video's duration.
        frames = self.finish_video(
            plan, state, output_type=output_type, decode_timestep=decode_timestep,
            decode_noise_scale=decode_noise_scale, tone_map_compression_ratio=tone_map_compression_ratio,
            generator=generator,
        )
        audio_out, audio_latents = None, None
        if audio_state is not None and output_type == "latent":
            audio_latents = audio_state.latents
        elif waveform is not None:  # a given sound is the output's, as given (not its autoencoder round trip)
            given = F.pad(waveform[0, :, :num_samples].mean(0), (0, max(0, num_samples - waveform.shape[-1])))
            rows = given.float().cpu().expand(plan.batch_size, -1).clone()  # one buffer per video: edits stay in theirs
            audio_out = AudioTrack(mark_video_rows(rows), self.audio_vae.config.sample_rate)
        elif audio_state is not None:
            samples = self.audio_vae.decode(audio_state.latents.to(self.audio_vae.dtype))
            rows = samples[:, 0, :num_samples].float().clamp(-1.0, 1.0).cpu()
            audio_out = AudioTrack(mark_video_rows(rows), self.audio_vae.config.sample_rate)
        self.maybe_free_model_hooks()
        if not return_dict:
            return (frames, audio_latents if output_type == "latent" else audio_out)
        return holds_latents(LTXAudioVideoPipelineOutput(frames=frames, audio=audio_out, audio_latents=audio_latents,
                                                         frame_rate=float(frame_rate)), output_type)
