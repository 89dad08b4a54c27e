# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a result set to a JSON Lines file as it is read, instead of holding it in the module result.

The file is written next to its destination under a temporary name and moved over it only once
every line is in, so a run that fails halfway leaves the previous file as it was. A run that
would write exactly what the file already holds leaves it alone and reports no change; in check
mode nothing is written and ``changed`` says whether a real run would replace the file.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json
import os
import tempfile

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError

_CHUNK = 1024 * 1024


def check_destination(path, option):
    """Raise ScanopsError naming ``option`` unless ``path`` can be written as a file (checked before any request)."""
    if os.path.isdir(path):
        raise ScanopsError("%s: %s is a directory; give the path of a file" % (option, path))
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ScanopsError("%s: the directory %s does not exist" % (option, parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ScanopsError("%s: the directory %s is not writable" % (option, parent))


def file_digest(path):
    """SHA-256 of a file's content, or None when there is no such file."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
    except (IOError, OSError):
        return None
    return digest.hexdigest()


class JsonLinesWriter(object):
    """One JSON document a line, keys sorted so that the same data always makes the same file.

    ``write`` each item, then ``commit(module)`` (answers whether the file changed) or ``discard()``.
    """

    def __init__(self, path, check_mode=False):
        self.path = path
        self.check_mode = check_mode
        self.count = 0
        self._digest = hashlib.sha256()
        self._handle = None
        self._temp = None
        if not check_mode:
            directory = os.path.dirname(os.path.abspath(path))
            descriptor, self._temp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
            self._handle = os.fdopen(descriptor, "wb")

    def write(self, item):
        line = (json.dumps(item, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
        self._digest.update(line)
        if self._handle is not None:
            self._handle.write(line)
        self.count += 1

    def commit(self, module):
        """Put the file in place unless it already holds the same lines; True when it changed (or would)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        changed = file_digest(self.path) != self._digest.hexdigest()
        if self._temp is not None:
            if changed:
                # atomic_move keeps an existing file's mode and owner; a new one gets the default mode.
                module.atomic_move(self._temp, os.path.abspath(self.path))
            else:
                os.unlink(self._temp)
            self._temp = None
        return changed

    def discard(self):
        """Drop what was written; the destination stays as it was."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._temp is not None:
            try:
                os.unlink(self._temp)
            except OSError:
                pass
            self._temp = None
