"""extract_lora: a fine-tune's linear-layer change as a LoRA that diffusers' loader reads back."""

import copy
import re

import pytest
import torch
from conftest import gen

pytest.importorskip("peft")

from ltx_video.testing import tiny_audio_video_pipeline  # noqa: E402
from ltx_video.training.lora_extract import extract_lora  # noqa: E402

CALL = dict(prompt="a red ball bounces", height=64, width=64, num_frames=9, num_inference_steps=2, output_type="pt")


def _tuned(transformer, seed=1, norms=False):
    """A copy with every linear weight and bias moved by a random change of rank 3 (plus noise of full rank)."""
    tuned = copy.deepcopy(transformer)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in tuned.modules():
            if isinstance(module, torch.nn.Linear):
                out, inp = module.weight.shape
                low = torch.randn(out, 3, generator=g) @ torch.randn(3, inp, generator=g)
                module.weight += 0.02 * low / inp**0.5 + 1e-4 * torch.randn(out, inp, generator=g)
                if module.bias is not None:
                    module.bias += 0.01 * torch.randn(out, generator=g)
        if norms:
            tuned.transformer_blocks[0].scale_shift_table += 0.05
    return tuned


@pytest.fixture(scope="module")
def pipe():
    p = tiny_audio_video_pipeline(seed=0)
    p.set_progress_bar_config(disable=True)
    return p


def _assert_fuses_to(pipe, lora, tuned):
    """``pipe`` with the extracted LoRA in ``lora`` fused in has ``tuned``'s weights."""
    pipe.load_lora_weights(lora / "pytorch_lora_weights.safetensors")
    pipe.fuse_lora()
    pipe.unload_lora_weights()
    merged = dict(pipe.transformer.named_parameters())
    for name, value in tuned.named_parameters():
        torch.testing.assert_close(merged[name], value, atol=1e-6, rtol=0)


def test_full_rank_lora_reproduces_the_fine_tune(pipe, tmp_path):
    base = copy.deepcopy(pipe.transformer)
    tuned = _tuned(base)
    widest = max(min(m.weight.shape) for m in base.modules() if isinstance(m, torch.nn.Linear))
    lora = extract_lora(base, tuned, rank=widest)
    assert lora.kept_overall == pytest.approx(1.0) and not lora.left_out
    pipe.save_lora_weights(tmp_path, transformer_lora_layers=lora.state_dict)

    pipe.transformer = tuned
    expected = pipe(**CALL, generator=gen(0))
    pipe.transformer = copy.deepcopy(base)
    before = pipe(**CALL, generator=gen(0))
    pipe.load_lora_weights(tmp_path / "pytorch_lora_weights.safetensors", adapter_name="tuned")
    got = pipe(**CALL, generator=gen(0))
    assert (expected.frames - before.frames).abs().max() > 1e-2  # the change matters
    torch.testing.assert_close(got.frames, expected.frames, atol=2e-5, rtol=0)
    torch.testing.assert_close(got.audio[0][0], expected.audio[0][0], atol=2e-5, rtol=0)
    pipe.transformer = base


def test_low_rank_keeps_the_leading_directions_and_reports_the_rest():
    pipe = tiny_audio_video_pipeline(seed=0)
    base = pipe.transformer
    tuned = _tuned(base, norms=True)
    lora = extract_lora(base, tuned, rank=3)
    # the change is rank 3 plus small full-rank noise: rank 3 keeps nearly all of it, rank 1 about a third
    assert 0.99 < lora.kept_overall < 1.0
    assert 0.2 < extract_lora(base, tuned, rank=1).kept_overall < 0.6
    assert lora.left_out == {"transformer_blocks.0.scale_shift_table": pytest.approx(0.05, rel=1e-5)}
    name = "transformer_blocks.0.attn1.to_q"
    a, b = lora.state_dict[f"{name}.lora_A.weight"], lora.state_dict[f"{name}.lora_B.weight"]
    linear, reference = dict(tuned.named_modules())[name], dict(base.named_modules())[name]
    assert a.shape == (3, linear.in_features) and b.shape == (linear.out_features, 3)
    delta = (linear.weight - reference.weight).detach()
    # the best rank-3 approximation: as close as the truncated SVD
    s = torch.linalg.svdvals(delta.double())
    assert float(torch.linalg.norm((delta - b @ a).double())) == pytest.approx(float(s[3:].square().sum().sqrt()), rel=1e-4)
    torch.testing.assert_close(lora.state_dict[f"{name}.lora_B.bias"], (linear.bias - reference.bias).detach())


