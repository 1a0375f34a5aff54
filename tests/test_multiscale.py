"""Multi-scale generation against its steps run by hand with diffusers' latent-upsample pipeline."""

import numpy as np
import pytest
import torch
from conftest import gen
from diffusers import LTXLatentUpsamplePipeline

from ltx_video import ConditioningItem, LTXVideoPipeline
from ltx_video.pipelines.latent_ops import adain_filter_latent
from ltx_video.pipelines.multiscale import first_pass_size, resize_frames, upsample_latents
from ltx_video.testing import tiny_latent_upsampler
from ltx_video.utils.memory import LiveTensorBytes

FIRST = dict(timesteps=[1000.0, 993.7, 909.4, 725.0], guidance_scale=1.0)
SECOND = dict(timesteps=[909.4, 725.0, 421.9], guidance_scale=1.0, stg_scale=1.0, skip_block_list=[1])


@pytest.fixture(scope="module")
def pipe(components):
    pipe = LTXVideoPipeline(**components, latent_upsampler=tiny_latent_upsampler())
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_first_pass_size_as_ltx_video():
    assert first_pass_size(704, 1216, 0.6666666) == (448, 800)
    with pytest.raises(ValueError, match="downscale_factor"):
        first_pass_size(64, 64, 0.25)


def test_adain_matches_reference_statistics():
    g = torch.Generator().manual_seed(0)
    x, ref = torch.randn(2, 4, 3, 5, 5, generator=g) * 3 + 1, torch.randn(2, 4, 3, 5, 5, generator=g)
    out = adain_filter_latent(x, ref, 1.0)
    assert torch.allclose(out.mean((2, 3, 4)), ref.mean((2, 3, 4)), atol=1e-5)
    assert torch.allclose(out.std((2, 3, 4)), ref.std((2, 3, 4)), atol=1e-5)
    assert torch.equal(adain_filter_latent(x, ref, 0.0), x)


def test_multiscale_equals_manual_steps(pipe, components):
    kw = dict(prompt="a red ball", num_frames=9, max_sequence_length=16, decode_timestep=0.05, decode_noise_scale=0.025)
    out = pipe.generate_multiscale(height=96, width=96, downscale_factor=0.6666666, first_pass=FIRST,
                                   second_pass=SECOND, output_type="pt", generator=gen(), **kw).frames
    assert out.shape == (1, 9, 3, 96, 96)

    # By hand: first pass at 32x32 (int(96 * 0.6666666) = 63 -> 32), upsample (diffusers, AdaIN 1.0), 64x64, resize.
    g = gen()
    first = pipe(**kw, **FIRST, height=32, width=32, output_type="latent", generator=g).frames
    upsample = LTXLatentUpsamplePipeline(vae=components["vae"], latent_upsampler=pipe.latent_upsampler)
    up = upsample(latents=first, adain_factor=1.0, output_type="latent").frames
    second = pipe(**kw, **SECOND, height=64, width=64, latents=up, output_type="latent", generator=g).frames
    video = pipe.decode_latents(second, decode_timestep=0.05, decode_noise_scale=0.025, tone_map_compression_ratio=0.0,
                                generator=g, dtype=torch.float32)
    frames = torch.nn.functional.interpolate(video[0].transpose(0, 1), size=(96, 96), mode="bilinear")
    expected = ((frames.clamp(-1, 1) + 1) / 2)[None]
    assert torch.allclose(out, expected, atol=1e-6)


def test_multiscale_takes_decode_values_as_arrays(pipe):
    # `decode_timestep or 0.0` asked a two-entry array for its truth ("ambiguous") before any check ran
    kw = dict(prompt=["a red ball", "a blue cube"], num_frames=9, max_sequence_length=16, height=64, width=64,
              downscale_factor=0.5, first_pass=FIRST, second_pass=SECOND, output_type="np")
    listed = pipe.generate_multiscale(decode_timestep=[0.05, 0.1], generator=gen(), **kw).frames
    array = pipe.generate_multiscale(decode_timestep=np.array([0.05, 0.1]), generator=gen(), **kw).frames
    assert np.array_equal(array, listed)  # "np" (and the default "pil") also need the call's no_grad: numpy() refuses


