"""The package's import surface: cheap ``import ltx_video``, public names on first use, backends registered by the
pipelines."""

import subprocess
import sys


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_import_is_cheap_and_names_load_on_first_use():
    assert _run("import sys, ltx_video; print('torch' in sys.modules, 'diffusers' in sys.modules)") == "False False"
    code = (
        "import ltx_video\nfrom ltx_video import LTXVideoPipeline, LTXAudioVideoPipeline, export_to_video, "
        "ConditioningItem, LTXVideoCondition\n"
        "from ltx_video.pipelines.ltx_video import LTXVideoPipeline as direct\n"
        "print(LTXVideoPipeline is direct, set(ltx_video.__all__) <= set(dir(ltx_video)))"
    )
    assert _run(code) == "True True"
    assert _run("import ltx_video\ntry:\n    ltx_video.nope\nexcept AttributeError as e:\n    print(e)") == (
        "module 'ltx_video' has no attribute 'nope'")


def test_pipelines_register_the_attention_backends_with_diffusers():
    code = (
        "from ltx_video import LTXVideoPipeline\n"
        "from ltx_video.testing import tiny_transformer\n"
        "t = tiny_transformer()\nt.set_attention_backend('ltx_chunked')\nprint('ok')"
    )
    assert _run(code) == "ok"



def test_package_data_patterns_ship_every_asset():
    # pyproject's package-data listed "configs/*.yaml" under ltx_video/, where no such folder is: the LTX-Video
    # configs were in neither wheel nor sdist, so `--config` failed outside a checkout.
    import tomllib
    from pathlib import Path

    root = Path(__file__).parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["ltx_video"]
    package = root / "ltx_video"
    shipped = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    assets = {p for p in (package / "assets").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert assets and assets <= shipped, sorted(str(p.relative_to(package)) for p in assets - shipped)
    assert len([p for p in shipped if p.suffix == ".yaml"]) == 6


def test_shipped_configs_load_by_name_from_any_folder(tmp_path, monkeypatch):
    import pytest

    from ltx_video.configs import config_path, load_config, shipped_configs

    monkeypatch.chdir(tmp_path)
    assert "ltxv-13b-0.9.8-distilled" in shipped_configs()
    by_name = load_config("ltxv-13b-0.9.8-distilled")
    assert load_config("configs/ltxv-13b-0.9.8-distilled.yaml") == by_name  # the repository's old path
    own = tmp_path / "configs" / "ltxv-13b-0.9.8-distilled.yaml"  # a user's own file of that name wins
    own.parent.mkdir()
    own.write_text(config_path("ltxv-13b-0.9.8-distilled").read_text().replace("0.05", "0.06"))
    assert load_config("configs/ltxv-13b-0.9.8-distilled.yaml").call["decode_timestep"] == 0.06
    with pytest.raises(FileNotFoundError, match=r"config file not found: nope.yaml \(or a shipped config's name: "
                                                r"ltxv-13b-0.9.8-dev, "):
        load_config("nope.yaml")


def test_plan_refuses_a_bad_model_before_torch_loads():
    probe = (
        "import sys\nfrom ltx_video.cli import main\n"
        "rc = main(['plan', '--model', 'nope'])\n"
        "print(rc, sorted(m for m in ('torch', 'diffusers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "--model must be 2b, 13b" in result.stderr
    assert result.stdout.strip().splitlines()[-1] == "2 []"
