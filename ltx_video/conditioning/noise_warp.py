"""Initial noise that moves with the camera: each latent frame's noise is the previous frame's, carried along
the background's motion, and still exactly N(0, 1) in every cell.

A flow-matching sampler turns its starting noise into content, and a video model trained on a static camera
makes every frame's content from the same places of every frame's noise. Noise warped along a camera path
gives the model a template of that path at the noise levels that set each frame's layout (where the learned
motion encoder alone did nothing, docs/benchmarks.md).

How the noise is made (the integral noise of Chang et al., "How I Warped Your Noise", ICLR 2024, for the affine
fields of :class:`~ltx_video.conditioning.camera_controller.MotionField`): white noise is drawn once on a fine
grid in world coordinates (the first latent frame's pixels, ``samples_per_cell`` samples per latent cell side),
wide enough for every frame's view. A latent cell of frame ``k`` sees the world rectangle that the background's
motion maps onto it (pans shift it, zooms and dollies scale it); its noise is the sum of the fine samples whose
centres lie inside, divided by the square root of their count. So every cell is exactly standard normal, cells
of one frame are independent (their rectangles are disjoint), and the same cell of two frames is correlated by
the share of world they both see: a static camera gives the same noise in every frame, a pan of a third of a
cell per latent frame a correlation of two thirds between neighbours. ``fresh`` mixes in independent noise
(``sqrt(1 - fresh**2) * warped + fresh * independent``, still standard normal).
"""

from __future__ import annotations

import math

import torch

from ltx_video.conditioning.camera_controller import MotionField

__all__ = ["NoiseWarp"]


class NoiseWarp:
    """The fine-grid index tables for one motion field and latent grid; :meth:`sample` draws noise from them.

    Args:
        field: the camera's motion between consecutive latent frames (its background layer is used).
        grid: the latent grid (F', h, w).
        samples_per_cell: fine samples per latent cell side at the first frame's scale (>= 2); raised for zooms
            that magnify, so every cell of every frame covers at least 2 x 2 samples of its own.
        fresh: the share (as an amplitude, in [0, 1]) of independent noise mixed in.
    """

    def __init__(self, field: MotionField, grid: tuple[int, int, int], *, samples_per_cell: int = 8, fresh: float = 0.0):
        frames, height, width = grid
        if field.shift.shape[0] != frames - 1:
            raise ValueError(f"NoiseWarp `field` has {field.shift.shape[0]} steps; a `grid` of {frames} latent frames "
                             f"needs {frames - 1}.")
        if not (isinstance(samples_per_cell, int) and samples_per_cell >= 2):
            raise ValueError(f"NoiseWarp `samples_per_cell` must be an integer >= 2, got {samples_per_cell!r}.")
        if not 0.0 <= fresh <= 1.0:
            raise ValueError(f"NoiseWarp `fresh` must be in [0, 1], got {fresh!r}.")
        self.grid, self.fresh = (frames, height, width), float(fresh)
        scale_t, shift_t = field.background_maps()  # p_k = c + S_k (p_0 - c) + T_k (background layer)
        # a cell magnified S times sees 1 / S of its first-frame rectangle: keep at least 2 samples per side
        self.samples_per_cell = max(samples_per_cell, math.ceil(2 * scale_t.max().item()))
        cell_x, cell_y = field.width / width, field.height / height
        step_x, step_y = cell_x / self.samples_per_cell, cell_y / self.samples_per_cell
        cx, cy = field.centre
        scale_t = scale_t[:, None]
        edges_x = torch.arange(width + 1, dtype=torch.float64) * cell_x  # cell edges on screen
        edges_y = torch.arange(height + 1, dtype=torch.float64) * cell_y
        world_x = cx + (edges_x[None] - cx - shift_t[:, :1]) / scale_t  # (F', w + 1) in first-frame pixels
        world_y = cy + (edges_y[None] - cy - shift_t[:, 1:]) / scale_t
        # The fine grid: sample m's centre at origin + (m + 0.5) * step; one spare sample on every side.
        origin_x = math.floor(world_x.min().item() / step_x - 1) * step_x
        origin_y = math.floor(world_y.min().item() / step_y - 1) * step_y
        self.canvas = (
            math.ceil((world_y.max().item() - origin_y) / step_y) + 2,
            math.ceil((world_x.max().item() - origin_x) / step_x) + 2,
        )
        # Samples with centres in [lo, hi): m from ceil((lo - origin) / step - 0.5) up to, not including, the same of hi.
        ix = torch.ceil((world_x - origin_x) / step_x - 0.5 - 1e-9).long()
        iy = torch.ceil((world_y - origin_y) / step_y - 0.5 - 1e-9).long()
        x0, x1, y0, y1 = ix[:, :-1], ix[:, 1:], iy[:, :-1], iy[:, 1:]  # disjoint: at least 2 samples per side
        self._corners = (y0[:, :, None], y1[:, :, None], x0[:, None, :], x1[:, None, :])  # (F', h|1, 1|w)
        self._count = ((y1 - y0)[:, :, None] * (x1 - x0)[:, None, :]).double()  # (F', h, w)

    def sample(self, batch: int, channels: int, *, generator=None, device=None, dtype=torch.float32) -> torch.Tensor:
        """(batch, channels, F', h, w) warped noise; draws the fine canvas (then the fresh noise) from ``generator``."""
        device = torch.device("cpu") if device is None else torch.device(device)
        source = generator.device if generator is not None else device  # a CPU generator draws on the CPU
        rows, cols = self.canvas
        fine = torch.randn((batch, channels, rows, cols), generator=generator, device=source, dtype=torch.float32)
        work = torch.device("cpu") if device.type == "mps" else device  # the integral image is float64
        fine = fine.to(work)
        integral = torch.nn.functional.pad(fine.double().cumsum(2).cumsum(3), (1, 0, 1, 0))  # (B, C, rows+1, cols+1)
        y0, y1, x0, x1 = (c.to(work) for c in self._corners)
        total = integral[..., y1, x1] - integral[..., y0, x1] - integral[..., y1, x0] + integral[..., y0, x0]
        noise = (total / self._count.to(work).sqrt()).float().to(device)  # (B, C, F', h, w)
        if self.fresh > 0:
            independent = torch.randn(noise.shape, generator=generator, device=source, dtype=torch.float32)
            noise = math.sqrt(1 - self.fresh**2) * noise + self.fresh * independent.to(device)
        return noise.to(dtype)
