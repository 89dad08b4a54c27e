# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):
    """AgileSec's finding scope and crypto filters, shared by finding_info and the findings lookup (``findings.crypto_selection_spec``)."""

    DOCUMENTATION = r'''
options:
  sensor:
    description:
      - AgileSec only, the findings of this sensor, by name or id (matched against the documents' sensor name and id,
        without a scan API call).
    type: str
  kind:
    description:
      - AgileSec only, findings of these kinds (the document's C(crypto) subtype; C(certificate) is C(x509)).
    type: list
    elements: str
    choices: [algorithm, certificate, db, key, keystore, library, protocol, token]
  algorithm:
    description:
      - AgileSec only, findings that name one of these algorithms, compared without regard to case, whether an algorithm name
        (C(MD5)), a key algorithm (C(RSA)), a certificate's signature or key algorithm (C(sha1WithRSAEncryption)), a
        protocol (C(TLS)) or cipher suite, a library or a keystore type.
    type: list
    elements: str
  key_size_below:
    description:
      - AgileSec only, keys and certificate public keys shorter than this many bits (findings without a key size are left out).
    type: int
  expires_within_days:
    description:
      - AgileSec only, certificates whose C(not_after) is at most this many days from now, already expired ones included.
    type: int
  labels:
    description:
      - AgileSec only, findings whose sensor labels include every one of these names with the value given.
    type: dict
'''
