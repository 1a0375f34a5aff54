"""Keyframes and cameras as users pass them: NumPy scalars, batches of one, odd speeds, strength 0; and the call's
batch arguments (generator lists, ``num_videos_per_prompt``) refused as diffusers refuses them. Each case came from
trying the API as a new user would (2026-12-06)."""

import logging
import math

import numpy as np
import pytest
import torch
from conftest import gen

from ltx_video import Camera, CameraController, Keyframe
from ltx_video.conditioning.multi_keyframe_processor import KeyframeAdapter, MultiKeyframeProcessor
from ltx_video.io.media import export_to_video
from ltx_video.testing import tiny_audio_video_pipeline

ARGS = dict(prompt="a red ball", height=64, width=64, num_frames=25, num_inference_steps=2, output_type="latent",
            max_sequence_length=16)


@pytest.fixture(scope="module")
def pipe():
    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _refused(check, match):
    with pytest.raises(ValueError, match=match):
        check()


def test_camera_values_as_users_pass_them():
    camera = Camera(motion_type="pan_left", speed=np.float32(1.5), fov=np.int64(50), background_depth=np.float64(3))
    assert (camera.speed, camera.fov, camera.background_depth) == (1.5, 50.0, 3.0)
    assert all(type(v) is float for v in (camera.speed, camera.fov, camera.background_depth))
    _refused(lambda: Camera(motion_type="dolly_forward", background_depth=float("inf")), "`background_depth` must be a finite")
    _refused(lambda: Camera(speed=True), "`speed` must be a finite number")
    assert CameraController(camera, strength=np.float32(0.5)).strength == 0.5
    for name, value in (("strength", "0.5"), ("strength", None), ("until", "1"), ("lowpass", float("inf"))):
        _refused(lambda name=name, value=value: CameraController(camera, **{name: value}), f"`{name}` must be")


def test_0d_tensors_and_arrays_are_taken_as_their_numbers_and_the_docs_names_import_from_ltx_video():
    """As ``ConditioningItem(media_frame_number=torch.tensor(8))``: a 0-d tensor or array is its Python number
    (refused before 2026-12-07); a 1-d one or a float frame stays refused. The modules docs/control.md uses are
    importable from ``ltx_video`` (lazily, as the other names)."""
    import ltx_video
    from ltx_video.conditioning.camera_controller import CameraMotionEncoder

    camera = Camera(motion_type="pan_left", speed=torch.tensor(1.5), fov=np.array(50), background_depth=torch.tensor(3))
    assert (camera.speed, camera.fov, camera.background_depth) == (1.5, 50.0, 3.0)
    assert all(type(v) is float for v in (camera.speed, camera.fov, camera.background_depth))
    assert CameraController(camera, strength=torch.tensor(0.25), until=np.array(1.0)).strength == 0.25
    keyframe = Keyframe(torch.rand(3, 64, 64), torch.tensor(8), strength=torch.tensor(0.5))
    assert (keyframe.frame_index, keyframe.strength) == (8, 0.5)
    assert type(keyframe.frame_index) is int and type(keyframe.strength) is float
    assert Keyframe(torch.rand(3, 64, 64), np.array(16)).frame_index == 16
    _refused(lambda: Keyframe(torch.rand(3, 64, 64), torch.tensor([8])), "`frame_index` must be an int")
    _refused(lambda: Keyframe(torch.rand(3, 64, 64), torch.tensor(8.0)), "`frame_index` must be an int")
    _refused(lambda: Camera(speed=torch.tensor([1.5])), "`speed` must be a finite number")
    _refused(lambda: Camera(speed=torch.tensor(True)), "`speed` must be a finite number")
    assert ltx_video.CameraMotionEncoder is CameraMotionEncoder and ltx_video.KeyframeAdapter is KeyframeAdapter
    assert {"CameraMotionEncoder", "KeyframeAdapter"} <= set(ltx_video.__all__)


