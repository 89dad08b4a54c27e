#!/usr/bin/env bash
# Runs `molecule test` for every role scenario (roles/<role>/molecule/<scenario>) against one
# emulator of the five vendor APIs, and fails when any scenario fails.
#
# Called by `tests/run-tests.sh molecule` from the staged collection root with the project's venv
# on PATH. Run by hand from a checkout, it stages the collection itself. Scenarios read the
# emulator's address from SCANOPS_EMULATOR_URL; each resets it in its prepare step.
#
#   tests/utils/run-molecule.sh                     every role's scenarios
#   tests/utils/run-molecule.sh post_deploy_scan    only that role's
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
python=$(command -v python3 || command -v python)
work=$(mktemp -d "${TMPDIR:-/tmp}/scanops-molecule.XXXXXX")
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

# The execution environment definition reads meta/requirements.txt: it must list what requirements.txt lists.
if ! diff <(grep -v '^[[:space:]]*#' "$root/requirements.txt" | sed '/^[[:space:]]*$/d') \
          <(grep -v '^[[:space:]]*#' "$root/meta/requirements.txt" | sed '/^[[:space:]]*$/d') >/dev/null; then
  echo "meta/requirements.txt differs from requirements.txt; copy the requirement lines over" >&2
  exit 1
fi

# scanops.security must resolve: use the tree as is when it is already staged, else stage a link.
case "$root" in
  */ansible_collections/scanops/security) collections_dir=${root%/ansible_collections/scanops/security} ;;
  *)
    mkdir -p "$work/collections/ansible_collections/scanops"
    ln -s "$root" "$work/collections/ansible_collections/scanops/security"
    collections_dir="$work/collections" ;;
esac
export ANSIBLE_COLLECTIONS_PATH="$collections_dir${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 NO_COLOR=1 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" ANSIBLE_ASYNC_DIR="$work/ansible-async"

# One emulator for all scenarios, on a free port.
# shellcheck source=tests/utils/emulator.sh
. "$root/tests/utils/emulator.sh"
start_emulator "$python" "$root" test "$work/emulator.log" || exit 1
url=$emulator_url
export SCANOPS_EMULATOR_URL="$url"
echo "emulator: $url"

scenarios=()
for config in "$root"/roles/*/molecule/*/molecule.yml; do
  [ -e "$config" ] || continue
  role=$(basename "$(dirname "$(dirname "$(dirname "$config")")")")
  if [ $# -gt 0 ] && [[ " $* " != *" $role "* ]]; then
    continue
  fi
  scenarios+=("$role/$(basename "$(dirname "$config")")")
done
if [ ${#scenarios[@]} -eq 0 ]; then
  echo "no molecule scenarios found under roles/*/molecule/" >&2
  exit 1
fi

results=()
failed=0
for entry in "${scenarios[@]}"; do
  role=${entry%%/*}
  scenario=${entry#*/}
  echo
  echo "==================== molecule: $role ($scenario) ===================="
  started=$SECONDS
  # Molecule keeps a scenario's state in a directory named after the role and scenario only
  # (~/.ansible/tmp/molecule.<hash of the role name>.<scenario>): two checkouts testing at once would
  # share it. This run's own directory keeps them apart.
  export MOLECULE_EPHEMERAL_DIRECTORY="$work/molecule/$role/$scenario"
  # reset first: molecule remembers a finished prepare step between runs and would skip it.
  if (cd "$root/roles/$role" && molecule reset --scenario-name "$scenario" >/dev/null 2>&1; molecule test --scenario-name "$scenario"); then
    results+=("$role/$scenario: passed ($((SECONDS - started)) s)")
  else
    results+=("$role/$scenario: FAILED ($((SECONDS - started)) s)")
    failed=1
  fi
done

echo
printf '%s\n' "${results[@]}"
exit "$failed"
