"""Decoded video to frames without copying the whole video on its device.

diffusers' ``VideoProcessor.postprocess_video`` denormalises the whole batch out of place,
``(x * 0.5 + 0.5).clamp(0, 1)``, on the decoded video's device: two more copies of the float32 video alive at
once, three times the decoded buffer at the call's peak (about 72 GiB for 4K x 257 frames, where the tiled decode
itself plans 25.6 into a float32 output, 19.6 into a bf16 one). The pipeline owns the decoded buffer, so :func:`postprocess_video` denormalises it in place
(the same operations in the same order: the same bits) and then converts each video as diffusers does. For
``"pt"`` it also reorders the buffer from B x C x F x H x W to diffusers' B x F x C x H x W in place (a transpose of
each video's C x F grid of frames by following its cycles, one frame of scratch), where diffusers' ``torch.stack``
made a second copy of the whole video.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["holds_latents", "postprocess_video"]


def holds_latents(output, output_type: str):
    """``output`` (a pipeline output), marked ``holds_latents`` for ``output_type="latent"``: its ``frames`` are then
    (B, C, F, h, w) latents, which ``export_to_video`` refuses by name (a shape alone cannot tell them from frames)."""
    object.__setattr__(output, "holds_latents", output_type == "latent")  # an attribute, not one of its fields
    return output


def postprocess_video(processor, video: torch.Tensor, output_type: str = "np"):
    """``processor.postprocess_video(video, output_type)``'s result, bit for bit, for ``"np"``, ``"pt"`` and
    ``"pil"``, with ``video`` (B x C x F x H x W, the decoder's output, owned by the caller) denormalised in
    place; other output types go to ``processor`` unchanged.

    Peak on ``video``'s device: the video itself and one frame (``"pt"``: the result is ``video``'s storage,
    reordered; ``"np"`` and ``"pil"`` move one video at a time to the CPU, as diffusers does)."""
    if output_type not in ("np", "pt", "pil"):
        return processor.postprocess_video(video, output_type=output_type)
    if processor.config.do_normalize:
        video.mul_(0.5).add_(0.5).clamp_(0, 1)  # VaeImageProcessor.denormalize, in place
    if output_type == "pt":
        frames_first = video.permute(0, 2, 1, 3, 4)  # diffusers' layout: already the storage's order when the
        if frames_first.is_contiguous():  # video was assembled frame by frame (generate_multiscale, 4K's upsampler
            return frames_first  # path): no reorder, at most a compaction of its crop
        if _is_crop(frames_first):
            return _compact_in_place(frames_first)
        if not video.is_contiguous():
            if not _is_crop(video):  # frames interleaved in memory: diffusers' copy
                return torch.stack(list(video.permute(0, 2, 1, 3, 4)))
            video = _compact_in_place(video)
        return _frames_first_in_place(video)
    outputs = []
    for frames in video.permute(0, 2, 1, 3, 4):  # one video: F x C x H x W, as postprocess_video hands it on
        frames = processor.pt_to_numpy(frames)
        outputs.append(frames if output_type == "np" else processor.numpy_to_pil(frames))
    return np.stack(outputs) if output_type == "np" else outputs


def _is_crop(video: torch.Tensor) -> bool:
    """Whether ``video``'s frames lie in its storage one after another in (B, C, F) order, rows of each at
    increasing addresses: a crop (frames, rows, columns) of a contiguous buffer, as the pipelines' padding crop."""
    sizes, strides = video.shape, video.stride()
    if strides[4] != 1 or video.storage_offset() < 0:
        return False
    extent = sizes[4]  # the span of one row, then of a frame, then of a video's channel ... in elements
    for dim in (3, 2, 1, 0):
        if sizes[dim] > 1 and strides[dim] < extent:
            return False
        extent = strides[dim] * sizes[dim] if sizes[dim] > 1 else extent
    return True


def _compact_in_place(video: torch.Tensor) -> torch.Tensor:
    """A crop of the caller's buffer (:func:`_is_crop`) moved to the start of that buffer's storage, contiguous:
    frame k goes to ``[k * h * w, (k + 1) * h * w)``, never past where frame k + 1 is read from (each frame's source
    starts at least one frame's size after the last), each through a one-frame scratch."""
    batch, channels, num_frames, height, width = video.shape
    whole = torch.empty(0, dtype=video.dtype, device=video.device)
    whole.set_(video.untyped_storage(), 0, (video.numel(),))
    rows = whole.view(batch * channels * num_frames, height, width)
    scratch = torch.empty(height, width, dtype=video.dtype, device=video.device)
    for index, frame in enumerate(_frames(video)):
        scratch.copy_(frame)
        rows[index].copy_(scratch)
    return whole.view(video.shape)


def _frames(video: torch.Tensor):
    """``video``'s H x W frames in (B, C, F) order: the order they lie in its storage."""
    for per_video in video:
        for per_channel in per_video:
            yield from per_channel


def _frames_first_in_place(video: torch.Tensor) -> torch.Tensor:
    """A contiguous B x C x F x H x W ``video`` as B x F x C x H x W in its own storage: each video's C x F grid of
    H x W frames transposed in place by following the permutation's cycles (frame i of the C-major order goes to
    ``(i % F) * C + i // F``), holding one frame aside; the values are moved, never computed."""
    batch, channels, num_frames, height, width = video.shape
    grid = channels * num_frames
    rows = video.view(batch, grid, height * width)
    scratch = torch.empty_like(rows[:, 0])
    done = [False] * grid
    for start in range(grid):
        if done[start]:
            continue
        scratch.copy_(rows[:, start])  # the frame the cycle overwrites first
        here = start
        while True:  # the slot `here` takes the frame that belongs there: the one at its source
            source = (here % channels) * num_frames + here // channels
            done[here] = True
            if source == start:
                rows[:, here].copy_(scratch)
                break
            rows[:, here].copy_(rows[:, source])
            here = source
    return video.view(batch, num_frames, channels, height, width)