def test_the_pixel_camera_warns_about_keyframes_placed_as_tokens(pipe, caplog):
    """The pixel-space camera re-renders the video from frame 0's world: a keyframe after frame 0 placed as tokens
    is overridden (in place at strength 1 it is kept: test_keyframes), so the call says so in one line."""
    image = torch.rand(3, 64, 64)
    pixel = CameraController(Camera(motion_type="pan_left"), space="pixel", strength=1.0, until=1.0,
                             schedule="constant")

    def warnings(keyframes, camera=pixel):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            pipe.plan_control(keyframes=keyframes, camera=camera, keyframe_interpolation=0.0, other_conditions=False,
                              num_frames=25, height=64, width=64)
        return [r.getMessage() for r in caplog.records if "placement='in_place'" in r.getMessage()]

    said = warnings([Keyframe(image, 0), Keyframe(image, 16)])
    assert len(said) == 1 and "(frames [16], given as keyframes=)" in said[0]  # one wording for every form
    assert warnings([Keyframe(image, 0), Keyframe(image, 16, placement="in_place")]) == []
    assert warnings([Keyframe(image, 0)]) == []  # frame 0 is the render's own
    assert warnings([Keyframe(image, 0), Keyframe(image, 16)], Camera(motion_type="pan_left")) == []  # latent space
    assert warnings([Keyframe(image, 16)], CameraController(Camera(), space="pixel")) == []  # imposes nothing


@pytest.mark.parametrize("motion", ["zoom_out", "dolly_backward"])
def test_a_zoom_out_is_held_to_its_mirrors_bound_and_stays_finite(motion):
    mirror = {"zoom_out": "zoom_in", "dolly_backward": "dolly_forward"}[motion]
    for speed in (5.0, 60.0, 1000.0):  # 64 px frame, 4 frames per latent step
        outcomes = []
        for kind in (motion, mirror):
            try:
                CameraController(Camera(motion_type=kind, speed=speed)).check(49, 64, 64, 4)
                outcomes.append(True)
            except ValueError as error:
                outcomes.append(False)
                assert f"({kind})" in str(error)
        assert outcomes[0] == outcomes[1], speed
    assert outcomes == [False, False]  # 1000 % per frame, refused both ways
    # A long zoom out at an accepted speed: the world coordinates stay finite (a million pixels at most).
    offsets = CameraController(Camera(motion_type=motion, speed=5.0)).motion_field(300, 64, 64, 4).world_offsets(4, 4)
    assert torch.isfinite(offsets).all() and offsets.abs().max() == 1e6


def test_camera_bound_counts_the_frames_the_pipeline_pads_to():
    camera = CameraController(Camera(motion_type="pan_left", speed=1000.0))
    for num_frames in (2, 4, 5):  # padded to 5: one latent step either way
        _refused(lambda n=num_frames: camera.check(n, 64, 64, 4), "the whole frame or more")
    camera.check(1, 64, 64, 4)  # one frame: nothing moves


def test_keyframe_values_and_media_as_users_pass_them(tmp_path):
    image = torch.rand(3, 64, 64)
    keyframe = Keyframe(image, np.int64(24), strength=np.float32(0.5))
    assert (keyframe.frame_index, keyframe.strength) == (24, 0.5)
    assert type(keyframe.frame_index) is int and type(keyframe.strength) is float
    assert Keyframe(image[None], 24, placement="in_place").kind == "image"  # a batch of one is one image
    assert Keyframe(np.zeros((1, 64, 64, 3), np.uint8), 0).kind == "image"
    assert Keyframe(torch.rand(9, 3, 64, 64), 8).kind == "video"
    _refused(lambda: Keyframe(None, 0), "`image_or_clip` must be a PIL image")
    _refused(lambda: Keyframe(tmp_path, 0), "`image_or_clip` is a folder")
    _refused(lambda: Keyframe(image, 0, strength=True), "`strength` must be in")


