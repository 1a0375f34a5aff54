"""Loading and saving the pipelines: diffusers-format folders (with their generation defaults) and LTX-Video's
original single-file checkpoints."""

from __future__ import annotations

import importlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from ltx_video.pipelines.generation_defaults import GENERATION_DEFAULTS_FILE, GenerationDefaults

logger = logging.getLogger(__name__)

__all__ = ["CONTROL_MODULES", "LoadingMixin"]


def _fp8_to_do(transformer) -> str | None:
    """What ``quantization="fp8"`` leaves to do after loading for a ``transformer=`` passed with it: None when it is
    FP8-quantized already (taken as it is; until 2026-12-08 refused after everything had loaded), else "fp8",
    once the checks of ``enable_fp8`` pass before anything loads. Not a module: diffusers names it."""
    import torch.nn as nn

    from ltx_video.quantization import FP8QuantizationPolicy, is_fp8_quantized
    from ltx_video.quantization.ltx_quantizer import check_quantizable

    model = getattr(transformer, "_orig_mod", transformer)  # a torch.compile wrapper: the model it runs
    if not isinstance(model, nn.Module):
        return "fp8"
    if is_fp8_quantized(model):
        return None
    check_quantizable(model, "from_pretrained", "from_pretrained: the given `transformer`")
    FP8QuantizationPolicy().select(model)  # the layers enable_fp8() will quantize exist
    return "fp8"


def _saved_class(folder: Path) -> str | None:
    """The ``_class_name`` of the module saved in ``folder`` (None if it holds none)."""
    try:
        return json.loads((folder / "config.json").read_text()).get("_class_name")
    except (OSError, ValueError, AttributeError):
        return None


def _saved_timestep_schedule(folder: Path) -> str | None:
    """The ``default_timestep_schedule`` recorded in ``folder``'s model_index.json (None if none)."""
    try:
        schedule = json.loads((folder / "model_index.json").read_text()).get(TIMESTEP_SCHEDULE_KEY)
    except (OSError, ValueError, AttributeError):
        return None  # diffusers names an unreadable index itself
    return schedule if isinstance(schedule, str) else None


def saved_pipeline_settings(folder: Path) -> dict[str, Any]:
    """What a saved folder holds for the pipeline beyond its components, as attributes to set: its
    ``generation_defaults.json`` (None when absent; a broken one is a ValueError naming it) and the
    ``default_timestep_schedule`` in its model_index.json (left out when none was saved). Read before the weights
    load, by ``from_pretrained`` and ``from_single_file(config=folder)`` alike."""
    settings: dict[str, Any] = {"generation_defaults": GenerationDefaults.load(folder)}
    schedule = _saved_timestep_schedule(folder)
    if schedule is not None:
        settings["default_timestep_schedule"] = schedule
    return settings


# The camera LoRA merged into a transformer (load_camera_lora), recorded in its config.json: a private key, which
# diffusers' from_pretrained restores into the config without passing it to __init__.
MERGED_CAMERA_LORA_KEY = "_merged_camera_lora"

# A pipeline's ``default_timestep_schedule``, when set, is saved in model_index.json under this private key (diffusers
# ignores keys starting with "_" when it loads a folder, so LTXConditionPipeline still loads it).
TIMESTEP_SCHEDULE_KEY = "_default_timestep_schedule"

# Learned control modules that live beside a pipeline's diffusers components (not in model_index.json, so the
# folder still loads in diffusers' own LTX pipelines): attribute -> (module, class).
CONTROL_MODULES = {
    "camera_encoder": ("ltx_video.conditioning.camera_encoder", "CameraMotionEncoder"),
    "keyframe_adapter": ("ltx_video.conditioning.multi_keyframe_processor", "KeyframeAdapter"),
}


