# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):
    """Options shared by every scanops.security module (connection, credentials, retries, pacing)."""

    DOCUMENTATION = r'''
options:
  provider:
    description:
      - The security platform to talk to.
      - If not set, the value of the E(SCANOPS_PROVIDER) environment variable is used.
    type: str
    required: true
    choices: [cloudgeni, kolega, agilesec, harborguard, penaxtra]
  api_url:
    description:
      - Root URL of the provider's API, C(http://) or C(https://). It may not carry a user name or password (the
        credential goes in O(api_key)), a query string, a fragment or whitespace; an empty value is an error.
      - Looked up in this order, the option, E(SCANOPS_API_URL), then the provider's own variable
        E(CLOUDGENI_API_URL), E(KOLEGA_API_URL), E(AGILESEC_API_URL), E(HARBORGUARD_API_URL) or E(PENAXTRA_API_URL).
      - Defaults to the provider's public API, C(https://api.cloudgeni.ai/api/v1), C(https://api.kolega.dev),
        C(https://api.agilesec.net), C(https://harborguard.co) or C(https://penaxtra.com).
    type: str
  api_key:
    description:
      - The API credential.
      - Looked up in this order, the option, E(SCANOPS_API_KEY), then the provider's own variable
        E(CLOUDGENI_API_KEY), E(KOLEGA_TOKEN), E(AGILESEC_API_TOKEN), E(HARBORGUARD_API_KEY) or E(PENAXTRA_TOKEN).
      - "Sent as the provider expects: C(X-CLOUDGENI-API-KEY) for CloudGeni, C(Authorization: Bearer) for Kolega
        and Penaxtra, C(isg-api-token) for AgileSec, and for HarborGuard as set by O(auth_scheme)."
      - The names E(AGILESEC_API_TOKEN), E(HARBORGUARD_API_KEY) and E(PENAXTRA_TOKEN) are assumptions of this
        collection; those vendors name no variable.
      - The credential never appears in results, diffs, errors or logs, and is never sent to
        another host when the API redirects.
    type: str
  organization:
    description:
      - CloudGeni organization id (C(orgId)), required for O(provider=cloudgeni) and ignored by the others.
      - If not set, the value of the E(CLOUDGENI_ORG_ID) environment variable is used.
    type: str
  auth_scheme:
    description:
      - "HarborGuard only, how the key is sent, V(bearer) as C(Authorization: Bearer <key>) or V(x_api_key) as C(X-API-Key)."
    type: str
    default: bearer
    choices: [bearer, x_api_key]
  validate_certs:
    description:
      - Verify the TLS certificate of the API. Only turn this off for test systems.
      - A certificate that fails verification fails the task at once, without retries, naming the host.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle file (or a directory of hashed CA certificates) to verify the API's certificate against.
    type: path
  client_cert:
    description:
      - PEM client certificate for mutual TLS.
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert), when not included in it.
    type: path
  proxy:
    description:
      - Proxy URL for every request, for example C(http://proxy.example.com:3128) (C(http), C(https), C(socks5) or C(socks5h)).
      - It may not carry a user name or password, which would be printed with the task's arguments; set
        O(proxy_username) and O(proxy_password) instead.
      - If not set, the usual E(HTTPS_PROXY), E(HTTP_PROXY), E(ALL_PROXY) and E(NO_PROXY) variables apply.
    type: str
  proxy_username:
    description:
      - User name for O(proxy).
      - If not set, the value of the E(SCANOPS_PROXY_USERNAME) environment variable is used.
    type: str
  proxy_password:
    description:
      - Password for O(proxy), never shown in results, errors or logs.
      - If not set, the value of the E(SCANOPS_PROXY_PASSWORD) environment variable is used.
    type: str
  timeout:
    description:
      - Seconds to wait for each HTTP request, more than 0 and at most 3600.
    type: float
    default: 30
  retries:
    description:
      - How many times a request is retried after HTTP 429, 502, 503, 504 or a network error.
      - Only requests that are safe to repeat are retried; a request that creates something is
        retried only when the server certainly did not act on it (HTTP 429 or no connection).
      - Waits grow exponentially with jitter and honour the C(Retry-After) header and the
        vendor's own retry hints (Penaxtra C(retry_after_seconds); CloudGeni C(details.retryAfterSeconds), an
        assumption, since CloudGeni documents no rate-limit headers, see C(docs/assumptions.md)).
      - From 0 to 100.
    type: int
    default: 5
  retry_timeout:
    description:
      - Total seconds within which retries of one request may happen; when the next wait
        would pass it, the module fails and says when a retry would be allowed.
      - From 0 to 86400.
    type: float
    default: 60
  rate_limit:
    description:
      - Client-side pace in requests per second, for all requests to the provider.
      - If not set, the documented limits are used, CloudGeni 10 scan triggers, 60 status and
        30 findings requests a minute, HarborGuard 10 scan creations a minute, Penaxtra 60 a
        minute with a burst of 120; the collection assumes 10 a second for Kolega and 5 a
        second for AgileSec, which publish none.
      - CloudGeni and HarborGuard count their limits in a sliding window; the collection keeps
        the same window, so a fan-out sends a window's worth at once and the next request as soon
        as the window lets go of one (a window after the answer to the request it replaces). With
        O(rate_limit) such a limit keeps its way of counting at an average of O(rate_limit) a
        second, its count from the vendor's C(X-RateLimit-Limit) header once one is seen.
      - HarborGuard documents its reads and triage calls as unlimited; O(rate_limit) may raise
        the collection's courtesy pace for them (20 a second) but does not lower it.
      - V(0) turns client-side pacing off; at most 10000.
      - The pace is shared by every process of this controller that uses the same credential with the same API (forks,
        inventory sources, lookups), through a small file per limit under E(SCANOPS_CACHE_DIR) (else
        E(XDG_CACHE_HOME)C(/scanops), else C(~/.cache/scanops)). Other controllers, and AWX jobs in their own containers,
        pace apart; where no file can be written the process paces alone, and E(SCANOPS_RATE_LIMIT_SCOPE=process) makes every
        process pace alone (against a test double without limits, say).
    type: float
notes:
  - Every option is checked before the first request, and a bad value fails the task with a message naming the
    option, ids (no empty value, C(.), C(..) or C(/)), numbers (finite and within the option's range), names
    (no control, bidirectional-override or invisible characters, and the vendors' length limits) and URLs.
  - A request that carries a body (a create, an update, a secret) is never sent to another origin; when the API
    redirects one there the task fails naming the C(Location). Reads may follow a redirect to another origin, without
    the credential.
requirements:
  - httpx >= 0.24
'''
