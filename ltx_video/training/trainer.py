"""The training loop, on ``accelerate``: one process per device, DDP when there are several.

    accelerate launch scripts/train.py --config configs/train/default_transformer.yaml
    torchrun --nproc_per_node 2 scripts/train.py --config ... --cpu      # two CPU processes (gloo)

Batches are drawn by step (:func:`ltx_video.training.data.batch_indices`), noise and prompt dropout
from generators seeded by ``(seed, step, rank)``, and checkpoints hold the model, optimizer, LR
scheduler and RNG states (``accelerator.save_state``) plus the step and what the run reads (the folder data's files,
the model folders': :func:`~ltx_video.training.checks.run_inputs`). So ``--resume`` continues at the saved step with
exactly the batches and noise an uninterrupted run would have drawn, and refuses when what it reads changed.

Outputs in ``output_dir``: ``checkpoints/step-N/``, ``log.jsonl`` (losses every ``log_every`` steps),
``summary.json`` (steps, wall time, the parameter checksum at the start and per rank at the end:
replicas must agree; the CPU thread count and PyTorch version the run's float sums depend on), and what the
stage saves (``video_vae/``, ``audio_vae/`` or ``transformer/`` + ``pipeline/``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import shutil
import sys
import time
import warnings
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from tqdm.auto import tqdm

from ltx_video.training.checkpoints import (  # noqa: F401 (their home before 2026-12-07)
    _run_checkpoints,
    check_stop_after,
    latest_checkpoint,
    resolve_resume,
)
from ltx_video.training.checks import check_resume, run_inputs
from ltx_video.training.config import TrainConfig
from ltx_video.training.data import ClipBank, batch_indices
from ltx_video.training.run_folder import InterruptAtStep, check_output_dir, set_aside_later_work, trim_log
from ltx_video.training.stages import build_stage, check_stage_options

__all__ = ["latest_checkpoint", "parameter_checksum", "resolve_resume", "train"]

_NEVER_FREED: list = []  # a distributed run's DDP model and optimizer (see the end of ``train``)


@torch.no_grad()
def parameter_checksum(model: torch.nn.Module) -> list[float]:
    """``[sum, sum of squares]`` over every parameter in float64: equal on replicas that trained alike."""
    total = squares = 0.0
    for p in model.parameters():
        p64 = p.detach().double()
        total += float(p64.sum())
        squares += float(p64.square().sum())
    return [total, squares]


def _lr_lambda(config: TrainConfig):
    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        if config.lr_schedule == "constant":
            return 1.0
        progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def summary_line(summary: dict, output_dir) -> str:
    """The one line a finished run prints: steps, time, processes, where its outputs are."""
    return (f"{summary['stage']}: steps {summary['resumed_from']}..{summary['stopped_at']} of {summary['steps']} in "
            f"{summary['wall_seconds']:.0f} s on {summary['processes']} process(es); outputs in {output_dir}")


def train(
    config: TrainConfig, *, resume: str | None = None, cpu: bool = False, stop_after: int | None = None,
    exit_distributed: bool = False,
) -> dict:
    """Run ``config``; returns the summary written to ``output_dir/summary.json``.

    A distributed run (torchrun) keeps its DDP model alive after returning: freeing gloo's process group
    from Python can deadlock. With ``exit_distributed`` (``scripts/train.py``) a distributed process does not return
    at all: once its outputs are written it prints :func:`summary_line` (rank 0) and ends with ``os._exit(0)``,
    before Python frees anything of the run (returning alone was seen to deadlock in CI: the DDP reducer freed with
    this function's frame).
    ``stop_after``: leave after that step with a checkpoint (a time-boxed job; ``--resume`` continues it on
    the same schedule); the final models are saved only when ``config.steps`` is reached.
    """
    output_dir = Path(config.output_dir)
    checkpoint = resolve_resume(resume, output_dir)  # fail before any heavy work
    check_stage_options(config)
    check_output_dir(config, resuming=checkpoint is not None, checkpoint=checkpoint)
    check_stop_after(stop_after, checkpoint)
    check_resume(config, checkpoint)
    accelerator = Accelerator(cpu=cpu, mixed_precision=config.mixed_precision)
    if config.mixed_precision == "fp16" and accelerator.device.type == "cpu":
        warnings.warn("mixed_precision fp16 does nothing on the CPU (accelerate computes in fp32 there); bf16 does "
                      "work on the CPU", stacklevel=2)
    rank, world = accelerator.process_index, accelerator.num_processes
    main = accelerator.is_main_process
    set_seed(config.seed)  # identical initial weights on every rank
    if main:
        output_dir.mkdir(parents=True, exist_ok=True)
        note = set_aside_later_work(output_dir, checkpoint) if checkpoint is not None else None
        if note:
            print(note, flush=True)
        (output_dir / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2))
    # stored with each checkpoint: a resume refuses other clips or changed model folders (checks.py)
    inputs = run_inputs(config, checkpoint) if main else None
    with accelerator.main_process_first():  # the main process renders (and caches) the bank first
        bank = ClipBank(config.data, show_progress=main)
    stage = build_stage(config, bank, accelerator.device)
    model = stage.model
    if config.gradient_checkpointing:
        if not getattr(stage.network, "_supports_gradient_checkpointing", False):
            raise ValueError(f"gradient_checkpointing: {type(stage.network).__name__} does not support it")
        stage.network.enable_gradient_checkpointing()
    parameters = [p for p in model.parameters() if p.requires_grad]
    # A stage may scale the learning rate of some parameters (``parameter_groups()``: dicts with ``params`` and
    # ``lr_scale``); every other stage trains all its parameters at ``learning_rate``.
    groups = stage.parameter_groups() if hasattr(stage, "parameter_groups") else [{"params": parameters}]
    scales = [float(group.get("lr_scale", 1.0)) for group in groups]
    groups = [{"params": [p for p in group["params"] if p.requires_grad], "lr": config.learning_rate * scale}
              for group, scale in zip(groups, scales, strict=True)]
    optimizer = torch.optim.AdamW(groups, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config))
    # The scheduler is stepped here once per optimizer step (accelerate's wrapper would step it once per
    # process) and checkpointed with the rest.
    model, optimizer = accelerator.prepare(model, optimizer)
    accelerator.register_for_checkpointing(scheduler)

    start = 0
    if checkpoint is not None:
        accelerator.load_state(str(checkpoint))
        start = json.loads((checkpoint / "step.json").read_text())["step"]
        if main:
            trim_log(output_dir / "log.jsonl", start)
        # The learning rate follows this run's config (its `steps` and `learning_rate` may extend or change the
        # checkpoint's run): the restored scheduler keeps its step count, the base rate comes from the config.
        scheduler.base_lrs = [config.learning_rate * scale for scale in scales]
        for group, scale in zip(optimizer.param_groups, scales, strict=True):
            group["initial_lr"] = config.learning_rate * scale
            group["lr"] = config.learning_rate * scale * _lr_lambda(config)(start)
    if start == config.steps:  # (check_resume refused a checkpoint past steps)
        accelerator.print(f"checkpoint {checkpoint} is at step {start} = steps: nothing to train; the final models "
                          "are saved from it")

    initial = parameter_checksum(model)
    began = time.perf_counter()
    log = open(output_dir / "log.jsonl", "a" if checkpoint is not None else "w") if main else None
    end = config.steps if stop_after is None else max(start, min(stop_after, config.steps))
    progress = tqdm(range(start, end), initial=start, total=config.steps, desc=config.stage, disable=not main)
    model.train()
    interrupt = InterruptAtStep(active=world == 1)
    with interrupt:
        for step in progress:
            indices = batch_indices(step, rank, world, config.batch_size, len(bank), config.seed)
            batch = {**bank.batch(indices, step, rank, media=stage.needs_media), "indices": indices}
            generator = torch.Generator(accelerator.device).manual_seed(hash((config.seed, step, rank)) % 2**62)
            rng = random.Random(f"{config.seed}/{step}/{rank}")
            with accelerator.autocast():
                losses = stage.loss(model, batch, generator, rng)
            accelerator.backward(losses["loss"])
            accelerator.clip_grad_norm_(parameters, config.grad_clip)
            lr = optimizer.param_groups[0]["lr"]  # this update's rate: the scheduler below sets the next step's
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            done = step + 1
            if done % config.log_every == 0 or done == config.steps:
                values = {k: float(accelerator.reduce(v.detach().float(), reduction="mean")) for k, v in losses.items()}
                if main:
                    progress.set_postfix(loss=f"{values['loss']:.4f}")
                    log.write(json.dumps({"step": done, "lr": lr, **values}) + "\n")
                    log.flush()
            if done % config.checkpoint_every == 0 or done in (config.steps, end):
                _save_checkpoint(accelerator, output_dir, done, config.keep_checkpoints, inputs)
            if interrupt.requested:  # Ctrl-C: this step is done and checkpointed; the run ends here
                if not (done % config.checkpoint_every == 0 or done in (config.steps, end)):
                    _save_checkpoint(accelerator, output_dir, done, config.keep_checkpoints, inputs)
                end = done
                break

    checksums = accelerator.gather(torch.tensor([parameter_checksum(model)], dtype=torch.float64, device=accelerator.device))
    summary = {
        "stage": config.stage, "steps": config.steps, "resumed_from": start, "stopped_at": end, "processes": world,
        "wall_seconds": time.perf_counter() - began, "initial_checksum": initial, "replica_checksums": checksums.tolist(),
        # a run is bit-reproducible at a fixed thread count only: another count reorders the float sums
        # (docs/training.md, "the 4K VAE comparison")
        "cpu_threads": torch.get_num_threads(), "torch": torch.__version__, "interrupted": interrupt.requested,
    }
    if main:
        log.close()
        if end == config.steps:
            stage.save(accelerator.unwrap_model(model), output_dir)
        (output_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        accelerator.end_training()
        return summary
    # Freeing the DDP reducer destroys the gloo group, which joins gloo's worker threads while holding the GIL; a
    # worker still releasing a tensor of the last collectives waits for the GIL: a deadlock (seen in CI, and under
    # pytest-xdist: py-spy showed ~ProcessGroupGloo joining from the reducer's dealloc while a worker's
    # ~AsyncAllgatherWork waited for the GIL). So the distributed objects are never freed: kept here first, before
    # anything below can raise and unwind this frame. ``accelerator.end_training()`` is not called: it destroys the
    # process group, after which the group no longer reads as initialised, and the run fell through to the return.
    _NEVER_FREED.append((model, optimizer, accelerator))
    try:
        accelerator.wait_for_everyone()  # every rank's outputs are written past this point
    except RuntimeError:
        # A rank that completed the barrier may exit before this one has read its last message; anything else that
        # went wrong on that rank is reported by torchrun from its own exit status.
        if not exit_distributed:
            raise
    if exit_distributed:
        # scripts/train.py: the process ends here, before Python frees anything of the run.
        if main:
            print(summary_line(summary, config.output_dir))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    torch.distributed.destroy_process_group()
    return summary


def _save_checkpoint(accelerator: Accelerator, output_dir: Path, step: int, keep: int, inputs: dict | None = None) -> None:
    """``checkpoints/step-N`` with ``step.json`` (the step, and ``inputs``: the folder data's files and the model
    folders' the run reads, :func:`~ltx_video.training.checks.run_inputs`, for
    :func:`~ltx_video.training.checks.check_resume`)."""
    path = output_dir / "checkpoints" / f"step-{step}"
    accelerator.save_state(str(path))  # every rank takes part; the main process writes
    if accelerator.is_main_process:
        record = {"step": step, **(inputs or {})}
        (path / "step.json").write_text(json.dumps(record))  # written last: marks it complete
        for old in _run_checkpoints(path.parent)[:-keep]:  # only the run's own step-N folders rotate
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()

