"""``save_fp8`` / ``load_fp8``: an FP8-quantized transformer to and from one ``.safetensors`` file (float8 weights,
their float32 scales and any static activation scales), with metadata naming the ``FP8Linear`` layers. Given a
folder (one that exists, or a path ending in a separator), they write and read ``transformer.fp8.safetensors`` in it.

Keys are the stock model's: a ``torch.compile`` wrapper (``OptimizedModule``) names its modules ``_orig_mod.*``, so
``save_fp8`` writes the keys of the model it runs, and ``load_fp8`` loads into a wrapper's model and reads files
whose keys still carry the prefix (written before 2026-12-07).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch.nn as nn

from ltx_video.quantization.ltx_quantizer import FP8Linear, _refuse_save_pretrained, _require_float8, is_fp8_quantized

__all__ = ["FP8_WEIGHTS_NAME", "load_fp8", "save_fp8"]

FORMAT = "fp8_e4m3fn_per_channel"
FP8_WEIGHTS_NAME = "transformer.fp8.safetensors"  # the file in a folder given as the path (not a diffusers variant name)
_WRAPPER = "_orig_mod"  # torch.compile's OptimizedModule holds the compiled model under this name


def _stock_name(name: str) -> str:
    """``name`` without the path components that torch.compile wrappers add."""
    return ".".join(part for part in name.split(".") if part != _WRAPPER)


def _file_path(path: str | Path) -> Path:
    """``path``, or ``FP8_WEIGHTS_NAME`` in it when it names a folder: one that exists, or a path ending in a
    separator (until 2026-12-08 ``"out/"`` wrote a file named ``out`` and an existing folder failed in safetensors)."""
    folder = str(path).endswith(tuple(sep for sep in (os.sep, os.altsep) if sep))
    path = Path(path).expanduser()
    return path / FP8_WEIGHTS_NAME if folder or path.is_dir() else path


def save_fp8(model: nn.Module, path: str | Path) -> Path:
    """Write ``model``'s state dict (float8 weights and their scales included) to a ``.safetensors`` file; returns
    its path.

    ``path`` is the file, or a folder (one that exists, or a path ending in a separator, made if missing) to write
    ``transformer.fp8.safetensors`` in. The metadata lists the ``FP8Linear`` modules, so ``load_fp8`` can rebuild
    them on a fresh model. A ``torch.compile`` wrapper saves the keys of the model it runs (no ``_orig_mod.``
    prefix).
    """
    from safetensors.torch import save_file

    names = [_stock_name(name) for name, m in model.named_modules() if isinstance(m, FP8Linear)]
    if not names:
        raise ValueError(f"{type(model).__name__} has no FP8Linear layers: quantize_fp8 it first.")
    path = _file_path(path)
    state = {_stock_name(k): v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    metadata = {"ltx_video_quantization": json.dumps({"format": FORMAT, "modules": names})}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path), metadata=metadata)
    return path


def load_fp8(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a ``save_fp8`` file into a full-precision ``model`` of the same config (bit-exact), in place.

    ``path`` is the file, or the folder ``save_fp8`` wrote ``transformer.fp8.safetensors`` in. ``model`` may be a
    ``torch.compile`` wrapper (its model is loaded; the wrapper recompiles on its next call), and the file's keys may
    carry a wrapper's ``_orig_mod.`` prefix. Returns ``model``.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    _require_float8()
    path = _file_path(path)
    if not path.is_file():
        in_folder = f" (the folder holds no {FP8_WEIGHTS_NAME})" if path.name == FP8_WEIGHTS_NAME else ""
        raise FileNotFoundError(f"FP8 checkpoint not found: {path}{in_folder}")
    with safe_open(str(path), framework="pt") as f:
        info = json.loads((f.metadata() or {}).get("ltx_video_quantization", "null") or "null")
    if not info or info.get("format") != FORMAT or not info.get("modules"):
        raise ValueError(f"{path} was not written by save_fp8 (no 'ltx_video_quantization' metadata listing its "
                         "FP8 layers).")
    wrapper, model = model, getattr(model, _WRAPPER, model)
    if is_fp8_quantized(model):
        raise ValueError(f"{type(model).__name__} is already FP8-quantized; load into a full-precision model.")
    names = [_stock_name(name) for name in info["modules"]]
    linears = {name for name, module in model.named_modules() if isinstance(module, nn.Linear)}
    unfit = [name for name in names if name not in linears]
    if unfit:
        raise ValueError(f"{path} does not fit {type(model).__name__} of this config: it holds {len(unfit)} FP8 layers "
                         f"the model has no nn.Linear for, e.g. {unfit[:3]}")
    state = {_stock_name(k): v for k, v in load_file(str(path)).items()}
    # Check every key and shape before changing anything, so a wrong file leaves the model as it was.
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    for name in names:
        linear = model.get_submodule(name)
        expected[f"{name}.weight_scale"] = (linear.out_features,)
        if f"{name}.input_scale" in state:  # static activation scales (optional)
            expected[f"{name}.input_scale"] = (1,)
    found = {k: tuple(v.shape) for k, v in state.items()}
    if found != expected:
        wrong = sorted(set(found) ^ set(expected)) + sorted(
            k for k in found.keys() & expected.keys() if found[k] != expected[k]
        )
        raise ValueError(
            f"{path} does not fit {type(model).__name__} of this config: {len(wrong)} keys differ, e.g. {wrong[:5]}"
        )
    for name in names:
        linear = model.get_submodule(name)
        shell = FP8Linear(
            linear.in_features,
            linear.out_features,
            linear.bias is not None,
            device=linear.weight.device,
            dtype=linear.weight.dtype,
        )
        if f"{name}.input_scale" in state:
            shell.set_input_scale(1.0)  # a placeholder that load_state_dict overwrites
        parent, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, child, shell)
    model.load_state_dict(state, strict=True)  # copies onto each tensor's own device
    _refuse_save_pretrained(model)
    return wrapper
