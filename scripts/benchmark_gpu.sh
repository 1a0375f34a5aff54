#!/usr/bin/env bash
# Every GPU row of docs/benchmarks.md in one run, most wanted first, each section capped in time.
#
#     bash scripts/benchmark_gpu.sh OUTDIR [BUDGET_SECONDS]          # on a CUDA machine (default budget 540 s)
#     bash scripts/benchmark_gpu.sh OUTDIR 300 --check              # the same sections at tiny sizes on the CPU
#
# Each section runs in its own process under `timeout`, with the smaller of its cap and the time left, and
# writes OUTDIR/<section>.log; OUTDIR/summary.txt gets the machine and one line per section (exit code, seconds).
# A section that fails or runs out of time leaves the others running; the script then exits 1 and the summary's last
# line names every section that failed or was skipped (exit 0 only when every section ran and passed). The printed cap
# is the time the section was given: its cap less the 5 s kill grace. The repository root must be importable (run
# from it with PYTHONPATH=$PWD, or after `pip install -e .`), with diffusers and PyAV installed: the parity
# section imports ltx_video.testing, which imports the data package, which needs PyAV.
set -u
usage="usage: benchmark_gpu.sh OUTDIR [BUDGET_SECONDS] [--check]"
for arg in "$@"; do
    case $arg in -h | --help) echo "$usage"; exit 0 ;; esac
done
out=${1:?$usage}
case $out in
    -*) echo "benchmark_gpu.sh: OUTDIR must come first and not start with '-', got '$out' ($usage)" >&2; exit 2 ;;
esac
budget=540
check=
failed=()  # the sections that failed or were skipped
for arg in "${@:2}"; do  # BUDGET_SECONDS and --check, in either order
    case $arg in
        --check) check=--check ;;
        *[!0-9]* | '') echo "benchmark_gpu.sh: BUDGET_SECONDS must be a whole number of seconds, got '$arg'" >&2; exit 2 ;;
        *) budget=$arg ;;
    esac
done
mkdir -p "$out"
start=$SECONDS
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1

section() {
    local name=$1 cap=$2 left t0 rc
    shift 2
    left=$((budget - (SECONDS - start)))
    if ((left < 20)); then
        echo "$name: skipped, ${left} s of the budget left" | tee -a "$out/summary.txt"
        failed+=("$name (skipped)")
        return
    fi
    ((cap > left)) && cap=$left
    cap=$((cap - 5))  # the time the section is given: the 5 s kill grace after it stays inside the budget
    t0=$SECONDS
    timeout -k 5 "$cap" "$@" >"$out/$name.log" 2>&1
    rc=$?
    echo "$name: exit $rc, $((SECONDS - t0)) s (cap $cap s): $*" | tee -a "$out/summary.txt"
    ((rc == 0)) || failed+=("$name (exit $rc)")
}

{
    echo "benchmark_gpu.sh $out, budget ${budget} s ${check:-(GPU)}"
    date -u +%Y-%m-%dT%H:%MZ
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
    python -c "import torch, diffusers; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'diffusers', diffusers.__version__)"
} >"$out/summary.txt" 2>&1

if [[ $check == --check ]]; then
    section parity 120 python scripts/parity_report.py --device cpu
    section 4k 120 python scripts/benchmark_4k.py --section gpu --small --json "$out/4k.json"
    section crossover 60 python scripts/benchmark_sparse_settings.py --sections crossover --tokens 256 512 --repeats 2
    section pipeline 120 python scripts/benchmark_pipeline.py --device cpu --scale tiny --sizes 128x96x17 \
        --variants sdpa fp8 fp8-static --repeats 1 --no-vae
    section memory_plan 180 python scripts/validate_memory_plan.py --device cpu --no-vae
    section fp8 120 python scripts/benchmark_fp8.py --sections activations --device cpu --heads 2 --layers 1 \
        --grid 2 4 4 --repeats 1
else
    section parity 60 python scripts/parity_report.py --device cuda
    section 4k 240 python scripts/benchmark_4k.py --section gpu --json "$out/4k.json"
    section crossover 100 python scripts/benchmark_sparse_settings.py --sections crossover \
        --tokens 2048 4096 8192 16384 32768 67320 --repeats 5
    section pipeline 150 python scripts/benchmark_pipeline.py --models 2b --sizes 768x512x121 \
        --variants sdpa compile fp8 fp8-static all --repeats 3 --no-vae
    section memory_plan 60 python scripts/validate_memory_plan.py --device cuda --no-vae
    section fp8 200 python scripts/benchmark_fp8.py --sections activations --device cuda --heads 32 --layers 8 \
        --grid 16 16 24 --repeats 5
fi
if ((${#failed[@]})); then
    echo "failed or skipped: ${failed[*]}" >>"$out/summary.txt"
fi
cat "$out/summary.txt"
((${#failed[@]} == 0))
