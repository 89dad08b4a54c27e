# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of every unit test."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path, monkeypatch):
    """Controller locks of a test live in its own directory, never in the user's ~/.cache."""
    directory = tmp_path / "scanops-cache"
    monkeypatch.setenv("SCANOPS_CACHE_DIR", str(directory))
    return directory
