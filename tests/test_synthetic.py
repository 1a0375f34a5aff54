"""Ground truth of ``ltx_video.data.synthetic`` checked against what is rendered, and the writer script."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ltx_video.data import (
    BACKGROUNDS,
    CAMERA_MOTIONS,
    COLOURS,
    SAMPLE_RATE,
    SHAPE_PITCH_HZ,
    SHAPES,
    ClipParams,
    ObjectSpec,
    PromptSpec,
    SyntheticAVDataset,
    burst_start_sample,
    burst_waveform,
    collate_clips,
    compute_bounces,
    make_clip,
    object_positions,
    parse_prompt,
    prompt_for,
    render_clip,
    sample_params,
    shape_extent,
)
from ltx_video.io.media import read_audio, read_video_tensor

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_synthetic.py"


def ball(colour: str = "red", size: float = 5.0, position=(20.0, 30.0), velocity=(70.0, -50.0), shape: str = "ball"):
    return ObjectSpec(shape=shape, colour=colour, size=size, position=position, velocity=velocity)


def background_mask(clip, frames: list[int], margin: float = 3.0) -> torch.Tensor:
    """(H, W) bool: pixels farther than extent + margin from every object centre in all ``frames``."""
    p = clip.params
    y, x = torch.meshgrid(torch.arange(p.height) + 0.5, torch.arange(p.width) + 0.5, indexing="ij")
    keep = torch.ones(p.height, p.width, dtype=torch.bool)
    for k in frames:
        for n, obj in enumerate(p.objects):
            reach = max(shape_extent(obj.shape, obj.size)) + margin
            cx, cy = clip.positions[k, n].tolist()
            keep &= ((x - cx).abs() > reach) | ((y - cy).abs() > reach)
    return keep


# --------------------------------------------------------------------------------------------
# Determinism and sampling
# --------------------------------------------------------------------------------------------


def test_same_seed_is_bit_identical_and_seeds_differ():
    a, b, c = make_clip(5), make_clip(5), make_clip(6)
    for name in ("video", "audio", "positions", "camera"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert a.bounces == b.bounces and a.prompt == b.prompt and a.params == b.params
    assert not torch.equal(a.video, c.video) and a.params != c.params
    # The seed alone also changes the background texture for identical parameters.
    assert not torch.equal(render_clip(1, a.params).video, render_clip(2, a.params).video)
    # Overriding one field leaves the other drawn fields unchanged.
    static = sample_params(5, camera="static")
    assert static.camera == "static" and static.objects == a.params.objects
    assert static.background == a.params.background


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_sampled_params_follow_the_contract(seed):
    p = sample_params(seed)
    assert (p.height, p.width, p.fps, p.duration) == (64, 64, 24.0, 2.0)
    assert 1 <= len(p.objects) <= 3 and len({o.colour for o in p.objects}) == len(p.objects)
    assert all(4.0 <= o.size <= 10.0 and 40.0 <= math.hypot(*o.velocity) <= 120.0 for o in p.objects)
    assert 0.5 <= p.camera_speed <= 1.5 and p.camera in CAMERA_MOTIONS
    assert len([b for b in compute_bounces(p) if b.time < 2.0]) >= 2


# --------------------------------------------------------------------------------------------
# Kinematics
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_bounces_put_objects_exactly_on_a_wall(seed):
    p = sample_params(seed, duration=4.0)
    bounces = compute_bounces(p)
    times = [b.time for b in bounces]
    assert times == sorted(times) and all(0.0 <= t < p.duration for t in times)
    for b in bounces:
        (x_min, x_max), (y_min, y_max) = p.objects[b.object_index].limits(p.height, p.width)
        x, y = object_positions(p, [b.time])[0, b.object_index].tolist()
        axis_value, wall = {"left": (x, x_min), "right": (x, x_max), "top": (y, y_min), "bottom": (y, y_max)}[b.wall]
        assert axis_value == pytest.approx(wall, abs=1e-9)
    # Between consecutive bounces on an axis the motion is linear at +-|v|, reversing at each bounce:
    # no bounce is missed and none is spurious.
    fractions = torch.linspace(0.05, 0.95, 7, dtype=torch.float64)
    for n, obj in enumerate(p.objects):
        for axis, walls in ((0, {"left", "right"}), (1, {"top", "bottom"})):
            cuts = [0.0] + [b.time for b in bounces if b.object_index == n and b.wall in walls] + [p.duration]
            velocity = obj.velocity[axis]
            for segment, (t0, t1) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
                times = t0 + (t1 - t0) * fractions
                coord = object_positions(p, times)[:, n, axis]
                slope = coord.diff() / times.diff()
                expected = velocity * (-1) ** segment
                assert torch.allclose(slope, torch.full_like(slope, expected), atol=1e-6)
                (x_min, x_max), (y_min, y_max) = obj.limits(p.height, p.width)
                low, high = (x_min, x_max) if axis == 0 else (y_min, y_max)
                assert low - 1e-9 <= coord.min() and coord.max() <= high + 1e-9


def test_corner_hit_is_two_bounces_at_the_same_time():
    p = ClipParams(objects=(ball(size=5.0, position=(32.0, 32.0), velocity=(27.0, 27.0)),))
    first = compute_bounces(p)[:2]
    assert [b.wall for b in first] == ["bottom", "right"]
    assert first[0].time == pytest.approx(1.0, abs=1e-12) and first[1].time == pytest.approx(1.0, abs=1e-12)


def test_triangle_reflects_when_its_base_touches_the_bottom():
    tri = ball(shape="triangle", size=6.0, position=(32.0, 40.0), velocity=(0.0, 50.0))
    p = ClipParams(objects=(tri,))
    first = compute_bounces(p)[0]
    assert first.wall == "bottom" and first.time == pytest.approx((64 - 3.0 - 40.0) / 50.0, abs=1e-12)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_rendered_centroid_and_area_match_the_ground_truth(shape):
    """Two renders that differ only in the object's colour give its exact coverage (same background)."""
    size = 6.0
    common = dict(camera="static", background="gray", duration=1.0)
    obj = dict(shape=shape, size=size, position=(21.3, 40.7), velocity=(83.0, -61.0))
    red = make_clip(7, objects=(ObjectSpec(colour="red", **obj),), **common)
    blue = make_clip(7, objects=(ObjectSpec(colour="blue", **obj),), **common)
    direction = torch.tensor(COLOURS["red"]) - torch.tensor(COLOURS["blue"])
    diff = (red.video - blue.video) / 2.0  # back to [0, 1] units
    alpha = torch.einsum("fchw,c->fhw", diff, direction) / direction.square().sum()
    area = {"ball": math.pi * size**2, "square": 4 * size**2, "triangle": 1.5 * size**2}[shape]
    y, x = torch.meshgrid(torch.arange(64) + 0.5, torch.arange(64) + 0.5, indexing="ij")
    for k in range(red.num_frames):
        weight = alpha[k]
        assert weight.min() > -1e-5 and weight.max() == pytest.approx(1.0, abs=1e-5)
        assert weight.sum().item() == pytest.approx(area, rel=0.03)
        centroid = torch.stack([(weight * x).sum(), (weight * y).sum()]) / weight.sum()
        # 4 x 4 supersampling puts straight edges on a 1/4 px grid: centroid error <= 1/8 px
        assert (centroid - red.positions[k, 0]).abs().max() <= 0.125 + 1e-4


