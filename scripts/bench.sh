#!/usr/bin/env bash
# Runs the classify+decide benchmark (benches/classify_decide.rs, criterion) and prints the
# per-request medians of the assessment and of its baseline (Url::join), and their ratio, in
# wall-clock time and in the benchmark thread's CPU time. Extra arguments go to criterion,
# e.g. `scripts/bench.sh --measurement-time 10`.
#
# Each benchmark iteration assesses 10,000 requests, so per-request = criterion's time / 10,000.
# The load average is printed before and after: on a shared machine other jobs inflate the
# wall-clock figures (much less the CPU-time ones), so compare runs made on an idle machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench --bench classify_decide -- "$@"
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - target/criterion <<'PY'
import json, os, sys
root = sys.argv[1]
def median_ns(group, name):
    with open(f"{root}/{group}/{name}/new/estimates.json") as f:
        return json.load(f)["median"]["point_estimate"] / 10_000
for group, what in [("per-10k-requests", "wall-clock"),
                    ("per-10k-requests-cpu", "thread CPU time")]:
    if not os.path.isdir(f"{root}/{group}"):
        continue
    base = median_ns(group, "baseline/url-join")
    assess = median_ns(group, "assess/classify+carried+decide")
    print(f"{what}: per request (median) classify+carried+decide {assess:.0f} ns, "
          f"baseline Url::join {base:.0f} ns, ratio {assess / base:.2f}x")
PY
