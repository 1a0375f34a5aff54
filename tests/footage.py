"""Bouncing-object footage drawn by code that shares nothing with ``ltx_video.data``: an independent test set
for the sync metric (``tests/test_metrics_sync_footage.py``, ``scripts/validate_sync_metric.py``).

The synthetic world draws supersampled objects moving in straight lines between walls over a textured
background, with tones at the bounces. This draws what a user's own renderer would: one disk or square,
hard-edged (a pixel is in or out, aliased) or soft (4 x 4 supersampled coverage), on a plain, dark or
textured background (contrast at least 0.3 in one channel), falling under gravity and bouncing elastically off the four walls, with a click (a
decaying noise burst) at every bounce. The bounce times are exact: the motion is integrated event by
event in closed form, not in time steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000
BACKGROUNDS = ("plain", "dark", "textured")
EDGES = ("hard", "soft")
SHAPES = ("disk", "square")
MIN_CONTRAST = 0.3  # the object differs from a plain background by this much in one channel at least


@dataclass(frozen=True)
class Scene:
    """One clip. Lengths in pixels, times in frames (``speed`` px per frame, ``gravity`` px per frame^2)."""

    radius: float = 4.0  # a disk's radius, half a square's side: radius 4 is a disk of about 50 px
    shape: str = "disk"
    edge: str = "hard"
    background: str = "dark"
    speed: float = 2.0
    gravity: float = 0.15
    size: int = 64
    num_frames: int = 48
    fps: float = 24.0
    noise: float = 0.0  # sensor noise, std per pixel and channel
    seed: int = 0
    colour: tuple[float, float, float] | None = None  # the object's RGB in [0, 1]; drawn from the seed when None


def bounce_path(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """``(positions (F, 2), bounce times in seconds)``: the centre at each frame and the wall hits."""
    rng = np.random.default_rng([scene.seed, 1])
    low, high = scene.radius + 1.0, scene.size - 2.0 - scene.radius
    position = rng.uniform(low + 4, high - 4, size=2)
    angle = rng.uniform(0, 2 * math.pi)
    velocity = scene.speed * np.array([math.cos(angle), math.sin(angle)])
    if abs(velocity[0]) < 0.3 * scene.speed:  # keep some horizontal motion
        velocity[0] = math.copysign(0.3 * scene.speed, velocity[0] or 1.0)
    acceleration = np.array([0.0, scene.gravity])
    end = scene.num_frames - 1.0
    time, events, states = 0.0, [], [(0.0, position.copy(), velocity.copy())]
    while True:
        hit, axis = end + 1.0, -1
        for a in range(2):
            for wall in (low, high):
                dt = _first_hit(position[a] - wall, velocity[a], acceleration[a])
                if dt is not None and time + dt < hit:
                    hit, axis = time + dt, a
        if hit > end:
            break
        dt = hit - time
        position = position + velocity * dt + 0.5 * acceleration * dt * dt
        velocity = velocity + acceleration * dt
        velocity[axis] = -velocity[axis]
        time = hit
        events.append(time)
        states.append((time, position.copy(), velocity.copy()))
    frames = np.arange(scene.num_frames, dtype=np.float64)
    out = np.empty((scene.num_frames, 2))
    starts = np.array([s[0] for s in states])
    for k, t in enumerate(frames):
        t0, p0, v0 = states[int(np.searchsorted(starts, t, side="right")) - 1]
        dt = t - t0
        out[k] = p0 + v0 * dt + 0.5 * acceleration * dt * dt
    return out, np.array(events) / scene.fps


def _first_hit(gap: float, velocity: float, acceleration: float) -> float | None:
    """Smallest ``dt > 1e-9`` at which ``gap + velocity dt + acceleration dt^2 / 2`` crosses 0 moving toward it."""
    roots = []
    if abs(acceleration) < 1e-12:
        if velocity != 0:
            roots = [-gap / velocity]
    else:
        a, b, c = 0.5 * acceleration, velocity, gap
        disc = b * b - 4 * a * c
        if disc >= 0:
            root = math.sqrt(disc)
            roots = [(-b - root) / (2 * a), (-b + root) / (2 * a)]
    # only crossings toward the wall count: the gap's derivative has the opposite sign of the gap before it
    valid = [dt for dt in roots if dt > 1e-9 and (velocity + acceleration * dt) * gap <= 0]
    return min(valid) if valid else None


def _background(scene: Scene, rng: np.random.Generator) -> np.ndarray:
    n = scene.size
    if scene.background == "dark":
        return np.full((n, n, 3), 0.04) + rng.uniform(0, 0.03, size=3)
    if scene.background == "plain":
        return np.broadcast_to(rng.uniform(0.3, 0.7, size=3), (n, n, 3)).copy()
    if scene.background == "textured":
        # random 4 px cells of two greens plus a fine sinusoidal grain: texture at two scales
        cells = rng.integers(0, 2, size=(n // 4 + 1, n // 4 + 1)).repeat(4, 0).repeat(4, 1)[:n, :n]
        grain = 0.05 * np.sin(np.arange(n)[:, None] * 1.3 + np.arange(n)[None, :] * 0.7)
        base = np.where(cells[..., None] > 0, [0.25, 0.45, 0.25], [0.35, 0.55, 0.3])
        return np.clip(base + grain[..., None], 0, 1)
    raise ValueError(f"background must be one of {BACKGROUNDS}, got {scene.background!r}")


def _coverage(scene: Scene, cx: float, cy: float) -> np.ndarray:
    n = scene.size
    samples = 1 if scene.edge == "hard" else 4
    offsets = (np.arange(samples) + 0.5) / samples - 0.5
    ys = np.arange(n)[:, None, None, None] + offsets[None, None, :, None]
    xs = np.arange(n)[None, :, None, None] + offsets[None, None, None, :]
    if scene.shape == "disk":
        inside = (xs - cx) ** 2 + (ys - cy) ** 2 <= scene.radius**2
    elif scene.shape == "square":
        inside = (np.abs(xs - cx) <= scene.radius) & (np.abs(ys - cy) <= scene.radius)
    else:
        raise ValueError(f"shape must be one of {SHAPES}, got {scene.shape!r}")
    return inside.mean(axis=(2, 3))


def render(scene: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(video (F, H, W, 3) uint8, audio (S,) float32 at SAMPLE_RATE, bounce times in seconds)``."""
    if scene.edge not in EDGES:
        raise ValueError(f"edge must be one of {EDGES}, got {scene.edge!r}")
    rng = np.random.default_rng([scene.seed, 2])
    path, bounces = bounce_path(scene)
    background = _background(scene, rng)
    colour = np.array([0.95, 0.85, 0.2]) if scene.background == "textured" else rng.uniform(0.6, 1.0, size=3)
    if scene.colour is not None:
        colour = np.asarray(scene.colour, np.float64)
    while np.abs(colour - background[0, 0]).max() < MIN_CONTRAST:  # a plain background near the object's colour
        colour = rng.uniform(0.0, 1.0, size=3)
    video = np.empty((scene.num_frames, scene.size, scene.size, 3))
    for k, (x, y) in enumerate(path):
        alpha = _coverage(scene, x, y)[..., None]
        video[k] = background * (1 - alpha) + colour * alpha
    if scene.noise:
        video += rng.normal(0, scene.noise, size=video.shape)
    video = np.round(np.clip(video, 0, 1) * 255).astype(np.uint8)
    return video, clicks(bounces, scene.num_frames / scene.fps, seed=scene.seed), bounces


