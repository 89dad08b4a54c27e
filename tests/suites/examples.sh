# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# Every module's EXAMPLES and every role README play, run as written against the emulator's default
# seed in one ansible-playbook run (prints the counts).
suite_about="every EXAMPLES block and role README play as written (tests/examples)"
suite_order=62
suite_path=tests/examples
suite_cost=60
suite_run() {
  python -m pytest "${pytest_args[@]}" -s tests/examples
}
