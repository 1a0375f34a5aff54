"""Pipeline plumbing as diffusers users rely on it (2026-12-06, third round): `to(dtype)` with learned control
modules, a compiled transformer, `from_pipe` between the pipelines, and audio arguments refused before the text
encoder runs (tiny models)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import forward_calls

from ltx_video import Camera, Keyframe, LTXAudioVideoPipeline, LTXVideoPipeline, TilingConfig
from ltx_video.conditioning.camera_controller import CameraMotionEncoder
from ltx_video.conditioning.multi_keyframe_processor import KeyframeAdapter
from ltx_video.testing import TINY_LATENT_CHANNELS, tiny_audio_video_pipeline, tiny_pipeline

CALL = dict(height=32, width=32, num_frames=9, num_inference_steps=2, max_sequence_length=16)


def generator():
    return torch.Generator().manual_seed(0)


@pytest.fixture(scope="module")
def av_pipe():
    pipe = tiny_audio_video_pipeline(0)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture()
def text_encoder_calls(av_pipe):
    with forward_calls(av_pipe.text_encoder) as calls:
        yield calls


@pytest.mark.parametrize("control", ["camera", "keyframes"])
def test_learned_control_modules_follow_the_pipelines_dtype(control):
    pipe = tiny_pipeline(0)
    pipe.set_progress_bar_config(disable=True)
    inner = pipe.transformer.config.num_attention_heads * pipe.transformer.config.attention_head_dim
    pipe.camera_encoder = CameraMotionEncoder(inner_dim=inner).eval()
    pipe.keyframe_adapter = KeyframeAdapter(inner_dim=inner, latent_channels=TINY_LATENT_CHANNELS, heads=2).eval()
    pipe.to(torch.bfloat16)  # the control modules are not components: diffusers' to() does not see them
    extra = ({"camera": Camera(motion_type="pan_left")} if control == "camera"
             else {"keyframes": [Keyframe(torch.rand(3, 64, 64), 0), Keyframe(torch.rand(3, 64, 64), 16)]})
    # failed with "mat1 and mat2 must have the same dtype, but got BFloat16 and Float"
    video = pipe("a red ball bounces", generator=generator(), output_type="pt",
                 **{**CALL, "height": 64, "width": 64, "num_frames": 17}, **extra).frames
    assert torch.isfinite(video).all()


def test_a_compiled_transformer_still_makes_sound(av_pipe):
    expected = av_pipe("a red ball bounces", generator=generator(), output_type="pt", **CALL)
    eager = av_pipe.transformer
    try:
        av_pipe.transformer = torch.compile(eager, backend="eager")  # diffusers' usual idiom; refused every call
        compiled = av_pipe("a red ball bounces", generator=generator(), output_type="pt", **CALL)
    finally:
        av_pipe.transformer = eager
    assert torch.equal(compiled.frames, expected.frames) and torch.equal(compiled.audio[0], expected.audio[0])


def test_from_pipe_keeps_settings_and_takes_a_video_only_pipeline(av_pipe):
    video_pipe = tiny_pipeline(0)
    video_pipe.enable_vae_tiling(TilingConfig(tile_size=64, tile_overlap=32))
    av = LTXAudioVideoPipeline.from_pipe(video_pipe)  # refused: "expected ['audio_vae', 'latent_upsampler', ...]"
    assert av.transformer is video_pipe.transformer and av.vae_tiling == video_pipe.vae_tiling  # tiling was dropped
    assert LTXVideoPipeline.from_pipe(video_pipe).vae_tiling == video_pipe.vae_tiling
    av_pipe.disable_audio_generation()
    try:
        assert not LTXAudioVideoPipeline.from_pipe(av_pipe).audio_generation_enabled  # was turned on again
    finally:
        av_pipe.enable_audio_generation()
    assert LTXAudioVideoPipeline.from_pipe(av_pipe).audio_generation_enabled


@pytest.mark.parametrize("kwargs", [dict(denoise_strength=0.5), dict(timesteps=[900, 500, 0])])
def test_a_schedule_audio_cannot_start_is_refused_before_the_text_encoder(av_pipe, text_encoder_calls, kwargs):
    with pytest.raises(ValueError, match="generating audio needs a schedule that starts from pure noise"):
        av_pipe("a red ball bounces", **{**CALL, **kwargs})
    assert not text_encoder_calls  # T5 ran twice before the refusal


def test_audio_scales_as_numpy_or_tensor_numbers(av_pipe):
    expected = av_pipe("a red ball bounces", generator=generator(), output_type="pt", modality_scale=3.0,
                       audio_guidance_scale=2.0, **CALL)
    given = av_pipe("a red ball bounces", generator=generator(), output_type="pt", modality_scale=np.float32(3.0),
                    audio_guidance_scale=torch.tensor(2.0), **CALL)
    assert torch.equal(given.frames, expected.frames) and torch.equal(given.audio[0], expected.audio[0])


def test_bad_audio_arguments_are_named(av_pipe, text_encoder_calls, tmp_path):
    with pytest.raises(ValueError, match=r"`audio_guidance_scale` must be a number >= 0 .*got '3'"):
        av_pipe("a red ball bounces", audio_guidance_scale="3", **CALL)
    not_audio = tmp_path / "notes.txt"
    not_audio.write_text("not a sound")
    with pytest.raises(ValueError, match=r"`audio`: cannot read '.*notes.txt' as audio"):
        av_pipe("a red ball bounces", audio=str(not_audio), **CALL)
    assert not text_encoder_calls


def test_from_pipe_drops_settings_checked_against_a_replaced_module():
    from ltx_video import HierarchicalVAE

    video_pipe = tiny_pipeline(0)
    video_pipe.enable_vae_tiling(TilingConfig(tile_size=96, tile_overlap=32))  # fits the 32x VAE, not a 64x one
    other = HierarchicalVAE(latent_channels=8, block_out_channels=(8, 16, 16, 16), layers_per_block=1).eval()
    assert LTXVideoPipeline.from_pipe(video_pipe, vae=other).vae_tiling is None  # failed after the whole loop
    assert LTXVideoPipeline.from_pipe(video_pipe).vae_tiling == video_pipe.vae_tiling


def test_a_long_video_with_sound_refuses_a_schedule_that_cannot_start_from_noise(av_pipe, text_encoder_calls, tmp_path):
    with pytest.raises(ValueError, match="generating audio needs a schedule that starts from pure noise"):
        av_pipe.generate_long("a red ball bounces", num_frames=25, chunk_frames=17, overlap_frames=8,
                              output=tmp_path / "long.mp4", timesteps=[900, 500], height=32, width=32)
    assert not text_encoder_calls and not (tmp_path / "long.mp4").exists()  # made audio from sigma 0.9 noise


# ------------------------------------------------------------- fourth round (2026-12-07): notebook users
def test_frame_rate_zero_is_named_on_the_audio_video_pipeline(av_pipe, text_encoder_calls):
    for extra in ({}, {"audio": torch.zeros(16000), "audio_sample_rate": 16000}):  # ZeroDivisionError before
        for rate in (0, float("inf"), torch.tensor(24.0)):  # inf crashed in the audio decoder after denoising
            with pytest.raises(ValueError, match=r"`frame_rate` must be a finite number > 0"):
                av_pipe("a red ball bounces", height=32, width=32, num_frames=9, num_inference_steps=2,
                        frame_rate=rate, **extra)
    assert text_encoder_calls == []


def test_every_bar_follows_set_progress_bar_config(tmp_path, capsys):
    # The tiles' and the chunks' bars read only `disable`: disable=None (tqdm's "not on a terminal") still printed them
    # where the steps' bar was hidden. They take every setting but the label, which stays theirs: with the steps' desc
    # (the command line sets "denoising") the tiles read as a second denoising loop.
    pipe = tiny_pipeline(seed=0)
    pipe.enable_vae_tiling(TilingConfig(tile_size=32, tile_overlap=0, tile_frames=8, frame_overlap=0))
    call = dict(height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16)
    long = dict(call, num_frames=17, chunk_frames=9, overlap_frames=8, seed=0)
    capsys.readouterr()
    pipe.set_progress_bar_config(desc="MYDESC")
    pipe("a red ball bounces", **call)
    pipe.generate_long("a red ball bounces", output=tmp_path / "a.mp4", **long)
    shown = capsys.readouterr().err
    assert "MYDESC" in shown and "VAE tiles:" in shown and "chunks:" in shown
    pipe.set_progress_bar_config(disable=None)  # captured stderr is no terminal: nothing
    pipe("a red ball bounces", **call)
    pipe.generate_long("a red ball bounces", output=tmp_path / "b.mp4", **long)
    assert capsys.readouterr().err == ""


def test_reprs_of_media_arguments_name_their_shape_not_their_pixels():
    from ltx_video.conditioning.items import ConditioningItem

    clip = torch.rand(9, 3, 32, 32)
    assert repr(Keyframe(clip, 8)) == ("Keyframe(image_or_clip=Tensor(shape=(9, 3, 32, 32), dtype=torch.float32), "
                                       "frame_index=8, strength=1.0, placement='tokens')")
    assert repr(ConditioningItem(np.zeros((3, 9, 32, 32), np.float32), 0, 0.5)) == (
        "ConditioningItem(media_item=ndarray(shape=(3, 9, 32, 32), dtype=float32), media_frame_number=0, "
        "conditioning_strength=0.5)")


def test_given_latents_of_the_wrong_shape_are_refused_before_the_text_encoder(av_pipe, text_encoder_calls):
    call = dict(prompt=["a red ball bounces", "a blue square bounces"], height=32, width=32, num_frames=9,
                num_inference_steps=2, max_sequence_length=16)
    with pytest.raises(ValueError, match=r"`audio_latents` must have shape \(2 or 1, \d+, \d+\) for this call, got "
                                         r"\(2, 5, 16\)"):
        av_pipe(**call, audio_latents=torch.zeros(2, 5, 16))
    with pytest.raises(ValueError, match=r"`latents` must have shape \(2, \d+, 2, 1, 1\) \(or packed \(2, 2, \d+\)\), "
                                         r"got \(1, "):
        av_pipe(**call, latents=torch.zeros(1, TINY_LATENT_CHANNELS, 2, 1, 1))
    assert text_encoder_calls == []
