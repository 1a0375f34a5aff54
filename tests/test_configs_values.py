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
    ('decode_timestep: "x"', "`decode_timestep` must be a number in [0, 1], or a list of them (one per video)"),
    ("decode_timestep: 2", "`decode_timestep` must be a number in [0, 1]"),  # refused by the call, after loading
    ("decode_noise_scale: [0.1, -1]", "`decode_noise_scale` must be a number in [0, 1], a list of them"),
    ('stg_mode: "bogus"', "`stg_mode` must be one of attention_values, attention_skip, residual, transformer_block "
                          "(or LTX-Video's stg_av, stg_as, stg_r, stg_t), got 'bogus'."),  # was after the model loaded
    ("stg_mode: 3", "`stg_mode` must be one of attention_values"),
    ("first_pass: {decode_timestep: 0.05}",
     "first_pass: `decode_timestep` is the decoder's; put it at the top level or in second_pass"),
    ("second_pass: {timesteps: [0.9], decode_noise_scale: 2}", "second_pass: `decode_noise_scale` must be a number"),
    ("tone_map_compression_ratio: 1.5", "`tone_map_compression_ratio` must be a number in [0, 1]"),
    ("precision: float16", "`precision` must be one of"),
    ("guidance_scale: -2", "`guidance_scale` must be a number >= 0"),
    ("rescaling_scale: 5", "`rescaling_scale` must be a number in [0, 1]"),
])
def test_values_are_named_when_the_file_loads(tmp_path, line, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        _config(tmp_path, f"pipeline_type: base\n{line}\n")


def test_values_the_call_takes_load(tmp_path):
    """What the pipeline's call takes loads too: decode_timestep one per video (refused, 2026-12-07), a null
    decode_noise_scale, and stg_mode in any case or LTX-Video's short names (as its inference.py reads them)."""
    config = _config(tmp_path, "pipeline_type: base\ndecode_timestep: [0.05, 0.1]\ndecode_noise_scale: null\n"
                               "stg_mode: Attention_Skip\n")
    assert config.call == {"decode_timestep": [0.05, 0.1], "decode_noise_scale": None,
                           "skip_layer_strategy": "attention_skip"}
    assert _config(tmp_path, "stg_mode: stg_r\n").call == {"skip_layer_strategy": "residual"}


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


def _cli_call(tmp_path, *extra):
    from ltx_video.cli import build_parser
    from ltx_video.cli.generate import check_inputs

    args = build_parser().parse_args(["generate", "a red ball bounces", "--output", str(tmp_path / "o.mp4"), *extra])
    return check_inputs(args)


def test_cli_refuses_a_bad_stg_mode_before_loading(tmp_path):
    from ltx_video.cli import CLIError

    (tmp_path / "bad.yaml").write_text("pipeline_type: base\nstg_mode: bogus\nnum_inference_steps: 2\n")
    with pytest.raises(CLIError, match=r"^--config: .*bad.yaml: `stg_mode` must be one of attention_values, "
                                       r"attention_skip, residual, transformer_block \(or LTX-Video's stg_av"):
        _cli_call(tmp_path, "--config", str(tmp_path / "bad.yaml"))  # was after the model loaded, naming the call's


def test_cli_stg_scale_alone_keeps_a_configs_blocks(tmp_path, components):
    """--stg-scale with a --config that names skip_block_list: its scale, the config's blocks (the model's were asked
    for, 2026-12-07: refused on a model without default blocks, and over the config's on one with them)."""
    from diffusers import LTXConditionPipeline

    from ltx_video.cli import CLIError, build_parser

    (tmp_path / "blocks.yaml").write_text("pipeline_type: base\nnum_inference_steps: 2\nstg_scale: 0.5\n"
                                          "skip_block_list: [1]\n")
    LTXConditionPipeline(**components).save_pretrained(tmp_path / "no_stg")
    taken = {}

    def stub_pipe(**kwargs):  # what the config's run would call the pipeline with
        taken.update(kwargs)

    for model in ([], ["--model", str(tmp_path / "no_stg")]):  # the built-in model's default blocks are [2]
        _, config, call = _cli_call(tmp_path, *model, "--config", str(tmp_path / "blocks.yaml"), "--stg-scale", "2")
        assert {k: call[k] for k in ("stg_scale", "skip_block_list") if k in call} == {"stg_scale": 2.0}
        config.generate(stub_pipe, **call)
        assert (taken["stg_scale"], taken["skip_block_list"]) == (2.0, [1])
    # a multi-scale config naming blocks for one pass only: which blocks the other would take is not guessed
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "config.json").write_text("{}")
    (tmp_path / "one.yaml").write_text("pipeline_type: multi-scale\nfirst_pass: {timesteps: [1.0, 0.9], "
                                       "skip_block_list: [1]}\nsecond_pass: {timesteps: [0.9, 0.4]}\n")
    with pytest.raises(CLIError, match=r"^--stg-scale 2: the --config's second_pass names no skip_block_list \(its "
                                       r"other pass does\): pass --stg-blocks too, for both passes$"):
        _cli_call(tmp_path, "--config", str(tmp_path / "one.yaml"), "--upsampler", str(tmp_path / "up"),
                  "--stg-scale", "2")
    # --stg-scale perturbs every interval's blocks (40 is past the built-in model's 6); --stg-blocks replaces them
    (tmp_path / "big.yaml").write_text("pipeline_type: base\nnum_inference_steps: 2\nguidance_timesteps: [1.0, 0.9]\n"
                                       "stg_scale: [0, 2]\nskip_block_list: [[40], [1]]\nguidance_scale: [1, 1]\n")
    _cli_call(tmp_path, "--config", str(tmp_path / "big.yaml"))  # block 40's interval has no STG
    with pytest.raises(CLIError, match=r"its STG blocks \[40\] are past this model's transformer"):
        _cli_call(tmp_path, "--config", str(tmp_path / "big.yaml"), "--stg-scale", "2")
    call = _cli_call(tmp_path, "--config", str(tmp_path / "big.yaml"), "--stg-scale", "2", "--stg-blocks", "1")[2]
    assert (call["stg_scale"], call["skip_block_list"]) == (2.0, [1])
    generate = build_parser()._subparsers._group_actions[0].choices["generate"]
    help_text = next(action.help for action in generate._actions if action.dest == "stg_blocks")
    assert "default: for 'generate', a --config's skip_block_list (with --stg-scale alone too)" in help_text


