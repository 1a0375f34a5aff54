"""Start-up time of the ``ltx-video`` command: ``--help`` and an argument error, as whole processes.

Baseline, in the same run: a process that imports the pipelines and nothing else, which is what the command
did before it parsed its arguments (until the CLI's imports became lazy), so the ratio is the time a user no
longer waits. Each command runs ``--runs`` times after one warm-up, alternating with the baseline; the medians
are printed as a Markdown table.

    python scripts/benchmark_cli.py --runs 15
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "ltx-video --help": ["-m", "ltx_video.cli", "--help"],
    "ltx-video generate --help": ["-m", "ltx_video.cli", "generate", "--help"],
    "ltx-video generate x --steps 0 (argument error)": ["-m", "ltx_video.cli", "generate", "x", "--steps", "0"],
    "ltx-video (no command: usage)": ["-m", "ltx_video.cli"],
}
BASELINE = ("baseline: import the pipelines (torch, diffusers, transformers)",
            ["-c", "import ltx_video.pipelines.ltx_audio_video"])


def wall_seconds(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")
    rows = {name: [] for name in [*COMMANDS, BASELINE[0]]}
    for command in [*COMMANDS.values(), BASELINE[1]]:
        wall_seconds(command)  # warm-up: file cache, bytecode
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            rows[name].append(wall_seconds(command))
            rows[BASELINE[0]].append(wall_seconds(BASELINE[1]))
    baseline = statistics.median(rows[BASELINE[0]])
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{args.runs} runs each (median wall seconds)\n")
    print("| command | median s | min s | max s | baseline / command |")
    print("|---|---|---|---|---|")
    for name, times in rows.items():
        median = statistics.median(times)
        ratio = f"{baseline / median:.0f}x" if name != BASELINE[0] else "1x"
        print(f"| {name} | {median:.3f} | {min(times):.3f} | {max(times):.3f} | {ratio} |")


if __name__ == "__main__":
    main()
