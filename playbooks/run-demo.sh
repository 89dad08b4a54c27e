#!/usr/bin/env bash
# The README demo (`make demo`): start the emulator of the five platforms, stage the collection,
# run playbooks/demo.yml against it end to end, print where the reports are, stop the emulator.
#
#   make demo                                   uses the project venv (VENV, default .venv)
#   bash playbooks/run-demo.sh -e verify_fail_on=high    extra arguments go to ansible-playbook
#   DEMO_ARGS='-e verify_fail_on=high' make demo         the same through make
#
# Exits with ansible-playbook's status: non-zero when any step or the gate fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$root/.venv}
if [ ! -x "$venv/bin/ansible-playbook" ]; then
  bash "$root/tests/utils/bootstrap-venv.sh" "$venv"
fi
export PATH="$venv/bin:$PATH"
python="$venv/bin/python"
artifacts="$root/artifacts"

work=$(mktemp -d "${TMPDIR:-/tmp}/scanops-demo.XXXXXX")
emulator_pid=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  if [ -n "$emulator_pid" ]; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# scanops.security must resolve: stage a copy of the checkout as ansible_collections/scanops/security.
stage="$work/collections/ansible_collections/scanops/security"
mkdir -p "$stage"
tar -C "$root" --exclude=./.git --exclude=./.venv --exclude=./artifacts --exclude=./tests/output \
  --exclude='__pycache__' --exclude='.pytest_cache' -cf - . | tar -C "$stage" -xf -
export ANSIBLE_COLLECTIONS_PATH="$work/collections"

echo "==> starting the emulator of the five platforms (demo profile)"
# shellcheck source=tests/utils/emulator.sh
. "$root/tests/utils/emulator.sh"
start_emulator "$python" "$root" demo "$work/emulator.log" || exit 1
url=$emulator_url
echo "    $url"
export SCANOPS_EMULATOR_URL="$url"

export ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_ASYNC_DIR="$work/async" ANSIBLE_LOCAL_TEMP="$work/tmp"
mkdir -p "$artifacts"

echo "==> running playbooks/demo.yml"
rc=0
# DEMO_ARGS is split on spaces on purpose: it carries extra ansible-playbook arguments.
# shellcheck disable=SC2086
ansible-playbook -i localhost, -e "ansible_python_interpreter=$python" \
  -e "@$stage/playbooks/vars/emulator.yml" \
  -e "scanops_report_dir=$artifacts" \
  ${DEMO_ARGS:-} "$@" "$stage/playbooks/demo.yml" || rc=$?

echo
if [ "$rc" -eq 0 ]; then
  echo "==> demo passed; open the report: $artifacts/index.html"
else
  echo "==> demo FAILED (ansible-playbook exit $rc); reports written so far: $artifacts/index.html" >&2
fi
exit "$rc"