def test_keyframes_the_latent_grid_cannot_hold_are_refused():
    image = torch.rand(3, 64, 64)
    check = MultiKeyframeProcessor.check
    same_latent = [Keyframe(image, 21, placement="in_place"), Keyframe(image, 24, placement="in_place")]
    _refused(lambda: check(same_latent, 49, 4), "frames 21 and 24 are both placed in place in latent frame 6")
    check(same_latent, 49)  # without the VAE's compression the frames are only checked for range and order
    check([Keyframe(image, 21, placement="in_place"), Keyframe(image, 25, placement="in_place")], 49, 4)
    check([Keyframe(image, 21), Keyframe(image, 24)], 49, 4)  # as tokens, both are kept
    _refused(lambda: check([Keyframe(torch.rand(9, 3, 64, 64), 10)], 49, 4), "a clip at frame 10 must start at a multiple of 4")
    check([Keyframe(torch.rand(9, 3, 64, 64), 8)], 49, 4)
    check([Keyframe(torch.rand(9, 3, 64, 64), 46)], 49, 4)  # near the end it is trimmed to one frame
    two = torch.rand(2, 3, 64, 64)  # one image per prompt, as `image=` takes: a 2-frame clip here, refused
    _refused(lambda: check([Keyframe(two, 0)], 49, 4), "the clip at frame 0 has 2 frames")
    # a clip writes the video's latent frames too (all at frame 0; after its first two elsewhere): an in-place image
    # or another clip there overwrote part of it without a word
    clip = torch.rand(9, 3, 64, 64)  # 3 latent frames at r = 4
    _refused(lambda: check([Keyframe(clip, 0), Keyframe(image, 4, placement="in_place")], 49, 4),
             "frames 0 and 4 both write latent frame 1")
    _refused(lambda: check([Keyframe(torch.rand(13, 3, 64, 64), 8), Keyframe(torch.rand(13, 3, 64, 64), 12)], 49, 4),
             "frames 8 and 12 both write latent frame 5")
    check([Keyframe(clip, 0), Keyframe(image, 12, placement="in_place")], 49, 4)  # latent frame 3: free
    check([Keyframe(clip, 0), Keyframe(image, 4)], 49, 4)  # as tokens it writes no latent frame of the video


def test_a_keyframe_at_strength_zero_steers_nothing(pipe):
    profile = MultiKeyframeProcessor.strength_profile([(0, 1.0), (4, 0.0), (6, 1.0)], 8)
    assert profile.tolist() == pytest.approx([1, 0.84375, 0.5, 0.15625, 0, 0.5, 1, 0])
    image = torch.rand(3, 64, 64, generator=gen(1))
    other = torch.rand(3, 64, 64, generator=gen(2))
    starts = {}

    def grab(name):
        def callback(p, i, t, tensors):
            starts.setdefault(name, tensors["latents"].clone())
            return tensors
        return callback

    for name, strength, interpolation in (("plain", 0.0, 0.0), ("zero", 0.0, 0.5), ("full", 1.0, 0.5)):
        pipe(**{**ARGS, "num_inference_steps": 1}, keyframes=[Keyframe(image, 0, strength), Keyframe(other, 24, strength)],
             keyframe_interpolation=interpolation, generator=gen(0), callback_on_step_end=grab(name))
    assert torch.equal(starts["zero"], starts["plain"])  # strength 0: the interpolation leaves the noise alone
    assert (starts["full"] - starts["plain"]).abs().max() > 0.1


def test_keyframe_interpolation_is_checked_without_keyframes(pipe):
    _refused(lambda: pipe(**ARGS, keyframe_interpolation=5.0, generator=gen(0)), r"`keyframe_interpolation` must be a number in \[0, 1\)")


def test_batch_arguments_are_refused_as_diffusers_refuses_them(pipe):
    _refused(lambda: pipe(**{**ARGS, "prompt": ["a", "b"]}, generator=[gen(0)]),
             r"`generator` is a list of 1 generators, but 2 videos are made")
    _refused(lambda: pipe(**ARGS, num_videos_per_prompt=2, generator=[gen(0), gen(1), gen(2)]),
             r"`generator` is a list of 3 generators, but 2 videos are made")
    _refused(lambda: pipe(**ARGS, num_videos_per_prompt=0), "`num_videos_per_prompt` must be an integer >= 1")
    out = pipe(**{**ARGS, "prompt": ["a", "b"]}, generator=[gen(0), gen(1)])
    assert out.frames.shape[0] == 2


def test_export_warns_when_fps_is_not_the_generation_rate(tmp_path, caplog):
    frames, rate = torch.rand(49, 3, 32, 32), 16000
    audio = torch.zeros(round(rate * 49 / 30))  # generated at 30 fps
    with caplog.at_level(logging.WARNING, logger="ltx_video.io.media"):
        export_to_video(frames, tmp_path / "a.mp4", fps=30, audio=audio, sample_rate=rate)
        assert not caplog.records
        export_to_video(frames, tmp_path / "b.mp4", fps=24, audio=audio, sample_rate=rate)
    assert len(caplog.records) == 1 and "about fps=30" in caplog.records[0].getMessage()


