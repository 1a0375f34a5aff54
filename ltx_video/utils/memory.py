"""The memory planner: how much a generation needs, before it runs out of memory.

``estimate_memory`` predicts the peak of one transformer step (weights + activations + attention) and of
the VAE decode, from the transformer's config and the video size, without building any model (the
weights are counted on PyTorch's ``meta`` device). The activation terms come from what diffusers' LTX
code keeps alive at its peak, in units of one hidden-state tensor ``B x N x D`` (B: batch x guidance
passes, N: video tokens, D: model width):

- a transformer step holds the hidden states, the rotary tables (cos and sin, float32 whatever the
  dtype) and, inside a block, about 12.3 more hidden-state-sized tensors (the feed-forward's 4D-wide
  input and GELU output, or the attention's q, k, v and rotary temporaries); text adds ``B x T x D``
  terms (T = ``max_sequence_length``);
- a conditioned call (an image, keyframes, a clip, a long video's later chunks) passes one timestep per token, and
  diffusers' ``AdaLayerNormSingle`` then embeds each token's: ``temb`` (B x N x 6D) and ``embedded_timestep``
  (B x N x D) stay alive for the whole forward, and each block adds its ``scale_shift_table + temb`` (B x N x 6D),
  13 units in all (a scalar timestep makes them B x 1 x ...); conditioning after frame 0 appends tokens (an image
  one latent frame, a clip its first two, a long video's anchor one), which every term counts, and the media's
  pixels stay alive through the denoising (3 values per pixel-frame, in the dtype);
- attention adds nothing beyond that with fused kernels (SDPA flash / memory-efficient, FlexAttention,
  and ``ltx_chunked``, whose chunks run them), the N x N scores with the math kernel, and the band
  windows and the merge with ``ltx_block_sparse`` on the CPU (which merges 16-bit inputs in float32);
- the VAE decoder of LTX-Video 0.9.5-0.9.8 holds about 37 values per output pixel-frame at its peak in float32
  (its last stages run at H/4 x W/4 with 128 channels); a 16-bit decode peaks instead in those stages' RMSNorms,
  which diffusers computes from a float32 copy of the input and its square, beside 18.2 values in the dtype (planned
  26 % low before 2026-12-07, as half the float32 bytes; see ``vae_bytes_per_pixel_frame``); diffusers' tiling
  (``vae.enable_tiling()``) decodes 512 x 512 tiles over all frames and keeps the decoded tiles until it
  blends them, which the estimate follows tile by tile. With a :class:`TilingConfig` (this library's
  ``tiled_decode``), the peak is the largest tile's activations (the tiles as ``tiled_decode`` spreads them) or, if
  larger, its weighted copy (about 6 float32 values per tile pixel-frame, made after the decoder's activations are
  freed), plus the output buffer (3 values per
  pixel-frame: float32 in a float32 decode; in a 16-bit decode, since 2026-12-07, the output in that dtype plus a
  float32 slab of one temporal tile's frames at full size) unless ``output_device`` is another device than the
  decoding one (``device``; since 2026-12-08: any ``output_device`` set, the decoding one included, left it out).
  Until 2026-12-07 the copy was added to the activations: 9-15 % high on the CPU in float32, and within 3 % low of
  an H200's bfloat16 4K decodes (2026-12-04) only because the 16-bit activations were planned 26 % low; not
  re-measured on a GPU since. When one tile covers the video, its buffer and weighted
  copy come after the decoder's activations are freed: the untiled figure. The pipelines' postprocess denormalises
  the buffer in place (:mod:`ltx_video.pipelines.postprocess`), so the call's peak is the decode's
  (``output_type="pt"`` too, reordered in place since 2026-12-07; a multi-scale call whose second pass is not at the
  padded size holds its resized video, in the dtype, beside the decode's: not counted here).

The coefficients were measured on the CPU with PyTorch's memory tracker and are checked against
measured peaks at scaled-down configs by ``scripts/validate_memory_plan.py`` (docs/benchmarks.md lists
the error of each prediction). Allocator caching and fragmentation come on top on CUDA.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from ltx_video.models.autoencoders.tiling import TilingConfig, tile_spans
from ltx_video.utils.presets import LTX_VIDEO_2B, LTX_VIDEO_13B

__all__ = [
    "ATTENTION_MODES", "LTX_VIDEO_2B", "LTX_VIDEO_13B", "LiveTensorBytes", "MemoryEstimate", "estimate_memory",
]

ATTENTION_MODES = ("sdpa", "math", "ltx_chunked", "ltx_block_sparse")
COMPUTE_DTYPES = (torch.float32, torch.bfloat16, torch.float16)

BLOCK_UNITS = 12.3  # hidden-state-sized tensors alive at the peak inside a block (measured; see module doc)
ROPE_FLOAT32_UNITS = 2  # cos and sin tables, float32
#: Per-token timesteps: diffusers' LTX forward keeps ``temb`` (6 units) and ``embedded_timestep`` (1), and a block its
#: ``ada_values`` (6): from the code (transformer_ltx.py), and measured at 13.0 units in float32 and bfloat16.
PER_TOKEN_TIMESTEP_UNITS = 13
NUM_PREFIX_LATENT_FRAMES = 2  # latent frames a clip after frame 0 appends (LTX-Video; conditioning/items.py)
TEXT_UNITS = 4  # encoder states after the caption projection, the cross-attention keys and values, temporaries
BLOCK_SPARSE_MERGE_UNITS = 1.2  # the merge kernel's band windows, padded queries and merged output (CPU)
#: Float32 copies of the two partial outputs that the merge makes of 16-bit inputs (``lerp`` runs in float32), per
#: hidden-state value: counted at 4 bytes whatever the dtype. Alone, the merge held 20.4 bytes per value in float32
#: and 18.2 in bfloat16: 5.1 units of the dtype plus these two copies.
BLOCK_SPARSE_FLOAT32_COPIES = 2
#: Bytes per query-key score at the math kernel's peak: float32 scores, softmax mostly in place; 16-bit
#: inputs are scored and normalised in float32 (two float32 copies alive).
MATH_SCORE_BYTES = {4: 4.4, 2: 7.8}
VAE_VALUES_PER_PIXEL_FRAME = 37.0  # LTX-Video 0.9.5+ decoder, values alive per output pixel-frame (a convolution)
#: A 16-bit decode peaks in the last up block's RMSNorm (diffusers' ``RMSNorm`` without weights: ``x.to(float32)
#: .pow(2).mean(-1)``): two float32 copies of its 128-channel H/4 x W/4 input (8 values per pixel-frame each) beside
#: the input and the block's residual (8 each) and the up block's 256-channel input (2.2), in the dtype. Measured at
#: 100.4 bytes per pixel-frame in bfloat16 (2026-12-07). In float32 ``.to`` is a no-op: one copy, below the peak.
VAE_NORM_FLOAT32_VALUES = 16.0
VAE_NORM_VALUES = 18.2
TILE_BLEND_VALUES = 6.0  # tiled_decode: the tile in float32 and its weighted copy, per tile pixel-frame (float32)


def vae_bytes_per_pixel_frame(size: int) -> float:
    """Peak bytes per output pixel-frame of the LTX-Video 0.9.5+ decoder in ``size``-byte values: the larger of its
    convolution peak and, in 16 bits, its RMSNorms' float32 copies (:data:`VAE_NORM_FLOAT32_VALUES`)."""
    norm = VAE_NORM_VALUES * size + VAE_NORM_FLOAT32_VALUES * 4 if size < 4 else 0.0
    return max(VAE_VALUES_PER_PIXEL_FRAME * size, norm)


