"""The ``ltx-video`` command.

    ltx-video generate "a red ball bounces" --output ball.mp4
    ltx-video generate "PROMPT" --model /models/LTX-Video-0.9.8 --condition first.png:0 --condition last.png:120

Without ``--model`` it runs the built-in default model (:mod:`ltx_video.default_model`): a small
audio-video model trained on the synthetic world of bouncing shapes, 64 x 64 px, 49 frames at 24 fps,
with a tone at every bounce; a proof that every part works end to end, not a general video model. Bad input gives a one-line error and
exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ltx_video.attention.backends import ATTENTION_BACKENDS
from ltx_video.default_model import DEFAULT_GENERATION

__all__ = ["main"]

DTYPES = ("float32", "bfloat16", "float16")
DEFAULT_MODEL_DEFAULTS = dict(
    height=DEFAULT_GENERATION["height"], width=DEFAULT_GENERATION["width"],
    num_frames=DEFAULT_GENERATION["num_frames"], steps=DEFAULT_GENERATION["num_inference_steps"],
)
LTX_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"
MODEL_DEFAULTS = dict(height=512, width=704, num_frames=121, steps=30)


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _condition(text: str):
    """PATH:FRAME[:STRENGTH] -> (path, frame, strength); the path may itself contain ':'."""
    parts = text.rsplit(":", 2)
    try:
        if len(parts) == 3 and not parts[1].lstrip("-").isdigit():
            parts = [parts[0] + ":" + parts[1], parts[2]]
        if len(parts) == 3:
            path, frame, strength = parts[0], int(parts[1]), float(parts[2])
        elif len(parts) == 2:
            path, frame, strength = parts[0], int(parts[1]), 1.0
        else:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected PATH:FRAME[:STRENGTH], got {text!r}") from None
    if not Path(path).is_file():
        raise argparse.ArgumentTypeError(f"condition file not found: {path}")
    if frame < 0:
        raise argparse.ArgumentTypeError(f"condition frame must be >= 0, got {frame}")
    if not 0.0 <= strength <= 1.0:
        raise argparse.ArgumentTypeError(f"condition strength must be in [0, 1], got {strength}")
    return path, frame, strength


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """One line, no usage dump, exit status 2."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ltx-video", description="LTX-Video generation (ltx_video).")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="generate a video from a prompt (and optional keyframes)")
    gen.add_argument("prompt", help="the text prompt")
    gen.add_argument("--negative-prompt", help=f"default: {LTX_NEGATIVE_PROMPT!r} ('' for the built-in model)")
    gen.add_argument("--height", type=_positive_int, help="pixels (any value; padded to 32 and cropped back)")
    gen.add_argument("--width", type=_positive_int, help="pixels (any value; padded to 32 and cropped back)")
    gen.add_argument("--num-frames", type=_positive_int, help="frames (any value; padded to 8k+1 and cropped back)")
    gen.add_argument("--frame-rate", type=float, default=24.0)
    gen.add_argument("--steps", type=_positive_int, help="denoising steps (ignored when --config gives timesteps)")
    gen.add_argument("--guidance-scale", type=float, help="CFG scale (default 3.0, or the --config's)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--config", type=Path, help="an LTX-Video 0.9.8 YAML config (see configs/)")
    gen.add_argument("--model", type=Path, help="a local diffusers-format folder or an original .safetensors file")
    gen.add_argument("--base-model", type=Path,
                     help="with a single-file --model: a diffusers-format folder giving the text encoder and tokenizer")
    gen.add_argument("--upsampler", type=Path, help="a local LTXLatentUpsamplerModel folder (multi-scale configs)")
    gen.add_argument("--condition", type=_condition, action="append", default=[], metavar="PATH:FRAME[:STRENGTH]",
                     help="an image or video placed at a frame (repeatable)")
    gen.add_argument("--output", type=Path, default=Path("out.mp4"))
    gen.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps ...")
    gen.add_argument("--dtype", choices=DTYPES, default="float32")
    gen.add_argument("--attention", choices=ATTENTION_BACKENDS,
                     help="attention backend (default: diffusers' default, SDPA); see docs/attention.md")
    gen.add_argument("--ff-chunk-size", type=_positive_int, metavar="TOKENS",
                     help="run feed-forwards this many tokens at a time (less memory, same output)")
    gen.add_argument("--vae-tiling", action="store_true", help="decode the video in overlapping tiles (less memory)")
    gen.add_argument("--fp8", action="store_true", help="FP8 E4M3 transformer-block weights (per-channel scales)")
    return parser


