# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# Bad values from every module's argument spec, run in-process against one emulator: each fails
# before any request, naming the option, without a traceback or a leak; and writes redirected to
# another origin deliver nothing there (tests/fuzz/README.md).
suite_about="hostile input from every argument spec, hostile redirects (tests/fuzz)"
suite_order=92
suite_path=tests/fuzz
suite_cost=90
suite_run() {
  python -m pytest "${pytest_args[@]}" tests/fuzz
}