def _tiled_decode_bytes(height: int, width: int, tile: int, stride: int, size: int) -> float:
    """Peak bytes per frame of diffusers' spatial tiled decode (``AutoencoderKLLTXVideo.tiled_decode``) in
    ``size``-byte values, followed tile by tile: decoding a tile while the tiles before it are kept (3 channels
    each), then blending, when all tiles, the blended rows and the output are alive."""
    lat_h, lat_w, lat_tile, lat_stride = height // 32, width // 32, tile // 32, stride // 32
    sizes_h = [min(lat_tile, lat_h - i) * 32 for i in range(0, lat_h, lat_stride)]
    sizes_w = [min(lat_tile, lat_w - j) * 32 for j in range(0, lat_w, lat_stride)]
    kept, peak = 0.0, 0.0
    for h in sizes_h:
        for w in sizes_w:
            peak = max(peak, kept * size + vae_bytes_per_pixel_frame(size) * h * w)
            kept += 3 * h * w
    # each tile cropped to the stride, concatenated into rows, the rows into the output (cropped by a view)
    blended = 3 * sum(min(stride, h) for h in sizes_h) * sum(min(stride, w) for w in sizes_w)
    return max(peak, (kept + 2 * blended) * size)


def tiled_output_bytes(batch: int, frames: int, height: int, width: int, tile_frames: int, size: int) -> int:
    """Bytes of ``tiled_decode``'s output assembly for ``batch`` videos of ``frames x height x width`` pixels, decoded
    in ``size``-byte values: float32 and float64 tiles accumulate into the output itself (float64 since 2026-12-08);
    16-bit ones (since 2026-12-07) into one float32 slab of a temporal tile's ``tile_frames`` frames at the full
    size, beside the output in their dtype."""
    slab = 0 if size >= 4 else 3 * 4 * batch * tile_frames * height * width
    return 3 * size * batch * frames * height * width + slab


