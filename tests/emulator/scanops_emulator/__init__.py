# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator of the five vendor scan APIs that scanops.security automates (test and demo use only)."""

VENDORS = ("cloudgeni", "kolega", "agilesec", "harborguard", "penaxtra")

# Path prefix under which each vendor's documented paths are mounted.
VENDOR_PREFIXES = {
    "cloudgeni": "/cloudgeni",
    "kolega": "/kolega",
    "agilesec": "/agilesec",
    "harborguard": "/harborguard",
    "penaxtra": "/penaxtra",
}

# The base URL a client is configured with, relative to the emulator root.
CLIENT_BASE_PATHS = {
    "cloudgeni": "/cloudgeni/api/v1",
    "kolega": "/kolega",
    "agilesec": "/agilesec",
    "harborguard": "/harborguard",
    "penaxtra": "/penaxtra",
}

ADMIN_PREFIX = "/_emulator"
