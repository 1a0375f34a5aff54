"""``keyframes=`` and ``camera=`` wired into ``LTXVideoPipeline`` and ``LTXAudioVideoPipeline``.

The work lives in :mod:`ltx_video.conditioning.multi_keyframe_processor` and
:mod:`ltx_video.conditioning.camera_controller`; this mixin only places it in the call's steps:

- step 1 (:meth:`ControlMixin.plan_control`): arguments checked before any model runs; keyframes become
  the call's conditions (LTX-Video's token mechanism);
- step 4 (:meth:`ControlMixin.prepare_control_state`): the starting latents between keyframes, and the video
  and conditioning tokens' world coordinates under a camera;
- step 5 (:meth:`ControlMixin.control_hooks`): the keyframe adapter's and the motion encoder's context, and
  the training-free camera constraint on the predicted clean latents.

``pipe.keyframe_adapter`` (:class:`KeyframeAdapter`) and ``pipe.camera_encoder``
(:class:`CameraMotionEncoder`) are optional modules; without a motion encoder a camera is imposed
training-free, with a one-line notice.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from dataclasses import dataclass, field, replace

import torch

from ltx_video.conditioning.camera_controller import (
    Camera,
    CameraController,
    CameraMotionEncoder,
    MotionField,
    latent_frame_times,
)
from ltx_video.conditioning.camera_render import camera_grid, render_camera
from ltx_video.conditioning.items import pack, unpack
from ltx_video.conditioning.motions import prompt_with_camera
from ltx_video.conditioning.multi_keyframe_processor import (
    Keyframe,
    KeyframeAdapter,
    MultiKeyframeProcessor,
    keyframe_latent_index,
)
from ltx_video.pipelines.latent_ops import denormalize_latents

logger = logging.getLogger(__name__)

__all__ = ["ControlMixin", "ControlPlan"]


@dataclass(frozen=True)
class ControlPlan:
    """What ``keyframes=`` and ``camera=`` settled in step 1."""

    keyframes: tuple[Keyframe, ...] = ()
    processor: MultiKeyframeProcessor | None = None
    camera: CameraController | None = None
    learned_camera: bool = False
    anchors: list = field(default_factory=list)  # the keyframes' latents, encoded once per call (step 4 or 5)
    fields: dict = field(default_factory=dict)  # the camera's motion field per latent size, built once per call

    def placed_camera(self, padding) -> CameraController:
        """The camera with its geometry (image centre, focal length) taken from the requested frame and placed in the
        padded one that the latents cover (:meth:`CameraController.placed`)."""
        left, _, top, _ = padding.pad
        return self.camera.placed(top, left, padding.height, padding.width)

    def motion_field(self, latent_frames: int, padding, temporal_scale: int) -> MotionField:
        """The camera's field on the padded frame of ``padding`` (a :class:`~ltx_video.pipelines.latent_ops.Padding`)."""
        key = (latent_frames, padding, temporal_scale)
        if key not in self.fields:
            self.fields[key] = self.placed_camera(padding).motion_field(
                latent_frames, padding.padded_height, padding.padded_width, temporal_scale)
        return self.fields[key]


