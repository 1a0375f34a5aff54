"""The training-free camera in pixel space: a clip re-rendered as a still world seen by the moving camera.

The latent-space constraint (:meth:`CameraController.constrain`) warps latent frames; at LTX-Video's 32x
compression a pan of 1 px per pixel frame is a quarter of a latent cell per latent frame, and bilinear
resampling of a few cells carries little of it (docs/benchmarks.md: about a tenth of the motion on the
built-in model). Here the warp is done where the motion is whole pixels: the predicted clean latents are
decoded, re-rendered, and encoded again (:class:`ControlMixin` does this in the early denoising steps with
``CameraController(space="pixel")``).

How a clip is re-rendered (:func:`render_camera`): the background's motion per pixel frame (the camera's
``per_frame`` map, roll applied) composes to a map ``M_t`` from frame 0 to frame t,
``p_t = c + S_t (p_0 - c) + T_t``. Every pixel ``p`` of frame t is a world point ``w = M_t^{-1}(p)``; it takes
its colour from the earliest frame k <= t that saw that point (``M_k(w)`` inside frame k), sampled once
(bilinear) at ``M_k(w)``: what frame 0 shows stays where the camera puts it, and what the camera uncovers
later is taken from the frame that first showed it. So the motion is exact (no resampling chain, no
accumulated blur), and the re-rendered clip is a still world: an object's own motion comes back from the
denoising steps after the constraint ends (``until``), which also redraw the uncovered strips.

Limits: one layer, the background's (orbits and dollies move the subject as they move the background; the
module docstring of :mod:`~ltx_video.conditioning.camera_controller` has the two-layer model); the cost is a
decode and an encode per constrained step, and ``O(F^2 H W)`` coordinate arithmetic to find each pixel's first
frame (one trilinear lookup then samples them all).
Same approach as warp-then-denoise camera control (e.g. Hou et al., "Training-free Camera Control for Video
Generation", 2024, which renders the first frame's point cloud instead), here without depth.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["camera_maps", "render_camera"]


def camera_maps(controller, num_frames: int, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The background's map from pixel frame 0 to each pixel frame: ``S`` (F,) and ``T`` (F, 2) in float64,
    ``p_t = c + S_t (p_0 - c) + T_t`` about the camera's centre ``c`` (:meth:`CameraController.centre`)."""
    _, (dx, dy), (_, zoom) = controller.per_frame()
    roll = math.radians(controller.camera.rotation[2])
    step = torch.tensor([math.cos(roll) * dx - math.sin(roll) * dy, math.sin(roll) * dx + math.cos(roll) * dy],
                        dtype=torch.float64)
    scale, shift = [torch.ones((), dtype=torch.float64)], [torch.zeros(2, dtype=torch.float64)]
    for _ in range(num_frames - 1):
        scale.append(zoom * scale[-1])
        shift.append(zoom * shift[-1] + step)
    return torch.stack(scale), torch.stack(shift)


def render_camera(frames: torch.Tensor, controller) -> torch.Tensor:
    """``frames`` (B, C, F, H, W) re-rendered as a still world seen by ``controller``'s camera (the module
    docstring): same shape and dtype. A static camera returns ``frames`` itself."""
    if frames.ndim != 5:
        raise ValueError(f"`frames` must be (B, C, F, H, W), got {tuple(frames.shape)}.")
    if controller.camera.motion_type == "static" or frames.shape[2] < 2:
        return frames
    batch, channels, num_frames, height, width = frames.shape
    scale, shift = camera_maps(controller, num_frames, height, width)
    cx, cy = controller.centre(height, width)
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float64) + 0.5,
                            torch.arange(width, dtype=torch.float64) + 0.5, indexing="ij")
    frame_index = torch.arange(num_frames)
    grids = []
    for t in range(num_frames):
        # the world point (in frame 0's pixels) each pixel of frame t shows, and where every frame k sees it
        wx = cx + (xs - cx - shift[t, 0]) / scale[t]
        wy = cy + (ys - cy - shift[t, 1]) / scale[t]
        px = cx + scale[:, None, None] * (wx - cx) + shift[:, 0, None, None]  # (F, H, W)
        py = cy + scale[:, None, None] * (wy - cy) + shift[:, 1, None, None]
        seen = (px >= 0) & (px <= width) & (py >= 0) & (py <= height) & (frame_index <= t)[:, None, None]
        seen[t] = True  # frame t sees every pixel of itself
        first = seen.to(torch.uint8).argmax(dim=0)  # the earliest frame that saw it
        x, y = px.gather(0, first[None])[0], py.gather(0, first[None])[0]
        grids.append(torch.stack([x / width * 2 - 1, y / height * 2 - 1, (2 * first + 1) / num_frames - 1], dim=-1))
    # one trilinear lookup over (F, H, W) at whole-frame times: each output pixel reads one frame, sampled bilinearly
    grid = torch.stack(grids)[None].expand(batch, -1, -1, -1, -1).to(torch.float32)
    out = F.grid_sample(frames.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    out[:, :, 0] = frames[:, :, 0]
    return out.to(frames.dtype)
