"""What a run's config files (and the folders they name) already decide, checked before any clip is read or model
built, so that a mistake is a ``train.py: error:`` line in seconds rather than a traceback after the clips are
decoded and the pipeline loaded; and what a resume must find unchanged: the checkpoint's step against ``steps``,
the clips under ``data.root`` against those the checkpoint's run drew its batches from, and the model folders the
run reads (``stage_options.video_vae``, ``pipeline``, ...) against their files when it started.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

from ltx_video.pipelines.generation_defaults import GENERATION_DEFAULTS_FILE, GenerationDefaults
from ltx_video.training.config import TrainConfig
from ltx_video.training.data import DataConfig

__all__ = ["FOLDER_OPTIONS", "check_captions", "check_crops", "check_fine_tune_options", "check_init_text_encoder", "check_overlap",
           "check_readable_folder", "check_resume", "check_transformer_widths", "check_values", "data_files",
           "init_generation_defaults", "init_pipeline", "init_transformer_differences", "keyframe_frames",
           "model_folders", "parameter_defaults", "run_inputs"]

#: The ``stage_options`` that name a saved model folder the run reads (frozen, or its start), and the file that shows
#: a folder is what the option wants (what ``save_pretrained`` writes).
FOLDER_OPTIONS = {"pipeline": "model_index.json", "video_vae": "config.json", "audio_vae": "config.json",
                  "init_transformer": "config.json"}

#: The stages whose trained network has no gradient checkpointing, and that network's class.
_NO_GRADIENT_CHECKPOINTING = {"audio_vae": "AudioAutoencoder", "camera": "CameraMotionEncoder",
                              "keyframes": "KeyframeAdapter"}


# ----------------------------------------------------------------------------- stage options
def keyframe_frames(options: dict[str, Any], num_frames: int) -> tuple[int, ...]:
    """``stage_options.frames`` as pixel frames of the clips, and ``num_keyframes`` drawn from them: ValueError
    naming the key and what it accepts (the defaults are for 49-frame clips)."""
    frames = options["frames"]
    if (not isinstance(frames, (list, tuple)) or not frames or not all(isinstance(f, int) and not isinstance(f, bool)
                                                                          for f in frames)
            or min(frames) < 0 or max(frames) >= num_frames):
        raise ValueError(f"stage_options.frames must be a list of frames in [0, {num_frames - 1}] (data.num_frames "
                         f"{num_frames}; the default suits 49-frame clips), got {frames!r}")
    count = options["num_keyframes"]
    if not isinstance(count, int) or not 1 <= count <= len(frames):
        raise ValueError(f"stage_options.num_keyframes must be in [1, {len(frames)}] (the number of "
                         f"stage_options.frames), got {count!r}")
    return tuple(frames)


def check_overlap(overlap: Any, latent_frames: int) -> None:
    """``stage_options.overlap_latents`` of the continuation stage: it must leave two generated latent frames."""
    if not isinstance(overlap, int) or not 1 <= overlap <= latent_frames - 2:
        raise ValueError(f"stage_options.overlap_latents must be in [1, {latent_frames - 2}] for {latent_frames}-latent-"
                         f"frame clips (data.num_frames), got {overlap!r}")


def check_fine_tune_options(config: TrainConfig, options: dict[str, Any], vae=None) -> None:
    """The options of the stages built on a saved pipeline (and ``gradient_checkpointing`` of every stage) that
    need only the config; ``vae`` (built on the meta device from the pipeline's ``vae/config.json``, when there is
    one) gives the clips' latent frames."""
    if config.gradient_checkpointing and config.stage in _NO_GRADIENT_CHECKPOINTING:
        raise ValueError(f"gradient_checkpointing: the {config.stage} stage's {_NO_GRADIENT_CHECKPOINTING[config.stage]}"
                         " does not support it (accepted: false)")
    if config.stage == "camera" and config.data.source != "synthetic":
        raise ValueError("data.source must be 'synthetic' for the camera stage (it trains on each synthetic clip's "
                         f"exact camera motion), got {config.data.source!r}")
    if config.stage == "keyframes":
        keyframe_frames(options, config.data.num_frames)
        saved = Path(options["pipeline"] or "") / "transformer" / "config.json"
        saved = json.loads(saved.read_text()) if options["pipeline"] and saved.is_file() else {}
        layers = saved.get("num_layers")
        if isinstance(layers, int) and not all(isinstance(b, int) and 0 <= b < layers for b in options["blocks"]):
            raise ValueError(f"stage_options.blocks must be transformer blocks in [0, {layers - 1}] (the pipeline's "
                             f"transformer has {layers}), got {options['blocks']!r}")
        width = saved.get("num_attention_heads", 0) * saved.get("attention_head_dim", 0)
        if width and width % options["heads"]:  # the adapter's attention splits the transformer's width
            raise ValueError(f"stage_options.heads must divide the transformer's width {width}, got {options['heads']!r}")
    if config.stage == "continuation" and vae is not None:
        check_overlap(options["overlap_latents"], (config.data.num_frames - 1) // vae.temporal_compression_ratio + 1)


def parameter_defaults(*functions) -> dict[str, Any]:
    """The keyword parameters of ``functions`` (a builder, then the class its other keys reach) and their defaults;
    the first function's default wins."""
    defaults: dict[str, Any] = {}
    for function in reversed(functions):
        for name, p in inspect.signature(function).parameters.items():
            if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                defaults[name] = p.default
    return defaults


def _accepts(value: Any, default: Any, key: str = "") -> str | None:
    """What a value of ``default``'s kind is, in words, when ``value`` is not one (else None): a flag true or false,
    a whole number (>= 1 for a width, channel count, head count or size; >= 0 for a count of layers or blocks, which
    the models build with none, and where the default is 0), a number, a name, a list of such; a parameter that
    defaults to None is left to the model."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(default, int):
        least = 0 if default == 0 or "layers" in key or "blocks" in key else 1
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= least
        return None if ok else f"a whole number >= {least}"
    if isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "a number"
    if isinstance(default, str):
        return None if isinstance(value, str) else f"a string such as {default!r}"
    if isinstance(default, (tuple, list)) and default:
        ok = isinstance(value, (tuple, list)) and len(value) > 0 and all(_accepts(v, default[0], key) is None
                                                                          for v in value)
        return None if ok else f"a list (each {_accepts(object(), default[0], key)}) such as {list(default)}"
    return None


def check_values(name: str, values: dict[str, Any], defaults: dict[str, Any]) -> None:
    """A config section passed as keyword arguments (``model``, ``stage_options.text_encoder``) against the
    parameters' ``defaults``: an unknown key, or a value not of its default's kind (YAML's ``"8"`` for 8), is a
    ValueError naming ``name.key`` and what it accepts, before any model is built (they were torch's or Python's
    type errors, or ``build_text_encoder() got an unexpected keyword argument``)."""
    if not isinstance(values, dict):
        raise ValueError(f"{name} must be a mapping of {sorted(defaults)}, got {values!r}")
    unknown = sorted(set(values) - set(defaults))
    if unknown:
        raise ValueError(f"{name}: unknown key(s) {unknown}; accepted: {sorted(defaults)}")
    for key, value in values.items():
        expected = _accepts(value, defaults[key], key)
        if expected is not None:
            raise ValueError(f"{name}.{key} must be {expected}, got {value!r}")


def check_transformer_widths(model) -> None:
    """A transformer's attention widths from its config: the text reaches each block projected to the video width
    (``num_attention_heads x attention_head_dim``), which its cross-attention takes as ``cross_attention_dim``
    (another value was a matrix-shape RuntimeError at the first step)."""
    cfg = model.config
    width = cfg.num_attention_heads * cfg.attention_head_dim
    if cfg.cross_attention_dim != width:
        raise ValueError(f"model.cross_attention_dim must equal model.num_attention_heads x model.attention_head_dim "
                         f"({cfg.num_attention_heads} x {cfg.attention_head_dim} = {width}, the width the text is "
                         f"projected to), got {cfg.cross_attention_dim}")


def check_crops(options: dict[str, Any], data: DataConfig, vae) -> None:
    """The ``video_vae`` stage's ``crop_frames`` and ``crop_size`` against the VAE's compression and the clips."""
    frames, size = options["crop_frames"], options["crop_size"]
    t, s = vae.temporal_compression_ratio, vae.spatial_compression_ratio
    if frames < 1 or (frames - 1) % t or frames > data.num_frames:
        raise ValueError(f"stage_options.crop_frames must be {t}k + 1 (this VAE's temporal compression {t}) and at "
                         f"most data.num_frames {data.num_frames}, got {frames}")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < s or size % s
                             or size > min(data.height, data.width)):
        raise ValueError(f"stage_options.crop_size must be a multiple of {s} (this VAE's spatial compression) and "
                         f"at most the clips' {data.height} x {data.width}, or null, got {size!r}")


def init_transformer_differences(model_config: dict[str, Any], saved_config: dict[str, Any]) -> list[str]:
    """The config keys in which a saved transformer differs from ``model``'s: none may, except that ``model`` may add
    ``screen_position_features`` (zero-initialised, so the start is the saved model)."""
    added = {"screen_position_features"} if not saved_config.get("screen_position_features") else set()
    return sorted(k for k, v in model_config.items()
                  if not k.startswith("_") and k not in added and saved_config.get(k) != v)


def init_pipeline(folder: str | Path | None) -> Path | None:
    """The pipeline an ``init_transformer`` folder belongs to: a pipeline's ``transformer/`` (e.g.
    ``ltx_video/assets/default_model/transformer``), or a run's ``transformer/`` beside the run's ``pipeline/``;
    None when it is neither."""
    if folder is None:
        return None
    parent = Path(folder).parent
    return next((p for p in (parent, parent / "pipeline") if (p / "model_index.json").is_file()), None)


def init_generation_defaults(folder: str | Path | None) -> GenerationDefaults | None:
    """The generation defaults of the pipeline an ``init_transformer`` folder belongs to (:func:`init_pipeline`);
    None when it is none or that pipeline has none. ValueError naming a broken file."""
    pipeline = init_pipeline(folder)
    return None if pipeline is None else GenerationDefaults.load(pipeline)


_MATCHED_TEXT_ENCODERS: set[tuple] = set()  # (folder, text_encoder options, its files' times) found to match


def check_init_text_encoder(options: dict[str, Any]) -> None:
    """The T5 ``stage_options.text_encoder`` builds against the one the ``init_transformer``'s pipeline was trained
    with (its ``text_encoder/``): the fine-tune must feed its transformer the same embeddings, so another config or
    seed is refused (it silently replaced the base's T5). Compared config first, then weights (the built-in T5 is
    small); a tolerance, not bits, since the seeded initialisation may differ in the last bits between CPUs."""
    pipeline = init_pipeline(options.get("init_transformer"))
    saved_folder = pipeline / "text_encoder" if pipeline is not None else None
    if saved_folder is None or not (saved_folder / "config.json").is_file():
        return
    # scripts/train.py checks before train() checks again: a match already found for the same files is not re-read
    key = (str(saved_folder.resolve()), json.dumps(options["text_encoder"], sort_keys=True),
           tuple(sorted((f.name, f.stat().st_mtime_ns) for f in saved_folder.iterdir())))
    if key in _MATCHED_TEXT_ENCODERS:
        return
    import torch
    from transformers import T5EncoderModel

    from ltx_video.training import components

    saved = T5EncoderModel.from_pretrained(saved_folder)
    with torch.device("cpu"), torch.random.fork_rng(devices=[]):  # the builder seeds torch: the caller's RNG stays
        built = components.build_text_encoder(len(components.word_tokenizer()), **options["text_encoder"])

    def same(mine: torch.Tensor, saved: torch.Tensor) -> bool:  # in the saved dtype (a bf16 copy), to its precision
        tolerance = max(1e-4, 2 * torch.finfo(saved.dtype).eps) if saved.is_floating_point() else 0.0
        return torch.allclose(mine.to(saved.dtype).float(), saved.float(), rtol=tolerance, atol=1e-6)
    keys = ("vocab_size", "d_model", "d_kv", "d_ff", "num_layers", "num_heads", "feed_forward_proj",
            "relative_attention_num_buckets", "relative_attention_max_distance")
    differing = [f"{k} {getattr(built.config, k)!r} (its: {getattr(saved.config, k)!r})" for k in keys
                 if getattr(built.config, k) != getattr(saved.config, k)]
    if not differing:
        weights = saved.state_dict()
        if any(not same(v, weights[k]) for k, v in built.state_dict().items()):
            differing = ["its weights (another seed)"]
    if not differing:
        _MATCHED_TEXT_ENCODERS.add(key)
        return
    if differing:
        raise ValueError(f"stage_options.text_encoder {options['text_encoder']} builds another T5 than the one the "
                         f"init_transformer's pipeline {pipeline} was trained with: {', '.join(differing)}; a fine-tune "
                         "keeps its base's text encoder: give that pipeline's (its d_model, num_layers, num_heads "
                         "and seed), or start from scratch")


def check_init_transformer(config: TrainConfig, options: dict[str, Any]) -> None:
    """``stage_options.init_transformer`` against ``model``, from the two configs alone (call under
    ``torch.device("meta")``: both models are built without memory), and its pipeline's generation defaults (the
    fine-tune saves them: a broken file is named now, not after training)."""
    folder = options.get("init_transformer")
    if config.stage != "transformer" or folder is None or not (Path(folder) / "config.json").is_file():
        return
    init_generation_defaults(folder)
    from ltx_video.models.transformer_av import LTXAudioVideoTransformer3DModel
    from ltx_video.training import components

    saved = LTXAudioVideoTransformer3DModel.from_config(LTXAudioVideoTransformer3DModel.load_config(folder))
    differing = init_transformer_differences(dict(components.build_transformer(**config.model).config),
                                             dict(saved.config))
    if differing:
        raise ValueError(f"stage_options.init_transformer: its config differs from `model` in {differing} (the "
                         f"saved {folder}/config.json must equal `model`)")


def check_readable_folder(data: DataConfig) -> None:
    """A ``data.root`` of whose videos none can be read (or none is one clip long) is refused from the files'
    headers: the first usable file ends the search, so a good folder costs one probe."""
    if data.source != "folder":
        return
    from ltx_video.data.video_folder import (
        _READ_ERRORS,
        DEFAULT_EXTENSIONS,
        _ClipReadError,
        _num_output_frames,
        probe_video_file,
        walk_files,
    )

    videos = sorted(p for p in walk_files(Path(data.root)) if p.suffix.lower() in DEFAULT_EXTENSIONS)
    for path in videos:
        try:
            info = probe_video_file(path)
        except (*_READ_ERRORS, _ClipReadError):
            continue
        if _num_output_frames(info, data.fps) >= data.num_frames and (info.has_audio or not data.require_audio):
            return
    raise ValueError(f"data.root {data.root}: none of its {len(videos)} video file(s) can be read as a clip of "
                     f"data.num_frames {data.num_frames} at data.fps {data.fps:g}"
                     + (" with audio (data.require_audio)" if data.require_audio else ""))


def check_captions(data: DataConfig) -> None:
    """The captions of the clips training will use (:func:`~ltx_video.training.data.folder_selection`: the first
    ``num_clips``, without the files the folder dataset leaves out), read as training reads them: one that is not
    UTF-8 is a ValueError naming the file. (Since 2026-12-07 it is refused here, before the output folder is written
    or a model loaded; it was a traceback from the clip bank, after ``config.json`` was written. Also since
    2026-12-07: every caption under ``data.root`` was read, so one of a clip never used refused the run.)"""
    if data.source != "folder" or not data.root or not Path(data.root).is_dir():
        return
    from ltx_video.training.data import _caption, folder_selection

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the files left out are said once, by the clip bank
        _, _, used = folder_selection(data)
    for path in used:
        _caption(Path(path))


# ----------------------------------------------------------------------------- resuming
def data_files(data: DataConfig) -> dict[str, Any] | None:
    """A folder's videos by size and captions by content (relative path -> value), stored with each checkpoint so a
    resume can name what changed; None for synthetic clips (the config alone decides them). Modification times are
    left out: a copied folder of the same files is the same data."""
    if data.source != "folder" or not data.root or not Path(data.root).is_dir():
        return None
    from ltx_video.data.video_folder import DEFAULT_EXTENSIONS, walk_files
    from ltx_video.training.data import _caption

    files = {}
    for path in walk_files(Path(data.root)):
        if path.suffix.lower() in DEFAULT_EXTENSIONS:  # each video, and its caption as training reads it (other
            files[str(path.relative_to(data.root))] = path.stat().st_size  # .txt files, a byte-order mark or a
            try:                                                            # trailing newline refused resumes)
                caption = _caption(path)
            except ValueError:  # not UTF-8: training names it
                caption = path.with_suffix(".txt").read_bytes().hex()
            if caption is not None:
                key = str(path.with_suffix(".txt").relative_to(data.root))
                files[key] = hashlib.sha1(caption.encode()).hexdigest()[:12]
    return dict(sorted(files.items()))


_HASHED: dict[tuple, str] = {}  # (file, size, modification time) -> sha1: each file is read once per process


def _sha1(path: Path, stat: os.stat_result) -> str:
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHED:
        with open(path, "rb") as file:
            _HASHED[key] = hashlib.file_digest(file, "sha1").hexdigest()
    return _HASHED[key]


def model_folders(config: TrainConfig, known: dict[str, Any] | None = None) -> dict[str, dict[str, list]]:
    """The model folders the run reads (:data:`FOLDER_OPTIONS` its ``stage_options`` name), each as ``{"folder":
    path, "files": {relative path: [size, modification time in ns, sha1 of the content]}}`` under its config key,
    stored with each checkpoint so a resume can name what changed. Every file counts but hidden ones and
    ``generation_defaults.json`` (read for the saved sampling defaults only, and edited by hand). ``known``: a
    checkpoint's record; a file of the size and modification time it records is not read again, so a resume costs
    a directory listing, and a copied folder (new times) is read and compared by content."""
    folders = {}
    for option in FOLDER_OPTIONS:
        folder = config.stage_options.get(option)
        if not folder or not Path(folder).is_dir():
            continue
        key = f"stage_options.{option}"
        before = ((known or {}).get(key) or {}).get("files", {})
        files = {}
        for top, names, found in os.walk(folder, followlinks=True):
            names[:] = sorted(n for n in names if not n.startswith("."))
            for name in sorted(found):
                path = Path(top) / name
                if name.startswith(".") or name == GENERATION_DEFAULTS_FILE or not path.is_file():
                    continue
                relative, stat = str(path.relative_to(folder)), path.stat()
                old = before.get(relative)
                same = isinstance(old, list) and len(old) == 3 and old[:2] == [stat.st_size, stat.st_mtime_ns]
                files[relative] = [stat.st_size, stat.st_mtime_ns, old[2] if same else _sha1(path, stat)]
        folders[key] = {"folder": str(folder), "files": files}
    return folders


def run_inputs(config: TrainConfig, checkpoint: Path | None = None) -> dict[str, Any]:
    """What a run reads that a resume must find unchanged, for each checkpoint's ``step.json``: ``data_files``
    (:func:`data_files`, folder data only) and ``model_folders`` (:func:`model_folders`, when it reads any);
    ``checkpoint``: the one the run resumes from (its record spares reading unchanged files again)."""
    known = json.loads((Path(checkpoint) / "step.json").read_text()).get("model_folders") if checkpoint else None
    inputs = {"data_files": data_files(config.data), "model_folders": model_folders(config, known)}
    return {key: value for key, value in inputs.items() if value}


def _changes(before: dict[str, Any], now: dict[str, Any]) -> str:
    """The files removed, added and changed between two ``{relative path: value}`` records, in words."""
    parts = []
    for word, names in (("removed", sorted(set(before) - set(now))), ("added", sorted(set(now) - set(before))),
                        ("changed", sorted(k for k in set(before) & set(now) if before[k] != now[k]))):
        if names:
            parts.append(f"{len(names)} {word}: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}")
    return "; ".join(parts)


def check_resume(config: TrainConfig, checkpoint: Path | None) -> None:
    """A resume that would train nothing (``steps`` below the checkpoint's step), or on other clips than the ones
    the checkpoint's run drew its batches from, or with a model folder (``stage_options.video_vae``, ``pipeline``,
    ...) whose files changed since, is refused before any work."""
    if checkpoint is None:
        return
    stored = json.loads((Path(checkpoint) / "step.json").read_text())
    if config.steps < stored["step"]:
        raise ValueError(f"steps {config.steps} (--steps or the config's) is below the step of the checkpoint resumed "
                         f"({checkpoint}, step {stored['step']}): nothing would be trained; --steps above "
                         f"{stored['step']} extends the run, and --resume with an earlier checkpoint redoes the steps "
                         "after it")
    before, now = stored.get("data_files"), data_files(config.data)
    if before is not None and now is not None and before != now:  # a checkpoint written before 2026-12-07 holds none
        raise ValueError(f"--resume: the files under data.root {config.data.root} changed since {checkpoint} was saved "
                         f"({_changes(before, now)}), so the resumed steps would not draw the batches the run drew; put "
                         "the files back, or train on the new clips as a new run (another output_dir, without --resume)")
    recorded = stored.get("model_folders") or {}  # a checkpoint written before 2026-12-08 holds none
    folders = model_folders(config, known=recorded) if recorded else {}
    for key, record in recorded.items():
        before = {name: value[2] for name, value in record["files"].items()}
        now = {name: value[2] for name, value in folders.get(key, {}).get("files", {}).items()}
        if before != now:
            raise ValueError(f"--resume: the files of {key} {record['folder']} changed since {checkpoint} was saved "
                             f"({_changes(before, now)}), so the resumed steps would not train with the model the run's "
                             "steps so far trained with; put the files back, or train with the changed folder as a new "
                             "run (another output_dir, without --resume)")
