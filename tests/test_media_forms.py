"""Media in the forms new users passed them, each once read wrong or refused with a confusing error.

Reported by a user's try of the library (2026-12-06): int16 audio from ``scipy.io.wavfile.read`` used unscaled,
phone photos read sideways (EXIF), NaN audio giving a black video and then an encoder crash, uint16 and 16-bit
greyscale images read as white, uint8 tensors in ``ConditioningItem`` read as [-1, 1], an animated WebP read as
one frame, ``export_to_video(output)`` writing 24 fps whatever the video was generated at.
"""

import av
import numpy as np
import PIL.Image
import pytest
import torch
from conftest import gen
from diffusers.utils import load_image

from ltx_video import export_to_video
from ltx_video.io.images import read_image
from ltx_video.io.media import read_audio, read_video_tensor, resample_audio, write_video
from ltx_video.io.waveforms import float_waveform
from ltx_video.testing import tiny_audio_video_pipeline, tiny_pipeline

SR = 16000


@pytest.fixture(scope="module")
def av_pipe():
    pipe = tiny_audio_video_pipeline()
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def tone():
    return (0.5 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)).astype(np.float32)


# ----------------------------------------------------------------------------- audio
def test_integer_pcm_is_scaled_by_its_full_scale(av_pipe, tone):
    pcm = (tone * 32767).astype(np.int16)
    n, t = av_pipe.audio_length(9, 24)
    as_int = av_pipe.load_audio(pcm, SR, n, t)
    as_float = av_pipe.load_audio(pcm.astype(np.float32) / 32768, SR, n, t)  # what a WAV reader's float mode gives
    assert torch.equal(as_int, as_float) and as_int.abs().max() < 0.51  # was 16383
    assert torch.equal(float_waveform(torch.from_numpy(pcm)), float_waveform(pcm))  # an int16 tensor too
    assert float_waveform(np.array([0, 128, 255], np.uint8)).tolist() == [-1.0, 0.0, 127 / 128]  # 8-bit WAV
    assert float_waveform(np.array([-(2**31)], np.int32)).item() == -1.0
    assert float_waveform([0.25, -0.5]).tolist() == [0.25, -0.5]  # a list of samples


def test_bad_samples_are_refused_before_any_model_runs(av_pipe, tone):
    kw = dict(height=32, width=32, num_frames=9, frame_rate=24, num_inference_steps=1)
    for value in (np.nan, np.inf):
        bad = tone.copy()
        bad[100] = value
        with pytest.raises(ValueError, match="`audio` holds NaN or infinite samples"):
            av_pipe("a red ball", audio=bad, audio_sample_rate=SR, **kw)  # was a black video, then an encoder error
        with pytest.raises(ValueError, match="holds NaN or infinite"):
            export_to_video(np.zeros((9, 32, 32, 3), np.float32), audio=bad, sample_rate=SR)
    with pytest.raises(ValueError, match="video_frames holds NaN"):
        export_to_video(np.full((9, 32, 32, 3), np.nan, np.float32))  # was written as black
    with pytest.raises(ValueError, match="real samples"):
        float_waveform(np.ones(10, bool))


def test_rates_as_numpy_numbers_and_loud_arrays_clipped_like_files(av_pipe, tone, tmp_path):
    n, t = av_pipe.audio_length(9, 24)
    assert torch.equal(av_pipe.load_audio(tone, np.int64(SR), n, t), av_pipe.load_audio(tone, SR, n, t))
    assert av_pipe.load_audio(tone * 4, SR, n, t).abs().max() == 1.0  # read_audio clips a file's samples so
    path = export_to_video(np.zeros((12, 32, 32, 3), np.float32), str(tmp_path / "a.mp4"), fps=np.float32(24),
                           audio=list(tone[:8000]), sample_rate=16000.0)
    with av.open(path) as container:
        assert container.streams.video[0].average_rate == 24 and container.streams.audio[0].sample_rate == SR
    with pytest.raises(ValueError, match="must be a positive whole number"):
        export_to_video(np.zeros((12, 32, 32, 3), np.float32), audio=tone, sample_rate=16000.5)


