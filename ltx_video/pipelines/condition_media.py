"""Step 4: conditioning media read (:mod:`ltx_video.conditioning.media`), trimmed, padded and VAE-encoded, and
the starting latents with the conditions applied, for ``LTXVideoPipeline`` and ``LTXAudioVideoPipeline``."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import torch
from diffusers.utils.torch_utils import randn_tensor

from ltx_video.conditioning.items import ConditioningState, KeyframeCondition, latent_positions, pack, unpack
from ltx_video.conditioning.media import argument_name, read_condition_media
from ltx_video.conditioning.multi_keyframe_processor import MultiKeyframeProcessor
from ltx_video.pipelines import denoising
from ltx_video.pipelines.inputs import ConditionInput
from ltx_video.pipelines.latent_ops import Padding, normalize_latents

logger = logging.getLogger(__name__)

__all__ = ["ConditionMediaMixin"]


class ConditionMediaMixin:
    """Needs ``media_processor`` (a ``VideoProcessor`` that resizes to the exact size), ``vae``, ``transformer``,
    ``_execution_device`` and the VAE's compression ratios."""

    def load_condition_media(
        self, media, height: int, width: int, num_frames: int, frame_index: int, kind: str = "ltx",
        argument: str | None = None,
    ) -> torch.Tensor:
        """Media read as ``kind`` (see :mod:`ltx_video.conditioning.media`) -> (N, 3, F, H, W) in [-1, 1] at
        (height, width), F = 8k + 1, trimmed to fit the video from ``frame_index`` on."""
        room = num_frames - frame_index
        # one frame more than fits: a file's clip read that far tells a longer clip from one that fits
        pixels = read_condition_media(media, kind, self.media_processor, height, width, room + 1, argument)
        ratio = self.vae_temporal_compression_ratio
        given = pixels.shape[2]
        kept = (min(given, room) - 1) // ratio * ratio + 1
        if kept < given:  # a clip's frames dropped without a word before (a sound for a given video: made-up frames)
            # why: the room left, a length of 1 + ratio * k (the VAE's frames: 1, 1 + ratio, ...), or both (since
            # 2026-12-07 both are said: "cut to 1 (the video holds 4 frames ...)" left the 1 unexplained)
            form = f"1 + {ratio}k frames: 1, {1 + ratio}, {1 + 2 * ratio} ..."
            room_text = f"the video holds {room} frame{'s' * (room != 1)} from frame {frame_index} on"
            if given <= room:
                why = f"a clip at frame {frame_index} keeps {form}"
            elif kept < room:
                why = f"{room_text}, and a clip keeps {form}"
            else:
                why = room_text
            read_only_part = isinstance(media, (str, Path)) and given > room  # a file is read one frame past room
            count = f"more than {room}" if read_only_part else str(given)
            logger.warning("`%s`: the clip's %s frames are cut to %d (%s).", argument or argument_name(kind), count,
                           kept, why)
        return pixels[:, :, :kept]

    def prepare_condition_media(
        self, conditions: list[ConditionInput], padding: Padding, num_prompts: int
    ) -> list[tuple[torch.Tensor, int, float]]:
        """Conditions -> (pixels (N, 3, F, H, W) padded like the video, frame, strength); N is 1 or one per prompt."""
        loaded = []
        for condition in conditions:
            media, kind, frame, strength, argument = condition  # ConditionInput's fields
            pixels = self.load_condition_media(media, padding.height, padding.width, padding.num_frames, frame, kind,
                                               argument)
            if pixels.shape[2] > 1 and frame % self.vae_temporal_compression_ratio:
                raise ValueError(
                    f"`frame_index` of a video condition must be a multiple of {self.vae_temporal_compression_ratio} "
                    f"(its latent frames must line up with the video's, as LTX-Video requires); got {frame}."
                )
            if pixels.shape[0] not in (1, num_prompts):
                raise ValueError(
                    f"`{argument or argument_name(kind)}` holds a batch of {pixels.shape[0]} but there are {num_prompts} prompts: give one "
                    "image (or clip) for all, or one per prompt."
                )
            loaded.append((padding.pad_media(pixels), frame, strength))
        return loaded

    def encode_media(self, pixels: torch.Tensor, generator, batch_size: int = 1, one_by_one: bool = False) -> torch.Tensor:
        """(N, 3, F, H, W) pixels -> normalised latents (N or ``batch_size``, C, F', H', W'), sampled with
        ``generator``; one per prompt repeated for each video of the prompt. ``one_by_one`` encodes the media
        separately, drawing from ``generator[i]`` (or the one generator in turn), and normalises the sample in float32,
        as ``LTXImageToVideoPipeline`` (since 2026-12-07; before, in the VAE's dtype, as ``LTXConditionPipeline`` does,
        which rounded a bf16 VAE's image latents differently from diffusers' I2V).
        With one medium per prompt, several prompts, a generator list and several videos per prompt, video i's sample
        is drawn from ``generator[i]`` (since 2026-12-07: from its prompt's generator, so a video changed with
        another's). One medium for all the videos is sampled once, from the first generator, as diffusers'
        ``LTXConditionPipeline`` does."""
        pixels = pixels.to(self._execution_device, dtype=self.vae.dtype)
        count = pixels.shape[0]
        per_video = isinstance(generator, list) and 1 < count < batch_size
        repeats = batch_size // count
        if one_by_one and count > 1:
            dists = [self.vae.encode(pixels[i : i + 1]).latent_dist for i in range(count)]
            if per_video:  # diffusers' LTXImageToVideoPipeline fails here: each video as a call of its own
                latents = torch.cat([dists[i // repeats].sample(generator[i]) for i in range(batch_size)])
            else:
                latents = torch.cat([
                    dist.sample(generator[i] if isinstance(generator, list) else generator) for i, dist in enumerate(dists)
                ])
        else:
            dist = self.vae.encode(pixels).latent_dist
            if per_video:  # the encoder runs once per medium; each video draws its own sample (row i: generator[i])
                dist = type(dist)(dist.parameters.repeat_interleave(repeats, dim=0))
            latents = dist.sample(generator)
        if one_by_one:  # LTXImageToVideoPipeline casts its samples to float32 before normalising them
            latents = latents.float()
        latents = normalize_latents(latents, self.vae.latents_mean, self.vae.latents_std, self.vae.config.scaling_factor)
        if 1 < latents.shape[0] < batch_size:  # num_videos_per_prompt > 1, one generator: the prompt's sample repeated
            latents = latents.repeat_interleave(batch_size // latents.shape[0], dim=0)
        return latents

    def prepare_latents(
        self,
        *,
        batch_size: int,
        num_frames: int,
        height: int,
        width: int,
        frame_rate: float,
        conditions: list[tuple[torch.Tensor, int, float]],
        first_sigma: float,
        latents: torch.Tensor | None,
        generator,
        causal_temporal_positioning: bool,
        encode_before_noise: bool = False,
        draw_noise=None,
        held: list | None = None,
    ) -> denoising.LatentState:
        """Noise (or given latents), conditions applied in order, packed into tokens with positions in seconds.

        The generator is drawn in LTXConditionPipeline's order (noise, then each condition), or with
        ``encode_before_noise`` in LTXPipeline's and LTXImageToVideoPipeline's (the media first, then the noise, none
        for ``latents`` that start at sigma 1, as ``LTXPipeline`` takes them: since 2026-12-07; noise was drawn and
        left unused, so the decode noise and an audio track's noise came from later draws). ``draw_noise(shape,
        generator, device)`` replaces ``randn_tensor`` for the starting noise (a camera's warped noise). ``held``:
        ``(latents (B|1, C, h, w), frame_index, strength)`` of in-place keyframes, written into their latent frames
        after the conditions (:meth:`MultiKeyframeProcessor.place_in_grid`).
        """
        device = self._execution_device
        t_ratio, s_ratio = self.vae_temporal_compression_ratio, self.vae_spatial_compression_ratio
        shape = (batch_size, self.transformer.config.in_channels, (num_frames - 1) // t_ratio + 1,
                 height // s_ratio, width // s_ratio)
        encoded = None
        if encode_before_noise:
            encoded = [self.encode_media(pixels, generator, batch_size, one_by_one=True) for pixels, _, _ in conditions]
        # LTXConditionPipeline draws the noise even for given latents that replace it; LTXPipeline draws none
        starts_at_latents = latents is not None and first_sigma >= 1.0
        if encode_before_noise and starts_at_latents:
            noise = None
        elif draw_noise is None:
            noise = randn_tensor(shape, generator=generator, device=device, dtype=torch.float32)
        else:
            noise = draw_noise(shape, generator, device)
        if latents is not None:
            latents = latents.to(device=device, dtype=torch.float32)
            if latents.ndim == 3:  # packed (B, N, C), as diffusers' LTXPipeline takes them
                latents = unpack(latents, *shape[2:])
            if tuple(latents.shape) != shape:
                raise ValueError(f"`latents` must have shape {shape} (or packed), got {tuple(latents.shape)}.")
            # sigma0 = 1: the given latents are the initial noise (diffusers); below 1 they are noised to
            # sigma0 (LTX-Video, e.g. a multi-scale second pass).
            noise = latents if starts_at_latents else first_sigma * noise + (1 - first_sigma) * latents
        state = ConditioningState.from_noise(noise)
        for k, (pixels, frame_index, strength) in enumerate(conditions):
            keyframe = KeyframeCondition(
                latents=encoded[k] if encoded is not None else self.encode_media(pixels, generator, batch_size),
                frame_index=frame_index, strength=strength, num_pixel_frames=pixels.shape[2],
                temporal_scale=t_ratio, spatial_scale=s_ratio, causal=causal_temporal_positioning,
            )
            state = keyframe.apply_to(state, generator)
        for latents_held, frame_index, strength in held or ():
            grid, grid_mask = MultiKeyframeProcessor.place_in_grid(
                state.grid, state.grid_mask, latents_held, frame_index, strength, t_ratio
            )
            state = replace(state, grid=grid, grid_mask=grid_mask)
        conditioned = bool(conditions) or bool(held)
        coords = latent_positions(
            batch_size, *shape[2:], temporal_scale=t_ratio, spatial_scale=s_ratio,
            causal=causal_temporal_positioning, device=device,
        )
        tokens = torch.cat([state.prefix, pack(state.grid)], dim=1)
        positions = torch.cat([state.prefix_coords, coords], dim=2).float()
        positions[:, 0] = positions[:, 0] * (1.0 / frame_rate)
        mask = None
        if conditioned:
            mask = torch.cat([state.prefix_mask, state.grid_mask.repeat_interleave(shape[3] * shape[4], dim=1)], dim=1)
        return denoising.LatentState(
            latents=tokens, positions=positions, conditioning_mask=mask,
            clean_latents=tokens.clone() if conditioned else None, num_prefix_tokens=state.prefix.shape[1],
        )

    @torch.no_grad()
    def encode_media_mean(self, pixels: torch.Tensor) -> torch.Tensor:
        """(N, 3, F, H, W) pixels -> normalised latents (N, C, F', h, w), the VAE's mean (nothing drawn from a generator)."""
        vae = self.vae
        latents = vae.encode(pixels.to(self._execution_device, vae.dtype)).latent_dist.mean
        return normalize_latents(latents, vae.latents_mean, vae.latents_std, vae.config.scaling_factor).float()
