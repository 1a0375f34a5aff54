"""LTXAudioVideoPipeline: video-only parity, audio length and export, held given audio, guidance, bad inputs."""

import contextlib
import math

import numpy as np
import pytest
import torch
from conftest import av_gates, gen

from ltx_video import LTXAudioVideoPipeline, LTXVideoCondition, LTXVideoPipeline, export_to_video
from ltx_video.io.media import read_audio
from ltx_video.io.waveforms import AudioTrack
from ltx_video.testing import TINY_AUDIO_CHANNELS as AUDIO_CHANNELS
from ltx_video.testing import tiny_audio_video_pipeline

COMMON = dict(prompt="a red ball bounces", height=64, width=64, num_frames=9, frame_rate=25,
              num_inference_steps=2, max_sequence_length=16)
SAMPLES_9_AT_25 = round(16000 * 9 / 25)  # 5760 samples, 18 tokens


def sine(seconds=0.5, freq=440.0, rate=16000):
    t = torch.arange(round(seconds * rate)) / rate
    return 0.5 * torch.sin(2 * math.pi * freq * t)


@pytest.fixture(scope="module")
def av_pipe():
    pipe = tiny_audio_video_pipeline(seed=0)  # its legacy weights equal the `components` fixture's (same seed)
    # Non-zero audio<->video gates, so audio actually influences the video (and vice versa).
    for name, param in pipe.transformer.named_parameters():
        if name.startswith("av_") and "gate" in name:
            torch.nn.init.normal_(param, std=0.5)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_video_only_equals_ltx_video_pipeline(components, av_pipe):
    ref = LTXVideoPipeline(**components)
    ref.set_progress_bar_config(disable=True)
    kw = dict(COMMON, output_type="pt", stg_scale=1.0, skip_block_list=[1])
    expected = ref(**kw, generator=gen()).frames
    out = av_pipe(**kw, generate_audio=False, generator=gen())
    assert out.audio is None
    diff = (expected - out.frames).abs().max().item()
    print(f"video-only max abs diff vs LTXVideoPipeline: {diff:.3e}")
    assert diff <= 1e-5
    # The default follows audio_generation_enabled.
    av_pipe.disable_audio_generation()
    try:
        assert torch.equal(av_pipe(**kw, generator=gen()).frames, out.frames)
    finally:
        av_pipe.enable_audio_generation()
    # Negative control: with audio on, the (gated) audio stream changes the video.
    with_audio = av_pipe(**kw, generator=gen()).frames
    assert (with_audio - out.frames).abs().max().item() > 1e-4


def test_generated_audio_length_and_export(av_pipe, tmp_path):
    out = av_pipe(**COMMON, output_type="np", generator=gen())
    waveform, rate = out.audio
    assert rate == 16000 and waveform.shape == (1, SAMPLES_9_AT_25) and waveform.dtype == torch.float32
    assert waveform.abs().max() <= 1.0 and waveform.std() > 0
    # Another seed gives other audio (the audio really comes from the generator's noise).
    other, _ = av_pipe(**COMMON, output_type="np", generator=gen(1)).audio
    assert (other - waveform).abs().max() > 1e-4
    path = export_to_video(out, tmp_path / "av.mp4", fps=25)
    read, read_rate = read_audio(path)
    assert read_rate == 16000 and abs(read.shape[-1] - SAMPLES_9_AT_25) <= 1024
    # 17 frames at 24 fps: a duration that is not a whole number of tokens (11333.3 samples, 36 tokens).
    waveform17, _ = av_pipe(**{**COMMON, "num_frames": 17, "frame_rate": 24}, output_type="np", generator=gen()).audio
    assert waveform17.shape == (1, round(16000 * 17 / 24))


