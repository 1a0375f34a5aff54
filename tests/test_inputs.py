"""Bad input fails with a ValueError naming the argument, before any model runs; odd sizes are padded."""

import numpy as np
import pytest
import torch
from conftest import gen

from ltx_video import ConditioningItem, LTXVideoCondition, LTXVideoPipeline


@pytest.fixture
def pipe(components, monkeypatch):
    pipe = LTXVideoPipeline(**components)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture
def no_models(pipe, monkeypatch):
    """Fail loudly if any model runs."""

    def boom(*args, **kwargs):
        raise AssertionError("a model ran before the input check")

    for name in ("transformer", "vae", "text_encoder"):
        monkeypatch.setattr(getattr(pipe, name), "forward", boom)
    return pipe


BAD = [
    (dict(height=0), "height"),
    (dict(width=-32), "width"),
    (dict(num_frames=0), "num_frames"),
    (dict(frame_rate=0), "frame_rate"),
    (dict(frame_rate=float("inf")), "frame_rate"),  # accepted: every frame at time 0
    (dict(frame_rate="24"), "frame_rate"),  # TypeError from a comparison before
    (dict(height=True), "height"),  # read as 1 before
    (dict(num_frames=True), "num_frames"),
    (dict(num_inference_steps=0), "num_inference_steps"),
    (dict(timesteps=[500.0, 900.0]), "timesteps"),
    (dict(output_type="gif"), "output_type"),
    (dict(timestep_schedule="karras"), "timestep_schedule"),
    (dict(prompt=None), "prompt"),
    (dict(prompt_embeds=torch.zeros(1, 4, 16)), "prompt"),
    (dict(skip_block_list=[5], stg_scale=1.0), "skip_block_list"),
    (dict(skip_layer_strategy="bogus"), "skip_layer_strategy"),
    (dict(guidance_scale=-1.0), "guidance_scale"),
    (dict(rescaling_scale=2.0, stg_scale=1.0, skip_block_list=[0]), "rescaling_scale"),
    # read only by the decoder, after the whole loop, each a raw TypeError or a late error before 2026-12-07
    (dict(decode_timestep=None), "decode_timestep"),
    (dict(decode_timestep="0.05"), "decode_timestep"),
    (dict(decode_timestep=float("nan")), "decode_timestep"),  # an all-NaN video
    (dict(decode_noise_scale="x"), "decode_noise_scale"),
    (dict(tone_map_compression_ratio=5), "tone_map_compression_ratio"),
    (dict(tone_map_compression_ratio="a"), "tone_map_compression_ratio"),
    # non-finite or mistyped numbers: NaN videos, or raw comparison errors
    (dict(guidance_scale=float("inf")), "guidance_scale"),
    (dict(image_cond_noise_scale=float("inf")), "image_cond_noise_scale"),
    (dict(image_cond_noise_scale=float("nan")), "image_cond_noise_scale"),
    (dict(guidance_scale=[3.0, 3.0], guidance_timesteps=[900, float("nan")]), "guidance_timesteps"),
    (dict(num_inference_steps=True), "num_inference_steps"),  # ran one step
    (dict(timesteps="abc"), "timesteps"),
    (dict(denoise_strength=None), "denoise_strength"),
    (dict(guidance_rescale=None), "guidance_rescale"),
    (dict(image=[]), "image"),  # conditioned nothing, without a word
    # text that the text encoder's outputs cannot agree with (torch.cat errors after T5, or inside the transformer)
    (dict(negative_prompt=["x", "y"]), "negative_prompt"),
    (dict(prompt=None, prompt_embeds=torch.zeros(1, 8, 5), prompt_attention_mask=torch.ones(1, 8)), "channels"),
    (dict(prompt=None, prompt_embeds=torch.zeros(1, 8, 16), prompt_attention_mask=torch.ones(1, 8)),
     "max_sequence_length"),
    (dict(prompt=["a", "b"], negative_prompt_embeds=torch.zeros(1, 16, 16),
          negative_prompt_attention_mask=torch.ones(1, 16)), "negative_prompt_embeds"),
]


