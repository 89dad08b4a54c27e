# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# ansible-test sanity on the project venv's ansible-core and Python, with no ignore file.
suite_about="ansible-test sanity (the project venv's ansible-core and Python)"
suite_order=10
suite_cost=100
suite_run() {
  # --python: the controller's Python; the compile test still covers the remote versions it finds.
  ansible-test sanity --color no --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
}