def _largest_tile(tiling: TilingConfig, frames: int, height: int, width: int) -> tuple[int, int]:
    """(pixel frames, pixels) of the largest tile ``tiled_decode`` decodes: its spans, evenly spread, can be
    smaller than ``tile_size`` / ``tile_frames``."""
    def largest(length: int, tile: int, overlap: int) -> int:
        return max(end - start for start, end in tile_spans(length, tile, overlap))

    cells = tiling.tile_size // 32, tiling.tile_overlap // 32
    latent_frames = largest((frames - 1) // 8 + 1, tiling.tile_frames // 8 + 1, tiling.frame_overlap // 8 + 1)
    return (latent_frames - 1) * 8 + 1, largest(height // 32, *cells) * 32 * largest(width // 32, *cells) * 32


@dataclass(frozen=True)
class MemoryEstimate:
    """Predicted peak bytes. ``weights + activations + attention`` is one transformer step;
    ``vae_decode`` the decoder's activations (its weights not included); ``total`` the larger of the two
    phases plus the transformer's weights (which stay loaded while decoding unless offloaded)."""

    weights: int
    activations: int
    attention: int
    vae_decode: int
    total: int

    @property
    def transformer_step(self) -> int:
        return self.weights + self.activations + self.attention

    def __str__(self) -> str:
        rows = [("transformer weights", self.weights), ("activations (one step)", self.activations),
                ("attention", self.attention), ("VAE decode", self.vae_decode), ("total", self.total)]
        return "\n".join(f"{name:<24}{value / 2**30:9.2f} GiB" for name, value in rows)


def _init_config(config: dict) -> dict:
    """The keys ``LTXVideoTransformer3DModel.__init__`` takes: a saved config with a key this diffusers does not know
    loads with ``from_pretrained`` (diffusers drops it), so the plan drops it too rather than fail."""
    import inspect

    from diffusers import LTXVideoTransformer3DModel

    parameters = inspect.signature(LTXVideoTransformer3DModel.__init__).parameters
    return {key: value for key, value in config.items() if key in parameters and key != "self"}


def _transformer_weight_bytes(config: dict, dtype: torch.dtype, fp8: bool) -> int:
    from diffusers import LTXVideoTransformer3DModel

    with torch.device("meta"):
        model = LTXVideoTransformer3DModel(**_init_config(config))
    size = torch.finfo(dtype).bits // 8
    total = sum(p.numel() for p in model.parameters()) * size
    if fp8:
        from ltx_video.quantization import FP8QuantizationPolicy

        for name in FP8QuantizationPolicy().select(model):
            weight = model.get_submodule(name).weight
            total -= weight.numel() * size - (weight.numel() + 4 * weight.shape[0])  # E4M3 + a float32 scale per row
    return total


def _placed(device, name: str = "vae_tiling.output_device") -> torch.device:
    """``device`` as torch places a tensor there: an accelerator without an index is its current one (index 0 until
    one is initialised and another set current, asked without creating a context), the CPU has no index."""
    try:
        if not isinstance(device, (str, torch.device)):  # torch takes an int as a CUDA index
            raise TypeError
        placed = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"`{name}` must be a device name such as 'cpu', 'cuda' or 'cuda:0', or a torch.device, got "
                         f"{device!r}.") from None
    if placed.type == "cpu":
        return torch.device("cpu")
    if placed.index is None:
        backend = getattr(torch, placed.type, None)
        initialized = getattr(backend, "is_initialized", lambda: False)
        index = backend.current_device() if initialized() and hasattr(backend, "current_device") else 0
        placed = torch.device(placed.type, index)
    return placed


def _check(name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}.")


def estimate_memory(
    transformer_config: dict,
    height: int,
    width: int,
    num_frames: int,
    *,
    batch_size: int = 1,
    dtype: torch.dtype = torch.bfloat16,
    attention: str = "sdpa",
    fp8: bool = False,
    vae_tiling: bool | TilingConfig = False,
    guidance_passes: int = 2,
    max_sequence_length: int | None = None,
    vae_tile: int = 512,
    vae_tile_stride: int | None = None,
    conditions: Sequence[tuple[int, int]] = (),
    appended_latent_frames: int = 0,
    per_token_timestep: bool | None = None,
    device: str | torch.device = "cuda",
) -> MemoryEstimate:
    """Peak memory of generating ``batch_size`` videos of ``height x width x num_frames`` with a transformer of
    ``transformer_config`` (a dict, a diffusers ``config`` or :data:`LTX_VIDEO_2B` / :data:`LTX_VIDEO_13B`).

    ``guidance_passes``: model passes per step (2 with classifier-free guidance, 3 with STG as well, 1
    without). ``max_sequence_length``: text tokens (the config's, else 256, the pipelines' default). ``vae_tiling``: False (the default) is
    the untiled decode a pipeline call and ``ltx-video plan`` run; True is diffusers' tiling
    (``pipe.vae.enable_tiling()``), with ``vae_tile`` / ``vae_tile_stride`` its ``tile_sample_min_height`` and
    ``tile_sample_stride_height`` (the same for widths; diffusers' defaults 512 and 448; the stride defaults to 7/8
    of the tile, at least 32 px); a :class:`TilingConfig` estimates this library's ``tiled_decode`` instead. Sizes are padded as the pipelines pad them (multiples of 32, ``8k + 1`` frames).

    Conditioning (since 2026-12-07; every call was planned as an unconditioned one, 20-42 % low for conditioned
    ones): ``conditions`` gives ``(media_frame_number, pixel frames)`` of each image or clip (``image=``, ``video=``,
    keyframes, ``--condition``); one after frame 0 appends its first latent frame (a clip its first two) as tokens.
    ``appended_latent_frames``: latent frames appended without media (a long video's anchor: 1). ``per_token_timestep``:
    None (the default) when there is any condition or appended frame, as the pipelines pass it; True for a long video's
    later chunks, whose carried-over overlap makes it per token with nothing appended.

    ``device``: the device that decodes, whose memory is planned ("cuda", the default, is the current CUDA device;
    "cpu" for a CPU run). A :class:`TilingConfig`'s output buffer is counted unless its ``output_device`` is another
    device ("cuda" and "cuda:0" are the same one unless another CUDA device is current; since 2026-12-08: it was left
    out whenever ``output_device`` was set, 13 % low for a CPU decode with ``output_device="cpu"``).
    """
    if not isinstance(transformer_config, Mapping):
        raise ValueError(f"`transformer_config` must be a dict (a diffusers config, LTX_VIDEO_2B or LTX_VIDEO_13B), "
                         f"got {type(transformer_config).__name__}.")
    config = dict(transformer_config)
    if config.get("_class_name", "LTXVideoTransformer3DModel") != "LTXVideoTransformer3DModel":
        raise ValueError(f"`transformer_config`: the planner knows LTXVideoTransformer3DModel, not "
                         f"{config['_class_name']} (its audio stream is not modelled)")
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    for name, value in (("height", height), ("width", width), ("num_frames", num_frames),
                        ("batch_size", batch_size), ("guidance_passes", guidance_passes), ("vae_tile", vae_tile)):
        _check(name, value)
    if vae_tile < 32 or vae_tile % 32:  # diffusers tiles whole latent cells: 48 px decoded as 32
        raise ValueError(f"`vae_tile` must be at least 32 px and a multiple of 32 (LTX-Video's VAE cell), got {vae_tile}.")
    if vae_tile_stride is not None:
        _check("vae_tile_stride", vae_tile_stride, 32)
        if vae_tile_stride > vae_tile:  # a stride past the tile leaves gaps undecoded
            raise ValueError(f"`vae_tile_stride` must be in [32, vae_tile={vae_tile}] px, got {vae_tile_stride}.")
    decoding = _placed(device, "device")  # refused before the transformer is built on the meta device
    if not isinstance(vae_tiling, (bool, TilingConfig)):  # "no" is truthy: it was planned as tiling
        raise ValueError(f"`vae_tiling` must be False, True (diffusers' tiling) or a TilingConfig, got {vae_tiling!r}.")
    if isinstance(vae_tiling, TilingConfig):
        try:
            vae_tiling.check(32, 8)  # as enable_vae_tiling checks it against LTX-Video's VAE
        except ValueError as error:
            raise ValueError(f"`vae_tiling`: {error}") from None
    if max_sequence_length is not None:
        _check("max_sequence_length", max_sequence_length)
    for name in ("num_attention_heads", "attention_head_dim"):  # 0 heads planned 0 bytes of activations
        if name in config:
            _check(f"transformer_config['{name}']", config[name])
    _check("appended_latent_frames", appended_latent_frames, 0)
    if per_token_timestep is not None and not isinstance(per_token_timestep, bool):
        raise ValueError(f"`per_token_timestep` must be None, True or False, got {per_token_timestep!r}.")
    conditions = list(conditions)
    for item in conditions:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ValueError(f"`conditions` must hold (media_frame_number, pixel frames) pairs, got {item!r}.")
        _check("conditions' media_frame_number", item[0], 0)
        _check("conditions' pixel frames", item[1])
    if attention not in ATTENTION_MODES:
        raise ValueError(f"`attention` must be one of {ATTENTION_MODES}, got {attention!r}.")
    if dtype not in COMPUTE_DTYPES:  # FP8 is a weight format (fp8=True), not a compute dtype
        raise ValueError(f"`dtype` must be one of {', '.join(map(str, COMPUTE_DTYPES))}, got {dtype!r}.")
    text_tokens = max_sequence_length if max_sequence_length is not None else config.pop("max_sequence_length", None) or 256
    _check("max_sequence_length", text_tokens)
    config.pop("max_sequence_length", None)

    size = torch.finfo(dtype).bits // 8
    heads = config.get("num_attention_heads", 32)
    width_d = heads * config.get("attention_head_dim", 64)
    caption = config.get("caption_channels", 4096)
    frames = (num_frames - 1 + 7) // 8 * 8 + 1
    padded_h, padded_w = -(-height // 32) * 32, -(-width // 32) * 32
    patch, patch_t = config.get("patch_size", 1), config.get("patch_size_t", 1)  # the transformer's own patches
    cells = -(-(padded_h // 32) // patch) * -(-(padded_w // 32) // patch)
    appended = appended_latent_frames + sum(
        min((count - 1) // 8 + 1, NUM_PREFIX_LATENT_FRAMES) for frame, count in conditions if frame > 0)
    tokens = (-(-((frames - 1) // 8 + 1) // patch_t) + appended) * cells
    rows = batch_size * guidance_passes
    hidden = rows * tokens * width_d
    if per_token_timestep is None:
        per_token_timestep = bool(conditions) or appended > 0

    weights = _transformer_weight_bytes(config, dtype, fp8)
    units = BLOCK_UNITS + (PER_TOKEN_TIMESTEP_UNITS if per_token_timestep else 0)
    media = 3 * sum(count for _, count in conditions) * padded_h * padded_w  # the pixels the call keeps
    activations = int(hidden * (units * size + ROPE_FLOAT32_UNITS * 4)
                      + rows * text_tokens * (TEXT_UNITS * width_d + caption) * size + media * size)
    if attention == "math":
        attention_bytes = int(MATH_SCORE_BYTES.get(size, 2 * size) * rows * heads * tokens * tokens)
    elif attention == "ltx_block_sparse":
        copies = BLOCK_SPARSE_FLOAT32_COPIES if dtype != torch.float32 else 0
        attention_bytes = int(hidden * (BLOCK_SPARSE_MERGE_UNITS * size + copies * 4))
    else:
        attention_bytes = 0

    pixel_frames = batch_size * frames * padded_h * padded_w
    one_tile = isinstance(vae_tiling, TilingConfig) and _largest_tile(vae_tiling, frames, padded_h, padded_w) == (
        frames, padded_h * padded_w)
    if one_tile:  # (since 2026-12-07: planned higher than untiled) the buffer and blend follow the decode's peak
        vae = int(vae_bytes_per_pixel_frame(size) * pixel_frames)
    elif isinstance(vae_tiling, TilingConfig):
        tile_frames, tile_pixels = _largest_tile(vae_tiling, frames, padded_h, padded_w)
        # the weighted copy is made once the decoder's activations are freed: the larger of the two, not their sum
        tile = max(vae_bytes_per_pixel_frame(size), TILE_BLEND_VALUES * 4) * batch_size * tile_frames * tile_pixels
        same_device = vae_tiling.output_device is None or _placed(vae_tiling.output_device) == decoding
        buffer = tiled_output_bytes(batch_size, frames, padded_h, padded_w, tile_frames, size)
        vae = int(tile + (buffer if same_device else 0))
    elif vae_tiling and (padded_h > vae_tile or padded_w > vae_tile):
        stride = vae_tile_stride or max(32, vae_tile * 7 // 8)
        vae = int(batch_size * frames * _tiled_decode_bytes(padded_h, padded_w, vae_tile, stride, size))
    else:
        vae = int(vae_bytes_per_pixel_frame(size) * pixel_frames)
    total = weights + max(activations + attention_bytes, vae)
    return MemoryEstimate(weights=weights, activations=activations, attention=attention_bytes, vae_decode=vae,
                          total=total)


class LiveTensorBytes:
    """Peak bytes of the tensor storages created while active (views and in-place results counted once,
    freed storages subtracted when they are collected): what ``torch.cuda.max_memory_allocated`` counts,
    on any device. Storages of ``existing`` tensors (weights, inputs) are not counted, nor their views.
    (PyTorch's private ``MemTracker`` refuses modules called more than once, as tiled decoding does.)

    Example:
        >>> with LiveTensorBytes(existing=list(model.parameters())) as tracker, torch.no_grad():
        ...     model(x)
        >>> tracker.peak  # bytes
    """

    def __init__(self, existing=()):
        self.known = {(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes()) for t in existing}

    def __enter__(self):
        import weakref

        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils._pytree import tree_leaves

        tracker = self
        self.live, self.current, self.peak = {}, 0, 0

        def free(key):
            tracker.current -= tracker.live.pop(key)

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                for tensor in tree_leaves(out):
                    if isinstance(tensor, torch.Tensor):
                        storage = tensor.untyped_storage()
                        key = storage.data_ptr(), storage.nbytes()
                        if key[0] and key not in tracker.live and key not in tracker.known:
                            tracker.live[key] = key[1]
                            tracker.current += key[1]
                            tracker.peak = max(tracker.peak, tracker.current)
                            weakref.finalize(storage, free, key)
                return out

        self.mode = Mode()
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        self.mode.__exit__(*exc)
