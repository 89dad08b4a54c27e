# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# Every module on every provider against the emulator's documented-only mode; prints the matrix.
suite_about="every module against the emulator's documented-only mode (tests/documented)"
suite_order=40
suite_fast=yes
suite_path=tests/documented
suite_cost=10
suite_run() {
  python -m pytest "${pytest_args[@]}" tests/documented
}
