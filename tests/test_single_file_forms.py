"""Original single-file checkpoints in the forms users bring them (2026-12-06, third round): a VAE given instead of
the file's, refusals from the tensor names before any tensor is read, memory errors kept, dtypes that cannot hold
the weights, a folder passed as a file, and the CLI's --base-model for a file that describes its own models.
2026-12-07: keys of neither model, a head size the file does not give, a 0.9.1 metadata scheduler, metadata that is
not JSON, a VAE config that cannot be mapped (CLI), a text encoder of another dtype, a VAE-only file."""

from __future__ import annotations

import json
import logging
import math
import shutil
import subprocess
import sys
import warnings

import pytest
import safetensors
import torch
from conftest import assert_fp32_equal
from diffusers import FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel
from safetensors.torch import save_file
from test_single_file import ORIGINAL_CONFIG, _assert_same_weights, _run

from ltx_video import LTXVideoPipeline
from ltx_video.io.safetensors_header import has_model_config, read_safetensors_header
from ltx_video.pipelines import schedule, single_file
from ltx_video.pipelines.single_file import ConfigNeededError, save_original_checkpoint, to_original_checkpoint
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
    real_open = safetensors.safe_open

    class Exhausted:
        def __init__(self, *args, **kwargs):
            self.real = real_open(*args, **kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def get_slice(self, key):  # the header's shapes (what the text encoder is checked against) still read
            return self.real.get_slice(key)

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


@pytest.fixture(scope="module")
def folder(source, tmp_path_factory):
    path = tmp_path_factory.mktemp("forms_diffusers") / "diffusers"
    LTXVideoPipeline(**source).save_pretrained(path)
    return path


def _save(path, transformer, vae, metadata: str | None, extra=None):
    state = {k: v.contiguous() for k, v in to_original_checkpoint(transformer, vae).items()}
    save_file({**state, **(extra or {})}, str(path), metadata=None if metadata is None else {"config": metadata})
    return path, state


def _warnings(caplog, text):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


def test_keys_of_neither_model_are_not_read_and_said(source, folder, tmp_path, tensors_read):
    # As diffusers' from_single_file, which warns and loads: it was a refusal after reading every tensor, whose
    # advice (config=) failed too; then the listings were log lines only (not shown in a notebook): warnings now.
    extra = {"text_encoders.t5xxl.transformer.shared.weight": torch.zeros(4, 4),
             "model.diffusion_model.extra.weight": torch.zeros(1), "vae.decoder.extra_thing": torch.zeros(1)}
    path, state = _save(tmp_path / "extra.safetensors", source["transformer"], source["vae"],
                        json.dumps(ORIGINAL_CONFIG), extra)
    for config in (None, folder):
        tensors_read.clear()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pipe = LTXVideoPipeline.from_single_file(path, config=config, **_text(source))
        said = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        _assert_same_weights(pipe.transformer, source["transformer"])
        _assert_same_weights(pipe.vae, source["vae"])
        assert set(tensors_read) == set(state) | {"vae.decoder.extra_thing"}  # a VAE name: read, then left out
        (unread,) = [m for m in said if "tensors of neither the transformer nor the VAE are not loaded (2): " in m]
        assert "text_encoders.t5xxl.transformer.shared.weight" in unread and "model.diffusion_model.extra.weight" in unread
        (left_over,) = [m for m in said if "AutoencoderKLLTXVideo weights with no place in" in m]
        assert left_over.endswith("are not loaded (1): decoder.extra_thing")


def test_a_head_size_the_file_does_not_give_is_inferred_as_diffusers_or_asked_for(source, tmp_path, tensors_read):
    torch.manual_seed(0)
    wide = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, num_attention_heads=1, attention_head_dim=128,
                                      cross_attention_dim=128, num_layers=1, caption_channels=16).eval()
    no_transformer = json.dumps({k: v for k, v in ORIGINAL_CONFIG.items() if k != "transformer"})
    path, _ = _save(tmp_path / "heads128.safetensors", wide, source["vae"], no_transformer)
    # It loaded as 2 heads of 64 (the default it assumed), a different model.
    with pytest.raises(ConfigNeededError, match=r"no transformer attention_head_dim .* 1 blocks .*head size is "
                                                r"unknown; pass config="):
        LTXVideoPipeline.from_single_file(path, **_text(source))
    assert not tensors_read
    with_heads = json.dumps({**ORIGINAL_CONFIG, "transformer": {"num_attention_heads": 1}})
    path, _ = _save(tmp_path / "heads128_told.safetensors", wide, source["vae"], with_heads)
    pipe = LTXVideoPipeline.from_single_file(path, **_text(source))
    assert (pipe.transformer.config.num_attention_heads, pipe.transformer.config.attention_head_dim) == (1, 128)
    assert_fp32_equal(_run(pipe), _run(LTXVideoPipeline(**{**source, "transformer": wide})))

    def shapes(blocks, width):  # a released layout's converted weights, on the meta device
        sd = {"proj_in.weight": (width, 128), "proj_out.weight": (128, width),
              "caption_projection.linear_1.weight": (width, 4096),
              **{f"transformer_blocks.{i}.attn2.to_k.weight": (width, width) for i in range(blocks)}}
        return {k: torch.empty(v, device="meta") for k, v in sd.items()}

    config = single_file._infer_transformer_config(path, shapes(48, 4096), {})  # 0.9.7+ 13B, as diffusers
    assert (config["num_attention_heads"], config["attention_head_dim"], config["num_layers"]) == (32, 128, 48)
    config = single_file._infer_transformer_config(path, shapes(28, 2048), {})  # the 2B
    assert (config["num_attention_heads"], config["attention_head_dim"], config["num_layers"]) == (32, 64, 28)
    with pytest.raises(ConfigNeededError, match="48 blocks are 2048 wide, not the released 4096"):
        single_file._infer_transformer_config(path, shapes(48, 2048), {})


