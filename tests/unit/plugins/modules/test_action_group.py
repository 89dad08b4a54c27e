# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module is in the scanops action group of meta/runtime.yml and says so in its documentation
(the ``action_group`` attribute), and the group holds nothing else: a new module missing from either
place fails here."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ast
import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
MODULES_DIR = os.path.join(ROOT, "plugins", "modules")
GROUP = "scanops"
FQCN_GROUP = "scanops.security." + GROUP


def module_names():
    return sorted(name[:-3] for name in os.listdir(MODULES_DIR) if name.endswith(".py") and not name.startswith("_"))


def documentation(name):
    """The module's DOCUMENTATION, read from its source without importing it."""
    with open(os.path.join(MODULES_DIR, name + ".py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "DOCUMENTATION" for target in node.targets):
            return yaml.safe_load(node.value.value)
    raise AssertionError("%s has no DOCUMENTATION" % name)


def action_group_members():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        runtime = yaml.safe_load(handle)
    return runtime["action_groups"][GROUP]


def test_the_group_holds_exactly_the_modules():
    members = action_group_members()
    assert len(members) == len(set(members)), "a module is listed twice in meta/runtime.yml"
    assert len(module_names()) >= 8, "found too few modules in %s" % MODULES_DIR
    assert sorted(members) == module_names(), "meta/runtime.yml action_groups.%s differs from plugins/modules" % GROUP


@pytest.mark.parametrize("name", module_names())
def test_module_declares_the_action_group(name):
    doc = documentation(name)
    fragments = doc.get("extends_documentation_fragment") or []
    # Core's fragment describes the attribute; the module fills in its support and group.
    assert "ansible.builtin.action_common_attributes.actiongroups" in fragments
    attribute = (doc.get("attributes") or {}).get("action_group")
    assert attribute == {"support": "full", "membership": [FQCN_GROUP]}, \
        "%s: attributes.action_group must be {support: full, membership: [%s]}, found %r" % (name, FQCN_GROUP, attribute)