def test_channels_last_stereo_is_transposed_as_wav_readers_give_it(tone, caplog, tmp_path):
    """scipy.io.wavfile.read's (rate, (S, 2) int16) was refused, "got (16000, 2)", though documented as taken."""
    pcm = (tone * 32767).astype(np.int16)
    frames = np.zeros((24, 32, 32, 3), np.float32)
    for audio, rate in (((SR, np.stack([pcm, pcm // 2], 1)), None), (np.stack([tone, tone / 2], 1), SR)):
        both, _ = read_audio(export_to_video(frames, str(tmp_path / "s.mp4"), audio=audio, sample_rate=rate), mono=False)
        left, right = both.square().mean(1).sqrt().tolist()  # (S, 2) read as 2 channels, not as 2 samples
        assert left == pytest.approx(0.5 / np.sqrt(2), rel=0.05) and right == pytest.approx(left / 2, rel=0.05)
    assert "fps=" not in caplog.text  # warned first of a 0.000 s track "at about fps=1.92e+05"
    with pytest.raises(ValueError, match=r"audio must have shape \(S,\), \(1, S\) or \(2, S\) \(or \(S, 1\) / "
                                         r"\(S, 2\) as WAV readers return it\), got \(3, 16000\)"):
        export_to_video(frames, audio=np.stack([tone] * 3), sample_rate=SR)


def _snr_db(written: np.ndarray, read: torch.Tensor) -> float:
    error = read.numpy() - written
    return float(10 * np.log10((written**2).sum() / (error**2).sum()))


@pytest.mark.parametrize("rate", [16000, 44100])
def test_mono_audio_reads_back_as_well_as_stereo(rate, tmp_path):
    """FFmpeg's AAC encoder codes one channel erratically (44.1 kHz: 17.0 dB where stereo read back at 44.0, peaks at
    1.0 for a 0.5 tone): mono is written as two identical channels, as diffusers' encode_video writes it."""
    wave = (0.5 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)
    frames = np.zeros((24, 32, 32, 3), np.uint8)
    mono = write_video(tmp_path / "m.mp4", frames, 24, audio=wave[None], sample_rate=rate)
    stereo = write_video(tmp_path / "s.mp4", frames, 24, audio=np.stack([wave, wave]), sample_rate=rate)
    reference = _snr_db(wave, read_audio(stereo, sample_rate=rate)[0][0])
    assert _snr_db(wave, read_audio(mono, sample_rate=rate)[0][0]) > reference - 3  # was 13.6 and 27.0 dB lower
    for channel in read_audio(mono, sample_rate=rate, mono=False)[0]:  # each channel is the sound
        assert _snr_db(wave, channel) > reference - 6


def test_audio_reads_back_exactly_as_long_as_written(tmp_path):
    """The mp4's movie time scale was 1000: the track ended on a whole ms (1000 samples at 16 kHz read back 1008)."""
    frames = np.zeros((24, 32, 32, 3), np.uint8)
    for rate, length in ((16000, 100), (16000, 16001), (48000, 1024), (44100, 20000)):
        path = write_video(tmp_path / "n.mp4", frames, 24, audio=np.full(length, 0.1, np.float32), sample_rate=rate)
        assert read_audio(path, sample_rate=rate)[0].shape[1] == length


def test_resample_audio_takes_what_the_writers_take(tone, tmp_path, caplog):
    """int16 came out unscaled (peak 9830 for a 0.3 track) and export_to_video clipped it silently; (S,) failed with
    KeyError: 22000."""
    pcm = (0.6 * tone * 32767).astype(np.int16)
    from_int = resample_audio(pcm[None], SR, 22050)
    torch.testing.assert_close(from_int, resample_audio(pcm[None] / 32768, SR, 22050), atol=1e-5, rtol=0)
    assert from_int.dtype == torch.float32 and from_int.abs().max() == pytest.approx(0.3, abs=0.01)
    assert resample_audio(pcm, SR, SR).abs().max() == pytest.approx(0.3, abs=0.01)  # the same rate: scaled too
    torch.testing.assert_close(resample_audio(tone, SR, 22050), resample_audio(tone[None], SR, 22050)[0])  # (S,)
    with pytest.raises(ValueError, match=r"waveform must have shape \(S,\), \(1, S\) or \(2, S\)"):
        resample_audio(np.zeros((3, 2, 100), np.float32), SR, 22050)
    frames = np.zeros((24, 32, 32, 3), np.uint8)
    clipped = "`audio` holds samples up to 2: float audio is in [-1, 1], so it is clipped"
    with caplog.at_level("WARNING", logger="ltx_video"):  # was clipped silently; diffusers' encode_video clips too
        export_to_video(frames, str(tmp_path / "c.mp4"), audio=tone * 4, sample_rate=SR)
        write_video(tmp_path / "x.mp4", frames, 24, audio=tone * 4, sample_rate=SR)
    assert [r.getMessage().startswith(clipped) for r in caplog.records] == [True, True]
    caplog.clear()
    path = export_to_video(frames, str(tmp_path / "r.mp4"), audio=resample_audio(pcm, SR, 22050), sample_rate=22050)
    assert read_audio(path)[0].abs().max() < 0.35


def test_frames_in_minus_one_to_one_are_refused(tmp_path):
    """[-1, 1] floats were written with their lower half black; small overshoot (a decoder's) still passes."""
    frames = np.random.default_rng(0).random((4, 32, 32, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"video_frames: float frames must be in \[0, 1\]; got min -1: frames in "
                                         r"\[-1, 1\] need \(x \+ 1\) / 2"):
        export_to_video(np.concatenate([frames * 2 - 1, np.full((1, 32, 32, 3), -1, np.float32)]))
    export_to_video(frames - 0.01, str(tmp_path / "o.mp4"))


def test_fps_sizes_and_home_paths_as_said(tmp_path, monkeypatch, caplog):
    """fps=0.0001 was refused as "got Fraction(0, 1)"; the resize warning said None kept the size (it pads to even);
    "~/x.mp4" was taken literally ("folder '~' does not exist")."""
    with pytest.raises(ValueError, match=r"fps must be at least 1/1001 .*got 0\.0001"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 32, 32, 3), np.uint8), 0.0001)
    frames = np.zeros((2, 47, 63, 3), np.uint8)
    export_to_video(frames, str(tmp_path / "r.mp4"))
    assert "macro_block_size=None or 1 does not resize: an odd size is then padded to even" in caplog.text
    with av.open(export_to_video(frames, str(tmp_path / "p.mp4"), macro_block_size=None)) as container:
        assert (container.streams.video[0].height, container.streams.video[0].width) == (48, 64)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert export_to_video(frames, "~/h.mp4") == str(tmp_path / "h.mp4")
    assert read_video_tensor("~/h.mp4")[0].shape[0] == 2 and (tmp_path / "h.mp4").is_file()


def test_an_output_is_written_at_the_frame_rate_it_was_generated_at(av_pipe, tmp_path):
    out = av_pipe("a red ball", height=32, width=32, num_frames=33, frame_rate=30, num_inference_steps=1,
                  generator=gen(0))
    assert out.frame_rate == 30.0
    with av.open(export_to_video(out, str(tmp_path / "o.mp4"))) as container:  # was 24 fps: 1.375 s of video
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.average_rate == 30 and video.frames == 33
        assert abs(float(audio.duration * audio.time_base) - 33 / 30) < 0.07  # AAC frames of 64 ms
    with av.open(export_to_video(out, str(tmp_path / "f.mp4"), fps=15)) as container:  # a given fps still wins
        assert container.streams.video[0].average_rate == 15


# ----------------------------------------------------------------------------- images
def _halves(height=32, width=64) -> np.ndarray:
    array = np.zeros((height, width, 3), np.uint8)
    array[:, : width // 2] = (255, 0, 0)
    array[:, width // 2 :] = (0, 0, 255)
    return array


def test_exif_orientation_is_applied_as_diffusers_load_image_does(pipes, tmp_path):
    image = PIL.Image.fromarray(_halves())
    exif = image.getexif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to show
    image.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    ours, theirs = read_image(tmp_path / "phone.jpg"), load_image(str(tmp_path / "phone.jpg"))
    assert ours.size == theirs.size == (32, 64) and np.array_equal(np.asarray(ours), np.asarray(theirs))
    pixels = pipes[1].load_condition_media(str(tmp_path / "phone.jpg"), 64, 32, 9, 0, "image")
    top, bottom = pixels[0, :, 0, :24].mean((1, 2)), pixels[0, :, 0, 40:].mean((1, 2))
    assert top[0] > 0.8 and top[2] < -0.8 and bottom[2] > 0.8 and bottom[0] < -0.8  # red over blue, not purple


def test_wide_integer_images_are_scaled_and_unknown_ranges_refused(pipes):
    ours = pipes[1]
    frame = _halves(64, 64)
    frame[10:20] = 77
    as_uint8 = ours.load_condition_media(frame, 64, 64, 9, 0, "image")
    as_uint16 = ours.load_condition_media(frame.astype(np.uint16) * 257, 64, 64, 9, 0, "image")  # read 102799
    torch.testing.assert_close(as_uint16, as_uint8, rtol=0, atol=1e-6)
    grey = PIL.Image.fromarray(np.full((64, 64), 40000, np.uint16))  # mode I;16, as a 16-bit PNG opens
    assert ours.load_condition_media(grey, 64, 64, 9, 0, "image").mean().item() == pytest.approx(
        round(40000 / 65535 * 255) / 255 * 2 - 1, abs=1e-6)  # was 1.0: PIL's convert clips at 255
    for bad in (torch.from_numpy(frame).permute(2, 0, 1).long(), torch.ones(3, 64, 64, dtype=torch.bool)):
        with pytest.raises(ValueError, match="`image` must be float in \\[0, 1\\], uint8 or uint16, got dtype"):
            ours.load_condition_media(bad, 64, 64, 9, 0, "image")  # read as 0-255 (or 1) values in [0, 1]
    # floats in 0..255 (np.asarray(img, np.float32)) were read as [0, 1] values: a keyframe 9 dB off, silently
    for bad in (frame.astype(np.float32), torch.from_numpy(frame).permute(2, 0, 1).float()):
        with pytest.raises(ValueError, match=r"`image` holds floats from 0 up to 255, read as 0\.\.255 values: floats are read in \[0, 1\]"):
            ours.load_condition_media(bad, 64, 64, 9, 0, "image")
    as_float = ours.load_condition_media(frame.astype(np.float32) / 255, 64, 64, 9, 0, "image")
    torch.testing.assert_close(as_float, as_uint8, rtol=0, atol=1e-6)  # [0, 1] floats as before


def test_a_uint8_tensor_as_ltx_media_is_read_from_0_to_255(pipes):
    ours = pipes[1]
    frame = torch.from_numpy(_halves(64, 64)).permute(2, 0, 1).contiguous()
    pixels = ours.load_condition_media(frame, 64, 64, 9, 0, "ltx")  # was (0, 255) taken as [-1, 1]
    assert pixels.min().item() == -1.0 and pixels.max().item() == 1.0
    torch.testing.assert_close(pixels, ours.load_condition_media(frame, 64, 64, 9, 0, "image"), rtol=0, atol=1e-6)


def test_files_by_what_they_hold(pipes, tmp_path):
    ours = pipes[1]
    frames = [PIL.Image.fromarray(np.full((64, 64, 3), 20 * i, np.uint8)) for i in range(9)]
    frames[0].save(tmp_path / "anim.webp", save_all=True, append_images=frames[1:], lossless=True)
    clip = ours.load_condition_media(str(tmp_path / "anim.webp"), 64, 64, 9, 0, "video")
    assert clip.shape[2] == 9  # was its first frame only
    assert clip[0, 0, :, 0, 0].diff().min() > 0  # in order
    export_to_video(frames, str(tmp_path / "clip.mp4"), fps=24)
    with pytest.raises(ValueError, match="`image` takes one image, but .*clip.mp4 is a video"):
        ours.load_condition_media(str(tmp_path / "clip.mp4"), 64, 64, 9, 0, "image")  # conditioned on all of it
    frames[4].save(tmp_path / "still.tif")
    assert ours.load_condition_media(str(tmp_path / "still.tif"), 64, 64, 9, 0, "ltx").shape[2] == 1  # read as a clip
    for i, frame in enumerate(frames):
        frame.save(tmp_path / f"f{i}.png")
    listed = ours.load_condition_media([str(tmp_path / f"f{i}.png") for i in range(9)], 64, 64, 9, 0, "video")
    torch.testing.assert_close(listed, ours.load_condition_media(frames, 64, 64, 9, 0, "video"), rtol=0, atol=0)
    (tmp_path / "notes.txt").write_text("not media")
    with pytest.raises(ValueError, match="`video`: cannot read .*notes.txt as an image or video"):
        ours.load_condition_media(str(tmp_path / "notes.txt"), 64, 64, 9, 0, "video")


def test_an_output_h264_cannot_go_in_is_named(tmp_path):
    for name in ("clip.webm", "clip.gif", "clip"):  # was FFmpeg's "'webm' format does not support 'libx264' codec"
        with pytest.raises(ValueError, match="the output path must end in .mp4, .mov, .mkv or .m4v"):
            export_to_video(np.zeros((4, 16, 16, 3), np.float32), str(tmp_path / name))
        assert not (tmp_path / name).exists()


def test_the_same_generated_frames_give_the_same_file_at_every_encode(tmp_path):
    # x264's macroblock tree made each encode of these frames (the built-in model's, 2 steps) differ in one process:
    # `ltx-video generate --seed` gave another video each run. Synthetic frames did not show it.
    from ltx_video.default_model import load_default_pipeline

    pipe = load_default_pipeline()
    pipe.set_progress_bar_config(disable=True)
    frames = pipe("a red ball bounces", num_inference_steps=2, generator=gen(0), output_type="np").frames[0]
    files = [tmp_path / f"{i}.mp4" for i in range(3)]
    for path in files:
        export_to_video(frames, str(path))
    assert files[0].read_bytes() == files[1].read_bytes() == files[2].read_bytes()


def test_files_say_which_colours_they_hold(tmp_path):
    # PyAV converts RGB to BT.601 limited-range YUV; untagged, players assume BT.709 for HD and shift the colours.
    frames = np.zeros((4, 32, 32, 3), np.float32)
    frames[..., 0] = 1.0
    with av.open(export_to_video(frames, str(tmp_path / "red.mp4"))) as container:
        context = container.streams.video[0].codec_context
        assert (context.colorspace, context.color_primaries, context.color_trc, context.color_range) == (6, 6, 6, 1)
        luma = next(container.decode(video=0)).to_ndarray(format="yuv420p")[:32]
    assert abs(int(luma[0, 0]) - round(16 + 219 * 0.299)) <= 1  # pure red's BT.601 luma: what the tags say


@pytest.mark.parametrize("audio_video, num_frames, width, extra", [
    (False, 9, 32, {}), (False, 17, 32, {}), (False, 9, 96, {}),  # 3 latent frames, 3 latent columns: shapes of frames
    (True, 9, 32, {}), (True, 17, 32, {"generate_audio": False})])
def test_export_refuses_a_latent_output_naming_it(audio_video, num_frames, width, extra, tmp_path):
    """A pipeline output of output_type="latent" holds (B, C, F, h, w) latents: export_to_video said "video_frames
    must have 3 channels" or "float frames must be in [0, 1]", naming an argument the user never passed."""
    pipe = tiny_audio_video_pipeline() if audio_video else tiny_pipeline()
    pipe.set_progress_bar_config(disable=True)
    kw = dict(prompt="a red ball", height=32, width=width, num_frames=num_frames, num_inference_steps=1, **extra)
    latent = pipe(**kw, output_type="latent", generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=r'^export_to_video: this pipeline output holds latents \(output_type="latent"\)'):
        export_to_video(latent, str(tmp_path / "x.mp4"))
    assert not (tmp_path / "x.mp4").exists()
    frames = pipe(**kw, output_type="pt", generator=torch.Generator().manual_seed(0))
    assert export_to_video(frames, str(tmp_path / "y.mp4")) == str(tmp_path / "y.mp4")


def test_batches_and_flags_are_named(tmp_path, caplog):
    """export_to_video(out.frames) of a batch said a list was accepted and refused a list ("got list"), or "4 dims";
    export_to_video(out) of two videos wrote the first without a word; read_audio took mono="false" as True."""
    from types import SimpleNamespace

    frames = np.zeros((2, 9, 32, 32, 3), np.float32)
    for batch in (frames, torch.from_numpy(frames), [[PIL.Image.new("RGB", (32, 32))] * 9] * 2):
        with pytest.raises(ValueError, match=r"^video_frames holds a batch of 2 videos .*pass one, output.frames\[i\]"):
            export_to_video(batch, str(tmp_path / "b.mp4"))
    with caplog.at_level("WARNING", logger="ltx_video"):
        path = export_to_video(SimpleNamespace(frames=frames, frame_rate=24.0), str(tmp_path / "o.mp4"))
    assert [r.getMessage() for r in caplog.records] == [
        "export_to_video: the output holds 2 videos and only the first is written; for video i pass output.frames[i] "
        "with audio=output.audio.waveform[i]."]
    path = write_video(tmp_path / "a.mp4", np.zeros((24, 32, 32, 3), np.uint8), 24,
                       audio=np.zeros(SR, np.float32), sample_rate=SR)
    for name, value in (("mono", "false"), ("align_to_video", "no")):
        with pytest.raises(ValueError, match=rf"^{name} must be True or False, got '"):
            read_audio(path, **{name: value})