def test_video_range_and_background_texture_contrast():
    clip = make_clip(11, camera="static", background="navy")
    assert clip.video.dtype == torch.float32 and -1.0 <= clip.video.min() and clip.video.max() <= 1.0
    colour = torch.tensor(BACKGROUNDS["navy"])[:, None] * 2 - 1
    keep = background_mask(clip, [0])
    background = clip.video[0][:, keep]  # (3, P)
    offset = (background - colour) / 2.0
    assert offset.abs().max() <= 0.15 + 1e-6  # low contrast ...
    assert 0.03 < offset.std() < 0.1  # ... but not flat
    assert torch.allclose(offset[0], offset[2], atol=1e-6)  # a luminance texture


PANS = [
    ("pan_left", 1.0, 1, (1, 0)),
    ("pan_right", 2.0, 1, (-2, 0)),
    ("pan_up", 0.5, 2, (0, 1)),
    ("pan_down", 1.5, 2, (0, -3)),
]


@pytest.mark.parametrize("motion,speed,step,shift", PANS)
def test_pan_moves_the_background_as_the_camera_ground_truth_says(motion, speed, step, shift):
    clip = make_clip(3, camera=motion, camera_speed=speed)
    dx, dy, zoom = clip.camera[0].tolist()
    expected = {"pan_left": (speed, 0.0), "pan_right": (-speed, 0.0), "pan_up": (0.0, speed), "pan_down": (0.0, -speed)}
    assert (dx, dy, zoom) == (*expected[motion], 1.0)
    assert torch.equal(clip.camera, clip.camera[:1].expand_as(clip.camera))
    sx, sy = shift  # content shift over `step` frames, in whole pixels
    assert (sx, sy) == (round(dx * step), round(dy * step))
    checked = 0
    for k in range(0, clip.num_frames - step, 5):
        before, after = clip.video[k], clip.video[k + step]
        keep = background_mask(clip, [k, k + step])
        keep &= torch.roll(background_mask(clip, [k]), shifts=(sy, sx), dims=(0, 1))
        keep[: max(sy, 0)] = keep[keep.shape[0] + min(sy, 0) :] = False
        keep[:, : max(sx, 0)] = keep[:, keep.shape[1] + min(sx, 0) :] = False
        moved = torch.roll(before, shifts=(sy, sx), dims=(1, 2))  # frame k shifted by the ground truth
        assert torch.allclose(after[:, keep], moved[:, keep], atol=1e-5)
        wrong = torch.roll(before, shifts=(-sy, -sx), dims=(1, 2))
        assert (after[:, keep] - wrong[:, keep]).abs().mean() > 0.01  # the opposite sign does not fit
        checked += int(keep.sum())
    assert checked > 1000