def test_given_audio_is_held_and_file_equals_tensor(av_pipe, tmp_path):
    given = sine(0.5)  # longer than the 0.36 s video: trimmed
    seen = []

    def callback(pipe, step, t, tensors):
        seen.append(tensors["audio_latents"].clone())
        return tensors

    out = av_pipe(**COMMON, audio=given, audio_sample_rate=16000, output_type="pt", generator=gen(),
                  callback_on_step_end=callback, callback_on_step_end_tensor_inputs=["latents", "audio_latents"])
    clip = torch.nn.functional.pad(given[:SAMPLES_9_AT_25], (0, 0))[None, None]
    encoded = av_pipe.audio_vae.encode(clip)
    assert len(seen) == 2 and all(torch.equal(s, encoded) for s in seen)
    # The output's sound is the given one, trimmed to the video (it was the audio autoencoder's round trip of it:
    # `ltx-video generate --audio mine.wav` wrote the built-in autoencoder's 1 kHz version of a 440 Hz tone).
    assert torch.equal(out.audio[0], given[None, :SAMPLES_9_AT_25])
    # The given audio conditions the video: another audio gives another video.
    silent = av_pipe(**COMMON, audio=given * 0, audio_sample_rate=16000, output_type="pt", generator=gen())
    assert (silent.frames - out.frames).abs().max() > 1e-4
    # A file path reads the same audio (through AAC, so close rather than equal) and the same flow.
    path = export_to_video(torch.zeros(9, 64, 64, 3), tmp_path / "sine.mp4", fps=25, audio=given[None],
                           sample_rate=16000)
    from_file = av_pipe(**COMMON, audio=path, output_type="pt", generator=gen())
    assert from_file.audio[0].shape == out.audio[0].shape
    assert (from_file.frames - out.frames).abs().max() < 0.1
    # A shorter audio is zero-padded to the video's duration; 8 kHz input is resampled to 16 kHz.
    short = av_pipe(**COMMON, audio=sine(0.1, rate=8000), audio_sample_rate=8000, output_type="latent", generator=gen())
    assert short.audio_latents.shape == (1, 18, AUDIO_CHANNELS)


def test_sound_for_a_given_video(av_pipe):
    """Video-to-audio: the whole clip as ``video=`` at strength 1 holds every video token clean through the steps
    (its posterior sample, drawn with the call's generator as diffusers' LTXConditionPipeline draws it) while the
    audio is denoised, and another given video gives another sound."""
    g = torch.Generator().manual_seed(3)
    clip = torch.rand(9, 3, 64, 64, generator=g)  # (F, 3, H, W) in [0, 1]
    seen = []

    def callback(pipe, step, t, tensors):
        seen.append((tensors["latents"].clone(), tensors["audio_latents"].clone()))
        return tensors

    kw = dict(COMMON, video=clip, frame_index=0, strength=1.0, image_cond_noise_scale=0.0, output_type="pt")
    out = av_pipe(**kw, generator=gen(0), callback_on_step_end=callback,
                  callback_on_step_end_tensor_inputs=["latents", "audio_latents"])
    (video_1, audio_1), (video_2, audio_2) = seen
    assert torch.equal(video_1, video_2)  # every video token held
    assert (audio_1 - audio_2).abs().max() > 1e-3  # the audio is denoised
    free = av_pipe(**dict(COMMON, output_type="pt"), generator=gen(0))
    assert (free.frames - out.frames).abs().max() > 1e-2  # without video= the video is generated
    other = av_pipe(**{**kw, "video": clip.flip(0)}, generator=gen(0))
    assert (other.audio[0] - out.audio[0]).abs().max() > 1e-4  # the sound follows the given frames


def test_keyframes_and_stg_with_audio(av_pipe, images):
    conds = [LTXVideoCondition(image=images[0], frame_index=0), LTXVideoCondition(image=images[1], frame_index=8)]
    base = dict(COMMON, conditions=conds)
    out = av_pipe(**base, output_type="pt", generator=gen())
    stg = av_pipe(**base, output_type="pt", stg_scale=1.0, skip_block_list=[1], generator=gen())
    for o in (out, stg):
        assert o.audio[0].shape == (1, SAMPLES_9_AT_25) and torch.isfinite(o.audio[0]).all()
        assert torch.isfinite(o.frames).all()
    assert (stg.frames - out.frames).abs().max() > 1e-4  # STG perturbs the video
    # STG guides the video only: the audio's guided prediction uses the uncond/cond passes alone, so with
    # zero audio<->video gates (no video influence on audio) the audio is the same with or without STG.
    with av_gates(av_pipe.transformer, 0.0):
        a = av_pipe(**base, output_type="latent", generator=gen()).audio_latents
        b = av_pipe(**base, output_type="latent", stg_scale=1.0, skip_block_list=[1], generator=gen()).audio_latents
        c = av_pipe(**base, output_type="latent", audio_guidance_scale=1.0, generator=gen()).audio_latents
    assert torch.allclose(a, b, atol=1e-6)
    assert (a - c).abs().max() > 1e-4  # audio_guidance_scale is used