def test_multiscale_runs_without_autograd(pipe):
    # a helper once slid between @torch.no_grad() and generate_multiscale: "pt" frames came back with a graph
    out = pipe.generate_multiscale(prompt="a red ball", num_frames=9, max_sequence_length=16, height=64, width=64,
                                   downscale_factor=0.5, first_pass=FIRST, second_pass=SECOND, output_type="pt",
                                   generator=gen()).frames
    assert not out.requires_grad and out.grad_fn is None


def test_second_pass_must_keep_latents(pipe):
    with pytest.raises(ValueError, match="second_pass"):
        pipe.generate_multiscale(prompt="x", height=64, width=64, num_frames=9, first_pass=FIRST,
                                 second_pass=dict(timesteps=[1000.0, 500.0]))


def test_multiscale_odd_size_with_condition(pipe, images):
    """80x100 pads to 96x128: the keyframe is padded once, resized per pass, and the result is cropped back."""
    kw = dict(prompt="a red ball", num_frames=9, max_sequence_length=16)
    out = pipe.generate_multiscale(height=80, width=100, image=images[0], first_pass=FIRST, second_pass=SECOND,
                                   output_type="pt", generator=gen(), **kw).frames
    assert out.shape == (1, 9, 3, 80, 100)

    # By hand: the image at 80x100, padded (14, 14, 8, 8) with mid-grey, passes at 32x64 then 64x128.
    pixels = pipe.media_processor.preprocess(images[0], 80, 100)
    padded = torch.nn.functional.pad(pixels, (14, 14, 8, 8), value=0.0)[:, :, None]
    item = [ConditioningItem(padded[0], 0, 1.0)]
    g = gen()
    first = pipe(**kw, **FIRST, height=32, width=64, conditioning_items=item, output_type="latent", generator=g).frames
    up = upsample_latents(pipe, pipe.latent_upsampler, first)
    second = pipe(**kw, **SECOND, height=64, width=128, conditioning_items=item, latents=up, output_type="latent",
                  generator=g).frames
    video = pipe.decode_latents(second, decode_timestep=0.0, decode_noise_scale=None, tone_map_compression_ratio=0.0,
                                generator=g, dtype=torch.float32)
    frames = torch.nn.functional.interpolate(video[0].transpose(0, 1), size=(96, 128), mode="bilinear")
    expected = ((frames[:, :, 8:88, 14:114].clamp(-1, 1) + 1) / 2)[None]
    assert torch.allclose(out, expected, atol=1e-6)


def test_keyframes_at_a_padded_size_equal_the_image(pipe, images):
    """keyframes= were read at each pass's size, stretched over the padding (0.53 off image= at 50x70)."""
    from ltx_video import Keyframe

    kw = dict(prompt="a red ball", height=50, width=70, num_frames=9, max_sequence_length=16, first_pass=FIRST,
              second_pass=SECOND, output_type="pt")
    by_image = pipe.generate_multiscale(**kw, image=images[0], generator=gen()).frames
    by_keyframe = pipe.generate_multiscale(**kw, keyframes=[Keyframe(images[0], 0)], keyframe_interpolation=0,
                                           generator=gen()).frames
    assert torch.equal(by_keyframe, by_image)
    one = pipe.generate_multiscale(**kw, keyframes=Keyframe(images[0], 0), keyframe_interpolation=0, generator=gen())
    assert torch.equal(one.frames, by_image)  # one Keyframe, not in a list, as a call takes it


