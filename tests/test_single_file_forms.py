"""Original single-file checkpoints in the forms users bring them (2026-12-06, third round): a VAE given instead of
the file's, refusals from the tensor names before any tensor is read, memory errors kept, dtypes that cannot hold
the weights, a folder passed as a file, and the CLI's --base-model for a file that describes its own models."""

from __future__ import annotations

import subprocess
import sys

import pytest
import safetensors
import torch
from test_single_file import ORIGINAL_CONFIG

from ltx_video import LTXVideoPipeline
from ltx_video.io.safetensors_header import has_model_config, read_safetensors_header
from ltx_video.pipelines import single_file
from ltx_video.pipelines.single_file import save_original_checkpoint, to_original_checkpoint
from ltx_video.testing import tiny_components, tiny_vae_original_layout


@pytest.fixture(scope="module")
def source():
    return {**tiny_components(), "vae": tiny_vae_original_layout()}


@pytest.fixture(scope="module")
def files(source, tmp_path_factory):
    folder = tmp_path_factory.mktemp("forms")
    full = save_original_checkpoint(folder / "full.safetensors", source["transformer"], source["vae"], ORIGINAL_CONFIG)
    transformer_only = folder / "transformer_only.safetensors"
    state = {k: v.contiguous() for k, v in to_original_checkpoint(source["transformer"], source["vae"]).items()
             if not k.startswith("vae.")}
    from safetensors.torch import save_file

    save_file(state, str(transformer_only), metadata={"config": '{"transformer": {"attention_head_dim": 8}}'})
    return {"full": full, "transformer_only": transformer_only}


def _text(source):
    return dict(text_encoder=source["text_encoder"], tokenizer=source["tokenizer"])


@pytest.fixture()
def tensors_read(monkeypatch):
    read = []
    original = single_file._read_tensors

    def counting(path, keys, dtype):
        read.extend(keys)
        return original(path, keys, dtype)

    monkeypatch.setattr(single_file, "_read_tensors", counting)
    return read


def test_the_header_is_read_without_torch_tensors(files):
    keys, metadata = read_safetensors_header(files["full"])
    assert keys == list(safetensors.safe_open(str(files["full"]), "pt").keys()) and "config" in metadata
    assert has_model_config(files["full"]) and not has_model_config(files["transformer_only"])


def test_a_given_vae_is_used_and_the_files_is_not_read(source, files, tensors_read):
    vae = source["vae"]
    pipe = LTXVideoPipeline.from_single_file(files["full"], vae=vae, **_text(source))
    assert pipe.vae is vae and tensors_read and not [k for k in tensors_read if k.startswith("vae.")]
    # as diffusers' LTXPipeline.from_single_file(transformer-only file, vae=...): refused before ("holds no VAE")
    pipe = LTXVideoPipeline.from_single_file(files["transformer_only"], vae=vae, **_text(source))
    reference = LTXVideoPipeline.from_single_file(files["full"], **_text(source))
    assert pipe.vae is vae
    assert all(torch.equal(a, b) for a, b in zip(pipe.transformer.state_dict().values(),
                                                  reference.transformer.state_dict().values(), strict=True))


def test_refusals_from_the_names_come_before_any_tensor_is_read(source, files, tensors_read, tmp_path):
    with pytest.raises(ValueError, match="transformer_only.safetensors holds no VAE weights .*or pass vae="):
        LTXVideoPipeline.from_single_file(files["transformer_only"], **_text(source))
    with pytest.raises(ValueError, match="is a folder: a diffusers-format model folder loads with from_pretrained"):
        LTXVideoPipeline.from_single_file(tmp_path, **_text(source))  # was "checkpoint not found"
    for dtype in (torch.float8_e4m3fn, "float8_e4m3fn", torch.int8):
        with pytest.raises(ValueError, match=r"`torch_dtype` must be torch.float32, torch.float16 or torch.bfloat16"):
            LTXVideoPipeline.from_single_file(files["full"], torch_dtype=dtype, **_text(source))
    assert not tensors_read


def test_running_out_of_memory_is_not_called_an_unreadable_file(source, files, monkeypatch):
    class Exhausted:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def get_tensor(self, key):
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr(safetensors, "safe_open", Exhausted)
    with pytest.raises(RuntimeError, match="can't allocate memory"):  # was "is not a readable .safetensors file"
        LTXVideoPipeline.from_single_file(files["full"], **_text(source))


def test_cli_base_model_gives_only_the_text_encoder_to_a_self_described_file(source, files, tmp_path):
    from ltx_video.testing import tiny_pipeline

    folder = tmp_path / "t5only"  # a folder with only the text encoder and tokenizer (and model_index.json)
    tiny_pipeline(0).save_pretrained(folder)
    for name in ("transformer", "vae", "scheduler"):
        for path in sorted((folder / name).rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        (folder / name).rmdir()
    common = ["--height", "32", "--width", "32", "--num-frames", "9", "--steps", "1"]

    def cli(*argv):
        return subprocess.run([sys.executable, "-m", "ltx_video", "generate", "a red ball bounces", *argv, *common],
                              capture_output=True, text=True, timeout=300, env={**__import__("os").environ,
                                                                                 "HF_HUB_OFFLINE": "1"})

    done = cli("--model", str(files["full"]), "--base-model", str(folder), "--output", str(tmp_path / "a.mp4"))
    assert done.returncode == 0, done.stderr  # was "config folder ... has no transformer/config.json"
    (folder / "tokenizer").rename(tmp_path / "tokenizer")
    refused = cli("--model", str(files["full"]), "--base-model", str(folder), "--output", str(tmp_path / "b.mp4"))
    assert refused.returncode == 2 and f"--base-model: {folder} has no tokenizer" in refused.stderr
