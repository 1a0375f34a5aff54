"""Load LTX-Video's original single-file ``.safetensors`` checkpoints, offline.

An original checkpoint (``ltxv-2b-0.9.8-distilled.safetensors``, ...) holds the transformer under
``model.diffusion_model.*``, the VAE under ``vae.*`` (with its latent statistics) and, in the safetensors metadata
``"config"``, a JSON string with ``"transformer"``, ``"vae"`` and ``"scheduler"`` sections in LTX-Video's own
format. The T5 text encoder and tokenizer are not in the file. Keys are converted with diffusers' own
``convert_ltx_transformer_checkpoint_to_diffusers`` / ``convert_ltx_vae_checkpoint_to_diffusers``. Configs:

1. ``config=``: a local diffusers-format folder (``transformer/config.json``, ``vae/config.json``, optionally
   ``scheduler/scheduler_config.json``), e.g. one written by ``save_pretrained``; the metadata is then read only
   for its scheduler (since 2026-12-07: metadata that is not JSON was refused even here);
2. otherwise the file: the transformer's from the tensor shapes, its head size from the metadata
   (``attention_head_dim`` or ``num_attention_heads``) or, as diffusers' ``infer_diffusers_model_type`` tells the
   releases apart, from the block count: 48 blocks 4096 wide are the 13B's heads of 128, 28 blocks 2048 wide the
   2B's heads of 64 (since 2026-12-07: 64 was assumed, so a 1 x 128 model loaded silently as 2 x 64); the VAE's
   mapped from the metadata ``"vae"``, its ``timestep_conditioning``, when left out there, from the decoder's
   timestep-embedding keys as diffusers' ``infer_diffusers_model_type`` tells 0.9.1+ apart (since 2026-12-07:
   False was assumed and those weights dropped); a metadata False for a file with them is refused. What the file cannot tell is a :class:`ConfigNeededError` asking for
   ``config=``, from the header before any tensor is read; nothing is guessed.

The scheduler is ``scheduler=``, else ``config=``'s, else the metadata's (LTX's ``RectifiedFlowScheduler``) in
diffusers' terms: ``shifting="SD3"`` (0.9.0 / 0.9.1) is ``FlowMatchEulerDiscreteScheduler`` with LTX's
resolution-dependent shift and ``shift_terminal=target_shift_terminal``, diffusers' config for those versions,
said in one warning (since 2026-12-07: ignored in silence); otherwise ``use_dynamic_shifting=False, shift=1.0``
(0.9.5+). The default linear-quadratic schedule does not read the shift; ``timestep_schedule="shifted"`` does.

Keys that are neither the transformer's nor the VAE's by name (a bundled ``text_encoders.*``) are not read, and keys
left over after conversion are not loaded, each listed in one ``warnings.warn``, as diffusers' ``from_single_file``
does (since 2026-12-07: refused after reading every tensor; then listed in a log line only); a key missing or of another shape is an error. Float
tensors, float8 ones included, are cast to ``torch_dtype`` (float32 when not given). Nothing touches the network.
:func:`to_original_checkpoint` / :func:`save_original_checkpoint` write the original layout (for tests).
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import warnings
from pathlib import Path

import torch
from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel
from diffusers.loaders.single_file_utils import (
    convert_ltx_transformer_checkpoint_to_diffusers,
    convert_ltx_vae_checkpoint_to_diffusers,
)

# The key prefixes, and the writer of the original layout (for tests), re-exported here.
from ltx_video.pipelines.single_file_vae import (  # noqa: F401 (vae_config_from_original: also from here)
    _PASS_CONFIG,
    ConfigNeededError,
    vae_config_from_original,
)
from ltx_video.pipelines.single_file_writer import (
    TRANSFORMER_PREFIX,
    VAE_PREFIX,
    _few,
    save_original_checkpoint,
    to_original_checkpoint,
)

__all__ = ["ConfigNeededError", "check_file_configs", "load_single_file_components",
           "load_single_file_pipeline_components", "save_original_checkpoint", "to_original_checkpoint",
           "vae_config_from_original"]

logger = logging.getLogger(__name__)

_FLOAT8 = tuple(
    getattr(torch, name)
    for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu")
    if hasattr(torch, name)
)
# diffusers' infer_diffusers_model_type tells the transformers apart by block count (48: 0.9.7+'s 13B) and takes
# that release's config (scripts/convert_ltx_to_diffusers.py): blocks -> (width, head size).
_RELEASED_HEADS = {48: (4096, 128), 28: (2048, 64)}
# LTX's RectifiedFlowScheduler shifting="SD3" (sd3_resolution_dependent_timestep_shift: mu linear in the token count,
# 0.95 at 1024 tokens to 2.05 at 4096) in diffusers' terms; the same numbers as diffusers' 0.9.0 / 0.9.1 configs.
_SD3_SHIFT = dict(use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024,
                  max_image_seq_len=4096)
_VAE_PARTS = {"encoder", "decoder", "per_channel_statistics"}
# The decoder's timestep embedding (0.9.1+), which diffusers' infer_diffusers_model_type checks for too.
_VAE_TIMESTEP_KEY = f"{VAE_PREFIX}decoder.last_time_embedder.timestep_embedder.linear_1.weight"


# ---------------------------------------------------------------------------------------------- loading
def load_single_file_components(
    path: str | os.PathLike, *, config: str | os.PathLike | None = None, torch_dtype: torch.dtype | None = None,
    load_vae: bool = True, scheduler: FlowMatchEulerDiscreteScheduler | None = None,
) -> dict:
    """``{"transformer", "vae", "scheduler"}`` from an original LTX-Video single-file checkpoint (see the module doc);
    with ``load_vae=False`` (a ``vae=`` given instead) the file's VAE is neither read nor required, and no "vae";
    a ``scheduler`` given is used as it is (the metadata's is then not read).

    Raises ``FileNotFoundError`` for a missing ``path`` (or ``config`` folder / file in it), ``ConfigNeededError``
    (a ``ValueError``) for configs the file cannot tell, and ``ValueError`` for a file that is not an LTX-Video
    checkpoint or weights that do not fit; all but the last are raised before any tensor is read.
    """
    path = _existing_file(path)
    folder = _config_folder(config, need_vae=load_vae)
    keys, metadata = _checked_header(path, load_vae)
    transformer_keys, vae_keys, unused = _split_keys(keys)
    if folder is None:
        original, vae_config = _file_configs(path, keys, metadata, load_vae)
    else:
        transformer_config = LTXVideoTransformer3DModel.load_config(folder / "transformer")
        vae_config = AutoencoderKLLTXVideo.load_config(folder / "vae") if load_vae else None
        scheduler_dir = folder / "scheduler"
        if scheduler is None and (scheduler_dir / FlowMatchEulerDiscreteScheduler.config_name).is_file():
            scheduler = FlowMatchEulerDiscreteScheduler.from_config(
                FlowMatchEulerDiscreteScheduler.load_config(scheduler_dir)
            )
        original = {} if scheduler is not None else _metadata_config(path, metadata, needed=False)
    if unused:  # as diffusers' from_single_file, which loads without them (and says so)
        warnings.warn(f"{path}: tensors of neither the transformer nor the VAE are not loaded ({len(unused)}): "
                      f"{_few(unused)}", stacklevel=2)
    read = transformer_keys + (vae_keys if load_vae else [])
    state_dict = _read_tensors(path, read, torch_dtype or torch.float32)

    # diffusers' converters pop the keys they take: the transformer's (no "vae" in the name) first, then "vae.*".
    transformer_sd = convert_ltx_transformer_checkpoint_to_diffusers(state_dict)
    vae_sd = {}
    if load_vae:
        try:
            vae_sd = convert_ltx_vae_checkpoint_to_diffusers(state_dict)
        except KeyError as e:  # the converter reads the encoder's conv_out to pick its key table
            raise ValueError(f"{path}: the VAE weights lack {e.args[0]}") from None
    # Latent statistics diffusers' VAE has no place for (std-of-stds, ...) are not weights: dropped.
    vae_sd = {k: v for k, v in vae_sd.items() if not k.startswith("per_channel_statistics.")}

    if folder is None:
        transformer_config = _infer_transformer_config(path, transformer_sd, original.get("transformer") or {})
    if scheduler is None:
        scheduler = _scheduler_from_original(path, original.get("scheduler") or {})
    components = {
        "transformer": _build(LTXVideoTransformer3DModel, transformer_config, transformer_sd, path, folder),
        "scheduler": scheduler,
    }
    if load_vae:
        components["vae"] = _build(AutoencoderKLLTXVideo, vae_config, vae_sd, path, folder)
    return components


def load_single_file_pipeline_components(
    path: str | os.PathLike, *, config: str | os.PathLike | None = None, text_encoder=None, tokenizer=None,
    scheduler: FlowMatchEulerDiscreteScheduler | None = None, torch_dtype: torch.dtype | None = None, vae=None,
    latent_upsampler=None,
) -> dict:
    """All of ``LTXVideoPipeline``'s components: the file's, plus the text encoder and tokenizer.

    Those two are not in an original checkpoint: pass ``text_encoder=`` and ``tokenizer=``, or ``config=`` a
    local diffusers-format folder that has ``text_encoder/`` and ``tokenizer/`` (one that is passed wins; one
    loaded from the folder takes ``torch_dtype``, a passed one must already be in it: the pipeline computes the
    transformer on the text encoder's embeddings). ``scheduler=`` replaces the loaded scheduler; ``vae=`` is used
    instead of the file's VAE, which is then not read; ``latent_upsampler=`` is added.

    A passed component of the wrong type, or a text encoder whose width is not the transformer's
    ``caption_channels`` or whose vocabulary is smaller than the tokenizer's, is a ``ValueError`` before any tensor
    is read (since 2026-12-07: they loaded and the call failed).
    """
    _check_component_types(text_encoder=text_encoder, tokenizer=tokenizer, vae=vae, latent_upsampler=latent_upsampler)
    path = _existing_file(path)
    folder = _config_folder(config, need_vae=vae is None)
    missing = [name for name, value in (("text_encoder", text_encoder), ("tokenizer", tokenizer)) if value is None]
    unavailable = [name for name in missing if folder is None or not (folder / name).is_dir()]
    if unavailable:
        where = f"; the config folder {folder} has no {' or '.join(n + '/' for n in unavailable)}" if folder else ""
        raise ValueError(
            f"An original LTX-Video checkpoint holds no text encoder or tokenizer, and no {' or '.join(unavailable)} "
            f"was given{where}. Either pass them (text_encoder=T5EncoderModel..., tokenizer=T5Tokenizer...), or pass "
            "config= a local diffusers-format LTX-Video folder that has text_encoder/ and tokenizer/ subfolders."
        )
    dtype = torch_dtype or torch.float32
    encoder_dtype = getattr(text_encoder, "dtype", None)
    if isinstance(encoder_dtype, torch.dtype) and encoder_dtype != dtype:  # (since 2026-12-07; the call failed)
        raise ValueError(f"`text_encoder` is {encoder_dtype} and the file loads in {dtype} (`torch_dtype`): the "
                         f"pipeline needs them equal; pass text_encoder.to({dtype}) or torch_dtype={encoder_dtype}.")
    caption_channels = _caption_channels(path, vae is None)
    _check_text_components(text_encoder, tokenizer, caption_channels)
    components = load_single_file_components(path, config=folder, torch_dtype=torch_dtype, load_vae=vae is None,
                                             scheduler=scheduler)
    if missing:
        loaded_encoder, loaded_tokenizer = load_text_components(folder, torch_dtype, encoder=text_encoder is None,
                                                                tokenizer=tokenizer is None)
        text_encoder, tokenizer = text_encoder or loaded_encoder, tokenizer or loaded_tokenizer
        _check_text_components(text_encoder, tokenizer, caption_channels, source=f"the config folder {folder}'s ")
    components.update(text_encoder=text_encoder.eval(), tokenizer=tokenizer)
    if vae is not None:
        components["vae"] = vae
    if latent_upsampler is not None:
        components["latent_upsampler"] = latent_upsampler
    return components


def _check_component_types(**given) -> None:
    """A passed component of another type than the pipeline's: ValueError naming the keyword and the types."""
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from ltx_video.models.autoencoders.vae_hierarchical import HierarchicalVAE

    accepted = {
        "text_encoder": ((PreTrainedModel,), "a transformers text encoder (T5EncoderModel)"),
        "tokenizer": ((PreTrainedTokenizerBase,), "a transformers tokenizer (T5Tokenizer / T5TokenizerFast)"),
        "vae": ((AutoencoderKLLTXVideo, HierarchicalVAE), "an AutoencoderKLLTXVideo or HierarchicalVAE"),
        "latent_upsampler": ((LTXLatentUpsamplerModel,), "an LTXLatentUpsamplerModel"),
    }
    for name, value in given.items():
        types, what = accepted[name]
        if value is not None and not isinstance(value, types):
            raise ValueError(f"`{name}` must be {what} or None, got {type(value).__name__}.")


def _caption_channels(path: Path, need_vae: bool) -> int | None:
    """The width of the text embeddings the file's transformer takes (its caption projection's input), from the
    header (no tensor read); None when the file has no caption projection (refused later, naming it)."""
    from safetensors import safe_open

    keys, _ = _checked_header(path, need_vae)
    key = f"{TRANSFORMER_PREFIX}caption_projection.linear_1.weight"
    if key not in keys:
        return None
    with safe_open(str(path), framework="pt", device="cpu") as f:
        return int(f.get_slice(key).get_shape()[1])


def _check_text_components(text_encoder, tokenizer, caption_channels: int | None, source: str = "") -> None:
    """The text encoder's width against the transformer's ``caption_channels``, and its vocabulary against the
    tokenizer's (token ids past the embedding table fail in the call): ValueError naming both numbers."""
    config = getattr(text_encoder, "config", None)
    width = getattr(config, "d_model", None) or getattr(config, "hidden_size", None)
    if caption_channels is not None and width is not None and width != caption_channels:
        raise ValueError(f"{source}`text_encoder` is {width} wide (d_model) and the checkpoint's transformer takes "
                         f"text embeddings {caption_channels} wide (caption_channels): they must be equal; pass the "
                         "text encoder the checkpoint was trained with.")
    if text_encoder is not None and tokenizer is not None:
        vocabulary = text_encoder.get_input_embeddings().num_embeddings
        if len(tokenizer) > vocabulary:
            raise ValueError(f"{source}`tokenizer` has {len(tokenizer)} tokens and `text_encoder` embeds only "
                             f"{vocabulary} (vocab_size): its vocabulary must hold every token id the tokenizer "
                             "gives; pass the tokenizer that belongs to the text encoder.")


def load_text_components(folder, torch_dtype: torch.dtype | None = None, *, encoder: bool = True,
                         tokenizer: bool = True) -> tuple:
    """(text encoder, tokenizer) from a diffusers-format folder's ``text_encoder/`` and ``tokenizer/`` (the classes
    its model_index.json names; T5 by default), each None when not asked for."""
    folder = Path(folder).expanduser()
    index = _model_index(folder)
    text_encoder = loaded_tokenizer = None
    if encoder:
        cls = _transformers_class(index.get("text_encoder"), "T5EncoderModel")
        text_encoder = cls.from_pretrained(folder / "text_encoder", local_files_only=True)
        text_encoder = (text_encoder.to(torch_dtype) if torch_dtype is not None else text_encoder).eval()
    if tokenizer:
        cls = _transformers_class(index.get("tokenizer"), "AutoTokenizer")
        loaded_tokenizer = cls.from_pretrained(folder / "tokenizer", local_files_only=True)
    return text_encoder, loaded_tokenizer


def check_file_configs(path: str | os.PathLike, *, need_vae: bool = True) -> None:
    """From the header alone (no tensor read): ``ConfigNeededError`` when the file cannot describe its models
    without ``config=`` (metadata absent or not JSON, a VAE config diffusers cannot express, an unknown head size),
    ``ValueError`` when it is no LTX-Video checkpoint. What the CLI checks before it loads the text encoder."""
    path = _existing_file(path)
    keys, metadata = _checked_header(path, need_vae)
    _file_configs(path, keys, metadata, need_vae)


def _file_configs(path: Path, keys: list[str], metadata: dict[str, str], need_vae: bool) -> tuple[dict, dict | None]:
    """(the metadata config, the VAE's diffusers config or None), or ConfigNeededError for what the file cannot tell."""
    original = _metadata_config(path, metadata, needed=True)
    if need_vae and not original.get("vae"):
        raise ConfigNeededError(f"{path} has no VAE config in its metadata (the 'vae' section of the safetensors "
                                "metadata 'config'), so the VAE's structure is unknown")
    vae_config = _vae_config(path, original["vae"], keys) if need_vae else None
    transformer = original.get("transformer") or {}
    blocks = len({_diffusers_key(k).split(".")[1] for k in keys if _diffusers_key(k).startswith("transformer_blocks.")})
    if not {"attention_head_dim", "num_attention_heads"} & set(transformer) and blocks not in _RELEASED_HEADS:
        raise ConfigNeededError(
            f"{path}: its metadata gives no transformer attention_head_dim (nor num_attention_heads) and its {blocks} "
            "blocks are no released LTX-Video transformer's (28: 2B, heads of 64; 48: 13B, heads of 128), so the "
            "head size is unknown"
        )
    return original, vae_config


def _vae_config(path: Path, original: dict, keys: list[str]) -> dict:
    """The VAE's diffusers config from the metadata ``"vae"`` section; ``timestep_conditioning``, which LTX's
    config defaults to False, from the file's keys when the section leaves it out: the decoder's timestep embedding
    (the key diffusers' ``infer_diffusers_model_type`` tells 0.9.1+ VAEs by) means True. A section that says False
    for a file with those weights contradicts itself: ValueError."""
    if _VAE_TIMESTEP_KEY in keys and isinstance(original, dict):
        said = original.get("timestep_conditioning")
        if said is None:
            original = {**original, "timestep_conditioning": True}
        elif not said:
            raise ValueError(
                f"{path}: its metadata 'vae' config says timestep_conditioning={said!r}, but the file holds the VAE "
                f"decoder's timestep-conditioning weights ({_VAE_TIMESTEP_KEY}, ...): the file contradicts itself; "
                "pass config= a diffusers-format folder whose vae/config.json says which."
            )
    return vae_config_from_original(original, source=str(path))


def _scheduler_from_original(path: Path, original: dict) -> FlowMatchEulerDiscreteScheduler:
    """diffusers' scheduler for the metadata ``"scheduler"`` section (LTX's RectifiedFlowScheduler); one warning
    when it asks for a shift (which the default linear-quadratic schedule does not read)."""
    shifting = original.get("shifting")
    if not shifting:
        return _default_scheduler()
    asked = (f"RectifiedFlowScheduler(shifting={shifting!r}, target_shift_terminal="
             f"{original.get('target_shift_terminal')!r})")
    if shifting == "SD3":
        settings = {**_SD3_SHIFT, "shift_terminal": original.get("target_shift_terminal")}
        logger.warning(
            f"{path}: its metadata scheduler {asked} (LTX-Video 0.9.0 / 0.9.1's resolution-shifted schedule) is "
            f"loaded as FlowMatchEulerDiscreteScheduler({', '.join(f'{k}={v}' for k, v in settings.items())}), "
            "diffusers' for those versions; calls use it with timestep_schedule='shifted' (or set "
            "pipe.default_timestep_schedule = 'shifted'): the default linear-quadratic schedule does not read it."
        )
        return FlowMatchEulerDiscreteScheduler(**settings)
    logger.warning(
        f"{path}: its metadata scheduler {asked} has no diffusers FlowMatchEulerDiscreteScheduler counterpart; "
        "loaded unshifted (use_dynamic_shifting=False, shift=1.0): pass scheduler= one, or timesteps= to calls."
    )
    return _default_scheduler()


def _default_scheduler() -> FlowMatchEulerDiscreteScheduler:
    return FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=False, shift=1.0)


def _existing_file(path) -> Path:
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"{path} is a folder: a diffusers-format model folder loads with from_pretrained; "
                         "from_single_file takes an original LTX-Video .safetensors file.")
    if not path.is_file():
        raise FileNotFoundError(f"LTX-Video checkpoint not found: {path}")
    return path


