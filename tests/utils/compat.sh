#!/usr/bin/env bash
# The `compat` suite: checks meta/runtime.yml's `requires_ansible: ">=2.16.0"` on the oldest
# ansible-core it claims, while every other suite runs on the ansible-core of the project venv.
#
#   tests/utils/compat.sh COMPAT_VENV
#
# Called by `tests/run-tests.sh compat` from the staged collection root (PYTHONPATH and
# ANSIBLE_COLLECTIONS_PATH point at the stage). COMPAT_VENV (run-tests.sh passes "$VENV-core216")
# is created on first use with ansible-core 2.16, requirements.txt and the few test dependencies the
# checks below need, and reinstalled only when one of those changes. In it, the suite:
#   1. renders every module's documentation with ansible-doc (text and JSON); any output on stderr
#      fails, since ansible-doc exits 0 even for a plugin it cannot find or load;
#   2. runs the unit tests (the modules' main() on 2.16's AnsibleModule);
#   3. runs the fastest integration targets, which cover every module family, with 2.16's
#      ansible-playbook against the emulator, and checks from their -vvv logs that 2.16 ran them.
set -euo pipefail

compat_venv=${1:?usage: compat.sh COMPAT_VENV (run it as: tests/run-tests.sh compat)}
case "$compat_venv" in
  /*) ;;
  *) echo "compat.sh: COMPAT_VENV must be an absolute path, got $compat_venv" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3}
core_spec='ansible-core==2.16.*'
core_prefix='2.16.'
# Fastest targets per module family (tests/integration/targets): scans, findings, callbacks
# (with callback_endpoint_info), sensors (with scan_sensor_info); together about a minute.
# scan_run and finding_status take 1-2 minutes each and are left to the integration suite.
targets=(scan_info finding_info callback_endpoint scan_sensor)
test_deps=(pytest fastapi uvicorn httpx jsonschema)

case "$root" in
  */ansible_collections/scanops/security) ;;
  *) echo "compat.sh runs from a staged collection; use: tests/run-tests.sh compat" >&2; exit 2 ;;
esac
cd "$root"

step() { echo; echo "--- compat: $*"; }

# --- the ansible-core 2.16 virtualenv, cached like tests/utils/bootstrap-venv.sh caches the project's
# The test dependencies keep the version floors tests/requirements.txt gives them. ansible-lint and
# molecule are left out on purpose: they require a newer ansible-core.
dep_lines=()
for dep in "${test_deps[@]}"; do
  line=$(grep -iE "^${dep}([<>=!~ ;[]|\$)" tests/requirements.txt | head -n 1 || true)
  if [ -z "$line" ]; then
    echo "compat.sh: $dep is not in tests/requirements.txt; update test_deps in $0" >&2
    exit 1
  fi
  dep_lines+=("$line")
done

if ! "$compat_venv/bin/python" -c '' 2>/dev/null; then
  step "creating virtualenv $compat_venv"
  "$python" -m venv --clear "$compat_venv"
fi
stamp="$compat_venv/.scanops-compat-requirements.sha256"
want=$( { "$compat_venv/bin/python" --version; echo "$core_spec"; printf '%s\n' "${dep_lines[@]}"; cat requirements.txt; } \
  | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  step "installing $core_spec and the test dependencies into $compat_venv"
  "$compat_venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$compat_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "$core_spec" -r requirements.txt "${dep_lines[@]}"
  echo "$want" > "$stamp"
fi
export PATH="$compat_venv/bin:$PATH"
py="$compat_venv/bin/python"

# --- which ansible-core this is: fail unless it is 2.16 and comes from the compat venv
step "ansible-core"
read -r core_version core_file < <("$py" -c 'import ansible, ansible.release; print(ansible.release.__version__, ansible.__file__)')
case "$core_version" in
  "$core_prefix"*) ;;
  *) echo "expected ansible-core $core_spec in $compat_venv, found $core_version" >&2; exit 1 ;;
