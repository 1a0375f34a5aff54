"""Train one stage of an ltx_video model from a YAML config, on accelerate.

    python scripts/train.py --config configs/train/default_video_vae.yaml
    python scripts/train.py --config configs/train/default_transformer.yaml --resume latest
    accelerate launch --multi_gpu --num_processes 8 scripts/train.py --config my_run.yaml
    torchrun --nproc_per_node 2 scripts/train.py --config my_run.yaml --cpu     # two CPU processes (gloo)

The stages (video_vae, audio_vae, transformer), the config keys and the outputs are described in
``ltx_video.training`` (config, stages, trainer). ``--steps``, ``--output-dir``, ``--batch-size`` and ``--learning-rate``
override the file.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="the run's YAML file")
    parser.add_argument("--resume", help="'latest' or a checkpoints/step-N folder")
    parser.add_argument("--steps", type=int, help="override steps (total, counted from 0)")
    parser.add_argument("--output-dir", help="override output_dir")
    parser.add_argument("--batch-size", type=int, help="override batch_size (per process)")
    parser.add_argument("--learning-rate", type=float, help="override learning_rate (e.g. to extend a run on resume)")
    parser.add_argument("--stop-after", type=int, help="leave after this step with a checkpoint (resume later)")
    parser.add_argument("--cpu", action="store_true", help="train on the CPU even when a GPU is present")
    args = parser.parse_args(argv)

    from ltx_video.training.checkpoints import check_stop_after, resolve_resume
    from ltx_video.training.checks import check_resume
    from ltx_video.training.config import load_train_config
    from ltx_video.training.run_folder import check_output_dir

    try:
        check_stop_after(args.stop_after, None, "--stop-after")  # the range, before the config is read
        config = load_train_config(args.config, steps=args.steps, output_dir=args.output_dir, batch_size=args.batch_size,
                                   learning_rate=args.learning_rate)
        checkpoint = resolve_resume(args.resume, Path(config.output_dir))
        from ltx_video.training.stages import check_stage_options  # the model classes: diffusers, transformers

        check_stage_options(config)  # before any clip is rendered
        check_output_dir(config, resuming=checkpoint is not None, checkpoint=checkpoint)  # never over another's work
        check_stop_after(args.stop_after, checkpoint, "--stop-after")
        check_resume(config, checkpoint)  # steps past the checkpoint's, the same clips and model folders
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        return 2
    # A distributed process ends inside train (exit_distributed): freeing gloo's process group from Python can
    # deadlock (ltx_video.training.trainer).
    from ltx_video.training.trainer import summary_line, train

    try:
        summary = train(config, resume=args.resume, cpu=args.cpu, stop_after=args.stop_after, exit_distributed=True)
    except KeyboardInterrupt:  # before the first step (or a second Ctrl-C): the last checkpoint, if any, stays
        print(f"train.py: interrupted; --resume latest continues from the last checkpoint in {config.output_dir}",
              file=sys.stderr)
        return 130
    print(summary_line(summary, config.output_dir))
    if summary.get("interrupted"):
        print(f"train.py: interrupted at step {summary['stopped_at']}, checkpoint saved: --resume latest continues it",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