def _config_folder(config, need_vae: bool = True) -> Path | None:
    if config is None:
        return None
    folder = Path(config).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"config folder not found: {folder} (config= must be a local diffusers-format folder, no hub ids)"
        )
    for name in ("transformer/config.json", "vae/config.json")[: 2 if need_vae else 1]:
        if not (folder / name).is_file():
            raise FileNotFoundError(f"config folder {folder} has no {name}")
    return folder


def _checked_header(path: Path, need_vae: bool) -> tuple[list[str], dict[str, str]]:
    """The file's tensor names and metadata, refused from the names alone (no tensor read) when it is not an
    LTX-Video checkpoint or (``need_vae``) has no VAE."""
    from ltx_video.io.safetensors_header import read_safetensors_header

    keys, metadata = read_safetensors_header(path)
    if not any(key.endswith("patchify_proj.weight") for key in keys):
        hint = " (it looks like a diffusers-format model: use from_pretrained)" if "proj_in.weight" in keys else ""
        if keys and all(key.startswith(VAE_PREFIX) for key in keys):
            hint = (" (it holds only VAE weights: load them with diffusers' AutoencoderKLLTXVideo.from_single_file("
                    "path, config=<a diffusers-format folder>, subfolder='vae') and pass that as vae=)")
        raise ValueError(
            f"{path} is not an LTX-Video checkpoint: it has no '{TRANSFORMER_PREFIX}patchify_proj.weight' "
            f"key{hint}; its keys start {_few(keys)}"
        )
    if need_vae and not any(key.startswith(VAE_PREFIX) for key in keys):
        raise ValueError(f"{path} holds no VAE weights ('{VAE_PREFIX}*' keys); an original LTX-Video file has both "
                         "(or pass vae= an AutoencoderKLLTXVideo).")
    return keys, metadata