def h264(video: np.ndarray, fps: float, crf: int) -> np.ndarray:
    """``video`` (F, H, W, 3) uint8 through H.264 (libx264, yuv420p: chroma at half resolution) at ``crf`` and
    decoded again, in memory, as a user's mp4 would be."""
    import io
    from fractions import Fraction

    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = video.shape[2], video.shape[1], "yuv420p"
        # one x264 thread, as an encoder option: its frame threads made the output vary run to run (two outputs of six
        # under load), and codec_context.thread_count = 1 alone did not reach x264; no macroblock tree, as the
        # package's writer (x264's mbtree gave 3-4 different streams in 8 encodes of the same YUV frames at one
        # thread, 2026-12-08); and the YUV conversion on one thread (the encoder's own threaded RGB -> yuv420p
        # conversion gave 5 different streams in 8): so the crf rows and their test varied run to run
        stream.options = {"crf": str(crf), "threads": "1", "x264-params": "mbtree=0"}
        for frame in video:
            yuv = av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="yuv420p", threads=1)
            container.mux(stream.encode(yuv))
        container.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer) as container:
        return np.stack([frame.to_ndarray(format="rgb24", threads=1) for frame in container.decode(video=0)])


def clicks(times: np.ndarray, duration_s: float, *, seed: int = 0, offset_ms: float = 0.0) -> np.ndarray:
    """Clicks at ``times + offset_ms`` (a white-noise burst decaying in 6 ms) over faint hiss."""
    rng = np.random.default_rng([seed, 3])
    length = int(round(duration_s * SAMPLE_RATE))
    audio = 0.002 * rng.standard_normal(length)
    tail = np.arange(int(0.05 * SAMPLE_RATE)) / SAMPLE_RATE
    burst = rng.standard_normal(len(tail)) * np.exp(-tail / 0.006)
    for t in np.asarray(times) + offset_ms / 1000.0:
        start = int(round(t * SAMPLE_RATE))
        if 0 <= start < length:
            piece = burst[: length - start]
            audio[start : start + len(piece)] += 0.4 * piece
    return audio.astype(np.float32)