def test_a_091_metadata_scheduler_is_diffusers_one_for_that_version_and_said(source, tmp_path, caplog):
    sd3 = {"_class_name": "RectifiedFlowScheduler", "num_train_timesteps": 1000, "shifting": "SD3",
           "base_resolution": None, "target_shift_terminal": 0.1}
    path = save_original_checkpoint(tmp_path / "v091.safetensors", source["transformer"], source["vae"],
                                    {**ORIGINAL_CONFIG, "scheduler": sd3})
    with caplog.at_level(logging.WARNING):
        pipe = LTXVideoPipeline.from_single_file(path, **_text(source))
    (said,) = _warnings(caplog, "metadata scheduler")  # it was ignored in silence
    assert "shifting='SD3', target_shift_terminal=0.1" in said and "timestep_schedule='shifted'" in said
    # LTX-Video's own RectifiedFlowScheduler maths for shifting="SD3": uniform steps shifted by mu, linear in the
    # token count (0.95 at 1024, 2.05 at 4096), stretched to the terminal 0.1; 97 frames at 480 x 704.
    tokens, steps = 13 * 15 * 22, 8
    t = torch.linspace(1, 1 / steps, steps, dtype=torch.float64)
    mu = 0.95 + (2.05 - 0.95) * (tokens - 1024) / (4096 - 1024)
    one_minus = 1 - math.exp(mu) / (math.exp(mu) + (1 / t - 1))
    expected = 1 - one_minus * (1 - 0.1) / one_minus[-1]
    _, sigmas = schedule.retrieve_schedule(pipe.scheduler, steps, None, "shifted", tokens, "cpu")
    torch.testing.assert_close(sigmas[:-1].double(), expected, atol=1e-6, rtol=0)
    caplog.clear()
    given = FlowMatchEulerDiscreteScheduler(shift=3.0)
    with caplog.at_level(logging.WARNING):
        pipe = LTXVideoPipeline.from_single_file(path, scheduler=given, **_text(source))
    assert pipe.scheduler is given and not _warnings(caplog, "metadata scheduler")


def test_metadata_that_is_not_json_is_refused_only_where_it_is_needed(source, folder, tmp_path, tensors_read):
    path, _ = _save(tmp_path / "yaml.safetensors", source["transformer"], source["vae"], "model:\n  lr: 1e-4\n")
    with pytest.raises(ConfigNeededError, match="metadata 'config' is not valid JSON .*; pass config="):
        LTXVideoPipeline.from_single_file(path, **_text(source))
    assert not tensors_read
    pipe = LTXVideoPipeline.from_single_file(path, config=folder)  # was refused: config= gives every config
    _assert_same_weights(pipe.transformer, source["transformer"])
    _assert_same_weights(pipe.vae, source["vae"])


