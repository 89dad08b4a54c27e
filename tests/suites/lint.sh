# shellcheck shell=bash disable=SC2034,SC2154  # sourced by tests/run-tests.sh, which reads the suite_* variables and sets pytest_args
# ansible-lint (production profile), generated docs and tables up to date, yamllint, the changelog,
# the tarball's contents and galaxy-importer with flake8.
suite_about="ansible-lint, generated docs, yamllint, changelog, tarball, galaxy-importer"
suite_order=70
suite_path=roles
suite_cost=85
suite_run() {
  ansible-lint --profile production --offline roles playbooks extensions/eda/rulebooks
  # The reference pages are generated from the plugins' own docs; fail when they were not regenerated.
  bash docs/build-reference.sh --check
  # So are the tables generated from declarations in the code (adapters' calls, the emulator's documented-only table).
  python docs/build-tables.py --check
  # yamllint, the changelog, the tarball's contents and galaxy-importer with flake8.
  bash tests/utils/release-lint.sh
}