def _as_dtype(value, name: str):
    """None, a torch.dtype, or its name ("bfloat16", "torch.bfloat16") -> the dtype; else a ValueError naming ``name``."""
    import torch

    if value is None or isinstance(value, torch.dtype):
        return value
    found = getattr(torch, str(value).removeprefix("torch."), None) if isinstance(value, str) else None
    if not isinstance(found, torch.dtype):
        raise ValueError(f"`{name}` must be a torch.dtype or its name: torch.float32, torch.float16, torch.bfloat16 "
                         f"or 'float32', 'float16', 'bfloat16'; got {value!r}.")
    return found


def _load_dtype(value, name: str):
    """``torch_dtype`` / ``dtype`` of ``from_pretrained``: a dtype, its name (as :func:`_as_dtype`) or diffusers'
    dict of them per component; float32, float16 or bfloat16 each (float8 points to ``quantization="fp8"``)."""
    if isinstance(value, dict):
        return {key: _load_dtype(item, f"{name}[{key!r}]") for key, item in value.items()}
    dtype = _as_dtype(value, name)
    if dtype is not None and (not dtype.is_floating_point or dtype.itemsize < 2):
        raise ValueError(f"`{name}` must be torch.float32, torch.float16 or torch.bfloat16, got {dtype} (for FP8 "
                         "transformer weights: quantization='fp8').")
    return dtype


def _check_components_present(folder: Path, kwargs: dict, taken: set[str]) -> None:
    """Each component of ``taken`` (the class's) that model_index.json lists has its subfolder (unless passed in
    ``kwargs`` or listed as None): diffusers' own error named the pipeline folder's missing config.json instead.
    Components the class does not take are diffusers' to ignore, with its warning."""
    index = folder / "model_index.json"
    if not index.is_file():
        return
    try:
        listed = json.loads(index.read_text())
    except (OSError, ValueError):
        return  # diffusers reports an unreadable index itself
    for name, entry in listed.items():
        if name not in taken or name in kwargs or not isinstance(entry, list) or entry[0] is None:
            continue
        if not (folder / name).is_dir():
            raise FileNotFoundError(f"{folder}: component `{name}` ({entry[-1]}, listed in model_index.json) has no "
                                    f"folder {folder / name}; restore it, or pass {name}=... to from_pretrained")


def _own_files_snapshot(repo_id: str, kwargs: dict) -> Path | None:
    """The local snapshot of ``repo_id`` holding this package's own files (``generation_defaults.json``, the control
    modules), fetched or read from the cache as diffusers fetches the components (its download patterns know only
    the components); None when the repo has none or cannot be reached."""
    import os

    from huggingface_hub import snapshot_download

    offline = kwargs.get("local_files_only") or os.environ.get("HF_HUB_OFFLINE", "0").upper() in ("1", "ON", "YES", "TRUE")
    try:
        folder = snapshot_download(repo_id, revision=kwargs.get("revision"), cache_dir=kwargs.get("cache_dir"),
                                   token=kwargs.get("token"), local_files_only=bool(offline),
                                   allow_patterns=[GENERATION_DEFAULTS_FILE, "model_index.json",
                                                   *(f"{n}/*" for n in CONTROL_MODULES)])
    except Exception:  # no such repo, no network, nothing cached: diffusers' own call says what is wrong
        return None
    return Path(folder)


