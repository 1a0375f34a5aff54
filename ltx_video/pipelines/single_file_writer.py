"""LTX-Video's original single-file layout written from diffusers models (the inverse of diffusers' conversion):
tiny original-format checkpoints for the single-file loader's tests (:mod:`ltx_video.pipelines.single_file`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from diffusers import AutoencoderKLLTXVideo, LTXVideoTransformer3DModel
from diffusers.loaders.single_file_utils import (
    convert_ltx_transformer_checkpoint_to_diffusers,
    convert_ltx_vae_checkpoint_to_diffusers,
)

__all__ = ["save_original_checkpoint", "to_original_checkpoint"]

TRANSFORMER_PREFIX = "model.diffusion_model."  # an original checkpoint's transformer keys
VAE_PREFIX = "vae."  # and its VAE's


def _few(items, n: int = 5) -> str:
    items = list(items)
    return ", ".join(map(str, items[:n])) + (f", ... ({len(items) - n} more)" if len(items) > n else "")


_TRANSFORMER_NAMES = {"proj_in": "patchify_proj", "time_embed": "adaln_single", "norm_q": "q_norm", "norm_k": "k_norm"}


def to_original_checkpoint(
    transformer: LTXVideoTransformer3DModel, vae: AutoencoderKLLTXVideo
) -> dict[str, torch.Tensor]:
    """The two models' weights under LTX-Video's original single-file keys (the inverse of diffusers' conversion).

    VAE blocks are numbered as LTX-Video's ``CausalVideoAutoencoder`` numbers them: one original block per
    diffusers resnet group, downsampler, ``conv_out``, ``conv_in`` and upsampler, in forward order. Converting the
    result back with diffusers' converters must give the models' own keys and tensors; a VAE whose structure has
    no such layout (diffusers' converter assumes the 0.9.0 / 0.9.1 / 0.9.5 block positions) is a ``ValueError``.
    """
    out, own = {}, {}  # original key -> tensor; diffusers key (VAE's with "vae.") -> the same tensor
    for key, value in transformer.state_dict().items():
        parts = [_TRANSFORMER_NAMES.get(part, part) for part in key.split(".")]
        out[TRANSFORMER_PREFIX + ".".join(parts)] = own[key] = value
    slots = {"encoder": _encoder_slots(vae.encoder), "decoder": _decoder_slots(vae.decoder)}
    for key, value in vae.state_dict().items():
        out[VAE_PREFIX + _original_vae_key(key, slots)] = own[VAE_PREFIX + key] = value

    back = {
        **convert_ltx_transformer_checkpoint_to_diffusers(dict(out)),
        **{VAE_PREFIX + k: v for k, v in convert_ltx_vae_checkpoint_to_diffusers(dict(out)).items()},
    }
    wrong = sorted(set(back) ^ set(own)) + [k for k in own if k in back and back[k] is not own[k]]
    if wrong:
        raise ValueError(
            "diffusers' converter does not map this layout back to the models' keys, so this VAE's block structure "
            f"has no original LTX-Video layout it understands ({len(wrong)} keys differ: {_few(wrong)}); use a VAE "
            "shaped like a released one, e.g. ltx_video.testing.tiny_vae_original_layout()"
        )
    return out


def save_original_checkpoint(
    path: str | os.PathLike,
    transformer: LTXVideoTransformer3DModel,
    vae: AutoencoderKLLTXVideo,
    metadata_config: dict | None = None,
) -> Path:
    """Write :func:`to_original_checkpoint` to ``path`` as safetensors, with metadata ``{"config": json}``.

    ``metadata_config`` is the original-format config (``{"transformer": ..., "vae": ..., "scheduler": ...}``);
    with ``None`` the file has no config metadata (loading it then needs ``config=``).
    """
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {key: value.contiguous() for key, value in to_original_checkpoint(transformer, vae).items()}
    save_file(tensors, str(path), metadata=None if metadata_config is None else {"config": json.dumps(metadata_config)})
    return path


def _encoder_slots(encoder) -> list[str]:
    slots = []
    for i, block in enumerate(encoder.down_blocks):
        if len(block.resnets):
            slots.append(f"down_blocks.{i}")
        if block.downsamplers is not None:
            slots.append(f"down_blocks.{i}.downsamplers.0")
        if getattr(block, "conv_out", None) is not None:
            slots.append(f"down_blocks.{i}.conv_out")
    return slots + ["mid_block"]


def _decoder_slots(decoder) -> list[str]:
    slots = ["mid_block"]
    for i, block in enumerate(decoder.up_blocks):
        if block.conv_in is not None:
            slots.append(f"up_blocks.{i}.conv_in")
        if block.upsamplers is not None:
            slots.append(f"up_blocks.{i}.upsamplers.0")
        if len(block.resnets):
            slots.append(f"up_blocks.{i}")
    return slots


def _original_vae_key(key: str, slots: dict[str, list[str]]) -> str:
    if key == "latents_mean":
        return "per_channel_statistics.mean-of-means"
    if key == "latents_std":
        return "per_channel_statistics.std-of-means"
    part, rest = key.split(".", 1)
    if part == "decoder" and rest.split(".")[0] in ("time_embedder", "scale_shift_table"):
        return f"decoder.last_{rest}"
    block_list = "down_blocks" if part == "encoder" else "up_blocks"
    # The longest slot the key lies in ("down_blocks.0.conv_out" before "down_blocks.0").
    matches = [(len(s), n, s) for n, s in enumerate(slots.get(part, [])) if rest.startswith(s + ".")]
    if not matches:
        return key
    _, index, slot = max(matches)
    inner = rest[len(slot) + 1 :].split(".")
    renamed = []
    for j, name in enumerate(inner):
        if name == "conv" and j > 0 and inner[j - 1] == "conv_shortcut":
            continue
        renamed.append({"resnets": "res_blocks", "norm3": "norm3.norm"}.get(name, name))
    return f"{part}.{block_list}.{index}." + ".".join(renamed)
