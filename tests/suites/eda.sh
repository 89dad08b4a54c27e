# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# The shipped rulebooks under the real ansible-rulebook (Java 17+), from its own venv next to the
# project's ($VENV-eda, built on first use).
suite_about="the rulebooks under ansible-rulebook (tests/eda)"
suite_order=60
suite_path=tests/eda
suite_cost=90
suite_run() {
  bash tests/utils/eda.sh "$VENV-eda"
}