@pytest.mark.parametrize("kwargs,name", BAD, ids=[b[1] + str(i) for i, b in enumerate(BAD)])
def test_bad_arguments(no_models, kwargs, name):
    call = {**dict(prompt="a ball", height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16),
            **kwargs}
    with pytest.raises(ValueError, match=name):
        no_models(**call)


def test_bad_conditions(no_models, images):
    base = dict(prompt="a ball", height=64, width=64, num_frames=9, num_inference_steps=2)
    with pytest.raises(ValueError, match="frame_index"):
        no_models(**base, conditions=[LTXVideoCondition(image=images[0], frame_index=9)])
    with pytest.raises(ValueError, match="strength"):
        no_models(**base, image=images[0], strength=1.5)
    with pytest.raises(ValueError, match="conditioning_strength"):
        ConditioningItem(images[0], 0, -0.1)
    with pytest.raises(ValueError, match="media_frame_number"):
        ConditioningItem(images[0], -1, 1.0)
    with pytest.raises(ValueError, match="media_frame_number"):
        ConditioningItem(images[0], "0")  # a raw TypeError from a comparison before
    with pytest.raises(ValueError, match="conditioning_strength"):
        ConditioningItem(images[0], 0, None)
    with pytest.raises(ValueError, match="strength"):
        no_models(**base, image=images[0], strength=None)
    with pytest.raises(ValueError, match="frame_index"):
        no_models(**base, image=images[:2], frame_index=[0])
    with pytest.raises(ValueError, match="only one"):
        no_models(**base, image=images[0], conditions=[LTXVideoCondition(image=images[0])])


def test_odd_sizes_are_padded_and_cropped(pipe):
    """A 50x70, 10-frame request runs at 64x96 x 17 frames and is the centre crop of that run."""
    kw = dict(prompt="a ball", num_inference_steps=2, max_sequence_length=16, output_type="pt")
    odd = pipe(height=50, width=70, num_frames=10, generator=gen(), **kw).frames
    full = pipe(height=64, width=96, num_frames=17, generator=gen(), **kw).frames
    assert odd.shape == (1, 10, 3, 50, 70)
    # Padding (left, right, top, bottom) = (13, 13, 7, 7).
    assert torch.allclose(odd, full[:, :10, :, 7:57, 13:83], atol=1e-6)


def test_condition_on_padded_video(pipe, images):
    kw = dict(prompt="a ball", num_inference_steps=2, max_sequence_length=16, output_type="pt")
    out = pipe(height=48, width=60, num_frames=12, image=images[0], generator=gen(), **kw).frames
    assert out.shape == (1, 12, 3, 48, 60)
    assert torch.isfinite(out).all()


def test_callback_can_replace_latents(pipe):
    seen = []

    def callback(p, step, t, tensors):
        seen.append((step, float(t)))
        return {"latents": torch.zeros_like(tensors["latents"])}

    out = pipe(prompt="a ball", height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16,
               output_type="latent", callback_on_step_end=callback, generator=gen()).frames
    assert [s for s, _ in seen] == [0, 1] and seen[0][1] == 1000.0
    assert torch.equal(out, torch.zeros_like(out))


def test_padded_condition_equals_explicit_padding(pipe, images):
    """A keyframe on a 48x60 video is the same as the grey-padded keyframe on the 64x64 canvas."""
    kw = dict(prompt="a ball", num_inference_steps=2, max_sequence_length=16, output_type="latent")
    odd = pipe(height=48, width=60, num_frames=9, image=images[0], generator=gen(), **kw).frames
    pixels = pipe.media_processor.preprocess(images[0], 48, 60)
    padded = torch.nn.functional.pad(pixels, (2, 2, 8, 8), value=0.0)[0]
    full = pipe(height=64, width=64, num_frames=9, conditioning_items=[ConditioningItem(padded, 0, 1.0)],
                generator=gen(), **kw).frames
    assert torch.equal(odd, full)


