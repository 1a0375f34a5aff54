"""The training-free camera in pixel space: a clip re-rendered as a still world seen by the moving camera.

The latent-space constraint (:meth:`CameraController.constrain`) warps latent frames; at LTX-Video's 32x
compression a pan of 1 px per pixel frame is a quarter of a latent cell per latent frame, and bilinear
resampling of a few cells carries little of it (docs/benchmarks.md, "Camera in pixel space": none of the
motion on the built-in model). Here the warp is done where the motion is whole pixels: the predicted clean latents are
decoded, re-rendered, and encoded again (:class:`ControlMixin` does this on the constrained denoising steps with
``CameraController(space="pixel")``; on the built-in model only every step moves its camera, docs/control.md).

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

import torch
import torch.nn.functional as F

__all__ = ["camera_grid", "render_camera"]


def camera_grid(controller, num_frames: int, height: int, width: int, device=None) -> torch.Tensor | None:
    """The sampling grid of :func:`render_camera` for clips of ``num_frames`` x ``height`` x ``width``:
    (F, H, W, 3) float32 ``grid_sample`` coordinates (x, y, frame) on ``device``; None when the camera does not
    move (``"static"``, speed 0) or there is one frame. It depends on the camera and the size only: build it once
    per call and pass it to every :func:`render_camera`."""
    if controller.camera.motion_type == "static" or controller.camera.speed == 0 or num_frames < 2:
        return None
    # the background's map from frame 0 to frame t, p_t = c + S_t (p_0 - c) + T_t, one pixel frame per step
    scale, shift = controller.motion_field(num_frames, height, width, temporal_scale=1).background_maps()
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
    return torch.stack(grids).to(device=device, dtype=torch.float32)


def render_camera(frames: torch.Tensor, controller, grid: torch.Tensor | None = None) -> torch.Tensor:
    """``frames`` (B, C, F, H, W) re-rendered as a still world seen by ``controller``'s camera (the module
    docstring): same shape, dtype and device. ``grid``: :func:`camera_grid`'s for this size (built here when not
    given). A camera that does not move returns ``frames`` itself."""
    if frames.ndim != 5:
        raise ValueError(f"`frames` must be (B, C, F, H, W), got {tuple(frames.shape)}.")
    if grid is None:
        grid = camera_grid(controller, *frames.shape[2:], device=frames.device)
        if grid is None:
            return frames
    if tuple(grid.shape[:3]) != tuple(frames.shape[2:]):
        raise ValueError(f"`grid` is for clips of {tuple(grid.shape[:3])}, `frames` are {tuple(frames.shape[2:])}.")
    # one trilinear lookup over (F, H, W) at whole-frame times: each output pixel reads one frame, sampled bilinearly
    grid = grid.to(frames.device)[None].expand(frames.shape[0], -1, -1, -1, -1)
    out = F.grid_sample(frames.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    out[:, :, 0] = frames[:, :, 0]
    return out.to(frames.dtype)