def _load_pipeline(args):
    import torch

    from ltx_video import LTXVideoPipeline
    from ltx_video.default_model import load_default_pipeline

    dtype = getattr(torch, args.dtype)
    if args.model is None:
        print("ltx-video: using the built-in default model (a small audio-video model of a toy world of bouncing "
              "shapes, 64x64 px; pass --model for a real LTX-Video checkpoint)", file=sys.stderr)
        pipe = load_default_pipeline()
        pipe.set_progress_bar_config(desc="denoising (built-in model)")
    elif not args.model.exists():
        raise CLIError(f"--model: not found: {args.model}")
    elif args.model.is_file():
        if args.base_model is None:
            raise CLIError("--model is a single file: pass --base-model DIR (a diffusers-format LTX-Video folder "
                           "with text_encoder/ and tokenizer/) for the T5 text encoder")
        pipe = LTXVideoPipeline.from_single_file(args.model, config=args.base_model, torch_dtype=dtype)
    else:
        pipe = LTXVideoPipeline.from_pretrained(args.model, torch_dtype=dtype)
    if args.upsampler is not None:
        from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

        pipe.register_modules(latent_upsampler=LTXLatentUpsamplerModel.from_pretrained(args.upsampler))
    if args.fp8:  # before moving: the full-precision weights never reach the device
        pipe.enable_fp8()
    pipe.to(args.device)
    if args.attention is not None:
        try:
            pipe.enable_efficient_attention(args.attention)
        except RuntimeError as error:  # flash-attn missing
            raise CLIError(f"--attention: {error}") from None
    if args.ff_chunk_size is not None:
        pipe.enable_feed_forward_chunking(args.ff_chunk_size)
    if args.vae_tiling:
        pipe.vae.enable_tiling()
    return pipe if dtype == torch.float32 else pipe.to(dtype=dtype)


def generate(args) -> Path:
    import torch

    from ltx_video import ConditioningItem
    from ltx_video.configs import load_config
    from ltx_video.io.media import write_video

    config = load_config(args.config) if args.config is not None else None
    defaults = DEFAULT_MODEL_DEFAULTS if args.model is None else MODEL_DEFAULTS
    if args.output.suffix.lower() != ".mp4":
        raise CLIError(f"--output must end in .mp4, got {args.output}")
    if not args.frame_rate > 0:
        raise CLIError(f"--frame-rate must be > 0, got {args.frame_rate}")
    call = dict(
        prompt=args.prompt,
        negative_prompt=args.negative_prompt if args.negative_prompt is not None
        else (DEFAULT_GENERATION["negative_prompt"] if args.model is None else LTX_NEGATIVE_PROMPT),
        height=args.height or defaults["height"],
        width=args.width or defaults["width"],
        num_frames=args.num_frames or defaults["num_frames"],
        frame_rate=args.frame_rate,
        conditioning_items=[ConditioningItem(p, f, s) for p, f, s in args.condition] or None,
        output_type="pt",
        generator=torch.Generator(device="cpu").manual_seed(args.seed),
    )
    if args.guidance_scale is not None:
        call["guidance_scale"] = args.guidance_scale
    elif config is None:
        call["guidance_scale"] = 3.0
    if config is None:
        call["num_inference_steps"] = args.steps or defaults["steps"]
    pipe = _load_pipeline(args)
    if config is not None and config.is_multiscale and getattr(pipe, "latent_upsampler", None) is None:
        raise CLIError("--config is multi-scale: pass --upsampler DIR (an LTXLatentUpsamplerModel folder)")
    output = config.generate(pipe, **call) if config is not None else pipe(**call)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    audio = getattr(output, "audio", None)  # (waveform (B, S), sample_rate) from audio-video pipelines
    write_video(
        args.output, output.frames[0].float().cpu(), fps=args.frame_rate,
        audio=None if audio is None else audio[0][0], sample_rate=None if audio is None else audio[1],
    )
    return args.output


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse errors exit with status 2 and one usage line
    try:
        path = generate(args)
    except (CLIError, ValueError, FileNotFoundError) as error:
        print(f"ltx-video: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