@pytest.mark.parametrize("biases_moved", [False, True])
def test_a_model_with_bias_less_attention_gets_no_lora_bias_and_fuses_whole(tmp_path, biases_moved):
    """With ``attention_bias=False`` a zero ``lora_B.bias`` went in for every layer: diffusers then set peft's
    ``lora_bias`` for the whole file and ``fuse_lora`` failed half-way, on the first bias-less layer. Now no bias
    goes in; bias changes of the layers that have one are reported as left out, and the LoRA fuses whole."""
    from diffusers import LTXVideoTransformer3DModel

    from ltx_video import LTXVideoPipeline
    from ltx_video.testing import transformer_inputs

    torch.manual_seed(0)
    base = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1,
                                      num_attention_heads=2, attention_head_dim=8, cross_attention_dim=16,
                                      num_layers=1, caption_channels=16, attention_bias=False,
                                      attention_out_bias=False).eval()
    linears = {name: m for name, m in base.named_modules() if isinstance(m, torch.nn.Linear)}
    assert any(m.bias is None for m in linears.values()) and any(m.bias is not None for m in linears.values())
    weights_only = _tuned(base)
    with torch.no_grad():
        for name, module in weights_only.named_modules():
            if isinstance(module, torch.nn.Linear) and module.bias is not None:
                module.bias.copy_(linears[name].bias)
    tuned = _tuned(base) if biases_moved else weights_only
    widest = max(min(m.weight.shape) for m in linears.values())
    lora = extract_lora(base, tuned, rank=widest)
    assert not [key for key in lora.state_dict if key.endswith(".bias")]
    moved_biases = {f"{name}.bias" for name, m in linears.items() if m.bias is not None} if biases_moved else set()
    assert set(lora.left_out) == moved_biases
    LTXVideoPipeline.save_lora_weights(tmp_path, transformer_lora_layers=lora.state_dict)

    inputs = transformer_inputs(base)
    with torch.no_grad():
        expected, before = weights_only(**inputs)[0], base(**inputs)[0]
    model = copy.deepcopy(base)
    model.load_lora_adapter(tmp_path / "pytorch_lora_weights.safetensors", prefix="transformer", adapter_name="x")
    model.fuse_lora()
    model.unload_lora()
    with torch.no_grad():
        got = model(**inputs)[0]
    assert (expected - before).abs().max() > 1e-2  # the change matters
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=0)


def test_unchanged_layers_are_left_out_and_mismatches_refused():
    base = tiny_audio_video_pipeline(seed=0).transformer
    assert extract_lora(base, copy.deepcopy(base), rank=4).state_dict == {}
    with pytest.raises(ValueError, match="rank must be >= 1"):
        extract_lora(base, base, rank=0)
    other = tiny_audio_video_pipeline(seed=0).transformer
    other.transformer_blocks[0].attn1.to_q = torch.nn.Linear(other.transformer_blocks[0].attn1.to_q.in_features, 8)
    with pytest.raises(ValueError, match="to_q.weight: base"):
        extract_lora(base, other, rank=4)


