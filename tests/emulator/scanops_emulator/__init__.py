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

# The full-rights demo credential of each vendor in the default seed (docs/emulator.md), for the suites and
# scripts that talk to the emulator; the vendor modules' key tables hold them with their rights.
DEMO_API_KEYS = {
    "cloudgeni": "cg_live_demo_admin_4f7c2a9e1b3d5f60",
    "kolega": "kcp_live_demo_5b1e9c3a7d2f4e6081a9",
    "agilesec": "isg_demo_token_7c3e9a1f5b2d4e60a8c1",
    "harborguard": "hg_ak_5e8f2a7c9b1d3e6f0a4c8b2d7e9f1a3c5b7d9e2f4a6c8b0d",
    "penaxtra": "pnx_live_demo_6a1f3c8e2b9d4f7a0c5e",
}
# The AgileSec Search API's demo reader, as the modules' search_username/search_password take it.
DEMO_SEARCH_USER = {"search_username": "analytics-reader", "search_password": "kf-search-demo-7d41c9e2b05a"}

ADMIN_PREFIX = "/_emulator"
