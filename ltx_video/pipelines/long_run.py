"""The folder of one long-video run: its manifest, its closed segments and the state carried between chunks.

``<output>.parts/`` holds ``manifest.json`` (the arguments, per-chunk seeds, finished chunks with SHA-256
checksums of their files), ``segment-00000.mp4`` (+ ``.wav``) per finished chunk, and the state the next chunk
needs (``state-00000.safetensors``: the last chunk's tail latents, decoded overlap frames and audio, and the
first chunk's latents). A chunk counts as finished only once the manifest lists it, and the manifest is
rewritten (atomically) only after the chunk's segment and state files are complete: a run killed at any moment
leaves a folder that the same call continues from its first unfinished chunk, without rewriting a finished
segment.

A run holds an exclusive lock on ``<output>.parts/.lock`` from :meth:`LongRun.open` until the run object is
dropped, so a second process on the same output (a second terminal, a notebook beside a CLI run) is refused
instead of interleaving its chunks with the first one's. The operating system releases the lock when the process
dies, SIGKILL included, so a killed run resumes at once and no lock is ever stale. Within one process the lock is
held by one run at a time too (another thread, another pipeline is refused), and taken anew by a retry once that run
has ended.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import threading
import warnings
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ltx_video.io.segments import atomic_path, sha256_file

try:
    import fcntl
except ImportError:  # Windows: msvcrt's byte lock is released the same way when the process dies
    fcntl = None
try:
    import msvcrt
except ImportError:
    msvcrt = None

logger = logging.getLogger(__name__)

__all__ = ["MANIFEST_FORMAT", "ArgumentMismatch", "LongRun", "canonical"]

MANIFEST_FORMAT = "ltx_video.long_video/1"
# Recorded arguments that are not the user's but the method's version: a differing one is not the user's to fix.
VERSIONED = {"colour_fit": "colour matching", "writer": "video encoder settings"}
# Arguments recorded only when not at their default (so that runs from before them resume): their value when absent.
RECORDED_ONLY_WHEN_SET = {"colour_match_scope": "chunk", "quantization": None}
# The pipeline's state that is no argument but changes every chunk's numbers: the phrase naming it (not a flag), and
# how to set it back.
_LORA_CALLS = "load the same (load_lora_weights, set_adapters, fuse_lora / unfuse_lora, unload_lora_weights)"
MODEL_STATE = {"lora": ("LoRA adapters are", _LORA_CALLS), "lora_sha256": ("LoRA weights are", _LORA_CALLS),
               "camera_lora": ("merged camera LoRA is", _LORA_CALLS),
               "attention": ("approximate attention is",
                             "switch to the same (enable_efficient_attention, disable_efficient_attention)"),
               "scheduler": ("scheduler is", "set pipe.scheduler to one of the same class and settings (from_config)"),
               "default_timestep_schedule": ("default_timestep_schedule is", "set pipe.default_timestep_schedule back"),
               "vae_decode": ("VAE decoding is", "decode as it did (enable_vae_tiling / disable_vae_tiling, "
                              "vae.enable_tiling / disable_tiling, vae.to(dtype))"),
               "compiled": ("transformer compiled is", "compile it the same (enable_compile / disable_compile)")}
#: Arguments recorded since a later version: a run started before (its manifest lacks them) resumes unchecked on them.
#: (The model state, MODEL_STATE, is recorded as None when there is none: a manifest lacking it predates it, so a run
#: started with a LoRA before 2026-12-07 resumes as it did, not refused as "started with None". A run without
#: ``prompt_split`` spreads its prompts by the rule of its time: ``long_state.chunk_prompts``.)
RECORDED_SINCE = frozenset({"dtype", "lora", "lora_sha256", "camera_lora", "attention", "scheduler",
                            "default_timestep_schedule", "prompt_split", "audio_cfg", "vae_decode", "compiled"})
#: Of those, the state that is off unless the user turned it on: resumed unchecked with a warning when it is on now
#: (what was not recorded, and what a run started before may have differed in). ``lora_sha256`` is said only where
#: ``lora`` was recorded: otherwise ``lora``'s warning says it.
UNCHECKED_WARNED = {"lora": ("LoRA adapters", "without them"),
                    "lora_sha256": ("the LoRA adapters' weights (a SHA-256 of each)",
                                    "with other LoRA files loaded under these names"),
                    "camera_lora": ("merged camera LoRA", "without them"),
                    "attention": ("approximate attention", "without them"),
                    "vae_decode": ("how the VAE decodes (tiling, framewise, its dtype)", "decoding each chunk whole"),
                    "compiled": ("whether the transformer is compiled", "eager")}
# Arguments whose None stands for another's value: compared by the value they take, so a run that recorded one given
# as that value (before generate_long recorded it as None) resumes with it left out, and back.
STANDS_FOR = {"audio_guidance_scale": "guidance_scale"}


def _scheduler_difference(given: dict | None, recorded: dict | None) -> tuple[str, Any, Any]:
    """How a refusal names two recorded schedulers (``{"class", "config"}``): by the first setting that differs."""
    if not (isinstance(given, dict) and isinstance(recorded, dict)):
        return "scheduler is", given, recorded
    if given.get("class") != recorded.get("class"):
        return "scheduler is", given.get("class"), recorded.get("class")
    config, started = given.get("config") or {}, recorded.get("config") or {}
    key = next((k for k in sorted(set(config) | set(started)) if config.get(k) != started.get(k)), None)
    if key is None:
        return "scheduler is", given, recorded
    return f"scheduler's {key} is", config.get(key), started.get(key)  # no backticks: the CLI reads them as flags


def _lora_weights_difference(given: dict | None, recorded: dict | None) -> tuple[str, Any, Any]:
    """How a refusal names two recorded ``lora_sha256`` (adapter -> SHA-256): by the first adapter that differs."""
    if not (isinstance(given, dict) and isinstance(recorded, dict)):
        return "LoRA weights are", given, recorded
    name = next((n for n in sorted(set(given) | set(recorded)) if given.get(n) != recorded.get(n)), None)
    if name is None:
        return "LoRA weights are", given, recorded
    return f"LoRA adapter {name!r} holds weights of SHA-256", given.get(name), recorded.get(name)


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
    if isinstance(value, np.generic):  # numpy's scalars as the Python numbers they stand for (np.int64(33) is 33)
        return canonical(value.item())
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"generate_long: argument value {value!r} ({type(value).__name__}) cannot be recorded in the "
                     "manifest; pass plain numbers, strings and lists")


LOCK_NAME = ".lock"
# The chunk entries' keys that resuming and assembling read (a hand-edited manifest without one is refused).
CHUNK_KEYS = frozenset({"index", "video", "video_sha256", "state", "state_sha256"})
_HELD: weakref.WeakValueDictionary[str, _OutputLock] = weakref.WeakValueDictionary()  # this process's locks
_HELD_GUARD = threading.Lock()  # two threads never both find an output free


def _is_scratch(name: str) -> bool:
    """The lock, or a partial file (:func:`atomic_path`): in no run's record, never a run's content."""
    return name == LOCK_NAME or (name.startswith(".") and ".partial" in name)


def _numbered(output: Path) -> dict[int, Path]:
    """Every entry named ``<output>.parts`` (1), ``<output>.parts-2`` (2) ..., folder or not, by number: the
    numbers after a gap (a folder deleted by hand) too."""
    base = output.name + ".parts"
    try:
        names = [entry.name for entry in os.scandir(output.parent)]
    except (FileNotFoundError, NotADirectoryError):
        return {}
    found = {}
    for name in names:
        number = re.fullmatch(re.escape(base) + r"(?:-([1-9][0-9]*))?", name)
        if number and (number.group(1) is None or int(number.group(1)) >= 2):
            found[int(number.group(1) or 1)] = output.parent / name
    return dict(sorted(found.items()))


def _folders(output: Path) -> list[Path]:
    """The run folders for ``output`` that exist, oldest (lowest number) first."""
    return [path for path in _numbered(output).values() if path.is_dir()]


def _holds_files(folder: Path) -> bool:
    """Whether ``folder`` holds more than the lock and partial files: an empty one (a run killed between making it
    and saving its first manifest) is no run, and is neither continued nor counted."""
    try:
        return any(not _is_scratch(entry.name) for entry in os.scandir(folder))
    except OSError:  # unreadable: reading its manifest names the problem
        return True


def _runs(output: Path) -> list[Path]:
    return [folder for folder in _folders(output) if _holds_files(folder)]


def check_output(output: Path) -> None:
    """Refuse an ``output`` whose folder is a file, or whose ``.parts`` name a file takes, before any model runs
    (both failed with a raw NotADirectoryError / FileExistsError once the first chunk was planned)."""
    for parent in output.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"`output` {output}: {parent} is a file, not a folder; choose another output")
            break
    base = output.with_name(output.name + ".parts")
    if base.exists() and not base.is_dir():
        raise ValueError(f"`output` {output}: {base} is a file where its run folder goes; move it away or choose "
                         "another output")


def _try_lock(fd: int, path: Path) -> bool:
    """An exclusive lock on ``fd``'s file (``path``) without waiting: False if another process holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        elif msvcrt is not None:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            logger.warning("generate_long: this platform has no file locks; two runs on one output are not refused")
    except (BlockingIOError, PermissionError):
        return False
    except OSError as error:
        if error.errno == errno.EDEADLK:  # msvcrt's answer for a byte another process locked
            return False
        if error.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            raise
        # a file system without locks (some network mounts): run as before locks existed
        logger.warning("generate_long: cannot lock %s (%s); two runs on one output are not refused here", path,
                       error.strerror)
    return True


