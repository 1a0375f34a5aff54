"""diffusers' run-time pipeline state, for ``callback_on_step_end``: what a callback reads and may change.

diffusers' pipelines expose ``guidance_scale``, ``guidance_rescale``, ``do_classifier_free_guidance``,
``num_timesteps``, ``current_timestep``, ``attention_kwargs`` and ``interrupt`` while they run; a callback may
set ``pipe._guidance_scale`` (the next steps use it) or ``pipe._interrupt = True`` (the loop stops, the
latents so far are decoded). :class:`CallbackStateMixin` gives both pipelines the same, with diffusers' names.
``do_classifier_free_guidance`` answers for the current step (per-interval lists, a callback's change of the scale).

Asked for in ``callback_on_step_end_tensor_inputs``, ``"prompt_embeds"`` and ``"negative_prompt_embeds"`` are given
as diffusers' LTX pipelines hold them in their loop (with classifier-free guidance ``prompt_embeds`` is the negative
and the positive concatenated, in that order). A callback that returns changed ones, or edits the ones it was
handed in place, changes the later steps' text; as in diffusers' loop, a returned ``"prompt_embeds"`` is taken even
when the callback did not list it. (diffusers' loop ignores an in-place edit of ``negative_prompt_embeds``, whose
values it has already concatenated; here it counts, as the same edit returned does.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ltx_video.pipelines.denoising import runs_unconditional_pass

__all__ = ["CallbackStateMixin"]


class CallbackStateMixin:
    """Run-time state of one ``__call__`` (set by :meth:`begin_call`), read as diffusers' properties."""

    _guidance_scale: Any = 1.0
    _guidance_rescale: float = 0.0
    _attention_kwargs: dict | None = None
    _num_timesteps: int | None = None
    _current_timestep: Any = None
    _interrupt: bool = False
    _callback_text: dict | None = None  # the running call's {"prompt_embeds", "negative_prompt_embeds"}
    _step_guidance: list | None = None  # the running call's per-step GuidanceConfig, once planned (show_guidance)
    _guidance_step: int = 0  # the step running, or whose callback runs: where do_classifier_free_guidance reads

    @property
    def guidance_scale(self):
        return self._guidance_scale

    @property
    def guidance_rescale(self) -> float:
        return self._guidance_rescale

    @property
    def do_classifier_free_guidance(self) -> bool:
        """Whether the current step runs the unconditional pass: diffusers' rule (LTXPipeline's ``guidance_scale`` > 1,
        LTX2Pipeline's "or the generated audio's ``audio_guidance_scale`` > 1") on that step's scales. A per-interval
        list is read at the step; a ``_guidance_scale`` a callback set counts at once (as diffusers' property reads
        it), for the video and for an audio whose scale follows it (``audio_guidance_scale=None``). (Since 2026-12-08;
        it read the whole list, True at the steps at 1 of ``[3, 1]``, and the audio's CFG once per call, False after a
        callback cut the video's CFG while the audio's unconditional pass still ran.) Before a call plans its steps,
        a list reads True when any of its scales is > 1."""
        scale, plan = self._guidance_scale, self._step_guidance
        if plan is None:  # no per-step plan shown (before a call plans it): the scale as given
            return any(s > 1.0 for s in scale) if isinstance(scale, (list, tuple)) else scale > 1.0
        step = plan[min(self._guidance_step, len(plan) - 1)]
        video = step.guidance_scale if isinstance(scale, (list, tuple)) else scale
        return runs_unconditional_pass(video, step.audio_guidance_scale)

    @property
    def num_timesteps(self) -> int | None:
        return self._num_timesteps

    @property
    def current_timestep(self):
        return self._current_timestep

    @property
    def attention_kwargs(self) -> dict | None:
        return self._attention_kwargs

    @property
    def interrupt(self) -> bool:
        return self._interrupt

    def begin_call(self, *, guidance_scale, guidance_rescale: float, attention_kwargs: dict | None) -> None:
        if isinstance(guidance_scale, torch.Tensor | np.ndarray | np.generic):  # per-interval values as an array
            guidance_scale = guidance_scale.tolist()
        self._guidance_scale, self._guidance_rescale = guidance_scale, guidance_rescale
        self._attention_kwargs = attention_kwargs
        self._num_timesteps, self._current_timestep, self._interrupt = None, None, False
        self._step_guidance, self._guidance_step = None, 0  # set once the call's plan is made (show_guidance)

    def show_guidance(self, guidance: list) -> None:
        """Once a call's per-step guidance is planned: the list (one ``GuidanceConfig`` per step, the one the loop
        reads and :meth:`follow_callback` updates) that ``do_classifier_free_guidance`` answers from."""
        self._step_guidance, self._guidance_step = guidance, 0

    def show_schedule(self, timesteps: torch.Tensor, sigmas: torch.Tensor, step: int | None = None) -> None:
        """The call's schedule on ``self.scheduler`` as diffusers' loops leave it for a callback: ``timesteps``,
        ``sigmas`` (ending in 0), ``num_inference_steps``, and ``step_index`` None before the first step and
        ``step + 1`` after step ``step`` (so ``pipe.scheduler.sigmas[pipe.scheduler.step_index]`` is the next sigma).
        The steps themselves are this pipeline's own Euler steps; the scheduler only shows them."""
        self._guidance_step = 0 if step is None else step
        scheduler = getattr(self, "scheduler", None)
        if scheduler is None:
            return
        if step is None:
            scheduler.timesteps, scheduler.sigmas = timesteps, sigmas.to("cpu")
            scheduler.num_inference_steps, scheduler._begin_index = len(timesteps), None
        scheduler._step_index = None if step is None else step + 1

    def follow_callback(self, guidance: list, step: int, scale_in_use, *, can_guide: bool) -> Any:
        """After step ``step``'s callback: a changed ``_guidance_scale`` becomes every later step's CFG scale
        (``guidance`` is the per-step list the loop reads). ``can_guide``: the negative prompt was encoded.
        Returns the scale now in use."""
        self._guidance_step = step + 1  # the next step runs (do_classifier_free_guidance reads it)
        scale = self._guidance_scale
        if scale == scale_in_use:
            return scale_in_use
        if isinstance(scale, (list, tuple)) or isinstance(scale, bool) or not scale >= 0:
            raise ValueError(f"a callback may set `_guidance_scale` to a number >= 0, got {scale!r}.")
        if scale > 1.0 and not can_guide:
            raise ValueError(
                f"a callback set `_guidance_scale` to {scale}, but the call started without classifier-free "
                "guidance, so no negative prompt was encoded: start with guidance_scale > 1."
            )
        for later in range(step + 1, len(guidance)):
            guidance[later] = dataclasses.replace(guidance[later], guidance_scale=float(scale))
        return scale

    def run_callback(self, callback: Callable, step: int, timestep, tensors: dict, names: Sequence[str]) -> dict:
        """``callback(self, step, timestep, kwargs)`` with ``tensors`` and, when ``names`` asks for them, the text
        embeddings. As in diffusers' loops, a ``"prompt_embeds"`` the callback returns is taken for the next steps
        whether or not it was asked for, and the one it was shown is what the next steps use, so editing it in
        place works too. Returns the callback's other outputs."""
        text = self._callback_text
        asked = text is not None and ("prompt_embeds" in names or "negative_prompt_embeds" in names)
        kwargs = dict(tensors)
        shown = handed = None
        if asked:  # fresh tensors: the next steps' text is rebuilt from them (in-place edits included)
            positive, negative = text["prompt_embeds"], text["negative_prompt_embeds"]
            shown = positive.clone() if negative is None else torch.cat([negative, positive])
            handed = None if negative is None else negative.clone()
            kwargs.update(prompt_embeds=shown, negative_prompt_embeds=handed)
        outputs = callback(self, step, timestep, kwargs)
        if text is None:
            return outputs
        given, given_negative = outputs.pop("prompt_embeds", None), outputs.pop("negative_prompt_embeds", None)
        given = shown if given is None else given
        positive, negative = text["prompt_embeds"], text["negative_prompt_embeds"]
        if handed is not None and (given_negative is None or given_negative is handed):  # not returned anew
            given_negative = None if torch.equal(handed, negative) else handed  # edited in place: taken
        if given is not None:
            expected = (positive.shape[0] * (1 if negative is None else 2), *positive.shape[1:])
            if not isinstance(given, torch.Tensor) or given.shape != expected:
                got = tuple(given.shape) if isinstance(given, torch.Tensor) else type(given).__name__
                raise ValueError(f"a callback returned `prompt_embeds` of shape {got}; it must keep {expected} "
                                 "(with classifier-free guidance, the negative and the positive concatenated).")
            given = given.to(positive.device, positive.dtype)
            if negative is None:
                text["prompt_embeds"] = given
            else:
                text["negative_prompt_embeds"], text["prompt_embeds"] = given.chunk(2)
        if given_negative is not None and given_negative is not negative:
            if negative is None or given_negative.shape != negative.shape:
                raise ValueError("a callback returned `negative_prompt_embeds`, but the call has none of that shape "
                                 "(start with guidance_scale > 1).")
            text["negative_prompt_embeds"] = given_negative
        return outputs
