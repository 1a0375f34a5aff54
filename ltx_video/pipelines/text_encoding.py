"""Step 2 of the pipelines: the prompt and the negative prompt through T5, as diffusers' LTX pipelines encode them
(the same embeddings and boolean masks), with the masks repeated per prompt as the embeddings are."""

from __future__ import annotations

import logging

import torch

__all__ = ["TextEncodingMixin"]

logger = logging.getLogger("ltx_video.pipelines.ltx_video")  # the warnings users filter by the pipeline's logger


class TextEncodingMixin:
    """``encode_prompt`` for the pipelines; needs ``tokenizer``, ``text_encoder`` and ``default_timestep_schedule``."""

    def encode_prompt(
        self,
        prompt: str | list[str] | None,
        negative_prompt: str | list[str] | None = None,
        do_classifier_free_guidance: bool = True,
        num_videos_per_prompt: int = 1,
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        prompt_attention_mask: torch.Tensor | None = None,
        negative_prompt_attention_mask: torch.Tensor | None = None,
        max_sequence_length: int = 256,
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
        mask_text_encoder: bool | None = None,
    ):
        """T5 embeddings (B, L, D) and boolean masks (B, L) for the prompt and the negative prompt.

        ``mask_text_encoder=False`` runs T5 without its padding mask, as diffusers' ``LTXPipeline``
        does (LTX-Video and ``LTXConditionPipeline`` mask it); None follows ``default_timestep_schedule``.
        """
        if mask_text_encoder is None:
            mask_text_encoder = self.default_timestep_schedule != "shifted"
        device = device or self._execution_device
        prompt = [prompt] if isinstance(prompt, str) else prompt
        batch_size = len(prompt) if prompt is not None else prompt_embeds.shape[0]
        if prompt_embeds is None:
            prompt_embeds, prompt_attention_mask = self._t5(
                prompt, num_videos_per_prompt, max_sequence_length, device, dtype, mask_text_encoder
            )
        elif num_videos_per_prompt > 1:
            prompt_embeds = prompt_embeds.repeat_interleave(num_videos_per_prompt, 0)
            prompt_attention_mask = prompt_attention_mask.repeat_interleave(num_videos_per_prompt, 0)
        if negative_prompt_embeds is not None and num_videos_per_prompt > 1:
            negative_prompt_embeds = negative_prompt_embeds.repeat_interleave(num_videos_per_prompt, 0)
            negative_prompt_attention_mask = negative_prompt_attention_mask.repeat_interleave(num_videos_per_prompt, 0)
        if do_classifier_free_guidance and negative_prompt_embeds is None:
            negative_prompt = negative_prompt or ""
            negative_prompt = [negative_prompt] * batch_size if isinstance(negative_prompt, str) else negative_prompt
            if len(negative_prompt) != batch_size:
                raise ValueError(
                    f"`negative_prompt` has {len(negative_prompt)} entries but `prompt` has {batch_size}."
                )
            negative_prompt_embeds, negative_prompt_attention_mask = self._t5(
                negative_prompt, num_videos_per_prompt, max_sequence_length, device, dtype, mask_text_encoder
            )
        return prompt_embeds, prompt_attention_mask, negative_prompt_embeds, negative_prompt_attention_mask

    def _t5(self, prompt: list[str], num_videos_per_prompt: int, max_sequence_length: int, device, dtype, masked=True):
        longest = max((len(ids) for ids in self.tokenizer(prompt, add_special_tokens=True).input_ids), default=0)
        seen = getattr(self, "_long_warned", None)  # generate_long: once per run, not once per chunk
        if longest > max_sequence_length and (seen is None or (tuple(prompt), max_sequence_length) not in seen):
            if seen is not None:
                seen.add((tuple(prompt), max_sequence_length))
            logger.warning("a prompt is %d tokens long; the text encoder reads its first %d (max_sequence_length).",
                           longest, max_sequence_length)
        tokens = self.tokenizer(
            prompt, padding="max_length", max_length=max_sequence_length, truncation=True,
            add_special_tokens=True, return_tensors="pt",
        )
        mask = tokens.attention_mask.bool().to(device)
        embeds = self.text_encoder(tokens.input_ids.to(device), attention_mask=mask if masked else None)[0]
        embeds = embeds.to(dtype=dtype or self.text_encoder.dtype, device=device)
        # Embeddings and masks both repeat per prompt (p0, p0, p1, p1); diffusers' LTX pipelines tile the masks
        # (m0, m1, m0, m1), which pairs prompts with the wrong masks for several prompts and videos per prompt.
        return embeds.repeat_interleave(num_videos_per_prompt, 0), mask.repeat_interleave(num_videos_per_prompt, 0)
