#!/usr/bin/env bash
# Cut the release notes of the version galaxy.yml names (docs/developing.md, "Changelog and releases"):
#
#   tests/utils/release-changelog.sh
#
# Needs changelogs/fragments/<version>.yml with a release_summary. antsibull-changelog moves every
# fragment into changelogs/changelog.yaml (deleting the fragment files), lists the plugins whose
# version_added is this version as new, and rewrites CHANGELOG.rst. It finds the plugins with
# ansible-doc, so it runs on a link to the checkout at ansible_collections/scanops/security.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$root/.venv}
export PATH="$venv/bin:$PATH"
version=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$root/galaxy.yml")
if [ ! -f "$root/changelogs/fragments/$version.yml" ]; then
  echo "changelogs/fragments/$version.yml with a release_summary is missing" >&2
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/scanops-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ansible_collections/scanops"
ln -s "$root" "$work/ansible_collections/scanops/security"
cd "$work/ansible_collections/scanops/security"
antsibull-changelog lint
ANSIBLE_COLLECTIONS_PATH="$work" antsibull-changelog release --reload-plugins --version "$version"
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
rm -f changelogs/.plugin-cache.yaml
echo "released $version: CHANGELOG.rst and changelogs/changelog.yaml rewritten, fragments removed"
