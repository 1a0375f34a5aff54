"""LTX-Video 0.9.8 YAML configs load into the published values and run on the tiny pipeline."""


import pytest
import torch
from conftest import gen

from ltx_video import LTXVideoPipeline
from ltx_video.configs import SHIPPED_CONFIGS, STG_MODES, load_config
from ltx_video.pipelines import denoising
from ltx_video.testing import tiny_latent_upsampler

CONFIGS = SHIPPED_CONFIGS
NAMES = ["ltxv-2b-0.9.8-distilled", "ltxv-2b-0.9.8-distilled-fp8", "ltxv-13b-0.9.8-distilled",
         "ltxv-13b-0.9.8-distilled-fp8", "ltxv-13b-0.9.8-dev", "ltxv-13b-0.9.8-dev-fp8"]


@pytest.mark.parametrize("name", NAMES)
def test_published_configs_load(name):
    cfg = load_config(CONFIGS / f"{name}.yaml")
    assert cfg.is_multiscale and cfg.downscale_factor == pytest.approx(0.6666666)
    assert cfg.call == {"skip_layer_strategy": "attention_values", "decode_timestep": 0.05, "decode_noise_scale": 0.025,
                        "stochastic_sampling": False}
    assert cfg.model["precision"] == ("float8_e4m3fn" if name.endswith("fp8") else "bfloat16")
    if "distilled" in name:
        assert cfg.first_pass["timesteps"] == pytest.approx([1000, 993.7, 987.5, 981.2, 975, 909.4, 725])
        assert cfg.second_pass["timesteps"] == pytest.approx([909.4, 725, 421.9])
        assert cfg.second_pass.get("tone_map_compression_ratio", 0.0) == (0.6 if "13b" in name else 0.0)
    else:
        full = (denoising.linear_quadratic_schedule(30) * 1000).tolist()
        assert cfg.first_pass["timesteps"] == pytest.approx(full[:27])
        assert cfg.second_pass["timesteps"] == pytest.approx(full[17:])
        assert cfg.first_pass["guidance_timesteps"][2] == pytest.approx(993.3)
        assert cfg.first_pass["cfg_star_rescale"] is True


def test_unknown_keys_are_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("pipeline_type: base\nguidance_scle: 3\n")
    with pytest.raises(ValueError, match="guidance_scle"):
        load_config(bad)
    bad.write_text("pipeline_type: multi-scale\nfirst_pass:\n  stg_scael: 1\nsecond_pass:\n  timesteps: [0.9]\n")
    with pytest.raises(ValueError, match="stg_scael"):
        load_config(bad)
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "missing.yaml")


@pytest.fixture(scope="module")
def pipe(components):
    pipe = LTXVideoPipeline(**components, latent_upsampler=tiny_latent_upsampler())
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_distilled_config_runs_multiscale(pipe):
    cfg = load_config(CONFIGS / "ltxv-13b-0.9.8-distilled.yaml")
    out = cfg.generate(pipe, prompt="a red ball", height=96, width=96, num_frames=9, max_sequence_length=16,
                       output_type="pt", generator=gen()).frames
    assert out.shape == (1, 9, 3, 96, 96)
    again = cfg.generate(pipe, prompt="a red ball", height=96, width=96, num_frames=9, max_sequence_length=16,
                         output_type="pt", generator=gen()).frames
    assert torch.equal(out, again)


def test_dev_config_names_blocks_missing_from_the_model(pipe):
    """The 13B dev config perturbs block 28 etc.; a 2-block model rejects it before any model runs."""
    cfg = load_config(CONFIGS / "ltxv-13b-0.9.8-dev.yaml")
    with pytest.raises(ValueError, match="skip_block_list"):
        cfg.generate(pipe, prompt="a ball", height=96, width=96, num_frames=9, generator=gen())


def test_base_config_with_stochastic_sampling(pipe, tmp_path):
    path = tmp_path / "base.yaml"
    path.write_text("pipeline_type: base\nstochastic_sampling: true\nnum_inference_steps: 4\n"
                    "guidance_scale: 2\nstg_scale: 1\nskip_block_list: [1]\nrescaling_scale: 0.7\n")
    cfg = load_config(path)
    kw = dict(prompt="a ball", height=64, width=64, num_frames=9, max_sequence_length=16, output_type="latent")
    a = cfg.generate(pipe, generator=gen(), **kw).frames
    b = cfg.generate(pipe, generator=gen(), **kw).frames
    deterministic = pipe(**kw, **cfg.first_pass, generator=gen()).frames
    assert torch.equal(a, b) and (a - deterministic).abs().max() > 1e-3


