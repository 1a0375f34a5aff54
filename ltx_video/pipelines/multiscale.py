"""Multi-scale generation as LTX-Video 0.9.8's ``LTXMultiScalePipeline``.

1. First pass at ``downscale_factor`` of the (padded) size, rounded down to multiples of 32,
   returning latents.
2. Latent upsampler x2 (diffusers' ``LTXLatentUpsamplerModel``) on de-normalised latents, then
   AdaIN to the first pass's per-channel statistics.
3. Second pass at twice the first-pass size from those latents, noised to its first timestep (so
   ``second_pass`` must start below 1000, as the published configs do).
4. Decode, resize (bilinear, one frame at a time; none when the decode has it, as in 4K mode) to the padded
   size, crop to the requested size.

Conditioning media are loaded at the requested size and padded once; each pass resizes the padded media.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import torch
from diffusers.pipelines.ltx.pipeline_output import LTXPipelineOutput

from ltx_video.conditioning.camera_controller import Camera, CameraController
from ltx_video.conditioning.items import ConditioningItem
from ltx_video.conditioning.multi_keyframe_processor import Keyframe, MultiKeyframeProcessor
from ltx_video.pipelines.inputs import (
    ArgumentsChecked,
    check_decode_arguments,
    check_real,
    checking_only,
    collect_conditions,
    count_prompts,
)
from ltx_video.pipelines.latent_ops import Padding, adain_filter_latent, denormalize_latents, normalize_latents
from ltx_video.pipelines.postprocess import holds_latents, postprocess_video

__all__ = [
    "check_upsampler_config", "first_pass_size", "generate_multiscale", "resize_frames", "smallest_side", "upsample_latents",
]

_DECODE_KEYS = ("decode_timestep", "decode_noise_scale", "tone_map_compression_ratio")


def first_pass_size(height: int, width: int, downscale_factor: float, multiple: int = 32) -> tuple[int, int]:
    """LTX-Video's first-pass size: ``int(size * factor)`` rounded down to a multiple of 32."""
    _check_factor(downscale_factor)
    h, w = int(height * downscale_factor), int(width * downscale_factor)
    h, w = h - h % multiple, w - w % multiple
    if h == 0 or w == 0:
        # (until 2026-12-07 this said "the first pass needs at least 32x32" of a 32x32 video: the video needs more)
        raise ValueError(
            f"`downscale_factor` {downscale_factor} makes the first pass of a {height}x{width} video {h}x{w} (each "
            f"side times the factor, rounded down to a multiple of {multiple}): empty; each side of the video must "
            f"be at least {smallest_side(downscale_factor, 1, multiple)} px."
        )
    return h, w


def _check_factor(downscale_factor: float) -> None:
    try:  # check_real's range is closed: 0 is refused here too, so one message says (0, 1] (it said [0, 1])
        check_real("downscale_factor", downscale_factor, 0.0, 1.0)
        if downscale_factor == 0:
            raise ValueError
    except ValueError:
        raise ValueError(f"`downscale_factor` must be a finite number in (0, 1], got {downscale_factor!r}.") from None


def smallest_side(downscale_factor: float, spatial_ratio: int = 32, multiple: int = 32) -> int:
    """The smallest height or width a multi-scale call takes: padded to ``spatial_ratio`` (the VAE's), its first pass
    (:func:`first_pass_size`) must be at least ``multiple`` px."""
    _check_factor(downscale_factor)
    # The count of VAE blocks from the exact quotient, then settled against int() of the float product as
    # first_pass_size computes it (since 2026-12-07: walked one block at a time, minutes for a factor of 1e-9).
    blocks = max(1, math.ceil(multiple / (downscale_factor * spatial_ratio)))
    while blocks > 1 and int((blocks - 1) * spatial_ratio * downscale_factor) >= multiple:
        blocks -= 1
    while int(blocks * spatial_ratio * downscale_factor) < multiple:
        blocks += 1
    return (blocks - 1) * spatial_ratio + 1


def check_upsampler_config(config, latent_channels: int | None, argument: str = "`latent_upsampler`",
                           vae: str = "this pipeline's VAE") -> None:
    """An upsampler config (a dict, or a model's ``config``) for a spatial x2 upsampler of latents with
    ``latent_channels`` channels (None: not known), else a ValueError naming ``argument``."""
    if latent_channels is not None and config.get("in_channels", latent_channels) != latent_channels:
        raise ValueError(f"{argument} takes {config['in_channels']}-channel latents, {vae} makes {latent_channels}: "
                         "use the upsampler trained for this VAE.")
    if config.get("temporal_upsample", False) or not config.get("spatial_upsample", True):
        raise ValueError(f"{argument} must be a spatial x2 upsampler (spatial_upsample, no temporal_upsample), as "
                         "LTX-Video's ltxv-spatial-upscaler.")


