"""The shared denoising loop, as small pure functions on token sequences.

Every mode (text-to-video, keyframes, audio, long video) is the same mechanism: a sequence of
tokens, each with its own timestep and its own position (time in seconds, height and width in
pixels). Tokens whose timestep is below the current one (clean keyframes, carried-over chunk
latents) are held; the rest follow the flow-matching Euler step.

Conventions: sigmas run from 1 (noise) to 0 (data); timesteps are ``1000 * sigma`` (LTX-Video's; diffusers'
shifted schedule gives ``num_train_timesteps * sigma``, see :func:`timestep_unit`); the transformer predicts the
velocity ``v = noise - x0`` (rectified flow, as LTX-Video).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

# as_list, check_guidance_timesteps and per_interval_lists are read as denoising's by the pipelines' input checks
from ltx_video.pipelines.guidance_intervals import as_list, check_guidance_timesteps, checked_blocks, per_interval_lists
from ltx_video.pipelines.guidance_intervals import is_number as _is_number

__all__ = [
    "AudioLatentState",
    "GuidanceConfig",
    "LatentState",
    "apply_audio_guidance",
    "apply_guidance",
    "calculate_shift",
    "cfg_star_project",
    "check_guidance_timesteps",
    "denoise",
    "euler_step",
    "guidance_schedule",
    "linear_quadratic_schedule",
    "next_sigmas",
    "noise_hard_conditions",
    "rescale_to_reference_std",
    "shifted_sigmas",
    "stochastic_step",
    "timestep_unit",
    "token_timesteps",
]


# ---------------------------------------------------------------------------- schedules
def linear_quadratic_schedule(
    num_steps: int, threshold_noise: float = 0.025, linear_steps: int | None = None
) -> torch.Tensor:
    """LTX-Video's linear-quadratic sigma schedule (ltx_video/schedulers/rf.py), without the final 0.

    The first ``linear_steps`` steps lower the noise linearly to ``1 - threshold_noise``; the rest
    follow a quadratic that reaches 0 at step ``num_steps`` with a continuous slope.
    """
    if num_steps < 1:
        raise ValueError(f"`num_inference_steps` must be >= 1, got {num_steps}.")
    if num_steps == 1:
        return torch.tensor([1.0])
    linear_steps = num_steps // 2 if linear_steps is None else linear_steps
    quadratic_steps = num_steps - linear_steps
    step_diff = linear_steps - threshold_noise * num_steps
    quad_coef = step_diff / (linear_steps * quadratic_steps**2)
    lin_coef = threshold_noise / linear_steps - 2 * step_diff / quadratic_steps**2
    const = quad_coef * linear_steps**2
    levels = [i * threshold_noise / linear_steps for i in range(linear_steps)]
    levels += [quad_coef * i**2 + lin_coef * i + const for i in range(linear_steps, num_steps)]
    return torch.tensor([1.0 - x for x in levels])


def calculate_shift(
    seq_len: int,
    base_seq_len: int = 256,
    max_seq_len: int = 4096,
    base_shift: float = 0.5,
    max_shift: float = 1.15,
) -> float:
    """Resolution-dependent shift ``mu``, linear in the token count (SD3 / Flux, as diffusers' LTXPipeline)."""
    slope = (max_shift - base_shift) / (max_seq_len - base_seq_len)
    return seq_len * slope + base_shift - slope * base_seq_len


def shifted_sigmas(num_steps: int) -> np.ndarray:
    """Linear sigmas ``1 .. 1/n`` that the scheduler then shifts by ``mu`` (diffusers' LTXPipeline)."""
    if num_steps < 1:
        raise ValueError(f"`num_inference_steps` must be >= 1, got {num_steps}.")
    return np.linspace(1.0, 1.0 / num_steps, num_steps)


# ---------------------------------------------------------------------------- per-token maths
def timestep_unit(timesteps: torch.Tensor, sigmas: torch.Tensor) -> float:
    """Timesteps per unit sigma of a schedule: 1000 for LTX-Video's, the scheduler's ``num_train_timesteps`` for
    diffusers' (``scheduler.timesteps = sigmas * num_train_timesteps``), read off its first step (an integer)."""
    if len(timesteps) == 0 or float(sigmas[0]) <= 0.0:
        return 1000.0
    return float(round(float(timesteps[0]) / float(sigmas[0])))


def token_timesteps(
    t: torch.Tensor, batch_size: int, conditioning_mask: torch.Tensor | None, unit: float = 1000.0
) -> torch.Tensor:
    """Per-token timesteps: ``t`` for free tokens, at most ``unit (1 - strength)`` for conditioning ones
    (``unit``: :func:`timestep_unit`).

    Returns (B, 1) when every token shares ``t``, else (B, N).
    """
    timestep = t.expand(batch_size).unsqueeze(-1).float()
    if conditioning_mask is None:
        return timestep
    return torch.min(timestep, (1.0 - conditioning_mask) * unit)


def next_sigmas(token_sigmas: torch.Tensor, schedule: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """For each token, the largest schedule level strictly below its sigma (0 at the end)."""
    schedule = schedule.to(token_sigmas.device)
    levels = schedule.view(-1, *([1] * token_sigmas.ndim))
    lower = (levels < token_sigmas[None] - eps) * levels
    return lower.max(dim=0).values


def euler_step(
    latents: torch.Tensor, velocity: torch.Tensor, sigma: torch.Tensor, sigma_next: torch.Tensor
) -> torch.Tensor:
    """Flow-matching Euler step ``x <- x + (sigma_next - sigma) v`` in fp32 (flux: img + (t_prev - t_curr) * pred).

    ``sigma`` and ``sigma_next`` broadcast against (B, N): (B, 1) or (B, N).
    """
    dt = (sigma - sigma_next).unsqueeze(-1)
    return latents.float() - dt * velocity.float()


def stochastic_step(
    latents: torch.Tensor, velocity: torch.Tensor, sigma: torch.Tensor, sigma_next: torch.Tensor, noise: torch.Tensor
) -> torch.Tensor:
    """Re-noise the predicted ``x0 = x - sigma v`` to ``sigma_next`` with fresh noise (LTX-Video stochastic_sampling)."""
    x0 = latents.float() - sigma.unsqueeze(-1) * velocity.float()
    return (1.0 - sigma_next.unsqueeze(-1)) * x0 + sigma_next.unsqueeze(-1) * noise


def noise_hard_conditions(
    latents: torch.Tensor,
    clean_latents: torch.Tensor,
    conditioning_mask: torch.Tensor,
    sigma: torch.Tensor,
    noise_scale: float,
    noise: torch.Tensor,
    eps: float = 1e-6,
) -> torch.Tensor:
    """Re-noise fully-conditioned tokens by ``noise_scale * sigma**2`` (LTX-Video's image_cond_noise_scale)."""
    hard = (conditioning_mask > 1.0 - eps).unsqueeze(-1)
    return torch.where(hard, clean_latents + noise_scale * noise * sigma**2, latents)


def rescale_to_reference_std(guided: torch.Tensor, reference: torch.Tensor, factor: float) -> torch.Tensor:
    """Blend ``guided`` towards its copy rescaled to ``reference``'s std per sample (Lin et al. 2023, sec. 3.4)."""
    if factor == 0:
        return guided
    dims = list(range(1, guided.ndim))
    rescaled = guided * (reference.std(dim=dims, keepdim=True) / guided.std(dim=dims, keepdim=True))
    return factor * rescaled + (1 - factor) * guided


# ---------------------------------------------------------------------------- guidance
def runs_unconditional_pass(guidance_scale: float, audio_guidance_scale: float | None) -> bool:
    """diffusers' LTX2Pipeline ``do_classifier_free_guidance``: ``guidance_scale > 1 or audio_guidance_scale > 1``
    (``audio_guidance_scale`` None: no generated audio, or one that follows ``guidance_scale``)."""
    return guidance_scale > 1.0 or (audio_guidance_scale is not None and audio_guidance_scale > 1.0)


@dataclass(frozen=True)
class GuidanceConfig:
    """Classifier-free, spatiotemporal and modality guidance for one step (LTX-Video 0.9.8 semantics; the
    modality terms as LTX-2's ``MultiModalGuider``).

    guidance_scale:   the video's CFG weight; > 1 adds an unconditional pass (<= 1: the video takes the conditional
                      prediction as it is, whether or not the step runs that pass for the audio).
    audio_guidance_scale: the generated audio's CFG weight, None: ``guidance_scale``; > 1 adds the unconditional
                      pass too (diffusers' LTX2Pipeline: CFG runs when either scale is > 1).
    stg_scale:        STG weight; > 0 adds a pass with the ``skip_block_list`` blocks perturbed.
    modality_scale:   weight of the video's prediction with the audio<->video exchange against without it
                      (``v += (m - 1) (v_c - v_i)``); 1 is off, != 1 (either modality scale) adds an
                      isolated pass in which neither stream sees the other.
    audio_modality_scale: the same for the audio stream (how hard the video steers the audio).
    guidance_rescale: diffusers' std rescale of the CFG result towards the conditional prediction.
    rescaling_scale:  LTX-Video's std rescale after STG: the result is multiplied by
                      ``r * std(cond) / std(guided) + (1 - r)``; 1.0 means no rescale (as LTX-Video).
    cfg_star_rescale: project the unconditional prediction onto the conditional one (CFG-Zero*).
    """

    guidance_scale: float = 1.0
    stg_scale: float = 0.0
    guidance_rescale: float = 0.0
    rescaling_scale: float = 1.0
    skip_block_list: tuple[int, ...] = ()
    cfg_star_rescale: bool = False
    modality_scale: float = 1.0
    audio_modality_scale: float = 1.0
    audio_guidance_scale: float | None = None

    def __post_init__(self):
        for name in ("guidance_scale", "stg_scale", "modality_scale", "audio_modality_scale", "audio_guidance_scale"):
            value = getattr(self, name)
            if name == "audio_guidance_scale" and value is None:
                continue
            if not _is_number(value) or not 0 <= value < math.inf:  # nan and inf made every frame NaN
                raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}.")
        for name in ("guidance_rescale", "rescaling_scale"):
            value = getattr(self, name)
            if not _is_number(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` must be a number in [0, 1], got {value!r}.")

    @property
    def do_cfg(self) -> bool:
        """The step runs an unconditional pass: for the video's CFG, or the audio's (diffusers' LTX2Pipeline)."""
        return runs_unconditional_pass(self.guidance_scale, self.audio_guidance_scale)

    @property
    def do_stg(self) -> bool:
        return self.stg_scale > 0.0

    @property
    def do_modality(self) -> bool:
        return self.modality_scale != 1.0 or self.audio_modality_scale != 1.0

    @property
    def num_passes(self) -> int:
        """How many copies of the batch the model sees: [uncond]? + cond + [isolated]? + [perturbed]?"""
        return 1 + int(self.do_cfg) + int(self.do_modality) + int(self.do_stg)


def cfg_star_project(uncond: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
    """Scale ``uncond`` by its per-sample projection coefficient onto ``cond`` (CFG-Zero*, Fan et al. 2025)."""
    flat_u, flat_c = uncond.flatten(1), cond.flatten(1)
    alpha = (flat_c * flat_u).sum(1, keepdim=True) / (flat_u.pow(2).sum(1, keepdim=True) + 1e-8)
    return uncond * alpha.view(-1, *([1] * (uncond.ndim - 1)))


def apply_guidance(prediction: torch.Tensor, guidance: GuidanceConfig) -> torch.Tensor:
    """Combine the stacked passes ``[uncond?, cond, isolated?, perturbed?]`` (each B long) into one prediction.

    ``v = v_u + w (v_c - v_u) + (m - 1) (v_c - v_i) + s (v_c - v_p)`` (CFG, Ho & Salimans 2022; modality
    guidance, LTX-2; STG, Hyung et al. 2024), with the optional rescales in LTX-Video 0.9.8's order (the
    STG rescale, when on, covers the modality term too).
    """
    chunks = list(prediction.chunk(guidance.num_passes))
    uncond = chunks.pop(0) if guidance.do_cfg else None
    cond = chunks.pop(0)
    isolated = chunks.pop(0) if guidance.do_modality else None
    perturbed = chunks.pop(0) if guidance.do_stg else None
    guided = cond
    if uncond is not None and guidance.guidance_scale > 1.0:  # else the pass is the audio's: the video takes cond
        if guidance.cfg_star_rescale:
            uncond = cfg_star_project(uncond, cond)
        guided = uncond + guidance.guidance_scale * (cond - uncond)
        guided = rescale_to_reference_std(guided, cond, guidance.guidance_rescale)
    if isolated is not None and guidance.modality_scale != 1.0:
        guided = guided + (guidance.modality_scale - 1.0) * (cond - isolated)
    if perturbed is not None:
        guided = guided + guidance.stg_scale * (cond - perturbed)
        if guidance.rescaling_scale != 1.0:
            guided = rescale_to_reference_std(guided, cond, guidance.rescaling_scale)
    return guided


def apply_audio_guidance(
    prediction: torch.Tensor, guidance: GuidanceConfig, audio_guidance_scale: float | None = None
) -> torch.Tensor:
    """CFG and modality guidance on the audio stream from the stacked passes ``[uncond?, cond, isolated?,
    perturbed?]``.

    The STG-perturbed pass only perturbs video blocks, so its audio chunk is dropped (STG guides the
    video). ``audio_guidance_scale`` None -> ``guidance.audio_guidance_scale``, then the step's ``guidance_scale``;
    without an unconditional pass (both <= 1) there is no CFG term. The isolated pass adds ``(m_a - 1) (a_c - a_i)`` with
    ``m_a = guidance.audio_modality_scale``.
    """
    chunks = list(prediction.chunk(guidance.num_passes))
    uncond = chunks.pop(0) if guidance.do_cfg else None
    cond = chunks.pop(0)
    isolated = chunks.pop(0) if guidance.do_modality else None
    guided = cond
    if uncond is not None:
        scale = next(s for s in (audio_guidance_scale, guidance.audio_guidance_scale, guidance.guidance_scale)
                     if s is not None)
        if guidance.cfg_star_rescale:
            uncond = cfg_star_project(uncond, cond)
        guided = uncond + scale * (cond - uncond)
        guided = rescale_to_reference_std(guided, cond, guidance.guidance_rescale)
    if isolated is not None and guidance.audio_modality_scale != 1.0:
        guided = guided + (guidance.audio_modality_scale - 1.0) * (cond - isolated)
    return guided


def guidance_schedule(
    timesteps: torch.Tensor,
    *,
    guidance_scale,
    stg_scale,
    rescaling_scale,
    skip_block_list,
    guidance_rescale: float = 0.0,
    cfg_star_rescale: bool = False,
    guidance_timesteps: Sequence[float] | None = None,
    modality_scale: float = 1.0,
    audio_modality_scale: float = 1.0,
    audio_guidance_scale: float | None = None,
) -> list[GuidanceConfig]:
    """One ``GuidanceConfig`` per step from scalars or LTX-Video's per-interval lists (the modality scales and
    ``audio_guidance_scale``, given only for generated audio, are scalars, the same on every step).

    A list value (or a list of lists for ``skip_block_list``) is indexed, at each step with
    timestep ``t``, by the first ``j`` with ``guidance_timesteps[j] <= t`` (LTX-Video 0.9.8);
    ``guidance_timesteps`` is strictly decreasing, in the timesteps' units (0..1000, or the scheduler's
    ``num_train_timesteps`` on diffusers' shifted schedule: :func:`check_guidance_timesteps`).
    """
    guidance_scale, stg_scale, rescaling_scale, guidance_timesteps = (
        as_list(v) for v in (guidance_scale, stg_scale, rescaling_scale, guidance_timesteps)
    )
    skip_block_list = checked_blocks(as_list(skip_block_list))

    def numbers_only(entries) -> bool:  # finite: an inf or NaN scale made every frame NaN
        return bool(entries) and all(_is_number(v) and math.isfinite(v) for v in entries)

    for name, value in (("guidance_scale", guidance_scale), ("stg_scale", stg_scale),
                        ("rescaling_scale", rescaling_scale)):
        if not numbers_only(value if isinstance(value, (list, tuple)) else [value]):
            raise ValueError(f"`{name}` must be a finite number or a non-empty per-interval list of them, got {value!r}.")
    check_guidance_timesteps(guidance_timesteps)
    lists = per_interval_lists(guidance_scale, stg_scale, rescaling_scale, skip_block_list)
    values = {"guidance_scale": guidance_scale, "stg_scale": stg_scale,
              "rescaling_scale": rescaling_scale, "skip_block_list": skip_block_list}
    if any(lists.values()) and guidance_timesteps is None:
        name = next(k for k, v in lists.items() if v)
        raise ValueError(f"`{name}` is a per-interval list, so `guidance_timesteps` is required.")
    for name, is_list in lists.items():
        if is_list and len(values[name]) != len(guidance_timesteps):
            raise ValueError(
                f"`{name}` has {len(values[name])} entries but `guidance_timesteps` has {len(guidance_timesteps)}."
            )
    schedule = []
    for t in timesteps.tolist():
        j = 0
        if guidance_timesteps is not None:
            # LTX-Video compares in float32 on 0..1; equal values must match here too, whatever the rounding.
            j = next((k for k, g in enumerate(guidance_timesteps) if g <= t + 1e-3), len(guidance_timesteps) - 1)
        pick = {k: (values[k][j] if lists[k] else values[k]) for k in values}
        schedule.append(
            GuidanceConfig(
                guidance_scale=float(pick["guidance_scale"]),
                stg_scale=float(pick["stg_scale"]),
                rescaling_scale=float(pick["rescaling_scale"]),
                skip_block_list=tuple(int(b) for b in (pick["skip_block_list"] or ())),
                guidance_rescale=guidance_rescale,
                cfg_star_rescale=cfg_star_rescale,
                modality_scale=float(modality_scale),
                audio_modality_scale=float(audio_modality_scale),
                audio_guidance_scale=None if audio_guidance_scale is None else float(audio_guidance_scale),
            )
        )
    return schedule


# ---------------------------------------------------------------------------- state and loop
@dataclass(frozen=True)
class LatentState:
    """Tokens being denoised and what is known about each.

    latents:           (B, N, C) packed latent tokens; conditioning tokens first, then the video grid.
    positions:         (B, 3, N) float: time in seconds, y and x in pixels (RoPE coordinates).
    conditioning_mask: (B, N) strength of each token's conditioning in [0, 1], or None (no conditions).
    clean_latents:     (B, N, C) the latents right after conditioning (for re-noising hard conditions).
    num_prefix_tokens: how many leading tokens are appended conditioning tokens, stripped before decoding.
    """

    latents: torch.Tensor
    positions: torch.Tensor
    conditioning_mask: torch.Tensor | None = None
    clean_latents: torch.Tensor | None = None
    num_prefix_tokens: int = 0


@dataclass(frozen=True)
class AudioLatentState:
    """Audio tokens denoised alongside the video, on the same sigma schedule.

    latents:   (B, Na, Ca) normalised audio latent tokens.
    positions: (B, Na) token start times in seconds (0.02 j at 16 kHz / 320).
    held:      True for given (clean) audio: its timestep is 0 at every step and it is never stepped.
    conditioning_mask: (B, Na) strength of each token's conditioning, or None: as the video's, a token of
               strength s starts at timestep ``1000 (1 - s)`` and is stepped only below it (a long video's
               carried-over audio).
    """

    latents: torch.Tensor
    positions: torch.Tensor
    held: bool = False
    conditioning_mask: torch.Tensor | None = None


# model(latents (P*B, N, C), timesteps (P*B, 1|N), positions (P*B, 3, N), step_guidance) -> velocity (P*B, N, C)
ModelFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, GuidanceConfig], torch.Tensor]
# hook(step, t, latents) -> latents, called after every step (diffusers' callback_on_step_end lives here).
StepHook = Callable[[int, torch.Tensor, torch.Tensor], torch.Tensor]
# With an audio stream the model also takes (audio latents (P*B, Na, Ca), audio timesteps (P*B, 1), audio
# positions (P*B, Na)) and returns (velocity, audio velocity); the hook takes and returns (latents, audio latents).
AudioVideoStepHook = Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def _velocity_for_x0(latents, velocity, sigma, change) -> torch.Tensor:
    """The velocity whose clean prediction ``x - sigma v`` is ``change(x - sigma v)``: ``v + (x0 - x0') / sigma``
    (unchanged where sigma = 0, and bit-for-bit where ``change`` changes nothing)."""
    s = sigma.unsqueeze(-1).float()
    x0 = latents.float() - s * velocity.float()
    delta = x0 - change(x0)
    return (velocity.float() + torch.where(s > 0, delta / s.clamp_min(1e-12), torch.zeros_like(delta))).to(velocity.dtype)


def _stacked(tensor: torch.Tensor, passes: int) -> torch.Tensor:
    """``passes`` copies of ``tensor`` along the batch; the tensor itself, in its own memory layout, for one pass."""
    return tensor if passes == 1 else torch.cat([tensor] * passes)


def _grid_layout(tokens: torch.Tensor) -> torch.Tensor:
    """(B, N, C) tokens in the memory layout that packing a (B, C, F, H, W) grid gives: strides (N C, 1, N).

    diffusers feeds its packed latents in this layout whenever nothing is concatenated to them (no CFG, no
    appended conditioning tokens), and bf16 CPU matmuls round by memory layout (since 2026-12-07: bit-equal to
    diffusers in bf16 with ``guidance_scale <= 1`` too; fp32 and element-wise maths do not depend on it).
    """
    return tokens.transpose(1, 2).contiguous().transpose(1, 2)


def denoise(
    model: ModelFn,
    state: LatentState,
    timesteps: torch.Tensor,
    sigmas: torch.Tensor,
    guidance: Sequence[GuidanceConfig],
    *,
    image_cond_noise_scale: float = 0.0,
    stochastic: bool = False,
    noise_fn: Callable[[tuple[int, ...]], torch.Tensor] | None = None,
    step_hook: StepHook | AudioVideoStepHook | None = None,
    progress: Callable[[], None] | None = None,
    audio: AudioLatentState | None = None,
    audio_guidance_scale: float | None = None,
    interrupted: Callable[[], bool] | None = None,
    x0_hook: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
    step_start: Callable[[int, torch.Tensor], None] | None = None,
    unit: float | None = None,
    guidance_in_float32: bool = False,
) -> LatentState | tuple[LatentState, AudioLatentState]:
    """Run the sampler over ``timesteps`` (one ``GuidanceConfig`` per step); returns the final state.

    ``sigmas`` is the full schedule including the final 0 (each token steps to the next level below
    its own sigma, ``timestep / unit``). Tokens whose timestep is held below ``t`` by their conditioning stay
    unchanged. ``unit``: timesteps per unit sigma (None: :func:`timestep_unit` of the schedule; since 2026-12-07,
    before which 1000 was assumed, and diffusers' shifted schedule of a scheduler with another
    ``num_train_timesteps`` took steps of the wrong size). ``guidance_in_float32``: the passes are combined in float32
    (diffusers' LTXPipeline and LTXImageToVideoPipeline; LTXConditionPipeline combines them in the transformer's dtype).

    With ``audio``, its tokens go through the same passes at the uniform timestep ``t`` (or 0 and unchanged
    when ``audio.held``), take CFG with ``audio_guidance_scale`` (:func:`apply_audio_guidance`) and the same
    Euler (or stochastic) step; returns ``(state, audio_state)``. Without it the video-only loop is unchanged.
    ``interrupted()`` true before a step stops the loop there (diffusers' ``pipe._interrupt``).
    ``x0_hook(step, x0)`` may change the guided prediction of the clean video latents ``x0 = x - sigma v``
    (B, N, C) before the step (the camera constraint); the velocity is recomputed from it where sigma > 0.
    ``step_start(step, t)`` runs before each step's model call (diffusers' ``pipe.current_timestep`` is set there,
    as caches such as Pyramid Attention Broadcast read it during the call).
    """
    audio_latents = audio.latents if audio is not None else None
    unit = timestep_unit(timesteps, sigmas) if unit is None else float(unit)
    if state.num_prefix_tokens == 0:  # with appended tokens diffusers concatenates: contiguous, as ours
        state = replace(state, latents=_grid_layout(state.latents), clean_latents=(
            None if state.clean_latents is None else _grid_layout(state.clean_latents)))
    latents = state.latents
    mask = state.conditioning_mask
    batch = latents.shape[0]
    tiled: dict[tuple[str, int], torch.Tensor] = {}  # positions are constant: tiled once per pass count

    def constant(name: str, tensor: torch.Tensor, passes: int) -> torch.Tensor:
        if (name, passes) not in tiled:
            tiled[name, passes] = _stacked(tensor, passes)
        return tiled[name, passes]

    for i, t in enumerate(timesteps):
        if interrupted is not None and interrupted():
            break
        if step_start is not None:
            step_start(i, t)
        step_guidance = guidance[i]
        if image_cond_noise_scale > 0 and mask is not None:
            noise = noise_fn(tuple(latents.shape))
            latents = noise_hard_conditions(
                latents, state.clean_latents, mask, t / unit, image_cond_noise_scale, noise
            )
        passes = step_guidance.num_passes
        timestep = token_timesteps(t, batch, mask, unit)
        inputs = (
            _stacked(latents, passes),
            _stacked(timestep, passes),
            constant("video", state.positions, passes),
            step_guidance,
        )
        if audio is None:
            velocity = model(*inputs)
        else:
            if audio.held:
                audio_timestep = t.expand(batch).unsqueeze(-1).float() * 0.0
            else:
                audio_timestep = token_timesteps(t, batch, audio.conditioning_mask, unit)
            velocity, audio_velocity = model(
                *inputs,
                _stacked(audio_latents, passes),
                _stacked(audio_timestep, passes),
                constant("audio", audio.positions, passes),
            )
        velocity = apply_guidance(velocity.float() if guidance_in_float32 else velocity, step_guidance)
        sigma = timestep / unit
        if x0_hook is not None:
            velocity = _velocity_for_x0(latents, velocity, sigma, lambda x0, i=i: x0_hook(i, x0))
        sigma_next = next_sigmas(sigma, sigmas)
        if stochastic:
            stepped = stochastic_step(latents, velocity, sigma, sigma_next, noise_fn(tuple(latents.shape)))
        else:
            stepped = euler_step(latents, velocity, sigma, sigma_next)
        if mask is None:
            latents = stepped
        else:
            free = (t / unit - 1e-6 < (1.0 - mask)).unsqueeze(-1)
            latents = torch.where(free, stepped, latents)
        if audio is not None and not audio.held:
            audio_velocity = apply_audio_guidance(audio_velocity, step_guidance, audio_guidance_scale)
            audio_sigma = audio_timestep / unit
            audio_sigma_next = next_sigmas(audio_sigma, sigmas)
            if stochastic:
                audio_noise = noise_fn(tuple(audio_latents.shape))
                audio_stepped = stochastic_step(audio_latents, audio_velocity, audio_sigma, audio_sigma_next, audio_noise)
            else:
                audio_stepped = euler_step(audio_latents, audio_velocity, audio_sigma, audio_sigma_next)
            if audio.conditioning_mask is None:
                audio_latents = audio_stepped
            else:
                free = (t / unit - 1e-6 < (1.0 - audio.conditioning_mask)).unsqueeze(-1)
                audio_latents = torch.where(free, audio_stepped, audio_latents)
        if step_hook is not None:
            if audio is None:
                latents = step_hook(i, t, latents)
            else:
                latents, audio_latents = step_hook(i, t, latents, audio_latents)
        if progress is not None:
            progress()
    if audio is not None:
        return replace(state, latents=latents), replace(audio, latents=audio_latents)
    return replace(state, latents=latents)
