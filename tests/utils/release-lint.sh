#!/usr/bin/env bash
# Release hygiene, the second half of the lint suite (tests/run-tests.sh lint), from the staged
# collection root with the project venv on PATH:
#   1. yamllint over every YAML file of the repository (.yamllint: ansible-lint's rules, 160 columns);
#   2. the changelog: every fragment (antsibull-changelog lint), changelogs/changelog.yaml, and
#      CHANGELOG.rst exactly as antsibull-changelog renders changelog.yaml;
#   3. galaxy.yml's version is the one plugins/module_utils/_version.py sends in the User-Agent;
#   4. the tarball ansible-galaxy builds holds COPYING, CHANGELOG.rst and meta/runtime.yml and none of
#      tests/emulator, bench or a virtualenv;
#   5. galaxy-importer on that tarball with flake8 on (tests/utils/galaxy-importer.cfg): any WARNING
#      or ERROR it prints fails the suite, a linter it could not find too (it only warns about that).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
case "$root" in
  */ansible_collections/scanops/security) ;;
  *) echo "release-lint.sh runs from a staged collection; use: tests/run-tests.sh lint" >&2; exit 2 ;;
esac
cd "$root"
work=$(mktemp -d "${TMPDIR:-/tmp}/scanops-release-lint.XXXXXX")
trap 'rm -rf "$work"' EXIT

started=$SECONDS
step_started=$SECONDS
timings=()
step() { echo "--- $*"; step_started=$SECONDS; }
took() { timings+=("$1 $((SECONDS - step_started)) s"); }

step "yamllint"
yamllint --strict .
took yamllint

step "changelog"
antsibull-changelog lint
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
# antsibull-changelog renders CHANGELOG.rst from changelog.yaml alone (unreleased fragments stay out).
mkdir -p "$work/changelog"
cp -r changelogs galaxy.yml CHANGELOG.rst "$work/changelog/"
(cd "$work/changelog" && antsibull-changelog generate)
if ! diff -u CHANGELOG.rst "$work/changelog/CHANGELOG.rst"; then
  echo "CHANGELOG.rst differs from what antsibull-changelog renders from changelogs/changelog.yaml" >&2
  exit 1
fi
took changelog

step "versions"
galaxy_version=$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
module_version=$(python -c 'import runpy; print(runpy.run_path("plugins/module_utils/_version.py")["COLLECTION_VERSION"])')
if [ "$galaxy_version" != "$module_version" ]; then
  echo "galaxy.yml says $galaxy_version, plugins/module_utils/_version.py $module_version" >&2
  exit 1
fi
echo "version $galaxy_version"
took versions

step "collection tarball"
ansible-galaxy collection build --force --output-path "$work" >/dev/null
tarball="$work/scanops-security-$galaxy_version.tar.gz"
tar -tzf "$tarball" | sed 's#^\./##' >"$work/members"
for member in COPYING CHANGELOG.rst meta/runtime.yml MANIFEST.json FILES.json; do
  if ! grep -qx "$member" "$work/members"; then
    echo "$member is missing from $(basename "$tarball")" >&2
    exit 1
  fi
done
if grep -E '^(tests/emulator|bench|\.venv[^/]*|tests/output)(/|$)' "$work/members"; then
  echo "the lines above must not be in $(basename "$tarball") (galaxy.yml build_ignore)" >&2
  exit 1
fi
echo "$(basename "$tarball"): $(wc -l <"$work/members") members"
took tarball

step "galaxy-importer (flake8 on)"
(cd "$work" && GALAXY_IMPORTER_CONFIG="$root/tests/utils/galaxy-importer.cfg" python -m galaxy_importer.main "$tarball") \
  >"$work/importer.log" 2>&1 || { cat "$work/importer.log" >&2; exit 1; }
problems=$(grep -E '^(WARNING|ERROR)' "$work/importer.log" || true)
if [ -n "$problems" ] || ! grep -q '^Importer processing completed successfully' "$work/importer.log"; then
  cat "$work/importer.log" >&2
  echo "galaxy-importer reported:" >&2
  echo "${problems:-no completion line}" >&2
  exit 1
fi
flake8_runs=$(grep -c 'via flake8\.\.\.$' "$work/importer.log" || true)
if [ "$flake8_runs" -eq 0 ] || ! grep -q '^Linting collection via ansible-lint' "$work/importer.log"; then
  cat "$work/importer.log" >&2
  echo "galaxy-importer ran neither flake8 nor ansible-lint" >&2
  exit 1
fi
echo "galaxy-importer: no warnings (flake8 over $flake8_runs plugin files, ansible-lint, ansible-doc)"
took galaxy-importer

IFS=,
echo "release lint passed in $((SECONDS - started)) s (${timings[*]})"