def test_cli_steps_replace_a_configs_step_count_and_keep_its_timesteps(tmp_path, capsys):
    """--steps with a single-pass config that gives `num_inference_steps` ran the config's count, and a note said its
    timesteps (it had none) set the schedule (2026-12-07); Python's config.generate(num_inference_steps=) runs the
    given count. Now the command passes --steps as that argument; listed timesteps are kept, as before."""
    from ltx_video.cli import build_parser
    from ltx_video.cli.generate import check_inputs

    def call(text, *extra):
        (tmp_path / "c.yaml").write_text(text)
        args = build_parser().parse_args(["generate", "a red ball bounces", "--output", str(tmp_path / "o.mp4"),
                                          "--config", str(tmp_path / "c.yaml"), *extra])
        capsys.readouterr()
        return check_inputs(args)[2], capsys.readouterr().err

    counted = "pipeline_type: base\nfirst_pass:\n  guidance_scale: 3\n  num_inference_steps: 3\n"
    given, err = call(counted, "--steps", "2")
    assert given["num_inference_steps"] == 2 and "not used" not in err  # was the config's 3, and the note
    assert _config(tmp_path, counted).step_sections == {"first_pass": {"num_inference_steps": 3,
                                                                        "sampler": "fromcheckpoint"}}
    assert "num_inference_steps" not in call(counted)[0]  # without --steps: the config's 3 steps, as before
    listed = "pipeline_type: base\nfirst_pass:\n  timesteps: [1.0, 0.9, 0.5]\n  guidance_scale: 1\n"
    config = _config(tmp_path, listed)
    assert config.first_pass["timesteps"] == [1000.0, 900.0, 500.0] and config.step_sections == {}
    given, err = call(listed, "--steps", "2")
    assert "num_inference_steps" not in given  # the listed timesteps run, unchanged
    assert "--steps 2 is not used: the --config's timesteps set the schedule" in err
    (tmp_path / "config.json").write_text("{}")  # an upsampler folder, as far as the checks look
    given, err = call((CONFIGS / "ltxv-13b-0.9.8-dev.yaml").read_text(), "--steps", "2", "--upsampler", str(tmp_path),
                       "--stg-scale", "0")
    assert "num_inference_steps" not in given and "a multi-scale --config's passes set their own schedules" in err


def test_a_step_count_given_to_a_config_keeps_its_sampler_and_skips(tmp_path):
    """A count given to a single-pass config made from one (`--steps`) ran the pipeline's default schedule from
    t = 1000, dropping the config's `sampler: uniform` and its skipped steps (2026-12-07); as LTX-Video's
    inference.py it now rebuilds the schedule with them."""
    config = _config(tmp_path, "pipeline_type: base\nsampler: uniform\nfirst_pass:\n  num_inference_steps: 10\n"
                               "  skip_initial_inference_steps: 4\n  guidance_scale: 1\n")
    seen = {}
    config.generate(lambda **kw: seen.update(kw))
    assert seen["timesteps"] == [1000.0 * (1 - i / 10) for i in range(4, 10)]  # the config's 6 steps from t = 600
    seen.clear()
    config.generate(lambda **kw: seen.update(kw), num_inference_steps=20)
    assert "num_inference_steps" not in seen
    assert seen["timesteps"] == [1000.0 * (1 - i / 20) for i in range(4, 20)]  # uniform, the first 4 skipped
    with pytest.raises(ValueError, match="skip_initial/final_inference_steps leave no steps in `num_inference_steps`"):
        config.generate(lambda **kw: None, num_inference_steps=4)


def test_a_single_pass_configs_second_pass_is_said_unused(tmp_path, caplog):
    """pipeline_type base runs first_pass only: its second_pass was dropped without a word (decode keys in it too:
    a single pass decodes with the top level's)."""
    text = ("pipeline_type: base\nfirst_pass:\n  num_inference_steps: 3\n  guidance_scale: 1\n"
            "second_pass:\n  guidance_scale: 3\n  decode_timestep: 0.05\n")
    with caplog.at_level("WARNING", logger="ltx_video"):
        _config(tmp_path, text)
    assert [r.getMessage().split(": ", 1)[1] for r in caplog.records] == [
        "second_pass ['decode_timestep', 'guidance_scale'] is not used: pipeline_type 'base' runs first_pass only (set pipeline_type: "
        "multi-scale for two passes)."]
