#!/usr/bin/env bash
# Runs `digits bench` and the peers (the numpy tutorials, and PyTorch when it is installed) on
# this machine, in one run, and prints the ratios the project's targets are stated in.
#
#   scripts/bench.sh                 # everything
#   QUICK=1 scripts/bench.sh         # skip the slow batch-1 epoch of the big network
#   SCRATCH=.build-bench scripts/bench.sh   # build in another directory
#
# Installs nothing. PyTorch is used only if `python3 -c "import torch"` works; numpy likewise.
# The peers live in ../shared/peers beside the repository (SHARED=DIR to point elsewhere).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared}"
DATA="$SHARED/data/mnist"
PEERS="$SHARED/peers"
PY="${PYTHON:-python3}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

echo "== machine"
grep -m1 "model name" /proc/cpuinfo 2>/dev/null | sed 's/.*: /cpu: /' || true
echo "logical cpus: $(getconf _NPROCESSORS_ONLN)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

echo "== building (release)"
BUILD=(swift build -c release)
if [[ -n "${SCRATCH:-}" ]]; then BUILD+=(--scratch-path "$SCRATCH"); fi   # SCRATCH=DIR: another build directory
(cd "$ROOT" && "${BUILD[@]}" --product digits 2>&1 | tail -1)
DIGITS="$(cd "$ROOT" && "${BUILD[@]}" --show-bin-path)/digits"

echo "== digits bench"
BENCH_ARGS=()
if [[ -n "${QUICK:-}" ]]; then BENCH_ARGS+=(--skip-batch-one); fi
"$DIGITS" bench "${BENCH_ARGS[@]}" --save-json "$OUT/digits.json" 2>/dev/null

echo "== numpy tutorials (seeds_numpy.py s000 s004)"
if [[ -f "$PEERS/seeds_numpy.py" ]] && "$PY" -c "import numpy" 2>/dev/null; then
    "$PY" "$PEERS/seeds_numpy.py" "$DATA" s000 s004 | tee "$OUT/numpy.txt"
else
    echo "skipped: numpy or $PEERS/seeds_numpy.py not available" | tee "$OUT/numpy.txt"
fi

echo "== PyTorch (torch_mlp.py, 2 epochs each, best epoch kept)"
: > "$OUT/torch.txt"
if [[ -f "$PEERS/torch_mlp.py" ]] && "$PY" -c "import torch" 2>/dev/null; then
    for batch in 64 256; do
        for threads in 1 2; do
            best=$("$PY" "$PEERS/torch_mlp.py" "$DATA" --epochs 2 --batch "$batch" --threads "$threads" \
                   | awk '/^epoch/ { s = $4 + 0; if (best == "" || s < best) best = s } END { print best }')
            echo "batch $batch threads $threads: $best s/epoch" | tee -a "$OUT/torch.txt"
            echo "$batch $threads $best" >> "$OUT/torch.tsv"
        done
    done
else
    echo "skipped: PyTorch is not installed (pip install torch to compare)" | tee "$OUT/torch.txt"
fi

echo "== ratios (peer seconds / digits seconds; higher is better for Digits)"
"$PY" - "$OUT" <<'PYEOF'
import json, os, re, sys
out = sys.argv[1]
d = json.load(open(os.path.join(out, "digits.json")))
epochs = {e["batch"]: e["seconds"] for e in d["epochs"]}
presets = {p["name"]: p["seconds"] for p in d["presets"]}
rows = []
def ratio(name, peer, ours, target):
    if peer and ours:
        r = peer / ours
        rows.append(f"{name:58s} {peer:8.3f} s / {ours:7.3f} s = {r:6.2f}x  (target {target}x: {'met' if r >= target else 'NOT met'})")
    else:
        rows.append(f"{name:58s} (no figure)")
torch = {}
tsv = os.path.join(out, "torch.tsv")
if os.path.exists(tsv):
    for line in open(tsv):
        b, t, s = line.split()
        if s:
            torch.setdefault(int(b), []).append(float(s))
ratio("MLP epoch, batch 64 vs PyTorch (better of 1 and 2 threads)", min(torch.get(64, [0])) or None, epochs.get(64), 2.5)
ratio("MLP epoch, batch 256 vs PyTorch (better of 1 and 2 threads)", min(torch.get(256, [0])) or None, epochs.get(256), 1.2)
numpy = {}
for line in open(os.path.join(out, "numpy.txt")):
    m = re.match(r"(s\d+) train\+eval ([0-9.]+) s", line)
    if m: numpy[m.group(1)] = float(m.group(2))
ratio("online SGD 784-16-16-10 (tutorial-sigmoid-16-16) vs numpy s000", numpy.get("s000"), presets.get("tutorial-sigmoid-16-16"), 10)
ratio("tutorial-leaky-256-128 (5 epochs) vs numpy s004", numpy.get("s004"), presets.get("tutorial-leaky-256-128"), 1)
print("\n".join(rows))
g = d["gemm"]
print(f"GEMM on the training shapes: {min(x['percent_of_peak'] for x in g):.0f}% to {max(x['percent_of_peak'] for x in g):.0f}% of the FMA peak ({d['fma_peak']:.1f} GFLOP/s); target 80%")
print(f"inference: {d['inference_images_per_second']:.0f} images/s (target 200000); peak memory {d['peak_resident_mb']:.0f} MB (target 200)")
print("note: the numpy figures include evaluating the test set; Digits' preset figures are training only.")
PYEOF
