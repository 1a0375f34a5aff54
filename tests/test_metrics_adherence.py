"""``ltx_video.metrics`` prompt adherence on the synthetic world (ltx_video.data.synthetic).

* real clips score >= 0.95 on average over 20 seeds;
* the same clips with every object colour swapped for a colour not in the clip score <= 0.3;
* right colours with the wrong shapes score 1/2 per object (partial credit, see the docstring).
"""

from __future__ import annotations

import numpy as np
import pytest

from ltx_video.data.prompts import CAMERA_PHRASES
from ltx_video.metrics import camera_adherence, detect_objects, dominant_camera_motion, prompt_adherence

synthetic = pytest.importorskip("ltx_video.data.synthetic")

SEEDS = range(20)


def swap_colours(prompt: str) -> str:
    """The prompt with each object's colour replaced by a colour no object of the clip has."""
    spec = synthetic.parse_prompt(prompt)
    used = {colour for colour, _ in spec.objects}
    spare = iter(colour for colour in synthetic.COLOURS if colour not in used)
    objects = [(next(spare), shape) for _, shape in spec.objects]
    return prompt_from(objects, spec.camera)


def prompt_from(objects: list[tuple[str, str]], camera: str) -> str:
    phrases = [f"a {colour} {shape}" for colour, shape in objects]
    subject = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    verb = "bounces" if len(phrases) == 1 else "bounce"
    prompt = f"{subject} {verb}, the camera {CAMERA_PHRASES[camera]}"
    assert synthetic.parse_prompt(prompt).objects == tuple(objects)
    return prompt


@pytest.fixture(scope="module")
def clips():
    return [synthetic.make_clip(seed) for seed in SEEDS]


def test_real_clips_adhere_and_swapped_colours_do_not(clips):
    real = [prompt_adherence(clip.video, clip.prompt) for clip in clips]
    swapped = [prompt_adherence(clip.video, swap_colours(clip.prompt)) for clip in clips]
    print(f"prompt adherence: real mean {np.mean(real):.3f} (min {min(real):.3f}); ", end="")
    print(f"colour-swapped mean {np.mean(swapped):.3f} (max {max(swapped):.3f})")
    assert np.mean(real) >= 0.95
    assert np.mean(swapped) <= 0.3


def test_detected_objects_are_the_clip_objects(clips):
    for clip in clips[:8]:
        expected = {spec.colour: spec.shape for spec in clip.params.objects}
        assert detect_objects(clip.video) == expected


def test_wrong_shapes_get_half_credit_and_extra_objects_cost(clips):
    clip = next(c for c in clips if len(c.params.objects) == 2)
    spec = synthetic.parse_prompt(clip.prompt)
    other = {"ball": "square", "square": "triangle", "triangle": "ball"}
    wrong_shapes = prompt_from([(colour, other[shape]) for colour, shape in spec.objects], spec.camera)
    assert prompt_adherence(clip.video, wrong_shapes) == pytest.approx(0.5)
    # naming only one of the two objects: one found, one extra colour -> 0
    assert prompt_adherence(clip.video, prompt_from([spec.objects[0]], spec.camera)) == 0.0
    # channels-last uint8 frames give the same answer
    uint8 = ((clip.video.permute(0, 2, 3, 1).numpy() + 1) * 127.5 + 0.5).astype(np.uint8)
    assert prompt_adherence(uint8, clip.prompt) == 1.0


def test_unknown_prompt_words_are_rejected(clips):
    with pytest.raises(ValueError, match="teal"):
        prompt_adherence(clips[0].video, "a teal ball bounces, the camera is static")


@pytest.mark.parametrize("camera", ["static", "pan_left", "pan_up", "zoom_out"])
def test_camera_adherence(camera):
    clip = synthetic.make_clip(30, camera=camera)
    assert dominant_camera_motion(clip.video) == camera
    spec = synthetic.parse_prompt(clip.prompt)
    wrong = "pan_right" if camera == "static" else "static"
    assert camera_adherence(clip.video, prompt_from(list(spec.objects), wrong)) == 0.0
    if camera == "zoom_out":
        assert camera_adherence(clip.video, clip.prompt) == 1.0
