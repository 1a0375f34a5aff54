"""Global camera motion between consecutive frames: translation and zoom of the scene content.

Motion model, per pair of frames ``k -> k + 1``: a content point at pixel ``p`` in frame ``k``
appears in frame ``k + 1`` at ``p' = c + zoom * (p - c) + (dx, dy)``, with ``c`` the image centre
``((W - 1) / 2, (H - 1) / 2)``, ``+x`` right and ``+y`` down. This is the convention of the
synthetic world's ``Clip.camera``: a camera panning left moves the content right (``dx > 0``), a
camera zooming in magnifies the content (``zoom > 1``).

Estimation, on Rec. 601 grayscale frames (box-downscaled by an integer factor to at most 256 px on
the longer side; translations are scaled back):

1. translation by phase correlation of the Hann-windowed frames, with a parabolic sub-pixel fit
   of the correlation peaks;
2. scale by Fourier-Mellin: phase correlation of the log-polar resampled log magnitude spectra
   (which are translation invariant); a content zoom ``z`` shifts the log-radius axis by
   ``-log z``;
3. refinement by robust Gauss-Newton: minimise the squared difference between frame ``k`` and
   frame ``k + 1`` sampled at ``p'`` (bilinear; both frames blurred with a Gaussian of sigma
   1 px), with Huber then Tukey weights so that independently moving objects are ignored. The
   starts are the three highest phase-correlation peaks with ``zoom = 1`` (the highest can belong
   to a large moving object), no motion, the previous pair's estimate (camera motion is usually
   smooth) and, when step 2 sees a zoom, the best peak with that zoom. Eight iterations from each
   start pick the basin with the highest weighted normalised cross-correlation (NCC), and a full
   refinement from that start gives the estimate (the refinement is the local search that
   maximises this correlation). The previous estimate is tried first and, when its NCC reaches
   0.998, the other starts are skipped.

At 64 x 64 px the Fourier-Mellin scale is only a coarse cue: its log-radius bins are about 5 %
apart, the window's spectrum smears the low frequencies where smooth textures live, and sharp
moving objects, whose magnitude spectra do not change with their position, pull it toward 1. The
refinement is what makes zooms of about 1 % per frame measurable; it converges from ``zoom = 1``
for zooms up to about 20 % per frame on textured content. Its zoom is slightly too strong: by
about 2 % of ``|zoom - 1|`` per frame on the synthetic clips (not an interpolation effect: bicubic
sampling leaves it), so a 47-frame cumulative zoom comes out within about 1 %.

Consecutive pairs of decoded video read small motions short: a 1.5 px pan as about 1.1 px through the
built-in video VAE, whose reconstruction nevertheless keeps pace with the real clip frame by frame.
Noise that differs from frame to frame does this (it enters the refinement's image gradients and
shrinks each estimate toward no motion), and so does a pattern that stays in place; a heavier blur
does not remove it on decoded frames (docs/benchmarks.md). ``step=S`` registers frames ``S`` apart
instead, by a local search from two starts, the ``S`` pairs' estimates composed and their median pair
repeated (the better fit kept; no phase-correlation start, so a long span's large shift is not read as
another repeat of a repeating background); the shift grows with ``S``, what pulls it toward no motion
does not.
"""

from __future__ import annotations

import numpy as np

from ltx_video.metrics._image import BilinearSampler, centre, downscale, gaussian_blur, sample_bilinear
from ltx_video.metrics._inputs import FramesLike, as_frames, luminance

__all__ = ["camera_motion", "compose_motions"]

_MAX_SIDE = 256  # larger frames are box-downscaled by an integer factor first
_MAX_ITERATIONS = 40
_BLUR_SIGMA = 1.0
_PHASE_PEAKS = 3
_SCREEN_ITERATIONS = 8  # five Huber, three Tukey
_HUBER_ITERATIONS = 5
_GOOD_FIT = 0.998  # weighted NCC; a wrong basin scores about 0.99 on the synthetic clips


def _hann2d(height: int, width: int) -> np.ndarray:
    return np.outer(np.hanning(height), np.hanning(width))


def _parabolic_offset(left: float, middle: float, right: float) -> float:
    """Vertex offset in ``(-0.5, 0.5)`` of the parabola through three equally spaced samples."""
    denominator = left - 2.0 * middle + right
    if denominator >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / denominator, -0.5, 0.5))