def test_the_second_pass_keeps_its_upsampled_latents_under_keyframe_interpolation(pipe, images, monkeypatch):
    """keyframe_interpolation mixes the first pass's start from noise; the second pass starts at sigma 0.909 from
    the upsampled latents, which it takes unchanged (since 2026-12-07; they were pulled toward the interpolation)."""
    from ltx_video import Keyframe

    seen = []
    original = LTXVideoPipeline.prepare_control_state

    def spy(self, plan, state, **kw):
        out = original(self, plan, state, **kw)
        seen.append((float(plan.sigmas[0]), (out.latents - state.latents).abs().max().item()))
        return out

    monkeypatch.setattr(LTXVideoPipeline, "prepare_control_state", spy)
    pipe.generate_multiscale(prompt="a red ball", height=64, width=64, num_frames=17, max_sequence_length=16,
                             keyframes=[Keyframe(images[0], 0), Keyframe(images[1], 16)], keyframe_interpolation=0.3,
                             first_pass=FIRST, second_pass=SECOND, output_type="latent", generator=gen())
    (first_sigma, first_change), (second_sigma, second_change) = seen
    assert first_sigma == 1.0 and first_change > 0.1
    assert second_sigma == pytest.approx(0.9094)
    assert second_change == 0.0


def test_pass_dicts_are_checked_before_the_first_pass(pipe):
    """A typo, a key the passes set themselves, or a bad second-pass value failed after the first pass (or was
    ignored without a word: height in a pass dict)."""
    from conftest import forward_calls

    kw = dict(prompt="a red ball", height=64, width=64, num_frames=9, max_sequence_length=16)
    cases = ((dict(second_pass={**SECOND, "guidance_scal": 2.0}), "`second_pass` has an unknown argument `guidance_scal`"),
             (dict(first_pass={**FIRST, "height": 128}), "`first_pass` sets `height`"),
             (dict(second_pass={**SECOND, "stg_scale": -1}), "second pass .*`stg_scale` must be a finite number"),
             (dict(second_pass={**SECOND, "timesteps": [0.725, 0.42]}), "second pass .*diffusers' units"))
    with forward_calls(pipe.transformer) as calls:
        for passes, message in cases:
            with pytest.raises(ValueError, match=message):
                pipe.generate_multiscale(**{**kw, "first_pass": FIRST, "second_pass": SECOND, **passes})
    assert calls == []


def test_a_stopped_first_pass_stops_the_run_and_a_refine_takes_the_shared_schedule(pipe):
    from conftest import forward_calls

    def stop(p, i, t, tensors):
        p._interrupt = True
        return tensors

    kw = dict(prompt="a red ball", height=64, width=64, num_frames=9, max_sequence_length=16, output_type="pt")
    with forward_calls(pipe.transformer) as calls:
        out = pipe.generate_multiscale(**kw, first_pass=FIRST, second_pass=SECOND, callback_on_step_end=stop,
                                       generator=gen()).frames
    assert len(calls) == 1 and out.shape == (1, 9, 3, 64, 64)  # the second pass ran from unfinished latents before
    # timesteps for both passes and diffusers' refine (denoise_strength < 1) in the second: refused, asking for it
    schedule = [1000.0, 900.0, 700.0, 400.0]
    refined = pipe.generate_multiscale(**kw, timesteps=schedule, guidance_scale=1.0,
                                       second_pass=dict(denoise_strength=0.5), generator=gen()).frames
    explicit = pipe.generate_multiscale(**kw, first_pass=dict(timesteps=schedule), guidance_scale=1.0,
                                        second_pass=dict(timesteps=schedule[2:]), generator=gen()).frames
    assert torch.equal(refined, explicit)  # the strength keeps the schedule's last half, as diffusers slices it


def test_a_config_takes_its_multiscale_keys_as_overrides(pipe):
    from ltx_video.configs import load_config

    config = load_config("ltxv-2b-0.9.8-distilled")
    kw = dict(prompt="a red ball", height=64, width=64, num_frames=9, max_sequence_length=16, output_type="pt")
    second = {**config.second_pass, "timesteps": [725.0]}
    got = config.generate(pipe, **kw, downscale_factor=0.5, second_pass={"timesteps": [725.0]}, generator=gen()).frames
    expected = pipe.generate_multiscale(**{**config.call, **kw}, downscale_factor=0.5, first_pass=config.first_pass,
                                        second_pass=second, generator=gen()).frames
    assert torch.equal(got, expected)
    # a schedule given for a pass replaces the config's for that pass (its timesteps won over num_inference_steps)
    from conftest import forward_calls

    with forward_calls(pipe.transformer) as calls:
        config.generate(pipe, **kw, first_pass={"num_inference_steps": 2}, second_pass={"num_inference_steps": 2,
                                                                                        "denoise_strength": 0.5},
                        generator=gen())
    assert len(calls) == 3


