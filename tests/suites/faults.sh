# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# Fault injection: every module under dropped connections, timeouts, 5xx bursts, 429s and broken
# bodies; no duplicate creates, clean failures, converging re-runs.
suite_about="fault injection (tests/faults)"
suite_order=90
suite_path=tests/faults
suite_cost=210
suite_run() {
  python -m pytest "${pytest_args[@]}" tests/faults
}
