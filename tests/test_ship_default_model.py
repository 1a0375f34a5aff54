"""scripts/ship_default_model.py: the built-in model's transformer goes to disk in float16 and loads back
as float32, the other components unchanged; an over-limit folder is refused without touching the old one."""

import importlib.util
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline
from ltx_video.testing import tiny_audio_video_pipeline

SCRIPT = Path(__file__).parents[1] / "scripts" / "ship_default_model.py"
WEIGHTS = "diffusion_pytorch_model.safetensors"


def _script():
    spec = importlib.util.spec_from_file_location("ship_default_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def saved(tmp_path):
    pipe = tiny_audio_video_pipeline(seed=0)
    with torch.no_grad():  # weights that float16 cannot hold exactly, as trained ones
        for p in pipe.transformer.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())) * 1e-3)
    pipe.save_pretrained(tmp_path / "pipeline")
    return pipe, tmp_path / "pipeline"


def test_ships_the_transformer_in_float16_and_loads_it_as_float32(saved, tmp_path, capsys):
    pipe, source = saved
    out = tmp_path / "shipped"
    assert _script().main([str(source), "--output", str(out)]) == 0
    assert "largest rounding change" in capsys.readouterr().out
    on_disk = load_file(out / "transformer" / WEIGHTS)
    assert {t.dtype for t in on_disk.values()} == {torch.float16}
    assert (out / "vae" / WEIGHTS).read_bytes() == (source / "vae" / WEIGHTS).read_bytes()
    loaded = LTXAudioVideoPipeline.from_pretrained(out)
    original = pipe.transformer.state_dict()
    changed = 0
    for name, value in loaded.transformer.state_dict().items():
        assert value.dtype == torch.float32, name
        assert torch.equal(value, original[name].half().float()), name
        changed += int(not torch.equal(value, original[name]))
    assert changed > 0  # the rounding happened: float16 is not float32


def test_refuses_a_folder_over_the_limit_and_keeps_the_old_one(saved, tmp_path, monkeypatch, capsys):
    _, source = saved
    out = tmp_path / "shipped"
    out.mkdir()
    (out / "keep.txt").write_text("the model shipped before")
    script = _script()
    monkeypatch.setattr(script, "LIMIT_BYTES", 1000)
    assert script.main([str(source), "--output", str(out)]) == 1
    assert "over the limit" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("tmp")] == []  # nothing staged is left


def test_rejects_a_folder_that_is_not_a_pipeline(tmp_path):
    with pytest.raises(SystemExit):
        _script().main([str(tmp_path), "--output", str(tmp_path / "out")])