@pytest.mark.parametrize("motion", ["zoom_in", "zoom_out", "static"])
def test_zoom_scales_the_background_about_the_centre(motion):
    clip = make_clip(4, camera=motion, camera_speed=1.0, height=64, width=64)
    zoom = clip.camera[0, 2].item()
    assert zoom == pytest.approx({"zoom_in": 1.01, "zoom_out": 1 / 1.01, "static": 1.0}[motion], abs=1e-7)
    assert clip.camera[:, :2].abs().max() == 0
    k, step = 10, 6
    before, after = clip.video[k], clip.video[k + step]
    keep = background_mask(clip, [k, k + step], margin=6.0)[4:-4, 4:-4]

    def error(scale: float) -> float:
        # frame k + step at pixel p shows frame k at c + (p - c) / scale: bilinear sample of frame k
        grid = torch.stack(torch.meshgrid(torch.linspace(-1, 1, 64), torch.linspace(-1, 1, 64), indexing="xy"), -1)
        grid = grid * (63 / 64) / scale  # pixel centres in align_corners=False coordinates
        warped = F.grid_sample(before[None], grid[None], mode="bilinear", align_corners=False)[0]
        return (warped - after)[:, 4:-4, 4:-4][:, keep].abs().mean().item()

    candidates = torch.linspace(0.9, 1.1, 81).tolist()
    best = min(candidates, key=error)
    assert best == pytest.approx(zoom**step, abs=0.0026)


# --------------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------------


def dominant_frequency(wave: torch.Tensor) -> float:
    """Peak of the zero-padded real FFT of ``wave`` (resolution 16000 / 2**18 Hz)."""
    spectrum = torch.fft.rfft(wave.double(), n=2**18).abs()
    return torch.fft.rfftfreq(2**18, d=1.0 / SAMPLE_RATE)[spectrum.argmax()].item()


