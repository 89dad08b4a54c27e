#!/usr/bin/env bash
# Shell helper sourced by playbooks/run-demo.sh and tests/utils/run-molecule.sh.
#
#   start_emulator PYTHON ROOT PROFILE LOGFILE
#
# Starts tests/emulator/serve.py on a free loopback port and waits for its ready line. Sets
# emulator_pid (for the caller's EXIT trap to stop it) and emulator_url; returns 1, with the
# emulator's log on stderr, when it exits early or is not ready within 30 s.

start_emulator() {
  local python=$1 root=$2 profile=$3 log=$4
  "$python" "$root/tests/emulator/serve.py" --host 127.0.0.1 --port 0 --profile "$profile" >"$log" 2>&1 &
  emulator_pid=$!
  emulator_url=""
  # Up to 120 s: on a loaded machine (several suites at once on 2 cores) importing uvicorn and
  # FastAPI alone can take half a minute.
  for _ in $(seq 1 1200); do
    emulator_url=$(sed -n 's/^scanops-emulator ready on \(http:[^ ]*\)$/\1/p' "$log" | head -n 1)
    [ -n "$emulator_url" ] && return 0
    if ! kill -0 "$emulator_pid" 2>/dev/null; then
      echo "the emulator exited before it was ready:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "the emulator did not report ready within 120 s:" >&2
  cat "$log" >&2
  return 1
}
