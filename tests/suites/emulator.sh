# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# The emulator's own tests: fidelity to the vendor pages, lifecycle, faults, deliveries, the package.
suite_about="the emulator against the vendor pages (tests/emulator/tests)"
suite_order=30
suite_fast=yes
suite_path=tests/emulator/tests
suite_cost=45
suite_run() {
  python -m pytest "${pytest_args[@]}" tests/emulator/tests
}