class _OutputLock:
    """The lock of one output, held by one run from :meth:`acquire` to :meth:`release` (its call's end, an error's
    or an interrupt's too) or until this object goes. While it is held, a second run on the output in this process
    (another thread, another pipeline) is refused as another process's is (since 2026-12-07: it shared the lock, and
    both ran, one's segments spliced into the other's video); a retry after the first run ended takes it anew."""

    def __init__(self, fd: int, key: str):
        self.key, self.fd = key, fd
        self.thread = threading.current_thread().name  # who holds it, for a second run of this process
        self._close = weakref.finalize(self, os.close, fd)  # closing the file releases the lock

    def release(self) -> None:
        """Let other runs into the output now (a call's end), not when the last reference goes."""
        with _HELD_GUARD:
            if _HELD.get(self.key) is self:
                del _HELD[self.key]
        self._close()

    @classmethod
    def acquire(cls, output: Path) -> _OutputLock | None:
        with _HELD_GUARD:
            return cls._acquire(output)

    @classmethod
    def _acquire(cls, output: Path) -> _OutputLock | None:
        path = output.with_name(output.name + ".parts") / LOCK_NAME
        key = os.path.realpath(path)
        if (held := _HELD.get(key)) is not None:
            raise ValueError(f"another run in this process (thread {held.thread!r}) is running a long video into "
                             f"`output` {output}: wait for it to finish or stop it, then run this again")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except PermissionError:  # a read-only folder: open() refuses it unless nothing is left to write
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                return None
        if not _try_lock(fd, path):
            os.close(fd)
            try:
                holder = f"process {int(path.read_text())}"
            except (OSError, ValueError):
                holder = "another process"
            raise ValueError(f"{holder} is running a long video into `output` {output} (it holds {path}): wait for "
                             "it to finish or stop it, then run this again")
        try:  # who holds it, for the message above
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except (OSError, AttributeError):  # opened read-only; Windows has no pwrite
            pass
        lock = _HELD[key] = cls(fd, key)
        return lock


