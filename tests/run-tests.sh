#!/usr/bin/env bash
# Runs the project's test suites, each against its own staged copy of the collection.
#
#   tests/run-tests.sh all                 every suite, several at a time (what `make test` and CI run)
#   tests/run-tests.sh fast                the quick subset (`make test-fast`), the same way
#   tests/run-tests.sh units integration   just those suites, one after the other, output as it comes
#   tests/run-tests.sh --list              the suites and what each declares
#
# A suite is one file, tests/suites/<name>.sh: what it runs, where it goes in the order, whether it
# is in the quick subset and whether it may run beside other suites (docs/developing.md, "Test
# suites"). ansible-test and the collection's imports need the tree at
# <dir>/ansible_collections/scanops/security, so every suite runs in a copy of the checkout staged
# in a temporary directory of its own: suites running at the same time share no writable path of
# the project.
#
# `all` and `fast` keep each suite's output and print it whole, in the suites' order, as soon as
# the suites before it have finished; a line says when each suite starts and ends meanwhile. The
# summary gives every suite's wall time and CPU time (user + sys of all its processes).
#
# Environment: SCANOPS_TEST_JOBS suites at a time (default: the number of CPUs, at least 2: more
# made the suites' own timeouts fire on a loaded 2-core machine);
# SCANOPS_SUITE_TIMEOUT seconds after which `all`/`fast` stop a suite and print what it wrote
# (default 3600: only a hung suite gets there; compat took over 2700 s at load 25).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$root/.venv}
export VENV=$venv
export PATH="$venv/bin:$PATH"
export PYTHONDONTWRITEBYTECODE=1
# The emulator's test profile enforces no rate limit, so each module process paces alone, as it did before
# the pace was shared on the controller: a suite's modules run one after another would otherwise wait for
# each other's tokens. The tests of the shared pace (test_ratelimit, tests/integration/test_forks.py) set
# SCANOPS_RATE_LIMIT_SCOPE=controller themselves.
export SCANOPS_RATE_LIMIT_SCOPE=process
suites_dir="$root/tests/suites"
self="$root/tests/run-tests.sh"

