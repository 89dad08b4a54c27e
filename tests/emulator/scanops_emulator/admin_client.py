# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client for the emulator's admin API (/_emulator/), used by tests and benchmarks.

    admin = AdminClient(base_url)
    admin.reset()
    admin.config("cloudgeni", running_seconds=0.2, finding_count=20000)
    admin.add_fault(vendor="cloudgeni", method="POST", path="*/scans", kind="drop_after", count=1)
    admin.requests(vendor="cloudgeni")["counters"]

Method names and arguments are stable: other suites import this module.
"""

import time

import httpx


class AdminClient:
    def __init__(self, base_url, timeout=10.0):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url + "/_emulator", timeout=timeout)

    def close(self):
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _call(self, method, path, **kwargs):
        answer = self.http.request(method, path, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError("emulator admin %s %s failed: %s %s" % (method, path, answer.status_code, answer.text))
        return answer.json() if answer.content else None

    # -------------------------------------------------------------- state
    def health(self):
        return self._call("GET", "/health")

    def reset(self, seed=None, profile=None):
        """Back to the default seed (optionally a new generator seed or profile)."""
        body = {key: value for key, value in (("seed", seed), ("profile", profile)) if value is not None}
        return self._call("POST", "/reset", json=body)

    def seed(self, vendor, kind, **spec):
        """Add one entity, e.g. ``seed("cloudgeni", "repository", id="repo_x", name="x")``; answers it."""
        return self._call("POST", "/seed", json=dict(spec, vendor=vendor, kind=kind))["created"][0]["object"]

    def seed_many(self, items):
        return self._call("POST", "/seed", json=list(items))["created"]

    def state(self, vendor):
        return self._call("GET", "/state/%s" % vendor)

    # -------------------------------------------------------------- config
    def get_config(self, vendor=None):
        return self._call("GET", "/config/%s" % vendor if vendor else "/config")

    def config(self, vendor, **changes):
        """Change a vendor's defaults: queued_seconds, running_seconds, outcome, finding_count,
        scopes={scope: {...}}, next=[{...}], limits={...} and vendor extras (Kolega ``quotas``,
        HarborGuard ``plan_scan_limit``)."""
        return self._call("PATCH", "/config/%s" % vendor, json=changes)

    def scope(self, vendor, scope, **settings):
        """Durations/outcome/finding_count for one scope (org, repository, image, integration, sensor name)."""
        return self.config(vendor, scopes={scope: settings})

    def next_scan(self, vendor, **settings):
        """Settings used by the next scan created for ``vendor`` only."""
        return self.config(vendor, next=[settings])

    def limits(self, vendor, enabled=True, **numbers):
        return self.config(vendor, limits=dict(numbers, enabled=enabled))

    def delivery_retry_delays(self, delays):
        return self._call("PATCH", "/config/global", json={"delivery_retry_delays": list(delays)})

    # -------------------------------------------------------------- faults
    def add_fault(self, kind, vendor="*", method="*", path="*", probability=1.0, count=None, status=None, latency_ms=None,
                  retry_after=None, location=None):
        """kind: latency | error | error_after | rate_limit | drop_before | drop_after | malformed_json | redirect (with ``location``)."""
        spec = {"kind": kind, "vendor": vendor, "method": method, "path": path, "probability": probability, "count": count}
        for key, value in (("status", status), ("latency_ms", latency_ms), ("retry_after", retry_after), ("location", location)):
            if value is not None:
                spec[key] = value
        return self._call("POST", "/faults", json=spec)["faults"][0]

    def faults(self):
        return self._call("GET", "/faults")["faults"]

    def remove_fault(self, fault_id):
        self._call("DELETE", "/faults/%d" % fault_id)

    def clear_faults(self):
        self._call("DELETE", "/faults")

    # -------------------------------------------------------------- logs
    def requests(self, vendor=None, method=None, path=None, since_id=0):
        """``{"items": [...], "total", "counters": {"METHOD /route": n}}``; never holds auth values."""
        params = {key: value for key, value in (("vendor", vendor), ("method", method), ("path", path)) if value}
        if since_id:
            params["since_id"] = since_id
        return self._call("GET", "/requests", params=params)

    def clear_requests(self):
        self._call("DELETE", "/requests")

    def deliveries(self, vendor=None, kind=None):
        params = {key: value for key, value in (("vendor", vendor), ("kind", kind)) if value}
        return self._call("GET", "/deliveries", params=params)["items"]

    def wait_for_deliveries(self, count, vendor=None, kind=None, timeout=10.0):
        """Poll until at least ``count`` delivery attempts are logged; answers them."""
        deadline = time.monotonic() + timeout
        while True:
            items = self.deliveries(vendor, kind)
            if len(items) >= count or time.monotonic() > deadline:
                return items
            time.sleep(0.05)

    def clear_deliveries(self):
        self._call("DELETE", "/deliveries")

    def add_harborguard_webhook(self, url, secret, events=None):
        body = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = events
        return self._call("POST", "/harborguard/webhooks", json=body)