def test_modality_guidance(av_pipe):
    """The isolated pass is the model without the audio<->video exchange, placed before STG's perturbed pass."""
    kw = dict(COMMON, output_type="latent", stg_scale=1.0, skip_block_list=[1])
    base = av_pipe(**kw, generator=gen())
    off = av_pipe(**kw, modality_scale=1.0, audio_modality_scale=1.0, generator=gen())
    assert torch.equal(base.frames, off.frames) and torch.equal(base.audio_latents, off.audio_latents)
    on = av_pipe(**kw, modality_scale=3.0, audio_modality_scale=2.0, generator=gen())
    assert (on.frames - base.frames).abs().max() > 1e-4
    assert (on.audio_latents - base.audio_latents).abs().max() > 1e-4
    # With the gates closed, the isolated pass equals the conditional one: the modality terms vanish, and STG
    # (which must still perturb the last pass, not the isolated one) gives what it gives alone.
    with av_gates(av_pipe.transformer, 0.0):
        closed_base = av_pipe(**kw, generator=gen())
        closed_on = av_pipe(**kw, modality_scale=3.0, audio_modality_scale=2.0, generator=gen())
    assert torch.allclose(closed_on.frames, closed_base.frames, atol=1e-5)
    assert torch.allclose(closed_on.audio_latents, closed_base.audio_latents, atol=1e-5)
    # Given audio: the video is pushed toward it; the held audio does not move.
    given = dict(COMMON, output_type="latent", audio=sine(), audio_sample_rate=16000)
    plain = av_pipe(**given, generator=gen())
    pushed = av_pipe(**given, modality_scale=3.0, generator=gen())
    assert torch.equal(plain.audio_latents, pushed.audio_latents)
    assert (plain.frames - pushed.frames).abs().max() > 1e-4


def test_modality_guidance_without_audio_is_ignored_with_a_warning(av_pipe, caplog):
    """A model's defaults reach video-only calls too (the built-in model's audio_modality_scale): no audio stream,
    nothing to guide, so the call runs as without them and says so in one line."""
    kw = dict(COMMON, output_type="latent", generate_audio=False)
    plain = av_pipe(**kw, generator=gen())
    with caplog.at_level("WARNING", logger="ltx_video"):
        ignored = av_pipe(**kw, modality_scale=2.0, audio_modality_scale=8.0, generator=gen())
    assert torch.equal(plain.frames, ignored.frames) and ignored.audio_latents is None
    assert [r.getMessage() for r in caplog.records] == [
        "modality guidance has no audio stream to act on (no audio generated or given): ignored."]


@contextlib.contextmanager
def transformer_batches(pipe):
    """The batch of every transformer call inside the block (a step's passes stacked: 2 with an unconditional one)."""
    calls = []
    handle = pipe.transformer.register_forward_hook(
        lambda module, args, kwargs, out: calls.append(kwargs["hidden_states"].shape[0]), with_kwargs=True)
    try:
        yield calls
    finally:
        handle.remove()


def test_audio_guidance_scale_above_1_runs_the_unconditional_pass_with_guidance_scale_1(av_pipe, caplog):
    """As diffusers' LTX2Pipeline (CFG when guidance_scale > 1 or audio_guidance_scale > 1), so distilled CFG-1 setups
    keep the audio's CFG. It was ignored with a warning: no unconditional pass, the audio of audio_guidance_scale=1."""
    kw = dict(COMMON, output_type="latent", guidance_scale=1.0)
    with av_gates(av_pipe.transformer, 0.0):  # closed: the audio cannot move the video, only the batch can
        with transformer_batches(av_pipe) as plain_batches:
            plain = av_pipe(**kw, generator=gen())
            unity = av_pipe(**kw, audio_guidance_scale=1.0, generator=gen())
        with caplog.at_level("WARNING", logger="ltx_video"), transformer_batches(av_pipe) as batches:
            guided = av_pipe(**kw, audio_guidance_scale=7.0, generator=gen())
    assert plain_batches == [1, 1, 1, 1] and batches == [2, 2] and caplog.records == []
    assert torch.equal(plain.audio_latents, unity.audio_latents)
    assert (guided.audio_latents - plain.audio_latents).abs().max() > 1e-2  # the audio takes CFG at 7
    # The video takes the conditional prediction as it is (no uncond + 1 (cond - uncond)): the same video, up to the
    # last bits a batch of two passes may round differently in (batched matmuls), hence a tolerance.
    assert torch.allclose(guided.frames, plain.frames, rtol=0, atol=1e-5)
    # Per-interval lists: the rule per step; audio_guidance_scale left out keeps each step's own passes.
    lists = kw | dict(guidance_scale=[3.0, 1.0], guidance_timesteps=[1000, 500])
    with caplog.at_level("WARNING", logger="ltx_video"), transformer_batches(av_pipe) as batches:
        av_pipe(**lists, generator=gen())
        av_pipe(**lists, audio_guidance_scale=7.0, generator=gen())
    assert batches == [2, 1, 2, 2] and caplog.records == []