def test_a_check_only_call_in_one_thread_leaves_another_threads_calls_alone(pipe):
    """The second pass's dry run was a flag on the pipeline: a plain call in another thread stopped with
    ArgumentsChecked."""
    import threading

    from ltx_video.pipelines.inputs import ArgumentsChecked, checking_only

    kw = dict(prompt="a red ball", height=32, width=32, num_frames=9, max_sequence_length=16, num_inference_steps=1,
              output_type="latent")
    inside, release, errors = threading.Event(), threading.Event(), []

    def hold():
        with checking_only():
            inside.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait(60)
    try:
        pipe(**kw, generator=gen())
    except ArgumentsChecked as error:
        errors.append(error)
    finally:
        release.set()
        holder.join()
    assert errors == []


def test_a_camera_moves_the_videos_pixels_per_frame_in_each_pass(pipe, monkeypatch):
    """Each pass moved the camera `speed` of its own pixels per frame: twice the asked speed in the half-size first
    pass (4K mode's too), and a speed a plain call takes was refused as moving a video the user never asked for."""
    from ltx_video import Camera
    from ltx_video.conditioning import camera_controller

    seen, field = [], camera_controller.CameraController.motion_field

    def spy(self, num_frames, height, width, *args, **kwargs):
        out = field(self, num_frames, height, width, *args, **kwargs)
        seen.append((height, width, out.shift[0, 1].tolist()))
        return out

    monkeypatch.setattr(camera_controller.CameraController, "motion_field", spy)
    kw = dict(prompt="a red ball", num_frames=9, max_sequence_length=16, output_type="latent")
    for motion, axis, roll in (("pan_left", 0, 0), ("pan_up", 1, 0), ("orbit_right", 0, 0), ("zoom_in", None, 0),
                               ("pan_left", 1, 90)):  # rolled: the pan moves the content vertically on screen
        camera = Camera(motion_type=motion, speed=4.0, rotation=(0.0, 0.0, roll))
        seen.clear()
        pipe(**kw, height=96, width=160, num_inference_steps=1, camera=camera)
        plain = seen[-1][2]  # the video's own pixels
        seen.clear()  # downscale 2/3: passes of 32 x 96 and 64 x 192, the second resized to the video's 96 x 160
        pipe.generate_multiscale(**kw, height=96, width=160, downscale_factor=0.6666666, first_pass=FIRST,
                                 second_pass=SECOND, generator=gen(), camera=camera)
        sizes = {(h, w): shift for h, w, shift in seen}
        assert set(sizes) == {(32, 96), (64, 192)}
        if axis is None:  # percent of scale: the same at every size
            assert sizes[32, 96] == sizes[64, 192] == plain
            continue
        full = 160 if axis == 0 else 96
        for (h, w), shift in sizes.items():  # each pass's shift, in the video's pixels, is the plain call's
            assert shift[axis] * full / (w if axis == 0 else h) == pytest.approx(plain[axis], rel=1e-5), (motion, h, w)
    # a pass's own camera is kept (the call's replaced it), and scaled to that pass's size as well
    seen.clear()
    pipe.generate_multiscale(**kw, height=96, width=160, downscale_factor=0.6666666, first_pass=FIRST,
                             second_pass={**SECOND, "camera": Camera(motion_type="pan_up", speed=4.0)}, generator=gen(),
                             camera=Camera(motion_type="pan_left", speed=4.0))
    sizes = {(h, w): shift for h, w, shift in seen}
    assert sizes[32, 96][1] == 0 and sizes[64, 192][0] == 0  # pan_left in the first pass, pan_up in the second
    assert abs(sizes[64, 192][1]) * 96 / 64 == pytest.approx(abs(sizes[32, 96][0]) * 160 / 96, rel=1e-5)