def test_extract_script_and_load_camera_lora_round_trip(tmp_path, capsys):
    """scripts/extract_lora.py writes a folder that ``pipe.load_camera_lora`` merges back: the transformer's
    linear layers become the fine-tune's, the motion encoder and its phrase setting come with it, and the
    camera phrase goes into the prompt of a camera call."""
    import sys
    from pathlib import Path

    from ltx_video import Camera
    from ltx_video.conditioning.camera_controller import CameraMotionEncoder
    from ltx_video.pipelines.generation_defaults import GenerationDefaults

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    try:
        import extract_lora
    finally:
        sys.path.pop(0)
    sizes = dict(height=64, width=64, num_frames=9, frame_rate=24.0, num_inference_steps=2, guidance_scale=3.0)
    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.generation_defaults = GenerationDefaults(**sizes, prompt_grammar={"cameras": ["static"]})
    base_dir, tuned_dir = tmp_path / "base", tmp_path / "tuned"
    pipe.save_pretrained(base_dir)
    tuned = _tuned(pipe.transformer)
    tuned_pipe = tiny_audio_video_pipeline(seed=0)
    tuned_pipe.transformer = tuned
    tuned_pipe.camera_encoder = CameraMotionEncoder(tuned.config.num_attention_heads * tuned.config.attention_head_dim,
                                                    camera_phrase=True)
    tuned_pipe.generation_defaults = GenerationDefaults(**sizes, prompt_grammar={"cameras": ["static", "pan_left"]})
    tuned_pipe.save_pretrained(tuned_dir)
    with pytest.raises(SystemExit):
        extract_lora.main(["--base", str(tmp_path), "--tuned", str(tuned_dir), "--out", str(tmp_path / "x")])
    assert "--base:" in capsys.readouterr().err
    assert extract_lora.main(["--base", str(base_dir), "--tuned", str(tuned_dir), "--rank", "64", "--dtype", "float32",
                              "--out", str(tmp_path / "lora")]) == 0
    assert "100.00 % of the weight change kept" in capsys.readouterr().out

    with pytest.raises(FileNotFoundError, match="pytorch_lora_weights.safetensors and camera_encoder/"):
        pipe.load_camera_lora(tmp_path)
    pipe.load_camera_lora(tmp_path / "lora")
    merged = dict(pipe.transformer.named_parameters())
    for name, value in tuned.named_parameters():
        torch.testing.assert_close(merged[name], value, atol=1e-6, rtol=0)
    assert not any("lora" in name for name in merged)  # fused and unloaded: a plain transformer again
    assert pipe.camera_encoder.config.camera_phrase and pipe.generation_defaults.prompt_grammar["cameras"][-1] == "pan_left"
    plan, _ = pipe.plan_control(keyframes=None, camera=Camera(motion_type="pan_left", speed=1.0), keyframe_interpolation=0.0,
                                other_conditions=False, num_frames=9, height=64, width=64)
    assert pipe.camera_prompt("a red ball bounces", plan) == "a red ball bounces, the camera pans left"
    # a second merge added the LoRA again (base + 2x its change), with no way back: refused, the weights unchanged
    with pytest.raises(ValueError, match="load_camera_lora: the camera LoRA of .* is already merged"):
        pipe.load_camera_lora(tmp_path / "lora")
    assert all(torch.equal(merged[name], value) for name, value in pipe.transformer.named_parameters())
    # a merge unloaded every adapter, the user's own one too, without a word: refused while another is loaded
    other = tiny_audio_video_pipeline(seed=0)
    other.load_lora_weights(tmp_path / "lora" / "pytorch_lora_weights.safetensors", adapter_name="style")
    with pytest.raises(ValueError, match=r"fuse=True unloads every adapter's layers .*\['style'\] are loaded"):
        other.load_camera_lora(tmp_path / "lora")
    assert other.get_list_adapters() == {"transformer": ["style"]}
    other.load_camera_lora(tmp_path / "lora", fuse=False)  # as an adapter beside it
    assert sorted(other.get_list_adapters()["transformer"]) == ["camera", "style"]


def test_extract_script_takes_an_ltx_video_folder_and_refuses_mixed_ones(tmp_path, capsys):
    """A video-only (LTX-Video, diffusers' transformer) folder: the script loaded it as the audio-video transformer
    (audio layers newly initialised on the meta device) and failed in the extraction."""
    import sys
    from pathlib import Path

    from ltx_video.testing import tiny_pipeline

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    try:
        import extract_lora
    finally:
        sys.path.pop(0)
    pipe = tiny_pipeline(seed=0)
    pipe.set_progress_bar_config(disable=True)
    tuned = _tuned(pipe.transformer)
    pipe.save_pretrained(tmp_path / "base")
    tuned_pipe = tiny_pipeline(seed=0)
    tuned_pipe.transformer = tuned
    tuned_pipe.save_pretrained(tmp_path / "tuned")
    assert extract_lora.main(["--base", str(tmp_path / "base"), "--tuned", str(tmp_path / "tuned"), "--rank", "64",
                              "--dtype", "float32", "--out", str(tmp_path / "lora")]) == 0
    assert "100.00 % of the weight change kept" in capsys.readouterr().out
    _assert_fuses_to(pipe, tmp_path / "lora", tuned)
    tiny_audio_video_pipeline(seed=0).save_pretrained(tmp_path / "av")
    with pytest.raises(SystemExit):
        extract_lora.main(["--base", str(tmp_path / "av"), "--tuned", str(tmp_path / "tuned"), "--out", str(tmp_path / "x")])
    assert "a LoRA needs the same architecture" in capsys.readouterr().err
    # --out never replaces a pipeline's files or an earlier extraction's without --overwrite (the base's
    # generation_defaults.json was replaced by the tuned one's; --out = --tuned crashed after writing).
    before = {p: p.read_bytes() for p in (tmp_path / "base").rglob("*") if p.is_file()}
    for out, message in ((tmp_path / "base", "is inside --base"), (tmp_path / "tuned" / "lora", "is inside --tuned"),
                         (tmp_path / "lora", "already holds pytorch_lora_weights.safetensors: pass --overwrite")):
        with pytest.raises(SystemExit):
            extract_lora.main(["--base", str(tmp_path / "base"), "--tuned", str(tmp_path / "tuned"), "--out", str(out)])
        assert message in capsys.readouterr().err
    assert {p: p.read_bytes() for p in (tmp_path / "base").rglob("*") if p.is_file()} == before
    (tmp_path / "lora" / "camera_encoder").mkdir()  # an earlier camera extraction's, which this one does not have
    (tmp_path / "lora" / "generation_defaults.json").write_text("{}")
    assert extract_lora.main(["--base", str(tmp_path / "base"), "--tuned", str(tmp_path / "tuned"), "--rank", "8",
                              "--out", str(tmp_path / "lora"), "--overwrite"]) == 0
    assert sorted(p.name for p in (tmp_path / "lora").iterdir()) == ["pytorch_lora_weights.safetensors"]
    (tmp_path / "file").write_text("mine")
    with pytest.raises(SystemExit):
        extract_lora.main(["--base", str(tmp_path / "base"), "--tuned", str(tmp_path / "tuned"), "--out",
                           str(tmp_path / "file")])
    assert "is a file: give a folder" in capsys.readouterr().err


