"""4K generation: ``pipe.enable_4k_mode()``, then ``pipe(prompt, height=2160, width=3840, ...)``.

Two paths, chosen from the pipeline's components when the mode is switched on:

- **latent upsampler** (released LTX-Video checkpoints, whose VAE compresses 32x): the video is generated at
  half the size (1920 x 1088 for 4K: 60 x 34 latent tokens per latent frame), upsampled x2 in latent space by
  diffusers' ``LTXLatentUpsamplerModel``, AdaIN-matched, refined by a short second pass at full size (default:
  LTX-Video 0.9.8's distilled second pass, timesteps 909.4, 725, 421.9, no CFG) and decoded in tiles to
  3840 x 2176, then cropped to 3840 x 2160. This is :func:`~ltx_video.pipelines.multiscale.generate_multiscale`
  with ``downscale_factor=0.5`` and tiled decoding.
- **hierarchical VAE** (a ``vae`` that compresses 64x spatially, :class:`~ltx_video.models.autoencoders.HierarchicalVAE`):
  one pass at the 64x grid (60 x 34 tokens per latent frame at 4K) and a tiled decode. The audio stream of
  ``LTXAudioVideoPipeline`` works as in any call.

docs/4k.md has the token and memory arithmetic of both.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from dataclasses import dataclass, field
from typing import Any

import torch
from diffusers.utils import logging

from ltx_video.models.autoencoders.tiling import TilingConfig

logger = logging.get_logger(__name__)

__all__ = ["DISTILLED_REFINE_TIMESTEPS", "FourKMixin", "FourKMode", "check_4k_size", "four_k_dispatch", "inside_4k"]

#: The second pass of LTX-Video 0.9.8's distilled multi-scale configs (``ltxv-*-0.9.8-distilled.yaml``), 0..1000.
DISTILLED_REFINE_TIMESTEPS = (909.4, 725.0, 421.9)

_INSIDE_4K = contextvars.ContextVar("ltx_video_inside_4k", default=False)


@dataclass(frozen=True, eq=False)
class FourKMode:
    """What ``enable_4k_mode`` chose. ``latent_upsampler`` is None on the hierarchical-VAE path."""

    tiling: TilingConfig
    latent_upsampler: torch.nn.Module | None
    refine: dict[str, Any] = field(default_factory=dict)
    adain_factor: float = 1.0

    @property
    def path(self) -> str:
        return "hierarchical_vae" if self.latent_upsampler is None else "latent_upsampler"


def check_4k_size(height: int, width: int, spatial_ratio: int) -> None:
    """ValueError unless the upsampler path can generate at exactly half the padded size: each side must pad
    (to the VAE's ``spatial_ratio``) to an even number of latent cells, i.e. a multiple of ``2 * spatial_ratio``."""
    for name, value in (("height", height), ("width", width)):
        padded = -(-value // spatial_ratio) * spatial_ratio
        if (padded // spatial_ratio) % 2:
            below, above = padded - spatial_ratio, padded + spatial_ratio
            # no range below the first cell (it read "(-32, 0]" until 2026-12-07)
            ranges = (f"({below - spatial_ratio}, {below}] or " if below > 0 else "") + f"({padded}, {above}]"
            raise ValueError(
                f"`{name}`={value} is not 4K-compatible: 4K mode generates at half the size and upsamples x2, so "
                f"{name} must pad to a multiple of {2 * spatial_ratio} ({value} pads to {padded}); use a {name} in "
                f"{ranges}, e.g. {above} (3840 x 2160 works)."
            )


def inside_4k() -> bool:
    """Whether the running call is one of 4K mode's own passes."""
    return _INSIDE_4K.get()


def four_k_dispatch(call):
    """Decorator for a pipeline's ``__call__``: in 4K mode the call runs the 4K path, whose own passes call the
    plain ``__call__`` (a context variable marks them, so nothing is stored on the pipeline between calls)."""

    @functools.wraps(call)
    def wrapper(self, *args, **kwargs):
        mode = getattr(self, "four_k_mode", None)
        if mode is None or _INSIDE_4K.get():
            return call(self, *args, **kwargs)
        bound = inspect.signature(call).bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        arguments.pop("self")
        token = _INSIDE_4K.set(True)
        try:
            return _generate_4k(self, mode, arguments)
        finally:
            _INSIDE_4K.reset(token)

    return wrapper


def _generate_4k(pipe, mode: FourKMode, arguments: dict[str, Any]):
    if mode.path == "hierarchical_vae":
        return pipe(**arguments)
    arguments["height"], arguments["width"], arguments["num_frames"] = pipe.call_defaults(
        height=arguments["height"], width=arguments["width"], num_frames=arguments["num_frames"])
    check_4k_size(arguments["height"], arguments["width"], pipe.vae_spatial_compression_ratio)
    if arguments.get("latents") is not None:
        raise ValueError("4K mode with a latent upsampler makes its own first-pass latents: drop `latents`.")
    if arguments.get("generate_audio") or arguments.get("audio") is not None:
        raise ValueError(
            "4K mode with a latent upsampler is video-only (the audio stream has no refinement pass): pass "
            "`generate_audio=False` and no `audio`, or use a HierarchicalVAE, whose 4K path keeps the audio."
        )
    if "generate_audio" in arguments:
        if arguments["generate_audio"] is None and getattr(pipe, "audio_generation_enabled", False):
            logger.warning("4K mode with a latent upsampler generates video only; the output has no audio.")
        arguments["generate_audio"] = False
    result = pipe.generate_multiscale(
        latent_upsampler=mode.latent_upsampler, downscale_factor=0.5, first_pass={}, second_pass=dict(mode.refine),
        adain_factor=mode.adain_factor, **arguments,
    )
    if not hasattr(pipe, "audio_vae"):
        return result
    # An audio-video pipeline answers as its video-only calls do: its own output, without audio.
    from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipelineOutput

    if isinstance(result, tuple):
        return (result[0], None)
    (frame_rate,) = pipe.call_defaults(frame_rate=arguments.get("frame_rate"))  # export_to_video(output, path) reads it
    return LTXAudioVideoPipelineOutput(frames=result.frames, audio=None, audio_latents=None,
                                       frame_rate=float(frame_rate))


class FourKMixin:
    """``enable_4k_mode`` / ``disable_4k_mode`` for ``LTXVideoPipeline`` and ``LTXAudioVideoPipeline``."""

    four_k_mode: FourKMode | None = None

    def enable_4k_mode(
        self,
        tiling: TilingConfig | None = None,
        *,
        latent_upsampler: torch.nn.Module | None = None,
        refine_timesteps: tuple[float, ...] | list[float] = DISTILLED_REFINE_TIMESTEPS,
        refine_guidance_scale: float = 1.0,
        adain_factor: float = 1.0,
    ) -> str:
        """Switch the pipeline's calls to 4K generation; returns the path taken (``"latent_upsampler"`` or
        ``"hierarchical_vae"``).

        Args:
            tiling: the decode's tiles (default ``TilingConfig()``: 512 px, 64 px overlap, 64 + 1 frames, 24 frames
                overlap); checked against the VAE's compression now.
            latent_upsampler: diffusers' ``LTXLatentUpsamplerModel`` (default: the pipeline's ``latent_upsampler``
                component). With a 64x hierarchical VAE this and the three arguments below are not used: a
                warning names those given.
            refine_timesteps: the second pass's timesteps (0..1000, starting below 1000). Default: LTX-Video
                0.9.8's distilled second pass. For a dev checkpoint, its config's last steps (e.g. ``ltxv-13b-0.9.8-dev.yaml``
                keeps 13 of 30).
            refine_guidance_scale: CFG of the second pass (1: none, as LTX-Video's configs).
            adain_factor: how far the upsampled latents' statistics are moved to the first pass's.
        """
        tiling = TilingConfig() if tiling is None else tiling
        if not isinstance(tiling, TilingConfig):
            raise ValueError(f"`tiling` must be a TilingConfig, got {type(tiling).__name__}.")
        tiling.check(self.vae_spatial_compression_ratio, self.vae_temporal_compression_ratio)
        timesteps = [float(t) for t in refine_timesteps]
        if (not timesteps or not all(0 < t < 1000 for t in timesteps)
                or any(a <= b for a, b in zip(timesteps, timesteps[1:], strict=False))):  # as the call's `timesteps`
            raise ValueError(
                f"`refine_timesteps` must be strictly decreasing values in (0, 1000), got {list(refine_timesteps)}."
            )
        if max(timesteps) <= 1.0:  # refused by the second pass after the whole first one before
            raise ValueError(
                f"`refine_timesteps` are in diffusers' units, 0..1000; got {list(refine_timesteps)}, which look like "
                "LTX-Video's 0..1 units: multiply them by 1000."
            )
        if not 0.0 <= adain_factor <= 1.0:
            raise ValueError(f"`adain_factor` must be in [0, 1], got {adain_factor}.")
        if (isinstance(refine_guidance_scale, bool) or not isinstance(refine_guidance_scale, (int, float))
                or not 0.0 <= refine_guidance_scale < float("inf")):  # failed after the first pass
            raise ValueError(f"`refine_guidance_scale` must be a finite number >= 0 (1: no CFG), got "
                             f"{refine_guidance_scale!r}.")
        if self.vae_spatial_compression_ratio >= 64:
            # the upsampler path's arguments, dropped here: said once, as diffusers warns of ignored keywords
            ignored = [name for name, given in (
                ("latent_upsampler", latent_upsampler is not None),
                ("refine_timesteps", tuple(timesteps) != DISTILLED_REFINE_TIMESTEPS),
                ("refine_guidance_scale", refine_guidance_scale != 1.0),
                ("adain_factor", adain_factor != 1.0),
            ) if given]
            if ignored:
                logger.warning(
                    f"enable_4k_mode(): {', '.join(ignored)} ignored: this pipeline's {type(self.vae).__name__} "
                    f"compresses {self.vae_spatial_compression_ratio}x, so 4K mode takes the hierarchical_vae path "
                    "(one pass and a tiled decode), which has no upsampling or refinement pass."
                )
            mode = FourKMode(tiling=tiling, latent_upsampler=None)
        else:
            upsampler = latent_upsampler if latent_upsampler is not None else getattr(self, "latent_upsampler", None)
            if upsampler is None:
                raise ValueError(
                    f"enable_4k_mode() needs a `latent_upsampler` (diffusers' LTXLatentUpsamplerModel, e.g. LTX-Video's "
                    f"ltxv-spatial-upscaler-0.9.8) or a `vae` that compresses 64x (HierarchicalVAE); this pipeline's "
                    f"{type(self.vae).__name__} compresses {self.vae_spatial_compression_ratio}x and it has no "
                    "latent_upsampler."
                )
            if not isinstance(upsampler, torch.nn.Module):
                raise ValueError(f"`latent_upsampler` must be a model (diffusers' LTXLatentUpsamplerModel), got "
                                 f"{type(upsampler).__name__}.")
            from ltx_video.pipelines.multiscale import check_latent_upsampler

            check_latent_upsampler(self, upsampler)
            refine = {"timesteps": timesteps, "guidance_scale": refine_guidance_scale}
            mode = FourKMode(tiling=tiling, latent_upsampler=upsampler, refine=refine, adain_factor=adain_factor)
        if getattr(self, "four_k_mode", None) is None:  # the tiling set before 4K mode, which disable brings back
            self._tiling_before_4k = self.vae_tiling
        self.four_k_mode = mode
        self.vae_tiling = tiling
        return mode.path

    def disable_4k_mode(self) -> None:
        """Back to plain calls, with the VAE tiling there was before :meth:`enable_4k_mode` (none by default)."""
        if getattr(self, "four_k_mode", None) is not None:
            self.vae_tiling = getattr(self, "_tiling_before_4k", None)
        self.four_k_mode = None
