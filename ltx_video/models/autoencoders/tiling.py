"""Tiled VAE decoding whose memory is bounded by the tile, not the frame.

The latents are cut into overlapping tiles in space (``tile_size`` pixels square) and time
(``tile_frames`` frames); each tile is decoded alone and added, weighted, into one output buffer (a float32 or
float64 decoder's own; for a 16-bit decoder, one float32 slab of the current temporal tile's frames, flushed into
an output of its dtype). The weights are linear ramps over each overlap, normalised per axis so that they sum to exactly one
everywhere: tiles blend without seams, and a decoder that is local in space and time gives exactly its
untiled output (tested). Only one tile's activations are alive at a time, and the output buffer can live on
another device (``output_device="cpu"`` keeps a GPU's memory to one tile).

This differs from diffusers' ``AutoencoderKLLTXVideo.enable_tiling()``, which keeps every decoded tile, then
the blended rows, then the output (about three output-sized buffers on the decoding device) and decodes all
frames of a tile together unless frame-wise decoding is also switched on.

Time follows LTX-Video's causal latent layout: latent frame 0 is pixel frame 0, latent frame ``j > 0`` covers
pixel frames ``(j - 1) r + 1 ... j r``. A tile of latent frames ``[a, b)`` decodes to ``1 + (b - a - 1) r``
frames, pixel frames ``a r ... (b - 1) r``: its first latent frame decodes to one frame, the last of its
group, which the previous tile covers fully, so that frame gets the smallest blend weight.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

__all__ = ["TilingConfig", "blend_weights", "checked_tiling", "tile_spans", "tiled_decode"]


@dataclass(frozen=True)
class TilingConfig:
    """Tile sizes for :func:`tiled_decode`, in pixels and pixel frames.

    Args:
        tile_size: side of the square spatial tiles, in pixels (a multiple of the VAE's spatial compression).
        tile_overlap: pixels shared by neighbouring tiles (a multiple of the spatial compression, less than
            ``tile_size``).
        tile_frames: frames per temporal tile beyond its first (a multiple of the temporal compression); a
            tile of latent frames decodes ``tile_frames + 1`` frames.
        frame_overlap: frames shared by consecutive temporal tiles beyond the one they always share (a multiple
            of the temporal compression, less than ``tile_frames``).
        output_device: where the decoded video is assembled (``None``: the latents' device). ``"cpu"`` on a GPU
            keeps the GPU's decoding memory to one tile; the video then arrives on the CPU. Refused here if torch
            cannot allocate on it ("meta", a backend or device index this machine lacks).
    """

    tile_size: int = 512
    tile_overlap: int = 64
    tile_frames: int = 64
    frame_overlap: int = 24
    output_device: str | torch.device | None = None

    def __post_init__(self) -> None:
        for name in ("tile_size", "tile_overlap", "tile_frames", "frame_overlap"):
            # taken as HierarchicalVAE.enable_tiling takes diffusers' sizes: NumPy ints and whole-number floats
            object.__setattr__(self, name, _whole_number(getattr(self, name)))
        for name in ("tile_size", "tile_frames"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TilingConfig.{name} must be a positive integer (such as 512, or 512.0), got "
                                 f"{value!r}.")
        for name, limit in (("tile_overlap", "tile_size"), ("frame_overlap", "tile_frames")):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < getattr(self, limit):
                raise ValueError(
                    f"TilingConfig.{name} must be an integer in [0, {limit}={getattr(self, limit)}), got {value!r}."
                )
        if self.output_device is not None:
            if not isinstance(self.output_device, (str, torch.device)):
                raise ValueError(f"TilingConfig.output_device must be a device name such as 'cpu' or 'cuda:0', or a "
                                 f"torch.device, got {self.output_device!r}.")
            try:
                device = torch.device(self.output_device)
            except RuntimeError:
                raise ValueError(f"TilingConfig.output_device must be a device name such as 'cpu' or 'cuda:0', got "
                                 f"{self.output_device!r}.") from None
            problem = _unusable(device)
            if problem:  # found after the whole denoising otherwise, or (meta) an empty video returned silently
                raise ValueError(f"TilingConfig.output_device is {self.output_device!r}, but {problem}; use 'cpu', "
                                 "None (the latents' device) or an accelerator this machine has, such as 'cuda:0'.")

    def check(self, spatial_ratio: int, temporal_ratio: int) -> None:
        """ValueError unless every size divides by the VAE's compression (``spatial_ratio`` x ``temporal_ratio``)."""
        for name, ratio, unit in (
            ("tile_size", spatial_ratio, "spatial"), ("tile_overlap", spatial_ratio, "spatial"),
            ("tile_frames", temporal_ratio, "temporal"), ("frame_overlap", temporal_ratio, "temporal"),
        ):
            value = getattr(self, name)
            if value % ratio:
                # a suggestion that is itself accepted: an overlap stays below its tile (64 for 32 of 64 was refused)
                limit = {"tile_overlap": self.tile_size, "frame_overlap": self.tile_frames}.get(name)
                fits = [m for m in (round(value / ratio) * ratio, value // ratio * ratio, (value // ratio + 1) * ratio)
                        if m > 0 and (limit is None or m < limit)] or [0]
                raise ValueError(
                    f"TilingConfig.{name} must be a multiple of the VAE's {unit} compression {ratio}, got {value} "
                    f"(try {fits[0]})."
                )


def _whole_number(value):
    """``value`` as a Python int when it is a whole number (a NumPy or 0-d tensor integer, a float such as 512.0),
    else unchanged for the checks to refuse (a bool stays a bool)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return int(value) if math.isfinite(value) and float(value).is_integer() else value
    try:
        return operator.index(value)  # int, NumPy integers, 0-d integer tensors
    except TypeError:
        return value


def _unusable(device: torch.device) -> str | None:
    """Why the video cannot be assembled on ``device`` (None if it can), checked without running a model."""
    if device.type == "meta":
        return "a meta tensor holds no data (the decoded video would be empty)"
    backend = getattr(torch, device.type, None)
    if device.type != "cpu" and callable(getattr(backend, "is_available", None)) and hasattr(backend, "device_count"):
        # cuda, xpu, mps, mtia: asked without allocating, so no accelerator context is created here
        name = device.type.upper()
        if not backend.is_available():
            return f"this machine has no {name} device"
        count = backend.device_count()
        if device.index is not None and device.index >= count:
            return f"this machine has {count} {name} device(s), '{device.type}:0' to '{device.type}:{count - 1}'"
        return None
    try:  # any other backend: a tiny allocation says whether torch can use it
        torch.empty(0, device=device)
    except Exception as error:  # backends fail with NotImplementedError, AssertionError, RuntimeError, ...
        return f"torch cannot allocate on it here ({type(error).__name__})"
    return None


def tile_spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """Spans ``[start, end)`` covering ``range(length)`` with the fewest tiles of at most ``tile`` cells that
    overlap by at least ``overlap``, all of one size and evenly spread (no thin tile at the edge, and no more
    overlap than needed). One span when ``length <= tile``."""
    if length <= tile:
        return [(0, length)]
    count = math.ceil((length - overlap) / (tile - overlap))
    size = math.ceil((length + (count - 1) * overlap) / count)
    starts = [(i * (length - size)) // (count - 1) for i in range(count)]
    return [(start, start + size) for start in starts]


def blend_weights(
    spans: list[tuple[int, int]], length: int, dtype: torch.dtype = torch.float32
) -> list[torch.Tensor]:
    """One weight vector per span (pixel units, in ``dtype``): 1 inside, linear ramps over the overlaps with the
    previous and next span, then divided by the sum over spans (in float64) so the weights add up to exactly 1 at
    every position, to ``dtype``'s rounding."""
    weights = []
    for i, (start, end) in enumerate(spans):
        w = torch.ones(end - start, dtype=torch.float64)
        if i > 0 and spans[i - 1][1] > start:
            ramp = spans[i - 1][1] - start
            w[:ramp] = torch.arange(1, ramp + 1, dtype=torch.float64) / (ramp + 1)
        if i + 1 < len(spans) and spans[i + 1][0] < end:
            ramp = end - spans[i + 1][0]
            w[-ramp:] = torch.minimum(w[-ramp:], torch.arange(ramp, 0, -1, dtype=torch.float64) / (ramp + 1))
        weights.append(w)
    total = torch.zeros(length, dtype=torch.float64)
    for (start, end), w in zip(spans, weights, strict=True):
        total[start:end] += w
    return [(w / total[start:end]).to(dtype) for (start, end), w in zip(spans, weights, strict=True)]


def checked_tiling(tiling: TilingConfig | None, spatial_ratio: int, temporal_ratio: int) -> TilingConfig:
    """``tiling`` (default ``TilingConfig()``) checked against a VAE's compression; ValueError naming `tiling`."""
    tiling = TilingConfig() if tiling is None else tiling
    if not isinstance(tiling, TilingConfig):
        raise ValueError(f"`tiling` must be a TilingConfig, got {type(tiling).__name__}.")
    tiling.check(spatial_ratio, temporal_ratio)
    return tiling


def tiled_decode(
    decode: Callable[[torch.Tensor], torch.Tensor],
    latents: torch.Tensor,
    config: TilingConfig,
    *,
    spatial_ratio: int,
    temporal_ratio: int,
    progress: bool | dict = False,
) -> torch.Tensor:
    """Latents (B, C, F, h, w) -> video (B, 3, 1 + (F - 1) r, h s, w s), decoding one tile at a time.

    ``decode`` maps a latent tile to its pixels (``lambda z: vae.decode(z, temb, return_dict=False)[0]``). The
    output has ``decode``'s dtype, as an untiled decode, on ``config.output_device`` (default: the latents'
    device). ``progress``: a bar over the tiles (True), or tqdm's options for it (a pipeline's
    ``set_progress_bar_config``).

    A float32 or float64 ``decode`` is blended in its dtype, straight into the output (since 2026-12-08 for float64:
    it went through the float32 slab below, float32-precise). A 16-bit one (bfloat16, float16) is blended in
    float32: the output is held in that dtype, and a float32 buffer holds only the frames of the current
    temporal tile (``tile_frames + 1`` frames at the full height and width), written into the output once no later
    tile reaches them: the output device holds the video in its own dtype plus that one slab, reused for every
    temporal tile, not a float32 copy of the whole video. (since 2026-12-07: the output was always float32, so a bf16 pipeline's ``output_type="pt"`` came
    back float32 with tiling only, in a buffer twice the video's size.)
    """
    if latents.ndim != 5:
        raise ValueError(f"tiled_decode: `latents` must be (B, C, F, h, w), 5 dimensions, got shape "
                         f"{tuple(latents.shape)}.")
    config.check(spatial_ratio, temporal_ratio)
    batch, _, num_latent_frames, height, width = latents.shape
    r, s = temporal_ratio, spatial_ratio
    tile, overlap = config.tile_size // s, config.tile_overlap // s
    rows, cols = tile_spans(height, tile, overlap), tile_spans(width, tile, overlap)
    # temporal tiles of latent frames [a, b) decode pixel frames [a r, (b - 1) r]: spans in "pixel-frame" units
    frames_tile = config.tile_frames // r + 1  # latent frames per tile; consecutive tiles share frame_overlap / r + 1
    times = tile_spans(num_latent_frames, frames_tile, config.frame_overlap // r + 1)
    pixel_times = [(a * r, (b - 1) * r + 1) for a, b in times]
    num_frames = (num_latent_frames - 1) * r + 1
    # float64 here, cast to the blend's dtype per tile: a float32 blend gets the same weights as float32 ones would be
    weights_t = blend_weights(pixel_times, num_frames, torch.float64)
    weights_h = blend_weights([(a * s, b * s) for a, b in rows], height * s, torch.float64)
    weights_w = blend_weights([(a * s, b * s) for a, b in cols], width * s, torch.float64)

    device = torch.device(config.output_device) if config.output_device is not None else latents.device
    out = slab = None  # slab: float32 sums of pixel frames [slab_start, ...) when the output is not float32
    slab_start = 0
    # time-major order: once temporal tile t starts, the frames before it are final (spans only move forward)
    tiles = [(t, i, j) for t in range(len(times)) for i in range(len(rows)) for j in range(len(cols))]
    # the pipeline's bar settings, but its own label (a set_progress_bar_config(desc=...) named the tiles "denoising")
    options = {**(progress if isinstance(progress, dict) else {"disable": not progress}), "desc": "VAE tiles"}
    if len(tiles) == 1:
        options["disable"] = True
    for t, i, j in tqdm(tiles, **options):
        (a, b), (y0, y1), (x0, x1) = times[t], rows[i], cols[j]
        pixels = decode(latents[:, :, a:b, y0:y1, x0:x1])
        expected = (pixel_times[t][1] - pixel_times[t][0], (y1 - y0) * s, (x1 - x0) * s)
        if tuple(pixels.shape[2:]) != expected:
            raise ValueError(
                f"tiled_decode: a latent tile {tuple(latents[:, :, a:b, y0:y1, x0:x1].shape[2:])} decoded to "
                f"{tuple(pixels.shape[2:])} frames x pixels, expected {expected} for spatial_ratio={s}, "
                f"temporal_ratio={r}."
            )
        start, end = pixel_times[t]
        if out is None:
            shape = (batch, pixels.shape[1], num_frames, height * s, width * s)
            # float32 and float64 blend in their own dtype (since 2026-12-08 for float64: it went through a float32
            # slab, float32-precise); 16-bit dtypes in float32
            direct = pixels.dtype in (torch.float32, torch.float64)
            blend = pixels.dtype if direct else torch.float32
            out = (torch.zeros if direct else torch.empty)(shape, dtype=pixels.dtype, device=device)
        if not direct and i == 0 and j == 0:  # a new temporal tile: keep its frames, and the overlap, in float32
            if slab is None:  # one buffer for every temporal tile (since 2026-12-07: a new one was allocated while
                # the previous was alive, two slabs at each temporal step)
                slab_frames = max(last - first for first, last in pixel_times)
                slab = torch.zeros(batch, out.shape[1], slab_frames, height * s, width * s, dtype=blend, device=device)
            else:
                shift = start - slab_start  # frames of the previous temporal tile that no later tile reaches
                out[:, :, slab_start:start] = slab[:, :, :shift]
                carried = pixel_times[t - 1][1] - start  # frames the previous temporal tile shares with this one
                for k in range(0, carried, shift):  # moved to the front, `shift` frames at a time: a copy never
                    n = min(shift, carried - k)  # overlaps itself, and reads frames not yet overwritten
                    slab[:, :, k : k + n] = slab[:, :, k + shift : k + shift + n]
                slab[:, :, max(carried, 0) :].zero_()
            slab_start = start
        w = (
            weights_t[t].to(pixels.device, blend)[:, None, None]
            * weights_h[i].to(pixels.device, blend)[None, :, None]
            * weights_w[j].to(pixels.device, blend)[None, None, :]
        )
        target, offset = (out, 0) if direct else (slab, slab_start)
        target[:, :, start - offset : end - offset, y0 * s : y1 * s, x0 * s : x1 * s] += (pixels.to(blend) * w).to(device)
        del pixels, w
    if slab is not None:
        out[:, :, slab_start:] = slab[:, :, : num_frames - slab_start]
    return out