@pytest.mark.parametrize("shape", SHAPES)
def test_each_burst_starts_at_its_bounce_sample_with_the_shape_pitch(shape):
    obj = ball(shape=shape, size=6.0, position=(17.0, 30.0), velocity=(95.0, 0.0))
    clip = make_clip(2, objects=(obj,), camera="static")
    length = round(clip.params.burst_ms * SAMPLE_RATE / 1000)
    assert len(clip.bounces) >= 3
    for bounce in clip.bounces:
        start = math.ceil(bounce.time * 16000)
        assert burst_start_sample(bounce.time) == start
        assert clip.audio[start - 1] == 0 and clip.audio[start] != 0
        assert torch.count_nonzero(clip.audio[max(0, start - length) : start]) == 0
        burst = clip.audio[start : start + length]
        assert dominant_frequency(burst) == pytest.approx(SHAPE_PITCH_HZ[shape], abs=5.0)
        assert burst.abs().max() == pytest.approx(0.5, abs=0.02)
        # exponential decay with time constant burst_ms / 4 = 20 ms: the envelope drops by e**-2 in 40 ms
        quarter = length // 4
        ratio = burst[2 * quarter : 3 * quarter].abs().max() / burst[:quarter].abs().max()
        assert ratio.item() == pytest.approx(math.exp(-2.0), rel=0.1)


def test_audio_is_the_sum_of_bursts_plus_noise():
    clip = make_clip(21, duration=3.0)
    expected = torch.zeros(clip.audio.numel(), dtype=torch.float64)
    for bounce in clip.bounces:
        start = burst_start_sample(bounce.time)
        burst = burst_waveform(SHAPE_PITCH_HZ[clip.params.objects[bounce.object_index].shape])
        burst = burst[: max(0, expected.numel() - start)]
        expected[start : start + burst.numel()] += burst
    assert clip.audio.shape == (3 * SAMPLE_RATE,)
    assert torch.equal(clip.audio, expected.float())
    noisy = make_clip(21, duration=3.0, background_noise=0.01)
    assert torch.equal(noisy.video, clip.video)
    assert (noisy.audio - clip.audio).std().item() == pytest.approx(0.01, rel=0.05)


# --------------------------------------------------------------------------------------------
# Prompts
# --------------------------------------------------------------------------------------------


def test_prompt_grammar_round_trip():
    example = "a red ball and a blue square bounce, the camera pans left"
    assert parse_prompt(example) == PromptSpec(objects=(("red", "ball"), ("blue", "square")), camera="pan_left")
    p = ClipParams(objects=(ball("red"), ball("blue", shape="square", position=(40.0, 40.0))), camera="pan_left")
    assert prompt_for(p) == example
    three = ClipParams(
        objects=(ball("green", shape="triangle"), ball("white"), ball("pink", shape="square")), camera="zoom_out"
    )
    assert prompt_for(three) == "a green triangle, a white ball and a pink square bounce, the camera zooms out"
    assert prompt_for(ClipParams(objects=(ball("yellow"),))) == "a yellow ball bounces, the camera is static"
    for seed in range(30):
        params = sample_params(seed)
        spec = parse_prompt(prompt_for(params))
        assert spec.objects == tuple((o.colour, o.shape) for o in params.objects) and spec.camera == params.camera


@pytest.mark.parametrize(
    "prompt,word",
    [
        ("a magenta ball bounces, the camera pans left", "magenta"),
        ("a red cube and a blue ball bounce, the camera is static", "cube"),
        ("a red ball bounces, the camera spins", "spins"),
        ("a red ball jumps, the camera is static", "jumps"),
        ("a red ball bounce, the camera is static", "agree"),
        ("a red ball jumps", "jumps"),
    ],
)
def test_parse_prompt_names_unknown_words(prompt, word):
    with pytest.raises(ValueError, match=word):
        parse_prompt(prompt)


def test_parse_prompt_without_camera_phrase_means_static():
    assert parse_prompt("a red ball bounces") == PromptSpec(objects=(("red", "ball"),), camera="static")
    assert parse_prompt("a red ball and a blue square bounce").camera == "static"


