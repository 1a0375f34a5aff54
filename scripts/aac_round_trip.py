"""AAC round trip: the SNR of sounds written by FFmpeg's native AAC encoder and read back, per channel layout.

    python scripts/aac_round_trip.py        # about a minute

The library writes stereo (mono in both channels; ``ltx_video.io.media``). For a tone, white noise, noise bursts and
three synthetic-world soundtracks, at 16, 44.1 and 48 kHz, it prints the SNR (dB) of the read-back mono mix against the
written samples for: mono and stereo at FFmpeg's defaults, stereo without perceptual noise substitution
(``aac_pns=0``), and mono at 128 kb/s with and without it. White noise is no perceptual codec's strength: its figures
compare layouts only.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from fractions import Fraction

import av
import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

VARIANTS = {  # name: (layout, encoder options, bit rate or None for FFmpeg's default)
    "mono": ("mono", {}, None),
    "stereo (the library's)": ("stereo", {}, None),
    "stereo, aac_pns=0": ("stereo", {"aac_pns": "0"}, None),
    "mono 128k, aac_pns=0": ("mono", {"aac_pns": "0"}, 128000),
    "mono 128k": ("mono", {}, 128000),
}


def write_aac(path: str, samples: np.ndarray, rate: int, layout: str, options: dict, bit_rate: int | None) -> None:
    channels = np.repeat(samples[None], 2 if layout == "stereo" else 1, axis=0)
    with av.open(path, "w") as container:
        stream = container.add_stream("aac", rate=rate, options=options)
        stream.layout, stream.format = layout, "fltp"
        if bit_rate:
            stream.bit_rate = bit_rate
        for start in range(0, samples.shape[0], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(channels[:, start:start + 1024]), format="fltp",
                                               layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def snr_db(reference: np.ndarray, read: np.ndarray) -> float:
    n = min(len(reference), len(read))
    error = read[:n] - reference[:n]
    return float(10 * np.log10((reference[:n] ** 2).sum() / (error ** 2).sum()))


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)  # no options: --help only
    from ltx_video.data.synthetic import make_clip
    from ltx_video.io.media import read_audio

    folder, rng = tempfile.mkdtemp(), np.random.default_rng(0)
    print("rate | sound | " + " | ".join(VARIANTS))
    for rate in (16000, 44100, 48000):
        t = np.arange(rate * 2) / rate
        sounds = {"tone 0.5": 0.5 * np.sin(2 * np.pi * 440 * t),
                  "noise 0.3": (0.3 * rng.standard_normal(len(t))).clip(-1, 1),
                  "bursts": np.where((t % 0.5) < 0.05, 0.5 * rng.standard_normal(len(t)), 0.0).clip(-1, 1)}
        if rate == 16000:  # the world's own rate
            sounds.update({f"synthetic {seed}": make_clip(seed).audio.numpy().reshape(-1) for seed in range(3)})
        for name, samples in sounds.items():
            samples = samples.astype(np.float32)
            row = []
            for layout, options, bit_rate in VARIANTS.values():
                write_aac(os.path.join(folder, "a.m4a"), samples, rate, layout, options, bit_rate)
                read = read_audio(os.path.join(folder, "a.m4a"), sample_rate=rate)[0][0].numpy()
                row.append(f"{snr_db(samples, read):.1f}")
            print(f"{rate} | {name} | " + " | ".join(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
