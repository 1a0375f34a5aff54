"""Initial noise that moves with the camera: each latent frame's noise is the previous frame's, carried along
the background's motion, and still exactly N(0, 1) in every cell.

A flow-matching sampler turns its starting noise into content, and a video model trained on a static camera
makes every frame's content from the same places of every frame's noise. Noise warped along a camera path
gives the model a template of that path at the noise levels that set each frame's layout (where the learned
motion encoder alone did nothing, docs/benchmarks.md).

How the noise is made (the integral noise of Chang et al., "How I Warped Your Noise", ICLR 2024, in its continuous
limit, for the affine fields of :class:`~ltx_video.conditioning.camera_controller.MotionField`): one white noise over
the world (the first latent frame's pixels). A latent cell of frame ``k`` sees the world rectangle that the
background's motion maps onto it (pans shift it, zooms and dollies scale it); its noise is the white noise's integral
over that rectangle divided by the square root of its area. So every cell is exactly standard normal, cells of one
frame are independent (their rectangles are disjoint), and the same cell of two frames is correlated by the share of
world they both see: a static camera gives the same noise in every frame, a pan of a third of a cell per latent frame
a correlation of two thirds between neighbours. ``fresh`` mixes in independent noise
(``sqrt(1 - fresh**2) * warped + fresh * independent``, still standard normal).

The integrals are read from the noise's Brownian sheet ``W(x, y)`` (the integral over ``[-inf, x] x [-inf, y]``),
needed only at the corners of the cells' rectangles: on the grid of every frame's cell edges (``F' (w + 1)`` x
``F' (h + 1)`` points at most, fewer where frames share edges) its increments are independent normals with the
variance of their rectangle's area, and their cumulative sums are ``W`` there, exactly. The cost depends on the grid,
not the speed: a fine sample grid with 2 samples per side of the most magnified cell (the discrete version this
replaced) grew with the square of a zoom's total scale, about 1 TiB for a 10 % per frame zoom over 97 frames.
"""

from __future__ import annotations

import math

import torch

from ltx_video.conditioning.camera_controller import MotionField, real

__all__ = ["NoiseWarp"]


class NoiseWarp:
    """The Brownian sheet's grid and the cells' corners on it for one motion field and latent grid; :meth:`sample`
    draws noise from them.

    Args:
        field: the camera's motion between consecutive latent frames (its background layer is used).
        grid: the latent grid (F', h, w).
        fresh: the share (as an amplitude, in [0, 1]) of independent noise mixed in.
    """

    CHUNK = 1 << 24  # float64 sheet values summed at a time: bounds the working memory of many channels

    def __init__(self, field: MotionField, grid: tuple[int, int, int], *, fresh: float = 0.0):
        frames, height, width = grid
        if field.shift.shape[0] != frames - 1:
            raise ValueError(f"NoiseWarp `field` has {field.shift.shape[0]} steps; a `grid` of {frames} latent frames "
                             f"needs {frames - 1}.")
        if real(fresh) is None or not 0.0 <= fresh <= 1.0:
            raise ValueError(f"NoiseWarp `fresh` must be in [0, 1], got {fresh!r}.")
        self.grid, self.fresh = (frames, height, width), float(fresh)
        scale_t, shift_t = field.background_maps()  # p_k = c + S_k (p_0 - c) + T_k (background layer)
        cell_x, cell_y = field.width / width, field.height / height
        cx, cy = field.centre
        edges_x = torch.arange(width + 1, dtype=torch.float64) * cell_x  # cell edges on screen
        edges_y = torch.arange(height + 1, dtype=torch.float64) * cell_y
        # every frame's cell edges in the world (first-frame pixels), in first-frame cells: (F', w + 1), (F', h + 1)
        world_x = (cx + (edges_x[None] - cx - shift_t[:, :1]) / scale_t[:, None]) / cell_x
        world_y = (cy + (edges_y[None] - cy - shift_t[:, 1:]) / scale_t[:, None]) / cell_y
        # the sheet's grid: the edges of every frame, sorted, shared edges once (a static camera: one frame's)
        xs, ix = torch.unique(world_x, sorted=True, return_inverse=True)
        ys, iy = torch.unique(world_y, sorted=True, return_inverse=True)
        self._spacing = (ys.diff().sqrt(), xs.diff().sqrt())  # the increments' standard deviations per row, column
        self.canvas = (len(ys) - 1, len(xs) - 1)  # increments drawn per channel
        x0, x1, y0, y1 = ix[:, :-1], ix[:, 1:], iy[:, :-1], iy[:, 1:]
        self._corners = (y0[:, :, None], y1[:, :, None], x0[:, None, :], x1[:, None, :])  # (F', h|1, 1|w)
        self._area = (ys[y1] - ys[y0])[:, :, None] * (xs[x1] - xs[x0])[:, None, :]  # (F', h, w) the sums' variances

    def sample(self, batch: int, channels: int, *, generator=None, device=None, dtype=torch.float32) -> torch.Tensor:
        """(batch, channels, F', h, w) warped noise; draws the sheet's increments (then the fresh noise) from
        ``generator``."""
        device = torch.device("cpu") if device is None else torch.device(device)
        source = generator.device if generator is not None else device  # a CPU generator draws on the CPU
        rows, cols = self.canvas
        steps = torch.randn((batch, channels, rows, cols), generator=generator, device=source, dtype=torch.float32)
        work = torch.device("cpu") if device.type == "mps" else device  # the sheet is float64
        steps = steps.to(work).flatten(0, 1)
        row_sd, col_sd = (v.to(work) for v in self._spacing)
        y0, y1, x0, x1 = (c.to(work) for c in self._corners)
        area = self._area.to(work)
        parts = []
        for part in steps.split(max(1, self.CHUNK // ((rows + 1) * (cols + 1))), dim=0):
            sheet = (part.double() * row_sd[:, None] * col_sd[None, :]).cumsum(1).cumsum(2)
            sheet = torch.nn.functional.pad(sheet, (1, 0, 1, 0))  # W = 0 on the grid's first edges
            total = sheet[:, y1, x1] - sheet[:, y0, x1] - sheet[:, y1, x0] + sheet[:, y0, x0]
            parts.append((total / area.sqrt()).float())
        noise = torch.cat(parts).unflatten(0, (batch, channels)).to(device)  # (B, C, F', h, w)
        if self.fresh > 0:
            independent = torch.randn(noise.shape, generator=generator, device=source, dtype=torch.float32)
            noise = math.sqrt(1 - self.fresh**2) * noise + self.fresh * independent.to(device)
        return noise.to(dtype)
