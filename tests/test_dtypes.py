"""Pipelines whose components hold different dtypes, as diffusers allows them (``torch_dtype={"transformer":
torch.bfloat16, "default": torch.float32}``; its LTX docs: "The VAE and text encoder can also be torch.float32"),
and the dtype of the frames a call returns."""

import pytest
import torch
from conftest import gen

from ltx_video import LTXVideoPipeline
from ltx_video.testing import tiny_audio_video_pipeline, tiny_components, tiny_latent_upsampler

CALL = dict(height=64, width=64, num_frames=9, num_inference_steps=2, guidance_scale=3.0, max_sequence_length=16)


@pytest.mark.parametrize("audio", [False, True], ids=["video", "audio_video"])
def test_float32_text_encoder_with_a_bf16_transformer(audio):
    """A float32 text encoder (and VAE) with a bf16 transformer failed at the first step ("mat1 and mat2 must have
    the same dtype"): the latents and embeddings reached the transformer in the text encoder's dtype. They now come
    in the transformer's: exactly the run given the float32 embeddings already cast to bf16."""
    pipe = tiny_audio_video_pipeline() if audio else LTXVideoPipeline(**tiny_components())
    pipe.transformer.to(torch.bfloat16)
    pipe.set_progress_bar_config(disable=True)
    assert pipe.text_encoder.dtype == pipe.vae.dtype == torch.float32
    prompt, mask, negative, negative_mask = pipe.encode_prompt("a red ball bounces", max_sequence_length=16)
    assert prompt.dtype == torch.float32
    text = dict(prompt_embeds=prompt.to(torch.bfloat16), prompt_attention_mask=mask,
                negative_prompt_embeds=negative.to(torch.bfloat16), negative_prompt_attention_mask=negative_mask)
    run = pipe(prompt="a red ball bounces", **CALL, output_type="latent", generator=gen())
    given = pipe(**text, **CALL, output_type="latent", generator=gen())
    assert torch.equal(run.frames, given.frames)
    if audio:
        assert torch.equal(run.audio_latents, given.audio_latents)
    frames = pipe(prompt="a red ball bounces", **CALL, output_type="pt", generator=gen()).frames
    assert frames.dtype == torch.float32 and frames.isfinite().all() and 0.05 < frames.std() < 0.5  # the VAE's


def test_multiscale_returns_the_vae_dtype_as_a_plain_call():
    """``generate_multiscale`` resized the frames in float32 and returned them so: float32 frames from a bf16
    pipeline, whose plain call returns bf16. The resize stays in float32; the frames come back in the VAE's dtype."""
    pipe = LTXVideoPipeline(**tiny_components(), latent_upsampler=tiny_latent_upsampler()).to(torch.bfloat16)
    pipe.set_progress_bar_config(disable=True)
    kwargs = dict(prompt="a red ball", num_frames=9, max_sequence_length=16, height=96, width=96,
                  downscale_factor=0.6666666, first_pass=dict(timesteps=[1000.0, 909.4], guidance_scale=1.0),
                  second_pass=dict(timesteps=[909.4, 725.0], guidance_scale=1.0))
    pt = pipe.generate_multiscale(**kwargs, output_type="pt", generator=gen()).frames
    np_frames = pipe.generate_multiscale(**kwargs, output_type="np", generator=gen()).frames
    plain = pipe(prompt="a red ball", **{**CALL, "guidance_scale": 1.0}, output_type="pt", generator=gen()).frames
    assert pt.dtype == plain.dtype == torch.bfloat16
    # "np" converts the same bf16 frames to float32: the two outputs of one call agree exactly
    assert torch.equal(pt.float(), torch.from_numpy(np_frames).permute(0, 1, 4, 2, 3))
    assert pt.shape == (1, 9, 3, 96, 96) and ((pt >= 0) & (pt <= 1)).all()
