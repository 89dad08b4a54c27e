#!/usr/bin/env bash
# Runs the project's test suites against a staged copy of the collection.
#
#   tests/run-tests.sh all                 every suite, in CI order
#   tests/run-tests.sh units integration   just those suites
#
# ansible-test and the collection's imports need the tree at
# <dir>/ansible_collections/scanops/security, so each run stages a copy in a temporary directory.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$root/.venv}
export PATH="$venv/bin:$PATH"
all_suites=(sanity units emulator documented conformance integration eda examples playbooks lint molecule faults fuzz races compat)

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(all)
[ "${suites[0]}" = all ] && suites=("${all_suites[@]}")

work=$(mktemp -d "${TMPDIR:-/tmp}/scanops-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage="$work/ansible_collections/scanops/security"
mkdir -p "$stage"
tar -C "$root" --exclude=./.git --exclude=./.venv --exclude='./.venv-core2*' --exclude=./.venv-eda --exclude='__pycache__' --exclude=./tests/output \
  --exclude='.pytest_cache' --exclude=./artifacts -cf - . | tar -C "$stage" -xf -
export ANSIBLE_COLLECTIONS_PATH="$work"
export PYTHONPATH="$work${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
# The emulator's test profile enforces no rate limit, so each module process paces alone, as it did before
# the pace was shared on the controller: a suite's modules run one after another would otherwise wait for
# each other's tokens. The tests of the shared pace (test_ratelimit, tests/integration/test_forks.py) set
# SCANOPS_RATE_LIMIT_SCOPE=controller themselves.
export SCANOPS_RATE_LIMIT_SCOPE=process
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

summary=()
run_suite() {
  local name=$1; shift
  local started=$SECONDS
  echo
  echo "==================== $name ===================="
  if "$@"; then
    summary+=("$name: passed ($((SECONDS - started)) s)")
  else
    summary+=("$name: FAILED ($((SECONDS - started)) s)")
    printf '%s\n' "${summary[@]}"
    exit 1
  fi
}

pytest_args=(-q -p no:cacheprovider -o "addopts=")

sanity() {
  # --python 3.11: the controller's Python; the compile test still covers the remote versions it finds.
  (cd "$stage" && ansible-test sanity --color no --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')")
}
units() { (cd "$stage" && python -m pytest "${pytest_args[@]}" tests/unit); }
emulator() { (cd "$stage" && python -m pytest "${pytest_args[@]}" tests/emulator/tests); }
integration() { (cd "$stage" && python -m pytest "${pytest_args[@]}" tests/integration); }
# Every module on every provider against the emulator's documented-only mode; prints the matrix.
documented() { (cd "$stage" && python -m pytest "${pytest_args[@]}" tests/documented); }
# Every module's results (success, check mode, re-run, bad input, 401/404/5xx, partial failure) against its RETURN block.
conformance() { (cd "$stage" && python -m pytest "${pytest_args[@]}" tests/conformance); }
# Every module's EXAMPLES and every role README play, run as written against the emulator (prints the counts).
examples() { (cd "$stage" && python -m pytest "${pytest_args[@]}" -s tests/examples); }
# The playbooks as a user runs them on real platforms: the emulator behind another base URL, no emulator
# variables, $HOME not the passwd home; and post_deploy_verify.yml through ansible-runner in AWX's layout.
playbooks() { (cd "$stage" && python -m pytest "${pytest_args[@]}" -s tests/playbooks); }
lint() {
  # run_suite calls this as the condition of an `if`, where set -e does not stop at a failed step: chain them.
  (cd "$stage" && ansible-lint --profile production --offline roles playbooks extensions/eda/rulebooks) &&
    # The reference pages are generated from the plugins' own docs; fail when they were not regenerated.
    (cd "$stage" && bash docs/build-reference.sh --check) &&
    # So are the tables generated from declarations in the code (adapters' calls, the emulator's documented-only table).
    (cd "$stage" && python docs/build-tables.py --check) &&
    # yamllint, the changelog, the tarball's contents and galaxy-importer with flake8.
    (cd "$stage" && bash tests/utils/release-lint.sh)
}
molecule() { (cd "$stage" && bash tests/utils/run-molecule.sh); }
faults() { (cd "$stage" && python -m pytest "${pytest_args[@]}" tests/faults); }
# The shipped rulebooks under the real ansible-rulebook (Java 17+), from its own cached venv next to the project's.
eda() { (cd "$stage" && bash tests/utils/eda.sh "$venv-eda"); }
# Bad inputs from every module's argument spec and hostile redirects, modules run in-process (tests/fuzz).
fuzz() { (cd "$stage" && python -m pytest "${pytest_args[@]}" tests/fuzz); }
# Two playbook processes on one controller converge the same fresh targets: no duplicate scans (tests/races).
races() { (cd "$stage" && python -m pytest "${pytest_args[@]}" tests/races); }
# The oldest (2.16) and the newest (2.21) ansible-core, each in its own venv next to the project's.
compat() { (cd "$stage" && bash tests/utils/compat.sh "$venv"); }

for suite in "${suites[@]}"; do
  case "$suite" in
    sanity|units|emulator|documented|conformance|integration|eda|examples|playbooks|lint|molecule|faults|fuzz|races|compat)
      # A suite whose tests have not been written yet is reported, not silently passed.
      case "$suite" in
        units) dir="tests/unit" ;;
        integration|faults|documented|conformance|eda|examples|playbooks|fuzz|races) dir="tests/$suite" ;;
        emulator) dir="tests/emulator/tests" ;;
        molecule) dir="roles/post_deploy_scan/molecule" ;;  # scenarios live in roles/<role>/molecule/
        lint) dir="roles" ;;
        compat) dir="tests/utils/compat.sh" ;;
        *) dir="." ;;
      esac
      if [ ! -e "$stage/$dir" ]; then
        summary+=("$suite: not present yet ($dir)")
        continue
      fi
      run_suite "$suite" "$suite" ;;
    *) echo "unknown suite: $suite (known: ${all_suites[*]})" >&2; exit 2 ;;
  esac
done

echo
echo "==================== summary ===================="
printf '%s\n' "${summary[@]}"
