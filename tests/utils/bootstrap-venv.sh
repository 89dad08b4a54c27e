#!/usr/bin/env bash
# Create (or refresh) the project's virtualenv with the runtime and test dependencies.
# Re-running is cheap: packages are reinstalled only when a requirements file changed.
set -euo pipefail
venv=${1:?usage: bootstrap-venv.sh VENV_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3}
# The installer of the requirements (tests/utils/venv-install.sh uses it for the side venvs too).
uv_spec='uv>=0.5'

if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating virtualenv $venv"
  "$python" -m venv "$venv"
fi

stamp="$venv/.scanops-requirements.sha256"
want=$( { cat "$root/requirements.txt" "$root/tests/requirements.txt"; echo "$uv_spec"; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing Python dependencies into $venv"
  started=$SECONDS
  # uv first, with the venv's own pip; without it (no wheel for this platform) pip does everything.
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$uv_spec"; then
    echo "warning: $uv_spec could not be installed; installing with pip" >&2
  fi
  PATH="$venv/bin:$PATH" bash "$root/tests/utils/venv-install.sh" "$venv" --upgrade pip \
    -r "$root/requirements.txt" -r "$root/tests/requirements.txt"
  echo "$want" > "$stamp"
  echo "==> installed in $((SECONDS - started)) s"
fi

# System tools the suites use: curl and jq run the vendor pages' curl examples; ansible-test sanity
# lints shell scripts with shellcheck only when it is installed.
missing=()
for tool in curl jq shellcheck; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ${missing[*]} with apt-get"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "warning: ${missing[*]} not installed: the curl-example tests and shellcheck linting will not run" >&2
  fi
fi

# ansible-test downloads a pip bootstrap script for its sanity virtualenvs; install an offline one.
"$venv/bin/python" "$root/tests/utils/offline_get_pip.py" --install-cache >/dev/null
