# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the emulator in a subprocess for tests and benchmarks.

    from scanops_emulator.launcher import running_emulator
    with running_emulator(profile="test", port=0) as base_url:
        ...  # e.g. http://127.0.0.1:43817 ; CloudGeni's client base is base_url + "/cloudgeni/api/v1"

The signature of ``running_emulator`` is stable: other suites import it.
"""

import contextlib
import os
import queue
import subprocess
import sys
import threading

# The directory holding the package: a checkout's tests/emulator, or site-packages once installed.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The checkout's start script (absent from an installed package); the launcher itself runs the package.
SERVE = os.path.join(PACKAGE_PARENT, "serve.py")
READY_PREFIX = "scanops-emulator ready on "


class EmulatorStartError(RuntimeError):
    """The emulator exited or stayed silent instead of printing its ready line."""


def drain(lines):
    """Keep reading the child's output after the ready line so its pipe never fills up."""
    while lines.get()[1] is not None:
        continue


def start_emulator(profile="test", port=0, host="127.0.0.1", seed=0, timeout=120.0, python=None, documented_only=False,
                   path_prefix=""):
    """Start the emulator; answer ``(process, base_url)``. Prefer ``running_emulator``, which also stops it."""
    command = [python or sys.executable, "-m", "scanops_emulator", "--host", host, "--port", str(port), "--profile", profile, "--seed", str(seed)]
    if documented_only:
        command.append("--documented-only")
    if path_prefix:
        command.extend(["--path-prefix", path_prefix])
    # The child imports this very copy of the package, installed or not.
    path = os.pathsep.join(p for p in (PACKAGE_PARENT, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=path)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # pylint: disable=consider-using-with
    lines = queue.Queue()

    def pump(stream, tag):
        for line in stream:
            lines.put((tag, line))
        lines.put((tag, None))

    threading.Thread(target=pump, args=(process.stdout, "out"), daemon=True).start()
    errors = []
    threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True).start()
    try:
        while True:
            tag, line = lines.get(timeout=timeout)
            if line is None:
                raise EmulatorStartError("emulator exited with %s before it was ready: %s" % (process.wait(), "".join(errors)[-2000:]))
            if tag == "out" and line.startswith(READY_PREFIX):
                base_url = line[len(READY_PREFIX):].strip()
                threading.Thread(target=drain, args=(lines,), daemon=True).start()
                return process, base_url
    except queue.Empty:
        stop_emulator(process)
        raise EmulatorStartError("emulator printed no ready line within %.0f s: %s" % (timeout, "".join(errors)[-2000:])) from None
    except BaseException:
        stop_emulator(process)
        raise


def stop_emulator(process, timeout=10.0):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_emulator(profile="test", port=0, host="127.0.0.1", seed=0, timeout=120.0, documented_only=False, path_prefix=""):
    """Context manager: start the emulator, yield its base URL (``http://host:port``), stop it.

    ``documented_only=True`` starts it with ``--documented-only`` (docs/emulator.md);
    ``path_prefix="/gateway/scanops"`` serves it below that path, included in the base URL.
    """
    process, base_url = start_emulator(profile=profile, port=port, host=host, seed=seed, timeout=timeout,
                                       documented_only=documented_only, path_prefix=path_prefix)
    try:
        yield base_url
    finally:
        stop_emulator(process)
