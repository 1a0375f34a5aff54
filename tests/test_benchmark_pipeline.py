"""scripts/benchmark_pipeline.py runs end to end on tiny configs: the code a GPU session runs at real size."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_tiny_scale_runs_every_variant(tmp_path):
    out = tmp_path / "bench.json"
    command = [sys.executable, str(ROOT / "scripts" / "benchmark_pipeline.py"), "--device", "cpu", "--scale", "tiny",
               "--sizes", "128x96x17", "--repeats", "1", "--json", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(out.read_text())
    rows = {r["variant"]: r for r in figures["transformer"]}
    assert set(rows) == {"sdpa", "compile", "block-sparse", "fp8", "fp8-static", "all"}
    assert rows["sdpa"]["speedup"] == 1.0 and all(r["seconds"] > 0 for r in rows.values())
    assert rows["compile"]["peak_bytes"] is None  # not countable per op on the CPU
    # FP8 stores the block weights in one byte: its step holds less memory than the baseline's
    assert rows["fp8"]["peak_bytes"] < rows["sdpa"]["peak_bytes"]
    assert rows["fp8-static"]["peak_bytes"] < rows["sdpa"]["peak_bytes"]
    assert 0.7 < rows["sdpa"]["peak_bytes"] / rows["sdpa"]["predicted_bytes"] < 1.3
    assert figures["vae"][0]["peak_bytes"] > 0 and "| VAE tiled decode |" in result.stdout