def test_cli_takes_the_configs_a_file_cannot_give_from_base_model(source, files, folder, tmp_path, monkeypatch,
                                                                   capsys):
    from ltx_video.cli import main
    from ltx_video.io.media import read_video_tensor

    vae = {**ORIGINAL_CONFIG["vae"], "spatial_padding_mode": "reflect"}  # diffusers' VAE has no such padding
    path = save_original_checkpoint(tmp_path / "unmappable.safetensors", source["transformer"], source["vae"],
                                    {**ORIGINAL_CONFIG, "vae": vae})
    loads = []
    load_text_components = single_file.load_text_components
    monkeypatch.setattr(single_file, "load_text_components", lambda *a, **k: loads.append(a) or load_text_components(*a, **k))
    common = ["--height", "32", "--width", "32", "--num-frames", "9", "--steps", "1", "--base-model"]
    for model, out in ((path, "a.mp4"), (files["full"], "b.mp4")):
        assert main(["generate", "a red ball bounces", "--model", str(model), *common, str(folder),
                     "--output", str(tmp_path / out)]) == 0  # was "... pass config=", which the CLI has no flag for
    assert "the model configs come from --base-model" in capsys.readouterr().err
    assert torch.equal(read_video_tensor(tmp_path / "a.mp4")[0], read_video_tensor(tmp_path / "b.mp4")[0])
    t5only = tmp_path / "t5only"
    shutil.copytree(folder, t5only, ignore=lambda d, names: [n for n in names if n in ("transformer", "vae")])
    loads.clear()
    assert main(["generate", "a red ball bounces", "--model", str(path), *common, str(t5only),
                 "--output", str(tmp_path / "c.mp4")]) == 2
    error = capsys.readouterr().err
    assert "spatial_padding_mode='reflect'" in error and "config=" not in error
    assert f"--base-model {t5only} has no transformer/config.json or vae/config.json" in error
    assert not loads  # refused before the text encoder loads


def test_a_text_encoder_of_another_dtype_and_a_vae_only_file_are_refused_with_the_fix(source, files, tmp_path,
                                                                                      tensors_read):
    # It loaded, then the call failed deep in the transformer ("mat1 and mat2 must have the same dtype").
    with pytest.raises(ValueError, match=r"`text_encoder` is torch.float32 and the file loads in torch.bfloat16 "
                                         r"\(`torch_dtype`\).*pass text_encoder.to\(torch.bfloat16\)"):
        LTXVideoPipeline.from_single_file(files["full"], torch_dtype=torch.bfloat16, **_text(source))
    assert not tensors_read
    state = {k: v.contiguous() for k, v in to_original_checkpoint(source["transformer"], source["vae"]).items()
             if k.startswith("vae.")}
    save_file(state, str(tmp_path / "vae_only.safetensors"))
    with pytest.raises(ValueError, match=r"only VAE weights: load them with diffusers' "
                                         r"AutoencoderKLLTXVideo.from_single_file\(.*\) and pass that as vae="):
        LTXVideoPipeline.from_single_file(tmp_path / "vae_only.safetensors", **_text(source))


def test_components_that_do_not_fit_are_refused_at_load(source, files, tmp_path, tensors_read):
    # Each loaded and failed later: AttributeError in the loader or deep in diffusers, a matmul in the first call,
    # an IndexError in the embedding, or float64 refused as "the text encoder's dtype".
    from transformers import T5Config, T5EncoderModel

    from ltx_video.testing import tiny_text_encoder

    path, text = files["full"], _text(source)
    for name, value, accepted in (("text_encoder", "t5", "a transformers text encoder"),
                                  ("tokenizer", "t5", "a transformers tokenizer"),
                                  ("vae", "vae", "an AutoencoderKLLTXVideo or HierarchicalVAE"),
                                  ("latent_upsampler", "up", "an LTXLatentUpsamplerModel")):
        with pytest.raises(ValueError, match=rf"^`{name}` must be {accepted} .*or None, got str\.$"):
            LTXVideoPipeline.from_single_file(path, **{**text, name: value})
    wide = T5EncoderModel(T5Config(vocab_size=len(source["tokenizer"]), d_model=32, d_kv=8, d_ff=32, num_layers=1,
                                   num_heads=2))
    with pytest.raises(ValueError, match=r"`text_encoder` is 32 wide \(d_model\) and the checkpoint's transformer "
                                         r"takes text embeddings 16 wide \(caption_channels\): they must be equal"):
        LTXVideoPipeline.from_single_file(path, text_encoder=wide, tokenizer=source["tokenizer"])
    with pytest.raises(ValueError, match=rf"`tokenizer` has {len(source['tokenizer'])} tokens and `text_encoder` "
                                         r"embeds only 10 \(vocab_size\)"):
        LTXVideoPipeline.from_single_file(path, text_encoder=tiny_text_encoder(10), tokenizer=source["tokenizer"])
    for keyword in ("torch_dtype", "dtype"):
        with pytest.raises(ValueError, match=rf"^`{keyword}` must be torch.float32, torch.float16 or torch.bfloat16, "
                                             r"got torch.float64"):
            LTXVideoPipeline.from_single_file(path, **text, **{keyword: torch.float64})
    assert not tensors_read  # all refused before any weight was read
    # The same checks for a text encoder the config folder gives.
    folder = tmp_path / "wide"
    LTXVideoPipeline(**{**source, "text_encoder": wide}).save_pretrained(folder)
    with pytest.raises(ValueError, match=r"the config folder .*wide's `text_encoder` is 32 wide"):
        LTXVideoPipeline.from_single_file(path, config=folder)
