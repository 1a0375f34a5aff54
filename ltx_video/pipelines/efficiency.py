"""Pipeline switches for speed and memory: attention backends, feed-forward chunking, FP8 weights.

VAE tiling: ``pipe.enable_vae_tiling(TilingConfig(...))`` decodes tile by tile into one output buffer
(:mod:`ltx_video.models.autoencoders.tiling`: memory bounded by the tile, time tiles too); diffusers' own
``pipe.vae.enable_tiling()`` still works, since the pipelines decode through ``vae.decode``.

Gradient checkpointing is for training: ``pipe.transformer.enable_gradient_checkpointing()`` (or
``gradient_checkpointing: true`` in a training config).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import torch

from ltx_video.attention import BlockSparsePattern, disable_efficient_attention, enable_efficient_attention
from ltx_video.models.autoencoders.tiling import TilingConfig, checked_tiling, tiled_decode
from ltx_video.models.memory import disable_feed_forward_chunking, enable_feed_forward_chunking
from ltx_video.quantization import FP8QuantizationPolicy, is_fp8_quantized, quantize_fp8
from ltx_video.quantization.ltx_quantizer import check_quantizable, has_lora_layers
from ltx_video.utils.compile import prepare_cpu_inductor

logger = logging.getLogger(__name__)


def _prompt_list(prompts: str | Sequence[str], argument: str) -> list[str]:
    """One prompt (a str, as diffusers' ``prompt=``) or a sequence of them, as a list: iterating a str would run one
    generation per character."""
    if isinstance(prompts, str):
        return [prompts]
    if not isinstance(prompts, Sequence) or not all(isinstance(p, str) for p in prompts):
        raise ValueError(f"`{argument}` must be a prompt (str) or a list of prompts, got {prompts!r:.100}.")
    return list(prompts)


#: Key prefixes of a LoRA state dict that name a component (or another format): never read as bare peft keys.
_COMPONENT_PREFIXES = ("transformer.", "text_encoder.", "vae.", "unet.", "diffusion_model.", "lora_unet",
                       "lora_te", "base_model.")
#: What peft's ``get_peft_model_state_dict`` writes after a layer's module name (diffusers' older names are converted
#: to these first, as ``load_lora_adapter`` does): any other key of the transformer's is a LoRA of another model.
_LORA_PARAMETERS = frozenset({"lora_A.weight", "lora_B.weight", "lora_B.bias", "lora_magnitude_vector",
                              "lora_embedding_A", "lora_embedding_B"})
_LORA_KEY = re.compile(r"(?P<module>.+?)\.(?P<parameter>lora_.*)")
#: torch.compile's wrapper (``OptimizedModule._orig_mod``) in a module path, and peft's default adapter name in a
#: peft-wrapped model's own ``state_dict()`` keys: neither is part of a layer's name, so both are dropped.
_ORIG_MOD = re.compile(r"(?:^|(?<=\.))_orig_mod\.")
_DEFAULT_ADAPTER = re.compile(r"\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B)\.default(?=\.|$)"
                              r"|\.(lora_magnitude_vector)\.default\.weight$")


def _clean_lora_keys(state: dict) -> dict:
    """The state dict with torch.compile's ``_orig_mod.`` and peft's ``.default`` adapter name taken out of its keys:
    ``get_peft_model_state_dict`` of a compiled transformer, or the ``lora_`` keys of a peft-wrapped model's
    ``state_dict()``, then read as the same LoRA saved plainly (diffusers found no layer for them)."""
    clean = {}
    for key, value in state.items():
        name = _DEFAULT_ADAPTER.sub(lambda m: f".{m[1] or m[2]}", _ORIG_MOD.sub("", key)) if isinstance(key, str) else key
        if name in clean:
            raise ValueError(f"load_lora_weights: `pretrained_model_name_or_path_or_dict` holds {key!r} and another "
                             f"key for the same parameter, {name!r} (torch.compile's `_orig_mod.` or peft's `.default` "
                             "left out): keep one of them.")
        clean[name] = value
    return clean


def _check_lora_keys(state_dict: dict, transformer: torch.nn.Module) -> None:
    """Refuse, before peft sees it, a LoRA none of whose ``transformer.`` keys names a layer of ``transformer``, or
    one with a key naming a layer with another parameter than peft's (an adapter name inside it): peft made an adapter
    for them and left its weights on the meta device (NaN or random output). Keys of layers the model lacks beside
    keys that match load as diffusers loads them (the matching ones, with peft's "unexpected keys" warning)."""
    from diffusers.utils import convert_unet_state_dict_to_peft

    model = getattr(transformer, "_orig_mod", transformer)  # after torch.compile: diffusers loads into the model
    state = {k.removeprefix("transformer."): v for k, v in state_dict.items() if k.startswith("transformer.")}
    if state and "lora_A" not in next(iter(state)):  # diffusers' reading of its older names (load_lora_adapter)
        state = convert_unet_state_dict_to_peft(state)
    modules = dict(model.named_modules())
    matches = [_LORA_KEY.fullmatch(key) for key in state]
    renamed = [m.string for m in matches if m and m["module"] in modules and m["parameter"] not in _LORA_PARAMETERS]
    unmatched = [m.string for m in matches if m and m["module"] not in modules]
    if renamed or (unmatched and len(unmatched) == sum(m is not None for m in matches)):
        first = (renamed or unmatched)[0]
        raise ValueError(f"load_lora_weights: `pretrained_model_name_or_path_or_dict` holds {len(renamed or unmatched)} "
                         f"of {len(state)} transformer LoRA keys that name no LoRA layer of its {type(model).__name__} "
                         f"(first: {first!r}; expected `<module>.lora_A.weight` / `.lora_B.weight` with a module of "
                         "the model): a LoRA of another model, or keys renamed (peft's adapter name inside them: take "
                         "them with get_peft_model_state_dict(model, adapter_name=...)); nothing was loaded.")


class EfficiencyMixin:
    """Methods shared by ``LTXVideoPipeline`` and ``LTXAudioVideoPipeline`` (they act on ``self.transformer``
    and, for tiling, on how ``self.vae`` decodes)."""

    #: Set by :meth:`enable_vae_tiling` (and ``enable_4k_mode``); None decodes the whole video at once.
    vae_tiling: TilingConfig | None = None

    def enable_vae_tiling(self, tiling: TilingConfig | None = None) -> None:
        """Decode tile by tile (default ``TilingConfig()``), checked against the VAE's compression now."""
        self.vae_tiling = checked_tiling(tiling, self.vae_spatial_compression_ratio, self.vae_temporal_compression_ratio)

    def disable_vae_tiling(self) -> None:
        self.vae_tiling = None

    def vae_decode(self, latents: torch.Tensor, timestep: torch.Tensor | None) -> torch.Tensor:
        """De-normalised latents (B, C, F, h, w) -> pixels (B, 3, F', H, W) in the VAE's dtype, tiled when
        ``vae_tiling`` is set. ``timestep``: the decode timestep, one per video (B,), or None.

        With diffusers' ``pipe.vae.enable_slicing()`` the videos decode one at a time, each with its own timestep
        (exactly as decoding it alone), into one output buffer: peak memory is the video plus one video's decode.
        (since 2026-12-07: diffusers' ``AutoencoderKLLTXVideo.decode`` pairs the slices of a batch with the wrong
        timestep rows, ``for z, t in (z.split(1), temb.split(1))``, and failed after the whole denoising with more
        than one video; a batch of one never takes that branch.)
        """
        batch = latents.shape[0]
        if not (getattr(self.vae, "use_slicing", False) and batch > 1):
            return self._vae_decode_batch(latents, timestep)
        per_video = timestep is not None and timestep.ndim > 0
        out = None
        for k in range(batch):
            pixels = self._vae_decode_batch(latents[k : k + 1], timestep[k : k + 1] if per_video else timestep)
            if out is None:
                out = pixels.new_empty((batch, *pixels.shape[1:]))
            out[k : k + 1] = pixels
            del pixels
        return out

    def _vae_decode_batch(self, latents: torch.Tensor, timestep: torch.Tensor | None) -> torch.Tensor:
        decode = lambda z: self.vae.decode(z, timestep, return_dict=False)[0]  # noqa: E731
        if self.vae_tiling is None:
            return decode(latents)
        return tiled_decode(
            decode, latents, self.vae_tiling, spatial_ratio=self.vae_spatial_compression_ratio,
            temporal_ratio=self.vae_temporal_compression_ratio,
            progress=dict(getattr(self, "_progress_bar_config", {})),  # set_progress_bar_config, as diffusers' bars
        )

    def enable_efficient_attention(
        self,
        backend: str = "auto",
        *,
        pattern: BlockSparsePattern | None = None,
        chunk_size: int | None = None,
        tile_shape: tuple[int, int, int] | None = None,
        min_tokens: int | None = None,
        dense_steps: int | float | None = None,
        dense_blocks: tuple[int, ...] | None = None,
    ) -> str:
        """Pick the transformer's attention backend; returns the diffusers backend name that was set.

        ``"auto"``: flash-attn when installed on a CUDA machine, else PyTorch SDPA. ``"sdpa"``, ``"flash"``
        (a clear error without flash-attn), ``"ltx_block_sparse"`` (exact attention restricted to
        ``pattern``, tokens grouped in 3D tiles of ``tile_shape``), ``"ltx_chunked"`` (exact, memory
        O(N x chunk_size)). ``min_tokens``, ``dense_steps`` and ``dense_blocks`` say where block-sparse
        runs dense instead (:class:`~ltx_video.attention.backends.EfficientAttentionConfig`; ``dense_steps`` is a
        step count or a float in [0, 1], a fraction of the run's steps). See
        :mod:`ltx_video.attention.backends`.

        Example:
            >>> pipe.enable_efficient_attention("ltx_block_sparse", pattern=BlockSparsePattern(block_size=64, global_stride=4))
            'ltx_block_sparse'
        """
        return enable_efficient_attention(
            self.transformer, backend, pattern=pattern, chunk_size=chunk_size, tile_shape=tile_shape,
            min_tokens=min_tokens, dense_steps=dense_steps, dense_blocks=dense_blocks,
        )

    def disable_efficient_attention(self) -> None:
        """Back to diffusers' default attention backend (SDPA unless ``DIFFUSERS_ATTN_BACKEND`` says otherwise)."""
        disable_efficient_attention(self.transformer)

    def enable_compile(self, **compile_kwargs) -> None:
        """Compile the transformer's repeated blocks with ``torch.compile`` (regional compilation: diffusers'
        ``compile_repeated_blocks``): one compiled block serves every block, so compiling takes seconds where
        the whole model would take minutes. ``compile_kwargs`` go to ``torch.compile`` (``mode=``,
        ``dynamic=``, ``fullgraph=``, ...).

        It works with every attention backend of this library, FP8 weights and the audio-video transformer:
        none breaks the graph inside a block (tested with ``torch._dynamo.explain``). Block-sparse attention's
        ``dense_steps`` / ``dense_blocks`` switch diffusers' per-block backends, so a compiled block sees one
        of two settings (one recompilation, at the end of the dense steps). Call it after the
        ``enable_*`` methods that change the model; a new size or frame count recompiles (``dynamic=True``
        avoids that at some cost in speed).

        Example:
            >>> pipe.enable_efficient_attention("ltx_block_sparse")
            >>> pipe.enable_compile()
        """
        prepare_cpu_inductor()
        self.transformer.compile_repeated_blocks(**compile_kwargs)

    def disable_compile(self) -> None:
        """Back to eager blocks."""
        for module in self.transformer.modules():
            if getattr(module, "_compiled_call_impl", None) is not None:
                module._compiled_call_impl = None

    def enable_feed_forward_chunking(self, chunk_size: int = 4096) -> None:
        """Run the transformer's feed-forwards ``chunk_size`` tokens at a time: less peak memory, the same output
        in float32 (in bfloat16 other matmul blockings round differently: up to about 0.1 after a few steps)."""
        enable_feed_forward_chunking(self.transformer, chunk_size)

    def disable_feed_forward_chunking(self) -> None:
        disable_feed_forward_chunking(self.transformer)

    def enable_fp8(
        self,
        policy: FP8QuantizationPolicy | None = None,
        *,
        calibration_prompts: str | Sequence[str] | None = None,
        **calibration_kwargs,
    ) -> list[str]:
        """Quantize the transformer's block weights to FP8 E4M3 (per-channel scales); returns the layer names.

        ``policy`` defaults to nearest rounding, which needs no data. A policy with ``rounding="gptq"`` or
        ``keep_fraction`` needs ``calibration_prompts`` (one prompt or a list): the pipeline generates them (with
        ``calibration_kwargs``, e.g. a small ``height``/``width``, ``num_inference_steps=4`` or a ``generator``: see
        :meth:`record_transformer_inputs`) and records the transformer's inputs at every step. See :mod:`ltx_video.quantization.ltx_quantizer`.

        Example:
            >>> pipe.enable_fp8(FP8QuantizationPolicy(rounding="gptq", keep_fraction=0.025),
            ...                 calibration_prompts=["a red ball bounces", "a blue square bounces"])
        """
        policy = FP8QuantizationPolicy() if policy is None else policy
        if not isinstance(policy, FP8QuantizationPolicy):
            raise ValueError(f"enable_fp8: `policy` must be an FP8QuantizationPolicy, got {type(policy).__name__}.")
        # after pipe.transformer = torch.compile(pipe.transformer): quantize the model the wrapper runs (since
        # 2026-12-07; its "_orig_mod."-prefixed names matched no policy pattern); the wrapper recompiles on its next call
        transformer = getattr(self.transformer, "_orig_mod", self.transformer)
        check_quantizable(transformer, "enable_fp8", "enable_fp8: the transformer")  # before any calibration run
        policy.select(transformer)  # a policy naming modules the model lacks fails before any calibration run
        if calibration_prompts is not None:
            calibration_prompts = _prompt_list(calibration_prompts, "calibration_prompts")
        calibration = None
        if policy.needs_calibration:
            if not calibration_prompts:
                raise ValueError(f"enable_fp8: this policy ({policy.calibration_reason}) needs `calibration_prompts`.")
            calibration = self.record_transformer_inputs(calibration_prompts, **calibration_kwargs)
        elif calibration_prompts:
            raise ValueError("enable_fp8: `calibration_prompts` are used only by a policy that needs calibration (GPTQ "
                             "rounding, keep_fraction > 0 or static activations); this one needs none.")
        return quantize_fp8(transformer, policy, calibration=calibration)

    @classmethod
    def lora_state_dict(cls, pretrained_model_name_or_path_or_dict, **kwargs):
        """diffusers' ``lora_state_dict``, reading a state dict of peft's keys without the ``transformer.`` prefix as
        the transformer's: diffusers found no key in it and loaded nothing, with only a warning.

        Such keys come from ``pipe.transformer.save_lora_adapter(folder)`` (diffusers' own, with the adapter's
        config in the file, ``lora_alpha`` included: it loads exactly) or from ``get_peft_model_state_dict`` (as a
        dict or saved to a file). The latter hold no ``lora_alpha``: they load at alpha = rank (scale 1), with a
        warning, and a LoRA trained with another alpha is off by alpha / rank. To keep it, save the LoRA with its
        config: ``save_lora_weights(folder, transformer_lora_layers=state, transformer_lora_adapter_metadata=
        config.to_dict())`` (diffusers' format) or ``save_lora_adapter``, and load the folder.

        Keys holding torch.compile's ``_orig_mod.`` (``get_peft_model_state_dict`` of a compiled transformer) or
        peft's ``.default`` adapter name (the ``lora_`` keys of a peft-wrapped model's ``state_dict()``) are read
        without them, as the same LoRA saved plainly (since 2026-12-08: bare, they made an adapter whose weights
        peft never filled, and NaN output; diffusers loads nothing from them). ``load_lora_weights`` refuses a LoRA
        whose keys still name no layer of the transformer (:meth:`load_lora_into_transformer`).
        """
        state, metadata = super().lora_state_dict(pretrained_model_name_or_path_or_dict,
                                                  **{**kwargs, "return_lora_metadata": True})
        state = _clean_lora_keys(state)
        if state and all(isinstance(k, str) and (".lora_" in k or ".lora." in k) for k in state) and not any(
            k.startswith(_COMPONENT_PREFIXES) for k in state
        ):  # module keys only (peft's .lora_A/.lora_B/.lora_magnitude_vector, diffusers' old .lora.down/.lora.up):
            # anything else (``lora_foo``) goes on to diffusers' own "no LoRA keys" warning, as there
            state = {f"transformer.{k}": v for k, v in state.items()}
            if metadata and not any(str(k).startswith("transformer.") for k in metadata):
                # save_lora_adapter's config, unprefixed as its keys: diffusers keeps only the component's keys of it,
                # and the empty config left failed in peft (KeyError 'model_type'; since 2026-12-07 it loads)
                metadata = {f"transformer.{k}": v for k, v in metadata.items()}
            if not metadata or "transformer.lora_alpha" not in metadata:
                # (since 2026-12-07: loaded at alpha = rank without a word, off by alpha / rank for another alpha)
                logger.warning("load_lora_weights: this LoRA has peft's keys without the `transformer.` prefix and "
                               "no config, so no lora_alpha: it loads at alpha = rank (scale 1); save it with "
                               "save_lora_weights(..., transformer_lora_adapter_metadata=config.to_dict()) to keep "
                               "its alpha.")
        return (state, metadata) if kwargs.get("return_lora_metadata") else state

    def load_lora_weights(self, *args, **kwargs):
        """diffusers' ``load_lora_weights``, refused where peft would fail half-way and leave meta-tensor adapters
        behind that break every later call: on an FP8 transformer (load and fuse the LoRA on the full-precision
        model, ``fuse_lora()``, ``unload_lora_weights()``, then ``enable_fp8()``), and, in
        :meth:`load_lora_into_transformer`, on keys that name no layer of the transformer and on key/value
        projections that ``convert_attention_heads`` pooled (load and fuse the LoRA before converting). A load that
        switches off the camera LoRA kept as an adapter (``load_camera_lora(fuse=False)``) while
        :attr:`camera_encoder` is set says so (since 2026-12-07)."""
        if is_fp8_quantized(self.transformer):
            raise ValueError("load_lora_weights: the transformer is FP8-quantized, and LoRA adapters cannot wrap its "
                             "FP8 layers: load the LoRA on the full-precision model, merge it (pipe.fuse_lora(), "
                             "pipe.unload_lora_weights()), then call pipe.enable_fp8().")
        camera_on = (getattr(self, "camera_encoder", None) is not None and has_lora_layers(self.transformer)
                     and "camera" in self.get_active_adapters())
        super().load_lora_weights(*args, **kwargs)
        if camera_on and "camera" not in self.get_active_adapters():
            # diffusers makes a new adapter the only active one; the motion encoder was trained with the camera
            # LoRA (load_camera_lora(fuse=False)) and would now steer the model without it
            active = self.get_active_adapters()
            logger.warning("load_lora_weights: %s is now the only active adapter (as in diffusers), so the camera "
                           "LoRA (adapter 'camera') is off while pipe.camera_encoder still steers camera= calls: "
                           "pipe.set_adapters(%r) runs them together.", active, [*active, "camera"])

    @classmethod
    def load_lora_into_transformer(cls, state_dict, transformer, adapter_name=None, _pipeline=None,
                                   low_cpu_mem_usage=False, hotswap: bool = False, metadata=None):
        """diffusers' ``load_lora_into_transformer`` (the state dict as :meth:`lora_state_dict` read it), refused
        before peft touches the model when no ``transformer.`` key names a LoRA layer of ``transformer``, or one names a
        layer with another parameter than peft's (peft made an adapter and never filled its weights: NaN or random
        output, in diffusers too; since 2026-12-08; see :func:`_check_lora_keys`), or
        adapts a key/value projection that ``convert_attention_heads`` pooled (peft failed on it after wrapping the
        layers before it with meta-tensor weights)."""
        from ltx_video.attention.grouped_query import GroupedProjection

        _check_lora_keys(state_dict, transformer)
        model = getattr(transformer, "_orig_mod", transformer)
        pooled = {name for name, m in model.named_modules() if isinstance(m, GroupedProjection)}
        hit = sorted({k.removeprefix("transformer.").split(".lora")[0] for k in state_dict} & pooled)
        if hit:
            raise ValueError(f"load_lora_weights: the LoRA adapts {hit[0]} (and {len(hit) - 1} more), a key/value "
                             "projection that convert_attention_heads pooled; peft cannot wrap it. Load and merge "
                             "the LoRA (pipe.fuse_lora(), pipe.unload_lora_weights()) before converting.")
        super().load_lora_into_transformer(state_dict, transformer, adapter_name=adapter_name, _pipeline=_pipeline,
                                           low_cpu_mem_usage=low_cpu_mem_usage, hotswap=hotswap, metadata=metadata)

    def record_transformer_inputs(self, prompts: str | Sequence[str], **kwargs) -> list[dict]:
        """The transformer's keyword arguments at every denoising step of generating ``prompts`` (copies), one call
        per prompt with ``kwargs`` (pipeline call options). ``generator``: one ``torch.Generator`` for all the calls in
        turn, or a list of one per prompt; by default prompt ``i`` is seeded with ``i``."""
        prompts = _prompt_list(prompts, "prompts")
        for key in ("prompt", "output_type"):  # set here: the calls generate latents of ``prompts``
            if key in kwargs:
                raise ValueError(f"record_transformer_inputs: `{key}` is set by the calibration itself (the prompts "
                                 "go in `prompts` / `calibration_prompts`, latents are generated): leave it out.")
        generators = kwargs.pop("generator", None)
        if generators is None:
            generators = [torch.Generator("cpu").manual_seed(index) for index in range(len(prompts))]
        elif isinstance(generators, torch.Generator):
            generators = [generators] * len(prompts)
        elif not (isinstance(generators, (list, tuple)) and len(generators) == len(prompts)
                  and all(isinstance(g, torch.Generator) for g in generators)):
            raise ValueError(f"record_transformer_inputs: `generator` must be a torch.Generator or a list of one per "
                             f"prompt ({len(prompts)}), got {type(generators).__name__}"
                             f"{f' of {len(generators)}' if isinstance(generators, (list, tuple)) else ''}.")
        recorded: list[dict] = []

        def record(module, args, call_kwargs):
            recorded.append({k: v.detach().clone() if torch.is_tensor(v) else v for k, v in call_kwargs.items()})

        handle = self.transformer.register_forward_pre_hook(record, with_kwargs=True)
        try:
            for prompt, generator in zip(prompts, generators, strict=True):
                self(prompt=prompt, output_type="latent", generator=generator, **kwargs)
        finally:
            handle.remove()
        return recorded
