"""Step 2 of the pipelines: the schedule a call takes, and the checks on it that come before the text encoder.

LTX-Video's linear-quadratic schedule (and explicit ``timesteps``) are used as given, ``sigma = t / 1000``; the
``"shifted"`` schedule is diffusers' ``LTXPipeline``'s, from the scheduler's own settings (its timesteps are
``sigma * num_train_timesteps``, which the loop reads: ``denoising.timestep_unit``). A schedule that cannot be
taken (a NaN sigma, a strength that keeps no step, sound that would not start from noise, LTX-Video's units with a
scheduler of other ``num_train_timesteps``) is refused here.
"""

from __future__ import annotations

import logging
import math

import torch

from ltx_video.pipelines import denoising

__all__ = ["SCHEDULE_SETTINGS", "SIGMA_SPACINGS", "retrieve_schedule", "schedule_settings", "settle_schedule",
           "unused_settings_notice"]

logger = logging.getLogger("ltx_video")

SCHEDULE_SETTINGS = (
    "shift", "use_dynamic_shifting", "base_shift", "max_shift", "base_image_seq_len", "max_image_seq_len",
    "shift_terminal", "time_shift_type", "use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas",
)
SIGMA_SPACINGS = ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas")


def schedule_settings(scheduler) -> dict:
    """The settings of a diffusers flow-matching scheduler that shape its sigmas ({} for None)."""
    config = getattr(scheduler, "config", None) or {}
    return {k: config.get(k) for k in SCHEDULE_SETTINGS}


def unused_settings_notice(scheduler, built: dict) -> str | None:
    """What to say when the linear-quadratic schedule (which does not read them, as in LTX-Video) meets a scheduler
    whose settings differ from ``built`` (those of the scheduler the pipeline was built with) or ask for a sigma
    spacing: a swapped-in scheduler would otherwise be silently unused. None when there is nothing to say."""
    settings = schedule_settings(scheduler)
    changed = sorted(k for k, v in settings.items() if v != built.get(k))
    changed += [k for k in SIGMA_SPACINGS if settings.get(k) and k not in changed]
    if not changed:
        return None
    shown = ", ".join(f"{k}={settings.get(k)!r}" for k in changed)
    return (f"the scheduler's settings {shown} shape diffusers' shifted schedule; the linear-quadratic schedule "
            "(LTX-Video's, this call's) does not read them: pass timestep_schedule='shifted' to use them, or `timesteps`.")


def retrieve_schedule(scheduler, num_inference_steps: int, timesteps, timestep_schedule: str, num_tokens: int,
                      device) -> tuple[torch.Tensor, torch.Tensor]:
    """(timesteps, sigmas incl. the final 0): LTX-Video's, or diffusers' LTXPipeline's shifted ones."""
    if timestep_schedule == "shifted" and timesteps is None:
        config = scheduler.config
        mu = denoising.calculate_shift(
            num_tokens, config.get("base_image_seq_len", 256), config.get("max_image_seq_len", 4096),
            config.get("base_shift", 0.5), config.get("max_shift", 1.15),
        )
        scheduler.set_timesteps(sigmas=denoising.shifted_sigmas(num_inference_steps), mu=mu, device=device)
        return scheduler.timesteps, scheduler.sigmas
    # LTX-Video's timesteps are 1000 per sigma, as the model was trained; a scheduler of other units gives them no
    # meaning (diffusers' LTXConditionPipeline divides them by it: sigmas above 1), so it is refused (since
    # 2026-12-07: its setting was not read, the model fed 1000 per sigma whatever the scheduler said)
    units = (getattr(scheduler, "config", None) or {}).get("num_train_timesteps", 1000)
    if units != 1000:
        source = "explicit `timesteps` (0..1000)" if timesteps is not None else "the linear-quadratic schedule"
        raise ValueError(
            f"the scheduler's num_train_timesteps={units} is not 1000, the units of {source}: pass "
            "timestep_schedule='shifted' without `timesteps` (diffusers' LTXPipeline, which follows it), or use a "
            "scheduler with num_train_timesteps=1000."
        )
    if timesteps is None:
        timesteps = denoising.linear_quadratic_schedule(num_inference_steps) * 1000
    # Explicit and linear-quadratic timesteps are used as given (LTX-Video): sigma = t / 1000, no scheduler
    # shift or terminal stretch, which would make the steps inconsistent with the timesteps.
    timesteps = torch.tensor([float(t) for t in timesteps], dtype=torch.float32, device=device)
    return timesteps, torch.cat([timesteps / 1000.0, timesteps.new_zeros(1)])


def settle_schedule(timesteps: torch.Tensor, sigmas: torch.Tensor, *, scheduler, num_inference_steps,
                    denoise_strength: float, generates_audio: bool, has_latents: bool):
    """The schedule a call runs: checked (a NaN sigma, a strength that keeps no step, sound that would not start
    from noise: each refused naming the argument), cut to the last ``int(N * denoise_strength)`` steps as diffusers'
    ``LTXConditionPipeline`` does, and a start below sigma 1 without ``latents`` said."""
    if not bool(torch.isfinite(sigmas).all()):
        raise ValueError(
            f"`num_inference_steps={num_inference_steps}` with timestep_schedule='shifted' gives the scheduler's "
            f"sigmas {sigmas.tolist()} (shift_terminal={scheduler.config.get('shift_terminal')}, which needs >= 2 "
            "steps): use more steps, or timestep_schedule='linear_quadratic'."
        )
    if denoise_strength < 1.0:
        steps = len(timesteps)
        kept = min(int(steps * denoise_strength), steps)
        if kept < 1:
            lowest = math.ceil(1000 / steps) / 1000  # rounded up: a strength that keeps one step
            raise ValueError(
                f"`denoise_strength={denoise_strength}` keeps int({steps} x {denoise_strength}) = 0 of the {steps} "
                f"steps (`num_inference_steps` or `timesteps`): give a strength >= {lowest:g}, or more steps."
            )
        timesteps, sigmas = timesteps[steps - kept:], sigmas[steps - kept:]
    if generates_audio and float(sigmas[0]) < 1.0:  # LTXAudioVideoPipeline: the audio starts from noise
        raise ValueError(
            f"generating audio needs a schedule that starts from pure noise (sigma 1), but this one starts at "
            f"{float(sigmas[0]):.3f} (`denoise_strength` or `timesteps`): pass `generate_audio=False`, or give "
            "the audio with `audio=`."
        )
    if not has_latents and float(sigmas[0]) < 1.0:
        logger.warning(
            "The schedule starts at sigma %.3f < 1 without `latents` or a condition at frame 0: denoising starts "
            "from pure noise at a lower noise level. Pass `latents` (e.g. a first pass) to refine them.",
            float(sigmas[0])
        )
    return timesteps, sigmas
