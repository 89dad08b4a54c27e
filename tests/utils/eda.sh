#!/usr/bin/env bash
# The `eda` suite: runs the shipped rulebooks (extensions/eda/rulebooks) with the real
# ansible-rulebook against the emulator (tests/eda).
#
#   tests/utils/eda.sh EDA_VENV
#
# Called by `tests/run-tests.sh eda` from the staged collection root. EDA_VENV (run-tests.sh passes
# "$VENV-eda") is created on first use with ansible-rulebook, the ansible-core it runs playbooks with
# and requirements.txt, and reinstalled only when one of those changes; ansible-rulebook's many
# dependencies (drools_jpy, ansible-runner, psycopg, ...) stay out of the project venv. The test
# process itself (pytest, the emulator) runs on the project venv's Python.
#
# ansible-rulebook needs Java 17 or newer: JAVA_HOME when it points at one, else the `java` on PATH,
# else (as root, with apt-get) Debian's openjdk-17-jre-headless is installed. Without one, the suite
# fails with a single line saying so.
set -euo pipefail

eda_venv=${1:?usage: eda.sh EDA_VENV (run it as: tests/run-tests.sh eda)}
case "$eda_venv" in
  /*) ;;
  *) echo "eda.sh: EDA_VENV must be an absolute path, got $eda_venv" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$root" in
  */ansible_collections/scanops/security) ;;
  *) echo "eda.sh runs from a staged collection; use: tests/run-tests.sh eda" >&2; exit 2 ;;
esac
cd "$root"
python=${PYTHON:-python3}
rulebook_spec='ansible-rulebook==1.3.*'
core_spec='ansible-core==2.19.*'
java_min=17

step() { echo; echo "--- eda: $*"; }

# --- Java: the major version of a java binary, or nothing
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
java_home=
candidates=()
[ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
if java_on_path=$(command -v java 2>/dev/null); then
  candidates+=("$(dirname "$(dirname "$(readlink -f "$java_on_path")")")")
fi
for candidate in "${candidates[@]}"; do
  if [ -x "$candidate/bin/java" ]; then
    major=$(java_major "$candidate/bin/java")
    if [ -n "$major" ] && [ "$major" -ge "$java_min" ]; then
      java_home=$candidate
      break
    fi
  fi
done
if [ -z "$java_home" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  step "no Java $java_min+ found: installing openjdk-17-jre-headless with apt-get"
  if apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    [ -n "$(java_major "$candidate/bin/java")" ] && java_home=$candidate
  fi
fi
if [ -z "$java_home" ]; then
  echo "eda suite: ansible-rulebook needs Java $java_min or newer; none found (JAVA_HOME=${JAVA_HOME:-unset}, java on PATH: $(command -v java || echo none)) and it could not be installed: set JAVA_HOME to a JDK $java_min+" >&2
  exit 1
fi
export JAVA_HOME=$java_home
echo "Java $(java_major "$JAVA_HOME/bin/java") at $JAVA_HOME"

# --- the ansible-rulebook virtualenv, cached like tests/utils/compat.sh caches the core 2.16 one
if ! "$eda_venv/bin/python" -c '' 2>/dev/null; then
  step "creating virtualenv $eda_venv"
  "$python" -m venv --clear "$eda_venv"
fi
stamp="$eda_venv/.scanops-eda-requirements.sha256"
want=$( { "$eda_venv/bin/python" --version; echo "$rulebook_spec $core_spec"; cat requirements.txt; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  step "installing $rulebook_spec, $core_spec and requirements.txt into $eda_venv"
  started=$SECONDS
  bash tests/utils/venv-install.sh "$eda_venv" --upgrade pip "$rulebook_spec" "$core_spec" -r requirements.txt
  echo "$want" > "$stamp"
  echo "installed in $((SECONDS - started)) s"
fi
rulebook_version=$("$eda_venv/bin/ansible-rulebook" --version)
echo "${rulebook_version%%$'\n'*}"

# --- the suite: pytest from the project venv; ansible-rulebook and its playbooks from EDA_VENV
step "rulebooks against the emulator"
export SCANOPS_EDA_VENV=$eda_venv
rc=0
python -m pytest -q -p no:cacheprovider -o "addopts=" --durations=5 tests/eda || rc=$?
# Where the time went (the suite has a time budget in make test); the rulebooks' logs are beside it.
if [ -f tests/output/eda/timeline.txt ]; then
  echo "timeline (tests/output/eda/timeline.txt):"
  cat tests/output/eda/timeline.txt
fi
exit "$rc"
