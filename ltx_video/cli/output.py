"""What ``ltx-video generate`` writes: the given sound as the file holds it, and the mp4 placed only when complete
(a partial file of the run's own beside ``--output``, never a half-written one in its place)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from ltx_video.cli import PROG, make_folders, remove_folders

__all__ = ["given_sound", "place_output", "write_output"]


def given_sound(path: Path, num_frames: int, frame_rate: float):
    """--audio's sound for the mp4 -> (waveform (C, S), rate): the file's own rate and channels (since 2026-12-07; the
    model's 16 kHz mono version was written: a stereo file lost its channels and all above 8 kHz), from its first video
    frame and trimmed or padded with silence as the pipeline reads it (which warned). A rate AAC does not store is
    written at the next one up, more than 2 channels as stereo: said; mono is written as two identical channels."""
    import av
    import torch.nn.functional as F

    from ltx_video.io.media import AAC_RATES, read_audio

    with av.open(str(path)) as container:  # the pipeline has read it: it opens
        rate, channels = container.streams.audio[0].rate, container.streams.audio[0].channels
    stored = next((r for r in AAC_RATES if r >= rate), AAC_RATES[-1])
    if stored != rate or channels > 2:
        changes = [f"at {stored} Hz (AAC stores no {rate} Hz)"] if stored != rate else []
        changes += [f"mixed from {channels} channels to stereo"] if channels > 2 else []
        print(f"{PROG}: note: --audio {path}: its sound is written {' and '.join(changes)}", file=sys.stderr)
    samples = round(stored * num_frames / frame_rate)
    waveform, _ = read_audio(path, sample_rate=stored, mono=channels == 1, align_to_video=True,
                             max_seconds=(samples + 1) / stored)
    waveform = waveform[:, :samples]
    return F.pad(waveform, (0, samples - waveform.shape[-1])), stored


def write_output(output: Path, overwrite: bool, write) -> Path:
    """``write(path)`` into a partial file next to ``output``, then placed (:func:`place_output`); returns where it
    went. ``output``'s missing folders are made here, and removed again if nothing is placed (an error, Ctrl-C)."""
    made = make_folders(output.parent)
    placed = False
    try:
        # A name of this run's own (two runs writing one --output shared one partial file), placed at the end.
        handle, name = tempfile.mkstemp(suffix=".mp4", prefix=f".{output.stem}.partial-", dir=output.parent)
        os.close(handle)
        partial = Path(name)
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(partial, 0o666 & ~umask)  # mkstemp's 0600 would pass to the video: readable as a new file is
            write(partial)
            target = place_output(partial, output, overwrite)
            placed = True
            return target
        finally:
            partial.unlink(missing_ok=True)
    finally:
        if not placed:
            remove_folders(made)


def place_output(partial: Path, output: Path, overwrite: bool) -> Path:
    """Move the finished ``partial`` to ``output``; returns where it went. Without ``overwrite`` a file that appeared
    at ``output`` during the generation (another run's) is kept, and this one is placed beside it (``name-2.mp4``
    ...), said on stderr: the check before loading cannot see a file written while this run generated."""
    if overwrite:
        os.replace(partial, output)
        return output
    target, number = output, 1
    while True:
        try:
            os.link(partial, target)  # fails if the name is taken: no check-then-replace race
            break
        except FileExistsError:
            number += 1
            target = output.with_name(f"{output.stem}-{number}{output.suffix}")
        except OSError:  # a file system without hard links: the check and the move are then two steps
            if target.exists():
                number += 1
                target = output.with_name(f"{output.stem}-{number}{output.suffix}")
                continue
            os.replace(partial, target)
            break
    if target != output:
        print(f"{PROG}: warning: --output {output} appeared while this run generated (another run's?): kept, and this video written "
              f"to {target}", file=sys.stderr)
    return target
