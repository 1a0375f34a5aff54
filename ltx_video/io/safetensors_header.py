"""A ``.safetensors`` file's tensor names and metadata from its JSON header alone, without torch and without reading
any tensor: what the CLI and the single-file loader check before the weights load (a 13B file is tens of GB)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

__all__ = ["read_safetensors_header", "has_model_config"]


def read_safetensors_header(path: str | Path) -> tuple[list[str], dict[str, str]]:
    """(tensor names, the ``__metadata__`` strings) of a safetensors file; ValueError for a file that is not one."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            if length > min(path.stat().st_size - 8, 100 * 2**20):
                raise ValueError(f"header length {length} does not fit the file")
            header = json.loads(f.read(length))
    except (OSError, struct.error, ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a readable .safetensors file: {error}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path} is not a readable .safetensors file: its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    try:  # the tensors' bytes must all be there: a file cut short by a kill or a full disk is named here
        end = max((int(entry["data_offsets"][1]) for entry in header.values()), default=0)
    except (TypeError, KeyError, IndexError, ValueError):
        raise ValueError(f"{path} is not a readable .safetensors file: its header has no tensor offsets") from None
    size = path.stat().st_size
    if 8 + length + end > size:
        raise ValueError(f"{path} is cut short: its tensors need {8 + length + end} bytes, the file has {size}")
    return list(header), metadata if isinstance(metadata, dict) else {}


def has_model_config(path: str | Path) -> bool:
    """Whether an original LTX-Video checkpoint describes its own models: a metadata ``config`` JSON with a ``vae``
    section (the released 0.9.x files do), so no diffusers folder is needed for their structure."""
    text = read_safetensors_header(path)[1].get("config")
    try:
        config = json.loads(text) if text else None
    except json.JSONDecodeError:
        return False
    return isinstance(config, dict) and bool(config.get("vae"))