def _phase_correlation(a: np.ndarray, b: np.ndarray, peaks: int = 1) -> list[tuple[float, float]]:
    """Shifts ``(dx, dy)`` with ``b(p) ~ a(p - d)`` by phase correlation of two ``(H, W)`` arrays:
    the ``peaks`` highest local maxima of the correlation surface, best first, each refined to
    sub-pixel by a parabola through it and its neighbours along each axis."""
    fa = np.fft.fft2(a)
    fb = np.fft.fft2(b)
    cross = fb * np.conj(fa)
    cross /= np.abs(cross) + 1e-12 * np.abs(cross).max() + 1e-30
    surface = np.fft.ifft2(cross).real
    h, w = surface.shape
    neighbours = [np.roll(surface, shift, axis) for shift in (-1, 1) for axis in (0, 1)]
    is_peak = np.all([surface >= other for other in neighbours], axis=0)
    order = np.argsort(-np.where(is_peak, surface, -np.inf), axis=None)[:peaks]
    out = []
    for flat in order:
        iy, ix = np.unravel_index(flat, surface.shape)
        if not is_peak[iy, ix]:
            break
        dx = ix + _parabolic_offset(surface[iy, (ix - 1) % w], surface[iy, ix], surface[iy, (ix + 1) % w])
        dy = iy + _parabolic_offset(surface[(iy - 1) % h, ix], surface[iy, ix], surface[(iy + 1) % h, ix])
        out.append((float(dx - w if dx > w / 2 else dx), float(dy - h if dy > h / 2 else dy)))
    return out


