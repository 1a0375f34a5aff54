"""The folder of one long-video run: its manifest, its closed segments and the state carried between chunks.

``<output>.parts/`` holds ``manifest.json`` (the arguments, per-chunk seeds, finished chunks with SHA-256
checksums of their files), ``segment-00000.mp4`` (+ ``.wav``) per finished chunk, and the state the next chunk
needs (``state-00000.safetensors``: the last chunk's tail latents, decoded overlap frames and audio, and the
first chunk's latents). A chunk counts as finished only once the manifest lists it, and the manifest is
rewritten (atomically) only after the chunk's segment and state files are complete: a run killed at any moment
leaves a folder that the same call continues from its first unfinished chunk, without rewriting a finished
segment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ltx_video.io.segments import atomic_path, sha256_file

__all__ = ["MANIFEST_FORMAT", "ArgumentMismatch", "LongRun", "canonical"]

MANIFEST_FORMAT = "ltx_video.long_video/1"
# Recorded arguments that are not the user's but the method's version: a differing one is not the user's to fix.
VERSIONED = {"colour_fit": "colour matching", "writer": "video encoder settings"}
# Arguments recorded only when not at their default (so that runs from before them resume): their value when absent.
RECORDED_ONLY_WHEN_SET = {"colour_match_scope": "chunk"}
#: Arguments recorded since a later version: a run started before (its manifest lacks them) resumes unchecked on them.
RECORDED_SINCE = frozenset({"dtype"})


class ArgumentMismatch(ValueError):
    """An argument differs from the one the run being resumed was started with."""

    def __init__(self, key: str, given: Any, recorded: Any, folder: Path):
        self.key, self.given, self.recorded, self.folder = key, given, recorded, folder
        super().__init__(
            f"`{key}` is {given!r} but the run in {folder} was started with {recorded!r}: pass the same arguments to "
            "resume it, or resume=False to start over in a new folder (the old one is kept)"
        )


def canonical(value: Any) -> Any:
    """``value`` as plain JSON types (tuples as lists, paths as strings), so two calls compare equal when their
    arguments are."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, torch.Tensor):
        return canonical(value.tolist())
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"generate_long: argument value {value!r} ({type(value).__name__}) cannot be recorded in the "
                     "manifest; pass plain numbers, strings and lists")


def _folders(output: Path) -> list[Path]:
    """``<output>.parts``, ``<output>.parts-2``, ... that exist, oldest first."""
    base = output.with_name(output.name + ".parts")
    found = [base] if base.is_dir() else []
    number = 2
    while (candidate := base.with_name(f"{base.name}-{number}")).is_dir():
        found.append(candidate)
        number += 1
    return found


