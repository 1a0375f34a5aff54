"""LTX-Video YAML configs as an LTX-Video user edits them, and multi-scale as LTX-Video and diffusers users call it
(2026-12-06): top-level guidance reached the first pass only, bad values were misread (`stochastic_sampling:
"false"` sampled stochastically) or failed after the models loaded, an empty file ran with defaults, a config's
precision was ignored, and a wrong upsampler failed inside a convolution after the whole first pass."""


import pytest
import torch
from conftest import gen
from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

from ltx_video import LTXVideoPipeline
from ltx_video.configs import SHIPPED_CONFIGS, load_config
from ltx_video.testing import tiny_components, tiny_latent_upsampler

CONFIGS = SHIPPED_CONFIGS
KW = dict(prompt="a red ball", height=64, width=64, num_frames=9, max_sequence_length=16)


def _config(tmp_path, text: str):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_config(path)


def test_top_level_keys_reach_every_pass_of_a_multiscale_config(tmp_path):
    config = _config(tmp_path, "pipeline_type: multi-scale\nguidance_scale: 1\nstg_scale: 2\nskip_block_list: [1]\n"
                               "first_pass: {timesteps: [1.0, 0.9]}\nsecond_pass: {timesteps: [0.9, 0.4], stg_scale: 0}\n")
    assert config.first_pass["guidance_scale"] == config.second_pass["guidance_scale"] == 1  # was first pass only
    assert config.second_pass["skip_block_list"] == [1] and config.second_pass["stg_scale"] == 0  # the pass's own wins