def _log_polar_spectrum(image: np.ndarray, radii: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Log magnitude spectrum of a windowed image on an (angle, log-radius) grid ``(A, R)``.

    Radii are in cycles per pixel, so non-square frames are handled by scaling each axis. The log
    turns the spectrum's ``z ** 2`` gain under a zoom ``z`` into a constant, removed by the mean.
    """
    h, w = image.shape
    windowed = (image - image.mean()) * _hann2d(h, w)
    magnitude = np.abs(np.fft.fftshift(np.fft.fft2(windowed)))
    fx = radii[None, :] * np.cos(angles[:, None])
    fy = radii[None, :] * np.sin(angles[:, None])
    values, _ = sample_bilinear(magnitude, w // 2 + fx * w, h // 2 + fy * h)
    return np.log(np.maximum(values, 0.0) + 1e-3 * magnitude.max() + 1e-30)


def _fourier_mellin_zoom(a: np.ndarray, b: np.ndarray) -> float:
    """Content scale of ``b`` relative to ``a`` from the log-radius shift of their spectra."""
    h, w = a.shape
    count = max(h, w)
    radii = np.exp(np.linspace(np.log(2.0 / min(h, w)), np.log(0.45), count))
    angles = np.linspace(0.0, np.pi, count, endpoint=False)
    la = _log_polar_spectrum(a, radii, angles)
    lb = _log_polar_spectrum(b, radii, angles)
    taper = np.hanning(count)[None, :]
    # rows are angles (periodic over pi for a real image's magnitude), columns log-radius
    shift, _ = _phase_correlation((la - la.mean()) * taper, (lb - lb.mean()) * taper)[0]
    step = np.log(radii[1] / radii[0])
    return float(np.exp(-shift * step))


def _warp_points(params: np.ndarray, px: np.ndarray, py: np.ndarray, cx: float, cy: float):
    dx, dy, zoom = params
    return cx + zoom * (px - cx) + dx, cy + zoom * (py - cy) + dy


def _refine(a: np.ndarray, b_stack: np.ndarray, start: np.ndarray, iterations: int) -> tuple[np.ndarray, float]:
    """Robust Gauss-Newton refinement of ``(dx, dy, zoom)``; returns ``(params, weighted NCC)``.

    ``b_stack`` is ``(H, W, 3)``: frame ``b``, its x derivative and its y derivative.
    """
    h, w = a.shape
    cx, cy = centre(h, w)
    py, px = np.mgrid[0:h, 0:w].astype(np.float64)
    params = start.astype(np.float64).copy()
    weights = np.ones_like(a)
    sampler = BilinearSampler(b_stack)
    for iteration in range(iterations):
        qx, qy = _warp_points(params, px, py, cx, cy)
        # keep a one-pixel margin so that the gradient is defined
        valid = (qx >= 1) & (qx <= w - 2) & (qy >= 1) & (qy <= h - 2)
        if valid.sum() < 16:
            break
        samples, _ = sampler(qx[valid], qy[valid])
        residual = samples[:, 0] - a[valid]
        scale = 1.4826 * np.median(np.abs(residual - np.median(residual))) + 1e-6
        r = residual / scale
        if iteration < _HUBER_ITERATIONS:
            weight = np.minimum(1.0, 1.345 / np.maximum(np.abs(r), 1e-12))
        else:
            weight = np.where(np.abs(r) < 4.685, (1 - (r / 4.685) ** 2) ** 2, 0.0)
        gx, gy = samples[:, 1], samples[:, 2]
        jacobian = np.stack([gx, gy, gx * (px[valid] - cx) + gy * (py[valid] - cy)], axis=1)
        hessian = jacobian.T @ (jacobian * weight[:, None])
        gradient = jacobian.T @ (weight * residual)
        hessian += 1e-9 * np.trace(hessian) * np.eye(3)
        try:
            step = np.linalg.solve(hessian, -gradient)
        except np.linalg.LinAlgError:
            break
        step = np.clip(step, [-2.0, -2.0, -0.05], [2.0, 2.0, 0.05])
        params += step
        weights = np.zeros_like(a)
        weights[valid] = weight
        # converged only once the redescending (Tukey) weights have had their say
        if iteration > _HUBER_ITERATIONS and max(abs(step[0]), abs(step[1])) < 1e-4 and abs(step[2]) < 1e-6:
            break
    qx, qy = _warp_points(params, px, py, cx, cy)
    warped, inside = sample_bilinear(b_stack[..., 0], qx, qy)
    weights = weights * inside
    total = weights.sum()
    if total <= 0:
        return params, -1.0
    da = a - (weights * a).sum() / total
    db = warped - (weights * warped).sum() / total
    denominator = np.sqrt((weights * da * da).sum() * (weights * db * db).sum()) + 1e-12
    return params, float((weights * da * db).sum() / denominator)


def _register(a: np.ndarray, b: np.ndarray, previous: np.ndarray | None, hints: list | None = None) -> np.ndarray:
    """``(dx, dy, zoom)`` of the content of ``b`` relative to ``a`` (two ``(H, W)`` grayscale frames);
    ``previous`` is the last pair's estimate, a start for the refinement. With ``hints``, the refinement starts
    from each of those alone (a local search: no phase-correlation basin is tried) and the best fit is kept."""
    a_smooth = gaussian_blur(a, _BLUR_SIGMA)
    b_smooth = gaussian_blur(b, _BLUR_SIGMA)
    grad_y, grad_x = np.gradient(b_smooth)
    b_stack = np.stack([b_smooth, grad_x, grad_y], axis=-1)
    if hints:
        fits = [_refine(a_smooth, b_stack, np.asarray(h, dtype=np.float64), _MAX_ITERATIONS) for h in hints]
        return max(fits, key=lambda fit: fit[1])[0]
    h, w = a.shape
    window = _hann2d(h, w)
    shifts = _phase_correlation((a - a.mean()) * window, (b - b.mean()) * window, peaks=_PHASE_PEAKS)
    zoom = float(np.clip(_fourier_mellin_zoom(a, b), 0.8, 1.25))
    starts = [(dx, dy, 1.0) for dx, dy in shifts] + [(0.0, 0.0, 1.0)]
    if abs(zoom - 1.0) > 0.02:
        starts.append((*shifts[0], zoom))
    if previous is not None:
        starts.insert(0, tuple(previous))
    distinct: list[tuple[float, float, float]] = []
    for start in starts:
        if all(max(abs(start[0] - o[0]), abs(start[1] - o[1]), 20 * abs(start[2] - o[2])) > 0.25 for o in distinct):
            distinct.append(start)
    # a few iterations from every start pick the basin, a full refinement from its best start;
    # when the previous estimate (tried first) already fits, the other starts are skipped
    best, best_score = distinct[0], -np.inf
    for index, start in enumerate(distinct):
        _, score = _refine(a_smooth, b_stack, np.array(start), _SCREEN_ITERATIONS)
        if score > best_score:
            best, best_score = start, score
        if index == 0 and previous is not None and score >= _GOOD_FIT:
            break
    return _refine(a_smooth, b_stack, np.array(best), _MAX_ITERATIONS)[0]


def camera_motion(frames: FramesLike, step: int = 1) -> np.ndarray:
    """Global content motion between consecutive frames, or per frame over a span of ``step`` frames.

    Args:
        frames: ``(F, 3, H, W)`` or ``(F, H, W, 3)``, float in ``[0, 1]`` / ``[-1, 1]`` or uint8; F > step.
        step: register frame ``k`` against frame ``k + step`` and return the per-frame motion that, repeated
            ``step`` times, gives that map (the zoom's ``step``-th root; the shift that composes to the measured
            one). 1 (the default) measures consecutive frames. A longer span measures the speed of a camera
            more accurately on decoded video, where consecutive pairs read small motions short (about a
            quarter of a pan on the built-in model's VAE reconstructions; the module docstring): the
            span's shift is ``step`` times larger, what pulls the estimate toward no motion is not.

    Returns:
        float64 ``(F - step, 3)``: per pair ``k -> k + step`` the per-frame content translation ``dx, dy`` in
        pixels (``+x`` right, ``+y`` down) and ``zoom``, the content scale of one frame relative to the one
        before about the image centre (1 = none); see the module docstring for the model and the estimator.
        Frames of constant colour give ``(0, 0, 1)``.
    """
    video = as_frames(frames)
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"step must be a positive integer, got {step!r}")
    if video.shape[0] < step + 1:
        raise ValueError(f"frames must hold at least {step + 1} frames (step + 1), got {video.shape[0]}")
    if min(video.shape[1:3]) < 8:
        raise ValueError(f"frames must be at least 8 x 8 pixels, got {video.shape[1]} x {video.shape[2]}")
    factor = max(1, int(np.ceil(max(video.shape[1:3]) / _MAX_SIDE)))
    gray = luminance(downscale(video, factor))
    pairs = _pair_motions(gray)
    if step > 1:
        # Each span starts from its consecutive pairs' estimates composed (near the truth even where they under-read)
        # and from their median pair repeated (where an object pulled a few of them off), so that a long span's large
        # shift does not fall into a wrong basin; the better fit of the two is refined.
        h, w = gray.shape[1:3]
        spans = np.empty((gray.shape[0] - step, 3))
        for k in range(len(spans)):
            chained = _span_map(pairs[k:k + step], h, w)
            typical = _span_map(np.repeat(np.median(pairs[k:k + step], axis=0)[None], step, axis=0), h, w)
            spans[k] = _register_flat(gray[k], gray[k + step], None, [chained, typical])
        pairs = _per_frame(spans, step)
    pairs[:, :2] *= factor
    return pairs


def _register_flat(a: np.ndarray, b: np.ndarray, previous: np.ndarray | None, hints: list | None = None):
    """:func:`_register`, with no motion where either frame is of one colour."""
    if np.ptp(a) < 1e-6 or np.ptp(b) < 1e-6:
        return np.array([0.0, 0.0, 1.0])
    return _register(a, b, previous, hints)


def _span_map(motions: np.ndarray, height: int, width: int) -> np.ndarray:
    """Consecutive maps ``(n, 3)`` composed into one, in the same ``(dx, dy, zoom)`` form about the centre:
    :func:`compose_motions` gives ``p -> s p + t``, which is ``c + s (p - c) + (t - c (1 - s))``."""
    tx, ty, zoom = compose_motions(motions, height, width)[-1]
    cx, cy = centre(height, width)
    return np.array([tx - cx * (1 - zoom), ty - cy * (1 - zoom), zoom])


def _pair_motions(gray: np.ndarray) -> np.ndarray:
    out = np.empty((gray.shape[0] - 1, 3))
    for k in range(len(out)):
        out[k] = _register_flat(gray[k], gray[k + 1], out[k - 1] if k else None)
    return out


def _per_frame(spans: np.ndarray, step: int) -> np.ndarray:
    """The per-frame map that, repeated ``step`` times, gives each span's: ``p -> c + z (p - c) + d`` composes to
    ``c + z**step (p - c) + d (1 + z + ... + z**(step - 1))``."""
    out = spans.copy()
    # a scale that is not positive has no per-frame root: nan, not a warning
    zoom = np.where(spans[:, 2] > 0, np.abs(spans[:, 2]) ** (1 / step), np.nan)
    gain = np.array([np.sum(z ** np.arange(step)) for z in zoom])
    out[:, 2] = zoom
    out[:, :2] = spans[:, :2] / gain[:, None]
    return out


def compose_motions(motions: np.ndarray, height: int, width: int) -> np.ndarray:
    """Cumulative maps from frame 0 to every frame, from per-pair motions.

    Args:
        motions: ``(F - 1, 3)`` as returned by :func:`camera_motion`.
        height, width: the frame size (the centre of the zooms).

    Returns:
        ``(F, 3)`` rows ``(tx, ty, s)``: a content point at ``p`` in frame 0 is at ``s * p + (tx, ty)``
        in frame ``k`` (row 0 is the identity ``(0, 0, 1)``).
    """
    cx, cy = centre(height, width)
    out = np.empty((len(motions) + 1, 3))
    out[0] = (0.0, 0.0, 1.0)
    for k, (dx, dy, zoom) in enumerate(motions):
        tx, ty, s = out[k]
        # p_{k+1} = c + zoom * (p_k - c) + d with p_k = s * p + t
        out[k + 1] = (cx + zoom * (tx - cx) + dx, cy + zoom * (ty - cy) + dy, zoom * s)
    return out