def test_pace_words_are_read_and_checked_against_the_grammar():
    from ltx_video.data.prompts import PromptGrammar

    spec = parse_prompt("a red ball bounces, the camera dollies forward quickly")
    assert (spec.camera, spec.pace) == ("dolly_forward", "quickly")
    assert parse_prompt("a red ball bounces, the camera pans left").pace is None
    for prompt in ("a red ball bounces, the camera is static slowly", "a red ball bounces, the camera pans left fast"):
        with pytest.raises(ValueError, match="camera phrase"):
            parse_prompt(prompt)
    with pytest.raises(ValueError, match="pace"):
        PromptSpec(objects=(("red", "ball"),), camera="static", pace="slowly")
    prompt = "a red ball bounces, the camera pans up slowly"
    assert "pace" in PromptGrammar(max_objects=1).check(prompt)  # a model trained without pace words
    assert PromptGrammar(max_objects=1, paces=True).check(prompt) is None


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides,match",
    [
        (dict(objects=()), "objects"),
        (dict(objects=(ball(), ball("blue"), ball("green"), ball("white"))), "objects"),
        (dict(objects=(ball(size=40.0, position=(32.0, 32.0)),)), "too large"),
        (dict(objects=(ball(position=(2.0, 30.0)),)), "position"),
        (dict(camera="dolly"), "camera"),
        (dict(background="plaid"), "background"),
        (dict(fps=0), "fps"),
        (dict(fps=-24.0), "fps"),
        (dict(duration=0.0), "duration"),
        (dict(height=4), "height"),
        (dict(camera_speed=-1.0), "camera_speed"),
        (dict(burst_ms=0.0), "burst_ms"),
    ],
)
def test_bad_params_raise_value_error(overrides, match):
    with pytest.raises(ValueError, match=match):
        sample_params(0, **overrides)


def test_bad_object_specs_raise_value_error():
    with pytest.raises(ValueError, match="colour"):
        ball("magenta")
    with pytest.raises(ValueError, match="shape"):
        ball(shape="cube")
    with pytest.raises(ValueError, match="size"):
        ball(size=0.0)
    with pytest.raises(ValueError, match="velocity"):
        ball(velocity=(1.0, float("nan")))
    with pytest.raises(ValueError, match="seed"):
        make_clip(-1)
    with pytest.raises(TypeError, match="colour_scheme"):
        sample_params(0, colour_scheme="dark")


# --------------------------------------------------------------------------------------------
# Dataset and script
# --------------------------------------------------------------------------------------------


def test_dataset_items():
    dataset = SyntheticAVDataset(3, seed=10, duration=0.5, camera="pan_right")
    assert len(dataset) == 3
    item = dataset[1]
    assert set(item) == {"video", "audio", "prompt", "annotations"}
    clip = make_clip(11, duration=0.5, camera="pan_right")
    assert torch.equal(item["video"], clip.video) and torch.equal(item["audio"], clip.audio)
    assert item["video"].shape == (12, 3, 64, 64) and item["video"].dtype == torch.float32
    assert -1.0 <= item["video"].min() and item["video"].max() <= 1.0 and item["video"].std() > 0.05
    assert item["audio"].shape == (8000,) and item["audio"].abs().max() <= 1.0
    assert parse_prompt(item["prompt"]).camera == "pan_right"
    notes = item["annotations"]
    assert torch.equal(notes["bounce_times"], torch.tensor([b.time for b in clip.bounces], dtype=torch.float64))
    assert notes["bounce_objects"].tolist() == [b.object_index for b in clip.bounces]
    assert notes["objects"] == [(o.colour, o.shape) for o in clip.params.objects]
    assert notes["camera_motion"] == "pan_right" and torch.equal(
        notes["camera"][:, 0], torch.full((11,), -clip.params.camera_speed)
    )
    assert torch.equal(notes["positions"], clip.positions)
    assert torch.equal(dataset[-1]["video"], dataset[2]["video"])
    with pytest.raises(IndexError):
        dataset[3]
    with pytest.raises(IndexError):
        dataset[-4]
    with pytest.raises(ValueError, match="camera"):
        SyntheticAVDataset(2, camera="dolly")
    batch = next(iter(torch.utils.data.DataLoader(dataset, batch_size=1)))
    assert batch["video"].shape == (1, 12, 3, 64, 64)
    # torch's SubsetRandomSampler over a tensor of indices yields 0-d tensors ("index tensor(1) out of range")
    assert torch.equal(dataset[torch.tensor(1)]["video"], item["video"])
    with pytest.raises(TypeError, match="index must be an int, got 1.5"):
        dataset[1.5]
    # clips differ in their bounces: the default collate failed ("stack expects each tensor to be equal size")
    loader = torch.utils.data.DataLoader(dataset, batch_size=3, collate_fn=collate_clips,
                                         sampler=torch.utils.data.SubsetRandomSampler(torch.arange(3)))
    batch = next(iter(loader))
    order = [next(i for i in range(3) if torch.equal(video, dataset[i]["video"])) for video in batch["video"]]
    assert sorted(order) == [0, 1, 2] and batch["audio"].shape == (3, 8000)
    assert [len(a["bounce_times"]) for a in batch["annotations"]] == [len(dataset[i]["annotations"]["bounce_times"])
                                                                      for i in order]
    assert batch["prompt"] == [dataset[i]["prompt"] for i in order]