def _drop_inherited_locks() -> None:
    """In a forked child: close the copies of this process's lock files, which would hold the locks after the
    parent released them (flock belongs to the open file, shared by every copy), refusing the parent's next run.
    The guard is made anew: a thread of the parent may have held it at the fork, which no thread of the child ends."""
    global _HELD_GUARD
    _HELD_GUARD = threading.Lock()
    for lock in list(_HELD.values()):
        lock._close.detach()
        os.close(lock.fd)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited_locks)


def _own_memory(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` on the CPU, contiguous, each tensor in memory of its own: safetensors refuses two that share it (a
    chunk's tail latents are its whole latents, its reference too, when the tail starts at the chunk's first frame;
    since 2026-12-07 copied, where that failed after chunk 0 once the latents came back contiguous)."""
    owned, storages = {}, set()
    for key, value in state.items():
        value = value.detach().contiguous().cpu()
        storage = value.untyped_storage().data_ptr()
        if value.numel() and storage in storages:
            value = value.clone()
        storages.add(value.untyped_storage().data_ptr())
        owned[key] = value
    return owned


class LongRun:
    """One run's folder; use :meth:`open`."""

    def __init__(self, folder: Path, manifest: dict, lock: _OutputLock | None = None):
        self.folder = folder
        self.manifest = manifest
        self._lock = lock  # held as long as the run is, or until close()

    def close(self) -> None:
        """Release the output's lock (a failed call's run, kept alive by its traceback in a notebook, held it)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, output: Path, arguments: dict, *, resume: bool, extra_defaults: dict | None = None,
             overwrite: bool = False) -> LongRun:
        """The run for ``output``, locked against other processes (ValueError if one holds it): with ``resume`` the
        newest run folder (its arguments must equal ``arguments``: else ValueError naming the first that differs;
        one with files but no manifest is refused, not started over), else a new folder. A new run never deletes or
        overwrites anything: an existing ``output`` file is moved into the newest old run's folder under a free name
        (with ``overwrite`` it stays, for the new run's video to replace it when it is written).
        Empty folders (no manifest, no segments) are not runs: skipped by ``resume``, reused by a new run.
        ``extra_defaults``: what a passed-through argument (``arguments["extra"]``) left out stands for, so a run
        that recorded it given as that value resumes with it left out, and back."""
        arguments = canonical(arguments)
        check_output(output)
        base = output.with_name(output.name + ".parts")
        base.mkdir(parents=True, exist_ok=True)
        lock = _OutputLock.acquire(output)
        try:
            folders = _folders(output)  # read under the lock: no other process adds one now
            runs = [folder for folder in folders if _holds_files(folder)]
            if resume and runs:
                run = cls(runs[-1], cls._read(runs[-1] / "manifest.json"), lock)
                if run.manifest["chunks"]:
                    run._check_arguments(arguments, extra_defaults or {})
                    run._verify_finished()
                if run._writable(output):
                    run._clean()
                    if not run.manifest["chunks"]:  # nothing was finished: nothing to keep, the new arguments win
                        run.manifest["arguments"] = arguments
                        run._save()
                return run
            if runs and output.is_file() and not overwrite:
                target, number = runs[-1] / output.name, 2
                while target.exists() or target.is_symlink():  # an earlier restart's file: never replaced
                    target, number = runs[-1] / f"{output.stem}-{number}{output.suffix}", number + 1
                os.replace(output, target)
            if folders and folders[-1] not in runs:
                folder = folders[-1]  # the newest folder is empty: no run to keep
            else:
                number = max(_numbered(output)) + 1
                while (folder := base.with_name(f"{base.name}-{number}")).exists() or folder.is_symlink():
                    number += 1
                folder.mkdir()
            run = cls(folder, {"format": MANIFEST_FORMAT, "arguments": arguments, "chunks": [], "output": None}, lock)
            run._writable(output)
            run._save()
            return run
        except BaseException:  # refused (arguments, a changed segment ...): the lock goes with the error, not
            if lock is not None:  # with its traceback (which a notebook keeps)
                lock.release()
            raise

    @staticmethod
    def has_runs(output: Path) -> bool:
        """Whether any run folder (``<output>.parts``, ``-2`` ..., not empty) exists for ``output``."""
        return bool(_runs(output))

    @classmethod
    def recorded_arguments(cls, output: Path, finished_only: bool = True) -> dict | None:
        """The arguments of the run that :meth:`open` with ``resume=True`` would continue for ``output`` (the newest
        run folder, with at least one finished chunk unless ``finished_only`` is False), else None. An ``output``
        that cannot be written (:func:`check_output`) is refused here, before any model runs."""
        found = cls.recorded_run(output, finished_only)
        return found[1] if found else None

    @classmethod
    def recorded_run(cls, output: Path, finished_only: bool = True) -> tuple[Path, dict] | None:
        """:meth:`recorded_arguments` with the run's folder: ``(folder, arguments)`` or None."""
        check_output(output)
        runs = _runs(output)
        if not runs:
            return None
        try:
            manifest = cls._read(runs[-1] / "manifest.json")
        except ValueError:  # missing or unreadable: open() reports it
            return None
        return (runs[-1], manifest["arguments"]) if manifest["chunks"] or not finished_only else None

    @staticmethod
    def _read(path: Path) -> dict:
        if not path.exists() and not path.is_symlink():
            raise ValueError(f"{path.parent} holds a run's files but no manifest.json, so its chunks cannot be "
                             "checked: restore the manifest, or pass resume=False to start over in a new folder (this "
                             "one is kept)")
        try:
            manifest = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path} is not a readable manifest ({error}); pass resume=False to start over in a new "
                             "folder") from None
        if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"{path} is not a {MANIFEST_FORMAT} manifest; pass resume=False to start over")
        arguments, chunks, output = manifest.get("arguments"), manifest.get("chunks"), manifest.get("output")
        needed = CHUNK_KEYS | ({"audio", "audio_sha256"} if isinstance(arguments, dict) and arguments.get("audio")
                               else set())
        if not (isinstance(arguments, dict) and isinstance(chunks, list)
                and all(isinstance(c, dict) and needed <= c.keys() for c in chunks)
                and (output is None or isinstance(output, dict) and isinstance(output.get("sha256"), str))):
            raise ValueError(f"{path} is not a readable manifest (its `arguments`, `chunks` or `output` are missing or "
                             "not as written; edited by hand?); pass resume=False to start over in a new folder")
        return manifest

    def _writable(self, output: Path) -> bool:
        """Whether the folder can be written; refused (PermissionError naming it) unless the run is finished with
        its video at ``output``, before a chunk is generated (the write used to fail only after it, naming no
        path)."""
        if os.access(self.folder, os.W_OK | os.X_OK):
            return True
        recorded = self.manifest.get("output")
        if recorded and output.is_file() and sha256_file(output) == recorded["sha256"]:
            return False
        raise PermissionError(errno.EACCES, f"cannot write in the run folder {self.folder}, which the run must "
                              "write to go on: make it writable, or choose another output", str(self.folder))

    def _clean(self) -> None:
        """Remove what killed runs left that no finished chunk uses: partial files (their names are each process's
        own) and state files but the last chunk's (one killed between saving the manifest and removing the previous
        state left it)."""
        chunks = self.manifest["chunks"]
        keep = chunks[-1]["state"] if chunks else None
        for entry in os.scandir(self.folder):
            stale_state = entry.name.startswith("state-") and entry.name.endswith(".safetensors")
            if (stale_state and entry.name != keep) or (_is_scratch(entry.name) and entry.name != LOCK_NAME):
                Path(entry.path).unlink(missing_ok=True)

    def _check_arguments(self, arguments: dict, extra_defaults: dict) -> None:
        def taken(values: dict) -> dict:  # None where it stands for another argument's value: that value
            return {**values, **{k: values.get(o) for k, o in STANDS_FOR.items() if k in values and values[k] is None}}

        recorded, arguments = taken(self.manifest["arguments"]), taken(arguments)
        # The schedule the chunks take: the call's timestep_schedule, else the pipeline's default, so one given as the
        # default is the one left out, and back (since 2026-12-07: refused naming default_timestep_schedule as None).
        schedule_given = False
        if "default_timestep_schedule" in recorded and "default_timestep_schedule" in arguments:
            for values in (recorded, arguments):
                given = (values.get("extra") or {}).get("timestep_schedule")
                if given is not None:
                    values["extra"] = {k: v for k, v in values["extra"].items() if k != "timestep_schedule"}
                    values["default_timestep_schedule"], schedule_given = given, True

        def extra(values: dict) -> dict:  # the passed-through arguments (stg_scale ...), those left out filled
            return {**extra_defaults, **(values.get("extra") or {})}

        # the user's arguments first: a versioned detail (colour_fit) follows from one of them (colour_match), and one
        # whose None stands for another's value after that one (a changed guidance_scale is named, not its stand-in)
        for key in sorted(set(recorded) | set(arguments), key=lambda k: (k in VERSIONED, k in STANDS_FOR, k)):
            if recorded.get(key) == arguments.get(key):
                continue
            if key in RECORDED_SINCE and key not in recorded:  # predates the record: not checked, but a LoRA or
                # approximate attention on now is said, as the run may have been started without it (since 2026-12-07)
                said_by_lora = key == "lora_sha256" and "lora" not in recorded
                if key in UNCHECKED_WARNED and arguments.get(key) is not None and not said_by_lora:
                    what, unlike = UNCHECKED_WARNED[key]
                    warnings.warn(
                        f"the run in {self.folder} was started before ltx_video recorded {what}, so it is resumed "
                        f"unchecked with the pipeline's {arguments[key]!r}: if it was started {unlike}, its chunks "
                        "will mix; pass resume=False to start over in a new folder (the old one is kept)", stacklevel=4)
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
            if key == "default_timestep_schedule" and schedule_given:  # a run gave it: the argument to pass
                raise ArgumentMismatch("timestep_schedule", arguments[key], recorded[key], self.folder)
            if key in MODEL_STATE:  # the pipeline's, not an argument: named as what to set
                phrase, remedy = MODEL_STATE[key]
                given, started = arguments.get(key, default), recorded.get(key, default)
                if key == "scheduler":  # its setting that differs, not two whole configs
                    phrase, given, started = _scheduler_difference(given, started)
                if key == "lora_sha256":  # the adapter that differs
                    phrase, given, started = _lora_weights_difference(given, started)
                if key == "vae_decode":  # the part that differs (tiling ...); missing: decoded whole (before 2026-12-08)
                    from ltx_video.pipelines.long_state import vae_decode_difference  # (it imports this module)

                    phrase, given, started = vae_decode_difference(given, started)
                raise ValueError(
                    f"the pipeline's {phrase} {given!r} but the run in {self.folder} was started with {started!r}: "
                    f"{remedy} to resume it, or pass resume=False to start over in a new folder (the old one is kept)"
                )
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
            save_file(_own_memory(state), str(partial))
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