def _script():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    try:
        import extract_lora
    finally:
        sys.path.pop(0)
    return extract_lora


def test_check_generates_every_pipeline_at_the_tuned_defaults_on_the_same_prompts(tmp_path, capsys, monkeypatch):
    """--check ran each pipeline at its own defaults: base + LoRA took the base's STG, audio modality guidance and
    frame count against a tuned pipeline without them (an exact LoRA read 17 dB), or the comparison failed on
    different shapes after the LoRA was written and the videos generated. Now every call gets the tuned defaults."""
    from ltx_video.pipelines.generation_defaults import GenerationDefaults

    extract_lora = _script()
    monkeypatch.syspath_prepend(str(extract_lora.Path(extract_lora.__file__).parent))  # benchmark_quality, as run
    sizes = dict(height=32, width=32, frame_rate=24.0, num_inference_steps=2, guidance_scale=3.0)
    pipe = tiny_audio_video_pipeline(seed=0)
    pipe.generation_defaults = GenerationDefaults(**sizes, num_frames=17, stg_scale=1.5, skip_block_list=(0,),
                                                  audio_modality_scale=8.0)
    pipe.save_pretrained(tmp_path / "base")
    tuned = copy.deepcopy(pipe.transformer)
    with torch.no_grad():  # a change of rank 1: a rank-4 LoRA carries it exactly
        g = torch.Generator().manual_seed(0)
        weight = tuned.proj_out.weight
        weight += 0.2 * torch.outer(torch.randn(weight.shape[0], generator=g), torch.randn(weight.shape[1], generator=g))
    pipe.transformer = tuned
    pipe.generation_defaults = GenerationDefaults(**sizes, num_frames=9)  # no STG, no modality guidance
    pipe.save_pretrained(tmp_path / "tuned")
    args = ["--base", str(tmp_path / "base"), "--tuned", str(tmp_path / "tuned"), "--rank", "4", "--dtype", "float32"]
    assert extract_lora.main([*args, "--out", str(tmp_path / "lora"), "--check", "2"]) == 0
    out = capsys.readouterr().out
    assert "100.00 % of the weight change kept" in out
    lora, base = (float(re.search(rf"^{name} against the tuned pipeline: PSNR (\S+) dB", out, re.M)[1])
                  for name in (r"base \+ LoRA", "base"))
    assert lora > 60 and base < 40  # the LoRA is the fine-tune; the base alone is not

    # the same arguments for every pipeline, explicit: the base's own STG and modality guidance are switched off
    call = extract_lora.check_call(tmp_path / "tuned", audio_video=True)
    assert call == dict(**sizes, num_frames=9, negative_prompt="", stg_scale=0.0, skip_block_list=[],
                        modality_scale=1.0, audio_modality_scale=1.0)
    results = extract_lora.check(tmp_path / "base", tmp_path / "tuned", tmp_path / "lora", 1, call)
    assert results["base + LoRA"][0] > 60 and results["base"][0] < 40


