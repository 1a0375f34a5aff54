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

