"""Small numpy image operations the metrics share: Gaussian filtering, bilinear sampling,
similarity warps, downscaling and connected-component labelling.

Coordinates are pixel indices: ``x`` is the column, ``y`` the row, pixel ``(i, j)`` is centred at
``x = j, y = i``; the image centre is ``((W - 1) / 2, (H - 1) / 2)``.
"""

from __future__ import annotations

import numpy as np


def gaussian_kernel(sigma: float, radius: int | None = None) -> np.ndarray:
    """Normalised 1-D Gaussian taps ``(2 * radius + 1,)``; radius defaults to ``ceil(3 * sigma)``."""
    radius = int(np.ceil(3.0 * sigma)) if radius is None else radius
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return taps / taps.sum()


def _filter_axis(image: np.ndarray, taps: np.ndarray, axis: int, mode: str) -> np.ndarray:
    """Correlate ``image`` with symmetric ``taps`` along ``axis``; mode "reflect" (same size) or "valid"."""
    radius = len(taps) // 2
    moved = np.moveaxis(image, axis, 0)
    if mode == "reflect":
        pad = [(radius, radius)] + [(0, 0)] * (moved.ndim - 1)
        moved = np.pad(moved, pad, mode="symmetric")
    n = moved.shape[0] - 2 * radius
    out = np.zeros((n, *moved.shape[1:]))
    for k, tap in enumerate(taps):
        out += tap * moved[k : k + n]
    return np.moveaxis(out, 0, axis)


def gaussian_blur(
    image: np.ndarray,
    sigma: float,
    *,
    axes: tuple[int, int] = (-2, -1),
    mode: str = "reflect",
    radius: int | None = None,
) -> np.ndarray:
    """Separable Gaussian filter of ``image`` over two ``axes`` (``mode``: "reflect" keeps the size,
    "valid" drops ``radius`` samples at each border; radius defaults to ``ceil(3 * sigma)``)."""
    taps = gaussian_kernel(sigma, radius)
    out = _filter_axis(image, taps, axes[0], mode)
    return _filter_axis(out, taps, axes[1], mode)


def sample_bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear samples of ``image`` ``(H, W)`` or ``(H, W, C)`` at float pixel coordinates.

    Returns ``(values, inside)``: values ``x.shape`` (+ ``(C,)``), ``inside`` a boolean mask of the
    points within ``[0, W - 1] x [0, H - 1]`` (points outside take the nearest edge value).
    """
    return BilinearSampler(image)(x, y)


class BilinearSampler:
    """:func:`sample_bilinear` of one image at many sets of points (an iterative fit's): the image is laid out once.

    The samples are gathered from a channel-first copy, so that the arithmetic runs over the points, not over a
    last axis of C (several times faster for C = 3; the same operations on the same numbers, so the same values).
    """

    def __init__(self, image: np.ndarray):
        self.height, self.width = image.shape[:2]
        self.channels = image.ndim == 3
        flat = image.reshape(self.height * self.width, -1)
        self.planes = np.ascontiguousarray(flat.T) if self.channels else flat[:, 0]

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, w = self.height, self.width
        inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
        xc = np.clip(x, 0, w - 1)
        yc = np.clip(y, 0, h - 1)
        x0 = np.minimum(np.floor(xc).astype(np.int64), max(w - 2, 0))
        y0 = np.minimum(np.floor(yc).astype(np.int64), max(h - 2, 0))
        x1 = np.minimum(x0 + 1, w - 1)
        y1 = np.minimum(y0 + 1, h - 1)
        fx = xc - x0
        fy = yc - y0
        corners = [self.planes.take(row + column, axis=-1) for row in (y0 * w, y1 * w) for column in (x0, x1)]
        top = corners[0] * (1 - fx) + corners[1] * fx
        bottom = corners[2] * (1 - fx) + corners[3] * fx
        values = top * (1 - fy) + bottom * fy
        return (np.moveaxis(values, 0, -1) if self.channels else values), inside


def centre(height: int, width: int) -> tuple[float, float]:
    """The image centre ``(cx, cy)`` in pixel coordinates."""
    return (width - 1) / 2.0, (height - 1) / 2.0


def downscale(frames: np.ndarray, factor: int) -> np.ndarray:
    """Box-average ``(F, H, W, C)`` frames by an integer ``factor`` (cropping the remainder)."""
    if factor == 1:
        return frames
    f, h, w, c = frames.shape
    h2, w2 = h // factor, w // factor
    cropped = frames[:, : h2 * factor, : w2 * factor]
    return cropped.reshape(f, h2, factor, w2, factor, c).mean(axis=(2, 4))


def label_components(
    mask: np.ndarray, colours: np.ndarray | None = None, tolerance: float = 0.0
) -> tuple[np.ndarray, int]:
    """4-connected components of a boolean ``(H, W)`` mask.

    With ``colours`` ``(H, W, C)``, two neighbouring mask pixels are connected only if their
    colours differ by at most ``tolerance`` in every channel, so touching regions of different
    colours stay apart.

    Returns ``(labels, count)``: ``labels`` int ``(H, W)`` with 0 for background and ``1..count``
    for the components.
    """
    h, w = mask.shape
    # edges: right[i, j] links (i, j)-(i, j+1); down[i, j] links (i, j)-(i+1, j)
    right = mask[:, :-1] & mask[:, 1:]
    down = mask[:-1] & mask[1:]
    if colours is not None:
        right &= np.abs(colours[:, :-1] - colours[:, 1:]).max(axis=-1) <= tolerance
        down &= np.abs(colours[:-1] - colours[1:]).max(axis=-1) <= tolerance
    big = h * w + 1
    labels = np.where(mask, np.arange(1, h * w + 1).reshape(h, w), 0)
    while True:
        current = np.where(mask, labels, big)
        best = current.copy()
        best[:, :-1] = np.where(right, np.minimum(best[:, :-1], current[:, 1:]), best[:, :-1])
        best[:, 1:] = np.where(right, np.minimum(best[:, 1:], current[:, :-1]), best[:, 1:])
        best[:-1] = np.where(down, np.minimum(best[:-1], current[1:]), best[:-1])
        best[1:] = np.where(down, np.minimum(best[1:], current[:-1]), best[1:])
        best = np.where(mask, best, 0)
        # pointer jumping: follow each provisional label to the label its root pixel carries
        for _ in range(4):
            best = np.where(mask, np.concatenate([[0], best.ravel()])[best], 0)
        if np.array_equal(best, labels):
            break
        labels = best
    roots, dense = np.unique(labels, return_inverse=True)
    dense = dense.reshape(h, w)
    if roots[0] != 0:
        dense = dense + 1
    return dense, int(len(roots) - (1 if roots[0] == 0 else 0))