def test_smallest_side_is_computed_not_walked():
    """smallest_side walked one VAE block at a time (7 s for a factor of 1e-7, minutes for 1e-9, before any refusal);
    it is now computed, equal to the walk wherever the walk is quick, and the smallest side whose first pass fits."""
    from ltx_video.pipelines.multiscale import smallest_side

    def walked(factor, ratio, multiple):
        padded = ratio
        while int(padded * factor) < multiple:
            padded += ratio
        return padded - ratio + 1

    factors = [1.0, 0.999, 2 / 3, 0.6666666666666666, 0.5, 0.3, 0.25, 0.1, 0.07, 1 / 3, 0.013]
    for factor in factors:
        for ratio, multiple in [(32, 32), (32, 1), (8, 32), (64, 32), (32, 64)]:
            assert smallest_side(factor, ratio, multiple) == walked(factor, ratio, multiple), (factor, ratio, multiple)
    side = smallest_side(1e-9, 32, 32)
    padded = -(-side // 32) * 32
    assert int(padded * 1e-9) >= 32 and int((padded - 32) * 1e-9) < 32


@pytest.mark.parametrize("factor", [1.5, 0, -0.5, float("nan")])
def test_downscale_factor_message_says_zero_is_refused(pipe, factor):
    """It said "a finite number in [0, 1]" and refused 0 too."""
    with pytest.raises(ValueError, match=rf"`downscale_factor` must be a finite number in \(0, 1\], got {factor!r}."):
        pipe.generate_multiscale(prompt="a", downscale_factor=factor, first_pass=FIRST, second_pass=SECOND)
    with pytest.raises(ValueError, match=r"in \(0, 1\]"):
        first_pass_size(64, 64, factor)


def test_the_final_resize_keeps_its_bits_in_the_videos_dtype(pipe, monkeypatch):
    """The decoded video was resized as one float32 copy (``.float()``, interpolate, ``.to(dtype)``); it is now
    resized one frame at a time into a buffer of the video's dtype: the same frames, bit for bit (a 16-bit decode,
    two videos, a padded size cropped)."""
    from ltx_video.pipelines.latent_ops import Padding
    from ltx_video.pipelines.postprocess import postprocess_video

    decode, decoded = pipe.decode_latents, []

    def decode_in_bfloat16(*args, **kwargs):
        video = decode(*args, **kwargs).to(torch.bfloat16)
        decoded.append(video.clone())
        return video

    monkeypatch.setattr(pipe, "decode_latents", decode_in_bfloat16)
    out = pipe.generate_multiscale(prompt=["a red ball", "a blue cube"], height=80, width=96, num_frames=9,
                                   max_sequence_length=16, first_pass=FIRST, second_pass=SECOND, output_type="pt",
                                   generator=gen()).frames
    (video,) = decoded
    assert video.shape == (2, 3, 9, 64, 64)  # the second pass's size, resized to the padded 96 x 96
    frames = torch.nn.functional.interpolate(video.transpose(1, 2).flatten(0, 1).float(), size=(96, 96),
                                             mode="bilinear", align_corners=False).to(video.dtype)  # the old code
    before = frames.unflatten(0, (2, 9)).transpose(1, 2)
    expected = postprocess_video(pipe.video_processor, Padding(80, 96, 9, 32).crop(before), "pt")
    assert out.dtype == torch.bfloat16 and out.shape == (2, 9, 3, 80, 96)
    assert torch.equal(out, expected)


def test_resize_frames_holds_one_float32_frame():
    """Besides the video and its resized copy, one frame in float32: the whole video was copied to float32 and
    resized in float32 (the old code peaked 12.9 frames above the output here); the same size is no resize."""
    video = torch.randn(2, 3, 9, 48, 64, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
    assert resize_frames(video, 48, 64) is video  # 4K mode: the decode is at the padded size already
    with LiveTensorBytes(existing=[video]) as tracker:
        out = resize_frames(video, 64, 64)
    output, frame = out.numel() * 2, 3 * (48 * 64 + 64 * 64) * 4  # a frame in and out, in float32
    assert out.shape == (2, 3, 9, 64, 64) and out.dtype == torch.bfloat16
    assert output <= tracker.peak <= output + 2 * frame
