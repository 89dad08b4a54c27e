# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module run loads: only its own provider's adapter, httpx without its CLI, no CA bundle before TLS.

Each import check runs in a fresh interpreter (this test process has imported everything already).
No timing here: the costs are measured by bench/scanops_bench.py (docs/performance.md, section 2).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import ssl
import subprocess
import sys

import pytest

from ansible_collections.scanops.security.plugins.module_utils import client
from ansible_collections.scanops.security.plugins.module_utils import providers

PREFIX = "ansible_collections.scanops.security.plugins."


def loaded_after(code):
    """The sys.modules names (of ours, httpx's and jsonschema's) a fresh interpreter holds after running ``code``."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    answer = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    return set(json.loads(answer.stdout.strip().splitlines()[-1]))


def test_a_module_imports_only_its_providers_adapter_and_not_httpx_cli():
    loaded = loaded_after("from %smodules import callback_endpoint\nfrom %smodule_utils.providers import get_adapter_class\n"
                          "get_adapter_class('agilesec')" % (PREFIX, PREFIX))
    adapters = sorted(name.rsplit(".", 1)[1] for name in loaded if name.startswith(PREFIX + "module_utils.providers."))
    assert adapters == ["agilesec", "base", "calls"]
    assert "httpx" in loaded
    assert "httpx._main" not in loaded
    assert "jsonschema" not in loaded  # only scan_sensor, and only when it checks a config


def test_httpx_cli_still_importable_after_the_client():
    # The CLI needs httpx's optional extras; the compat suite's venvs install httpx without them.
    for extra in ("click", "rich", "pygments"):
        pytest.importorskip(extra)
    loaded = loaded_after("import %smodule_utils.client\nimport httpx._main" % PREFIX)
    assert "httpx._main" in loaded


def test_adapters_mapping_and_unknown_provider():
    assert sorted(providers.ADAPTERS) == sorted(providers.PROVIDERS)
    assert providers.ADAPTERS["kolega"] is providers.get_adapter_class("kolega")
    with pytest.raises(ValueError, match="unknown provider 'nope'; use one of: cloudgeni"):
        providers.get_adapter_class("nope")
    with pytest.raises(AttributeError):
        getattr(providers, "NO_SUCH_NAME")


def test_default_trust_store_is_read_at_the_first_handshake_and_verifies():
    context = client._default_trust_context()  # pylint: disable=protected-access
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is True
    assert context.cert_store_stats()["x509_ca"] == 0
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="vendor.example.test")
    loaded = context.cert_store_stats()["x509_ca"]
    assert loaded > 0
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="vendor.example.test")
    assert context.cert_store_stats()["x509_ca"] == loaded  # read once


def test_default_trust_store_honours_ssl_cert_file(monkeypatch, tmp_path):
    # An empty bundle: the context must end up trusting nothing rather than falling back to certifi.
    bundle = tmp_path / "empty.pem"
    bundle.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    context = client._default_trust_context()  # pylint: disable=protected-access
    with pytest.raises(ssl.SSLError):
        context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="vendor.example.test")


def test_api_client_on_plain_http_reads_no_ca_bundle():
    api = client.ApiClient("http://vendor.example.test/api")
    try:
        contexts = [pool._ssl_context for pool in [api._client._transport._pool]]  # pylint: disable=protected-access
        assert contexts[0].cert_store_stats()["x509_ca"] == 0
    finally:
        api.close()
