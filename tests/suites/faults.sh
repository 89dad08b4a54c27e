# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# Fault injection: every module under dropped connections, timeouts, 5xx bursts, 429s and broken
# bodies; no duplicate creates, clean failures, converging re-runs.
suite_about="fault injection (tests/faults)"
suite_order=90
suite_path=tests/faults
# Alone, after the others: its cases give the client 2 s per request and 12 s of retries on purpose,
# and module processes 90 s; beside three other suites at load 25, three cases failed on client timeouts.
suite_alone=yes
suite_cost=210
suite_run() {
  python -m pytest "${pytest_args[@]}" tests/faults
}
