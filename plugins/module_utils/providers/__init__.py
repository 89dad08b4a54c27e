# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry of the provider adapters.

Each adapter is imported by name in a function of its own, so a module run imports only the
adapter of the provider it talks to (the others would be compiled from source on every run, as
AnsiballZ ships sources), while Ansible's module packager, which follows every static import
(in function bodies too), still ships all of them with every module.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

PROVIDERS = ("cloudgeni", "kolega", "agilesec", "harborguard", "penaxtra")


# pylint: disable=import-outside-toplevel
def _cloudgeni():
    from ansible_collections.scanops.security.plugins.module_utils.providers.cloudgeni import CloudGeniAdapter
    return CloudGeniAdapter


def _kolega():
    from ansible_collections.scanops.security.plugins.module_utils.providers.kolega import KolegaAdapter
    return KolegaAdapter


def _agilesec():
    from ansible_collections.scanops.security.plugins.module_utils.providers.agilesec import AgileSecAdapter
    return AgileSecAdapter


def _harborguard():
    from ansible_collections.scanops.security.plugins.module_utils.providers.harborguard import HarborGuardAdapter
    return HarborGuardAdapter


def _penaxtra():
    from ansible_collections.scanops.security.plugins.module_utils.providers.penaxtra import PenaxtraAdapter
    return PenaxtraAdapter
# pylint: enable=import-outside-toplevel


_LOADERS = {"cloudgeni": _cloudgeni, "kolega": _kolega, "agilesec": _agilesec, "harborguard": _harborguard, "penaxtra": _penaxtra}


def get_adapter_class(name):
    """The adapter class for a provider id; ValueError naming the known ones otherwise."""
    try:
        loader = _LOADERS[name]
    except (KeyError, TypeError):
        raise ValueError("unknown provider '%s'; use one of: %s" % (name, ", ".join(PROVIDERS)))
    return loader()


def all_adapters():
    """``{provider id: adapter class}`` for every provider (imports them all)."""
    return dict((name, get_adapter_class(name)) for name in PROVIDERS)


def __getattr__(name):
    # ADAPTERS, the full mapping, is built when first asked for, not at import.
    if name == "ADAPTERS":
        return all_adapters()
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
