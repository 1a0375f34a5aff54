"""Copy a trained pipeline into the package as the built-in model, its transformer stored in float16.

    python scripts/ship_default_model.py runs/default/transformer_windowed/pipeline

The transformer's weights are rounded to float16 on disk (half the bytes, so a wider model fits the
30 MiB the package allows); ``from_pretrained`` without ``torch_dtype`` loads them back as float32, the
dtype the model was trained and is measured in. The autoencoders and the text encoder are copied as
they are. The script prints the largest weight change the rounding made and the folder's size, and
refuses to write a folder over the limit.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

LIMIT_BYTES = 30 * 2**20
WEIGHTS = "diffusion_pytorch_model.safetensors"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline", type=Path, help="a saved LTXAudioVideoPipeline folder (a transformer stage's pipeline/)")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parents[1] / "ltx_video/assets/default_model")
    args = parser.parse_args(argv)
    if not (args.pipeline / "model_index.json").is_file():
        parser.error(f"pipeline: {args.pipeline} has no model_index.json (expected a saved pipeline folder)")
    with tempfile.TemporaryDirectory(dir=args.output.parent) as tmp:
        staged = Path(tmp) / "default_model"
        shutil.copytree(args.pipeline, staged)
        weights = staged / "transformer" / WEIGHTS
        state = load_file(weights)
        half = {k: v.to(torch.float16) if v.is_floating_point() else v for k, v in state.items()}
        worst = max((half[k].float() - v.float()).abs().max().item() for k, v in state.items() if v.is_floating_point())
        save_file(half, weights, metadata={"format": "pt"})
        size = sum(p.stat().st_size for p in staged.rglob("*") if p.is_file())
        print(f"transformer: {len(state)} tensors in float16, largest rounding change {worst:.2e}; "
              f"folder {size / 2**20:.1f} MiB (limit {LIMIT_BYTES / 2**20:.0f})")
        if size > LIMIT_BYTES:
            print(f"error: {size / 2**20:.1f} MiB is over the limit; nothing written", file=sys.stderr)
            return 1
        if args.output.exists():
            shutil.rmtree(args.output)
        shutil.move(str(staged), args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
