#!/usr/bin/env bash
# Installs packages into a virtualenv, with uv when there is one, else with the venv's own pip.
#
#   tests/utils/venv-install.sh VENV [pip install arguments...]
#
# The project venv gets uv from PyPI (tests/utils/bootstrap-venv.sh) and the suites run with its
# bin directory first on PATH, so the side venvs (compat's, the eda suite's) are filled by uv too.
# uv resolves and downloads in parallel: from an empty cache it installs the project venv in a
# fraction of pip's time and CPU. It compiles the bytecode as pip does (--compile-bytecode): the
# suites run with PYTHONDONTWRITEBYTECODE=1 and would otherwise compile every import each time.
# uv reads neither pip.conf nor PIP_* variables (extra indexes, find-links, certificates): when it
# fails, pip installs the same arguments with its own configuration. SCANOPS_INSTALLER=pip forces pip.
set -euo pipefail
venv=${1:?usage: venv-install.sh VENV [pip install arguments...]}
shift
uv=$(command -v uv || true)
if [ "${SCANOPS_INSTALLER:-}" != pip ] && [ -n "$uv" ]; then
  if "$uv" pip install --quiet --compile-bytecode --python "$venv/bin/python" "$@"; then
    exit 0
  fi
  echo "venv-install.sh: uv could not install into $venv; trying pip" >&2
fi
exec "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
