# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline replacement for the pip bootstrap script that ansible-test downloads.

ansible-test creates its sanity virtual environments without pip and then runs a ``get-pip``
script fetched from the internet, cached as ``~/.ansible/test/cache/get_pip_<version>.py``. On
machines that only reach a package index that download fails. This file serves two purposes:

* run as ``offline_get_pip.py --install-cache`` it copies itself to the cache path for the pip
  version the installed ansible-test expects (a no-op when a bootstrap script is already there);
* run by ansible-test as the bootstrap script, it installs pip from the interpreter's bundled
  ``ensurepip`` wheel and then asks that pip for the exact packages ansible-test requested.
"""

import ensurepip
import os
import shutil
import subprocess
import sys
import types

# Options ansible-test passes to get-pip that plain ``pip install`` does not need.
_GET_PIP_ONLY_OPTIONS = frozenset(("install", "--no-setuptools", "--no-wheel"))


def _expected_pip_version():
    """Ask the installed ansible-test which pip version its bootstrap installs."""
    from ansible_test._internal.python_requirements import get_venv_packages  # pylint: disable=import-outside-toplevel

    interpreter = types.SimpleNamespace(version="%d.%d" % sys.version_info[:2])
    return get_venv_packages(interpreter)["pip"]


def install_cache():
    """Place this script where ansible-test looks for its pip bootstrap script."""
    version = _expected_pip_version()
    cache_dir = os.path.expanduser("~/.ansible/test/cache")
    target = os.path.join(cache_dir, "get_pip_%s.py" % version.replace(".", "_"))
    if os.path.exists(target):
        print("ansible-test pip bootstrap already cached: %s" % target)
        return 0
    os.makedirs(cache_dir, exist_ok=True)
    shutil.copyfile(os.path.abspath(__file__), target)
    print("ansible-test pip bootstrap installed (offline, pip %s): %s" % (version, target))
    return 0


def bootstrap(argv):
    """Install pip into the running interpreter, then the requested packages."""
    ensurepip.bootstrap(upgrade=True)
    requested = [arg for arg in argv if arg not in _GET_PIP_ONLY_OPTIONS]
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # ansible-test sets PIP_CONFIG_FILE=/dev/null, which also drops a CA bundle configured for pip.
    ca_bundle = os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt"
    if os.path.isfile(ca_bundle):
        command += ["--cert", ca_bundle]
    return subprocess.call(command + requested)


if __name__ == "__main__":
    if sys.argv[1:] == ["--install-cache"]:
        sys.exit(install_cache())
    sys.exit(bootstrap(sys.argv[1:]))
