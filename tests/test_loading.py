"""from_pretrained on diffusers-format folders and save_pretrained round trips, offline."""

import json

import pytest
import torch
from conftest import gen
from diffusers import LTXConditionPipeline

from ltx_video import LTXVideoPipeline
from ltx_video.testing import tiny_latent_upsampler

KW = dict(prompt="a red ball", height=64, width=64, num_frames=9, num_inference_steps=2, max_sequence_length=16,
          output_type="latent")


def _run(pipe):
    pipe.set_progress_bar_config(disable=True)
    return pipe(**KW, generator=gen()).frames


def test_loads_a_diffusers_ltx_folder(components, tmp_path):
    LTXConditionPipeline(**components).save_pretrained(tmp_path)
    assert json.loads((tmp_path / "model_index.json").read_text())["_class_name"] == "LTXConditionPipeline"
    loaded = LTXVideoPipeline.from_pretrained(tmp_path)
    assert isinstance(loaded, LTXVideoPipeline) and loaded.latent_upsampler is None
    assert torch.equal(_run(loaded), _run(LTXVideoPipeline(**components)))


def test_save_pretrained_round_trip(components, tmp_path):
    pipe = LTXVideoPipeline(**components, latent_upsampler=tiny_latent_upsampler())
    pipe.save_pretrained(tmp_path)
    assert (tmp_path / "transformer" / "diffusion_pytorch_model.safetensors").exists()
    loaded = LTXVideoPipeline.from_pretrained(tmp_path)
    for name in ("transformer", "vae", "text_encoder", "latent_upsampler"):
        ours, theirs = getattr(pipe, name).state_dict(), getattr(loaded, name).state_dict()
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[k], theirs[k]) for k in ours), name
    assert loaded.tokenizer("a red ball").input_ids == pipe.tokenizer("a red ball").input_ids
    assert torch.equal(_run(loaded), _run(pipe))


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        LTXVideoPipeline.from_pretrained(tmp_path / "nope")
