"""The VAE config of an original LTX-Video single file (and the error a file that cannot describe its models
raises), from its metadata's ``vae`` section (LTX-Video's
``encoder_blocks`` / ``decoder_blocks`` lists) to diffusers' ``AutoencoderKLLTXVideo`` arguments: each block mapped
exactly, anything it cannot map refused naming what (nothing is guessed)."""

from __future__ import annotations

__all__ = ["ConfigNeededError", "vae_config_from_original"]

_PASS_CONFIG = "pass config= a local diffusers-format folder (with transformer/config.json and vae/config.json)"


class ConfigNeededError(ValueError):
    """The file alone does not tell a model's structure: ``reason`` says why; the message adds the fix (``config=``;
    the CLI's ``--base-model``)."""

    def __init__(self, reason: str):
        super().__init__(f"{reason}; {_PASS_CONFIG}.")
        self.reason = reason


_SPACE = {"compress_space", "compress_all", "compress_all_x_y", "compress_space_res", "compress_all_res"}
_TIME = {"compress_time", "compress_all", "compress_all_x_y", "compress_time_res", "compress_all_res"}
_RES_DOWNSAMPLE = {"compress_space_res": "spatial", "compress_time_res": "temporal", "compress_all_res": "spatiotemporal"}


def vae_config_from_original(original: dict, *, source: str = "the checkpoint") -> dict:
    """diffusers ``AutoencoderKLLTXVideo`` config for LTX-Video's ``CausalVideoAutoencoder`` config (metadata "vae").

    Covers the structures diffusers' VAE has: the 0.9.0 encoder (``res_x`` / ``compress_all`` / ``res_x_y``), the
    0.9.5+ encoder (``res_x`` / ``compress_*_res``), and decoders of ``res_x`` blocks joined by ``compress_all``
    (optionally residual, with a channel ``multiplier``) or, without a multiplier, by ``res_x_y``. Anything else
    raises ``ConfigNeededError`` (a ``ValueError``) asking for ``config=``.
    """

    def fail(reason: str):
        raise ConfigNeededError(f"{source}: the VAE config in its metadata cannot be mapped to diffusers' "
                                f"AutoencoderKLLTXVideo ({reason})")

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
