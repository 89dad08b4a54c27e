# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# The integration targets with ansible-playbook -vvv, the example playbooks and the in-process checks
# against the emulator. Most of its time goes into ansible-playbook and module processes, one
# target at a time per process: pytest-xdist runs several at once, each worker with an emulator of
# its own (tests/integration/conftest.py keeps the tests of one file together, the targets apart, longest first).
suite_about="integration targets and playbooks against the emulator (tests/integration)"
suite_order=50
suite_fast=yes
suite_path=tests/integration
suite_cost=200
suite_run() {
  python -m pytest "${pytest_args[@]}" -n "$(pytest_workers 2)" --dist loadscope --no-loadscope-reorder tests/integration
}
