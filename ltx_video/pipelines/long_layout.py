"""Where each chunk of a long video lies on one latent timeline (:class:`ChunkLayout`), how long its overlap may be,
and each chunk's seed: the arithmetic of :mod:`ltx_video.pipelines.long_video`, checked before any model runs."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

__all__ = ["ChunkLayout", "chunk_seed", "default_overlap_frames", "max_overlap_frames"]


def chunk_seed(seed: int, index: int) -> int:
    """The seed of chunk ``index`` of a run seeded with ``seed``."""
    return (seed * 1_000_003 + index) % (2**63)


def max_overlap_frames(chunk_frames: int, ratio: int) -> int:
    """The longest overlap a chunk of ``chunk_frames`` takes: half its latent frames (each chunk's segment must hold at
    least the overlap that the next chunk cross-fades into it)."""
    return ratio * (((chunk_frames - 1) // ratio + 1) // 2)


def default_overlap_frames(chunk_frames: int, ratio: int) -> int:
    """Two latent frames, or one where the chunk is too short for two."""
    return max(ratio, min(2 * ratio, max_overlap_frames(chunk_frames, ratio)))


@dataclass(frozen=True)
class ChunkLayout:
    """Where each chunk lies on the global timeline; all counts are checked by :meth:`check`."""

    num_frames: int
    chunk_frames: int
    overlap_frames: int
    ratio: int  # the VAE's temporal compression

    @property
    def chunk_latents(self) -> int:
        return (self.chunk_frames - 1) // self.ratio + 1

    @property
    def overlap_latents(self) -> int:
        return self.overlap_frames // self.ratio

    @property
    def stride(self) -> int:
        return self.chunk_latents - self.overlap_latents

    @property
    def num_chunks(self) -> int:
        needed = math.ceil((self.num_frames - 1) / self.ratio) + 1
        return 1 if needed <= self.chunk_latents else math.ceil((needed - self.chunk_latents) / self.stride) + 1

    def check(self) -> None:
        r = self.ratio
        for name in ("num_frames", "chunk_frames", "overlap_frames"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):  # numpy's ints too
                raise ValueError(f"`{name}` must be an int, got {value!r}")
        if self.num_frames < 1:
            raise ValueError(f"`num_frames` must be >= 1, got {self.num_frames}")
        if self.chunk_frames < r + 1 or (self.chunk_frames - 1) % r:
            raise ValueError(f"`chunk_frames` must be {r}k + 1 with k >= 1 (the VAE's temporal compression is {r}), "
                             f"e.g. {6 * r + 1}; got {self.chunk_frames}")
        most = max_overlap_frames(self.chunk_frames, r)
        if self.overlap_frames % r or not r <= self.overlap_frames <= most:
            raise ValueError(f"`overlap_frames` must be a multiple of {r} in [{r}, {most}] (at least one latent frame, "
                             f"at most half a chunk of `chunk_frames` {self.chunk_frames}); got {self.overlap_frames}")

    def start(self, k: int) -> int:
        """Chunk ``k``'s first latent frame on the global timeline."""
        return k * self.stride

    def written(self, k: int) -> tuple[int, int]:
        """Chunk ``k``'s latent frames that its segment holds, local [0, end): up to the next chunk's overlap."""
        return 0, self.chunk_latents if k == self.num_chunks - 1 else self.stride

    def first_pixel(self, latent: int) -> int:
        """The first pixel frame of global latent frame ``latent`` (latent 0 is the single causal first frame)."""
        return 0 if latent == 0 else self.ratio * latent - (self.ratio - 1)

    def segment_pixels(self, k: int) -> tuple[int, int]:
        """Pixel frames [start, end) of chunk ``k``'s segment on the global timeline (the last cut to num_frames)."""
        start = self.first_pixel(self.start(k))
        end = self.first_pixel(self.start(k + 1)) if k < self.num_chunks - 1 else self.num_frames
        return start, min(end, self.num_frames)

    def chunk_pixels(self, k: int) -> tuple[int, int]:
        """Pixel frames [start, end) that chunk ``k`` generates (its segment and the next chunk's overlap)."""
        return self.first_pixel(self.start(k)), self.ratio * (self.start(k) + self.chunk_latents - 1) + 1

    def offset_seconds(self, k: int, frame_rate: float) -> float:
        """Global time of chunk ``k``'s local time 0 (its latent frames >= 1 sit at their global times minus this)."""
        return self.ratio * self.start(k) / frame_rate

    def audio_tokens(self, k: int, frame_rate: float, token_seconds: float) -> tuple[int, int]:
        """Global audio token indices [a, b) that cover chunk ``k``'s pixel frames."""
        start, end = self.chunk_pixels(k)
        return math.floor(start / frame_rate / token_seconds + 1e-9), math.ceil(end / frame_rate / token_seconds - 1e-9)