def test_audio_guidance_scale_runs_no_extra_pass_where_it_cannot_act(av_pipe, caplog):
    """Below 1 with no CFG step, a held sound and no sound: the passes stay as without the scale, and each says so in
    one line; the model's defaults (guidance_scale 3, audio_guidance_scale None) keep their two passes."""
    kw = dict(COMMON, output_type="latent", guidance_scale=1.0)
    sound = torch.zeros(av_pipe.audio_length(COMMON["num_frames"], COMMON["frame_rate"])[0])
    cases = [
        (dict(audio_guidance_scale=0.5), "`audio_guidance_scale`=0.5 is ignored: below 1 it runs no unconditional pass "
                                         "and `guidance_scale` <= 1 runs none, so the audio has no CFG."),
        (dict(audio_guidance_scale=7.0, audio=sound, audio_sample_rate=16000),
         "`audio_guidance_scale`=7 is ignored: the given `audio` is held, not generated."),
        (dict(audio_guidance_scale=7.0, generate_audio=False), "`audio_guidance_scale`=7 is ignored: no audio is generated."),
    ]
    for extra, message in cases:
        caplog.clear()
        with caplog.at_level("WARNING", logger="ltx_video"), transformer_batches(av_pipe) as batches:
            out = av_pipe(**kw, **extra, generator=gen())
        assert batches == [1, 1] and [r.getMessage() for r in caplog.records] == [message]
    assert torch.equal(out.frames, av_pipe(**kw, generate_audio=False, generator=gen()).frames)
    with transformer_batches(av_pipe) as batches:
        av_pipe(**COMMON, output_type="latent", guidance_scale=3.0, generator=gen())
        av_pipe(**COMMON, output_type="latent", guidance_scale=3.0, audio_guidance_scale=1.0, generator=gen())
    assert batches == [2, 2, 2, 2]


def test_audio_guidance_scale_with_a_held_or_no_sound_is_ignored_with_a_warning(av_pipe, caplog):
    """A given sound is held and generate_audio=False makes none: no audio prediction for the scale to guide. It was
    ignored silently (the same video whatever its value)."""
    kw = dict(COMMON, output_type="latent", guidance_scale=3.0)
    sound = torch.zeros(av_pipe.audio_length(COMMON["num_frames"], COMMON["frame_rate"])[0])
    plain = av_pipe(**kw, audio=sound, audio_sample_rate=16000, generator=gen())
    for given, why in ((dict(audio=sound, audio_sample_rate=16000), "the given `audio` is held, not generated"),
                       (dict(generate_audio=False), "no audio is generated")):
        caplog.clear()
        with caplog.at_level("WARNING", logger="ltx_video"):
            out = av_pipe(**kw, **given, audio_guidance_scale=9.0, generator=gen())
        assert [r.getMessage() for r in caplog.records] == [f"`audio_guidance_scale`=9 is ignored: {why}."]
    assert torch.equal(plain.frames, av_pipe(**kw, audio=sound, audio_sample_rate=16000, audio_guidance_scale=9.0,
                                             generator=gen()).frames)
    caplog.clear()
    with caplog.at_level("WARNING", logger="ltx_video"):
        av_pipe(**kw, audio=sound, audio_sample_rate=16000, audio_guidance_scale=1.0, generator=gen())
    assert caplog.records == [] and out.audio_latents is None