@pytest.mark.parametrize("line, message", [
    ('stochastic_sampling: "false"', "`stochastic_sampling` must be true or false"),  # was stochastic
    ('cfg_star_rescale: "no"', "`cfg_star_rescale` must be true or false"),
    ("guidance_scale: null", "`guidance_scale` must be a number >= 0, or a list"),
    ("num_inference_steps: 8.7", "`num_inference_steps` must be a whole number >= 1, got 8.7"),
    ('num_inference_steps: "eight"', "`num_inference_steps` must be a whole number >= 1"),
    ('guidance_timesteps: "1.0"', "`guidance_timesteps` must be a list of decreasing times"),
    ('downscale_factor: "half"', "`downscale_factor` must be a number in (0, 1)"),
    ("downscale_factor: 2", "`downscale_factor` must be a number in (0, 1)"),
    ("first_pass: [1, 2]", "`first_pass` must be a mapping"),
    ("timesteps: [1000, 500, 100]", "`timesteps` must be a non-empty list of decreasing times in (0, 1]"),
    ("timesteps: []", "`timesteps` must be a non-empty list"),
    ('decode_timestep: "x"', "`decode_timestep` must be a number >= 0"),
    ("tone_map_compression_ratio: 1.5", "`tone_map_compression_ratio` must be a number in [0, 1]"),
    ("precision: float16", "`precision` must be one of"),
    ("guidance_scale: -2", "`guidance_scale` must be a number >= 0"),
    ("rescaling_scale: 5", "`rescaling_scale` must be a number in [0, 1]"),
])
def test_values_are_named_when_the_file_loads(tmp_path, line, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        _config(tmp_path, f"pipeline_type: base\n{line}\n")


def test_files_that_cannot_run(tmp_path):
    with pytest.raises(ValueError, match="holds no settings"):
        _config(tmp_path, "")  # ran with defaults
    with pytest.raises(ValueError, match="needs a `second_pass` with `timesteps`"):
        _config(tmp_path, "pipeline_type: multi-scale\nfirst_pass: {timesteps: [1.0]}\nsecond_pass: {guidance_scale: 1}\n")
    with pytest.raises(ValueError, match="needs a `first_pass` with `timesteps`"):  # the CLI then failed after loading
        _config(tmp_path, "pipeline_type: multi-scale\nfirst_pass: {guidance_scale: 1}\nsecond_pass: {timesteps: [0.9]}\n")


@pytest.fixture(scope="module")
def pipe():
    pipe = LTXVideoPipeline(**tiny_components())
    pipe.register_modules(latent_upsampler=tiny_latent_upsampler())
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_a_given_schedule_replaces_a_base_configs(pipe, tmp_path):
    config = _config(tmp_path, "pipeline_type: base\ntimesteps: [1.0, 0.9, 0.7, 0.4]\nguidance_scale: 1\n")
    steps = []
    config.generate(pipe, **KW, num_inference_steps=2, generator=gen(),
                    callback_on_step_end=lambda p, i, t, kw: steps.append(i) or kw)
    assert steps == [0, 1]  # was the config's four
    with pytest.raises(ValueError, match="a multi-scale config's schedules are its passes'"):
        load_config(CONFIGS / "ltxv-2b-0.9.8-distilled.yaml").generate(pipe, **KW, num_inference_steps=4)


def test_multiscale_calls_as_ltx_video_and_diffusers_users_write_them(pipe):
    refine = pipe.generate_multiscale(**KW, first_pass={"timesteps": [1000, 900]}, generator=gen(), output_type="pt",
                                      second_pass={"num_inference_steps": 4, "denoise_strength": 0.5})
    assert torch.isfinite(refine.frames).all()  # diffusers' refine: was "must start below 1000"
    with pytest.raises(ValueError, match="skip_initial_inference_steps is an LTX-Video YAML key"):
        pipe.generate_multiscale(**KW, second_pass={"num_inference_steps": 30, "skip_initial_inference_steps": 17})
    wide = LTXLatentUpsamplerModel(in_channels=16, mid_channels=32, num_blocks_per_stage=1, dims=3)
    with pytest.raises(ValueError, match="`latent_upsampler` takes 16-channel latents, this pipeline's VAE makes 8"):
        pipe.generate_multiscale(**KW, latent_upsampler=wide, second_pass={"timesteps": [900]})
    with pytest.raises(ValueError, match="takes 16-channel latents"):
        pipe.enable_4k_mode(latent_upsampler=wide)
    pipe.enable_4k_mode()
    try:
        with pytest.raises(ValueError, match=r"call pipe.disable_4k_mode\(\) before multi-scale generation"):
            load_config(CONFIGS / "ltxv-2b-0.9.8-distilled.yaml").generate(pipe, **KW)
    finally:
        pipe.disable_4k_mode()


def test_cli_follows_a_configs_precision_and_steps(tmp_path):
    from ltx_video.cli import build_parser
    from ltx_video.cli.generate import check_inputs

    def parsed(*extra):
        args = build_parser().parse_args(["generate", "a red ball bounces", "--output", str(tmp_path / "o.mp4"), *extra])
        return args, check_inputs(args)[2]

    (tmp_path / "config.json").write_text("{}")  # an upsampler folder, as far as the checks look
    args, _ = parsed("--config", str(CONFIGS / "ltxv-2b-0.9.8-distilled-fp8.yaml"), "--upsampler", str(tmp_path))
    assert (args.dtype, args.fp8) == ("bfloat16", True)  # was float32, no FP8
    args, _ = parsed("--config", str(CONFIGS / "ltxv-2b-0.9.8-distilled-fp8.yaml"), "--upsampler", str(tmp_path),
                     "--dtype", "float32")
    assert args.dtype == "float32"  # an explicit --dtype wins
    (tmp_path / "base.yaml").write_text("pipeline_type: base\nstg_scale: 0\n")
    _, call = parsed("--config", str(tmp_path / "base.yaml"), "--steps", "3")
    assert call["num_inference_steps"] == 3 and call["guidance_scale"] == 3.0  # --steps was dropped, CFG was 50 steps'


def test_single_file_takes_a_dtype_name():
    from ltx_video.pipelines.loading import _as_dtype

    assert _as_dtype("bfloat16", "torch_dtype") is torch.bfloat16 and _as_dtype("torch.float16", "dtype") is torch.float16
    with pytest.raises(ValueError, match=r"`torch_dtype` must be a torch.dtype or its name: .*; got 'half-ish'"):
        _as_dtype("half-ish", "torch_dtype")
