"""A run's output folder: what a new run, a resumed one and Ctrl-C may do to it.

- A new run (no ``--resume``) never starts in a folder that holds another run's work (a complete checkpoint or a
  finished run's ``summary.json``): it would overwrite that run's models and mix their checkpoints and logs. A
  folder left by a run stopped before its first checkpoint holds nothing to keep and is started over.
- A resumed run must be the same run: its config may differ from the stored ``config.json`` only in what extends
  or reschedules it (:data:`RESUMABLE_CHANGES`); anything else is named before any weights load or any file is
  written, since the checkpoint's weights and optimizer state belong to the stored config.
- On resume the log keeps the lines up to the checkpoint's step (the steps after it are trained again).
- A resume from step N of a run that went further (a redo of its last steps, with another learning rate say) starts
  a new branch: the run's later checkpoints, and its summary and final models when it had finished, are another
  branch's work, so they are moved into ``checkpoints/superseded-<time>/`` with a copy of its log and config
  (:func:`set_aside_later_work`). Left in place, ``--resume latest`` after a stop would pick the old branch's
  newest checkpoint, and rotation would mix the two.
- Ctrl-C (SIGINT) in a single-process run finishes the step under way, saves a checkpoint, and ends the run
  (:class:`InterruptAtStep`); a second Ctrl-C stops at once.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
import threading
import time
from pathlib import Path

from ltx_video.training.config import TrainConfig
from ltx_video.training.data import DataConfig

__all__ = ["RESUMABLE_CHANGES", "RUN_OUTPUTS", "InterruptAtStep", "check_output_dir", "set_aside_later_work",
           "trim_log"]

#: Config keys a resumed run may change: its length, rate and bookkeeping.
RESUMABLE_CHANGES = frozenset({"steps", "learning_rate", "output_dir", "log_every", "checkpoint_every", "keep_checkpoints"})


def _as_stored(config: TrainConfig) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(config)))  # tuples as lists, as config.json holds them


def _defaults() -> dict:
    """Each config field's default, as config.json stores it: a key a run written before the field existed lacks."""
    def of(cls) -> dict:
        return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}

    return json.loads(json.dumps({**of(TrainConfig), "data": of(DataConfig)}))


def _differences(old: dict, new: dict, prefix: str = "", defaults: dict | None = None) -> list[str]:
    names, defaults = [], defaults or {}
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, defaults.get(key)), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            names += _differences(a, b, f"{prefix}{key}.", defaults.get(key) if isinstance(defaults.get(key), dict) else {})
        elif a != b:
            names.append(f"{prefix}{key} ({a!r} -> {b!r})")
    return names


#: What a run writes in its output folder besides config.json, log.jsonl and checkpoints/: a new run refuses a folder
#: holding any of them (a user's own model folder of that name would be overwritten).
RUN_OUTPUTS = ("summary.json", "video_vae", "audio_vae", "transformer", "pipeline", "camera_encoder", "keyframe_adapter")


def _stored_run_config(path: Path) -> dict | None:
    """A run's config.json (a JSON object with its stage and data), else None (absent, or someone else's file)."""
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return stored if isinstance(stored, dict) and {"stage", "data", "output_dir"} <= set(stored) else None


def check_output_dir(config: TrainConfig, resuming: bool, checkpoint: Path | None = None) -> None:
    """Refuse a new run over another run's work or over files of the names a run writes, and a resumed run whose
    config is not the stored one's (the config of the run ``checkpoint`` came from, when it is another folder's)."""
    from ltx_video.training.checkpoints import latest_checkpoint

    folder = Path(config.output_dir)
    existing = next((p for p in (folder, *folder.parents) if p.exists()), folder)
    if existing.exists() and not existing.is_dir():  # was mkdir's FileExistsError traceback
        raise ValueError(f"output_dir {folder} must be a folder (a new or empty one), but "
                         f"{'it' if existing == folder else existing} is a file")
    if not resuming:
        checkpoint = latest_checkpoint(folder) if folder.is_dir() else None
        if checkpoint is not None or (folder / "summary.json").is_file():
            held = checkpoint.relative_to(folder) if checkpoint is not None else "summary.json"
            raise ValueError(f"output_dir {folder} already holds a run ({held}): --resume latest continues it, another "
                             "output_dir starts a new one (nothing is overwritten)")
        # A run stopped before its first checkpoint left only its config.json and log.jsonl: started over. Anything
        # else of those names is someone's own and would be overwritten.
        ours = _stored_run_config(folder / "config.json") is not None
        held = [name for name in RUN_OUTPUTS if (folder / name).exists()]
        held += [name for name in ("config.json", "log.jsonl") if (folder / name).exists() and not ours]
        if held:
            raise ValueError(f"output_dir {folder} holds {', '.join(held)}, which a new run would overwrite: give an "
                             "empty or new output_dir (nothing is overwritten)")
        return
    stored_files = [folder / "config.json"]
    source = Path(checkpoint).resolve().parent if checkpoint is not None else None
    if source is not None and source.name == "checkpoints" and source.parent != folder.resolve():
        # Into another folder: that folder must not hold another run, and the config is the checkpoint's run's.
        held = latest_checkpoint(folder) if folder.is_dir() else None
        held = held.relative_to(folder) if held is not None else next(
            (name for name in RUN_OUTPUTS if (folder / name).exists()), None)
        if held is not None:
            raise ValueError(f"--resume into output_dir {folder}, which holds another run ({held}): give an empty "
                             "or new output_dir (nothing is overwritten)")
        stored_files.insert(0, source.parent / "config.json")
    for stored_file in stored_files:  # a checkpoint without its config (written by hand): nothing to compare with
        if stored_file.is_file():
            _check_same_run(config, stored_file)