# The vendor pages (the specification the emulator tests check against) sit beside the checkout,
# or beside the main checkout when this is a linked git worktree.
if [ -z "${SCANOPS_VENDOR_DOCS:-}" ]; then
  main_checkout=$(git -C "$root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
  for candidate in "$root/../shared/vendor-docs" ${main_checkout:+"$(dirname "$main_checkout")/../shared/vendor-docs"}; do
    if [ -d "$candidate" ]; then
      SCANOPS_VENDOR_DOCS=$(cd "$candidate" && pwd)
      export SCANOPS_VENDOR_DOCS
      break
    fi
  done
fi

# What the pytest suites pass: quiet, no cache directory in the stage, no addopts from a config file,
# and the per-test wall and CPU times (tests/utils/pytest_cputime.py).
# shellcheck disable=SC2034  # the suites' suite_run functions use it
pytest_args=(-q -p no:cacheprovider -o "addopts=" -p ansible_collections.scanops.security.tests.utils.pytest_cputime)

# pytest_workers N: how many pytest-xdist workers a suite that waits a lot should start.
# SCANOPS_PYTEST_WORKERS overrides N (0 runs the tests in the pytest process itself, without xdist).
pytest_workers() {
  echo "${SCANOPS_PYTEST_WORKERS:-$1}"
}

# --- one suite, in a process of its own: `run-tests.sh --job NAME DIR` -------------------------------
if [ "${1:-}" = --job ]; then
  name=$2 dir=$3
  stage="$dir/ansible_collections/scanops/security"
  mkdir -p "$stage"
  tar -C "$root" --exclude=./.git --exclude='./.venv*' --exclude='__pycache__' --exclude=./tests/output \
    --exclude='.pytest_cache' --exclude=./artifacts --exclude=./.cache -cf - . | tar -C "$stage" -xf -
  export ANSIBLE_COLLECTIONS_PATH="$dir"
  export PYTHONPATH="$dir${PYTHONPATH:+:$PYTHONPATH}"
  # The collection's controller-side cache (locks, shared rate-limit state) of this suite only.
  export SCANOPS_CACHE_DIR="$dir/cache"
  # Marks every process the suite starts, so that the runner finds those still running after it.
  export SCANOPS_SUITE_RUN="$dir"
  cd "$stage"
  # shellcheck source=/dev/null
  . "$suites_dir/$name.sh"
  rc=0
  # In a child of its own, so that `set -e` holds inside suite_run (it would not under `||`).
  ( set -e; suite_run ) &
  wait $! || rc=$?
  # CPU seconds of every process the suite ran: the second line of bash's `times` (children's user
  # and sys), written by this shell itself (in a pipeline `times` would describe a subshell).
  times >"$dir/cpu"
  exit "$rc"
fi

# --- the declarations ------------------------------------------------------------------------------
declare -A order=() fast=() alone=() present=() cost=() about=()
names=()
for file in "$suites_dir"/*.sh; do
  [ -e "$file" ] || continue
  name=$(basename "$file" .sh)
  if ! [[ "$name" =~ ^[a-z][a-z0-9_-]*$ ]]; then
    echo "tests/suites/$name.sh: a suite name is lower case letters, digits, - and _" >&2
    exit 2
  fi
  declared=$(
    suite_order=; suite_fast=no; suite_alone=no; suite_path=.; suite_cost=60; suite_about=
    # shellcheck source=/dev/null
    . "$file"
    if ! declare -F suite_run >/dev/null; then
      echo "tests/suites/$name.sh defines no suite_run function" >&2
      exit 1
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$suite_order" "$suite_fast" "$suite_alone" "$suite_path" "$suite_cost" "$suite_about"
  ) || exit 2
  IFS=$'\t' read -r d_order d_fast d_alone d_path d_cost d_about <<<"$declared"
  order[$name]=$d_order fast[$name]=$d_fast alone[$name]=$d_alone present[$name]=$d_path cost[$name]=$d_cost about[$name]=$d_about
  if ! [[ "${order[$name]}" =~ ^[0-9]+$ && "${cost[$name]}" =~ ^[0-9]+$ && "${fast[$name]}" =~ ^(yes|no)$ && "${alone[$name]}" =~ ^(yes|no)$ ]]; then
    echo "tests/suites/$name.sh: suite_order and suite_cost are whole numbers, suite_fast and suite_alone yes or no" >&2
    exit 2
  fi
  names+=("$name")
done
# Every suite, in the declared order.
mapfile -t ordered < <(for name in "${names[@]}"; do printf '%s %s\n' "${order[$name]}" "$name"; done | sort -n -k1,1 -k2,2 | cut -d' ' -f2)

if [ "${1:-}" = --list ]; then
  printf '%-14s %5s %5s %5s %8s  %s\n' suite order fast alone cost about
  for name in "${ordered[@]}"; do
    printf '%-14s %5s %5s %5s %8s  %s\n' "$name" "${order[$name]}" "${fast[$name]}" "${alone[$name]}" "${cost[$name]}" "${about[$name]}"
  done
  exit 0
fi

mode=one-by-one
requested=("$@")
[ ${#requested[@]} -eq 0 ] && requested=(all)
case "${requested[0]}" in
  all) mode=together; requested=("${ordered[@]}") ;;
  fast)
    mode=together
    requested=()
    for name in "${ordered[@]}"; do
      [ "${fast[$name]}" = yes ] && requested+=("$name")
    done ;;
esac
for name in "${requested[@]}"; do
  if [ -z "${order[$name]:-}" ]; then
    echo "unknown suite: $name (known: all fast ${ordered[*]})" >&2
    exit 2
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/scanops-test.XXXXXX")
declare -A pid_of=() started=() wall=() result=() leftover=()
# reap_leftovers NAME: stops what the suite left running when it ended (a process its test timed out
# on, a server whose owner died): such a process would take CPU from the suites after it. They are
# found by the SCANOPS_SUITE_RUN value in their environment, since ansible-playbook leaves the
# suite's process group and an orphan leaves its process tree.
reap_leftovers() {
  local marker="SCANOPS_SUITE_RUN=$work/$1" pids=() files=() file pid round
  for round in 1 2 3 4 5 6 7 8 9 10; do
    pids=()
    mapfile -t files < <(grep -lzxF -e "$marker" /proc/[0-9]*/environ 2>/dev/null || true)
    for file in "${files[@]}"; do
      pid=${file#/proc/}
      pid=${pid%/environ}
      [ "$pid" != $$ ] && pids+=("$pid")
    done
    [ ${#pids[@]} -eq 0 ] && return 0
    [ "$round" = 1 ] && leftover[$1]=${#pids[@]}
    # TERM first; whatever is still there a few seconds later gets KILL.
    if [ "$round" -lt 6 ]; then kill -TERM "${pids[@]}" 2>/dev/null || true; else kill -KILL "${pids[@]}" 2>/dev/null || true; fi
    sleep 1
  done
}
# Stops every suite still running (their `timeout` passes the signal on to all they started).
stop_running() {
  local name
  for name in "${!pid_of[@]}"; do
    kill -TERM "${pid_of[$name]}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap 'stop_running; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

to_run=()
summary_skipped=()
for name in "${requested[@]}"; do
  # A suite whose tests have not been written yet is reported, not silently passed.
  if [ ! -e "$root/${present[$name]}" ]; then
    result[$name]="not present yet (${present[$name]})"
    summary_skipped+=("$name")
  else
    to_run+=("$name")
  fi
done

cpu_of() {  # cpu_of NAME: user + sys seconds the suite's processes used, as written by its job
  local line
  line=$(sed -n 2p "$work/$1/cpu" 2>/dev/null || true)
  # `times` writes e.g. "2m3.456s 0m7.890s".
  awk '{ s = 0; for (i = 1; i <= NF; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] } printf "%d", s + 0.5 }' <<<"${line:-0m0s}"
}

started_all=$SECONDS
if [ "$mode" = one-by-one ]; then
  for name in "${to_run[@]}"; do
    echo
    echo "==================== $name ===================="
    began=$SECONDS
    mkdir -p "$work/$name"
    rc=0
    bash "$self" --job "$name" "$work/$name" || rc=$?
    wall[$name]=$((SECONDS - began))
    reap_leftovers "$name"
    if [ -n "${leftover[$name]:-}" ]; then
      echo "$name left ${leftover[$name]} processes running: stopped"
    fi
    if [ "$rc" -eq 0 ]; then result[$name]=passed; else result[$name]="FAILED (exit $rc)"; fi
    if [ "$rc" -ne 0 ]; then
      break
    fi
  done
  # One by one stops at the first failure; the summary still names the suites it did not run.
  for name in "${to_run[@]}"; do
    [ -n "${result[$name]:-}" ] || result[$name]="not run (an earlier suite failed)"
  done
else
  jobs_max=${SCANOPS_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
  [ "${SCANOPS_TEST_JOBS:-}" ] || [ "$jobs_max" -ge 2 ] || jobs_max=2
  [ "$jobs_max" -lt 1 ] && jobs_max=1
  limit=${SCANOPS_SUITE_TIMEOUT:-3600}
  # Start the costliest first, so the long suites are not the last ones running; suites declared
  # alone run after the others, one at a time.
  mapfile -t queue < <(for name in "${to_run[@]}"; do printf '%s %s %s\n' "${alone[$name]}" "${cost[$name]}" "$name"; done |
    sort -k1,1 -k2,2nr | cut -d' ' -f3)
  echo "running ${#to_run[@]} suites, up to $jobs_max at a time, each suite's output printed whole when it ends (order: ${to_run[*]})"
  printed=0
  print_finished() {  # prints, in the declared order, every finished suite whose predecessors are printed
    local name
    while [ "$printed" -lt "${#to_run[@]}" ]; do
      name=${to_run[$printed]}
      [ -n "${result[$name]:-}" ] || return 0
      echo
      echo "==================== $name ===================="
      cat "$work/$name.log"
      echo "-------------------- $name: ${result[$name]} (wall ${wall[$name]} s, CPU $(cpu_of "$name") s)"
      printed=$((printed + 1))
    done
  }
  running=0
  while [ ${#queue[@]} -gt 0 ] || [ "$running" -gt 0 ]; do
    # Start what fits: an `alone` suite waits for an empty machine and keeps it.
    while [ ${#queue[@]} -gt 0 ] && [ "$running" -lt "$jobs_max" ]; do
      name=${queue[0]}
      if [ "${alone[$name]}" = yes ] && [ "$running" -gt 0 ]; then
        break
      fi
      queue=("${queue[@]:1}")
      mkdir -p "$work/$name"
      # `timeout` puts the suite in a process group of its own and stops all of it at the limit.
      timeout --kill-after=30 "$limit" bash "$self" --job "$name" "$work/$name" >"$work/$name.log" 2>&1 &
      pid_of[$name]=$!
      started[$name]=$SECONDS
      running=$((running + 1))
      echo "[$(printf '%5d' $((SECONDS - started_all))) s] $name started"
      [ "${alone[$name]}" = yes ] && break
    done
    sleep 1
    for name in "${!pid_of[@]}"; do
      if ! kill -0 "${pid_of[$name]}" 2>/dev/null; then
        rc=0
        wait "${pid_of[$name]}" || rc=$?
        unset "pid_of[$name]"
        running=$((running - 1))
        wall[$name]=$((SECONDS - started[$name]))
        case "$rc" in
          0) result[$name]=passed ;;
          124|137) result[$name]="FAILED (stopped after the ${limit} s limit)" ;;
          *) result[$name]="FAILED (exit $rc)" ;;
        esac
        echo "[$(printf '%5d' $((SECONDS - started_all))) s] $name ${result[$name]} after ${wall[$name]} s"
        reap_leftovers "$name"
        if [ -n "${leftover[$name]:-}" ]; then
          echo "[$(printf '%5d' $((SECONDS - started_all))) s] $name left ${leftover[$name]} processes running: stopped"
        fi
      fi
    done
    print_finished
  done
fi

echo
echo "==================== summary ===================="
passed=0 failed=0 total_cpu=0
printf '%-14s %-44s %7s %7s\n' suite result "wall s" "CPU s"
for name in "${requested[@]}"; do
  [ -n "${result[$name]:-}" ] || continue
  case "${result[$name]}" in
    passed) passed=$((passed + 1)) ;;
    FAILED*) failed=$((failed + 1)) ;;
  esac
  if [ -n "${wall[$name]:-}" ]; then
    cpu=$(cpu_of "$name")
    total_cpu=$((total_cpu + cpu))
    printf '%-14s %-44s %7s %7s\n' "$name" "${result[$name]}" "${wall[$name]}" "$cpu"
  else
    printf '%-14s %-44s %7s %7s\n' "$name" "${result[$name]}" - -
  fi
done
echo "wall $((SECONDS - started_all)) s for all, CPU $total_cpu s summed over the suites ($mode)"
# The closing line CI reads: suites, not tests (each suite's own runner printed its test counts above).
echo "suites: $passed passed, $failed failed${summary_skipped:+, ${#summary_skipped[@]} skipped}"
[ "$failed" -eq 0 ] && [ $(( passed + ${#summary_skipped[@]} )) -eq ${#requested[@]} ]