def load_script():
    spec = importlib.util.spec_from_file_location("make_synthetic", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_synthetic_script_writes_playable_clips(tmp_path, capsys):
    script = load_script()
    assert script.main([str(tmp_path), "--num", "2", "--seed", "3", "--duration", "0.5"]) == 0
    assert "wrote 2 clips" in capsys.readouterr().out
    names = ["clip_00000.mp4", "clip_00001.mp4"]
    prompts = json.loads((tmp_path / "prompts.json").read_text())
    annotations = json.loads((tmp_path / "annotations.json").read_text())
    assert sorted(prompts) == names and sorted(annotations) == names
    for index, name in enumerate(names):
        clip = make_clip(3 + index, duration=0.5)
        frames, fps = read_video_tensor(tmp_path / name)
        assert fps == pytest.approx(24.0) and frames.shape == (12, 3, 64, 64)
        mse = (frames - (clip.video + 1) / 2).square().mean().item()
        assert 10 * math.log10(1 / mse) > 27  # H.264 with 4:2:0 chroma on a 64 x 64 textured clip
        audio, rate = read_audio(tmp_path / name)
        assert rate == SAMPLE_RATE and abs(audio.shape[1] - 8000) <= 1024
        assert prompts[name] == clip.prompt
        # the caption a `data: {source: folder}` run reads (it trained the whole set as the empty prompt)
        assert (tmp_path / name).with_suffix(".txt").read_text(encoding="utf-8") == clip.prompt + "\n"
        note = annotations[name]
        assert note["seed"] == 3 + index and note["bounce_times"] == [b.time for b in clip.bounces]
        assert torch.equal(torch.tensor(note["positions"]), clip.positions)
        assert torch.equal(torch.tensor(note["camera"]), clip.camera)
        assert [(o["colour"], o["shape"]) for o in note["objects"]] == [
            (o.colour, o.shape) for o in clip.params.objects
        ]


@pytest.mark.parametrize("bad", [["--num", "0"], ["--num", "2", "--fps", "-1"], ["--num", "2", "--height", "4"], []])
def test_make_synthetic_script_rejects_bad_arguments(tmp_path, bad):
    with pytest.raises(SystemExit) as error:
        load_script().main([str(tmp_path), *bad])
    assert error.value.code == 2
    assert not (tmp_path / "prompts.json").exists()


def test_the_audio_lasts_as_long_as_the_frames():
    # duration 1.03 s at 24 fps: 25 frames (1.0417 s) but 16480 samples (1.03 s); the folder loader and the pipelines
    # take round(F / fps * 16000), and make_synthetic.py wrote files whose streams disagreed by 12 ms.
    for kwargs in (dict(duration=1.03), dict(fps=23.976), dict()):
        clip = make_clip(0, **kwargs)
        frames, fps = clip.video.shape[0], kwargs.get("fps", 24)
        assert clip.audio.shape[0] == round(frames / fps * SAMPLE_RATE)
