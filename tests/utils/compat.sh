#!/usr/bin/env bash
# The `compat` suite: the oldest and the newest ansible-core the collection supports, while every
# other suite runs on the ansible-core of the project venv.
#
#   tests/utils/compat.sh VENV
#
# Called by `tests/run-tests.sh compat` from the staged collection root. Two legs, each in its own
# virtualenv next to the project's, created on first use and reinstalled only when ansible-core's
# version range, the interpreter or a requirement below changes:
#
#   core216  ansible-core 2.16 (meta/runtime.yml's requires_ansible) on Python 3.11, in VENV-core216
#   core221  ansible-core 2.21 (the newest series) on Python 3.13, in VENV-core221; 2.20 and 2.21
#            install only on Python 3.12+. The leg finds a 3.13 interpreter itself ($COMPAT_PYTHON313,
#            pyenv's versions directory, then python3.13 on PATH, each checked to run) and, when
#            there is none, says so in one line and is skipped.
#
# Each leg, in its own copy of the staged collection:
#   1. checks that ansible, ansible-doc and ansible-playbook come from its venv and its core series;
#   2. renders every module's documentation with `ansible-doc --json` (the text layout changes from
#      one core to the next) and checks docs, examples and return values are there; any stderr
#      output fails, since ansible-doc exits 0 even for a plugin it cannot find or load;
#   3. runs the unit tests (the modules' main() on that core's AnsibleModule);
#   4. runs the fastest integration target of each module family with that core's ansible-playbook
#      against the emulator, and checks from the -vvv logs that this core ran them;
#   5. core221 only: ansible-test sanity (no ignore file), whose virtualenvs are prepared in the
#      background while steps 2-4 run.
# The two legs run at the same time; their output is prefixed with the leg's name.
set -euo pipefail

venv_prefix=${1:?usage: compat.sh VENV (run it as: tests/run-tests.sh compat)}
case "$venv_prefix" in
  /*) ;;
  *) echo "compat.sh: VENV must be an absolute path, got $venv_prefix" >&2; exit 2 ;;
esac
stage=$(cd "$(dirname "$0")/../.." && pwd)
case "$stage" in
  */ansible_collections/scanops/security) ;;
  *) echo "compat.sh runs from a staged collection; use: tests/run-tests.sh compat" >&2; exit 2 ;;
esac

# The fastest target of each module family (tests/integration/targets): scans, findings, callbacks
# (with callback_endpoint_info), sensors (with scan_sensor_info) and Kolega fixes (with
# finding_fix_info). scan_run and finding_status take 1-2 minutes each and are left to the
# integration suite.
targets=(scan_info finding_info callback_endpoint scan_sensor finding_fix)
test_deps=(pytest fastapi uvicorn httpx jsonschema aiohttp)

# The test dependencies keep the floors tests/requirements.txt gives them. ansible-lint and
# molecule stay out: each of their releases supports only some ansible-core series (see there).
dep_lines=()
for dep in "${test_deps[@]}"; do
  line=$(grep -iE "^${dep}([<>=!~ ;[]|\$)" "$stage/tests/requirements.txt" | head -n 1 || true)
  if [ -z "$line" ]; then
    echo "compat.sh: $dep is not in tests/requirements.txt; update test_deps in $0" >&2
    exit 1
  fi
  dep_lines+=("$line")
done