def test_callbacks_read_and_replace_the_text_as_in_diffusers(pipe):
    from diffusers import LTXConditionPipeline, LTXPipeline

    for reference in (LTXPipeline, LTXConditionPipeline):
        assert set(reference._callback_tensor_inputs) <= set(pipe._callback_tensor_inputs)
    args = dict(ARGS, guidance_scale=3.0, generate_audio=False)
    names = ["latents", "prompt_embeds", "negative_prompt_embeds"]
    seen = {}

    def keep(p, i, t, tensors):  # returns what it was given
        seen.setdefault("shapes", (tensors["prompt_embeds"].shape, tensors["negative_prompt_embeds"].shape))
        return tensors

    def copies(p, i, t, tensors):  # equal values, new tensors: taken, and nothing changes
        return {**tensors, "prompt_embeds": tensors["prompt_embeds"].clone()}

    def silence(p, i, t, tensors):  # the text replaced after the first step
        return {**tensors, "prompt_embeds": torch.zeros_like(tensors["prompt_embeds"])}

    plain = pipe(**args, generator=gen(0)).frames
    runs = {f.__name__: pipe(**args, generator=gen(0), callback_on_step_end=f, callback_on_step_end_tensor_inputs=names)
            for f in (keep, copies, silence)}
    batch, tokens, width = seen["shapes"][1]
    assert seen["shapes"][0] == (2 * batch, tokens, width)  # negative and positive, as diffusers' loop holds them
    assert torch.equal(runs["keep"].frames, plain) and torch.equal(runs["copies"].frames, plain)
    assert (runs["silence"].frames - plain).abs().max() > 1e-3
    with pytest.raises(ValueError, match="must keep"):
        pipe(**args, generator=gen(0), callback_on_step_end_tensor_inputs=names,
             callback_on_step_end=lambda p, i, t, x: {**x, "prompt_embeds": x["prompt_embeds"][:1]})


def test_a_folder_saved_again_holds_only_what_was_saved(tmp_path):
    """Control modules ride beside the components; saving a pipeline without them into a folder that had them
    removes theirs, else from_pretrained would load them back into a pipeline that never had them."""
    from ltx_video import LTXAudioVideoPipeline
    from ltx_video.conditioning.camera_controller import CameraMotionEncoder

    with_modules = tiny_audio_video_pipeline(seed=0)
    config = with_modules.transformer.config
    dim = config.num_attention_heads * config.attention_head_dim
    with_modules.camera_encoder = CameraMotionEncoder(dim, hidden=8)
    with_modules.keyframe_adapter = KeyframeAdapter(dim, latent_channels=8, blocks=(0,), heads=2)
    with_modules.save_pretrained(tmp_path)
    loaded = LTXAudioVideoPipeline.from_pretrained(tmp_path)
    assert isinstance(loaded.camera_encoder, CameraMotionEncoder) and isinstance(loaded.keyframe_adapter, KeyframeAdapter)
    (tmp_path / "notes").mkdir()  # a folder of the user's is left alone
    tiny_audio_video_pipeline(seed=0).save_pretrained(tmp_path)
    loaded = LTXAudioVideoPipeline.from_pretrained(tmp_path)
    assert loaded.camera_encoder is None and loaded.keyframe_adapter is None
    assert not (tmp_path / "camera_encoder").exists() and (tmp_path / "notes").is_dir()