def test_check_refuses_what_it_cannot_do_before_any_work_and_a_zero_change_is_said(tmp_path, capsys):
    extract_lora = _script()
    pipe = tiny_audio_video_pipeline(seed=0)  # no generation defaults
    pipe.save_pretrained(tmp_path / "base")
    args = ["--base", str(tmp_path / "base"), "--tuned", str(tmp_path / "base")]
    for extra, message in ((["--check", "1"], "--check: --tuned .* has no generation_defaults.json"),
                           (["--check", "-1"], "--check must be >= 0"),
                           (["--check", "1", "--ranks", "4"], "--check needs --out")):
        with pytest.raises(SystemExit):
            extract_lora.main([*args, "--out", str(tmp_path / "lora"), *extra])
        assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "lora").exists()
    # a zero change: `min() arg is an empty sequence` after loading both models
    with pytest.raises(SystemExit):
        extract_lora.main([*args, "--out", str(tmp_path / "lora")])
    assert "no weight changed in its linear layers" in capsys.readouterr().err
    assert not (tmp_path / "lora").exists()



@pytest.fixture(scope="module")
def variant_folders(tmp_path_factory):
    """A tiny LTX-Video base and its fine-tune, saved with ``save_pretrained(variant="bf16")``: (folder, tuned)."""
    from ltx_video.testing import tiny_pipeline

    folder = tmp_path_factory.mktemp("variant")
    tiny_pipeline(seed=0).save_pretrained(folder / "base", variant="bf16")
    tuned_pipe = tiny_pipeline(seed=0)
    tuned_pipe.transformer = _tuned(tuned_pipe.transformer)
    tuned_pipe.save_pretrained(folder / "tuned", variant="bf16")
    return folder, tuned_pipe.transformer


def test_variant_folders_need_and_take_variant_and_ranks_refuses_out(variant_folders, capsys):
    """Folders saved with ``save_pretrained(variant="bf16")``: the script had no --variant and failed in diffusers
    (OSError: no file named diffusion_pytorch_model.bin); --ranks ignored --out and wrote nothing, exit 0."""
    from ltx_video.testing import tiny_pipeline

    extract_lora = _script()
    folder, tuned = variant_folders
    args = ["--base", str(folder / "base"), "--tuned", str(folder / "tuned"), "--out", str(folder / "lora")]
    base_transformer = re.escape(f"--base {folder / 'base'}/transformer")
    for extra, message in (
        ([], rf"error: {base_transformer} holds only weights saved with variant bf16 \(save_pretrained\(variant=\.\.\.\)\): "
             r"pass --variant bf16$"),
        (["--variant", "fp16"], rf"error: {base_transformer} has no weights saved with --variant fp16; it holds variants "
                                r"bf16$"),
        (["--check", "1"], rf"error: --check: {base_transformer} holds only weights saved with variant bf16"),
        (["--variant", "bf16", "--ranks", "2", "4"], r"error: --ranks only prints the share kept at each rank and writes "
                                                     r"nothing: give --out with --rank, or leave --out out$"),
    ):
        with pytest.raises(SystemExit):
            extract_lora.main([*args, *extra])
        assert re.search(message, capsys.readouterr().err.strip())
    assert not (folder / "lora").exists()
    assert extract_lora.main([*args, "--variant", "bf16", "--rank", "64", "--dtype", "float32"]) == 0
    _assert_fuses_to(tiny_pipeline(seed=0), folder / "lora", tuned)


def test_check_loads_variant_folders_with_the_variant(variant_folders, monkeypatch):
    extract_lora = _script()
    monkeypatch.syspath_prepend(str(extract_lora.Path(extract_lora.__file__).parent))  # benchmark_quality, as run
    folder, _ = variant_folders
    lora = folder / "check_lora"
    assert extract_lora.main(["--base", str(folder / "base"), "--tuned", str(folder / "tuned"), "--out", str(lora),
                              "--variant", "bf16", "--rank", "64", "--dtype", "float32"]) == 0
    call = dict(height=32, width=32, num_frames=9, frame_rate=24.0, num_inference_steps=1, guidance_scale=1.0,
                stg_scale=0.0, skip_block_list=[])
    results = extract_lora.check(folder / "base", folder / "tuned", lora, 1, call, variant="bf16")
    assert results["base + LoRA"][0] > 60 and results["base"][0] < results["base + LoRA"][0]