def check_latent_upsampler(pipe, upsampler, argument: str = "latent_upsampler") -> None:
    """A spatial x2 upsampler of this VAE's latents (its channels), else a ValueError naming ``argument``: a wrong one
    failed inside a convolution after the whole first pass."""
    channels = pipe.vae.config.get("latent_channels") if pipe.vae is not None else None
    check_upsampler_config(getattr(upsampler, "config", {}), channels, f"`{argument}`")


def upsample_latents(pipe, latent_upsampler, latents: torch.Tensor, adain_factor: float = 1.0) -> torch.Tensor:
    """Normalised latents (B, C, F, H, W) -> (B, C, F, 2H, 2W), AdaIN-matched to the input."""
    vae = pipe.vae
    raw = denormalize_latents(latents, vae.latents_mean, vae.latents_std, vae.config.scaling_factor)
    up = latent_upsampler(raw.to(latent_upsampler.dtype)).float()
    up = normalize_latents(up, vae.latents_mean, vae.latents_std, vae.config.scaling_factor)
    return adain_filter_latent(up, latents, adain_factor) if adain_factor > 0 else up


def resize_frames(video: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Video (B, C, F, h, w) -> (B, C, F, height, width), each frame resized bilinearly in float32 and returned in
    ``video``'s dtype; ``video`` itself when it already has that size (4K mode's decode: a bilinear resize to the
    same size is the identity).

    The result is laid out frame by frame (a (B F, C, height, width) buffer, as the pipelines' ``"pt"`` output) and
    filled one frame at a time: besides the input and the result, one frame in float32 is alive (since 2026-12-07:
    the whole video was copied to float32, resized and cast back, five times a 16-bit video at the call's peak)."""
    batch, channels, num_frames = video.shape[:3]
    if tuple(video.shape[3:]) == (height, width):
        return video
    out = torch.empty(batch * num_frames, channels, height, width, dtype=video.dtype, device=video.device)
    for index in range(batch * num_frames):  # (flattening the transposed batch would copy the video when B > 1)
        frame = video[index // num_frames, :, index % num_frames]
        out[index] = torch.nn.functional.interpolate(frame[None].float(), size=(height, width), mode="bilinear",
                                                     align_corners=False)[0]
    return out.unflatten(0, (batch, num_frames)).transpose(1, 2)


_SET_PER_PASS = ("height", "width", "num_frames", "latents", "output_type", "return_dict")


def _check_pass_keys(pipe, first_pass: dict, second_pass: dict) -> None:
    """The pass dicts' keys: a call's arguments, not those generate_multiscale sets for each pass (they were ignored
    without a word) nor the audio stream's (multi-scale is video-only); an unknown key was a TypeError after the first
    pass."""
    accepted = set(inspect.signature(type(pipe).__call__).parameters) - {"self"}
    for name, values in (("first_pass", first_pass), ("second_pass", second_pass)):
        for key in values:
            if key in _SET_PER_PASS:
                raise ValueError(f"`{name}` sets `{key}`, which generate_multiscale sets for each pass: give "
                                 f"{key}= to generate_multiscale itself.")
            if key.startswith("audio") or key == "generate_audio":
                raise ValueError(f"`{name}` sets `{key}`: multi-scale generation is video-only for now.")
            if key not in accepted:
                raise ValueError(f"`{name}` has an unknown argument `{key}`; a pass takes {type(pipe).__name__}'s call "
                                 "arguments (guidance_scale, stg_scale, timesteps, denoise_strength, ...).")


def _check_second_pass(pipe, call: dict, num_prompts: int, num_frames: int) -> None:
    """Every argument of the second pass checked as its call checks them, before the first pass runs a model: the
    call stops right after its checks (``ArgumentsChecked``), with stand-in latents of the upsampled size."""
    padding = Padding(call["height"], call["width"], num_frames, pipe.vae_spatial_compression_ratio,
                      pipe.vae_temporal_compression_ratio)
    per_prompt = call.get("num_videos_per_prompt")
    batch = num_prompts * (per_prompt if isinstance(per_prompt, int) and not isinstance(per_prompt, bool) else 1)
    stand_in = torch.zeros(batch, pipe.transformer.config.in_channels, *padding.latent_size)
    try:
        with checking_only():
            pipe(**{**call, "latents": stand_in})
    except ArgumentsChecked:
        return
    except ValueError as error:
        raise ValueError(f"second pass (the call's arguments with `second_pass` on top): {error}") from None


class _PaddedKeyframe(Keyframe):
    """A keyframe whose media were read at the requested size and padded: LTX-Video's (1, 3, F, H, W) in [-1, 1],
    read as ``conditioning_items`` are (each pass resizes them as it resizes ``image=``'s)."""

    @property
    def kind(self) -> str:
        return "ltx"


def _padded_keyframe(pipe, keyframe: Keyframe, padding: Padding, height: int, width: int, num_frames: int) -> Keyframe:
    """``keyframe`` with its media read at the requested size and padded once, as the conditions are."""
    pixels = pipe.load_condition_media(keyframe.image_or_clip, height, width, num_frames, keyframe.frame_index,
                                       keyframe.kind, f"keyframes[frame {keyframe.frame_index}]")
    return _PaddedKeyframe(padding.pad_media(pixels), keyframe.frame_index, keyframe.strength, keyframe.placement)


def _given_or_zero(value):
    """``value``, or 0.0 for None (``value or 0.0`` asked an array or tensor of several values for its truth)."""
    return 0.0 if value is None else value


@torch.no_grad()
def generate_multiscale(
    pipe,
    *,
    latent_upsampler=None,
    downscale_factor: float = 0.6666666,
    first_pass: dict[str, Any] | None = None,
    second_pass: dict[str, Any] | None = None,
    adain_factor: float = 1.0,
    height: int | None = None,
    width: int | None = None,
    output_type: str = "pil",
    return_dict: bool = True,
    **kwargs,
) -> LTXPipelineOutput | tuple:
    """Run ``pipe`` twice around the latent upsampler; ``kwargs`` go to both passes, the pass dicts on top."""
    upsampler = latent_upsampler if latent_upsampler is not None else getattr(pipe, "latent_upsampler", None)
    if upsampler is None:
        raise ValueError("multi-scale generation needs a `latent_upsampler` (diffusers' LTXLatentUpsamplerModel).")
    if output_type not in ("pil", "np", "pt", "latent"):
        raise ValueError(f"`output_type` must be one of ('pil', 'np', 'pt', 'latent'), got {output_type!r}.")
    check_real("adain_factor", adain_factor, 0.0, 1.0)
    from ltx_video.pipelines.four_k import inside_4k

    if getattr(pipe, "four_k_mode", None) is not None and not inside_4k():
        raise ValueError("4K mode runs its own two passes: call pipe.disable_4k_mode() before multi-scale generation.")
    check_latent_upsampler(pipe, upsampler)
    first_pass, second_pass = dict(first_pass or {}), dict(second_pass or {})
    ltx_keys = sorted({"skip_initial_inference_steps", "skip_final_inference_steps"} & (set(first_pass) | set(second_pass)))
    if ltx_keys:
        raise ValueError(f"{ltx_keys[0]} is an LTX-Video YAML key: ltx_video.configs.load_config turns a config's "
                         "passes into `timesteps`; here give each pass `timesteps` (0..1000).")
    _check_pass_keys(pipe, first_pass, second_pass)
    # Left out: the model's generation defaults, else diffusers' (as a call's), so both passes see one size.
    height, width, kwargs["num_frames"] = pipe.call_defaults(height=height, width=width, num_frames=kwargs.get("num_frames"))
    for name, value in (("height", height), ("width", width), ("num_frames", kwargs["num_frames"])):
        # as a call refuses them, before the first pass (a float height failed in torch after both passes)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
    smallest = smallest_side(downscale_factor, pipe.vae_spatial_compression_ratio)
    if min(height, width) < smallest:  # said of the padded size before: "a 32x32 video" for a 20x20 request
        raise ValueError(f"`height` and `width` must be at least {smallest} px with `downscale_factor` "
                         f"{downscale_factor} (a smaller side leaves the first pass empty), got {height}x{width}.")
    padding = Padding(height, width, kwargs["num_frames"], pipe.vae_spatial_compression_ratio)
    h1, w1 = first_pass_size(padding.padded_height, padding.padded_width, downscale_factor)
    second_timesteps = second_pass.get("timesteps", kwargs.get("timesteps"))
    second_strength = second_pass.get("denoise_strength", kwargs.get("denoise_strength", 1.0))
    check_real("second_pass denoise_strength", second_strength, 0.0, 1.0)
    if second_timesteps is not None and (isinstance(second_timesteps, str) or len(second_timesteps) == 0):
        raise ValueError(f"`second_pass` `timesteps` must be a non-empty list in 0..1000, got {second_timesteps!r}.")
    refine = second_strength < 1.0  # diffusers' refine
    if not refine and (second_timesteps is None or float(second_timesteps[0]) >= 1000):
        raise ValueError("the second pass must keep the upsampled latents: give `second_pass` `timesteps` starting "
                         "below 1000 (LTX-Video's configs) or a `denoise_strength` below 1 (diffusers' refine).")

    # Conditions are loaded at the requested size and padded once, as LTX-Video's inference.py does; each
    # pass then resizes the padded media to its own size, so keyframes stay where the final crop expects them.
    num_frames = kwargs["num_frames"]
    num_prompts = count_prompts(kwargs.get("prompt"), kwargs.get("prompt_embeds"))
    raw = collect_conditions(
        kwargs.pop("conditions", None), kwargs.pop("image", None), kwargs.pop("video", None),
        kwargs.pop("frame_index", 0), kwargs.pop("strength", 1.0), kwargs.pop("conditioning_items", None),
        num_prompts,
    )
    items = [
        ConditioningItem(padding.pad_media(pipe.load_condition_media(c.media, height, width, num_frames, c.frame_index,
                                                                     c.kind, c.argument)), c.frame_index, c.strength)
        for c in raw
    ]
    kwargs["conditioning_items"] = items or None
    if kwargs.get("keyframes"):  # padded once at the requested size, as the conditions above (stretched per pass before)
        given = MultiKeyframeProcessor.check(kwargs["keyframes"], num_frames, pipe.vae_temporal_compression_ratio)
        kwargs["keyframes"] = [_padded_keyframe(pipe, k, padding, height, width, num_frames) for k in given]
    decode_args = {k: second_pass.pop(k, kwargs.pop(k, None)) for k in _DECODE_KEYS}
    first_pass.pop("tone_map_compression_ratio", None)
    if output_type != "latent":  # read after both passes: checked before the first
        per_prompt = kwargs.get("num_videos_per_prompt")  # its own check comes with the first pass's
        videos = num_prompts * (per_prompt if isinstance(per_prompt, int) and not isinstance(per_prompt, bool) else 1)
        check_decode_arguments(_given_or_zero(decode_args["decode_timestep"]), decode_args["decode_noise_scale"],
                               _given_or_zero(decode_args["tone_map_compression_ratio"]), videos)
    generator = kwargs.get("generator")

    first_call = {**kwargs, **first_pass, "height": h1, "width": w1, "output_type": "latent"}
    second_call = {**kwargs, **second_pass, "height": 2 * h1, "width": 2 * w1, "output_type": "latent"}
    for call, scale in ((first_call, 1), (second_call, 2)):  # a camera (the call's, or the pass's own) moves the
        # video's pixels per frame at each pass's size (each pass moved `speed` of its own pixels until 2026-12-07:
        # twice as fast in the half-size first pass)
        if isinstance(call.get("camera"), (Camera, CameraController)):
            call["camera"] = call["camera"].at_scale(scale * h1 / padding.padded_height, scale * w1 / padding.padded_width)
    _check_second_pass(pipe, second_call, num_prompts, num_frames)  # before the first pass runs a model
    second = first = pipe(**first_call).frames
    # A callback that stopped the first pass (pipe._interrupt) stops the run: its latents are what comes out (decoded
    # at their size and scaled to the video's), as a stopped call decodes its latents so far.
    if not pipe.interrupt:
        upsampled = upsample_latents(pipe, upsampler, first, adain_factor)
        second = pipe(**{**second_call, "latents": upsampled}).frames
    if output_type == "latent":
        return holds_latents(LTXPipelineOutput(frames=second), "latent") if return_dict else (second,)

    decoded = pipe.decode_latents(
        second,
        decode_timestep=_given_or_zero(decode_args["decode_timestep"]),
        decode_noise_scale=decode_args["decode_noise_scale"],
        tone_map_compression_ratio=_given_or_zero(decode_args["tone_map_compression_ratio"]),
        generator=generator,
        dtype=pipe.transformer.dtype,
    )
    video = resize_frames(decoded, padding.padded_height, padding.padded_width)
    video = postprocess_video(pipe.video_processor, padding.crop(video), output_type)  # in place: no device copy
    return LTXPipelineOutput(frames=video) if return_dict else (video,)