def test_audio_latents_fix_the_audio_noise_as_latents_fix_the_videos(pipe):
    """LTX-2's pipeline takes ``audio_latents``; with it and ``latents`` a call draws no noise from ``generator``."""
    args = dict(ARGS, num_frames=9, guidance_scale=1.0, stg_scale=0.0)
    shapes = pipe(**args, generator=gen(0))
    video_shape, audio_shape = shapes.frames.shape, shapes.audio_latents.shape
    noise = torch.randn(video_shape, generator=gen(1))
    sound, other = torch.randn(audio_shape, generator=gen(2)), torch.randn(audio_shape, generator=gen(3))
    first = pipe(**args, latents=noise, audio_latents=sound, generator=gen(4))
    second = pipe(**args, latents=noise, audio_latents=sound, generator=gen(5))
    assert torch.equal(first.frames, second.frames) and torch.equal(first.audio_latents, second.audio_latents)
    changed = pipe(**args, latents=noise, audio_latents=other, generator=gen(4))
    assert (changed.audio_latents - first.audio_latents).abs().max() > 1e-3
    with pytest.raises(ValueError, match="`audio_latents` must have shape"):
        pipe(**args, latents=noise, audio_latents=sound[:, :-1], generator=gen(4))
    with pytest.raises(ValueError, match="`audio_latents` is the generated audio's starting noise"):
        pipe(**args, audio_latents=sound, generate_audio=False, generator=gen(4))


def test_a_camera_at_speed_0_is_the_static_camera(pipe):
    """Any motion at speed 0 is ``Camera()``: held still in latent space (tests/test_keyframes.py), nothing in pixel
    space. Pins the behaviour (a change to speed-0 handling on 2026-12-07 was reverted)."""
    static = pipe(**ARGS, camera=Camera(), generator=gen(0)).frames
    assert torch.equal(pipe(**ARGS, camera=Camera(motion_type="pan_left", speed=0.0), generator=gen(0)).frames, static)
    plain = pipe(**ARGS, generator=gen(0)).frames
    pixel = CameraController(Camera(motion_type="zoom_in", speed=0.0), space="pixel")
    assert torch.equal(pipe(**ARGS, camera=pixel, generator=gen(0)).frames, plain)


def test_a_padded_size_places_the_camera_by_the_requested_frame(pipe, monkeypatch):
    """72 x 40 is generated at 96 x 64 and cropped: the pivot of a 25 degree yaw is placed by the 72 px frame's focal
    length and offset by the padding (12 px), in both spaces; by the padded width it fell outside the video."""
    import ltx_video.pipelines.control as control

    camera = Camera(motion_type="dolly_forward", speed=2.0, rotation=(25.0, 0.0, 0.0))
    focal = 36 / math.tan(math.radians(30))  # the 72 px frame's, at a 60 degree field of view
    expected = (36 + focal * math.tan(math.radians(25)), 20.0)  # (65.1, 20): inside the video
    seen = []
    constrain, grid = CameraController.constrain, control.camera_grid

    def spy_constrain(self, clean, field, weight):
        seen.append(field.centre)
        return constrain(self, clean, field, weight)

    def spy_grid(controller, num_frames, height, width, device=None):
        seen.append(controller.centre(height, width))
        return grid(controller, num_frames, height, width, device)

    monkeypatch.setattr(CameraController, "constrain", spy_constrain)
    monkeypatch.setattr(control, "camera_grid", spy_grid)
    args = {**ARGS, "height": 40, "width": 72, "num_inference_steps": 1}
    pipe(**args, camera=camera, generator=gen(0))
    pipe(**args, camera=CameraController(camera, space="pixel"), generator=gen(0))
    assert len(seen) == 2
    for cx, cy in seen:
        assert (cx - 12, cy - 12) == pytest.approx(expected) and 0 < cx - 12 < 72


def test_a_keyframe_adapter_for_another_model_is_refused_before_any_model_runs(pipe):
    """Blocks past the transformer were refused after T5 and the VAE; a wrong width or channel count failed inside
    the transformer with torch's shape error."""
    from conftest import forward_calls

    config = pipe.transformer.config
    width = config.num_attention_heads * config.attention_head_dim
    keyframes = [Keyframe(torch.rand(3, 64, 64), 0)]
    try:
        for adapter, message in ((KeyframeAdapter(width, config.in_channels, blocks=(5,), heads=2), r"`blocks` must"),
                                 (KeyframeAdapter(width, 128, heads=2), "`latent_channels` is 128"),
                                 (KeyframeAdapter(4 * width, config.in_channels, heads=2), f"`inner_dim` is {4 * width}")):
            pipe.keyframe_adapter = adapter
            with forward_calls(pipe.text_encoder) as calls, pytest.raises(ValueError, match=message):
                pipe(**ARGS, keyframes=keyframes)
            assert calls == []
    finally:
        pipe.keyframe_adapter = None


