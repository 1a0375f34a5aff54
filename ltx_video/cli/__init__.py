"""The ``ltx-video`` command.

    ltx-video generate "a red ball bounces" --output ball.mp4
    ltx-video generate "PROMPT" --model /models/LTX-Video-0.9.8 --condition first.png:0 --condition last.png:120
    ltx-video plan --model 13b --height 1088 --width 1920 --num-frames 257
    ltx-video long "a red ball bounces" --duration 60 --output long.mp4 [--resume]

Without ``--model`` it runs the built-in model (:mod:`ltx_video.default_model`): a small audio-video model
of a toy world of bouncing shapes, 64 x 64 px, 49 frames at 24 fps, with a tone at every bounce; a proof
that every part works end to end, not a general video model. A ``--model`` folder runs as the pipeline its
``model_index.json`` names, at the size, length and sampling its ``generation_defaults.json`` records
(else LTX-Video's own defaults).

Bad input ends in one line naming the flag and what it accepts, with exit status 2, before any model
loads where it can be checked earlier; ``--debug`` shows the Python traceback instead. This module
imports only the standard library, so ``--help`` and argument errors answer at once: torch, diffusers
and the models load only when a video is generated.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

__all__ = ["CLIError", "build_parser", "check_output", "main", "make_folders", "remove_folders"]

PROG = "ltx-video"
DTYPES = ("float32", "bfloat16", "float16")
# ltx_video.attention.backends.ATTENTION_BACKENDS (a test keeps them equal); not imported, as it imports torch.
ATTENTION_BACKENDS = ("auto", "sdpa", "flash", "ltx_block_sparse", "ltx_chunked")
# ltx_video.utils.memory.ATTENTION_MODES (a test keeps them equal).
PLAN_ATTENTION = ("sdpa", "math", "ltx_chunked", "ltx_block_sparse")


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


def _block_list(text: str) -> list[int]:
    """'3' or '3,5' -> [3] or [3, 5]: transformer block indices."""
    try:
        blocks = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected block indices like 3 or 3,5, got {text!r}") from None
    if any(block < 0 for block in blocks):
        raise argparse.ArgumentTypeError(f"block indices must be >= 0, got {text}")
    return blocks


def add_guidance_arguments(parser) -> None:
    """--stg-scale, --stg-blocks and the modality scales, for 'generate' and 'long'."""
    parser.add_argument("--stg-scale", type=_non_negative_float, metavar="S", help="spatiotemporal guidance (LTX-Video "
                        "0.9.8's STG, attention_values), 0 turns it off; default: for 'generate', a --config's own; "
                        "else the model's (built-in model: 1.5; else off)")
    parser.add_argument("--stg-blocks", type=_block_list, metavar="I[,J...]", help="the transformer blocks STG "
                        "perturbs; default: for 'generate', a --config's skip_block_list (with --stg-scale alone too); "
                        "else the model's (built-in model: 2)")
    parser.add_argument("--modality-scale", type=_non_negative_float, metavar="M", help="audio-video models: how hard "
                        "the audio steers the video (LTX-2's modality guidance), 1 is off; default: the model's "
                        "(built-in model: 1)")
    parser.add_argument("--audio-modality-scale", type=_non_negative_float, metavar="M", help="audio-video models: how "
                        "hard the video steers the audio, 1 is off; default: the model's (built-in model: "
                        "8)")


def _float_above(text: str, allow_zero: bool) -> float:
    """A finite number > 0 (>= 0 with ``allow_zero``) for argparse."""
    bound = ">= 0" if allow_zero else "> 0"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number {bound}, got {text!r}") from None
    if not (0 <= value if allow_zero else 0 < value) or not value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number {bound}, got {text}")
    return value


def _positive_float(text: str) -> float:
    return _float_above(text, allow_zero=False)


def _non_negative_float(text: str) -> float:
    return _float_above(text, allow_zero=True)


def output_path(text: str) -> Path:
    """An --output path with ``~`` expanded (bash leaves it in ``--output=~/x.mp4``)."""
    return Path(text).expanduser()


def _seed_below(bits: int):
    """A seed type for argparse: a whole number 0 .. 2**bits - 1 (64: what torch.Generator.manual_seed takes; 63:
    a long video's, whose chunk seeds are taken modulo 2**63)."""
    def seed(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**{bits} - 1, got {text!r}") from None
        if not 0 <= value < 2**bits:
            raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**{bits} - 1, got {text}")
        return value

    return seed


_seed = _seed_below(64)


def vae_compression(folder: Path | None) -> tuple[str, int, int]:
    """A model folder's VAE class and spatial and temporal compression, from ``vae/config.json`` (no weights read);
    LTX-Video's (AutoencoderKLLTXVideo, 32, 8) without one (a preset or a single file)."""
    import json

    path = folder / "vae" / "config.json" if folder is not None and folder.is_dir() else None
    if path is None or not path.is_file():
        return "AutoencoderKLLTXVideo", 32, 8
    config = json.loads(path.read_text())
    if config.get("_class_name") == "HierarchicalVAE":
        return "HierarchicalVAE", int(config.get("spatial_compression", 64)), int(config.get("temporal_compression", 8))
    # As AutoencoderKLLTXVideo computes them when its config leaves them out.
    steps = sum(bool(s) for s in config.get("spatio_temporal_scaling", (True, True, True, False)))
    spatial = config.get("spatial_compression_ratio") or config.get("patch_size", 4) * 2**steps
    temporal = config.get("temporal_compression_ratio") or config.get("patch_size_t", 1) * 2**steps
    return config.get("_class_name", "AutoencoderKLLTXVideo"), int(spatial), int(temporal)


def check_frame_inside(flag: str, spec: str, frame: int, num_frames: int) -> None:
    """An image or clip at ``frame`` of a video of ``num_frames``: inside it ('generate' and 'plan')."""
    if frame >= num_frames:
        raise CLIError(f"{flag} {spec}: frame {frame} is outside the video: --num-frames {num_frames} has frames 0 to "
                       f"{num_frames - 1}")


def check_clip_frame(flag: str, spec: str, frame: int, num_frames: int, ratio: int) -> None:
    """A video clip at ``frame``: inside the video, and at a multiple of the VAE's temporal compression ``ratio`` (the
    pipelines refuse it otherwise: its latent frames must line up with the video's): 'generate --condition' and
    'plan --clip'."""
    check_frame_inside(flag, spec, frame, num_frames)
    if frame % ratio:
        raise CLIError(f"{flag} {spec}: a video clip starts at a frame that is a multiple of {ratio} (its latent frames "
                       "must line up with the video's)")


def check_output(path: Path, overwrite: bool, *, earlier_run_ok: bool = False) -> None:
    """``--output``: an .mp4 file name in a folder this process can write to, and no file the user already has
    unless ``overwrite`` (or, for 'long --resume', ``earlier_run_ok``: the run's own assembled file). Checked before
    any model loads, so an unwritable path does not cost a whole generation. Creates nothing: its missing folders are
    made when the run writes (since 2026-12-07; they were made here, and left empty by a later refusal or Ctrl-C)."""
    if path.is_dir():  # first: a folder is named as one, whatever its name ends in
        raise CLIError(f"--output {path} is a folder; expected an .mp4 file path")
    if path.suffix.lower() != ".mp4" or path.stem == "":
        raise CLIError(f"--output must be a file name ending in .mp4 (such as out.mp4), got {str(path)!r}")
    if path.is_symlink() and not path.exists() and not (overwrite or earlier_run_ok):  # a link to nothing: a name taken
        raise CLIError(f"--output {path} exists (a symbolic link to {os.readlink(path)}, which does not exist): pass "
                       "--overwrite to replace the link (nothing is replaced without it)")
    if path.exists() and not (overwrite or earlier_run_ok):
        raise CLIError(f"--output {path} exists: pass --overwrite to replace it (nothing is replaced without it)")
    # The nearest folder that exists: the file is written there, or in the folders made inside it.
    folder = next(parent for parent in path.parents if parent.exists() or parent.is_symlink())
    if not folder.is_dir():
        what = "a file" if folder.exists() else f"a symbolic link to {os.readlink(folder)}, which does not exist"
        raise CLIError(f"--output {path}: {folder} is {what}, not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ltx-video-write-check-"):
            pass
    except OSError as error:
        raise CLIError(f"--output {path}: cannot write in {folder} ({error.strerror or error})") from None


def make_folders(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; returns those made, outermost first (to remove them again if the run
    writes nothing)."""
    missing = [parent for parent in (folder, *folder.parents) if not parent.exists()][::-1]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def remove_folders(made: list[Path]) -> None:
    """Remove the folders :func:`make_folders` made, innermost first, where they are still empty."""
    for folder in reversed(made):
        try:
            folder.rmdir()
        except OSError:  # something else wrote there meanwhile: kept
            return


def _media_at_frame(flag: str):
    """PATH:FRAME[:STRENGTH] -> (path, frame, strength) for ``flag``; the path may itself contain ':'."""

    def parse(text: str) -> tuple[str, int, float]:
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
        if Path(path).is_dir():
            raise argparse.ArgumentTypeError(f"{flag.lstrip('-')} {path} is a folder, not an image or video file")
        if not Path(path).is_file():
            raise argparse.ArgumentTypeError(f"{flag.lstrip('-')} file not found: {path}")
        if frame < 0:
            raise argparse.ArgumentTypeError(f"{text}: the frame must be >= 0, got {frame}")
        if not 0.0 <= strength <= 1.0:
            raise argparse.ArgumentTypeError(f"{text}: the strength must be in [0, 1], got {strength}")
        return path, frame, strength

    return parse


_condition = _media_at_frame("--condition")


def _camera(text: str) -> tuple[str, float]:
    """MOTION[:SPEED] -> (motion type, speed); motion names take '-' or '_'."""
    from ltx_video.conditioning.motions import parse_motion

    try:
        return parse_motion(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _clip(text: str) -> tuple[int, int]:
    """FRAMES:FRAME -> (pixel frames, frame): a clip for 'plan --clip'."""
    try:
        frames, frame = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FRAMES:FRAME (e.g. 17:16), got {text!r}") from None
    if frames < 1 or frame < 0:
        raise argparse.ArgumentTypeError(f"expected FRAMES >= 1 and FRAME >= 0, got {text}")
    return frames, frame


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """One line, no usage dump, exit status 2."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def _model_default(what: str, builtin: object, ltx: object) -> str:
    return f"default: the model's {what} (built-in model: {builtin}; a folder: its generation_defaults.json, else {ltx})"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ltx-video-enhanced")
    except PackageNotFoundError:  # run from a source tree without an install
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description="LTX-Video generation (ltx_video). Run 'ltx-video generate --help' for the options.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    gen = commands.add_parser(
        "generate", help="generate a video (with its audio track, for audio-video models) from a prompt",
        description="Generate an mp4 from a prompt, and optional keyframes. Values left out come from the model: "
        "the built-in model's (64 x 64, 49 frames at 24 fps), a --model folder's generation_defaults.json, else "
        "LTX-Video 0.9.8's inference defaults (704 x 1216, 121 frames at 30 fps, 30 steps).",
    )
    gen.add_argument("prompt", help="the text prompt (an empty prompt needs --allow-empty-prompt)")
    gen.add_argument("--negative-prompt", help=_model_default(
        "negative prompt", "''", "'worst quality, inconsistent motion, blurry, jittery, distorted'"))
    gen.add_argument("--height", type=_positive_int, metavar="PX", help="pixels; any value (padded to a multiple of "
                     "32 and cropped back; an odd size is written one pixel larger, as H.264 needs even sizes); "
                     + _model_default("height", 64, 704))
    gen.add_argument("--width", type=_positive_int, metavar="PX", help="pixels; any value; "
                     + _model_default("width", 64, 1216))
    gen.add_argument("--num-frames", type=_positive_int, metavar="N", help="frames; any value (padded to 8k+1 and "
                     "cropped back); " + _model_default("frame count", 49, 121))
    gen.add_argument("--frame-rate", type=_positive_float, metavar="FPS", help=_model_default("frame rate", 24, 30))
    gen.add_argument("--steps", type=_positive_int, metavar="N", help="denoising steps (replace a single-pass --config's "
                     "num_inference_steps, keeping its sampler and skips; its listed timesteps and a multi-scale one's "
                     "passes win); "
                     + _model_default("steps", 30, 30))
    gen.add_argument("--guidance-scale", type=_non_negative_float, metavar="CFG", help="classifier-free guidance; default: the "
                     "--config's, else the model's (built-in model: 3.0; else 3.0)")
    add_guidance_arguments(gen)
    gen.add_argument("--seed", type=_seed, default=0, help="random seed, 0 to 2**64 - 1 (default: 0): the noise of generator=torch.Generator('cpu').manual_seed(SEED) on every --device")
    gen.add_argument("--config", type=Path, help="an LTX-Video 0.9.8 YAML config: a file, or a shipped one's name (ltxv-2b-0.9.8-distilled, ltxv-13b-0.9.8-dev, ...); default: none")
    gen.add_argument("--model", type=Path, help="a local diffusers-format folder (model_index.json) or an original "
                     ".safetensors file; default: the built-in model")
    gen.add_argument("--variant", metavar="NAME", help="with a --model folder saved with save_pretrained(variant=NAME), "
                     "e.g. bf16: load those weight files (diffusers' variant=); default: the plain ones")
    gen.add_argument("--base-model", type=Path,
                     help="with a single-file --model: a diffusers-format folder giving the text encoder and tokenizer "
                          "(and the model configs, for a file without them in its metadata)")
    gen.add_argument("--upsampler", type=Path, help="a local LTXLatentUpsamplerModel folder (multi-scale configs)")
    gen.add_argument("--condition", type=_condition, action="append", default=[], metavar="PATH:FRAME[:STRENGTH]",
                     help="an image or video placed at a frame (repeatable; strength default 1.0)")
    gen.add_argument("--keyframe", type=_media_at_frame("--keyframe"), action="append", default=[],
                     metavar="PATH:FRAME[:STRENGTH]", help="a keyframe (repeatable, in frame order): as --condition, "
                     "and the frames between keyframes start from their interpolation; see docs/control.md")
    gen.add_argument("--keyframe-placement", choices=["tokens", "in-place"], default=None,
                     help="how keyframes after frame 0 reach the model: LTX-Video's appended tokens (default), or "
                     "in-place: the image held still replaces its latent frame (images only; see docs/control.md)")
    gen.add_argument("--camera", type=_camera, metavar="MOTION[:SPEED]", help="camera motion: static, pan-left, "
                     "pan-right, pan-up, pan-down, zoom-in, zoom-out, orbit-left, orbit-right, dolly-forward, "
                     "dolly-backward; SPEED in px per frame (pans, orbits) or %% per frame (zooms, dollies), default 1")
    gen.add_argument("--camera-space", choices=["latent", "pixel"], default=None,
                     help="how a training-free --camera is imposed: latent (default: the latent frames' low frequencies "
                     "pulled along the camera in the early steps) or pixel (every step's predicted clip re-rendered as a "
                     "still world seen by the camera: a 2D camera move); see docs/control.md")
    gen.add_argument("--audio", type=Path, metavar="PATH", help="audio-video models: generate the video to this sound "
                     "(a .wav, .mp3, .m4a or a video's sound track), written into the output at its own rate (mono "
                     "as two identical channels, more than two mixed to stereo, as AAC stores them), trimmed to the video or padded with silence; sampled with the model's defaults for a "
                     "given sound")
    gen.add_argument("--output", type=output_path, default=Path("out.mp4"), help="the .mp4 to write (default: out.mp4); an "
                     "existing file is kept unless --overwrite")
    gen.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    gen.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps ... (default: cpu)")
    gen.add_argument("--dtype", choices=DTYPES, help="default: float32, or a --config's precision (bfloat16 for its "
                     "bfloat16, mixed_precision and float8_e4m3fn, the last with --fp8)")
    gen.add_argument("--attention", choices=ATTENTION_BACKENDS,
                     help="attention backend; default: diffusers' (SDPA); see docs/attention.md")
    gen.add_argument("--ff-chunk-size", type=_positive_int, metavar="TOKENS",
                     help="run feed-forwards this many tokens at a time (less memory; the same output in float32); default: off")
    gen.add_argument("--vae-tiling", action="store_true", help="decode the video in overlapping tiles, one at a time "
                     "(memory bounded by the tile; see docs/4k.md)")
    gen.add_argument("--4k", dest="four_k", action="store_true", help="4K: --height/--width default to 2160 x 3840; "
                     "generate at half size, upsample x2 in latent space with --upsampler, refine, decode in tiles "
                     "(or one pass with a model whose VAE is a HierarchicalVAE); see docs/4k.md")
    gen.add_argument("--fp8", action="store_true", help="FP8 E4M3 transformer-block weights (per-channel scales): "
                     "less memory everywhere, faster only on CUDA GPUs with FP8 matmuls (compute capability >= 8.9)")
    gen.add_argument("--allow-empty-prompt", action="store_true",
                     help="accept an empty prompt (an unconditional video)")
    gen.add_argument("--debug", action="store_true", help="show the Python traceback of an error")

    from ltx_video.cli.long import add_parser as add_long_parser

    add_long_parser(commands, _positive_int, _positive_float, _model_default, seed=_seed_below(63),
                    non_negative_float=_non_negative_float)

    plan = commands.add_parser(
        "plan", help="the memory a generation needs (weights, activations, attention, VAE decode), before running it",
        description="Predict the peak memory of one transformer step and of the VAE decode (ltx_video.utils.memory). "
        "No weights are loaded.",
    )
    plan.add_argument("--model", help="2b, 13b, an LTX-Video YAML config (a file or a shipped name), a diffusers "
                      "folder or a single .safetensors checkpoint (default: 2b, not the built-in model that 'generate' "
                      "runs without --model)")
    plan.add_argument("--config", help="an LTX-Video YAML config, as 'generate --config': its passes and guidance, "
                      "with --model's transformer (without --model, the one its checkpoint names)")
    plan.add_argument("--base-model", help="with a single-file --model without a transformer config in its metadata: "
                      "a diffusers folder whose transformer/config.json it has")
    plan.add_argument("--height", type=_positive_int, metavar="PX", help="default: the model's (a folder's "
                      "generation_defaults.json, else 704)")
    plan.add_argument("--width", type=_positive_int, metavar="PX", help="default: the model's (else 1216)")
    plan.add_argument("--num-frames", type=_positive_int, metavar="N", help="default: the model's (else 121)")
    plan.add_argument("--image", action="store_true", help="an image at frame 0 ('generate --condition IMG:0'): "
                      "per-token timesteps")
    plan.add_argument("--keyframes", type=_positive_int, metavar="N", help="N image keyframes after frame 0 "
                      "('generate --keyframe'/--condition): each appends a latent frame of tokens")
    plan.add_argument("--clip", type=_clip, action="append", default=[], metavar="FRAMES:FRAME",
                      help="a video clip of FRAMES frames at FRAME (repeatable); after frame 0 it appends its first "
                      "two latent frames")
    plan.add_argument("--keyframe-placement", choices=["tokens", "in-place"], default=None,
                      help="with --keyframes or --clip: as 'generate --keyframe-placement' (default: tokens)")
    plan.add_argument("--long", action="store_true", help="plan 'ltx-video long': a chunk after the first "
                      "(per-token timesteps, the first chunk's anchor appended)")
    plan.add_argument("--chunk-frames", type=_positive_int, metavar="N", help="with --long: frames per chunk "
                      "(default: the model's frame count)")
    plan.add_argument("--no-anchor", action="store_true", help="with --long: as 'long --no-anchor'")
    plan.add_argument("--4k", dest="four_k", action="store_true", help="refused: see docs/4k.md's memory table")
    plan.add_argument("--batch-size", type=_positive_int, default=1, metavar="N", help="videos (default: 1)")
    plan.add_argument("--guidance-passes", type=_positive_int, metavar="N",
                      help="model passes per step: 2 with CFG, 3 with STG too, 1 without guidance; default: a YAML "
                      "config's (the most any step of its guidance runs), else 2")
    plan.add_argument("--max-sequence-length", type=_positive_int, metavar="TOKENS", help="text tokens (default: 256)")
    plan.add_argument("--dtype", choices=DTYPES, help="default: the dtype 'generate' loads the model in (float32, "
                      "or a YAML config's precision)")
    plan.add_argument("--attention", choices=PLAN_ATTENTION, default="sdpa",
                      help="sdpa (fused kernels), math (N x N scores), ltx_chunked, ltx_block_sparse (default: sdpa)")
    plan.add_argument("--fp8", action="store_true", help="FP8 transformer-block weights")
    plan.add_argument("--vae-tiling", action="store_true", help="plan the tiled decode of 'generate --vae-tiling' "
                      "(default: untiled, as 'generate' decodes without it)")
    plan.add_argument("--no-vae-tiling", action="store_true", help="untiled (the default; kept for old scripts)")
    plan.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``ltx-video``; a reader that stops early (``ltx-video plan | head -3``) ends it quietly, with the status a
    Unix tool killed by SIGPIPE has, 141 (since 2026-12-07: "BrokenPipeError", status 1)."""
    try:
        status = _main(argv)
        sys.stdout.flush()  # what is still buffered fails here, not in the interpreter's exit
        return status
    except BrokenPipeError:
        # the interpreter flushes stdout again at exit: point it at /dev/null so that flush finds no pipe either
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13  # SIGPIPE


def _main(argv: list[str] | None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse errors: one line, exit status 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    signals: list[int] = []  # Ctrl-C seen during the run (see _note_sigint)
    previous = _note_sigint(signals)
    try:
        if args.command == "plan":
            from ltx_video.cli.plan import run_plan

            print(run_plan(args))
            return 0
        if args.command == "long":
            from ltx_video.cli.long import run_long

            path = run_long(args)
        else:
            from ltx_video.cli.generate import run

            path = run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        return _interrupted(args)
    except BrokenPipeError:  # the reader of stdout has gone: main ends quietly
        raise
    except Exception as error:  # every error is one line; --debug shows the traceback
        if args.debug:
            raise
        if signals:  # Ctrl-C inside C code that turned the KeyboardInterrupt into another error (torch.tensor's
            return _interrupted(args)  # shape parsing: "could not determine the shape of object type ...")
        user_error = isinstance(error, (CLIError, ValueError, FileNotFoundError, NotADirectoryError))
        text = str(error) if user_error else f"{type(error).__name__}: {error}"
        hint = "" if isinstance(error, CLIError) else " (--debug shows the traceback)"
        print(f"{PROG}: error: {' '.join(text.split())}{hint}", file=sys.stderr)
        return 2 if user_error else 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if path is not None:  # None: 'long --resume' found its run finished, and wrote nothing (it said so)
        print(f"wrote {path}")
    return 0


def _note_sigint(signals: list[int]):
    """Record each SIGINT in ``signals`` and raise KeyboardInterrupt as Python's own handler does; returns the handler
    to restore, or None where the handler is not Python's default (SIGINT ignored, or set by the caller) or this is
    not the main thread."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return None

    def on_sigint(signum, frame):
        signals.append(signum)
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread
        return None
    return signal.default_int_handler


def _interrupted(args) -> int:
    detail = f"; {args.output} was not written" if args.command == "generate" else ""
    if args.command == "long":
        from ltx_video.cli.long import interrupted_detail

        detail = interrupted_detail(args.output)
    print(f"{PROG}: interrupted{detail}", file=sys.stderr)
    return 130


if __name__ == "__main__":
    sys.exit(main())