def test_unit_and_alignment_errors(no_models, images):
    base = dict(prompt="a ball", height=64, width=64, num_frames=17)
    with pytest.raises(ValueError, match="0..1000"):
        no_models(**base, timesteps=[1.0, 0.9, 0.7])
    with pytest.raises(ValueError, match="guidance_timesteps"):
        no_models(**base, guidance_timesteps=[1.0, 0.9], guidance_scale=[3, 1])
    with pytest.raises(ValueError, match="multiple of 8"):
        no_models(**base, video=[images[0]] * 9, frame_index=4)
    with pytest.raises(ValueError, match="denoise_strength"):
        no_models(**base, denoise_strength=1.5)


def test_a_conditioning_items_frame_is_named_as_its_own(no_models, images):
    base = dict(prompt="a ball", height=64, width=64, num_frames=17, num_inference_steps=2, max_sequence_length=16)
    with pytest.raises(ValueError, match=r"`media_frame_number` must be in \[0, 16\]"):
        no_models(**base, conditioning_items=[ConditioningItem(images[0], 17, 1.0)])


def test_numpy_frame_indices_are_ints(images):
    import numpy as np

    from ltx_video.testing import tiny_pipeline

    base = dict(prompt="a ball", height=64, width=64, num_frames=17, num_inference_steps=2, max_sequence_length=16)
    pipe_ok = tiny_pipeline()
    pipe_ok.set_progress_bar_config(disable=True)
    by_int = pipe_ok(**base, image=images[0], frame_index=8, generator=gen(), output_type="pt").frames
    for call in (dict(image=images[0], frame_index=np.int64(8)),  # refused before: "got np.int64(8)"
                 dict(conditions=[LTXVideoCondition(image=images[0], frame_index=np.int64(8))])):
        assert torch.equal(pipe_ok(**base, **call, generator=gen(), output_type="pt").frames, by_int)


def test_multiscale_sizes_are_checked_before_the_first_pass(no_models):
    from ltx_video.testing import tiny_latent_upsampler

    for name, value in (("height", 96.0), ("height", 0), ("width", True), ("num_frames", 0)):
        with pytest.raises(ValueError, match=rf"`{name}` must be a positive integer"):
            no_models.generate_multiscale(prompt="a ball", **{"height": 64, "width": 64, name: value},
                                          latent_upsampler=tiny_latent_upsampler(), num_inference_steps=2,
                                          second_pass={"timesteps": [500.0]})


def test_one_conditioning_item_is_taken_as_a_list_of_one(pipe, images):
    """As ``conditions=`` takes one condition; a single ConditioningItem was 'not iterable'."""
    kw = dict(prompt="a ball", height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16,
              output_type="latent")
    item = ConditioningItem(torch.zeros(3, 64, 64), 0, 1.0)
    assert torch.equal(pipe(**kw, conditioning_items=item, generator=gen()).frames,
                       pipe(**kw, conditioning_items=[item], generator=gen()).frames)


@pytest.mark.parametrize("extra", [{}, dict(max_sequence_length=8), dict(prompt_attention_mask=None)])
def test_prompt_with_prompt_embeds_is_refused_first(no_models, extra):
    """diffusers' message, before the text checks that read either one (one said to pass max_sequence_length)."""
    from ltx_video.testing import tiny_audio_video_pipeline

    av = tiny_audio_video_pipeline(seed=0)
    call = dict(prompt="a ball", prompt_embeds=torch.zeros(1, 8, 16), prompt_attention_mask=torch.ones(1, 8),
                height=64, width=64, num_frames=9, num_inference_steps=2) | extra
    for pipe in (no_models, av):
        with pytest.raises(ValueError, match=r"^Cannot forward both `prompt` and `prompt_embeds`: pass exactly one"):
            pipe(**call)


@pytest.mark.parametrize("name,value", [("stochastic_sampling", "no"), ("stochastic_sampling", "False"),
                                        ("stochastic_sampling", 1), ("cfg_star_rescale", "False"),
                                        ("cfg_star_rescale", None)])
