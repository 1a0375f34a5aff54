"""LTXVideoPipeline: LTX-Video 0.9.8 inference on diffusers' LTX models.

A drop-in for diffusers' ``LTXConditionPipeline`` (same components, argument names and outputs; the
same video for the same generator), that also runs LTX-Video 0.9.8's own options: spatiotemporal
guidance, per-interval guidance lists, any size (padded and cropped back), ``conditioning_items``
and the multi-scale configs (see :mod:`ltx_video.pipelines.multiscale`).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from diffusers import (
    AutoencoderKLLTXVideo,
    DiffusionPipeline,
    FlowMatchEulerDiscreteScheduler,
    LTXVideoTransformer3DModel,
)
from diffusers.callbacks import MultiPipelineCallbacks, PipelineCallback
from diffusers.loaders import LTXVideoLoraLoaderMixin
from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel
from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition
from diffusers.pipelines.ltx.pipeline_output import LTXPipelineOutput
from diffusers.utils.torch_utils import randn_tensor
from diffusers.video_processor import VideoProcessor
from transformers import T5EncoderModel, T5Tokenizer

from ltx_video.attention.backends import set_denoising_step
from ltx_video.attention.stg import SkipLayerStrategy, spatiotemporal_perturbation
from ltx_video.conditioning.camera_controller import Camera, CameraController
from ltx_video.conditioning.items import ConditioningItem, unpack
from ltx_video.conditioning.media import clip_arguments, note_clip_rates
from ltx_video.conditioning.multi_keyframe_processor import Keyframe
from ltx_video.models.autoencoders.vae_hierarchical import HierarchicalVAE
from ltx_video.models.transformer_av import LTXAudioVideoTransformer3DModel
from ltx_video.pipelines import denoising, schedule
from ltx_video.pipelines.callback_state import CallbackStateMixin
from ltx_video.pipelines.condition_media import ConditionMediaMixin
from ltx_video.pipelines.control import ControlMixin
from ltx_video.pipelines.efficiency import EfficiencyMixin
from ltx_video.pipelines.four_k import FourKMixin, four_k_dispatch
from ltx_video.pipelines.generation_defaults import GenerationDefaults, fill_call_defaults, prompt_grammar_warnings
from ltx_video.pipelines.inputs import (
    CALL_ARGUMENTS,
    ArgumentsChecked,
    GenerationPlan,
    check_call_arguments,
    check_inputs,
    check_latents_shape,
    check_only,
    collect_conditions,
    count_prompts,
    decode_values,
    python_integer,
    warn_unused_blocks,
)
from ltx_video.pipelines.latent_ops import Padding, denormalize_latents, tone_map_latents
from ltx_video.pipelines.loading import LoadingMixin
from ltx_video.pipelines.long_video import LongVideoMixin
from ltx_video.pipelines.postprocess import holds_latents, postprocess_video
from ltx_video.pipelines.text_encoding import TextEncodingMixin

__all__ = ["GenerationPlan", "LTXVideoPipeline"]

logger = logging.getLogger(__name__)


class LTXVideoPipeline(
    LoadingMixin, TextEncodingMixin, EfficiencyMixin, CallbackStateMixin, ConditionMediaMixin, ControlMixin,
    LongVideoMixin, FourKMixin, LTXVideoLoraLoaderMixin, DiffusionPipeline,
):
    r"""Text/image/video-to-video generation with LTX-Video checkpoints.

    Components are named as diffusers' LTX pipelines, so ``LTXVideoPipeline(**pipe.components)``
    works for ``LTXPipeline``, ``LTXImageToVideoPipeline`` and ``LTXConditionPipeline``.

    Example:
        >>> import torch
        >>> from ltx_video import LTXVideoPipeline
        >>> pipe = LTXVideoPipeline.from_pretrained("/models/LTX-Video-0.9.8", torch_dtype=torch.bfloat16)
        >>> video = pipe("a red ball bounces", height=480, width=704, num_frames=121).frames[0]
    """

    model_cpu_offload_seq = "text_encoder->transformer->vae"
    _optional_components = ["latent_upsampler"]
    _callback_tensor_inputs = ["latents", "prompt_embeds", "negative_prompt_embeds"]  # as diffusers' LTX pipelines
    #: The ``timestep_schedule`` of calls that do not give one, and of :meth:`encode_prompt`'s T5 masking.
    #: Set ``pipe.default_timestep_schedule = "shifted"`` where the pipeline replaces diffusers' ``LTXPipeline``
    #: or ``LTXImageToVideoPipeline``; "linear_quadratic" is LTX-Video 0.9.8 and ``LTXConditionPipeline``.
    default_timestep_schedule: str = "linear_quadratic"

    def __init__(
        self,
        scheduler: FlowMatchEulerDiscreteScheduler,
        vae: AutoencoderKLLTXVideo | HierarchicalVAE,
        text_encoder: T5EncoderModel,
        tokenizer: T5Tokenizer,
        transformer: LTXVideoTransformer3DModel | LTXAudioVideoTransformer3DModel,
        latent_upsampler: LTXLatentUpsamplerModel | None = None,
    ):
        super().__init__()
        self.register_modules(
            scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer,
            latent_upsampler=latent_upsampler,
        )
        self.vae_spatial_compression_ratio = self.vae.spatial_compression_ratio if vae is not None else 32
        self.vae_temporal_compression_ratio = self.vae.temporal_compression_ratio if vae is not None else 8
        if transformer is not None and (transformer.config.patch_size, transformer.config.patch_size_t) != (1, 1):
            raise ValueError("LTX-Video checkpoints use patch_size = patch_size_t = 1; other values are not supported.")
        self.video_processor = VideoProcessor(vae_scale_factor=self.vae_spatial_compression_ratio)
        # Conditioning media are resized to the exact requested size (padding comes after); the processor above
        # would round sizes down to multiples of 32.
        self.media_processor = VideoProcessor(vae_scale_factor=1, do_convert_rgb=True)
        # What the model was made for (size, rate, steps, prompts it knows): read by from_pretrained from the folder's
        # generation_defaults.json, written by save_pretrained; None for components assembled in Python.
        self.generation_defaults: GenerationDefaults | None = None
        # The schedule settings of the scheduler the pipeline was built with: a scheduler swapped in later with other
        # ones is said to be unused by the linear-quadratic schedule (retrieve_schedule), once.
        self._built_schedule_settings = schedule.schedule_settings(scheduler)
        self._schedule_notice_for: int | None = None

    # diffusers' LTX pipelines' public attributes, for scripts that read them: the sizes a call left without them uses
    # (the model's generation defaults, else diffusers' call defaults), the tokenizer's length and the patch sizes
    @property
    def default_height(self) -> int:
        return self._left_out("height")

    @property
    def default_width(self) -> int:
        return self._left_out("width")

    @property
    def default_frames(self) -> int:
        return self._left_out("num_frames")

    def _left_out(self, name: str) -> int:
        from ltx_video.pipelines.generation_defaults import fill_call_defaults

        return fill_call_defaults(self.generation_defaults, {name: None})[name]

    @property
    def tokenizer_max_length(self) -> int:
        return self.tokenizer.model_max_length if getattr(self, "tokenizer", None) is not None else 128

    @property
    def transformer_spatial_patch_size(self) -> int:
        return self.transformer.config.patch_size if getattr(self, "transformer", None) is not None else 1

    @property
    def transformer_temporal_patch_size(self) -> int:
        return self.transformer.config.patch_size_t if getattr(self, "transformer", None) is not None else 1

    # ------------------------------------------------------------------ 3. schedule
    def retrieve_schedule(
        self, num_inference_steps: int, timesteps: Sequence[float] | None, timestep_schedule: str,
        num_tokens: int, device,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(timesteps, sigmas incl. the final 0): LTX-Video's, or diffusers' LTXPipeline's shifted ones
        (:func:`ltx_video.pipelines.schedule.retrieve_schedule`); a swapped-in scheduler whose settings the
        linear-quadratic schedule does not read is said once."""
        if timesteps is None and timestep_schedule != "shifted":
            notice = schedule.unused_settings_notice(self.scheduler, self._built_schedule_settings)
            if notice is not None and self._schedule_notice_for != id(self.scheduler):
                self._schedule_notice_for = id(self.scheduler)
                logger.warning(notice)
        return schedule.retrieve_schedule(self.scheduler, num_inference_steps, timesteps, timestep_schedule,
                                          num_tokens, device)

    # ------------------------------------------------------------------ 5. model
    def velocity_model(self, prompt_embeds, prompt_mask, negative_embeds, negative_mask, strategy, attention_kwargs,
                       text: dict | None = None):
        """The transformer as ``denoising.ModelFn``: picks text per pass and applies STG to the last pass.
        ``text`` ({"prompt_embeds", "negative_prompt_embeds"}): read at every pass, so a callback may replace them.

        With ``audio_latents`` (an ``LTXAudioVideoTransformer3DModel``) the audio tokens ride along in every
        pass and the model returns ``(velocity, audio velocity)``; modality guidance's isolated pass (after the
        conditional one) runs without the audio<->video exchange.
        """

        # per layout of passes: (positive, negative, (embeddings, masks)), rebuilt when a callback replaced the text
        text_per_passes: dict[tuple, tuple] = {}
        current = text if text is not None else {"prompt_embeds": prompt_embeds, "negative_prompt_embeds": negative_embeds}

        def text_for(guidance: denoising.GuidanceConfig) -> tuple[torch.Tensor, torch.Tensor]:
            """Text embeddings and masks for the passes [uncond?, cond, isolated?, perturbed?], built once per layout
            (and again when a callback replaced the embeddings)."""
            positive, negative = current["prompt_embeds"], current["negative_prompt_embeds"]
            key = (guidance.do_cfg, guidance.do_modality, guidance.do_stg)
            cached = text_per_passes.get(key)
            if cached is None or cached[0] is not positive or cached[1] is not negative:
                conditional = 1 + guidance.do_modality + guidance.do_stg
                embeds = [negative] * guidance.do_cfg + [positive] * conditional
                masks = [negative_mask] * guidance.do_cfg + [prompt_mask] * conditional
                text_per_passes[key] = (positive, negative, (torch.cat(embeds).to(dtype), torch.cat(masks)))
            return text_per_passes[key][2]

        # The transformer's inputs in its own (compute) dtype, not the text encoder's: a float32 text encoder with a
        # bf16 transformer (diffusers' torch_dtype={"transformer": torch.bfloat16, "default": torch.float32}) failed
        # in the first matmul (since 2026-12-07: cast). Equal dtypes: no-op casts, the same operations as before.
        dtype = self.transformer.dtype  # layerwise casting: its compute dtype; torch.compile's wrapper: the model's
        if dtype not in (torch.float32, torch.bfloat16, torch.float16, torch.float64):  # an FP8 policy took its first
            dtype = prompt_embeds.dtype  # layer: float8 is a storage format, the pipeline's dtype computes

        def model(
            latents, timestep, positions, guidance: denoising.GuidanceConfig,
            audio_latents=None, audio_timestep=None, audio_positions=None,
        ):
            text, text_mask = text_for(guidance)
            batch = prompt_embeds.shape[0]
            stg = guidance.do_stg and guidance.skip_block_list
            perturb = (
                spatiotemporal_perturbation(
                    self.transformer, guidance.skip_block_list, strategy, (guidance.num_passes - 1) * batch
                )
                if stg else contextlib.nullcontext()
            )
            audio_kwargs = {}
            if audio_latents is not None:
                audio_kwargs = dict(
                    audio_hidden_states=audio_latents.to(dtype), audio_timestep=audio_timestep,
                    audio_coords=audio_positions,
                )
                if guidance.do_modality:
                    isolated = torch.zeros(guidance.num_passes, batch, dtype=torch.bool, device=latents.device)
                    isolated[int(guidance.do_cfg) + 1] = True
                    audio_kwargs["isolate_modalities"] = isolated.flatten()
            elif guidance.do_modality:
                raise ValueError("modality guidance needs an audio stream (`generate_audio=True` or `audio=`).")
            with perturb, self.transformer.cache_context("cond_uncond"):
                outputs = self.transformer(
                    hidden_states=latents.to(dtype),
                    encoder_hidden_states=text,
                    timestep=timestep,
                    encoder_attention_mask=text_mask,
                    video_coords=positions,
                    attention_kwargs=attention_kwargs,
                    return_dict=False,
                    **audio_kwargs,
                )
            return outputs[0] if audio_latents is None else (outputs[0], outputs[1])

        return model

    # ------------------------------------------------------------------ 6. decode
    def decode_latents(
        self, latents: torch.Tensor, *, decode_timestep, decode_noise_scale, tone_map_compression_ratio, generator,
        dtype,
    ) -> torch.Tensor:
        """Normalised latents (B, C, F, H, W) -> video (B, 3, F', H', W') in [-1, 1]."""
        latents = tone_map_latents(latents, tone_map_compression_ratio)
        latents = denormalize_latents(latents, self.vae.latents_mean, self.vae.latents_std, self.vae.config.scaling_factor)
        latents = latents.to(dtype)
        timestep = None
        if self.vae.config.timestep_conditioning:
            batch = latents.shape[0]
            noise = randn_tensor(latents.shape, generator=generator, device=latents.device, dtype=latents.dtype)
            # one value per video (check_call_arguments checked the forms and lengths)
            decode_timestep, decode_noise_scale = decode_values(decode_timestep, decode_noise_scale, batch)
            timestep = torch.tensor(decode_timestep, device=latents.device, dtype=latents.dtype)
            scale = torch.tensor(decode_noise_scale, device=latents.device, dtype=latents.dtype)[:, None, None, None, None]
            latents = (1 - scale) * latents + scale * noise
        return self.vae_decode(latents.to(self.vae.dtype), timestep)

    # ------------------------------------------------------------------ steps shared by the pipelines
    def call_defaults(self, *, negative_prompt_embeds=None, audio_given: bool = False, use_audio: bool = False,
                      **values) -> tuple:
        """``values`` (a call's arguments, by name) with each one left out (None) filled from
        :attr:`generation_defaults`, else diffusers' defaults (:func:`fill_call_defaults`), in the order given. The
        model's negative prompt is used only without ``negative_prompt_embeds``. NumPy integers (a size or step count
        read from an array) come back as Python ints, which diffusers' pipelines take too."""
        filled = fill_call_defaults(self.generation_defaults, {**values, "negative_prompt_embeds": negative_prompt_embeds},
                                    audio_given=audio_given, use_audio=use_audio)
        return tuple(python_integer(filled[name]) for name in values)

    def check_call(self, arguments: dict) -> None:
        """:func:`check_call_arguments` on a call's ``locals()``."""
        transformer = getattr(self.transformer, "_orig_mod", self.transformer)  # torch.compile's wrapper
        channels = getattr(getattr(transformer, "config", None), "caption_channels", None)
        check_call_arguments(**{name: arguments[name] for name in CALL_ARGUMENTS}, vae=self.vae, scheduler=self.scheduler,
                             text_channels=channels)

    def plan_generation(
        self, *, prompt, negative_prompt, conditions, image, video, frame_index, strength, conditioning_items,
        height, width, num_frames, frame_rate, num_inference_steps, timesteps, timestep_schedule, guidance_scale,
        guidance_rescale, stg_scale, rescaling_scale, skip_block_list, skip_layer_strategy, guidance_timesteps,
        cfg_star_rescale, image_cond_noise_scale, denoise_strength, num_videos_per_prompt, latents, prompt_embeds,
        prompt_attention_mask, negative_prompt_embeds, negative_prompt_attention_mask, output_type,
        callback_on_step_end_tensor_inputs, max_sequence_length, keyframes=None, camera=None,
        keyframe_interpolation=0.2, warn_prompt=True, modality_scale=1.0, audio_modality_scale=1.0, generator=None,
        generates_audio=False, audio_guidance_scale=None,
    ) -> GenerationPlan:
        """Steps 1-3 of ``__call__``: check every input (before any model runs), load the conditions, the
        schedule and per-step guidance, then encode the text (the first model to run). ``audio_guidance_scale``
        counts only with ``generates_audio``: above 1 every step runs the unconditional pass (diffusers' LTX2)."""
        timestep_schedule = timestep_schedule or self.default_timestep_schedule
        num_prompts = count_prompts(prompt, prompt_embeds)
        raw_conditions = collect_conditions(
            conditions, image, video, frame_index, strength, conditioning_items, num_prompts
        )
        check_inputs(
            prompt=prompt, prompt_embeds=prompt_embeds, prompt_attention_mask=prompt_attention_mask,
            negative_prompt_embeds=negative_prompt_embeds, negative_prompt_attention_mask=negative_prompt_attention_mask,
            height=height, width=width, num_frames=num_frames, frame_rate=frame_rate,
            num_inference_steps=num_inference_steps, timesteps=timesteps, guidance_timesteps=guidance_timesteps,
            output_type=output_type, timestep_schedule=timestep_schedule, conditions=raw_conditions,
            skip_block_list=skip_block_list, skip_layer_strategy=skip_layer_strategy,
            callback_on_step_end_tensor_inputs=callback_on_step_end_tensor_inputs,
            denoise_strength=denoise_strength, image_cond_noise_scale=image_cond_noise_scale,
            allowed_callback_inputs=self._callback_tensor_inputs, num_prompts=num_prompts,
            num_videos_per_prompt=num_videos_per_prompt, generator=generator,
        )
        control, keyframe_conditions = self.plan_control(
            keyframes=keyframes, camera=camera, keyframe_interpolation=keyframe_interpolation,
            other_conditions=bool(raw_conditions), num_frames=num_frames, height=height, width=width,
        )
        raw_conditions = keyframe_conditions or raw_conditions
        prompt = self.camera_prompt(prompt, control, height, width)
        for warning in prompt_grammar_warnings(self.generation_defaults, prompt) if warn_prompt else []:
            logger.warning(warning)
        diffusers_ltx = timestep_schedule == "shifted"  # LTXPipeline / LTXImageToVideoPipeline conventions
        if image_cond_noise_scale is None:
            image_cond_noise_scale = 0.0 if diffusers_ltx else 0.15
        padding = Padding(height, width, num_frames, self.vae_spatial_compression_ratio, self.vae_temporal_compression_ratio)
        device = self._execution_device
        batch_size = num_prompts * num_videos_per_prompt
        check_latents_shape(latents, (batch_size, self.transformer.config.in_channels, *padding.latent_size))
        strategy = SkipLayerStrategy.parse(skip_layer_strategy)
        cond_media = self.prepare_condition_media(raw_conditions, padding, num_prompts)

        # 2. Schedule and per-step guidance.
        timesteps, sigmas = self.retrieve_schedule(
            num_inference_steps, timesteps, timestep_schedule, math.prod(padding.latent_size), device
        )
        timesteps, sigmas = schedule.settle_schedule(
            timesteps, sigmas, scheduler=self.scheduler, num_inference_steps=num_inference_steps,
            denoise_strength=denoise_strength, generates_audio=generates_audio,
            has_latents=latents is not None or any(frame == 0 for _, frame, _ in cond_media),  # frame 0: its latents
        )
        guidance = denoising.guidance_schedule(
            timesteps, guidance_scale=guidance_scale, stg_scale=stg_scale, rescaling_scale=rescaling_scale,
            skip_block_list=[] if skip_block_list is None else skip_block_list, guidance_rescale=guidance_rescale,
            cfg_star_rescale=cfg_star_rescale, guidance_timesteps=guidance_timesteps, modality_scale=modality_scale,
            audio_modality_scale=audio_modality_scale, audio_guidance_scale=audio_guidance_scale if generates_audio else None,
        )
        if any(g.do_stg and not g.skip_block_list for g in guidance):
            logger.warning(
                "`stg_scale` > 0 with no `skip_block_list` perturbs no transformer block: the steps without blocks take "
                "an unperturbed third pass and only `rescaling_scale` acts (as in LTX-Video). Pass the blocks to skip "
                "(LTX-Video 0.9.8's configs: ltx_video.configs.shipped_configs()), or stg_scale=0."
            )
        num_blocks = len(self.transformer.transformer_blocks)
        for g in guidance:
            if g.do_stg and any(not 0 <= b < num_blocks for b in g.skip_block_list):
                raise ValueError(f"`skip_block_list` entries must be in [0, {num_blocks - 1}], got {list(g.skip_block_list)}.")
        if check_only():  # every argument checked, no model run (generate_multiscale's second pass)
            raise ArgumentsChecked

        # 3. Text.
        embeds, mask, neg_embeds, neg_mask = self.encode_prompt(
            prompt, negative_prompt, any(g.do_cfg for g in guidance), num_videos_per_prompt,
            prompt_embeds, negative_prompt_embeds, prompt_attention_mask, negative_prompt_attention_mask,
            max_sequence_length, device, mask_text_encoder=not diffusers_ltx,
        )
        if neg_embeds is not None and neg_embeds.dtype != embeds.dtype:  # given embeddings: promoted as diffusers'
            common = torch.promote_types(embeds.dtype, neg_embeds.dtype)  # concatenation of the two does
            embeds, neg_embeds = embeds.to(common), neg_embeds.to(common)
        return GenerationPlan(
            padding=padding, device=device, batch_size=batch_size, strategy=strategy, conditions=cond_media,
            timesteps=timesteps, sigmas=sigmas, guidance=guidance, prompt_embeds=embeds, prompt_mask=mask,
            negative_embeds=neg_embeds, negative_mask=neg_mask, diffusers_conventions=diffusers_ltx,
            image_cond_noise_scale=image_cond_noise_scale, control=control,
        )

    def prepare_video_latents(self, plan: GenerationPlan, *, frame_rate, latents, generator) -> denoising.LatentState:
        """Step 4: :meth:`prepare_latents` at the padded size of ``plan``, then the keyframes' interpolation."""
        state = self.prepare_latents(
            batch_size=plan.batch_size, num_frames=plan.padding.padded_num_frames, height=plan.padding.padded_height,
            width=plan.padding.padded_width, frame_rate=frame_rate, conditions=plan.conditions,
            first_sigma=float(plan.sigmas[0]), latents=latents, generator=generator,
            causal_temporal_positioning=not plan.diffusers_conventions, encode_before_noise=plan.diffusers_conventions,
            draw_noise=self.control_noise(plan), held=self.held_keyframes(plan),
        )
        return self.prepare_control_state(plan, state)

    def run_denoising(
        self, plan: GenerationPlan, state, *, stochastic_sampling, generator, attention_kwargs, step_hook, progress,
        audio=None, audio_guidance_scale=None,
    ):
        """Step 5: :func:`denoising.denoise` with the transformer, the plan's schedule and guidance; diffusers'
        run-time state (:class:`CallbackStateMixin`) is kept, and a callback's changes to it followed."""
        device, scale_in_use = plan.device, self._guidance_scale
        self._num_timesteps = len(plan.timesteps)
        self.show_guidance(plan.guidance)  # do_classifier_free_guidance answers per step from it

        def hook(i, t, *tokens):
            nonlocal scale_in_use
            self._current_timestep = t
            self.show_schedule(plan.timesteps, plan.sigmas, i)
            set_denoising_step(i + 1, len(plan.timesteps))
            result = step_hook(i, t, *tokens)
            scale_in_use = self.follow_callback(
                plan.guidance, i, scale_in_use, can_guide=plan.negative_embeds is not None
            )
            return result

        set_denoising_step(0, len(plan.timesteps))  # for EfficientAttentionConfig.dense_steps
        self.show_schedule(plan.timesteps, plan.sigmas)
        self._callback_text = {"prompt_embeds": plan.prompt_embeds, "negative_prompt_embeds": plan.negative_embeds}
        try:
            with self.control_hooks(plan, state) as x0_hook:
                return denoising.denoise(
                    self.velocity_model(
                        plan.prompt_embeds, plan.prompt_mask, plan.negative_embeds, plan.negative_mask, plan.strategy,
                        attention_kwargs, text=self._callback_text,
                    ),
                    state, plan.timesteps, plan.sigmas, plan.guidance,
                    image_cond_noise_scale=plan.image_cond_noise_scale,
                    # None: the scheduler's own flag, as diffusers' step honours it; the call's True or False wins
                    # (since 2026-12-07: an explicit False could not turn the scheduler's True off)
                    stochastic=(bool(self.scheduler.config.get("stochastic_sampling", False))
                                if stochastic_sampling is None else stochastic_sampling),
                    noise_fn=lambda shape: randn_tensor(shape, generator=generator, device=device, dtype=torch.float32),
                    step_hook=hook, progress=progress, audio=audio, audio_guidance_scale=audio_guidance_scale,
                    interrupted=lambda: self._interrupt, x0_hook=x0_hook,
                    step_start=lambda i, t: setattr(self, "_current_timestep", t),
                    guidance_in_float32=plan.diffusers_conventions,  # LTXPipeline's .float() (since 2026-12-07)
                )
        finally:
            self._current_timestep, self._callback_text = None, None
            set_denoising_step(None)

    def finish_video(
        self, plan: GenerationPlan, state, *, output_type, decode_timestep, decode_noise_scale,
        tone_map_compression_ratio, generator,
    ):
        """Step 6: strip conditioning tokens, unpack, and (unless ``output_type="latent"``) decode and crop."""
        video_latents = unpack(state.latents[:, state.num_prefix_tokens :], *plan.padding.latent_size)
        if output_type == "latent":
            return video_latents
        decoded = self.decode_latents(
            video_latents, decode_timestep=decode_timestep, decode_noise_scale=decode_noise_scale,
            tone_map_compression_ratio=tone_map_compression_ratio, generator=generator, dtype=plan.prompt_embeds.dtype,
        )
        return postprocess_video(self.video_processor, plan.padding.crop(decoded), output_type)  # no device copy

    def generate_multiscale(self, **kwargs) -> LTXPipelineOutput | tuple:
        """LTX-Video 0.9.8's multi-scale generation (see :func:`ltx_video.pipelines.multiscale.generate_multiscale`)."""
        from ltx_video.pipelines.multiscale import generate_multiscale

        return generate_multiscale(self, **kwargs)

    # ------------------------------------------------------------------ call
    @four_k_dispatch
    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str] | None = None,
        negative_prompt: str | list[str] | None = None,
        *,
        conditions: LTXVideoCondition | list[LTXVideoCondition] | None = None,
        image=None,
        video=None,
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
    ) -> LTXPipelineOutput | tuple:
        r"""Generate a video.

        Arguments follow diffusers' ``LTXConditionPipeline``; LTX-Video 0.9.8 additions:
        ``conditioning_items``, ``stg_scale``/``skip_block_list``/``skip_layer_strategy``/``rescaling_scale``
        (spatiotemporal guidance), per-interval lists for the guidance values with ``guidance_timesteps``
        (0..1000), ``cfg_star_rescale``, ``tone_map_compression_ratio``, ``stochastic_sampling`` (each step
        re-noises the predicted clean latents to the next sigma, drawing from ``generator``; None: the scheduler's
        ``stochastic_sampling`` flag). ``timestep_schedule`` is
        ``"linear_quadratic"`` (LTX-Video 0.9.8 and diffusers' LTXConditionPipeline) or ``"shifted"``
        (None: ``pipe.default_timestep_schedule``): the
        conventions of diffusers' LTXPipeline, which differ in three ways that only occur together there:
        linear sigmas shifted by the token count, frame positions ``8 f / frame_rate`` instead of LTX-Video's
        causal ``max(0, 8 f - 7) / frame_rate``, and T5 run without its padding mask. Any height, width and frame count
        work: they are padded to multiples of 32 and to ``8k + 1`` frames and the output is cropped back.

        ``keyframes`` (a list of :class:`Keyframe`) places images or clips at frames, with the latents between them
        started from their smoothstep interpolation at ``keyframe_interpolation``; ``camera`` (a :class:`Camera` or
        :class:`CameraController`) moves the camera (docs/control.md).

        ``height``, ``width``, ``num_frames``, ``frame_rate``, ``num_inference_steps``, ``guidance_scale``,
        ``stg_scale``, ``skip_block_list`` and ``negative_prompt`` left out (None) are the model's
        :attr:`generation_defaults` (its folder's ``generation_defaults.json``) when it has them, else diffusers':
        512 x 704, 161 frames at 25 fps, 50 steps, CFG 3, no STG.

        Returns ``LTXPipelineOutput(frames=...)``: frames per ``output_type``; ``"latent"`` gives the
        normalised latents (B, C, F', H', W') of the padded video.
        """
        # 1-3. Arguments left out from the model's generation defaults; check inputs (before any model runs),
        # schedule and guidance, text.
        warn_unused_blocks(stg_scale, skip_block_list, self.generation_defaults)  # before the model's fill them
        (height, width, num_frames, frame_rate, num_inference_steps, guidance_scale, stg_scale, skip_block_list,
         negative_prompt, num_videos_per_prompt, max_sequence_length) = self.call_defaults(
            height=height, width=width, num_frames=num_frames, frame_rate=frame_rate,
            num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, stg_scale=stg_scale,
            skip_block_list=skip_block_list, negative_prompt=negative_prompt, negative_prompt_embeds=negative_prompt_embeds,
            num_videos_per_prompt=num_videos_per_prompt, max_sequence_length=max_sequence_length,
        )
        self.begin_call(guidance_scale=guidance_scale, guidance_rescale=guidance_rescale, attention_kwargs=attention_kwargs)
        self.check_call(locals())
        if isinstance(callback_on_step_end, (PipelineCallback, MultiPipelineCallbacks)):
            callback_on_step_end_tensor_inputs = callback_on_step_end.tensor_inputs
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
            keyframe_interpolation=keyframe_interpolation,
        )
        # a video file at another rate is re-timed: said (since 2026-12-07, as the audio-video pipeline says it)
        note_clip_rates(clip_arguments(video, conditions, conditioning_items, keyframes), frame_rate)

        # 4. Latents: noise, then conditions in order.
        state = self.prepare_video_latents(plan, frame_rate=frame_rate, latents=latents, generator=generator)

        # 5. Denoise.
        def step_hook(i, t, tokens):
            if callback_on_step_end is None:
                return tokens
            outputs = self.run_callback(callback_on_step_end, i, t, {"latents": tokens}, callback_on_step_end_tensor_inputs)
            return outputs.pop("latents", tokens)

        with self.progress_bar(total=len(plan.timesteps)) as bar:
            state = self.run_denoising(
                plan, state, stochastic_sampling=stochastic_sampling, generator=generator,
                attention_kwargs=attention_kwargs, step_hook=step_hook, progress=bar.update,
            )

        # 6. Strip conditioning tokens, unpack, decode, crop.
        frames = self.finish_video(
            plan, state, output_type=output_type, decode_timestep=decode_timestep,
            decode_noise_scale=decode_noise_scale, tone_map_compression_ratio=tone_map_compression_ratio,
            generator=generator,
        )
        self.maybe_free_model_hooks()
        return holds_latents(LTXPipelineOutput(frames=frames), output_type) if return_dict else (frames,)
