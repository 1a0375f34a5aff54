"""Run diffusers' own fast tests for its LTX pipelines against ``LTXVideoPipeline``, offline.

Steps (see scripts/diffusers_conformance.md): take diffusers' ``tests/`` folder at a tag from a local
checkout, write a tiny T5 (config + tokenizer) where the tests look for ``hf-internal-testing/tiny-random-t5``,
and run pytest with a plugin that swaps each test class's ``pipeline_class`` for ``LTXVideoPipeline``
(with ``default_timestep_schedule = "shifted"`` for the ``LTXPipeline`` and ``LTXImageToVideoPipeline``
files, whose conventions those are, and for the LoRA tests, written for ``LTXPipeline``). No test file is edited;
nothing is downloaded.

    git clone https://github.com/huggingface/diffusers /path/to/diffusers      # once, where the web is reachable
    python scripts/diffusers_conformance.py --diffusers /path/to/diffusers --ref v0.40.0
    python scripts/diffusers_conformance.py ... --reference      # diffusers' own pipelines, same harness
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SUITES = {
    "pipelines": ("pipelines/ltx/test_ltx_condition.py", "pipelines/ltx/test_ltx.py",
                  "pipelines/ltx/test_ltx_image2video.py"),
    # diffusers' LoRA tests for LTXPipeline (PeftLoraLoaderMixinTests): load, scale, fuse, unfuse, adapters
    "lora": ("lora/test_lora_layers_ltx_video.py",),
}
TINY_T5 = "hf-internal-testing/tiny-random-t5"

PLUGIN = '''"""pytest plugin written by scripts/diffusers_conformance.py: the pipeline under test."""
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    if "{target}" == "diffusers":
        return
    import diffusers.pipelines

    from ltx_video import LTXVideoPipeline

    # LTXPipeline's and LTXImageToVideoPipeline's conventions, as a user replacing them sets them.
    shifted = type("LTXVideoPipeline", (LTXVideoPipeline,), {"default_timestep_schedule": "shifted"})
    # diffusers' test of encode_prompt reads the method's source by looking the class up by name in
    # diffusers.pipelines; a pipeline from another package is made visible there under its name.
    diffusers.pipelines.LTXVideoPipeline = LTXVideoPipeline
    for item in items:
        if item.cls is not None and hasattr(item.cls, "pipeline_class"):
            condition = item.module.__name__.endswith("test_ltx_condition")
            item.cls.pipeline_class = LTXVideoPipeline if condition else shifted
'''


REF_FILE = "diffusers_ref.txt"  # the commit whose tests/ a workdir holds


def resolve_ref(diffusers: Path, ref: str) -> str:
    """The commit ``ref`` names in ``diffusers``."""
    found = subprocess.run(["git", "-C", str(diffusers), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                           capture_output=True, text=True)
    if found.returncode:
        raise ValueError(f"--ref {ref}: not a tag or commit of {diffusers} ({found.stderr.strip()})")
    return found.stdout.strip()


def extract_tests(diffusers: Path, ref: str, dest: Path) -> None:
    """``tests/`` of ``diffusers`` (a work tree or bare git directory) at ``ref`` -> ``dest/tests``, and the
    commit in ``dest/diffusers_ref.txt``."""
    with tempfile.NamedTemporaryFile(suffix=".tar") as archive:
        subprocess.run(["git", "-C", str(diffusers), "archive", "-o", archive.name, ref, "tests"], check=True)
        with tarfile.open(archive.name) as tar:
            tar.extractall(dest, filter="data")
    (dest / REF_FILE).write_text(resolve_ref(diffusers, ref) + "\n")


def write_tiny_t5(dest: Path) -> None:
    """A T5 encoder with diffusers' tiny-T5 widths (d_model 32), seeded random weights (the LoRA tests load them;
    the pipeline tests read the config alone), and an offline tokenizer."""
    import torch
    from transformers import T5Config, T5EncoderModel

    from ltx_video.testing import tiny_tokenizer

    tokenizer = tiny_tokenizer()
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=37, num_layers=5, num_heads=4,
                      relative_attention_num_buckets=8, dropout_rate=0.1, feed_forward_proj="relu")
    dest.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    T5EncoderModel(config).save_pretrained(dest)  # writes the config too
    tokenizer.save_pretrained(dest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--diffusers", type=Path, required=True, help="local diffusers checkout (or its git dir)")
    parser.add_argument("--ref", default="v0.40.0", help="tag or commit whose tests/ to run (default v0.40.0)")
    parser.add_argument("--workdir", type=Path, default=None, help="where to unpack (default: a new temp dir)")
    parser.add_argument("--reference", action="store_true", help="run diffusers' own pipelines instead")
    parser.add_argument("--suite", choices=[*SUITES, "all"], default="all",
                        help="diffusers' pipeline tests, its LTX LoRA tests (needs peft), or both (default)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)

    try:
        commit = resolve_ref(args.diffusers, args.ref)
    except ValueError as error:
        parser.error(str(error))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="diffusers_conformance_"))
    work.mkdir(parents=True, exist_ok=True)
    if (work / "tests").exists():  # a workdir of an earlier run: only if it holds this ref's tests
        held = (work / REF_FILE).read_text().strip() if (work / REF_FILE).is_file() else "an unknown ref"
        if held != commit:
            parser.error(f"--workdir {work} holds the tests of {held}, not of --ref {args.ref} ({commit}): give "
                         "another --workdir (or remove its tests/)")
    else:
        extract_tests(args.diffusers, args.ref, work)
    write_tiny_t5(work / TINY_T5)
    target = "diffusers" if args.reference else "ltx_video"
    (work / "ltx_conformance_plugin.py").write_text(PLUGIN.replace("{target}", target))

    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(work))
    suites = list(SUITES) if args.suite == "all" else [args.suite]
    files = [f"tests/{name}" for suite in suites for name in SUITES[suite]]
    command = [sys.executable, "-m", "pytest", *files, "-p", "ltx_conformance_plugin", "-o", "addopts=",
               "-p", "no:cacheprovider", "-rfE", "--tb=line", "-W", "ignore::FutureWarning", *args.pytest_args]
    print(f"[{target}] {' '.join(command)}  (in {work})", flush=True)
    result = subprocess.run(command, cwd=work, env=env, text=True, capture_output=True)
    sys.stdout.write(result.stdout[-20000:])
    sys.stderr.write(result.stderr[-4000:])
    summary = re.findall(r"=+ (.*(?:passed|failed).*) in [\d.]+s", result.stdout)
    print(f"[{target}] {summary[-1] if summary else 'no summary'}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