# find_python X.Y [OVERRIDE]: prints the first interpreter of version X.Y that runs and can create a
# virtualenv: OVERRIDE, the newest under pyenv's versions directory, then pythonX.Y on PATH (pyenv's
# shim of that name exists but fails unless X.Y is a selected pyenv version).
find_python() {
  local want=$1 override=${2:-} pyenv_root candidate
  local candidates=()
  [ -n "$override" ] && candidates+=("$override")
  pyenv_root=${PYENV_ROOT:-}
  if [ -z "$pyenv_root" ] && command -v pyenv >/dev/null 2>&1; then
    pyenv_root=$(pyenv root 2>/dev/null || true)
  fi
  for root in ${pyenv_root:+"$pyenv_root"} "$HOME/.pyenv"; do
    # Newest first; an unmatched pattern stays literal and fails the check below.
    while IFS= read -r candidate; do
      candidates+=("$candidate")
    done < <(printf '%s\n' "$root"/versions/"$want"*/bin/python"$want" | sort -V -r)
  done
  candidate=$(command -v "python$want" 2>/dev/null || true)
  [ -n "$candidate" ] && candidates+=("$candidate")
  for candidate in "${candidates[@]}"; do
    if "$candidate" -c "import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (${want%%.*}, ${want#*.}))" \
      >/dev/null 2>&1 </dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/scanops-compat.XXXXXX")
trap 'rm -rf "$work"' EXIT

# run_leg NAME CORE_SERIES PYTHON SANITY: one leg, from venv to the last check (see the header).
run_leg() {
  local name=$1 series=$2 python=$3 sanity=$4
  local core_spec="ansible-core==$series.*" venv="$venv_prefix-$name"
  local started=$SECONDS step_started timings=()
  step() { echo; echo "--- $*"; step_started=$SECONDS; }
  took() { timings+=("$1 $((SECONDS - step_started)) s"); }

  # Its own copy of the stage: the integration runner writes under tests/output, ansible-test too.
  local top="$work/$name" root
  root="$top/ansible_collections/scanops/security"
  mkdir -p "$root"
  tar -C "$stage" --exclude=./tests/output -cf - . | tar -C "$root" -xf -
  export ANSIBLE_COLLECTIONS_PATH="$top" PYTHONPATH="$top"
  cd "$root"

  step "virtualenv $venv ($core_spec, $("$python" --version 2>&1) from $python)"
  if ! "$venv/bin/python" -c '' 2>/dev/null; then
    "$python" -m venv --clear "$venv"
  fi
  local stamp="$venv/.scanops-compat-requirements.sha256" want
  want=$( { "$venv/bin/python" --version; echo "$core_spec"; printf '%s\n' "${dep_lines[@]}"; cat requirements.txt; } \
    | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "installing $core_spec and the test dependencies"
    bash tests/utils/venv-install.sh "$venv" "$core_spec" -r requirements.txt "${dep_lines[@]}"
    echo "$want" > "$stamp"
  else
    echo "up to date"
  fi
  export PATH="$venv/bin:$PATH"
  local py="$venv/bin/python"
  took venv

  # Not local: the EXIT trap that stops an unfinished sanity run reads it after run_leg returned.
  sanity_pid=""
  local sanity_log="$top/sanity.log"
  if [ "$sanity" = yes ]; then
    if [ -e "tests/sanity/ignore-$series.txt" ]; then
      echo "tests/sanity/ignore-$series.txt exists: sanity must pass without ignore entries" >&2
      return 1
    fi
    # ansible-test fetches a pip bootstrap script for its sanity venvs; install the offline one. Sanity
    # (mostly building those venvs, then pylint) runs beside the steps below; its log follows them.
    "$py" tests/utils/offline_get_pip.py --install-cache
    # In a session of its own, so that a failing step below can stop it with everything it started.
    # shellcheck disable=SC2016  # the inner shell expands $SECONDS and $1
    setsid bash -c 'started=$SECONDS; ansible-test sanity --color no --python "$1" || exit $?; echo "sanity took $((SECONDS - started)) s"' \
      sanity "$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" >"$sanity_log" 2>&1 &
    sanity_pid=$!
    trap 'kill -- -"$sanity_pid" 2>/dev/null || true' EXIT
  fi

  step "ansible-core"
  local core_version core_file
  read -r core_version core_file < <("$py" -c 'import ansible, ansible.release; print(ansible.release.__version__, ansible.__file__)')
  case "$core_version" in
    "$series".*) ;;
    *) echo "expected $core_spec in $venv, found $core_version" >&2; return 1 ;;
  esac
  case "$core_file" in
    "$venv"/*) ;;
    *) echo "ansible is imported from $core_file, not from $venv" >&2; return 1 ;;
  esac
  local tool
  for tool in ansible-doc ansible-playbook ansible-test; do
    if [ "$(command -v "$tool")" != "$venv/bin/$tool" ]; then
      echo "$tool resolves to $(command -v "$tool"), not to $venv/bin/$tool" >&2
      return 1
    fi
  done
  echo "ansible-core $core_version ($("$py" -c 'import platform; print("Python " + platform.python_version())')) from $venv"
  # Not piped into head: ansible exits with a traceback when its stdout is closed early.
  local playbook_version
  playbook_version=$(ansible-playbook --version)
  echo "${playbook_version%%$'\n'*}"

  local modules=() file module
  for file in plugins/modules/*.py; do
    module=$(basename "$file" .py)
    case "$module" in __init__|_*) continue ;; esac
    modules+=("scanops.security.$module")
  done
  if [ ${#modules[@]} -eq 0 ]; then
    echo "no modules found under plugins/modules" >&2
    return 1
  fi
  step "ansible-doc --json over ${#modules[@]} modules"
  # The check must be able to fail: a module that does not exist is reported, although ansible-doc exits 0.
  if check_docs "$py" "$root" "$top" scanops.security.compat_no_such_module 2>/dev/null; then
    echo "the ansible-doc check passed a module that does not exist; it cannot detect a broken one" >&2
    return 1
  fi
  check_docs "$py" "$root" "$top" "${modules[@]}"
  echo "${#modules[@]} modules documented without errors"
  took ansible-doc

  local pytest_args=(-q -p no:cacheprovider -o "addopts=")
  step "unit tests"
  "$py" -m pytest "${pytest_args[@]}" tests/unit
  took units

  step "integration targets: ${targets[*]}"
  local node_ids=(tests/integration/test_targets.py::test_leak_check_sees_a_secret_in_output_or_files) target log
  for target in "${targets[@]}"; do
    node_ids+=("tests/integration/test_targets.py::test_target[$target]")
  done
  # Node ids rather than -k: a renamed or removed target is an error, not a silently smaller run.
  "$py" -m pytest "${pytest_args[@]}" --durations=0 "${node_ids[@]}"
  for target in "${targets[@]}"; do
    log="tests/output/integration/$target.log"
    if ! grep -q "^ansible-playbook \[core $core_version\]" "$log" 2>/dev/null; then
      echo "$log does not show ansible-playbook [core $core_version]; the target ran on another ansible-core" >&2
      return 1
    fi
  done
  took integration

  local checks="ansible-doc, the unit tests and ${#targets[@]} integration targets"
  if [ "$sanity" = yes ]; then
    step "ansible-test sanity (ansible-core $core_version), started with the unit tests"
    local sanity_rc=0
    wait "$sanity_pid" || sanity_rc=$?
    trap - EXIT
    cat "$sanity_log"
    took "sanity wait"
    if [ "$sanity_rc" -ne 0 ]; then
      return "$sanity_rc"
    fi
    checks="$checks and ansible-test sanity"
  fi
  echo
  local IFS=,
  echo "compat $name: ansible-core $core_version passed $checks in $((SECONDS - started)) s (${timings[*]})"
}

# check_docs PYTHON ROOT TOP NAME...: renders NAME... with ansible-doc --json; fails on stderr output,
# a non-zero exit, or a module that is missing, lacks docs, examples or return values, or is loaded
# from outside ROOT.
check_docs() {
  local py=$1 root=$2 top=$3 rc=0
  shift 3
  ansible-doc -t module --json "$@" >"$top/doc.json" 2>"$top/doc.err" || rc=$?
  if [ "$rc" -ne 0 ] || [ -s "$top/doc.err" ]; then
    echo "ansible-doc failed (exit $rc):" >&2
    cat "$top/doc.err" >&2
    return 1
  fi
  "$py" - "$top/doc.json" "$root" "$@" <<'EOF'
import json
import os
import sys

json_file, root = sys.argv[1:3]
names = sys.argv[3:]
with open(json_file, encoding="utf-8") as handle:
    docs = json.load(handle)
problems = []
for name in names:
    entry = docs.get(name) or {}
    doc = entry.get("doc") or {}
    if not doc.get("short_description") or not doc.get("options"):
        problems.append("%s: no short_description or options" % name)
        continue
    if not os.path.realpath(doc.get("filename", "")).startswith(os.path.realpath(root) + os.sep):
        problems.append("%s: documented from %s, not from %s" % (name, doc.get("filename"), root))
    if not (entry.get("examples") or "").strip():
        problems.append("%s: no EXAMPLES" % name)
    if not entry.get("return"):
        problems.append("%s: no RETURN" % name)
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
}

# Each leg in the background with its output prefixed; statuses collected afterwards.
declare -A pids=()
launch() {
  local name=$1
  shift
  ( set -o pipefail; ( run_leg "$name" "$@" ) 2>&1 | sed -u "s/^/[$name] /" ) &
  pids[$name]=$!
}

# COMPAT_LEGS picks legs while working on one (default: both).
legs=" ${COMPAT_LEGS:-core216 core221} "
if [[ "$legs" == *" core216 "* ]]; then
  if ! python311=${PYTHON:-$(find_python 3.11)}; then
    echo "compat: no Python 3.11 interpreter for the ansible-core 2.16 leg (set PYTHON)" >&2
    exit 1
  fi
  launch core216 2.16 "$python311" no
fi
if [[ "$legs" == *" core221 "* ]]; then
  if python313=$(find_python 3.13 "${COMPAT_PYTHON313:-}"); then
    launch core221 2.21 "$python313" yes
  else
    echo "compat: skipping the ansible-core 2.21 leg: no working Python 3.13 (set COMPAT_PYTHON313, or install it with pyenv)"
  fi
fi

failed=()
for name in "${!pids[@]}"; do
  wait "${pids[$name]}" || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "compat: failed legs: ${failed[*]}" >&2
  exit 1
fi
