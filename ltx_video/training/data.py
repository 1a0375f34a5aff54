"""Training clips held in memory and drawn by step, so a run resumes (and shards) without loader state.

A :class:`ClipBank` renders or reads every clip once at start (video as uint8, audio as float16) and
serves batches by step number: ``batch_indices(step, rank, world_size)`` is a pure function of the
seed, the step and the rank, so a resumed run sees exactly the batches an uninterrupted run would, and
the ranks of a distributed run see disjoint clips of one global batch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from tqdm.auto import tqdm

from ltx_video.data.synthetic import CAMERA_MOTIONS, SAMPLE_RATE, Clip, render_clip, sample_params

if TYPE_CHECKING:
    from ltx_video.data.video_folder import VideoFolderDataset

__all__ = ["ClipBank", "DataConfig", "batch_indices", "load_cache", "synthetic_clip", "training_prompt"]

_STATIC_SUFFIX = ", the camera is static"


@dataclass(frozen=True)
class DataConfig:
    """Where clips come from and their shape.

    source: ``"synthetic"`` (:mod:`ltx_video.data.synthetic`) or ``"folder"`` (``root``, read with
        :class:`ltx_video.data.VideoFolderDataset`).
    num_clips: clips in the bank (synthetic: seeds ``seed .. seed + num_clips - 1``; folder: the first
        ``num_clips`` clips, 0 for all).
    camera: synthetic only: a camera motion to keep fixed (e.g. ``"static"``), a list to draw each clip's
        from (e.g. all of ``CAMERA_MOTIONS``, orbits and dollies included), or None to draw it from
        ``DRAWN_CAMERA_MOTIONS`` (static, pans, zooms).
    max_objects: synthetic only: keep at most this many of the drawn objects (1-3).
    drop_static_phrase: probability of dropping ``", the camera is static"`` from a prompt at each
        draw, so both ``"a red ball bounces"`` and the full grammar work at inference.
    cache: a ``.pt`` file to save the rendered bank to and load it from (None: render every run).
    require_audio: folder only: leave out files without an audio track (else their clips train as silence).
    """

    source: str = "synthetic"
    root: str | None = None
    num_clips: int = 1024
    seed: int = 0
    height: int = 64
    width: int = 64
    num_frames: int = 49
    fps: float = 24.0
    camera: str | tuple[str, ...] | None = "static"
    max_objects: int = 3
    drop_static_phrase: float = 0.5
    cache: str | None = None
    require_audio: bool = False

    def __post_init__(self) -> None:
        for name in ("num_clips", "seed", "height", "width", "num_frames", "max_objects"):  # YAML gives "17" or 17.0
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"data.{name} must be a whole number, got {value!r}")
        for name in ("fps", "drop_static_phrase"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"data.{name} must be a number, got {value!r}"
                                 + (" (training needs one rate for every clip)" if name == "fps" else ""))
        if not isinstance(self.require_audio, bool):
            raise ValueError(f"data.require_audio must be true or false, got {self.require_audio!r}")
        for name in ("root", "cache"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, (str, os.PathLike)):
                raise ValueError(f"data.{name} must be a path (a string), got {value!r}")
            if isinstance(value, os.PathLike):
                object.__setattr__(self, name, os.fspath(value))
        if self.source not in ("synthetic", "folder"):
            raise ValueError(f"data.source must be 'synthetic' or 'folder', got {self.source!r}")
        if self.source == "folder" and not self.root:
            raise ValueError("data.root is required when data.source is 'folder'")
        for name, unset in (("root", None), ("require_audio", False)):  # they trained on synthetic clips in silence
            if self.source != "folder" and getattr(self, name) != unset:
                raise ValueError(f"data.{name} is read only with data.source: folder (data.source is {self.source!r}): "
                                 f"add `source: folder`, or remove data.{name}")
        if not isinstance(self.num_clips, int) or self.num_clips < (1 if self.source == "synthetic" else 0):
            raise ValueError(f"data.num_clips must be a positive int (0 = all clips of a folder), got {self.num_clips!r}")
        if isinstance(self.camera, list):
            object.__setattr__(self, "camera", tuple(self.camera))
        if self.camera is not None:
            choices = self.camera if isinstance(self.camera, tuple) else (self.camera,)
            if not choices or any(c not in CAMERA_MOTIONS for c in choices):
                raise ValueError(f"data.camera must be one of {CAMERA_MOTIONS}, a list of them or null, got {self.camera!r}")
        if not 1 <= self.max_objects <= 3:
            raise ValueError(f"data.max_objects must be in [1, 3], got {self.max_objects!r}")
        if not 0.0 <= self.drop_static_phrase <= 1.0:
            raise ValueError(f"data.drop_static_phrase must be in [0, 1], got {self.drop_static_phrase!r}")
        if self.num_frames < 1 or self.height < 8 or self.width < 8 or not self.fps > 0:
            raise ValueError("data.num_frames must be >= 1, data.height/width >= 8 and data.fps > 0")

    @property
    def num_samples(self) -> int:
        """Audio samples per clip: ``round(16000 * num_frames / fps)`` (the pipelines' audio length)."""
        return round(SAMPLE_RATE * self.num_frames / self.fps)

    def fingerprint(self) -> str:
        """The data config, and for a folder its files (names, sizes, modification times): a cache rendered from
        it stays valid while neither changes (an added clip or an edited caption makes it stale)."""
        from ltx_video.data.video_folder import DEFAULT_EXTENSIONS, walk_files

        fields = {k: v for k, v in dataclasses.asdict(self).items() if k not in ("cache", "drop_static_phrase")}
        if not self.require_audio:  # added 2026-12-06: caches rendered before it stay valid at its default
            del fields["require_audio"]
        if self.source == "folder" and self.root and Path(self.root).is_dir():  # its videos and captions only
            fields["files"] = sorted((str(p.relative_to(self.root)), p.stat().st_size, p.stat().st_mtime_ns)
                                     for p in walk_files(Path(self.root)) if p.suffix.lower() in (*DEFAULT_EXTENSIONS, ".txt"))
        return hashlib.sha1(repr(sorted(fields.items())).encode()).hexdigest()[:12]


# Files a user may mean as clips that the folder loader does not read (it reads DEFAULT_EXTENSIONS).
_OTHER_MEDIA = (".gif", ".avi", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".png", ".jpg", ".jpeg", ".webp")


def _warn_unread_media(root: Path) -> None:
    """Say which image and video files under ``root`` are not read (GIFs and image sequences were left out in
    silence, 2026-12-07)."""
    from ltx_video.data.video_folder import DEFAULT_EXTENSIONS, walk_files

    counts: dict[str, int] = {}
    for path in walk_files(root):
        if path.suffix.lower() in _OTHER_MEDIA:
            counts[path.suffix.lower()] = counts.get(path.suffix.lower(), 0) + 1
    if counts:
        found = ", ".join(f"{n} {suffix}" for suffix, n in sorted(counts.items()))
        warnings.warn(f"data.root {root}: {found} file(s) are not read (clips are read from {list(DEFAULT_EXTENSIONS)} "
                      "files; convert the others, e.g. `ffmpeg -i in.gif out.mp4`, or "
                      "`ffmpeg -framerate 24 -i frames/%05d.png out.mp4` for an image sequence)", stacklevel=3)


# Files that other trainers read captions from (a metadata.csv, a prompts.json): this loader does not.
_CAPTION_TABLES = (".csv", ".tsv", ".json", ".jsonl")


def _unread_caption_tables(root: Path) -> str:
    """For the missing-caption warning: the caption tables under ``root``, said not to be read (since 2026-12-07;
    a metadata.csv beside the clips was passed over in silence), or ""."""
    from ltx_video.data.video_folder import walk_files

    tables = sorted(str(p.relative_to(root)) for p in walk_files(root) if p.suffix.lower() in _CAPTION_TABLES)
    if not tables:
        return ""
    return (f"; {', '.join(tables[:3])}{' ...' if len(tables) > 3 else ''} {'is' if len(tables) == 1 else 'are'} not "
            "read: captions are read only from a UTF-8 name.txt beside each video")


def _caption(video: Path) -> str | None:
    """The caption beside ``video`` (``name.txt``, UTF-8, a byte-order mark dropped); None if there is none."""
    caption = video.with_suffix(".txt")
    if not caption.is_file():
        return None
    try:
        return caption.read_text(encoding="utf-8-sig").strip()
    except UnicodeDecodeError as error:
        raise ValueError(f"{caption}: captions must be UTF-8 text ({error.reason} at byte {error.start}); save it as "
                         "UTF-8") from None


def synthetic_clip(seed: int, config: DataConfig) -> Clip:
    """The synthetic clip of ``seed`` as ``config`` restricts it (size, length, camera, number of objects)."""
    overrides = dict(height=config.height, width=config.width, fps=config.fps, duration=config.num_frames / config.fps)
    if config.camera is not None:
        overrides["camera"] = config.camera
    params = sample_params(seed, **overrides)
    return render_clip(seed, dataclasses.replace(params, objects=params.objects[: config.max_objects]))


def training_prompt(prompt: str, rng: random.Random, drop_static_phrase: float) -> str:
    """The prompt as drawn for one step: the static-camera phrase dropped with probability ``drop_static_phrase``."""
    if prompt.endswith(_STATIC_SUFFIX) and rng.random() < drop_static_phrase:
        return prompt[: -len(_STATIC_SUFFIX)]
    return prompt


def batch_indices(step: int, rank: int, world_size: int, batch_size: int, num_items: int, seed: int) -> list[int]:
    """The clip indices rank ``rank`` trains on at ``step``: its slice of one global batch drawn from
    ``(seed, step)`` (without replacement when the bank is large enough)."""
    rng = np.random.default_rng([seed, step])
    total = batch_size * world_size
    picks = rng.choice(num_items, size=total, replace=total > num_items)
    return [int(i) for i in picks[rank * batch_size : (rank + 1) * batch_size]]


def folder_selection(config: DataConfig) -> tuple[VideoFolderDataset, int, list[Path]]:
    """The clips a folder source trains on: the dataset of ``data.root`` (files too short, unreadable or, with
    ``require_audio``, silent left out, each with a warning), how many of its clips are used (``num_clips``, 0 for
    all) and the files they come from, in order. The clip bank reads these; ``check_captions`` checks their captions
    before any clip is decoded."""
    from ltx_video.data.video_folder import VideoFolderDataset

    dataset = VideoFolderDataset(config.root, num_frames=config.num_frames, height=config.height, width=config.width,
                                 fps=config.fps, require_audio=config.require_audio)
    count = len(dataset) if config.num_clips == 0 else min(config.num_clips, len(dataset))
    return dataset, count, list(dict.fromkeys(dataset.clip(i).file.path for i in range(count)))


def load_cache(config: DataConfig, mmap: bool = False) -> dict | None:
    """The clips ``data.cache`` holds, or None when it names no file yet (the bank renders and saves them there).
    ValueError naming ``data.cache`` when it is a folder (or under a file), not a clip cache, or rendered for another
    data config or other files under ``data.root``. ``mmap``: the tensors stay on disk (a check reads the
    fingerprint alone)."""
    if not config.cache:
        return None
    cache = Path(config.cache)
    existing = next((p for p in (cache, *cache.parents) if p.exists()), cache)
    if existing.exists() and not (existing.is_file() if existing == cache else existing.is_dir()):
        raise ValueError(f"data.cache {cache} must be a file path (the .pt file the rendered clips are saved to), "
                         f"but {existing} is a {'folder' if existing.is_dir() else 'file'}")
    if not cache.exists():
        return None
    try:
        stored = torch.load(cache, weights_only=True, mmap=mmap)
    except Exception as error:  # torch raises RuntimeError, pickle's errors, EOFError ... for a file of another kind
        raise ValueError(f"data.cache {cache} is not a clip cache ({type(error).__name__}); delete it or change "
                         "data.cache") from None
    if not isinstance(stored, dict) or stored.get("fingerprint") != config.fingerprint():
        raise ValueError(f"data.cache {cache} was rendered for another data config or other files under "
                         "data.root; delete it or change data.cache")
    return stored


class ClipBank:
    """Every training clip in memory: video uint8 ``(N, F, 3, H, W)``, audio float16 ``(N, S)``, prompts."""

    def __init__(self, config: DataConfig, show_progress: bool = True) -> None:
        self.config = config
        cache = Path(config.cache) if config.cache else None
        stored = load_cache(config)
        if stored is not None:
            self.video, self.audio, self.prompts = stored["video"], stored["audio"], list(stored["prompts"])
            return
        clips = self._synthetic(show_progress) if config.source == "synthetic" else self._folder(show_progress)
        self.video = torch.stack([c[0] for c in clips])
        self.audio = torch.stack([c[1] for c in clips])
        self.prompts = [c[2] for c in clips]
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            payload = dict(video=self.video, audio=self.audio, prompts=self.prompts, fingerprint=config.fingerprint())
            partial = cache.with_suffix(".partial")
            torch.save(payload, partial)
            partial.replace(cache)  # never a half-written cache

    @staticmethod
    def _quantise(video: torch.Tensor, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        video = ((video.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return video, audio.to(torch.float16)

    def _synthetic(self, show_progress: bool) -> list:
        c = self.config
        clips = []
        for seed in tqdm(range(c.seed, c.seed + c.num_clips), desc="rendering clips", disable=not show_progress):
            clip = synthetic_clip(seed, c)
            clips.append((*self._quantise(clip.video, clip.audio), clip.prompt))
        return clips

    def _folder(self, show_progress: bool) -> list:
        from ltx_video.data.video_folder import _READ_ERRORS, _ClipReadError

        c = self.config
        dataset, count, used = folder_selection(c)
        if count < len(dataset):
            left_out = len(dataset.files) - len(used)
            warnings.warn(f"data.num_clips {c.num_clips}: the first {count} of the folder's {len(dataset)} clips are used"
                          + (f"; {left_out} of its {len(dataset.files)} files are left out whole" if left_out else "")
                          + " (data.num_clips: 0 uses every clip)", stacklevel=2)
        _warn_unread_media(Path(c.root))
        # Every caption is read (and a bad one refused) before any clip is decoded; a missing one is said once.
        captions = {path: _caption(Path(path)) for path in used}
        # an empty caption file (blank, or whitespace and a byte-order mark) trains as the missing one does: as the
        # unconditional prompt (since 2026-12-07 it is said with them; it was silent)
        missing = [path for path, caption in captions.items() if caption is None]
        empty = [path for path, caption in captions.items() if caption == ""]
        for files, what in ((missing, "no caption (name.txt) beside them"), (empty, "an empty caption (name.txt)")):
            if files:
                warnings.warn(f"{len(files)} of the files have {what}; their clips train with the empty prompt, the "
                              f"unconditional one ({', '.join(map(str, files[:3]))}{' ...' if len(files) > 3 else ''})"
                              + (_unread_caption_tables(Path(c.root)) if files is missing else ""), stacklevel=2)
        clips, unreadable, silent = [], {}, set()
        for i in tqdm(range(count), desc="reading clips", disable=not show_progress):
            clip = dataset.clip(i)
            if clip.file.path in unreadable:
                continue
            try:  # read_clip, not dataset[i]: an unreadable file is left out, not replaced by another's clips
                item = dataset.read_clip(clip)
            except (*_READ_ERRORS, _ClipReadError) as error:  # a file cut short, or changed since indexing
                unreadable[clip.file.path] = f"{type(error).__name__}: {error}"
                continue
            prompt = captions[clip.file.path] or ""
            silent.update([item["path"]] if not item["has_audio"] else [])
            audio = item["audio"][: c.num_samples]
            audio = torch.nn.functional.pad(audio, (0, c.num_samples - audio.shape[0]))
            clips.append((*self._quantise(item["video"], audio), prompt))
        for path, reason in unreadable.items():
            warnings.warn(f"{path}: left out, it cannot be read ({reason})", stacklevel=2)
        if silent:
            warnings.warn(f"{len(silent)} of the files have no audio track: their clips train as silence in the audio "
                          f"stages ({sorted(silent)[:3]}{' ...' if len(silent) > 3 else ''}; data.require_audio: true "
                          "leaves them out)", stacklevel=2)
        if not clips:
            raise ValueError(f"data.root {c.root}: no clip could be read")
        return clips

    def __len__(self) -> int:
        return self.video.shape[0]

    def batch(self, indices: list[int], step: int, rank: int, media: bool = True) -> dict:
        """Clips ``indices``: prompts (with the static phrase dropped at random, seeded by step and rank) and,
        with ``media``, float tensors: video ``(B, 3, F, H, W)`` in [-1, 1] (the VAE layout), audio ``(B, 1, S)``."""
        rng = random.Random(f"{self.config.seed}-{step}-{rank}")
        prompts = [training_prompt(self.prompts[i], rng, self.config.drop_static_phrase) for i in indices]
        if not media:
            return {"prompts": prompts}
        video = self.video[indices].float().div_(127.5).sub_(1.0).permute(0, 2, 1, 3, 4)
        audio = self.audio[indices].float()[:, None]
        return {"video": video.contiguous(), "audio": audio, "prompts": prompts}
