"""Long videos: chunked autoregressive generation, streamed to disk as closed segments, resumable.

``pipe.generate_long(...)`` (on :class:`LTXVideoPipeline` and :class:`LTXAudioVideoPipeline`) generates the video
in chunks of ``chunk_frames``. Chunk ``k + 1`` starts ``overlap_frames`` before chunk ``k`` ends, so in latent
frames (``r`` = the VAE's temporal compression, ``L = (chunk_frames - 1) / r + 1``, ``O = overlap_frames / r``)
chunk ``k`` covers latents ``[k (L - O), k (L - O) + L)`` of one global timeline. For each chunk:

1. **carry-over**: its first ``O`` latent frames start from chunk ``k``'s last ``O`` (the specification's
   ``carryover_strength * prev + (1 - carryover_strength) * noise``) and are conditioning tokens of that strength,
   as LTX-Video's keyframes: timestep ``1000 (1 - s)``, stepped only below it. With audio, the audio tokens of the
   overlap's time are carried over the same way (audio tokens are indexed on one global 20 ms grid, so a chunk's
   tokens are exactly its predecessor's where they overlap);
2. **anchor** (``anchor=True``): the first chunk's first latent frame, clean, as appended tokens one chunk
   length before the chunk starts (negative time), a long-term reference against drift;
3. after denoising, **AdaIN** moves each channel's latent mean and std toward the first chunk's by
   ``adain_factor``; the overlap is **blended** with the previous chunk's latents (linear ramp);
4. the chunk is decoded (with two latent frames of the previous chunk as the decoder's context); its frames up to
   the next chunk's overlap are written at once as a closed segment; over the overlap the previous chunk's decoded
   frames and audio are cross-faded into the new ones. With ``colour_match`` (by default with one prompt), the
   segment's colour statistics (per RGB channel: mean and std over the frames it shows, cross-fade included) move
   toward the first segment's by that factor, through one affine map per channel on the chunk's own frames: the
   colour transfer of Reinhard et al. (2001) that long-video tools apply between extensions ("color match"), since
   the decoder turns the same latent statistics into slightly different colours.

Seeds: chunk ``k`` draws from ``torch.Generator("cpu").manual_seed(chunk_seed(seed, k))``, so a resumed run
repeats an uninterrupted one exactly. Memory holds one chunk and the carried state, whatever the length.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import numbers
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers.callbacks import MultiPipelineCallbacks, PipelineCallback
from diffusers.utils.torch_utils import randn_tensor
from tqdm.auto import tqdm

from ltx_video.conditioning.items import latent_positions, pack, unpack
from ltx_video.io.segments import assemble_segments, write_segment
from ltx_video.pipelines import denoising
from ltx_video.pipelines.inputs import CALL_ARGUMENTS, check_frame_rate, python_integer
from ltx_video.pipelines.latent_ops import adain_filter_latent
from ltx_video.pipelines.long_layout import ChunkLayout, chunk_seed, default_overlap_frames
from ltx_video.pipelines.long_run import ArgumentMismatch, LongRun, canonical, check_output
from ltx_video.pipelines.long_segments import default_colour_match, ramp, segment_frames
from ltx_video.pipelines.long_state import AUDIO_CFG, chunk_prompts, model_state

logger = logging.getLogger(__name__)

__all__ = ["ChunkLayout", "LongVideoMixin", "LongVideoOutput", "chunk_seed", "default_overlap_frames"]

DECODE_CONTEXT = 2  # latent frames of the previous chunk given to the decoder before a chunk's own
# Call arguments a chunk takes as ``__call__`` does; the rest (conditions, latents, embeddings) make no sense
# across chunks.
PASSED_THROUGH = (
    "timesteps", "timestep_schedule", "guidance_rescale", "stg_scale", "rescaling_scale", "skip_block_list",
    "skip_layer_strategy", "guidance_timesteps", "cfg_star_rescale", "image_cond_noise_scale", "max_sequence_length",
    "decode_timestep", "decode_noise_scale", "tone_map_compression_ratio", "stochastic_sampling",
    "modality_scale", "audio_modality_scale",
)


@dataclass(frozen=True)
class LongVideoOutput:
    """``path``: the assembled mp4 (None if the run was interrupted); ``folder``: its segments and manifest;
    ``num_frames``, ``num_chunks``, ``chunks_generated`` (this call; 0 when it only reassembled or found it done);
    ``written``: whether this call wrote ``path`` (False when it found the run done, its video already there)."""

    path: Path | None
    folder: Path
    num_frames: int
    num_chunks: int
    chunks_generated: int
    written: bool = True


def _to_uint8(frames: torch.Tensor) -> np.ndarray:
    """(F, 3, H, W) float in [0, 1] -> (F, H, W, 3) uint8, rounded as :mod:`ltx_video.io.media` does."""
    array = frames.permute(0, 2, 3, 1).float().cpu().numpy()
    return (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class LongVideoMixin:
    """``generate_long`` for the pipelines; needs their step methods (``plan_generation`` ... ``decode_latents``)."""

    def _long_defaults(self) -> dict[str, Any]:
        from ltx_video.pipelines.generation_defaults import LTX_VIDEO_DEFAULTS

        defaults = self.generation_defaults or LTX_VIDEO_DEFAULTS
        return defaults.call_kwargs()

    def _call_defaults(self) -> dict[str, Any]:
        """``__call__``'s signature defaults, those left to the model (None) as diffusers' (each chunk's call sets
        the model's own, from ``_long_defaults``)."""
        from ltx_video.pipelines.generation_defaults import fill_call_defaults

        signature = inspect.signature(type(self).__call__)
        values = {n: p.default for n, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}
        return fill_call_defaults(None, values)

    @torch.no_grad()
    def generate_long(
        self,
        prompt: str | list[str],
        *,
        output: str | Path,
        duration: float | None = None,
        num_frames: int | None = None,
        chunk_frames: int | None = None,
        overlap_frames: int | None = None,
        carryover_strength: float = 0.8,
        adain_factor: float = 1.0,
        colour_match: float | None = None,
        colour_match_scope: str = "chunk",
        anchor: bool = True,
        resume: bool = True,
        overwrite: bool = False,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        negative_prompt: str | list[str] | None = None,
        height: int | None = None,
        width: int | None = None,
        frame_rate: float | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        generate_audio: bool | None = None,
        audio_guidance_scale: float | None = None,
        callback_on_step_end=None,
        callback_on_step_end_tensor_inputs: Sequence[str] = ("latents",),
        **kwargs,
    ) -> LongVideoOutput:
        r"""Generate a long video chunk by chunk into ``output`` (an .mp4), streaming each chunk to disk.

        prompt: one prompt, or a list: prompt ``i`` of ``n`` is used for the chunks whose new frames mostly fall in
            the ``i``-th ``n``-th of the video's frames (each prompt at least one chunk; at most ``num_chunks`` prompts).
        duration / num_frames: the length, in seconds (``round(duration * frame_rate)`` frames) or frames.
        chunk_frames: frames per chunk (``r k + 1``; default: the model's frame count, 49 for the built-in model).
        overlap_frames: frames each chunk shares with the next (a multiple of ``r``, at most half a chunk; default
            ``2 r``, or ``r`` for chunks of fewer than four latent frames).
        carryover_strength: how strongly the overlap starts from the previous chunk (0: not at all, 1: held).
        adain_factor: how far each chunk's latent statistics move toward the first chunk's (0: off).
        colour_match: how far each chunk's decoded colours (per-channel mean and std) move toward the first chunk's
            (0: off; 1: matched). Default (None): 1 with one prompt, 0 when the prompts change (they may change the
            colours); resuming a run without it takes the run's own.
        colour_match_scope: ``"chunk"`` (one colour map per chunk, from its statistics over all its frames; the
            first chunk is left as it is) or ``"frame"`` (one map per frame, the first chunk's frames included, as
            per-frame "color match" nodes do: it also evens out colour changes inside a chunk, wanted or not).
        anchor: the first chunk's first latent frame as a clean reference before every later chunk.
        resume: continue the run in ``<output>.parts/`` if its manifest has the same arguments (else ValueError
            naming the argument); False starts over in a new folder (``<output>.parts-2`` ...), keeping the old.
        overwrite: replace an ``output`` file that no run of ``<output>.parts`` wrote (refused without it); with
            ``resume=False``, the new run's video replaces a finished run's (without it, moved into that run's folder).
        seed / generator: chunk ``k`` uses :func:`chunk_seed` ``(seed, k)``, ``seed`` an int in ``[0, 2**63)``; a
            generator (or a list of one) gives its ``initial_seed()``; neither: a random seed, recorded in the manifest.
        callback_on_step_end: called at every step of every chunk, given ``callback_on_step_end_tensor_inputs`` (a
            ``PipelineCallback``'s ``tensor_inputs``) as a plain call gives them; ``pipe.current_chunk`` is the chunk.
        negative_prompt: one for every chunk, or a list paired with ``prompt``'s, one per prompt.
        Other arguments as ``__call__`` (values left out: the model's ``generation_defaults``; without them, LTX-Video
        0.9.8's ``inference.py`` values, 704 x 1216 at 30 fps, where ``__call__`` takes diffusers'). Also passed through:
        ``timesteps``, ``timestep_schedule``, ``stg_scale`` ... ``stochastic_sampling`` (see ``PASSED_THROUGH``).

        Example::

            from ltx_video.default_model import load_default_pipeline

            pipe = load_default_pipeline()
            out = pipe.generate_long("a red ball bounces", duration=60, output="long.mp4", seed=0)
        """
        mode = getattr(self, "four_k_mode", None)
        if mode is not None and mode.path == "latent_upsampler":  # chunks ran at full size, only the decode tiled
            raise ValueError("4K mode's latent-upsampler path runs two passes per call, which generate_long's chunks do "
                             "not: call pipe.disable_4k_mode() first.")
        unknown = sorted(set(kwargs) - set(PASSED_THROUGH))
        if unknown:
            raise ValueError(f"generate_long got unexpected argument(s) {unknown}; it also takes {list(PASSED_THROUGH)}")
        signature = inspect.signature(type(self).__call__).parameters  # None where a call's None means "left out"
        kwargs = {k: v for k, v in kwargs.items() if v is not None or k not in signature or signature[k].default is not None}
        defaults = self._long_defaults()
        use_audio = self._long_uses_audio(generate_audio, audio_guidance_scale, kwargs)
        # The model's STG and (with audio) modality guidance, unless the call sets its own (0 or 1: off).
        modality = ("modality_scale", "audio_modality_scale")
        if not use_audio:  # nothing for it to act on: warned and ignored, as in a plain call
            if any([kwargs.pop(k) != 1 for k in modality if k in kwargs]):  # a list: pop both
                logger.warning("modality guidance has no audio stream to act on (no audio generated): ignored.")
        model_guidance = ("stg_scale", "skip_block_list", *(modality if use_audio else ()))
        kwargs = {**{k: defaults[k] for k in model_guidance if k in defaults}, **kwargs}
        if frame_rate is not None:  # as a plain call checks it (since 2026-12-07: float() took the string "24")
            check_frame_rate(frame_rate)
        frame_rate = float(frame_rate if frame_rate is not None else defaults["frame_rate"])
        if (duration is None) == (num_frames is None):
            raise ValueError("give exactly one of `duration` (seconds) and `num_frames`")
        if duration is not None:  # numpy's numbers too (since 2026-12-07: np.float32 was refused as no number)
            if isinstance(duration, torch.Tensor) and duration.ndim == 0:  # as check_real takes numbers
                duration = duration.item()
            if not isinstance(duration, numbers.Real) or isinstance(duration, bool) or not 0 < duration < math.inf:
                raise ValueError(f"`duration` must be a finite number of seconds > 0, got {duration!r}")
            num_frames = max(1, round(float(duration) * frame_rate))
        # numpy's integers as Python's: checked, and recorded, as the same run's
        num_frames, chunk_frames, overlap_frames = map(python_integer, (num_frames, chunk_frames, overlap_frames))
        ratio = self.vae_temporal_compression_ratio
        layout = ChunkLayout(
            num_frames=num_frames,
            chunk_frames=chunk_frames if chunk_frames is not None else defaults["num_frames"],
            overlap_frames=overlap_frames if overlap_frames is not None else default_overlap_frames(
                chunk_frames if isinstance(chunk_frames, int) else defaults["num_frames"], ratio),
            ratio=ratio,
        )
        layout.check()
        prompts = [prompt] if isinstance(prompt, str) else list(prompt) if isinstance(prompt, (list, tuple)) else []
        if not prompts or not all(isinstance(p, str) for p in prompts):
            raise ValueError(f"`prompt` must be a string or a non-empty list of strings, got {prompt!r}")
        if len(prompts) > layout.num_chunks:
            raise ValueError(f"`prompt` has {len(prompts)} prompts but the video has {layout.num_chunks} chunks "
                             f"(`chunk_frames` {layout.chunk_frames}, `overlap_frames` {layout.overlap_frames}): give at "
                             "most one prompt per chunk, or a longer `duration`")
        if isinstance(negative_prompt, (list, tuple)):  # paired with the prompts, as diffusers pairs list entries
            if len(negative_prompt) not in (1, len(prompts)) or not all(isinstance(n, str) for n in negative_prompt):
                raise ValueError(f"`negative_prompt` must be a string or a list of strings, one for all prompts or one "
                                 f"per prompt (`prompt` has {len(prompts)}), got {negative_prompt!r}")
            # one for all is the string: recorded so, the same run as with the string
            negative_prompt = negative_prompt[0] if len(set(negative_prompt)) == 1 else list(negative_prompt)
        if not isinstance(output, (str, Path)):
            raise ValueError(f"`output` must be an .mp4 path (str or Path), got {output!r}")
        output = Path(output).expanduser()
        if output.is_dir():  # first: a folder is named as one, whatever its name ends in
            raise ValueError(f"`output` {output} is a folder; expected an .mp4 file path")
        if output.suffix.lower() != ".mp4":
            raise ValueError(f"`output` must end in .mp4, got {output}")
        if colour_match is None:
            colour_match = default_colour_match(prompts, output if resume else None)
        for name, value in (("carryover_strength", carryover_strength), ("adain_factor", adain_factor),
                            ("colour_match", colour_match)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` must be in [0, 1], got {value!r}")
        if colour_match_scope not in ("chunk", "frame"):
            raise ValueError(f"`colour_match_scope` must be 'chunk' or 'frame', got {colour_match_scope!r}")
        for name, value in (("anchor", anchor), ("resume", resume), ("overwrite", overwrite)):
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"`{name}` must be True or False, got {value!r}")
        anchor, resume, overwrite = bool(anchor), bool(resume), bool(overwrite)
        if generate_audio is not None and not isinstance(generate_audio, (bool, np.bool_)):
            raise ValueError(f"`generate_audio` must be True, False or None, got {generate_audio!r}")
        generate_audio = None if generate_audio is None else bool(generate_audio)
        if isinstance(generator, (list, tuple)) and len(generator) == 1:
            generator = generator[0]  # diffusers' list form, for the one video this makes
        if generator is not None and not isinstance(generator, torch.Generator):
            raise ValueError(f"`generator` must be a torch.Generator (or a list of one), got {generator!r}: a long "
                             "video is one video, its chunks seeded from it")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or not 0 <= seed < 2**63):
            raise ValueError(f"`seed` must be an int in [0, 2**63), got {seed!r} (seed % 2**63 gives the same video "
                             "as before 2026-12-06)")
        if seed is not None and generator is not None:  # the generator was ignored without a word
            raise ValueError("give `seed` or `generator`, not both: chunk k is seeded from one of them")
        if seed is None and generator is not None:
            seed = generator.initial_seed() % 2**63
        recorded_seed = ((LongRun.recorded_arguments(output, finished_only=False) or {}).get("seed") if resume
                         else None)
        if seed is None and isinstance(recorded_seed, int):  # the run being resumed: the same call continues it
            seed = recorded_seed
        elif isinstance(recorded_seed, int) and recorded_seed % 2**63 == seed:  # recorded >= 2**63 before the bound
            seed = recorded_seed
        if (height is not None and height % 2) or (width is not None and width % 2):
            logger.warning("generate_long: height %s x width %s: H.264 stores even sizes, so the mp4 is padded to "
                           "%s x %s (last row / column repeated).", height, width,
                           height + height % 2 if height else height, width + width % 2 if width else width)
        if seed is None:  # a fresh seed, without touching torch's global generator (torch.seed() reseeded it)
            seed = secrets.randbits(31)
        if isinstance(callback_on_step_end, (PipelineCallback, MultiPipelineCallbacks)):
            callback_on_step_end_tensor_inputs = callback_on_step_end.tensor_inputs
        names = callback_on_step_end_tensor_inputs
        allowed = [n for n in self._callback_tensor_inputs if use_audio or n != "audio_latents"]
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n in allowed for n in names):
            raise ValueError(f"`callback_on_step_end_tensor_inputs` must be a list of names in {allowed}, got {names!r}")
        call = self._call_defaults()
        self.check_call({**{name: None for name in CALL_ARGUMENTS}, **call, **kwargs, "prompt": prompts[0],
                         "negative_prompt": negative_prompt[0] if isinstance(negative_prompt, list) else negative_prompt,
                         "callback_on_step_end": callback_on_step_end,
                         "output_type": "pil", "num_videos_per_prompt": 1,
                         "guidance_scale": guidance_scale if guidance_scale is not None else defaults["guidance_scale"]})
        # a value given as the call's own default is the value left out: both runs are the same run (and resume)
        kwargs = {k: v for k, v in kwargs.items() if k not in call or canonical(v) != canonical(call[k])}
        # stochastic_sampling left out (None) is the scheduler's flag: given as that flag, it is the same run (runs
        # started when its default was False recorded it only when True; the scheduler is recorded: long_state)
        if "stochastic_sampling" in kwargs and bool(kwargs["stochastic_sampling"]) == bool(
                self.scheduler.config.get("stochastic_sampling", False)):
            del kwargs["stochastic_sampling"]
        guidance_scale = float(guidance_scale if guidance_scale is not None else defaults["guidance_scale"])
        if audio_guidance_scale is not None and canonical(audio_guidance_scale) == guidance_scale:
            audio_guidance_scale = None  # the value None stands for, as above (it was refused on resume)
        arguments = dict(
            prompt=prompts, negative_prompt=negative_prompt if negative_prompt is not None else defaults["negative_prompt"],
            num_frames=num_frames, chunk_frames=layout.chunk_frames, overlap_frames=layout.overlap_frames,
            carryover_strength=float(carryover_strength), adain_factor=float(adain_factor), anchor=bool(anchor),
            colour_match=float(colour_match),
            seed=int(seed), height=height if height is not None else defaults["height"],
            width=width if width is not None else defaults["width"], frame_rate=frame_rate,
            num_inference_steps=num_inference_steps if num_inference_steps is not None else defaults["num_inference_steps"],
            guidance_scale=guidance_scale, audio=use_audio, audio_guidance_scale=audio_guidance_scale, extra=kwargs,
        )
        if colour_match_scope != "chunk":  # recorded only when set, so runs started before it existed resume
            arguments["colour_match_scope"] = colour_match_scope
        # the pipeline's own state that changes the numbers (model, dtype, LoRA, attention, scheduler ...): long_state
        arguments.update(model_state(self, colour_match=colour_match, timestep_schedule=kwargs.get("timestep_schedule")))
        # Every per-chunk argument is checked by planning the first chunk, before any folder is made; a run to resume
        # (one with finished chunks) was planned with its recorded arguments, which LongRun.open compares, so a rerun
        # of a finished call or one with a changed argument answers without running the text encoder.
        self._long_warned = set()  # prompts (and over-long prompts) warned about in this run
        if callback_on_step_end is not None:  # as a plain call runs it (since 2026-12-07: the latents alone were given)
            callback_on_step_end = functools.partial(self.run_callback, callback_on_step_end, names=tuple(names))
        try:
            return self._long_run(output, arguments, layout, prompts, num_frames, duration, frame_rate, resume,
                                  overwrite, call, callback_on_step_end)
        finally:
            self._long_warned = None

    def _long_run(self, output, arguments, layout, prompts, num_frames, duration, frame_rate, resume, overwrite, call,
                  callback_on_step_end) -> LongVideoOutput:
        """``generate_long`` once its arguments are checked: plan, open the run, generate, assemble."""
        check_output(output)  # before the plan's text encoder, with resume=False too
        if not (resume and LongRun.recorded_arguments(output) is not None):
            self._long_plan(0, canonical(arguments), warn_prompt=False)
        if output.is_file() and not overwrite and not LongRun.has_runs(output):
            raise ValueError(f"`output` {output} exists and no run in {output.name}.parts wrote it: pass overwrite=True "
                             "to replace it (nothing is replaced without it)")
        try:
            run = LongRun.open(output, arguments, resume=resume, extra_defaults=canonical(call), overwrite=overwrite)
        except ArgumentMismatch as error:
            if error.key != "num_frames" or duration is None:
                raise
            raise ValueError(f"`duration` {duration:g} s is {num_frames} frames at {frame_rate:g} fps but the run in "
                             f"{error.folder} was started with {error.recorded} frames: pass the same "
                             "arguments to resume it, or resume=False to start over in a new folder (the old one is "
                             "kept)") from None
        try:
            return self._long_run_locked(run, output, layout, num_frames, overwrite, callback_on_step_end)
        finally:
            run.close()  # at the call's end, even an error's: another process may run into `output` at once

    def _long_run_locked(self, run, output, layout, num_frames, overwrite, callback_on_step_end) -> LongVideoOutput:
        if output.is_file() and not overwrite and not run.output_is_current(output):
            raise ValueError(f"`output` {output} exists but is not the file this run in {run.folder} assembled (or "
                             "the run was stopped while it assembled it): pass overwrite=True to replace it (nothing is "
                             "replaced without it)")
        args = run.arguments  # the canonical (JSON) form, identical for a fresh and a resumed run
        if run.num_finished == layout.num_chunks and run.output_is_current(output):
            return LongVideoOutput(output, run.folder, num_frames, layout.num_chunks, 0, written=False)

        state = run.load_state()
        generated = 0
        bar = tqdm(total=layout.num_chunks, initial=run.num_finished,
                   **{**getattr(self, "_progress_bar_config", {}), "desc": "chunks", "unit": "chunk"})
        started = time.perf_counter()
        try:
            for k in range(run.num_finished, layout.num_chunks):
                self.current_chunk = k
                state = self._long_chunk(k, layout, args, state, run, callback_on_step_end)
                if state is None:  # interrupted (pipe._interrupt) inside the chunk: nothing of it is written
                    return LongVideoOutput(None, run.folder, num_frames, layout.num_chunks, generated, written=False)
                generated += 1
                bar.update(1)
                rate = (time.perf_counter() - started) / generated
                bar.set_postfix_str(f"{rate:.1f} s/chunk")
        finally:
            bar.close()
            self.current_chunk = None
        self._long_assemble(run, layout, args, output)
        return LongVideoOutput(output, run.folder, num_frames, layout.num_chunks, generated)

    # ------------------------------------------------------------------ pieces
    def _long_uses_audio(self, generate_audio: bool | None, audio_guidance_scale: float | None, kwargs: dict) -> bool:
        modality = {k: kwargs[k] for k in ("modality_scale", "audio_modality_scale") if k in kwargs}
        if not hasattr(self, "audio_vae"):
            if generate_audio or modality:
                name = "generate_audio" if generate_audio else next(iter(modality))
                raise ValueError(f"`{name}` needs an LTXAudioVideoPipeline with an `audio_vae`")
            return False
        if generate_audio is None:
            generate_audio = self.audio_generation_enabled and self.audio_vae is not None
        self.check_audio_inputs(audio=None, audio_sample_rate=None, generate_audio=generate_audio,
                                audio_guidance_scale=audio_guidance_scale, **modality)
        return bool(generate_audio)

    def _long_plan(self, index: int, args: dict, warn_prompt: bool):
        """Plan a chunk of prompt ``index`` (and its negative prompt, where the run has one per prompt)."""
        call = self._call_defaults()
        negative = args["negative_prompt"]
        call.update(args["extra"])
        plan_names = set(inspect.signature(self.plan_generation).parameters)
        values = {n: v for n, v in call.items() if n in plan_names}
        values.update(
            prompt=args["prompt"][index], negative_prompt=negative[index] if isinstance(negative, list) else negative,
            height=args["height"], width=args["width"],
            num_frames=args["chunk_frames"], frame_rate=args["frame_rate"],
            num_inference_steps=args["num_inference_steps"], guidance_scale=args["guidance_scale"],
            output_type="latent", keyframes=None, camera=None, warn_prompt=warn_prompt,
        )
        if "generates_audio" in plan_names:  # each chunk's sound starts from noise: a schedule must start at sigma 1
            values["generates_audio"] = bool(args["audio"])
            # the audio's CFG runs its unconditional pass at guidance_scale 1 too (diffusers' LTX2Pipeline); a run
            # started before (no `audio_cfg` recorded) keeps the video's scale alone
            either = args["audio"] and args.get("audio_cfg") == AUDIO_CFG
            values["audio_guidance_scale"] = args["audio_guidance_scale"] if either else None
        return self.plan_generation(**values), call

    def _long_chunk(self, k: int, layout: ChunkLayout, args: dict, state: dict | None, run: LongRun, callback):
        """Generate, write and record chunk ``k``; returns the state for chunk ``k + 1`` (None if interrupted)."""
        prompts = args["prompt"]  # spread by the run's recorded rule (none: a run started before 2026-12-07)
        index = chunk_prompts(layout, len(prompts), args.get("prompt_split", "chunks"))[k]
        prompt = prompts[index]
        self.begin_call(guidance_scale=args["guidance_scale"], guidance_rescale=args["extra"].get("guidance_rescale", 0.0),
                        attention_kwargs=None)
        # A prompt the model does not know is warned about once per run, not once per chunk.
        plan, call = self._long_plan(index, args, warn_prompt=prompt not in self._long_warned)
        self._long_warned.add(prompt)
        generator = torch.Generator(device="cpu").manual_seed(chunk_seed(args["seed"], k))
        video_state = self.prepare_video_latents(plan, frame_rate=args["frame_rate"], latents=None, generator=generator)
        audio_state, token_range = None, None
        if args["audio"]:
            audio_state, token_range = self._long_audio_state(k, layout, args, plan, generator, state)
        if state is not None:
            video_state = self._long_condition(video_state, plan, layout, args, state)

        def step_hook(i, t, tokens, audio_tokens=None):
            if callback is not None:
                tensors = {"latents": tokens} if audio_tokens is None else {"latents": tokens, "audio_latents": audio_tokens}
                outputs = callback(i, t, tensors)
                tokens = outputs.pop("latents", tokens)
                audio_tokens = outputs.pop("audio_latents", audio_tokens)
            return tokens if audio_state is None else (tokens, audio_tokens)

        with self.progress_bar(total=len(plan.timesteps)) as bar:
            result = self.run_denoising(
                plan, video_state, stochastic_sampling=call["stochastic_sampling"], generator=generator,
                attention_kwargs=None, step_hook=step_hook, progress=bar.update, audio=audio_state,
                audio_guidance_scale=args["audio_guidance_scale"],
            )
        if self._interrupt:
            return None
        video_state, audio_state = result if audio_state is not None else (result, None)
        latents = self.finish_video(plan, video_state, output_type="latent", decode_timestep=0.0,
                                    decode_noise_scale=None, tone_map_compression_ratio=0.0, generator=generator)
        latents = latents.float()
        overlap = layout.overlap_latents
        if state is not None:
            if args["adain_factor"] > 0:
                latents = adain_filter_latent(latents, state["reference"].to(latents), args["adain_factor"])
            weight = ramp(overlap).to(latents).view(1, 1, -1, 1, 1)
            latents[:, :, :overlap] = torch.lerp(state["tail_latents"][:, :, -overlap:].to(latents),
                                                 latents[:, :, :overlap], weight)
        frames = self._long_decode(latents, state, overlap, plan, call, generator)
        # The segment: this chunk's frames up to the next chunk's overlap, the overlap cross-faded with the last's.
        _, end = layout.written(k)
        cut = layout.ratio * end if state is not None else 1 + layout.ratio * (end - 1)
        cut = frames.shape[0] if k == layout.num_chunks - 1 else cut
        seg_start, seg_end = layout.segment_pixels(k)
        shown = min(cut, seg_end - seg_start)  # the last chunk decodes frames past the video's end
        segment_uint8, tail, colours = segment_frames(frames, state, args, cut, shown)
        audio_segment, audio_tail, audio_latents = None, None, None
        if audio_state is not None:
            audio_latents = audio_state.latents.float()
            audio_segment, audio_tail, audio_latents = self._long_audio(k, layout, args, audio_latents, token_range,
                                                                        state)
        entry = write_segment(run.segment_path(k), segment_uint8, args["frame_rate"], audio_segment,
                              self.audio_vae.config.sample_rate if audio_segment is not None else None)
        entry.update(index=k, seed=chunk_seed(args["seed"], k), prompt=prompt, first_frame=seg_start)

        next_state = {
            "tail_latents": latents[:, :, layout.stride - min(DECODE_CONTEXT, layout.stride):].contiguous(),
            "tail_frames": torch.from_numpy(tail) if k < layout.num_chunks - 1 else torch.zeros(0),
            "reference": latents if state is None else state["reference"],
            "reference_colours": torch.from_numpy(colours),
        }
        if audio_latents is not None:
            next_state.update(tail_audio_latents=audio_latents, tail_audio=audio_tail,
                              tail_audio_first_token=torch.tensor([token_range[0]]))
        run.finish_chunk(entry, next_state)
        return run.load_state()  # exactly what a resumed run would read

    def _long_condition(self, video_state, plan, layout: ChunkLayout, args: dict, state: dict):
        """Carry the previous chunk's overlap latents in (strength ``carryover_strength``) and add the anchor."""
        frames, height, width = plan.padding.latent_size
        overlap, strength = layout.overlap_latents, args["carryover_strength"]
        prefix = video_state.num_prefix_tokens
        grid = unpack(video_state.latents[:, prefix:], frames, height, width).clone()
        carried = state["tail_latents"][:, :, -overlap:].to(grid)
        grid[:, :, :overlap] = torch.lerp(grid[:, :, :overlap], carried, strength)
        batch = grid.shape[0]
        mask = grid.new_zeros(batch, frames)
        mask[:, :overlap] = strength
        tokens, positions = pack(grid), video_state.positions
        token_mask = mask.repeat_interleave(height * width, dim=1)
        if args["anchor"]:
            anchor = state["reference"][:, :, :1].to(grid)
            coords = latent_positions(batch, 1, height, width, temporal_scale=layout.ratio,
                                      spatial_scale=self.vae_spatial_compression_ratio, device=grid.device).float()
            coords[:, 0] = (coords[:, 0] - args["chunk_frames"]) / args["frame_rate"]
            tokens = torch.cat([pack(anchor), tokens], dim=1)
            positions = torch.cat([coords, positions], dim=2)
            token_mask = torch.cat([token_mask.new_ones(batch, height * width), token_mask], dim=1)
            prefix = height * width
        return replace(video_state, latents=tokens, positions=positions, conditioning_mask=token_mask,
                       clean_latents=tokens.clone(), num_prefix_tokens=prefix)

    def _long_audio_state(self, k: int, layout: ChunkLayout, args: dict, plan, generator, state: dict | None):
        """Chunk ``k``'s audio tokens on the global 20 ms grid, the overlap's carried over from the last chunk."""
        config = self.audio_vae.config
        token_seconds = config.temporal_factor / config.sample_rate
        first, last = layout.audio_tokens(k, args["frame_rate"], token_seconds)
        shape = (plan.batch_size, last - first, config.latent_channels)
        latents = randn_tensor(shape, generator=generator, device=plan.device, dtype=torch.float32)
        indices = torch.arange(first, last, dtype=torch.float64)  # on the CPU: MPS has no float64
        offset = layout.offset_seconds(k, args["frame_rate"])
        positions = (indices * token_seconds - offset).float().to(plan.device).expand(plan.batch_size, -1)
        mask = None
        if state is not None:
            carried = state["tail_audio_latents"].to(latents)
            start = first - int(state["tail_audio_first_token"][0])
            count = carried.shape[1] - start
            mask = latents.new_zeros(plan.batch_size, last - first)
            strength = args["carryover_strength"]
            latents[:, :count] = torch.lerp(latents[:, :count], carried[:, start:], strength)
            mask[:, :count] = strength
        return denoising.AudioLatentState(latents=latents, positions=positions, conditioning_mask=mask), (first, last)

    def _long_decode(self, latents: torch.Tensor, state: dict | None, overlap: int, plan, call: dict, generator):
        """The chunk's frames (F, H, W, 3) in 0..255 floats, decoded after the previous chunk's context latents."""
        context = 0
        if state is not None:
            tail = state["tail_latents"].to(latents)
            context = tail.shape[2] - overlap
            latents = torch.cat([tail[:, :, :context], latents], dim=2)
        decoded = self.decode_latents(
            latents, decode_timestep=call["decode_timestep"], decode_noise_scale=call["decode_noise_scale"],
            tone_map_compression_ratio=call["tone_map_compression_ratio"], generator=generator,
            dtype=plan.prompt_embeds.dtype,
        )
        if context:
            decoded = decoded[:, :, 1 + self.vae_temporal_compression_ratio * (context - 1):]
        padding = plan.padding
        left, _, top, _ = padding.pad
        decoded = decoded[:, :, :, top : top + padding.height, left : left + padding.width]
        video = self.video_processor.postprocess_video(decoded, output_type="pt")[0]  # (F, 3, H, W) in [0, 1]
        return video.permute(0, 2, 3, 1).float().cpu().numpy().clip(0.0, 1.0) * 255.0

    def _long_audio(self, k: int, layout: ChunkLayout, args: dict, audio_latents, token_range, state):
        """Blend the audio overlap, decode; returns (segment samples (1, S), tail samples, the chunk's latents)."""
        config = self.audio_vae.config
        first, last = token_range
        if state is not None:
            carried = state["tail_audio_latents"].to(audio_latents)
            start = first - int(state["tail_audio_first_token"][0])
            count = carried.shape[1] - start
            weight = ramp(count).to(audio_latents).view(1, -1, 1)
            audio_latents[:, :count] = torch.lerp(carried[:, start:], audio_latents[:, :count], weight)
        samples = self.audio_vae.decode(audio_latents.to(self.audio_vae.dtype))[0].float().clamp(-1, 1).cpu()
        rate, fps = config.sample_rate, args["frame_rate"]
        origin = first * config.temporal_factor  # global sample of samples[:, 0]
        seg_start, seg_end = layout.segment_pixels(k)
        a, b = round(seg_start / fps * rate) - origin, round(seg_end / fps * rate) - origin
        segment = samples[:, a:b].clone()
        if state is not None and state["tail_audio"].numel():
            previous = state["tail_audio"]
            weight = ramp(previous.shape[1])
            segment[:, : previous.shape[1]] = torch.lerp(previous, segment[:, : previous.shape[1]], weight)
        tail = torch.zeros(1, 0)
        if k < layout.num_chunks - 1:
            chunk_end = round(layout.chunk_pixels(k)[1] / fps * rate) - origin
            tail = samples[:, b:chunk_end].clone()
        return segment.numpy(), tail, audio_latents

    def _long_assemble(self, run: LongRun, layout: ChunkLayout, args: dict, output: Path) -> None:
        chunks = run.manifest["chunks"]
        segments = [run.folder / c["video"] for c in chunks]
        audio = [run.folder / c["audio"] for c in chunks] if args["audio"] else None
        num_samples = None
        if audio is not None:
            num_samples = round(layout.num_frames / args["frame_rate"] * self.audio_vae.config.sample_rate)
        output.parent.mkdir(parents=True, exist_ok=True)
        assemble_segments(segments, run.assembly_path(output), fps=args["frame_rate"], audio=audio,
                          num_samples=num_samples)
        run.finish_output(output)