def _activate_beside(transformer, names: list[str]) -> None:
    """Make ``names`` the active adapters of every peft layer of ``transformer``, each at the weight it has: the
    scaling that ``set_adapters`` sets lives per layer and is left alone (``set_adapters`` would reset it)."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    for module in transformer.modules():
        if isinstance(module, BaseTunerLayer):
            module.set_adapter(names)


def _lora_save_refusal(transformer) -> str:
    """save_pretrained's refusal of peft's LoRA layers, telling apart adapters merged by ``fuse_lora()`` (whose
    weights ``unload_lora_weights()`` keeps, as in diffusers) from unmerged ones (which it drops)."""
    from ltx_video.quantization.ltx_quantizer import held_adapters, lora_layers, unmerged_lora_adapters

    held = {name for module in lora_layers(transformer) for name in held_adapters(module)}
    unmerged = unmerged_lora_adapters(transformer)
    fused = sorted(held - unmerged)
    adapter_alone = ("an adapter alone saves with pipe.save_lora_weights(folder, transformer_lora_layers="
                     "peft.get_peft_model_state_dict(pipe.transformer, adapter_name=NAME)), with transformer_lora_"
                     "adapter_metadata=pipe.transformer.peft_config[NAME].to_dict() added to keep a lora_alpha other "
                     "than the rank.")
    if not fused:
        return ("save_pretrained: the transformer holds LoRA adapters (load_lora_weights), which would be saved as "
                "wrapped layers that from_pretrained cannot load: merge them first (pipe.fuse_lora(), then "
                "pipe.unload_lora_weights()) to save the tuned model, or pipe.unload_lora_weights() to save the base "
                f"one; {adapter_alone}")
    dropped = f" and drops the unmerged {sorted(unmerged)}" if unmerged else ""
    return (f"save_pretrained: the transformer holds LoRA adapters merged with fuse_lora() ({fused}), whose peft "
            "layers from_pretrained cannot load: pipe.unload_lora_weights() removes the layers and keeps the merged "
            f"weights{dropped}: saving then saves the tuned model; to save the base one, pipe.unfuse_lora() first, "
            f"then pipe.unload_lora_weights(); {adapter_alone}")


class LoadingMixin:
    """``from_pretrained`` / ``save_pretrained`` / ``from_single_file`` and ``components`` of ``LTXVideoPipeline`` and
    its subclasses (mixed in before diffusers' ``DiffusionPipeline``)."""

    @property
    def components(self) -> dict[str, Any]:
        """diffusers' ``components``, without the latent upsampler when none is set, so they pass both ways:
        ``LTXConditionPipeline(**pipe.components)`` (which has no upsampler) and ``LTXVideoPipeline(**other.components)``."""
        components = super().components
        if components.get("latent_upsampler", False) is None:
            del components["latent_upsampler"]
        return components

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "vae" and value is not None and "video_processor" in self.__dict__:
            # A VAE swapped in later (``pipe.vae = HierarchicalVAE(...)``, ``register_modules``) brings its own
            # compression: the latent grid and the processor follow it, as ``LTXVideoPipeline(**components)`` sets
            # them (they were kept from the VAE the pipeline was built with: a 64x VAE decoded a 32x grid).
            from diffusers.video_processor import VideoProcessor

            before = (self.vae_spatial_compression_ratio, self.vae_temporal_compression_ratio)
            self.vae_spatial_compression_ratio = value.spatial_compression_ratio
            self.vae_temporal_compression_ratio = value.temporal_compression_ratio
            self.video_processor = VideoProcessor(vae_scale_factor=self.vae_spatial_compression_ratio)
            # Settings made for the VAE before: 4K mode chose its path by that VAE's compression (kept while it is
            # the same, e.g. pipe.vae = pipe.vae.to(...)); tiles must divide by the new one (a call found out only
            # after denoising).
            changed = before != (self.vae_spatial_compression_ratio, self.vae_temporal_compression_ratio)
            if changed and getattr(self, "four_k_mode", None) is not None:
                self.disable_4k_mode()
                logger.warning("pipe.vae was replaced: 4K mode is off; call enable_4k_mode() again for this VAE.")
            tiling = getattr(self, "vae_tiling", None)
            if tiling is not None:
                try:
                    tiling.check(self.vae_spatial_compression_ratio, self.vae_temporal_compression_ratio)
                except ValueError as error:
                    self.vae_tiling = None
                    logger.warning(f"pipe.vae was replaced: its VAE tiling is off ({error}); call "
                                   "enable_vae_tiling() again for this VAE.")

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """diffusers' ``from_pretrained``; a local path may be a ``Path``, and a missing one is named in the error.

        Any diffusers-format LTX-Video folder loads (``LTXPipeline``, ``LTXConditionPipeline``, ours).
        ``quantization="fp8"`` quantizes the transformer's block weights after loading (``enable_fp8()``); a given
        ``transformer=`` that is FP8-quantized already is used as it is (as diffusers uses a passed component), one
        that cannot be quantized is refused before anything loads.
        ``torch_dtype`` / ``dtype`` may be a dtype's name ("bfloat16"), as in ``from_single_file``.
        ``camera_encoder=`` / ``keyframe_adapter=`` replace the folder's learned control modules as diffusers'
        component keywords do (None: none is loaded). A ``default_timestep_schedule`` saved with the pipeline is
        set again.
        """
        quantization = kwargs.pop("quantization", None)
        if quantization not in (None, "fp8"):
            raise ValueError(f"`quantization` must be None or 'fp8', got {quantization!r}.")
        if quantization == "fp8" and "transformer" in kwargs and kwargs["transformer"] is None:
            raise ValueError("`quantization='fp8'` quantizes the transformer, and transformer=None loads none: "
                             "pass one of them.")
        if quantization == "fp8" and kwargs.get("transformer") is not None:
            quantization = _fp8_to_do(kwargs["transformer"])
        for key in ("torch_dtype", "dtype"):
            if key in kwargs:
                kwargs[key] = _load_dtype(kwargs[key], key)
        given_control = {key: kwargs.pop(key) for key in CONTROL_MODULES if key in kwargs}
        for key, module in given_control.items():  # checked as diffusers checks a passed component's class
            module_path, class_name = CONTROL_MODULES[key]
            if module is not None and not isinstance(module, getattr(importlib.import_module(module_path), class_name)):
                raise ValueError(f"`{key}` must be a {class_name} or None, got {type(module).__name__}.")
        name = str(pretrained_model_name_or_path)
        local = Path(name).expanduser()
        if local.is_file():
            raise ValueError(f"from_pretrained loads a diffusers-format folder (with model_index.json), and {name} is a "
                             f"file: for an original LTX-Video .safetensors checkpoint use {cls.__name__}.from_single_file.")
        looks_local = isinstance(pretrained_model_name_or_path, Path) or name.startswith((".", "/", "~")) or name.count("/") > 1
        if looks_local and not local.is_dir():
            raise FileNotFoundError(f"model folder not found: {name}")
        if local.is_dir():
            folder = local
            _check_components_present(folder, kwargs, set(cls._get_signature_keys(cls)[0]))
        else:  # a repo id: this package's own files of its snapshot, which diffusers' download leaves out
            folder = _own_files_snapshot(name, kwargs)
        # a broken generation_defaults.json fails before the weights load
        settings = saved_pipeline_settings(folder) if folder is not None else {"generation_defaults": None}
        pipe = super().from_pretrained(str(local) if looks_local else name, **kwargs)
        for key, value in settings.items():
            setattr(pipe, key, value)
        if folder is not None:
            pipe.load_control_modules(folder, skip=tuple(given_control))
        for key, module in given_control.items():
            setattr(pipe, key, module)
        if quantization == "fp8":
            pipe.enable_fp8()
        return pipe

    @classmethod
    def from_pipe(cls, pipeline, **kwargs):
        """diffusers' ``from_pipe`` (the same components, another class), keeping what is not a component: the
        source's :attr:`generation_defaults` (the built-in model's 64 x 64 size, steps and guidance), a
        ``default_timestep_schedule`` set on it, its learned control modules, its VAE tiling and 4K mode, and
        (between audio-video pipelines) audio generation turned off."""
        pipe = super().from_pipe(pipeline, **kwargs)
        pipe.generation_defaults = getattr(pipeline, "generation_defaults", None)
        if "default_timestep_schedule" in vars(pipeline):
            pipe.default_timestep_schedule = pipeline.default_timestep_schedule
        for name in CONTROL_MODULES:
            if getattr(pipeline, name, None) is not None and hasattr(type(pipe), name):
                setattr(pipe, name, getattr(pipeline, name))
        # Settings a diffusers user expects to travel with the shared modules (diffusers keeps the VAE's own tiling
        # flag on the module): this pipeline's tiled decode while the VAE is the same one, 4K mode while its VAE and
        # upsampler are, and audio generation turned off. A replaced module starts without them (they were checked
        # against the old one).
        same_vae = pipe.vae is getattr(pipeline, "vae", None)
        same_upsampler = getattr(pipe, "latent_upsampler", None) is getattr(pipeline, "latent_upsampler", None)
        names = ("vae_tiling",) * same_vae + ("four_k_mode", "_tiling_before_4k") * (same_vae and same_upsampler)
        for name in names:
            if name in vars(pipeline):
                setattr(pipe, name, getattr(pipeline, name))
        if "audio_generation_enabled" in vars(pipeline) and "audio_generation_enabled" in vars(pipe):
            pipe.audio_generation_enabled = pipeline.audio_generation_enabled and pipe.audio_vae is not None
        return pipe

    def save_pretrained(self, save_directory, *args, **kwargs) -> None:
        """diffusers' ``save_pretrained``, plus ``generation_defaults.json`` when the pipeline has
        :attr:`generation_defaults`, so ``from_pretrained`` and ``ltx-video generate --model`` use them. A
        transformer that diffusers cannot save as one that loads back is refused before anything is written."""
        from ltx_video.attention.grouped_query import check_no_grouped_heads
        from ltx_video.quantization import is_fp8_quantized
        from ltx_video.quantization.ltx_quantizer import empty_lora_layers, has_lora_layers

        transformer = getattr(self, "transformer", None)
        if transformer is not None and is_fp8_quantized(transformer):
            transformer.save_pretrained()  # its refusal, naming save_fp8; nothing of the pipeline written yet
        if transformer is not None:
            check_no_grouped_heads(transformer)
        if transformer is not None and (empty := empty_lora_layers(transformer)):  # delete_adapters keeps the wrappers
            raise ValueError(f"save_pretrained: the transformer holds {empty} LoRA layers of "
                             "peft with no adapter left (delete_adapters keeps the layers), which would be saved as "
                             "wrapped layers that from_pretrained cannot load: remove them with "
                             "pipe.unload_lora_weights(), which leaves the output as it is, then save.")
        if transformer is not None and has_lora_layers(transformer):
            raise ValueError(_lora_save_refusal(transformer))
        # This package's own files first: diffusers' save_pretrained uploads the folder at its end (push_to_hub=True),
        # which then holds them too.
        Path(save_directory).mkdir(parents=True, exist_ok=True)
        # (no variant: the modules are small, and they load back without one whatever the call's variant)
        module_kwargs = {k: kwargs[k] for k in ("safe_serialization",) if k in kwargs}
        for name, (_, class_name) in CONTROL_MODULES.items():
            module, folder = getattr(self, name, None), Path(save_directory) / name
            if module is not None:
                module.save_pretrained(folder, **module_kwargs)
            elif _saved_class(folder) == class_name:  # an earlier save's, which from_pretrained would load back
                shutil.rmtree(folder)
        stale = Path(save_directory) / GENERATION_DEFAULTS_FILE
        if self.generation_defaults is not None:
            self.generation_defaults.save(save_directory)
        elif stale.is_file():  # left by an earlier save of another pipeline into the same folder
            stale.unlink()
        # A schedule set on the pipeline changes its videos (diffusers' LTXPipeline's "shifted"), so it is saved with
        # the components (since 2026-12-07; it was kept by from_pipe only); the class default is not written.
        schedule = vars(self).get("default_timestep_schedule", type(self).default_timestep_schedule)
        if schedule != type(self).default_timestep_schedule or TIMESTEP_SCHEDULE_KEY in self.config:
            self.register_to_config(**{TIMESTEP_SCHEDULE_KEY: schedule})
        super().save_pretrained(save_directory, *args, **kwargs)

    def load_control_modules(self, folder, skip: tuple[str, ...] = ()) -> None:
        """The optional learned control modules saved beside the components (``camera_encoder/``,
        ``keyframe_adapter/``), on the transformer's device and dtype, except those named in ``skip``; see
        docs/control.md."""
        transformer = getattr(self, "transformer", None)
        for name, (module_path, class_name) in CONTROL_MODULES.items():
            if name not in skip and (Path(folder) / name / "config.json").is_file():
                if transformer is None:  # transformer=None (to encode prompts only): nothing for them to steer
                    continue
                cls = getattr(importlib.import_module(module_path), class_name)
                module = cls.from_pretrained(Path(folder) / name, torch_dtype=transformer.dtype)
                setattr(self, name, module.to(transformer.device).eval())

    def load_camera_lora(self, folder, *, fuse: bool = True) -> None:
        """A camera fine-tune saved as a LoRA beside its motion encoder (``scripts/extract_lora.py``): the folder's
        ``pytorch_lora_weights.safetensors`` through diffusers' ``load_lora_weights`` (needs peft), its
        ``camera_encoder/`` as :attr:`camera_encoder` (so ``camera=`` takes the learned path, writing the camera
        phrase into the prompt as the encoder's config says), and the prompt grammar of its
        ``generation_defaults.json`` when it has one. The encoder (its weights, and its width against the
        transformer's) and the grammar are read before the LoRA is loaded: a folder that fails leaves the pipeline
        as it was (since 2026-12-07; a merge came first, and a retry was refused as a second merge).

        ``fuse=True`` merges the LoRA into the transformer's weights (no cost per step; every later call, with a
        camera or not, runs the fine-tuned model). A merge is for good, and recorded in the transformer's config
        (``_merged_camera_lora``, saved with it): a second merged camera LoRA is refused, also after
        ``save_pretrained`` / ``from_pretrained`` (it would add to the first; load the base model again to switch),
        and so is a merge while other adapters are loaded (unloading the camera's layers would take theirs too).

        ``fuse=False`` keeps it as the adapter ``"camera"``, active beside the adapters active before, at the weights
        ``set_adapters`` gave them (since 2026-12-07; diffusers' load left ``"camera"`` the only active one).
        ``disable_lora()`` / ``enable_lora()`` and ``set_adapters`` switch it; a LoRA loaded after it becomes the
        only active adapter, as in diffusers (with a warning): ``set_adapters([name, "camera"])`` runs both."""
        from ltx_video.conditioning.camera_encoder import CameraMotionEncoder

        folder = Path(folder)
        weights = folder / "pytorch_lora_weights.safetensors"
        if not weights.is_file() or not (folder / "camera_encoder" / "config.json").is_file():
            raise FileNotFoundError(f"load_camera_lora: {folder} needs pytorch_lora_weights.safetensors and "
                                    "camera_encoder/ (written by scripts/extract_lora.py)")
        merged = self.transformer.config.get(MERGED_CAMERA_LORA_KEY)
        if fuse and merged is not None:
            raise ValueError(f"load_camera_lora: the camera LoRA of {merged} is already merged into the transformer "
                             "(recorded in its config, also when saved), and a second merge would add to it; load "
                             "the base model (without the merge) again to switch, or pass fuse=False to keep a camera "
                             "LoRA as an adapter.")
        others = [name for names in self.get_list_adapters().values() for name in names] if fuse else []
        if others:
            raise ValueError(f"load_camera_lora: fuse=True unloads every adapter's layers after the merge, and "
                             f"{sorted(set(others))} are loaded: pass fuse=False, or load them after the camera LoRA.")
        encoder = CameraMotionEncoder.from_pretrained(folder / "camera_encoder", torch_dtype=self.transformer.dtype)
        # the encoder's embeddings are added to proj_in's output: another width failed only at the next camera= call
        width = self.transformer.proj_in.out_features
        if encoder.config.inner_dim != width:
            raise ValueError(f"load_camera_lora: the motion encoder of {folder / 'camera_encoder'} is "
                             f"{encoder.config.inner_dim} wide and this transformer {width}: it belongs to another "
                             "model.")
        grammar = None
        if (folder / GENERATION_DEFAULTS_FILE).is_file() and self.generation_defaults is not None:
            grammar = GenerationDefaults.load(folder).prompt_grammar
        active = [] if fuse or not self.get_list_adapters() else self.get_active_adapters()
        self.load_lora_weights(weights, adapter_name="camera")
        if fuse:
            self.fuse_lora(adapter_names=["camera"])
            self.unload_lora_weights()  # the merged weights stay, the adapter layers go
            # in the transformer's config, so it is saved with the merged weights and a reloaded pipeline refuses a
            # second merge too (since 2026-12-07; an attribute before, lost by save_pretrained)
            self.transformer.register_to_config(**{MERGED_CAMERA_LORA_KEY: str(folder)})
        elif active:
            _activate_beside(self.transformer, [*active, "camera"])
        self.camera_encoder = encoder.to(self.transformer.device).eval()
        if grammar is not None:
            from dataclasses import replace

            self.generation_defaults = replace(self.generation_defaults, prompt_grammar=grammar)

    @classmethod
    def from_single_file(
        cls, path, *, config=None, text_encoder=None, tokenizer=None, scheduler=None, torch_dtype=None,
        quantization=None, dtype=None, vae=None, latent_upsampler=None, local_files_only=None,
    ):
        """Load an original LTX-Video single-file ``.safetensors`` checkpoint (transformer + VAE), offline.

        The T5 text encoder and tokenizer are not in the file: pass them, or ``config=`` a local diffusers-format
        folder with ``text_encoder/`` and ``tokenizer/`` (its model configs are then used too, and, as
        ``from_pretrained(folder)`` restores them, its ``generation_defaults.json`` and saved
        ``default_timestep_schedule``). ``quantization="fp8"``
        keeps an fp8 file's E4M3 weights as they are (``FP8Linear``, unit scales) and quantizes the rest of the
        transformer blocks per channel; without it they are cast to ``torch_dtype``. Details and errors:
        :mod:`ltx_video.pipelines.single_file`. As in diffusers 0.42, ``dtype=`` is ``torch_dtype``'s new name,
        ``vae=`` / ``latent_upsampler=`` replace those components, and ``local_files_only`` is accepted (every
        file is local here).

        Example:
            >>> pipe = LTXVideoPipeline.from_single_file(
            ...     "/models/ltxv-2b-0.9.8-distilled.safetensors", config="/models/LTX-Video-0.9.8", torch_dtype=torch.bfloat16
            ... )
        """
        import torch

        from ltx_video.pipelines.single_file import load_single_file_pipeline_components

        if quantization not in (None, "fp8"):
            raise ValueError(f"`quantization` must be None or 'fp8', got {quantization!r}.")
        dtype, torch_dtype = (_as_dtype(value, name) for value, name in ((dtype, "dtype"), (torch_dtype, "torch_dtype")))
        if dtype is not None and torch_dtype is not None and dtype != torch_dtype:
            raise ValueError(f"`dtype` ({dtype}) and `torch_dtype` ({torch_dtype}) differ: give one.")
        torch_dtype = dtype if dtype is not None else torch_dtype
        # (since 2026-12-07: float64 passed here, then was refused as the text encoder's dtype)
        if torch_dtype is not None and torch_dtype not in (torch.float32, torch.float16, torch.bfloat16):
            name = "dtype" if dtype is not None else "torch_dtype"
            raise ValueError(f"`{name}` must be torch.float32, torch.float16 or torch.bfloat16, got {torch_dtype} "
                             "(for an fp8 file's weights as they are: quantization='fp8').")
        # The folder's pipeline settings, as from_pretrained(folder) restores them (since 2026-12-07: left out)
        folder = Path(config).expanduser() if config is not None else None
        settings = saved_pipeline_settings(folder) if folder is not None and folder.is_dir() else {}
        components = load_single_file_pipeline_components(
            path, config=config, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler,
            torch_dtype=torch_dtype, vae=vae, latent_upsampler=latent_upsampler,  # a given vae: the file's is not read
        )
        pipe = cls(**components)
        for key, value in settings.items():
            setattr(pipe, key, value)
        if quantization == "fp8":  # an fp8 file's e4m3 weights are kept exactly (unit scales)
            pipe.enable_fp8()
        return pipe
