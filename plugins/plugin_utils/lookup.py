# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's lookups share: options read like module options, one target per term,
one adapter per run, errors as AnsibleLookupError, warnings shown by the display."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.scanops.security.plugins.module_utils.common import (
    adapter_from_params,
    plugin_params,
    scanops_argument_spec,
)
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.scans import ScanFailure
from ansible_collections.scanops.security.plugins.module_utils.targets import TARGET_OPTION

display = Display()


def without_raw(item, include_raw):
    """``item`` (a normalized scan or finding) without its vendor body unless ``include_raw``."""
    if include_raw or not isinstance(item, dict):
        return item
    return dict((key, value) for key, value in item.items() if key != "raw")


class ScanopsLookup(LookupBase):
    """Base of the scanops lookups; subclasses set ``NAME``, ``TERM_KEYS`` and implement ``spec`` and ``one``."""

    NAME = None
    # The options a dictionary term may set (the target's options); a string term sets the provider's own.
    TERM_KEYS = ()

    def spec(self):
        """The lookup's options besides the shared connection options, as an argument spec."""
        raise NotImplementedError

    def one(self, adapter, params):
        """The answer for one target; raise ScanopsError or ScanFailure."""
        raise NotImplementedError

    def _term_options(self, term, provider):
        if term is None:
            return {}
        if isinstance(term, str):
            return {TARGET_OPTION[provider]: term}
        if isinstance(term, dict):
            unknown = sorted(key for key in term if key not in self.TERM_KEYS)
            if unknown:
                raise ScanopsError("a target given as a dictionary takes %s, not %s"
                                   % (", ".join(self.TERM_KEYS), ", ".join(unknown)))
            return dict(term)
        raise ScanopsError("each term is a target, a string or a dictionary of %s; got %s"
                           % (", ".join(self.TERM_KEYS), type(term).__name__))

    def run(self, terms, variables=None, **kwargs):
        unknown = sorted(set(kwargs) - set(scanops_argument_spec()) - set(self.spec()))
        if unknown:
            raise AnsibleLookupError("%s: unsupported option %s" % (self.NAME, ", ".join(unknown)))
        self.set_options(var_options=variables, direct=kwargs)
        answers = []
        try:
            base = plugin_params(self.get_option, extra_spec=self.spec())
        except ScanopsError as err:
            raise AnsibleLookupError("%s: %s" % (self.NAME, err.message))
        with self._adapter(base) as adapter:
            for term in terms or [None]:
                try:
                    params = plugin_params(self.get_option, extra_spec=self.spec(),
                                           given=self._term_options(term, base["provider"]))
                    answers.append(self.one(adapter, params))
                except ScanFailure as failure:
                    raise AnsibleLookupError("%s: %s" % (self.NAME, failure.msg))
                except ScanopsError as err:
                    raise AnsibleLookupError("%s: %s" % (self.NAME, err.message))
        return answers

    def _adapter(self, params):
        try:
            return adapter_from_params(params)
        except ScanopsError as err:
            raise AnsibleLookupError("%s: %s" % (self.NAME, err.message))
        except (IOError, OSError, ValueError) as err:
            raise AnsibleLookupError("%s: configure the %s client: %s" % (self.NAME, params["provider"], to_native(err)))

    def warn(self, messages):
        for message in messages or []:
            display.warning("%s: %s" % (self.NAME, message))