def _check_same_run(config: TrainConfig, stored_file: Path) -> None:
    """ValueError unless ``config`` differs from the run stored in ``stored_file`` only in RESUMABLE_CHANGES."""
    stored = json.loads(stored_file.read_text())
    current = _as_stored(config)
    changed = [name for name in _differences(stored, current, defaults=_defaults()) if name.split(" ")[0].split(".")[0] not in RESUMABLE_CHANGES]
    if changed:
        raise ValueError(f"--resume: the config differs from the run's own ({stored_file}) in {', '.join(changed)}; a "
                         f"resumed run may change only {sorted(RESUMABLE_CHANGES)} (a new output_dir starts a new run)")


def set_aside_later_work(output_dir: Path, checkpoint: Path) -> str | None:
    """Move the checkpoints of ``output_dir``'s run past ``checkpoint`` (one of its own), and its summary and final
    models if it has later checkpoints, into ``checkpoints/superseded-<time>/`` beside a copy of its ``log.jsonl``
    and ``config.json``; nothing is deleted. Returns a note saying so, or None when nothing came after."""
    from ltx_video.training.checkpoints import _run_checkpoints

    folder = Path(output_dir) / "checkpoints"
    if Path(checkpoint).resolve().parent != folder.resolve():  # another folder's checkpoint: this one is new
        return None
    step = json.loads((Path(checkpoint) / "step.json").read_text())["step"]
    later = [p for p in _run_checkpoints(folder) if int(p.name.removeprefix("step-")) > step]
    if not later:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = folder / f"superseded-{stamp}"
    for n in range(2, 100):
        if not aside.exists():
            break
        aside = folder / f"superseded-{stamp}-{n}"
    aside.mkdir()
    outputs = [Path(output_dir) / name for name in RUN_OUTPUTS if (Path(output_dir) / name).exists()]
    for path in [*later, *outputs]:
        shutil.move(str(path), str(aside / path.name))
    for name in ("log.jsonl", "config.json"):
        if (Path(output_dir) / name).is_file():
            shutil.copy2(Path(output_dir) / name, aside / name)
    moved = ", ".join(p.name for p in [*later, *outputs])
    return (f"resuming from step {step} of a run that went on to {later[-1].name}: its later work ({moved}) is moved "
            f"to {aside} (--resume latest now continues this run)")


def trim_log(log_file: Path, step: int) -> None:
    """Keep the log lines up to ``step`` (a resumed run logs the steps after it again)."""
    if not log_file.is_file():
        return
    kept = []
    for line in log_file.read_text().splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except (ValueError, AttributeError):  # a line cut short by a kill or a full disk
            continue
    log_file.write_text("".join(line + "\n" for line in kept))


class InterruptAtStep:
    """Within ``with``: SIGINT sets :attr:`requested` (the loop checkpoints and ends after the step under way);
    a second SIGINT raises KeyboardInterrupt at once. Inactive (``requested`` stays False) outside the main thread
    or when ``active`` is False (a distributed run, whose ranks must stop at the same step)."""

    def __init__(self, active: bool = True) -> None:
        self.active = active and threading.current_thread() is threading.main_thread()
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\ninterrupted: finishing this step and saving a checkpoint (Ctrl-C again to stop at once)", flush=True)

    def __enter__(self) -> InterruptAtStep:
        if self.active:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self.active:
            signal.signal(signal.SIGINT, self._previous)
