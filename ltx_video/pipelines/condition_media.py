"""Step 4's media half: conditioning media read (:mod:`ltx_video.conditioning.media`), trimmed, padded and
VAE-encoded, for ``LTXVideoPipeline`` and ``LTXAudioVideoPipeline``."""

from __future__ import annotations

import torch

from ltx_video.conditioning.media import argument_name, read_condition_media
from ltx_video.pipelines.inputs import ConditionInput
from ltx_video.pipelines.latent_ops import Padding, normalize_latents

__all__ = ["ConditionMediaMixin"]


class ConditionMediaMixin:
    """Needs ``media_processor`` (a ``VideoProcessor`` that resizes to the exact size), ``vae`` and
    ``vae_temporal_compression_ratio``."""

    def load_condition_media(
        self, media, height: int, width: int, num_frames: int, frame_index: int, kind: str = "ltx"
    ) -> torch.Tensor:
        """Media read as ``kind`` (see :mod:`ltx_video.conditioning.media`) -> (N, 3, F, H, W) in [-1, 1] at
        (height, width), F = 8k + 1, trimmed to fit the video from ``frame_index`` on."""
        pixels = read_condition_media(media, kind, self.media_processor, height, width, num_frames - frame_index)
        ratio = self.vae_temporal_compression_ratio
        available = min(pixels.shape[2], num_frames - frame_index)
        return pixels[:, :, : (available - 1) // ratio * ratio + 1]

    def prepare_condition_media(
        self, conditions: list[ConditionInput], padding: Padding, num_prompts: int
    ) -> list[tuple[torch.Tensor, int, float]]:
        """Conditions -> (pixels (N, 3, F, H, W) padded like the video, frame, strength); N is 1 or one per prompt."""
        loaded = []
        for media, kind, frame, strength in conditions:
            pixels = self.load_condition_media(media, padding.height, padding.width, padding.num_frames, frame, kind)
            if pixels.shape[2] > 1 and frame % self.vae_temporal_compression_ratio:
                raise ValueError(
                    f"`frame_index` of a video condition must be a multiple of {self.vae_temporal_compression_ratio} "
                    f"(its latent frames must line up with the video's, as LTX-Video requires); got {frame}."
                )
            if pixels.shape[0] not in (1, num_prompts):
                raise ValueError(
                    f"`{argument_name(kind)}` holds a batch of {pixels.shape[0]} but there are {num_prompts} prompts: give one "
                    "image (or clip) for all, or one per prompt."
                )
            loaded.append((padding.pad_media(pixels), frame, strength))
        return loaded

    def encode_media(self, pixels: torch.Tensor, generator, batch_size: int = 1, one_by_one: bool = False) -> torch.Tensor:
        """(N, 3, F, H, W) pixels -> normalised latents (N or ``batch_size``, C, F', H', W'), sampled with
        ``generator``; one per prompt repeated for each video of the prompt. ``one_by_one`` encodes the media
        separately, drawing from ``generator[i]`` (or the one generator in turn), as ``LTXImageToVideoPipeline``."""
        pixels = pixels.to(self._execution_device, dtype=self.vae.dtype)
        if one_by_one and pixels.shape[0] > 1:
            latents = torch.cat([
                self.vae.encode(pixels[i : i + 1]).latent_dist.sample(
                    generator[i] if isinstance(generator, list) else generator
                )
                for i in range(pixels.shape[0])
            ])
        else:
            latents = self.vae.encode(pixels).latent_dist.sample(generator)
        latents = normalize_latents(latents, self.vae.latents_mean, self.vae.latents_std, self.vae.config.scaling_factor)
        if 1 < latents.shape[0] < batch_size:  # num_videos_per_prompt > 1
            latents = latents.repeat_interleave(batch_size // latents.shape[0], dim=0)
        return latents
