# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# The oldest (2.16) and the newest (2.21) ansible-core, each in its own venv next to the project's
# ($VENV-core216, $VENV-core221), both legs at once (tests/utils/compat.sh).
suite_about="ansible-core 2.16 and 2.21 (tests/utils/compat.sh)"
suite_order=100
suite_path=tests/utils/compat.sh
suite_cost=250
suite_run() {
  bash tests/utils/compat.sh "$VENV"
}
