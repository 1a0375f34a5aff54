"""How much a transformer's video reads its audio: held-out flow losses with the clip's own audio and another's.

    python scripts/measure_av_coupling.py --config configs/train/default_transformer_windowed.yaml \
        --checkpoint runs/default/transformer_windowed/checkpoints/step-1500

For held-out synthetic clips (seeds from 1,000,000; training uses 0-2047) and fixed noise at each ``t``, the
video flow loss (docs/training.md) of: joint generation (``t2av``: both streams noised), audio-to-video with the
clip's own clean audio (``a2v``), and audio-to-video with the next clip's audio (``a2v-other``). The gap
``a2v-other - a2v`` is what the clip's own audio is worth to the video: near 0, the video ignores the audio's
timing. ``--split train`` measures training clips instead (seeds from 0), to compare fit on seen and unseen clips.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch
from safetensors.torch import load_file

ROWS = (("t2av", "text_to_audio_video", 0), ("a2v", "audio_to_video", 0), ("a2v-other", "audio_to_video", 1))


def load_weights(model: torch.nn.Module, path: Path) -> None:
    """A checkpoint folder (``model.safetensors``) or a saved transformer folder."""
    for name in ("model.safetensors", "diffusion_pytorch_model.safetensors"):
        if (path / name).is_file():
            model.load_state_dict({k: v.float() for k, v in load_file(path / name).items()})
            return
    raise SystemExit(f"--checkpoint: no model.safetensors or diffusion_pytorch_model.safetensors in {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="the transformer stage's YAML (model and autoencoders)")
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--autoencoders", type=Path, default=None,
                        help="a saved pipeline whose vae/ and audio_vae/ replace the config's (e.g. the built-in model)")
    parser.add_argument("--num", type=int, default=64)
    parser.add_argument("--split", choices=("held-out", "train"), default="held-out")
    parser.add_argument("--times", type=float, nargs="+", default=[0.6, 0.9])
    args = parser.parse_args(argv)
    if args.num < 2 or args.num % 16:
        parser.error(f"--num must be a positive multiple of 16, got {args.num}")
    if not all(0 <= t <= 1 for t in args.times):  # refused after the first rows before, naming `t`
        parser.error(f"--times must lie in [0, 1] (flow times), got {args.times}")
    # the training stack (diffusers, the T5 tokenizer) takes seconds to import: after the arguments (quick --help)
    from ltx_video.training.config import load_train_config
    from ltx_video.training.data import ClipBank
    from ltx_video.training.losses import joint_flow_loss
    from ltx_video.training.stages import TransformerStage, pack

    cfg = load_train_config(args.config)
    seed = 1_000_000 if args.split == "held-out" else 0
    options = {**cfg.stage_options, "init_transformer": None}
    if args.autoencoders is not None:
        options.update(video_vae=str(args.autoencoders / "vae"), audio_vae=str(args.autoencoders / "audio_vae"))
    cfg = cfg.replace(data=dataclasses.replace(cfg.data, num_clips=args.num, seed=seed, cache=None), stage_options=options)
    stage = TransformerStage(cfg, ClipBank(cfg.data, show_progress=False), torch.device("cpu"))
    load_weights(stage.model, args.checkpoint)
    model = stage.model.eval()
    batches = [list(range(start, start + 16)) for start in range(0, args.num, 16)]
    texts = [stage.encode_text(stage.bank.batch(idx, 0, 0, media=False)["prompts"]) for idx in batches]
    print(f"{args.checkpoint}: {args.num} {args.split} clips, video flow loss")
    for t in args.times:
        row = {}
        for label, mode, roll in ROWS:
            generator, losses = torch.Generator().manual_seed(0), []
            with torch.no_grad():
                for idx, (text, mask) in zip(batches, texts, strict=True):
                    audio = stage.audio_latents[idx].roll(roll, dims=0)
                    result = joint_flow_loss(stage.velocity_fn(model, text, mask, 16), pack(stage.video_latents[idx]),
                                             audio, mode=mode, t=torch.full((16,), t), generator=generator)
                    losses.append(result.video.item())
            row[label] = sum(losses) / len(losses)
        print(f"t={t}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items())
              + f"; own audio worth {row['a2v-other'] - row['a2v']:.4f}")


if __name__ == "__main__":
    main()