@pytest.fixture
def no_models(av_pipe, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("a model ran before the input check")

    for name in ("transformer", "vae", "text_encoder", "audio_vae"):
        monkeypatch.setattr(getattr(av_pipe, name), "forward", boom)
    monkeypatch.setattr(av_pipe.audio_vae, "encode", boom)
    return av_pipe


@pytest.mark.parametrize("kwargs,name", [
    (dict(audio=torch.zeros(0), audio_sample_rate=16000), "audio"),
    (dict(audio=torch.zeros(1, 2, 100), audio_sample_rate=16000), "audio"),
    (dict(audio=torch.zeros(3, 100), audio_sample_rate=16000), "audio"),
    (dict(audio=torch.zeros(100)), "audio_sample_rate"),
    (dict(audio=AudioTrack(torch.zeros(2, 100), 16000)), "of 2 videos"),  # rows are videos here
    (dict(audio=(torch.zeros(100), 16000), audio_sample_rate=8000), "audio_sample_rate"),
    (dict(audio=[[0.1, 0.2], [0.3]], audio_sample_rate=16000), "ragged"),
    (dict(audio=[1, 2, 3], audio_sample_rate=16000), "float samples"),  # Python ints: as int64 they were silence
    (dict(audio=np.full(100, 20000, np.int64), audio_sample_rate=16000), "int64"),
    (dict(generate_audio="false"), "generate_audio"),  # a truthy string generated audio
    (dict(audio_guidance_scale=-1.0), "audio_guidance_scale"),
    (dict(modality_scale=-1.0), "modality_scale"),
    (dict(audio_modality_scale="2"), "audio_modality_scale"),
    (dict(height=0), "height"),
])
def test_bad_audio_inputs(no_models, kwargs, name):
    with pytest.raises(ValueError, match=name):
        no_models(**{**COMMON, **kwargs})


def test_audio_without_audio_vae(components, no_models):
    pipe = LTXAudioVideoPipeline(**{**components, "transformer": no_models.transformer})
    assert pipe.audio_generation_enabled is False
    with pytest.raises(ValueError, match="generate_audio"):
        pipe(**COMMON, generate_audio=True)
    with pytest.raises(ValueError, match="audio"):
        pipe(**COMMON, audio=sine(), audio_sample_rate=16000)
    with pytest.raises(ValueError, match="audio_vae"):
        pipe.enable_audio_generation()


def test_generated_audio_needs_a_schedule_from_pure_noise(av_pipe):
    """Refinement schedules (starting below sigma 1) would label pure-noise audio as partly clean: refused."""
    start = torch.randn(1, 8, 2, 2, 2, generator=gen(4))
    with pytest.raises(ValueError, match="generate_audio=False"):
        av_pipe(**COMMON, latents=start, denoise_strength=0.5, generator=gen())
    with pytest.raises(ValueError, match="sigma 1"):
        av_pipe(**{**COMMON, "num_inference_steps": None}, timesteps=[900.0, 500.0], generator=gen())
    video_only = av_pipe(**COMMON, latents=start, denoise_strength=0.5, generate_audio=False, output_type="latent",
                         generator=gen())
    assert video_only.audio is None and torch.isfinite(video_only.frames).all()


def test_multiscale_is_video_only_and_latent_tuples_keep_audio(av_pipe):
    from ltx_video.testing import tiny_latent_upsampler

    av_pipe.register_modules(latent_upsampler=tiny_latent_upsampler())
    try:
        out = av_pipe.generate_multiscale(
            prompt="a ball", height=64, width=64, num_frames=9, max_sequence_length=16, output_type="pt",
            first_pass=dict(timesteps=[1000.0, 900.0]), second_pass=dict(timesteps=[900.0, 500.0]), generator=gen(),
        )
        assert out.frames.shape == (1, 9, 3, 64, 64)
        with pytest.raises(ValueError, match="video-only"):
            av_pipe.generate_multiscale(prompt="a ball", generate_audio=True)
    finally:
        av_pipe.register_modules(latent_upsampler=None)
    frames, audio_latents = av_pipe(**COMMON, output_type="latent", return_dict=False, generator=gen())
    assert audio_latents is not None and audio_latents.shape == (1, 18, AUDIO_CHANNELS)


def test_audio_sample_rate_without_audio_is_an_error(av_pipe):
    with pytest.raises(ValueError, match="audio_sample_rate"):
        av_pipe(**COMMON, audio_sample_rate=16000)


def test_output_audio_goes_back_in_and_its_rows_are_the_videos_own(av_pipe):
    """``audio=out.audio`` (and torchaudio's pair) failed in NumPy; a batch's given sound was one shared buffer, and a
    callback editing the held ``audio_latents`` in place failed with two videos."""
    out = av_pipe(**COMMON, output_type="pt", generator=gen())
    assert isinstance(out.audio, AudioTrack) and out.audio.sample_rate == 16000
    again = av_pipe(**COMMON, audio=out.audio, output_type="pt", generator=gen())
    plain = av_pipe(**COMMON, audio=out.audio.waveform[0], audio_sample_rate=16000, output_type="pt", generator=gen())
    assert torch.equal(again.frames, plain.frames)

    def halve(pipe, step, t, tensors):
        tensors["audio_latents"].mul_(0.5)
        return tensors

    two = av_pipe(**COMMON, audio=sine(), audio_sample_rate=16000, num_videos_per_prompt=2, output_type="latent",
                  callback_on_step_end=halve, callback_on_step_end_tensor_inputs=["audio_latents"], generator=gen())
    assert two.frames.shape[0] == 2
    rows = av_pipe(**COMMON, audio=sine(), audio_sample_rate=16000, num_videos_per_prompt=2, output_type="pt",
                   generator=gen()).audio.waveform
    rows[0] *= 0.5
    assert torch.equal(rows[1], sine()[:SAMPLES_9_AT_25])


def test_a_given_clip_cut_to_the_video_and_two_rows_of_sound_for_two_videos_are_said(av_pipe, caplog):
    """A 12-frame clip for a 9-frame video lost 3 frames, and a (2, S) sound for two prompts was mixed into one,
    both without a word."""
    import logging

    with caplog.at_level(logging.WARNING):
        av_pipe(**{**COMMON, "num_inference_steps": 1}, video=torch.rand(12, 3, 64, 64), output_type="latent",
                generator=gen())
    assert "`video`: the clip's 12 frames are cut to 9 (the video holds 9 frames from frame 0 on)" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        av_pipe(**{**COMMON, "num_inference_steps": 1, "prompt": ["a ball", "a cube"]},
                audio=torch.stack([sine(), sine(freq=880.0)]), audio_sample_rate=16000, output_type="latent",
                generator=gen())
    assert "`audio` has 2 rows and this call makes 2 videos" in caplog.text


def test_sound_for_a_shorter_clip_and_a_clip_held_with_its_sound_are_said(av_pipe, caplog):
    """Sound for a 9-frame clip in a 17-frame video also made up frames 9-16, and a whole clip held with audio= given
    left nothing to generate: both ran without a word (2026-12-07). Extension without audio, a clip of the video's
    length and a clip at strength < 1 with a sound stay silent."""
    import logging

    one_step = {**COMMON, "num_inference_steps": 1, "output_type": "latent", "generator": gen()}
    with caplog.at_level(logging.WARNING):
        av_pipe(**{**one_step, "num_frames": 17}, video=torch.rand(9, 3, 64, 64))
    assert ("`video` holds 9 frames and `num_frames` is 17: frames 9-16 are generated with the sound (a video "
            "extension); for sound for the clip alone, pass num_frames=9.") in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        av_pipe(**one_step, video=torch.rand(9, 3, 64, 64), audio=sine(), audio_sample_rate=16000)
    assert "`video` holds all 9 frames at strength 1 and `audio` is given: nothing is left to generate" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        av_pipe(**{**one_step, "num_frames": 17}, video=torch.rand(9, 3, 64, 64), generate_audio=False)
        av_pipe(**one_step, video=torch.rand(9, 3, 64, 64))
        av_pipe(**one_step, video=torch.rand(9, 3, 64, 64), strength=0.5, audio=sine(), audio_sample_rate=16000)
    assert "`video` holds" not in caplog.text


@pytest.mark.parametrize("audio", [[sine(), sine(freq=880.0)], [sine().numpy(), sine(freq=880.0).numpy()],
                                   (sine(), sine(freq=880.0))])
def test_a_list_of_waveforms_for_several_videos_is_refused(no_models, audio):
    """audio=[wav_a, wav_b] with two prompts was stacked into stereo channels: every video got their mix, silently."""
    with pytest.raises(ValueError) as error:
        no_models(**{**COMMON, "prompt": ["a ball", "a cube"]}, audio=audio, audio_sample_rate=16000)
    message = str(error.value)
    assert message.startswith("`audio` is a list of 2 waveforms and this call makes 2 videos") and "\n" not in message
    with pytest.raises(ValueError, match="makes 2 videos"):  # two videos of one prompt too
        no_models(**COMMON, num_videos_per_prompt=2, audio=audio, audio_sample_rate=16000)


@pytest.mark.parametrize("audio", [[sine(), sine(freq=880.0)], (sine().numpy(), sine(freq=880.0).numpy())])
def test_a_list_of_waveforms_for_one_video_is_refused(no_models, audio):
    """audio=[wav_a, wav_b] for one video was stacked into channels and the video got their mix, silently (refused
    only with several videos)."""
    with pytest.raises(ValueError) as error:
        no_models(**COMMON, audio=audio, audio_sample_rate=16000)
    assert str(error.value) == (
        "`audio` is a list of 2 waveforms: `audio` is one sound for all the videos (a waveform (S,) or (C, S), a list "
        "of samples, a (waveform, sample_rate) pair or a file path); for stereo pass one (2, S) waveform, for one "
        "sound per video call once per sound.")


def test_a_list_of_samples_and_a_pair_are_one_sound_for_one_video(av_pipe):
    kw = dict(COMMON, num_inference_steps=1, output_type="pt")
    samples = sine(0.1)
    plain = av_pipe(**kw, audio=samples, audio_sample_rate=16000, generator=gen()).audio.waveform
    as_list = av_pipe(**kw, audio=samples.tolist(), audio_sample_rate=16000, generator=gen()).audio.waveform
    as_pair = av_pipe(**kw, audio=(samples, 16000), generator=gen()).audio.waveform
    assert torch.equal(as_list, plain) and torch.equal(as_pair, plain) and torch.equal(plain[0, :1600], samples)


def test_a_list_of_samples_is_still_one_sound_for_every_video(av_pipe):
    """A list of float samples (one waveform) stays accepted with several videos: the same held sound for each."""
    kw = dict(COMMON, num_inference_steps=1, prompt=["a ball", "a cube"], audio_sample_rate=16000, output_type="pt")
    samples = sine(0.1)
    as_list = av_pipe(**kw, audio=samples.tolist(), generator=gen()).audio.waveform
    assert torch.equal(as_list, av_pipe(**kw, audio=samples, generator=gen()).audio.waveform)
    assert torch.equal(as_list[0], as_list[1]) and torch.equal(as_list[0, :1600], samples)


def test_audio_as_scipy_reads_it(av_pipe):
    """scipy.io.wavfile.read's (rate, data) pair was refused as "a ragged or mixed list"."""
    kw = dict(COMMON, num_inference_steps=1, output_type="pt")
    pcm = (sine(0.1).numpy() * 20000).astype(np.int16)
    by_pair = av_pipe(**kw, audio=(16000, pcm), generator=gen()).audio.waveform
    assert torch.equal(by_pair, av_pipe(**kw, audio=pcm, audio_sample_rate=16000, generator=gen()).audio.waveform)


def test_stereo_samples_first_is_turned_and_a_batchs_sounds_are_refused(av_pipe):
    """Stereo as (S, 2), as scipy and soundfile give it, is turned as the writers turn it (it was refused; before that
    it named no fix); a batch's output.audio.waveform is refused before any model (its rows are videos, they were
    mixed into one sound)."""
    from ltx_video.io.waveforms import mark_video_rows

    pcm = (sine(0.1).numpy() * 20000).astype(np.int16)
    kw = dict(COMMON, num_inference_steps=1, output_type="latent")
    last = av_pipe(**kw, audio=np.stack([pcm, pcm], axis=1), audio_sample_rate=16000, generator=gen()).audio_latents
    first = av_pipe(**kw, audio=np.stack([pcm, pcm]), audio_sample_rate=16000, generator=gen()).audio_latents
    assert torch.equal(last, first)
    with pytest.raises(ValueError, match=r"^`audio` holds the sounds of 2 videos"):
        av_pipe(**kw, audio=mark_video_rows(torch.zeros(2, SAMPLES_9_AT_25)), audio_sample_rate=16000)


def test_audio_forms_that_need_a_fix_say_it(no_models):
    """A list of file paths was read as samples ("dtype <U23")."""
    with pytest.raises(ValueError, match=r"`audio` takes one file path .*got a list of 2"):
        no_models(**COMMON, audio=["a.wav", "b.wav"])


def test_a_video_file_at_another_rate_is_said_once_before_denoising(av_pipe, tmp_path, caplog):
    """pipe(video="clip30.mp4") at frame_rate 25 took the 30 fps file frame for frame and timed the sound to 25 fps
    (every hit late against the file) without a word; only the command line said it (2026-12-07)."""
    import logging

    from ltx_video import ConditioningItem
    from ltx_video.io.media import write_video

    clip = write_video(tmp_path / "clip30.mp4", torch.rand(9, 3, 64, 64), 30)
    same = write_video(tmp_path / "clip25.mp4", torch.rand(9, 3, 64, 64), 25)
    said_at_steps = []

    def count(pipe, i, t, tensors):
        said_at_steps.append(sum("fps file" in r.getMessage() for r in caplog.records))
        return {}

    one_step = {**COMMON, "num_inference_steps": 2, "output_type": "latent"}
    with caplog.at_level(logging.WARNING):
        av_pipe(**one_step, video=str(clip), callback_on_step_end=count, generator=gen())
    notes = [r.getMessage() for r in caplog.records if "fps file" in r.getMessage()]
    assert notes == [f"`video` {clip} is a 30 fps file, taken frame for frame at `frame_rate`=25: it plays 1.20x as "
                     "long, and the sound made for it is timed to that; pass frame_rate=30 to keep its timing."]
    assert said_at_steps == [1, 1]  # once, before the first step
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # a given sound is not re-timed with the frames
        av_pipe(**one_step, conditioning_items=[ConditioningItem(str(clip), 0, 1.0)], audio=sine(),
                audio_sample_rate=16000, generator=gen())
    assert ("`conditioning_items` " + str(clip) + " is a 30 fps file, taken frame for frame at `frame_rate`=25: it plays "
            "1.20x as long, and the given `audio` is not: they drift apart; pass frame_rate=30") in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # the file's own rate, or the call's at it: nothing to say
        av_pipe(**{**one_step, "frame_rate": 30}, video=str(clip), generator=gen())
        av_pipe(**one_step, video=str(same), generator=gen())
        av_pipe(**one_step, video=torch.rand(9, 3, 64, 64), generator=gen())
    assert "fps file" not in caplog.text


def test_diffusers_audio0_of_a_batch_is_refused_not_written_as_stereo(av_pipe, tmp_path):
    """diffusers' LTX-2 example writes `audio[0]` of `video, audio = pipe(..., return_dict=False)`: its first video's
    sound. Here `audio[0]` is the AudioTrack's (B, S) waveform, whose two rows were written as left and right channels
    (another video's sound on the right). It is refused, naming what to pass; one row is written."""
    video, audio = av_pipe(**COMMON, num_videos_per_prompt=2, output_type="np", return_dict=False, generator=gen())
    with pytest.raises(ValueError, match=r"`audio` holds the sounds of 2 videos .*pass one video's, "
                                         r"output.audio.waveform\[i\]"):
        export_to_video(video[0], tmp_path / "a.mp4", fps=25, audio=audio[0], sample_rate=audio.sample_rate)
    assert not (tmp_path / "a.mp4").exists()
    path = export_to_video(video[0], tmp_path / "b.mp4", fps=25, audio=audio[0][0], sample_rate=audio.sample_rate)
    assert read_audio(path)[0].shape[-1] == SAMPLES_9_AT_25
    single = av_pipe(**COMMON, output_type="np", generator=gen()).audio.waveform  # (1, S): one video's sound, mono
    export_to_video(video[0], tmp_path / "c.mp4", fps=25, audio=single, sample_rate=audio.sample_rate)


def test_do_classifier_free_guidance_counts_the_audios_cfg(av_pipe):
    """diffusers' LTX2Pipeline: `do_classifier_free_guidance` is guidance_scale > 1 or audio_guidance_scale > 1."""
    seen = []

    def callback(pipe, step, timestep, kwargs):
        seen.append(pipe.do_classifier_free_guidance)
        return {}

    kw = dict(COMMON, output_type="latent", guidance_scale=1.0, callback_on_step_end=callback)
    av_pipe(**kw, generator=gen())
    av_pipe(**kw, audio_guidance_scale=7.0, generator=gen())
    av_pipe(**kw, audio_guidance_scale=7.0, generate_audio=False, generator=gen())
    assert seen == [False, False, True, True, False, False]


def test_audio_latents_of_a_wrong_shape_are_refused_naming_the_accepted_rows(no_models):
    """One video: "(1, 18, C)" (it said "(1 or 1, 18, C)"); two videos: either row count; both before any model, and
    prepare_audio_latents says the same."""
    for videos, rows in ((1, "1"), (2, "2 or 1")):
        with pytest.raises(ValueError) as error:
            no_models(**COMMON, num_videos_per_prompt=videos, audio_latents=torch.randn(18, AUDIO_CHANNELS))
        assert str(error.value) == (f"`audio_latents` must have shape ({rows}, 18, {AUDIO_CHANNELS}) for this call, "
                                    f"got (18, {AUDIO_CHANNELS}).")
    with pytest.raises(ValueError, match=rf"^`audio_latents` must have shape \(1, 18, {AUDIO_CHANNELS}\) "):
        no_models.prepare_audio_latents(batch_size=1, waveform=None, num_tokens=18, generator=None, device="cpu",
                                        latents=torch.randn(3, 18, AUDIO_CHANNELS))
