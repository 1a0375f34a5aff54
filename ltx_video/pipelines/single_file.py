"""Load LTX-Video's original single-file ``.safetensors`` checkpoints, offline.

An original checkpoint (``ltxv-2b-0.9.8-distilled.safetensors``, ``ltxv-13b-0.9.8-dev-fp8.safetensors``, ...)
holds the transformer under ``model.diffusion_model.*``, the VAE under ``vae.*`` (with its latent statistics
``vae.per_channel_statistics.mean-of-means`` / ``std-of-means``) and, in the safetensors metadata key
``"config"``, a JSON string with ``"transformer"``, ``"vae"`` and ``"scheduler"`` sections in LTX-Video's own
config format. The T5 text encoder and tokenizer are not in the file.

Keys are converted with diffusers' own ``convert_ltx_transformer_checkpoint_to_diffusers`` /
``convert_ltx_vae_checkpoint_to_diffusers``. Model configs come, in this order, from

1. ``config=``: a local diffusers-format folder (``transformer/config.json``, ``vae/config.json``,
   optionally ``scheduler/scheduler_config.json``), e.g. one written by ``save_pretrained``;
2. otherwise the file itself: the transformer config from the tensor shapes (plus ``attention_head_dim``
   from the metadata, default 64), the VAE config mapped from the metadata ``"vae"`` section. A VAE config
   that is absent or that diffusers' ``AutoencoderKLLTXVideo`` cannot express is an error asking for
   ``config=``; nothing is guessed.

The scheduler is ``config=``'s when given, else ``FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=False,
shift=1.0)``. The metadata ``"scheduler"`` section (LTX's ``RectifiedFlowScheduler``) is not used: the pipeline
passes explicit timesteps (LTX-Video's linear-quadratic schedule by default, or ``timesteps=``), so the
scheduler's own shift settings do not enter those schedules.

Weights load strictly: a key missing or left over after conversion is an error listing some of them. Float
tensors are cast to ``torch_dtype`` (float32 when not given), float8 ones included, so the fp8 checkpoints load
as ordinary models. Nothing here touches the network.

For tests, :func:`to_original_checkpoint` / :func:`save_original_checkpoint` write diffusers models back in the
original key layout (checked by converting back with diffusers' converter).
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import torch
from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel
from diffusers.loaders.single_file_utils import (
    convert_ltx_transformer_checkpoint_to_diffusers,
    convert_ltx_vae_checkpoint_to_diffusers,
)

# The key prefixes, and the writer of the original layout (for tests), re-exported here.
from ltx_video.pipelines.single_file_writer import (
    TRANSFORMER_PREFIX,
    VAE_PREFIX,
    _few,
    save_original_checkpoint,
    to_original_checkpoint,
)

__all__ = [
    "load_single_file_components",
    "load_single_file_pipeline_components",
    "save_original_checkpoint",
    "to_original_checkpoint",
    "vae_config_from_original",
]

_FLOAT8 = tuple(
    getattr(torch, name)
    for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu")
    if hasattr(torch, name)
)
_PASS_CONFIG = "pass config= a local diffusers-format folder (with transformer/config.json and vae/config.json)"


# ---------------------------------------------------------------------------------------------- loading
def load_single_file_components(
    path: str | os.PathLike, *, config: str | os.PathLike | None = None, torch_dtype: torch.dtype | None = None,
    load_vae: bool = True,
) -> dict:
    """``{"transformer", "vae", "scheduler"}`` from an original LTX-Video single-file checkpoint (see the module doc);
    with ``load_vae=False`` (a ``vae=`` given instead) the file's VAE is neither read nor required, and no "vae".

    Raises ``FileNotFoundError`` for a missing ``path`` (or ``config`` folder / file in it) and ``ValueError``
    for a file that is not an LTX-Video checkpoint, an unmappable VAE config, or weights that do not match; those
    that the tensor names alone show are raised before any tensor is read.
    """
    path = _existing_file(path)
    folder = _config_folder(config, need_vae=load_vae)
    keys, metadata = _checked_header(path, load_vae)
    original = _metadata_config(path, metadata)
    if load_vae and folder is None and not original.get("vae"):
        raise ValueError(
            f"{path} has no VAE config in its metadata (the 'vae' section of the safetensors metadata 'config'), "
            f"so the VAE's structure is unknown: {_PASS_CONFIG}."
        )
    skipped = () if load_vae else tuple(k for k in keys if k.startswith(VAE_PREFIX))
    state_dict = _read_tensors(path, [k for k in keys if k not in set(skipped)], torch_dtype or torch.float32)

    # diffusers' converters pop the keys they take: the transformer's (no "vae" in the name) first, then "vae.*".
    transformer_sd = convert_ltx_transformer_checkpoint_to_diffusers(state_dict)
    vae_sd = {}
    if load_vae:
        try:
            vae_sd = convert_ltx_vae_checkpoint_to_diffusers(state_dict)
        except KeyError as e:  # the converter reads the encoder's conv_out to pick its key table
            raise ValueError(f"{path}: the VAE weights lack {e.args[0]}") from None
    if state_dict:  # names with "vae" in them but not "vae.": neither converter takes them
        raise ValueError(f"{path}: keys belonging to neither the transformer nor the VAE: {_few(state_dict)}")
    # Latent statistics diffusers' VAE has no place for (std-of-stds, ...) are not weights: dropped.
    vae_sd = {k: v for k, v in vae_sd.items() if not k.startswith("per_channel_statistics.")}

    if folder is not None:
        transformer_config = LTXVideoTransformer3DModel.load_config(folder / "transformer")
        vae_config = AutoencoderKLLTXVideo.load_config(folder / "vae") if load_vae else None
        scheduler_dir = folder / "scheduler"
        if (scheduler_dir / FlowMatchEulerDiscreteScheduler.config_name).is_file():
            scheduler = FlowMatchEulerDiscreteScheduler.from_config(
                FlowMatchEulerDiscreteScheduler.load_config(scheduler_dir)
            )
        else:
            scheduler = _default_scheduler()
    else:
        vae_config = vae_config_from_original(original["vae"], source=str(path)) if load_vae else None
        transformer_config = _infer_transformer_config(path, transformer_sd, original.get("transformer") or {})
        scheduler = _default_scheduler()

    components = {
        "transformer": _build(LTXVideoTransformer3DModel, transformer_config, transformer_sd, path, folder),
        "scheduler": scheduler,
    }
    if load_vae:
        components["vae"] = _build(AutoencoderKLLTXVideo, vae_config, vae_sd, path, folder)
    return components


def load_single_file_pipeline_components(
    path: str | os.PathLike,
    *,
    config: str | os.PathLike | None = None,
    text_encoder=None,
    tokenizer=None,
    scheduler: FlowMatchEulerDiscreteScheduler | None = None,
    torch_dtype: torch.dtype | None = None,
    vae=None,
) -> dict:
    """All of ``LTXVideoPipeline``'s components: the file's, plus the text encoder and tokenizer.

    Those two are not in an original checkpoint: pass ``text_encoder=`` and ``tokenizer=``, or ``config=`` a
    local diffusers-format folder that has ``text_encoder/`` and ``tokenizer/`` (one that is passed wins).
    ``scheduler=`` replaces the loaded scheduler; ``vae=`` is used instead of the file's VAE, which is then not read.
    """
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
    components = load_single_file_components(path, config=folder, torch_dtype=torch_dtype, load_vae=vae is None)
    if missing:
        loaded_encoder, loaded_tokenizer = load_text_components(folder, torch_dtype, encoder=text_encoder is None,
                                                                tokenizer=tokenizer is None)
        text_encoder, tokenizer = text_encoder or loaded_encoder, tokenizer or loaded_tokenizer
    components.update(text_encoder=text_encoder.eval(), tokenizer=tokenizer)
    if scheduler is not None:
        components["scheduler"] = scheduler
    if vae is not None:
        components["vae"] = vae
    return components


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
        raise ValueError(
            f"{path} is not an LTX-Video checkpoint: it has no '{TRANSFORMER_PREFIX}patchify_proj.weight' "
            f"key{hint}; its keys start {_few(keys)}"
        )
    if need_vae and not any(key.startswith(VAE_PREFIX) for key in keys):
        raise ValueError(f"{path} holds no VAE weights ('{VAE_PREFIX}*' keys); an original LTX-Video file has both "
                         "(or pass vae= an AutoencoderKLLTXVideo).")
    return keys, metadata


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


def _metadata_config(path: Path, metadata: dict[str, str]) -> dict:
    text = metadata.get("config")
    if not text:
        return {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: the safetensors metadata 'config' is not valid JSON ({e})") from e
    return config if isinstance(config, dict) else {}


def _infer_transformer_config(path: Path, sd: dict[str, torch.Tensor], original: dict) -> dict:
    """LTXVideoTransformer3DModel's config from the converted weights' shapes (head size from the metadata)."""
    try:
        inner_dim, in_channels = sd["proj_in.weight"].shape
        out_channels = sd["proj_out.weight"].shape[0]
        caption_channels = sd["caption_projection.linear_1.weight"].shape[1]
        cross_attention_dim = sd["transformer_blocks.0.attn2.to_k.weight"].shape[1]
    except KeyError as e:
        raise ValueError(f"{path}: the transformer has no {e.args[0]} weight (after conversion); {_PASS_CONFIG}") from e
    num_layers = len({key.split(".")[1] for key in sd if key.startswith("transformer_blocks.")})
    head_dim = int(original.get("attention_head_dim", 64))
    if inner_dim % head_dim:
        raise ValueError(
            f"{path}: the transformer's width {inner_dim} is not a multiple of attention_head_dim {head_dim} "
            f"({'from the metadata' if 'attention_head_dim' in original else 'the default'}); {_PASS_CONFIG}"
        )
    heads = inner_dim // head_dim
    if "num_attention_heads" in original and int(original["num_attention_heads"]) != heads:
        raise ValueError(
            f"{path}: the metadata says {original['num_attention_heads']} attention heads, the weights "
            f"{inner_dim} / {head_dim} = {heads}"
        )
    config = {
        "in_channels": in_channels,
        "out_channels": out_channels,
        "patch_size": 1,
        "patch_size_t": 1,
        "num_attention_heads": heads,
        "attention_head_dim": head_dim,
        "cross_attention_dim": cross_attention_dim,
        "num_layers": num_layers,
        "caption_channels": caption_channels,
    }
    if "norm_eps" in original:
        config["norm_eps"] = float(original["norm_eps"])
    return config


def _build(cls, config: dict, sd: dict[str, torch.Tensor], path: Path, folder: Path | None):
    """``cls`` from ``config`` on the meta device, then the weights assigned strictly."""
    with torch.device("meta"):
        model = cls.from_config(config)
    expected = model.state_dict()
    missing = [key for key in expected if key not in sd]
    unexpected = [key for key in sd if key not in expected]
    mismatched = [
        f"{key} {tuple(sd[key].shape)} vs {tuple(value.shape)}"
        for key, value in expected.items()
        if key in sd and sd[key].shape != value.shape
    ]
    if missing or unexpected or mismatched:
        source = f"the config in {folder}" if folder is not None else "the config inferred from the file"
        problems = "; ".join(
            f"{label} ({len(keys)}): {_few(keys)}"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", mismatched))
            if keys
        )
        fix = "check that the folder matches the checkpoint" if folder is not None else _PASS_CONFIG
        raise ValueError(f"{path}: the {cls.__name__} weights do not fit {source}: {problems}. To fix: {fix}.")
    model.load_state_dict(sd, strict=True, assign=True)
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




# ---------------------------------------------------------------------------------------------- VAE config
_SPACE = {"compress_space", "compress_all", "compress_all_x_y", "compress_space_res", "compress_all_res"}
_TIME = {"compress_time", "compress_all", "compress_all_x_y", "compress_time_res", "compress_all_res"}
_RES_DOWNSAMPLE = {"compress_space_res": "spatial", "compress_time_res": "temporal", "compress_all_res": "spatiotemporal"}


def vae_config_from_original(original: dict, *, source: str = "the checkpoint") -> dict:
    """diffusers ``AutoencoderKLLTXVideo`` config for LTX-Video's ``CausalVideoAutoencoder`` config (metadata "vae").

    Covers the structures diffusers' VAE has: the 0.9.0 encoder (``res_x`` / ``compress_all`` / ``res_x_y``), the
    0.9.5+ encoder (``res_x`` / ``compress_*_res``), and decoders of ``res_x`` blocks joined by ``compress_all``
    (optionally residual, with a channel ``multiplier``) or, without a multiplier, by ``res_x_y``. Anything else
    raises ``ValueError`` asking for ``config=``.
    """

    def fail(reason: str):
        raise ValueError(f"{source}: the VAE config in its metadata cannot be mapped to diffusers' "
                         f"AutoencoderKLLTXVideo ({reason}); {_PASS_CONFIG}.")

    cfg = dict(original)
    if cfg.get("_class_name", "CausalVideoAutoencoder") != "CausalVideoAutoencoder":
        fail(f"_class_name {cfg.get('_class_name')!r}")
    requirements = {
        "dims": (3, 3), "norm_layer": ("group_norm", "pixel_norm"), "latent_log_var": (None, "uniform"),
        "use_quant_conv": (True, False), "normalize_latent_channels": (False, False),
    }  # name: (LTX's default, the value diffusers' VAE implements)
    for name, (default, needed) in requirements.items():
        value = cfg.get(name, default)
        if value != needed:
            fail(f"{name}={value!r}; only {needed!r} is supported")
    for name in ("spatial_padding_mode", "encoder_spatial_padding_mode", "decoder_spatial_padding_mode"):
        if cfg.get(name, "zeros") != "zeros":
            fail(f"{name}={cfg[name]!r}; only 'zeros' is supported")
    encoder_blocks = _blocks(cfg.get("encoder_blocks", cfg.get("blocks")), fail, "encoder")
    decoder_blocks = _blocks(cfg.get("decoder_blocks", cfg.get("blocks")), fail, "decoder")
    patch_size = int(cfg.get("patch_size", 1))

    encoder = _map_encoder(encoder_blocks, int(cfg.get("encoder_base_channels", 128)), fail)
    decoder = _map_decoder(decoder_blocks, int(cfg.get("decoder_base_channels", 128)), fail)
    config = {
        "in_channels": int(cfg.get("in_channels", 3)),
        "out_channels": int(cfg.get("out_channels", 3)),
        "latent_channels": int(cfg["latent_channels"]),
        **encoder,
        **decoder,
        "timestep_conditioning": bool(cfg.get("timestep_conditioning", False)),
        "patch_size": patch_size,
        "patch_size_t": 1,
        "resnet_norm_eps": 1e-6,
        "scaling_factor": float(cfg.get("scaling_factor", 1.0)),
        "encoder_causal": True,
        "decoder_causal": bool(cfg.get("causal_decoder", False)),
    }
    # diffusers derives the compression ratios from spatio_temporal_scaling; state them where that is wrong.
    names = [name for name, _ in encoder_blocks]
    spatial = patch_size * 2 ** sum(name in _SPACE for name in names)
    temporal = 2 ** sum(name in _TIME for name in names)
    if spatial != patch_size * 2 ** sum(encoder["spatio_temporal_scaling"]):
        config["spatial_compression_ratio"] = spatial
    if temporal != 2 ** sum(encoder["spatio_temporal_scaling"]):
        config["temporal_compression_ratio"] = temporal
    return config


def _blocks(blocks, fail, part: str) -> list[tuple[str, dict]]:
    if not blocks:
        fail(f"no {part} blocks")
    out = []
    for block in blocks:
        name, params = block
        out.append((name, dict(params) if isinstance(params, dict) else {"num_layers": int(params)}))
    return out


def _map_encoder(blocks: list[tuple[str, dict]], channels: int, fail) -> dict:
    """Groups ``res_x [compress] [res_x_y]``; the last ``res_x`` is the mid block."""
    names = {name for name, _ in blocks}
    is_095 = any(name in _RES_DOWNSAMPLE for name in names)
    allowed = {"res_x", *_RES_DOWNSAMPLE} if is_095 else {"res_x", "compress_all", "res_x_y"}
    if not names <= allowed:
        fail(f"encoder blocks {sorted(names - allowed)} with {sorted(allowed)}")
    groups, i = [], 0
    while i < len(blocks):
        name, params = blocks[i]
        if name != "res_x":
            fail(f"encoder block {i} is {name!r} where a 'res_x' block was expected")
        group = {"layers": int(params["num_layers"]), "in": channels, "down": None}
        i += 1
        if i < len(blocks) and blocks[i][0] != "res_x" and blocks[i][0] != "res_x_y":
            name, params = blocks[i]
            group["down"] = _RES_DOWNSAMPLE.get(name, "conv")
            if name in _RES_DOWNSAMPLE:
                channels *= int(params.get("multiplier", 2))
            i += 1
        if i < len(blocks) and blocks[i][0] == "res_x_y":
            channels *= int(blocks[i][1].get("multiplier", 2))
            i += 1
        group["out"] = channels
        groups.append(group)
    *down, mid = groups
    if not down or mid["down"] is not None or mid["out"] != mid["in"]:
        fail("the encoder does not end in a plain 'res_x' mid block")
    if is_095:
        if any(g["down"] is None and g["out"] != g["in"] for g in down):
            fail("a channel change without a downsampling block")
        return {
            "block_out_channels": tuple([down[0]["in"]] + [g["out"] for g in down]),
            "down_block_types": ("LTXVideo095DownBlock3D",) * len(down),
            "layers_per_block": tuple(g["layers"] for g in groups),
            "spatio_temporal_scaling": tuple(g["down"] is not None for g in down),
            "downsample_type": tuple(g["down"] or "conv" for g in down),
        }
    if down[-1]["out"] != down[-1]["in"]:
        fail("a 'res_x_y' in the last encoder block")
    return {
        "block_out_channels": tuple(g["in"] for g in down),
        "down_block_types": ("LTXVideoDownBlock3D",) * len(down),
        "layers_per_block": tuple(g["layers"] for g in groups),
        "spatio_temporal_scaling": tuple(g["down"] is not None for g in down),
        "downsample_type": ("conv",) * len(down),
    }


def _map_decoder(blocks: list[tuple[str, dict]], base_channels: int, fail) -> dict:
    """Reversed blocks: the mid ``res_x``, then groups ``[res_x_y] [compress_all] res_x`` (diffusers' up blocks)."""
    names = {name for name, _ in blocks}
    if not names <= {"res_x", "res_x_y", "compress_all"}:
        fail(f"decoder blocks {sorted(names - {'res_x', 'res_x_y', 'compress_all'})}")
    channels = base_channels  # LTX's decoder starts at base_channels times every block's multiplier
    for name, params in blocks:
        if name == "res_x_y" or name.startswith("compress"):
            channels *= int(params.get("multiplier", 2 if name == "res_x_y" else 1))
    blocks = list(reversed(blocks))
    if blocks[0][0] != "res_x":
        fail("the decoder does not start (in decoding order) with a 'res_x' mid block")
    mid = {"layers": int(blocks[0][1]["num_layers"]), "noise": bool(blocks[0][1].get("inject_noise", False))}
    groups, i = [], 1
    while i < len(blocks):
        group = {"conv_in": False, "scale": False, "residual": False, "factor": 1}
        if blocks[i][0] == "res_x_y":
            group["conv_in"] = True
            channels //= int(blocks[i][1].get("multiplier", 2))
            i += 1
        if i < len(blocks) and blocks[i][0] == "compress_all":
            params = blocks[i][1]
            group.update(scale=True, residual=bool(params.get("residual", False)),
                         factor=int(params.get("multiplier", 1)))
            channels //= group["factor"]
            i += 1
        if i >= len(blocks) or blocks[i][0] != "res_x":
            fail(f"decoder block {len(blocks) - 1 - min(i, len(blocks) - 1)} breaks the "
                 "'[res_x_y] [compress_all] res_x' pattern")
        params = blocks[i][1]
        group.update(channels=channels, layers=int(params["num_layers"]), noise=bool(params.get("inject_noise", False)))
        if group["conv_in"] and (group["factor"] != 1 or not groups):
            fail("a 'res_x_y' next to a channel-reducing 'compress_all', or right after the mid block")
        groups.append(group)
        i += 1
    if not groups:
        fail("no decoder up blocks")
    rev = list(reversed(groups))
    return {
        "decoder_block_out_channels": tuple(g["channels"] * g["factor"] for g in rev),
        "decoder_layers_per_block": tuple([g["layers"] for g in rev] + [mid["layers"]]),
        "decoder_spatio_temporal_scaling": tuple(g["scale"] for g in rev),
        "decoder_inject_noise": tuple([g["noise"] for g in rev] + [mid["noise"]]),
        "upsample_residual": tuple(g["residual"] for g in rev),
        "upsample_factor": tuple(g["factor"] for g in rev),
    }