def _warnings(caplog, pipe, text, **kw):
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        pipe(**{**ARGS, "num_inference_steps": 1}, generator=gen(0), **kw)
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_the_pixel_camera_warns_about_every_condition_placed_as_tokens(pipe, caplog):
    """``image=``, ``video=``, ``conditions=`` and ``conditioning_items`` after frame 0 are placed as tokens, and the
    pixel-space camera overrides them as it does keyframes: the call says so in one line with their frames (before
    2026-12-08 only ``keyframes=`` warned; the videos are the same)."""
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    from ltx_video import ConditioningItem

    image = torch.rand(3, 64, 64, generator=gen(1))
    pixel = CameraController(Camera(motion_type="pan_left"), space="pixel", strength=1.0, until=1.0,
                             schedule="constant")
    for given in (dict(image=[image, image], frame_index=[0, 16]),
                  dict(conditions=[LTXVideoCondition(image=image, frame_index=0),
                                   LTXVideoCondition(image=image, frame_index=16)]),
                  dict(conditioning_items=[ConditioningItem(image, 0, 1.0), ConditioningItem(image, 16, 1.0)])):
        said = _warnings(caplog, pipe, "overrides", camera=pixel, **given)
        assert len(said) == 1 and "frames [16]" in said[0] and "placement='in_place'" in said[0], said
    assert _warnings(caplog, pipe, "overrides", camera=pixel, image=image) == []  # frame 0 is the render's own
    assert _warnings(caplog, pipe, "overrides", camera=Camera(motion_type="pan_left"), image=[image, image],
                     frame_index=[0, 16]) == []  # the latent-space camera keeps them


def test_keyframe_interpolation_without_keyframes_warns_that_it_is_unused(pipe, caplog):
    """``image=``/``frame_index=`` start from noise as in diffusers, whatever ``keyframe_interpolation`` says: a value
    other than the default and 0 warns in one line (it was silently unused before 2026-12-08)."""
    image = torch.rand(3, 64, 64, generator=gen(1))
    placed = dict(image=[image, image], frame_index=[0, 16])
    said = _warnings(caplog, pipe, "`keyframe_interpolation`", keyframe_interpolation=0.9, **placed)
    assert said == ["`keyframe_interpolation` is 0.9 but `keyframes` is not given: it is not used (image=, video=, "
                    "conditions= and conditioning_items start from noise, as in diffusers). Pass the images as "
                    "keyframes=[Keyframe(image, frame_index), ...] to start from their interpolation."]
    assert _warnings(caplog, pipe, "`keyframe_interpolation`", **placed) == []  # the default, left out
    assert _warnings(caplog, pipe, "`keyframe_interpolation`", keyframe_interpolation=0.0, **placed) == []
    assert _warnings(caplog, pipe, "`keyframe_interpolation`", keyframe_interpolation=0.9,
                     keyframes=[Keyframe(image, 0), Keyframe(image, 16)]) == []


def test_keyframe_interpolation_takes_0d_tensors_and_arrays(pipe):
    """As Keyframe's and Camera's numbers: a 0-d tensor or array is its number (refused before 2026-12-08); bools and
    1-d ones stay refused."""
    keyframes = [Keyframe(torch.rand(3, 64, 64), 0), Keyframe(torch.rand(3, 64, 64), 16)]

    def plan(value):
        return pipe.plan_control(keyframes=keyframes, camera=None, keyframe_interpolation=value, other_conditions=False,
                                 num_frames=25, height=64, width=64)[0]

    for value in (torch.tensor(0.25), np.array(0.25), np.float32(0.25), torch.tensor(0.25, dtype=torch.float64)):
        strength = plan(value).processor.interpolation_strength
        assert strength == 0.25 and type(strength) is float
    for value in (torch.tensor(True), np.array(True), True, torch.tensor([0.25]), np.array([0.25])):
        _refused(lambda value=value: plan(value), r"`keyframe_interpolation` must be a number in \[0, 1\), got")
    assert torch.equal(pipe(**ARGS, keyframes=keyframes, keyframe_interpolation=torch.tensor(0.5), generator=gen(0)).frames,
                       pipe(**ARGS, keyframes=keyframes, keyframe_interpolation=0.5, generator=gen(0)).frames)