class LongRun:
    """One run's folder; use :meth:`open`."""

    def __init__(self, folder: Path, manifest: dict):
        self.folder = folder
        self.manifest = manifest

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, output: Path, arguments: dict, *, resume: bool, extra_defaults: dict | None = None) -> LongRun:
        """The run for ``output``: with ``resume`` the newest existing folder (its arguments must equal
        ``arguments``: else ValueError naming the first that differs), else a new folder. A new run never deletes
        an old folder; an existing ``output`` file is moved into the newest old folder first. ``extra_defaults``:
        what a passed-through argument (``arguments["extra"]``) left out stands for, so a run that recorded it
        given as that value resumes with it left out, and back."""
        arguments = canonical(arguments)
        existing = _folders(output)
        if resume and existing and (existing[-1] / "manifest.json").is_file():
            run = cls(existing[-1], cls._read(existing[-1] / "manifest.json"))
            if not run.manifest["chunks"]:  # nothing was finished: nothing to keep, the new arguments win
                run.manifest["arguments"] = arguments
                run._save()
                return run
            run._check_arguments(arguments, extra_defaults or {})
            run._verify_finished()
            return run
        if existing:
            if output.is_file():
                os.replace(output, existing[-1] / output.name)
            base = output.with_name(output.name + ".parts")
            number = 2
            while (folder := base.with_name(f"{base.name}-{number}")).exists():
                number += 1
        else:
            folder = output.with_name(output.name + ".parts")
        folder.mkdir(parents=True)
        run = cls(folder, {"format": MANIFEST_FORMAT, "arguments": arguments, "chunks": [], "output": None})
        run._save()
        return run

    @staticmethod
    def has_runs(output: Path) -> bool:
        """Whether any run folder (``<output>.parts``, ``-2`` ...) exists for ``output``."""
        return bool(_folders(output))

    @classmethod
    def recorded_arguments(cls, output: Path, finished_only: bool = True) -> dict | None:
        """The arguments of the run that :meth:`open` with ``resume=True`` would continue for ``output`` (the newest
        folder, with at least one finished chunk unless ``finished_only`` is False), else None."""
        existing = _folders(output)
        if not existing or not (existing[-1] / "manifest.json").is_file():
            return None
        try:
            manifest = cls._read(existing[-1] / "manifest.json")
        except ValueError:  # unreadable: open() reports it
            return None
        return manifest["arguments"] if manifest["chunks"] or not finished_only else None

    @staticmethod
    def _read(path: Path) -> dict:
        try:
            manifest = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path} is not a readable manifest ({error}); pass resume=False to start over in a new "
                             "folder") from None
        if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"{path} is not a {MANIFEST_FORMAT} manifest; pass resume=False to start over")
        return manifest

    def _check_arguments(self, arguments: dict, extra_defaults: dict) -> None:
        recorded = self.manifest["arguments"]

        def extra(values: dict) -> dict:  # the passed-through arguments (stg_scale ...), those left out filled
            return {**extra_defaults, **(values.get("extra") or {})}

        # the user's arguments first: a versioned detail (colour_fit) follows from one of them (colour_match)
        for key in sorted(set(recorded) | set(arguments), key=lambda k: (k in VERSIONED, k)):
            if recorded.get(key) == arguments.get(key) or (key in RECORDED_SINCE and key not in recorded):
                continue
            if key == "extra":  # name the one that differs
                given, started = extra(arguments), extra(recorded)
                differing = [k for k in sorted(set(given) | set(started)) if given.get(k) != started.get(k)]
                if not differing:
                    continue
                key, arguments, recorded = differing[0], given, started
            if key in VERSIONED:
                raise ValueError(
                    f"the run in {self.folder} was started by a version of ltx_video whose {VERSIONED[key]} differs "
                    "from this one's, so it cannot be continued identically: pass resume=False to start over in a new "
                    "folder (the old one is kept)"
                )
            default = RECORDED_ONLY_WHEN_SET.get(key)
            raise ArgumentMismatch(key, arguments.get(key, default), recorded.get(key, default), self.folder)

    def _verify_finished(self) -> None:
        for entry in self.manifest["chunks"]:
            for name_key, sum_key in (("video", "video_sha256"), ("audio", "audio_sha256"), ("state", "state_sha256")):
                if name_key not in entry or (name_key == "state" and entry is not self.manifest["chunks"][-1]):
                    continue
                path = self.folder / entry[name_key]
                if not path.is_file() or sha256_file(path) != entry[sum_key]:
                    raise ValueError(f"{path} is missing or changed since it was written (its SHA-256 differs from "
                                     "the manifest's): restore it, or pass resume=False to start over in a new folder")

    # ------------------------------------------------------------------ chunks
    @property
    def arguments(self) -> dict:
        return self.manifest["arguments"]

    @property
    def num_finished(self) -> int:
        return len(self.manifest["chunks"])

    def segment_path(self, index: int) -> Path:
        return self.folder / f"segment-{index:05d}.mp4"

    def _state_path(self, index: int) -> Path:
        return self.folder / f"state-{index:05d}.safetensors"

    def finish_chunk(self, entry: dict, state: dict[str, torch.Tensor]) -> None:
        """Record chunk ``entry["index"]`` (its segment already written) with the ``state`` the next chunk needs."""
        index = entry["index"]
        if index != self.num_finished:
            raise RuntimeError(f"chunk {index} finished out of order (next expected: {self.num_finished})")
        path = self._state_path(index)
        with atomic_path(path) as partial:
            save_file({k: v.contiguous().cpu() for k, v in state.items()}, str(partial))
        entry = dict(entry, state=path.name, state_sha256=sha256_file(path))
        self.manifest["chunks"].append(entry)
        self._save()
        if index > 0:
            self._state_path(index - 1).unlink(missing_ok=True)

    def load_state(self) -> dict[str, torch.Tensor] | None:
        """The state left by the last finished chunk (None before the first)."""
        if not self.manifest["chunks"]:
            return None
        return load_file(str(self.folder / self.manifest["chunks"][-1]["state"]))

    def assembly_path(self, output: Path) -> Path:
        """Where the final video is assembled, inside the run's folder (same file system as ``output``)."""
        return self.folder / f"assembled{output.suffix}"

    def finish_output(self, output: Path) -> None:
        """Record the checksum of the assembled file, then move it to ``output``: a run killed between the two
        finds its own file (in the folder or at ``output``) on the next call, never one it cannot recognise."""
        assembled = self.assembly_path(output)
        self.manifest["output"] = {"path": os.fspath(output.resolve()), "sha256": sha256_file(assembled)}
        self._save()
        os.replace(assembled, output)

    def output_is_current(self, output: Path) -> bool:
        """Whether ``output`` is the file this run assembled; one recorded but not yet moved there is moved now."""
        recorded = self.manifest.get("output")
        if not recorded:
            return False
        assembled = self.assembly_path(output)
        if not output.exists() and assembled.is_file() and sha256_file(assembled) == recorded["sha256"]:
            os.replace(assembled, output)  # killed after the checksum was recorded, before the move
        return output.is_file() and sha256_file(output) == recorded["sha256"]

    def _save(self) -> None:
        with atomic_path(self.folder / "manifest.json") as partial:
            partial.write_text(json.dumps(self.manifest, indent=1) + "\n")
