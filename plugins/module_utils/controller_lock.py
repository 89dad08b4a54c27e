# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Advisory locks shared by the processes of one Ansible controller.

``with controller_lock(key, timeout):`` holds an exclusive ``fcntl`` lock on a file named after a
hash of ``key``; every process (and every thread, each opening the file itself) that asks for the
same key on the same machine waits its turn, for at most ``timeout`` seconds.

What it is for: two playbook runs on one controller converging the same scan target at the same
moment would each see "no scan yet" and each start one. Holding the lock around "look for a scan
of this target, else trigger one" makes the second run see the first run's scan.

What it is not: a lock between controllers (it is a file on this machine), nor a lock the vendors
know about. Modules run where the controller runs them (``connection: local`` or
``delegate_to: localhost``, the usual way for API modules); a module run on another host
locks on that host.

Files live in ``$SCANOPS_CACHE_DIR/locks``, else ``$XDG_CACHE_HOME/scanops/locks``, else
``~/.cache/scanops/locks``; they are empty, never removed (removing a lock file another process
holds open would let a third process lock a new file with the same name), and one per key.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import errno
import hashlib
import json
import os
import time

try:
    import fcntl
    HAS_FCNTL = True
except ImportError:  # pragma: no cover - not a POSIX system
    fcntl = None
    HAS_FCNTL = False

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError

CACHE_DIR_ENV = "SCANOPS_CACHE_DIR"
DEFAULT_POLL = 0.05


class ControllerLockTimeout(ScanopsError):
    """Another process held the lock for longer than the caller was willing to wait."""


class ControllerLockUnavailable(ScanopsError):
    """No lock can be taken here (no writable cache directory, or no fcntl)."""


def cache_dir(environ=None):
    """The collection's cache directory on this machine (not created)."""
    environ = os.environ if environ is None else environ
    if environ.get(CACHE_DIR_ENV):
        return environ[CACHE_DIR_ENV]
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "scanops")


def lock_path(key, directory=None):
    """The lock file of ``key`` (any JSON-serializable value): ``<cache dir>/locks/<sha256 of key>.lock``."""
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return os.path.join(directory or os.path.join(cache_dir(), "locks"), digest + ".lock")


@contextlib.contextmanager
def controller_lock(key, timeout, directory=None, poll=DEFAULT_POLL, sleep=time.sleep, clock=time.monotonic):
    """Hold the controller-wide lock of ``key`` for the ``with`` block.

    Args:
        key: what is locked, for example ``("scan", "harborguard", "https://harborguard.co:443", "nginx:1.25")``;
            only its hash reaches the file system.
        timeout: seconds to wait for another holder; ``ControllerLockTimeout`` after that.
        directory: where the lock files live (default ``<cache dir>/locks``).

    Raises:
        ControllerLockTimeout: the lock stayed taken for ``timeout`` seconds.
        ControllerLockUnavailable: the directory can't be created or the file can't be opened;
            callers decide whether to go on without the lock.
    """
    if not HAS_FCNTL:
        raise ControllerLockUnavailable("file locks need fcntl, which this platform lacks")
    path = lock_path(key, directory)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except (IOError, OSError) as err:
        raise ControllerLockUnavailable("can't use the lock file %s: %s" % (path, err.strerror or err))
    try:
        deadline = clock() + max(0.0, float(timeout))
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise ControllerLockUnavailable("can't lock %s: %s" % (path, err.strerror or err))
            if clock() >= deadline:
                raise ControllerLockTimeout("another process on this controller held the lock %s for more than %s s"
                                            % (path, timeout))
            sleep(poll)
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)
