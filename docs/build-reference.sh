#!/usr/bin/env bash
# Regenerate docs/reference/ (module and role reference) from the modules' DOCUMENTATION and the
# roles' meta/argument_specs.yml with antsibull-docs.
#
#   docs/build-reference.sh           rewrite docs/reference/
#   docs/build-reference.sh --check   fail when docs/reference/ is out of date
#
# Needs ansible-core and antsibull-docs on PATH (pip install antsibull-docs).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
check=0
[ "${1:-}" = "--check" ] && check=1
for tool in ansible-doc antsibull-docs; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool not found; install it with: pip install ansible-core antsibull-docs" >&2
    exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/scanops-docs.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/collections/ansible_collections/scanops" "$work/out"
ln -s "$root" "$work/collections/ansible_collections/scanops/security"
export ANSIBLE_COLLECTIONS_PATH="$work/collections"

antsibull-docs collection --use-current --squash-hierarchy --output-format simplified-rst \
  --fail-on-error --dest-dir "$work/out" scanops.security >/dev/null

if [ "$check" -eq 1 ]; then
  if ! diff -r "$work/out" "$root/docs/reference" >/dev/null 2>&1; then
    echo "docs/reference/ is out of date: run docs/build-reference.sh" >&2
    exit 1
  fi
  echo "docs/reference/ is up to date"
  exit 0
fi
rm -rf "$root/docs/reference"
cp -r "$work/out" "$root/docs/reference"
echo "wrote $(find "$root/docs/reference" -type f | wc -l) files to docs/reference/"
