# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No file of the repository names a path of the machine it was written on (a home directory or the
development machines' /work tree): such a path means nothing in a user's clone or in CI. The vendor
pages, for instance, are found relative to the repository root or through SCANOPS_VENDOR_DOCS."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEXT_SUFFIXES = (".md", ".rst", ".txt", ".py", ".yml", ".yaml", ".j2", ".sh", ".cfg", ".toml", ".ini", ".json", ".in")
# Produced by the tests and the tools (caches, virtualenvs, builds, reports), not part of the repository.
SKIPPED_DIRS = {"__pycache__", "output", "artifacts", "scanops-reports", "build"}
# A root directory that only exists on one machine, at the start of a path (not inside a URL or a
# relative path such as ../shared/vendor-docs).
MACHINE_PATH = re.compile(r"(?<![\w.~$/-])/(?:work|home|root|Users)/[\w.-]+")


def repository_files():
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".") and not d.endswith(".egg-info"))
        for name in sorted(files):
            if name.endswith(TEXT_SUFFIXES) or name in ("Makefile", "COPYING"):
                yield os.path.join(top, name)


def test_no_file_names_a_machine_path():
    found = []
    for path in repository_files():
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                for match in MACHINE_PATH.finditer(line):
                    found.append("%s:%d: %s" % (os.path.relpath(path, ROOT), number, match.group(0)))
    assert not found, "machine paths (use a path relative to the repository or an environment variable):\n" + "\n".join(found)


def test_the_pattern_finds_machine_paths_and_leaves_the_rest():
    # Written in two pieces, so that this file does not hold the paths it checks for.
    assert MACHINE_PATH.search("pages in `/" + "work/shared/vendor-docs/`")
    assert MACHINE_PATH.search("cd /" + "home/alice/src")
    for text in ("../shared/vendor-docs", "https://example.com/work/items", "~/work/x", "$HOME/work/x", "/tmp/scanops-inventory"):
        assert not MACHINE_PATH.search(text), text
