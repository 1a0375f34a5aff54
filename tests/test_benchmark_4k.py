"""scripts/benchmark_4k.py's GPU section: the composition of each 4K path from its timed parts, and the tiny run
that checks the same code on the CPU before a GPU session spends its minutes on it."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("benchmark_4k", ROOT / "scripts" / "benchmark_4k.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(table: str, path: str, attention: str) -> list[str]:
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[:2] == [path, attention]:
            return cells
    raise AssertionError(f"no row {path!r} / {attention!r} in\n{table}")


def test_paths_are_composed_from_their_parts():
    parts = {
        "sdpa 1920x1088": {"seconds": 3.0, "peak": None, "tokens": 67320},
        "sdpa 3840x2176": {"seconds": 40.0, "peak": None, "tokens": 269280},
        "block-sparse 1920x1088": {"seconds": 1.5, "peak": None, "tokens": 67320},
        "block-sparse 3840x2176": {"seconds": 16.0, "peak": None, "tokens": 269280},
        "upsampler": {"seconds": 0.6, "peak": None},
        "decode 257": {"seconds": 25.0, "peak": 2**30, "planned": 2**31},
    }
    table = _script().gpu_table(parts, steps=30, refine_steps=3, passes=2)
    sdpa, defaults, every = "SDPA", "block-sparse, defaults (`dense_steps=0.2`)", "block-sparse on every step (`dense_steps=0`)"
    direct, upsampler = "LTX-Video VAE (32x), every step at 4K", "latent upsampler: 1920x1088 pass, x2, refinement at 4K"
    hierarchical = "HierarchicalVAE (64x), every step at 4K"
    assert _row(table, direct, sdpa)[2:] == ["2,400", "1.0x", "25.0", "2,425"]  # 30 x 2 x 40 s, + the decode
    # refinement runs no CFG by default (refine_guidance_scale=1.0): 1 pass; counted as 2, this row read 420 and 446
    assert _row(table, upsampler, sdpa)[2:] == ["300", "8.0x", "25.6", "326"]  # 30 x 2 x 3 + 3 x 1 x 40; 0.6 + 25
    # the defaults run the first 6 of 30 steps (1 of 3 refinement steps) dense: 2 (6 x 40 + 24 x 16) = 1248
    assert _row(table, direct, defaults)[2:] == ["1,248", "1.9x", "25.0", "1,273"]
    # 2 (6 x 3 + 24 x 1.5) + 1 (1 x 40 + 2 x 16) = 108 + 72
    assert _row(table, upsampler, defaults)[2:] == ["180", "13.3x", "25.6", "206"]
    assert _row(table, hierarchical, every)[2:] == ["90", "26.7x", "not measured", ""]  # no real-size decoder
    assert "| decode 257 |  | 25.000 | 1.00 | 2.00 |" in table


def test_gpu_section_runs_at_tiny_size_on_the_cpu(tmp_path):
    out = tmp_path / "parts.json"
    command = [sys.executable, str(ROOT / "scripts" / "benchmark_4k.py"), "--section", "gpu", "--small",
               "--json", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    parts = json.loads(out.read_text())
    assert set(parts) == {"decode 17", "decode 257", "sdpa 1920x1088", "sdpa 3840x2176", "block-sparse 1920x1088",
                          "block-sparse 3840x2176", "fp8 1920x1088", "upsampler"}
    # the 4K grid has 4x the tokens of the 1920 x 1088 grid (256 x 384 stands in for 4K here: 33 x 8 x 12 against 33 x 4 x 6)
    assert parts["sdpa 3840x2176"]["tokens"] == 4 * parts["sdpa 1920x1088"]["tokens"] == 4 * 33 * 4 * 6
    assert all(p["seconds"] > 0 and p["peak"] is None for p in parts.values())  # no CUDA peak on the CPU
    assert "| HierarchicalVAE (64x), every step at 4K | SDPA |" in result.stdout
