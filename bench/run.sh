#!/usr/bin/env bash
# Run every benchmark against the bundled emulator and write docs/performance.md.
#
#   make bench          (or: VENV=/path/to/venv bash bench/run.sh)
#
# The collection is staged as <tmp>/ansible_collections/scanops/security (a symlink to this tree).
# Each benchmark starts and stops its own emulator. Takes 10 to 12 minutes on 2 idle cores, and two to three times
# that when the machine is shared (every floor is measured next to its figure, so the ratios hold under load);
# section 7 (20,000 AgileSec findings) alone took 200 to 515 s on a shared machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$root/.venv}
export PATH="$venv/bin:$PATH"
python=$venv/bin/python

work=$(mktemp -d "${TMPDIR:-/tmp}/scanops-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ansible_collections/scanops"
ln -s "$root" "$work/ansible_collections/scanops/security"
export ANSIBLE_COLLECTIONS_PATH="$work"
export PYTHONPATH="$work${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1

started=$SECONDS
echo "==> emulator throughput"
"$python" "$root/bench/emulator_throughput.py" --seconds 3 | tee "$work/throughput.txt"

echo "==> 1. bulk triage (bench/bench_bulk_triage.py)"
# The uri loop costs one task run per finding: it runs on 40 findings and is extrapolated (labelled as such).
"$python" "$root/bench/bench_bulk_triage.py" --count 5000 --uri-count 40 --output "$work/triage.json"

echo "==> 2-5 and 7. no-op cost, waiting, fan-out, large result sets, AgileSec crypto findings (bench/scanops_bench.py)"
"$python" "$root/bench/scanops_bench.py" --output "$work/scanops.json"

echo "==> 6. EDA event sources: webhook receiver, pollers under kill -9 (bench/bench_eda.py)"
"$python" "$root/bench/bench_eda.py" --output "$work/eda.json"

echo "==> 8. forks per host vs one bulk task (bench/bench_forks.py)"
"$python" "$root/bench/bench_forks.py" --output "$work/forks.json"

"$python" "$root/bench/report.py" --triage "$work/triage.json" --scanops "$work/scanops.json" --eda "$work/eda.json" \
  --forks "$work/forks.json" --throughput "$work/throughput.txt" --total-seconds "$((SECONDS - started))" \
  --output "$root/docs/performance.md" --commit "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
# Keep the raw results next to the test output (git ignores tests/output/).
mkdir -p "$root/tests/output/bench"
cp "$work/triage.json" "$work/scanops.json" "$work/eda.json" "$work/forks.json" "$work/throughput.txt" "$root/tests/output/bench/"
echo "==> wrote $root/docs/performance.md ($((SECONDS - started)) s); raw results in tests/output/bench/"