esac
case "$core_file" in
  "$compat_venv"/*) ;;
  *) echo "ansible is imported from $core_file, not from $compat_venv" >&2; exit 1 ;;
esac
for tool in ansible-doc ansible-playbook; do
  if [ "$(command -v "$tool")" != "$compat_venv/bin/$tool" ]; then
    echo "$tool resolves to $(command -v "$tool"), not to $compat_venv/bin/$tool" >&2
    exit 1
  fi
done
echo "ansible-core $core_version ($("$py" -c 'import platform; print("Python " + platform.python_version())')) from $compat_venv"
# Not piped into head: ansible exits with a traceback when its stdout is closed early.
playbook_version=$(ansible-playbook --version)
echo "${playbook_version%%$'\n'*}"

# --- 1. ansible-doc over every module
modules=()
for file in plugins/modules/*.py; do
  name=$(basename "$file" .py)
  case "$name" in __init__|_*) continue ;; esac
  modules+=("scanops.security.$name")
done
if [ ${#modules[@]} -eq 0 ]; then
  echo "no modules found under plugins/modules" >&2
  exit 1
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/scanops-compat.XXXXXX")
trap 'rm -rf "$out"' EXIT

# check_docs NAME...: renders NAME... as text and as JSON; fails on any stderr output, a non-zero exit,
# or a module missing from either rendering or loaded from outside this collection root.
check_docs() {
  local rc=0
  ansible-doc -t module "$@" >"$out/doc.txt" 2>"$out/doc.err" || rc=$?
  ansible-doc -t module --json "$@" >"$out/doc.json" 2>>"$out/doc.err" || rc=$?
  if [ "$rc" -ne 0 ] || [ -s "$out/doc.err" ]; then
    echo "ansible-doc $core_version failed (exit $rc):" >&2
    cat "$out/doc.err" >&2
    return 1
  fi
  "$py" - "$out/doc.txt" "$out/doc.json" "$root" "$@" <<'EOF'
import json
import os
import sys

text_file, json_file, root = sys.argv[1:4]
names = sys.argv[4:]
with open(text_file, encoding="utf-8") as handle:
    text = handle.read().lower()
with open(json_file, encoding="utf-8") as handle:
    docs = json.load(handle)
problems = []
for name in names:
    if "> %s " % name not in text:
        problems.append("%s: no text rendering" % name)
    doc = (docs.get(name) or {}).get("doc") or {}
    if not doc.get("short_description") or not doc.get("options"):
        problems.append("%s: no short_description or options in the JSON rendering" % name)
    elif not os.path.realpath(doc.get("filename", "")).startswith(os.path.realpath(root) + os.sep):
        problems.append("%s: documented from %s, not from %s" % (name, doc.get("filename"), root))
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
}

step "ansible-doc -t module over ${#modules[@]} modules"
started=$SECONDS
# The check must be able to fail: a module that does not exist is reported, although ansible-doc exits 0.
if check_docs scanops.security.compat_no_such_module 2>/dev/null; then
  echo "the ansible-doc check passed a module that does not exist; it cannot detect a broken one" >&2
  exit 1
fi
check_docs "${modules[@]}"
echo "${#modules[@]} modules documented without errors ($((SECONDS - started)) s)"

# --- 2. unit tests
pytest_args=(-q -p no:cacheprovider -o "addopts=")
step "unit tests"
"$py" -m pytest "${pytest_args[@]}" tests/unit

# --- 3. integration targets with ansible-core 2.16's ansible-playbook
step "integration targets: ${targets[*]}"
node_ids=(tests/integration/test_targets.py::test_leak_check_sees_a_secret_in_output_or_files)
for target in "${targets[@]}"; do
  node_ids+=("tests/integration/test_targets.py::test_target[$target]")
  rm -f "tests/output/integration/$target.log"
done
# Node ids rather than -k: a renamed or removed target is an error, not a silently smaller run.
"$py" -m pytest "${pytest_args[@]}" --durations=0 "${node_ids[@]}"
for target in "${targets[@]}"; do
  log="tests/output/integration/$target.log"
  if ! grep -q "^ansible-playbook \[core $core_version\]" "$log" 2>/dev/null; then
    echo "$log does not show ansible-playbook [core $core_version]; the target ran on another ansible-core" >&2
    exit 1
  fi
done
echo
echo "compat: ansible-core $core_version passed ansible-doc, the unit tests and ${#targets[@]} integration targets"
