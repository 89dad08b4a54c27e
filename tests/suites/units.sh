# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# pytest unit tests: module_utils, modules' main(), plugins (httpx MockTransport, no network, no sleeps).
suite_about="unit tests (tests/unit)"
suite_order=20
suite_fast=yes
suite_path=tests/unit
suite_cost=15
suite_run() {
  python -m pytest "${pytest_args[@]}" tests/unit
}