@functools.cache
def _diffusers_key(key: str) -> str:
    """A transformer key's diffusers name (diffusers' own renaming; the key alone, no tensor)."""
    return next(iter(convert_ltx_transformer_checkpoint_to_diffusers({key: None}))) if "vae" not in key else key


@functools.cache
def _transformer_parts() -> frozenset[str]:
    with torch.device("meta"):  # the names do not depend on the sizes
        model = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, num_attention_heads=1, attention_head_dim=8,
                                           cross_attention_dim=8, num_layers=1, caption_channels=8)
    return frozenset(key.split(".")[0] for key in model.state_dict())


def _split_keys(keys: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(transformer keys, VAE keys, others) by name, as diffusers' converters take them: no "vae" in the name and a
    transformer part after renaming; "vae." and a VAE part."""
    transformer, vae, unused = [], [], []
    for key in keys:
        if "vae" not in key and _diffusers_key(key).split(".")[0] in _transformer_parts():
            transformer.append(key)
        elif key.startswith(VAE_PREFIX) and key.split(".")[1] in _VAE_PARTS:
            vae.append(key)
        else:
            unused.append(key)
    return transformer, vae, unused


def _read_tensors(path: Path, keys: list[str], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The named tensors, floats (float8 too) cast to ``dtype``. A damaged file is a ValueError naming it; running
    out of memory stays what it is."""
    from safetensors import SafetensorError, safe_open

    state_dict = {}
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            for key in keys:
                tensor = f.get_tensor(key)
                if tensor.is_floating_point() or tensor.dtype in _FLOAT8:
                    tensor = tensor.to(dtype)
                state_dict[key] = tensor
    except (SafetensorError, OSError) as e:
        raise ValueError(f"{path} is not a readable .safetensors file: {e}") from e
    return state_dict


def _metadata_config(path: Path, metadata: dict[str, str], *, needed: bool) -> dict:
    """The metadata ``"config"`` JSON ({} when absent); not JSON: ConfigNeededError when ``needed`` (the models'
    configs come from it), else a warning (only its scheduler section would be read)."""
    text = metadata.get("config")
    if not text:
        return {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        if needed:
            raise ConfigNeededError(f"{path}: the safetensors metadata 'config' is not valid JSON ({e})") from None
        logger.warning(f"{path}: the safetensors metadata 'config' is not valid JSON ({e}); its scheduler section "
                       "is not read")
        return {}
    return config if isinstance(config, dict) else {}


def _infer_transformer_config(path: Path, sd: dict[str, torch.Tensor], original: dict) -> dict:
    """LTXVideoTransformer3DModel's config from the converted weights' shapes (head size: see the module doc)."""
    try:
        inner_dim, in_channels = sd["proj_in.weight"].shape
        out_channels = sd["proj_out.weight"].shape[0]
        caption_channels = sd["caption_projection.linear_1.weight"].shape[1]
        cross_attention_dim = sd["transformer_blocks.0.attn2.to_k.weight"].shape[1]
    except KeyError as e:
        raise ValueError(f"{path}: the transformer has no {e.args[0]} weight (after conversion); {_PASS_CONFIG}") from e
    num_layers = len({key.split(".")[1] for key in sd if key.startswith("transformer_blocks.")})
    if "attention_head_dim" in original:
        head_dim, source = int(original["attention_head_dim"]), "from the metadata"
    elif "num_attention_heads" in original:
        heads = int(original["num_attention_heads"])
        head_dim, source = (inner_dim // heads if inner_dim % heads == 0 else 0), "the metadata's num_attention_heads"
    else:
        width, head_dim = _RELEASED_HEADS[num_layers]  # _file_configs refused other block counts
        source = f"a released {num_layers}-block transformer's"
        if inner_dim != width:
            raise ConfigNeededError(f"{path}: its metadata gives no transformer attention_head_dim and its "
                                    f"{num_layers} blocks are {inner_dim} wide, not the released {width}")
    if not head_dim or inner_dim % head_dim:
        raise ConfigNeededError(f"{path}: the transformer's width {inner_dim} does not divide into attention heads "
                                f"({source}: attention_head_dim {head_dim})")
    heads = inner_dim // head_dim
    if "num_attention_heads" in original and int(original["num_attention_heads"]) != heads:
        raise ValueError(
            f"{path}: the metadata says {original['num_attention_heads']} attention heads, the weights "
            f"{inner_dim} / {head_dim} = {heads}"
        )
    config = dict(in_channels=in_channels, out_channels=out_channels, patch_size=1, patch_size_t=1,
                  num_attention_heads=heads, attention_head_dim=head_dim, cross_attention_dim=cross_attention_dim,
                  num_layers=num_layers, caption_channels=caption_channels)
    if "norm_eps" in original:
        config["norm_eps"] = float(original["norm_eps"])
    return config


def _build(cls, config: dict, sd: dict[str, torch.Tensor], path: Path, folder: Path | None):
    """``cls`` from ``config`` on the meta device, then the weights assigned: a key left over is not loaded and
    said (as diffusers' from_single_file), one missing or of another shape is an error."""
    with torch.device("meta"):
        model = cls.from_config(config)
    expected = model.state_dict()
    missing = [key for key in expected if key not in sd]
    unexpected = [key for key in sd if key not in expected]
    mismatched = [f"{key} {tuple(sd[key].shape)} vs {tuple(value.shape)}" for key, value in expected.items()
                  if key in sd and sd[key].shape != value.shape]
    source = f"the config in {folder}" if folder is not None else "the config inferred from the file"
    if missing or mismatched:
        problems = "; ".join(f"{label} ({len(keys)}): {_few(keys)}" for label, keys in (
            ("missing", missing), ("unexpected", unexpected), ("shape mismatch", mismatched)) if keys)
        fix = "check that the folder matches the checkpoint" if folder is not None else _PASS_CONFIG
        raise ValueError(f"{path}: the {cls.__name__} weights do not fit {source}: {problems}. To fix: {fix}.")
    if unexpected:
        warnings.warn(f"{path}: {cls.__name__} weights with no place in {source} are not loaded "
                      f"({len(unexpected)}): {_few(unexpected)}", stacklevel=2)
    model.load_state_dict({k: v for k, v in sd.items() if k in expected}, strict=True, assign=True)
    return model.eval()


def _model_index(folder: Path) -> dict:
    index = folder / "model_index.json"
    return json.loads(index.read_text()) if index.is_file() else {}


def _transformers_class(entry, default: str):
    """The class model_index.json names for a component, when it is a transformers class; else ``default``."""
    transformers = importlib.import_module("transformers")
    if isinstance(entry, (list, tuple)) and len(entry) == 2 and entry[0] == "transformers":
        return getattr(transformers, entry[1], None) or getattr(transformers, default)
    return getattr(transformers, default)