def test_stochastic_step_lands_on_x0_at_zero():
    x, v, noise = torch.randn(1, 4, 2), torch.randn(1, 4, 2), torch.randn(1, 4, 2)
    sigma, zero = torch.full((1, 1), 0.6), torch.zeros(1, 1)
    assert torch.allclose(denoising.stochastic_step(x, v, sigma, zero, noise), x - 0.6 * v)


def test_stochastic_sampling_false_wins_over_the_schedulers_flag(pipe, tmp_path):
    """`stochastic_sampling: false` reached the call only when true (2026-12-07), so a scheduler whose own flag is
    True sampled stochastically; LTX-Video passes the config's value to every pass."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    path = tmp_path / "base.yaml"
    path.write_text("pipeline_type: base\nnum_inference_steps: 4\nguidance_scale: 1\nstochastic_sampling: false\n")
    cfg = load_config(path)
    assert cfg.call == {"stochastic_sampling": False}
    kw = dict(prompt="a ball", height=64, width=64, num_frames=9, max_sequence_length=16, output_type="latent")
    default = pipe.scheduler
    plain = pipe(**kw, **cfg.first_pass, generator=gen()).frames
    assert torch.equal(cfg.generate(pipe, generator=gen(), **kw).frames, plain)  # a default scheduler: unchanged
    pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(default.config, stochastic_sampling=True)
    try:
        out = cfg.generate(pipe, generator=gen(), **kw).frames
        stochastic = pipe(**kw, **cfg.first_pass, generator=gen()).frames
    finally:
        pipe.scheduler = default
    assert torch.equal(out, plain) and (out - stochastic).abs().max() > 1e-3


def test_decode_keys_in_second_pass_reach_the_decoder(pipe, tmp_path):
    """LTX-Video's multi-scale pipeline applies `second_pass` to the decoding call: decode_timestep and
    decode_noise_scale there were refused as unknown keys (2026-12-07)."""
    passes = "first_pass: {timesteps: [1.0, 0.9]}\nsecond_pass: {timesteps: [0.9, 0.4]%s}\n"
    head = "pipeline_type: multi-scale\nguidance_scale: 1\n"
    (tmp_path / "second.yaml").write_text(head + passes % ", decode_timestep: 0.05, decode_noise_scale: 0.025")
    (tmp_path / "top.yaml").write_text(head + "decode_timestep: 0.05\ndecode_noise_scale: 0.025\n" + passes % "")
    in_second, at_top = load_config(tmp_path / "second.yaml"), load_config(tmp_path / "top.yaml")
    assert in_second.second_pass["decode_timestep"] == 0.05 and "decode_timestep" not in in_second.call
    kw = dict(prompt="a red ball", height=64, width=64, num_frames=9, max_sequence_length=16, output_type="pt")
    out = in_second.generate(pipe, generator=gen(), **kw).frames
    assert torch.equal(out, at_top.generate(pipe, generator=gen(), **kw).frames)
    undecoded = in_second.generate(pipe, generator=gen(), decode_timestep=0.0, decode_noise_scale=0.0, **kw).frames
    assert (out - undecoded).abs().max() > 1e-3  # the call's own wins, and the values reach the decoder


def test_stg_modes_are_the_skip_layer_strategies():
    """configs.STG_MODES (kept free of diffusers' import time) maps what SkipLayerStrategy.parse takes."""
    import re

    from ltx_video.attention.stg import SkipLayerStrategy

    assert {mode: SkipLayerStrategy.parse(mode).value for mode in STG_MODES} == STG_MODES
    assert set(STG_MODES.values()) == {s.value for s in SkipLayerStrategy}
    with pytest.raises(ValueError) as error:
        SkipLayerStrategy.parse("bogus")
    assert set(re.findall(r"'(\w+)'", str(error.value).split(", got")[0])) == set(STG_MODES)
