# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# The playbooks as a user runs them on real platforms: the emulator behind another base URL, no
# emulator variables, $HOME not the passwd home; and post_deploy_verify.yml through ansible-runner in
# AWX's layout.
suite_about="the playbooks as on real platforms, and through ansible-runner (tests/playbooks)"
suite_order=64
suite_path=tests/playbooks
suite_cost=60
suite_run() {
  python -m pytest "${pytest_args[@]}" -s tests/playbooks
}
