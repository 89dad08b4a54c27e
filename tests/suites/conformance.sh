# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# Every module's results (success, check mode, re-run, bad input, 401/404/5xx, partial failure)
# checked against its RETURN block, modules run in-process against the emulator.
suite_about="every module's results against its RETURN block (tests/conformance)"
suite_order=45
suite_fast=yes
suite_path=tests/conformance
suite_cost=40
suite_run() {
  python -m pytest "${pytest_args[@]}" tests/conformance
}