def _to_batch(latents: torch.Tensor, batch: int) -> torch.Tensor:
    """Media latents (1 or one per prompt, ...) -> one per video (``batch``), each prompt's repeated for its videos."""
    return latents if latents.shape[0] == batch else latents.repeat_interleave(batch // latents.shape[0], dim=0)



def _warn_overridden(frames: list[int], given: str) -> None:
    """The pixel-space camera's one warning for conditions placed as tokens after frame 0 (none: no warning)."""
    if frames:
        logger.warning(
            "camera: the pixel-space camera re-renders the video from frame 0's world and overrides the conditions "
            "after frame 0 placed as tokens (frames %s, given as %s); give them as keyframes=[Keyframe(image, "
            "frame_index, placement='in_place')] (strength 1) to keep them.", frames, given,
        )

class ControlMixin:
    """Needs the pipeline's ``vae``, ``transformer``, ``encode``-side helpers of :class:`ConditionMediaMixin`."""

    keyframe_adapter: KeyframeAdapter | None = None
    camera_encoder: CameraMotionEncoder | None = None

    def plan_control(
        self, *, keyframes, camera, keyframe_interpolation: float, other_conditions: bool, num_frames: int,
        height: int, width: int,
    ) -> tuple[ControlPlan | None, list]:
        """Check ``keyframes`` and ``camera`` (before any model runs); returns the plan and the keyframes as
        condition inputs (empty without keyframes)."""
        try:  # checked with or without keyframes, under the call's name for it
            processor = MultiKeyframeProcessor(keyframe_interpolation)
        except ValueError:
            raise ValueError(f"`keyframe_interpolation` must be a number in [0, 1), got {keyframe_interpolation!r}.") from None
        if keyframes is None:
            self._warn_unused_interpolation(processor.interpolation_strength, keyframe_interpolation)
        if keyframes is None and camera is None:
            return None, []
        conditions, kept = [], ()
        if keyframes is not None:
            if other_conditions:
                raise ValueError("Use `keyframes` or one of `conditions`, `conditioning_items`, `image`/`video`, not both.")
            kept = tuple(MultiKeyframeProcessor.check(keyframes, num_frames, self.vae_temporal_compression_ratio))
            conditions = MultiKeyframeProcessor.to_conditions(kept)
            if self.keyframe_adapter is not None:  # its sizes against the transformer, before T5 and the VAE run
                self.keyframe_adapter.check_fits(getattr(self.transformer, "_orig_mod", self.transformer))
        controller = None
        if camera is not None:
            controller = camera if isinstance(camera, CameraController) else None
            if controller is None:
                if not isinstance(camera, Camera):
                    raise ValueError(f"`camera` must be a Camera or a CameraController, got {type(camera).__name__}.")
                controller = CameraController(camera)
            controller.check(num_frames, height, width, self.vae_temporal_compression_ratio)
            if controller.space == "pixel" and self.camera_encoder is not None:
                raise ValueError(
                    "camera: CameraController(space='pixel') is a training-free path, and this pipeline has a motion "
                    "encoder, which takes the camera instead; set `pipe.camera_encoder = None` to use the pixel path."
                )
            if controller.space == "pixel" and controller.camera.moves:
                # the re-render draws the whole video from frame 0's world; only held latent frames survive it
                _warn_overridden([k.frame_index for k in kept if k.frame_index > 0 and not k.in_place], "keyframes=")
            # image=, video=, conditions= and conditioning_items are told in step 4, where their frames are loaded
            # warped noise as the motion encoder was trained; off for the training-free path
            controller = controller.settled(self.camera_encoder.config if self.camera_encoder is not None else None)
            if self.camera_encoder is None and not getattr(self, "_camera_notice_given", False):
                self._camera_notice_given = True  # once per pipeline, not at every call of a sweep
                logger.warning(
                    "camera: %s has no motion encoder; the camera motion is imposed training-free (a constraint on the "
                    "predicted clean latents in %s space, docs/control.md).", type(self.transformer).__name__,
                    controller.space,
                )
        plan = ControlPlan(keyframes=kept, processor=processor, camera=controller,
                           learned_camera=controller is not None and self.camera_encoder is not None)
        return plan, conditions

    def _warn_unused_interpolation(self, value: float, given) -> None:
        """One warning line when ``keyframe_interpolation`` is given without ``keyframes``, where it is unused:
        ``image=``/``video=``/``conditions=``/``conditioning_items`` are placed as diffusers places them, with no
        interpolation. The call's default (left out) and 0 (no interpolation, what happens) are kept quiet."""
        parameter = inspect.signature(type(self).__call__).parameters.get("keyframe_interpolation")
        default = parameter.default if parameter is not None else inspect.Parameter.empty
        if value != 0 and value != default:
            logger.warning(
                "`keyframe_interpolation` is %r but `keyframes` is not given: it is not used (image=, video=, "
                "conditions= and conditioning_items start from noise, as in diffusers). Pass the images as "
                "keyframes=[Keyframe(image, frame_index), ...] to start from their interpolation.", given,
            )

    def camera_prompt(self, prompt, control: ControlPlan | None, height: int = 64, width: int = 64):
        """The prompt(s) with the camera's phrase when the motion encoder was trained with it (its config's
        ``camera_phrase``): ``"a red ball bounces"`` -> ``"a red ball bounces, the camera pans left"``, with the
        pace at ``height`` x ``width`` when it was trained with that too (``camera_pace``: ``"... pans left
        slowly"``). Unchanged otherwise, and for ``prompt_embeds`` (``prompt`` None)."""
        if prompt is None or control is None or not control.learned_camera:
            return prompt
        config = self.camera_encoder.config
        if not config.get("camera_phrase", False):
            return prompt
        camera = control.camera.camera
        speed = camera.speed if config.get("camera_pace", False) else None
        said = [prompt_with_camera(p, camera.motion_type, speed, height, width) for p in
                ([prompt] if isinstance(prompt, str) else prompt)]
        return said[0] if isinstance(prompt, str) else said

    # ------------------------------------------------------------------ step 4
    def _anchor_latents(self, plan, control: ControlPlan) -> list[tuple[int, torch.Tensor]]:
        """(latent frame, latents (B, C, F_k, h, w)) of each keyframe, the VAE's mean (no generator draw): an image's
        one latent frame, a clip's all (as loaded: trimmed to 1 + temporal_scale j frames), its j-th standing for
        latent frame ``latent frame + j`` of the video."""
        if control.anchors:
            return control.anchors
        anchors = control.anchors
        ratio = self.vae_temporal_compression_ratio
        for (pixels, _, _), keyframe in zip(plan.conditions, control.keyframes, strict=True):
            latents = _to_batch(self.encode_media_mean(pixels), plan.batch_size)
            anchors.append((keyframe_latent_index(keyframe.frame_index, ratio), latents))
        return anchors

    def _interpolation_points(self, plan, control: ControlPlan) -> tuple[list, list]:
        """``(latent frame, latents (B, C, h, w))`` and ``(latent frame, strength)`` of every latent frame the
        keyframes cover, in frame order: a clip anchors the interpolation with each of its latent frames, so the
        free frames after it start from its last and those before it from its first."""
        points = sorted(((start + j, latents[:, :, j], keyframe.strength)
                         for (start, latents), keyframe in zip(self._anchor_latents(plan, control), control.keyframes,
                                                               strict=True)
                         for j in range(latents.shape[2])), key=lambda point: point[0])
        return [(index, latents) for index, latents, _ in points], [(index, s) for index, _, s in points]

    @torch.no_grad()
    def held_keyframes(self, plan) -> list:
        """``(latents (N, C, h, w), frame_index, strength)`` of the ``in_place`` keyframes (they are given as
        LTX-Video's tokens too): each image repeated over ``1 + temporal_scale`` frames, encoded (the VAE's mean),
        its last latent frame (a latent frame standing for still pixel frames; a causal encoder, as LTX-Video's,
        gives the image alone the same latent)."""
        control = getattr(plan, "control", None)
        if control is None or not any(k.in_place for k in control.keyframes):
            return []
        ratio = self.vae_temporal_compression_ratio
        held = []
        for (pixels, frame_index, strength), keyframe in zip(plan.conditions, control.keyframes, strict=True):
            if keyframe.in_place:
                still = pixels[:, :, :1].expand(-1, -1, 1 + ratio, -1, -1)
                held.append((_to_batch(self.encode_media_mean(still)[:, :, -1], plan.batch_size), frame_index, strength))
        return held

    def control_noise(self, plan):
        """``draw_noise`` for :meth:`prepare_latents`: the camera's warped noise (``CameraController(warp_noise=True)``),
        else None (independent noise)."""
        control = getattr(plan, "control", None)
        if control is None or control.camera is None or not control.camera.warp_noise:
            return None
        if not control.camera.camera.moves:  # static, or a motion at speed 0
            return None  # independent noise, drawn as without a camera
        frames = plan.padding.latent_size[0]
        field = control.motion_field(frames, plan.padding, self.vae_temporal_compression_ratio)

        def draw(shape, generator, device):
            if isinstance(generator, list):  # one generator per video, as diffusers' randn_tensor takes them
                if len(generator) != shape[0]:
                    raise ValueError(f"`generator` is a list of {len(generator)} generators, but {shape[0]} videos are made.")
                return torch.cat([control.camera.noise(field, (1, *shape[1:]), generator=g, device=device)
                                  for g in generator])
            return control.camera.noise(field, shape, generator=generator, device=device)

        return draw

    def prepare_control_state(self, plan, state):
        """Step 4's share: a start at sigma 1 mixed toward the keyframes' smoothstep interpolation between them, and with a camera the tokens' RoPE coordinates moved to world
        coordinates, the conditioning tokens' (of keyframes, ``image=``, ``video=``, ``conditioning_items``) by the
        latent frame each stands for (under the call's temporal positioning, causal or diffusers' shifted one).
        Latents given at sigma 1 (``latents=``) stand for the noise and are mixed as drawn noise is: a call repeated
        with its own noise gives the same video."""
        control = getattr(plan, "control", None)
        if control is None:
            return state
        frames, height, width = plan.padding.latent_size
        if control.camera is not None:
            self._warn_overridden_conditions(plan, control)
            field = control.motion_field(frames, plan.padding, self.vae_temporal_compression_ratio)
            positions = control.camera.world_positions(state.positions, field, height, width, state.num_prefix_tokens,
                                                       causal=not plan.diffusers_conventions)
            state = replace(state, positions=positions)
        if not control.keyframes or control.processor.interpolation_strength == 0:
            return state
        # Given latents are used as they come, noised to the first sigma (diffusers' LTXConditionPipeline): a refine
        # (denoise_strength < 1) or generate_multiscale's second pass starts below sigma 1 from latents that already
        # hold the keyframes (since 2026-12-07; they were pulled toward the interpolation too, up to 1.16 off).
        if float(plan.sigmas[0]) < 1.0:
            return state
        points, strength_points = self._interpolation_points(plan, control)
        interpolated, covered = MultiKeyframeProcessor.interpolate(points, frames)
        strengths = MultiKeyframeProcessor.strength_profile(strength_points, frames)
        prefix = state.num_prefix_tokens
        grid = unpack(state.latents[:, prefix:], frames, height, width)
        held = state.conditioning_mask[:, prefix:].unflatten(1, (frames, height * width))[..., 0]
        mixed = control.processor.mix(grid, interpolated, covered, held, strengths)
        return replace(state, latents=torch.cat([state.latents[:, :prefix], pack(mixed)], dim=1))

    @staticmethod
    def _warn_overridden_conditions(plan, control: ControlPlan) -> None:
        """The pixel-space camera's warning for conditions placed as tokens after frame 0 that ``keyframes=`` did not
        give (those are told in step 1): ``image=``, ``video=``, ``conditions=``, ``conditioning_items``."""
        if control.keyframes or control.camera.space != "pixel" or not control.camera.camera.moves:
            return
        _warn_overridden([frame for _, frame, _ in plan.conditions if frame > 0],
                         "image=/video=, conditions= or conditioning_items")

    # ------------------------------------------------------------------ step 5
    @contextlib.contextmanager
    def control_hooks(self, plan, state):
        """Attach the adapter and motion encoder for this call; yields the ``x0_hook`` for the denoising loop
        (None without a training-free camera)."""
        control = getattr(plan, "control", None)
        handles = []
        if control is None:
            yield None
            return
        frames, height, width = plan.padding.latent_size
        field = None
        if control.camera is not None:
            field = control.motion_field(frames, plan.padding, self.vae_temporal_compression_ratio)
        try:
            if control.keyframes and self.keyframe_adapter is not None:
                handles += self._attach_adapter(plan, state, control)
            if control.learned_camera:
                handles += self._attach_camera_encoder(state, field, frames, height, width)
            yield self._camera_x0_hook(control, field, state, plan) if field is not None and not control.learned_camera else None
        finally:
            for handle in handles:
                handle.remove()
            if self.keyframe_adapter is not None:
                self.keyframe_adapter.clear_context()

    def _attach_adapter(self, plan, state, control: ControlPlan) -> list:
        prefix = state.num_prefix_tokens
        # the adapter was trained on single frames: each keyframe's first latent frame, at the keyframe's time
        anchors = [(index, latents[:, :, 0]) for index, latents in self._anchor_latents(plan, control)]
        num_frames = max(plan.padding.padded_num_frames - 1, 1)
        latents = torch.cat([a.flatten(2).transpose(1, 2) for _, a in anchors], dim=1)  # (B, K*h*w, C)
        cells = anchors[0][1].shape[-2] * anchors[0][1].shape[-1]
        times = torch.cat([torch.full((cells,), k.frame_index / num_frames) for k in control.keyframes])
        frames, height, width = plan.padding.latent_size
        token_times = (latent_frame_times(frames, self.vae_temporal_compression_ratio) / num_frames).repeat_interleave(
            height * width
        )
        dtype = self.transformer.dtype  # pipe.to(dtype) does not see the control modules (not components)
        adapter = torch.nn.Module.to(self.keyframe_adapter, plan.device, dtype)  # without ModelMixin's fp32 notice
        cell_height, cell_width = anchors[0][1].shape[-2:]
        adapter.set_context(
            latents.to(plan.device, dtype), times.to(plan.device, dtype).expand(latents.shape[0], -1),
            token_times.to(plan.device, dtype).expand(latents.shape[0], -1), num_prefix_tokens=prefix,
            keyframe_cells=KeyframeAdapter.cell_positions(len(anchors), cell_height, cell_width)[None],
            token_cells=KeyframeAdapter.cell_positions(frames, height, width)[None],
        )
        return adapter.attach(self.transformer)

    def _attach_camera_encoder(self, state, field: MotionField, frames: int, height: int, width: int) -> list:
        dtype = self.transformer.dtype  # pipe.to(dtype) does not see the control modules (not components)
        encoder = torch.nn.Module.to(self.camera_encoder, state.latents.device, dtype)
        features = CameraMotionEncoder.token_features(field, frames, height, width).to(state.latents.device, dtype)
        grid = (frames, height, width)
        return [encoder.attach(self.transformer, lambda: (features, None, state.num_prefix_tokens, grid))]

    def _camera_x0_hook(self, control: ControlPlan, field: MotionField, state, plan):
        controller = control.camera
        frames, height, width = plan.padding.latent_size
        prefix = state.num_prefix_tokens
        num_steps = len(plan.timesteps)
        sampling = None
        if controller.space == "pixel":  # the render's sampling grid depends on the camera and the size only
            sampling = camera_grid(control.placed_camera(plan.padding), plan.padding.padded_num_frames,
                                   plan.padding.padded_height, plan.padding.padded_width, device=plan.device)
            if sampling is None:  # a camera that does not move, or one frame: nothing to impose (no VAE round trip)
                return None

        def hook(step: int, x0: torch.Tensor) -> torch.Tensor:
            weight = controller.weight(step, num_steps)
            if weight <= 0:
                return x0
            grid = unpack(x0[:, prefix:], frames, height, width).float()
            if controller.space == "pixel":
                pixels = render_camera(self._decode_clean(grid), controller, sampling)
                constrained = torch.lerp(grid, self.encode_media_mean(pixels.clamp(-1, 1)), weight)
            else:
                constrained = controller.constrain(grid, field, weight)
            return torch.cat([x0[:, :prefix], pack(constrained.to(x0.dtype))], dim=1)

        return hook

    @torch.no_grad()
    def _decode_clean(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised clean latents (B, C, F', h, w) -> pixels (B, 3, F, H, W) in [-1, 1], decoded as clean
        (timestep 0 for a timestep-conditioned VAE; nothing drawn from a generator)."""
        vae = self.vae
        raw = denormalize_latents(latents, vae.latents_mean, vae.latents_std, vae.config.scaling_factor).to(vae.dtype)
        timestep = None
        if vae.config.timestep_conditioning:
            timestep = torch.zeros(latents.shape[0], device=latents.device, dtype=raw.dtype)
        return self.vae_decode(raw, timestep).float()
