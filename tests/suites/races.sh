# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# Two module processes on one controller converge the same fresh targets at once (forks 2, with
# and without latency on the history read): one scan per target, both runs report it.
suite_about="two runs on one controller race for the same targets (tests/races)"
suite_order=94
suite_path=tests/races
suite_cost=90
suite_run() {
  python -m pytest "${pytest_args[@]}" tests/races
}
