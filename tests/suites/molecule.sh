# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# molecule test of every role scenario (roles/<role>/molecule/<scenario>) against the emulator.
suite_about="molecule scenarios of the roles"
suite_order=80
suite_path=roles/post_deploy_scan/molecule
suite_cost=160
suite_run() {
  bash tests/utils/run-molecule.sh
}