def test_flags_must_be_bools(no_models, name, value):
    """A string or a number was taken by its truth: "no" ran stochastic sampling, "False" CFG-Zero*."""
    base = dict(prompt="a ball", height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16)
    with pytest.raises(ValueError, match=rf"^`{name}` must be True or False.*, got {value!r}\.$"):
        no_models(**base, **{name: value})
    with pytest.raises(ValueError, match=rf"^`{name}` must be True or False"):  # before the first pass runs a model
        no_models.generate_multiscale(**base, latent_upsampler=_upsampler(), second_pass={"timesteps": [500.0]},
                                      first_pass={name: value})


def _upsampler():
    from ltx_video.testing import tiny_latent_upsampler

    return tiny_latent_upsampler()


def test_audio_video_flags_must_be_bools():
    from ltx_video.testing import tiny_audio_video_pipeline

    av = tiny_audio_video_pipeline(seed=0)
    base = dict(prompt="a ball", height=64, width=64, num_frames=9, num_inference_steps=2)
    for name, value in (("generate_audio", "false"), ("stochastic_sampling", "no"), ("cfg_star_rescale", 0)):
        with pytest.raises(ValueError, match=rf"^`{name}` must be True or False"):
            av(**base, **{name: value})


def test_return_dict_is_taken_by_its_truth_as_diffusers_does(pipe):
    # diffusers' LTX pipelines read `if not return_dict`; a refusal of 0 / 1 (briefly, 2026-12-07) broke such calls
    kw = dict(prompt="a ball", height=64, width=64, num_frames=9, num_inference_steps=1, max_sequence_length=16,
              output_type="latent", guidance_scale=1.0)
    assert isinstance(pipe(**kw, return_dict=0, generator=gen()), tuple)
    assert not isinstance(pipe(**kw, return_dict=1, generator=gen()), tuple)


def test_numpy_bools_are_flags(pipe):
    import numpy as np

    kw = dict(prompt="a ball", height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16,
              output_type="latent")
    for name in ("stochastic_sampling", "cfg_star_rescale"):
        plain = pipe(**kw, **{name: True}, generator=gen()).frames
        assert torch.equal(pipe(**kw, **{name: np.bool_(True)}, generator=gen()).frames, plain)


def test_decode_values_take_arrays_and_tensors(pipe):
    """One value per video as a 1-D NumPy array or tensor, as guidance_scale takes them (refused before: "must be
    in [0, 1], got array([0.05])")."""
    import numpy as np

    kw = dict(prompt="a ball", height=64, width=64, num_frames=9, num_inference_steps=1, max_sequence_length=16,
              guidance_scale=1.0, num_videos_per_prompt=2, output_type="pt")
    listed = pipe(**kw, decode_timestep=[0.05, 0.1], decode_noise_scale=[0.025, 0.0], generator=gen()).frames
    for form in (np.array, torch.tensor):
        out = pipe(**kw, decode_timestep=form([0.05, 0.1]), decode_noise_scale=form([0.025, 0.0]), generator=gen())
        assert torch.equal(out.frames, listed)


@pytest.mark.parametrize("value,shown", [("0.05", "str '0.05'"), ({"t": 0.05}, "dict"),
                                         (torch.zeros(1, 1), r"Tensor of shape \(1, 1\)")])
def test_decode_timestep_of_another_type_is_named(no_models, value, shown):
    base = dict(prompt="a ball", height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16)
    with pytest.raises(ValueError, match=rf"^`decode_timestep` must be .*, got {shown}"):
        no_models(**base, decode_timestep=value)


def test_a_decode_value_of_two_dimensions_is_named_by_its_shape():
    from ltx_video.pipelines.inputs import check_decode_arguments

    # it was read as one entry: "has 1 entries but 2 videos are made"
    for name, args in (("decode_timestep", (torch.tensor([[0.05, 0.1]]), None)),
                       ("decode_noise_scale", (0.05, np.zeros((2, 1))))):
        with pytest.raises(ValueError, match=rf"^`{name}` must be a number or one per video \(1-D\), got "
                                             r"(Tensor|ndarray) of shape \((1, 2|2, 1)\)\.$"):
            check_decode_arguments(*args, 0.0, 2)
