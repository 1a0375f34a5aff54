"""Finding and checking a run's checkpoints (``checkpoints/step-N``) and ``--stop-after``: what ``scripts/train.py``
answers before torch's model code is imported, so a wrong ``--resume`` is refused in a second or two."""

from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["check_stop_after", "latest_checkpoint", "resolve_resume"]


def _run_checkpoints(folder: Path) -> list[Path]:
    """The complete ``step-N`` folders (N a whole number, with their ``step.json``) in ``folder``, oldest first:
    what a run wrote itself; a copy the user named otherwise (``step-best``, ``step-2-backup``) is none of them."""
    done = [p for p in folder.glob("step-*") if re.fullmatch(r"step-\d+", p.name) and (p / "step.json").is_file()]
    return sorted(done, key=lambda p: int(p.name.removeprefix("step-")))


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The newest complete ``checkpoints/step-N`` folder (one with its ``step.json``), or None."""
    done = _run_checkpoints(output_dir / "checkpoints")
    return done[-1] if done else None


def resolve_resume(resume: str | None, output_dir: Path) -> Path | None:
    """The checkpoint folder ``--resume`` names (``"latest"`` or a path); FileNotFoundError if there is none."""
    if resume is None:
        return None
    path = latest_checkpoint(output_dir) if resume == "latest" else Path(resume)
    if path is None:
        raise FileNotFoundError(f"--resume latest: no checkpoint in {output_dir / 'checkpoints'}")
    if not (path / "step.json").is_file():
        raise FileNotFoundError(f"--resume: {path} is not a complete checkpoint (no step.json)")
    _check_checkpoint_files(path)
    return path


def _check_checkpoint_files(path: Path) -> None:
    """The files accelerate's ``load_state`` reads: present, and the weights' safetensors headers readable, so a
    damaged checkpoint is named before any heavy work (with the earlier ones to resume from instead)."""
    from ltx_video.io.safetensors_header import read_safetensors_header

    # accelerate's names: model.safetensors / model_1... (DDP), pytorch_model*.bin (older), pytorch_model*/ folders
    # (FSDP sharded, DeepSpeed); optimizer.bin / optimizer_1.bin, or an optimizer_0/ folder (FSDP sharded).
    weights = sorted(path.glob("model*.safetensors")) + sorted(path.glob("pytorch_model*"))
    problems = [] if weights else ["no model weights (model.safetensors)"]
    problems += [f"no {name}" for name in ("optimizer.bin",) if not any(path.glob("optimizer*"))]
    for file in (w for w in weights if w.suffix == ".safetensors"):
        try:
            keys, _ = read_safetensors_header(file)
            end = file.stat().st_size
            if not keys or end < 8:
                problems.append(f"{file.name} is empty")
        except ValueError as error:
            problems.append(str(error))
    if problems:
        earlier = [p.name for p in _run_checkpoints(path.parent) if p != path]
        hint = f"; resume from an earlier one: {', '.join(earlier)}" if earlier else ""
        raise FileNotFoundError(f"--resume: checkpoint {path} is damaged ({'; '.join(problems)}){hint}")


def check_stop_after(stop_after: int | None, checkpoint: Path | None, name: str = "stop_after") -> None:
    """``stop_after`` (``name`` in messages): None, or a step >= 1 past the ``checkpoint``'s (nothing is trained
    otherwise), refused before any work."""
    if stop_after is None:
        return
    if isinstance(stop_after, bool) or not isinstance(stop_after, int) or stop_after < 1:
        raise ValueError(f"{name} must be a step >= 1, got {stop_after!r}")
    resumed = json.loads((checkpoint / "step.json").read_text())["step"] if checkpoint is not None else 0
    if stop_after <= resumed:
        raise ValueError(f"{name} {stop_after} is not past the resumed step {resumed}: nothing would be trained")
