"""Decoded video to frames without copying the whole video on its device.

diffusers' ``VideoProcessor.postprocess_video`` denormalises the whole batch out of place,
``(x * 0.5 + 0.5).clamp(0, 1)``, on the decoded video's device: two more copies of the float32 video alive at
once, three times the decoded buffer at the call's peak (about 72 GiB for 4K x 257 frames, where the tiled decode
itself needs 25.6). The pipeline owns the decoded buffer, so :func:`postprocess_video` denormalises it in place
(the same operations in the same order: the same bits) and then converts each video as diffusers does.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["postprocess_video"]


def postprocess_video(processor, video: torch.Tensor, output_type: str = "np"):
    """``processor.postprocess_video(video, output_type)``'s result, bit for bit, for ``"np"``, ``"pt"`` and
    ``"pil"``, with ``video`` (B x C x F x H x W, the decoder's output, owned by the caller) denormalised in
    place; other output types go to ``processor`` unchanged.

    Peak on ``video``'s device: the video itself, plus the stacked result for ``"pt"`` (``"np"`` and ``"pil"``
    move one video at a time to the CPU, as diffusers does)."""
    if output_type not in ("np", "pt", "pil"):
        return processor.postprocess_video(video, output_type=output_type)
    if processor.config.do_normalize:
        video.mul_(0.5).add_(0.5).clamp_(0, 1)  # VaeImageProcessor.denormalize, in place
    outputs = []
    for frames in video.permute(0, 2, 1, 3, 4):  # one video: F x C x H x W, as postprocess_video hands it on
        if output_type == "pt":
            outputs.append(frames)
            continue
        frames = processor.pt_to_numpy(frames)
        outputs.append(frames if output_type == "np" else processor.numpy_to_pil(frames))
    if output_type == "np":
        return np.stack(outputs)
    return torch.stack(outputs) if output_type == "pt" else outputs
