# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry of the provider adapters.

The adapters are imported by name here (not dynamically) so that Ansible's module packager,
which follows static imports, ships all of them with every module.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.scanops.security.plugins.module_utils.providers.agilesec import AgileSecAdapter
from ansible_collections.scanops.security.plugins.module_utils.providers.cloudgeni import CloudGeniAdapter
from ansible_collections.scanops.security.plugins.module_utils.providers.harborguard import HarborGuardAdapter
from ansible_collections.scanops.security.plugins.module_utils.providers.kolega import KolegaAdapter
from ansible_collections.scanops.security.plugins.module_utils.providers.penaxtra import PenaxtraAdapter

PROVIDERS = ("cloudgeni", "kolega", "agilesec", "harborguard", "penaxtra")

ADAPTERS = {
    "cloudgeni": CloudGeniAdapter,
    "kolega": KolegaAdapter,
    "agilesec": AgileSecAdapter,
    "harborguard": HarborGuardAdapter,
    "penaxtra": PenaxtraAdapter,
}


def get_adapter_class(name):
    """The adapter class for a provider id; ValueError naming the known ones otherwise."""
    try:
        return ADAPTERS[name]
    except KeyError:
        raise ValueError("unknown provider '%s'; use one of: %s" % (name, ", ".join(PROVIDERS)))
