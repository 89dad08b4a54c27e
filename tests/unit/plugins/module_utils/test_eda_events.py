# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event shape, webhook checks and de-duplication shared by the EDA event sources."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import hmac
import json

import pytest

from ansible_collections.scanops.security.plugins.module_utils import eda_events as events
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError

SECRET = "whsec-unit-test-3b9f"
# HarborGuard's documented delivery body (event, severity, title, message, url, timestamp).
HARBORGUARD_BODY = (b'{"event":"critical_cve","severity":"critical","title":"Critical vulnerabilities in ghcr.io/acme/api:1.4.7",'
                    b'"message":"2 critical CVEs found","url":"/dashboard/scans/scn-3kp9q1","timestamp":"2026-04-26T14:22:11.000Z"}')
# CloudGeni's documented scan.completed payload.
CLOUDGENI_BODY = {
    "event": "scan.completed", "timestamp": "2024-01-15T10:36:30Z",
    "data": {"scanId": "scan_xyz789", "repositoryId": "repo_abc123", "repositoryName": "myorg/infrastructure", "branch": "main",
             "status": "completed", "summary": {"total": 15, "critical": 0, "high": 2, "medium": 5, "low": 8},
             "dashboardUrl": "https://app.cloudgeni.ai/scans/scan_xyz789"},
}
# AgileSec's documented callback payload for a failed execution.
AGILESEC_BODY = {"sensorId": "65f1c2d3e4a5b6c7d8e9f001", "executionId": "65f1c2d3e4a5b6c7d8e9f0aa", "status": "failed",
                 "errorCode": "GIT-1001", "message": "clone failed", "labels": [{"team": "payments"}]}


def test_signature_is_verified_over_the_raw_bytes():
    header = "sha256=" + hmac.new(SECRET.encode(), HARBORGUARD_BODY, hashlib.sha256).hexdigest()
    assert events.verify_signature(SECRET, HARBORGUARD_BODY, header)
    assert events.sign(SECRET, HARBORGUARD_BODY) == header
    # Upper-case hex and spaces around it are the same signature.
    assert events.verify_signature(SECRET, HARBORGUARD_BODY, "sha256=%s " % header[7:].upper())
    # The same JSON re-serialized (what a decode/re-encode would verify) is other bytes: refused.
    reencoded = json.dumps(json.loads(HARBORGUARD_BODY)).encode()
    assert reencoded != HARBORGUARD_BODY
    assert not events.verify_signature(SECRET, reencoded, header)


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha1=abcd", "deadbeef", "sha256=" + "0" * 64, "sha256=zz"])
def test_missing_malformed_or_wrong_signatures_are_refused(header):
    assert not events.verify_signature(SECRET, HARBORGUARD_BODY, header)


def test_a_signature_under_another_secret_is_refused():
    assert not events.verify_signature(SECRET, HARBORGUARD_BODY, events.sign("other-secret", HARBORGUARD_BODY))
    assert not events.verify_signature("", HARBORGUARD_BODY, events.sign("", HARBORGUARD_BODY))


@pytest.mark.parametrize("auth_type, headers, expected", [
    ("none", {}, True),
    ("bearer", {"Authorization": "Bearer tok-1"}, True),
    ("bearer", {"Authorization": "bearer tok-1"}, True),
    ("bearer", {"Authorization": "Bearer tok-2"}, False),
    ("bearer", {"Authorization": "Basic tok-1"}, False),
    ("bearer", {"X-Callback-Token": "tok-1"}, False),
    ("bearer", {}, False),
    ("api_token", {"X-Callback-Token": "tok-1"}, True),
    ("api_token", {"X-Callback-Token": "tok-1x"}, False),
    ("api_token", {"Authorization": "Bearer tok-1"}, False),
    ("api_token", {}, False),
])
def test_agilesec_callback_authentication(auth_type, headers, expected):
    assert events.check_agilesec_auth(auth_type, "tok-1", "X-Callback-Token", headers) is expected


def test_harborguard_delivery_is_normalized_and_keeps_the_payload():
    body = json.loads(HARBORGUARD_BODY)
    normalized = events.normalize_delivery("harborguard", body, "2026-04-26T14:22:12Z", "harborguard:abc")
    assert normalized["event_type"] == "critical_cve"
    assert normalized["vendor_event"] == "critical_cve"
    assert normalized["scan_id"] == "scn-3kp9q1"
    assert normalized["status"] == "completed"
    assert normalized["severity"] == "critical"
    assert normalized["severity_counts"] is None
    assert normalized["occurred_at"] == "2026-04-26T14:22:11.000Z"
    assert normalized["received_at"] == "2026-04-26T14:22:12Z"
    assert normalized["delivery_id"] == "harborguard:abc"
    event = events.build_event(normalized, body, "abc", headers={"User-Agent": "HarborGuard-Webhook/1.0"})
    assert event["payload"] is body
    assert event["meta"]["uuid"] == events.event_uuid("harborguard", "abc")


@pytest.mark.parametrize("vendor_event, status", [("scan_complete", "completed"), ("scan_failed", "failed")])
def test_harborguard_scan_end_events_are_scan_completed_with_their_status(vendor_event, status):
    body = {"event": vendor_event, "severity": "error", "url": "/dashboard/scans/scn-1", "timestamp": "2026-01-01T00:00:00Z"}
    normalized = events.normalize_delivery("harborguard", body, None, None)
    assert (normalized["event_type"], normalized["status"], normalized["scan_id"]) == ("scan_completed", status, "scn-1")
    # "error" is no severity of the vocabulary: not mapped to one.
    assert normalized["severity"] is None


def test_cloudgeni_delivery_has_counts_status_and_scan_target():
    normalized = events.normalize_delivery("cloudgeni", CLOUDGENI_BODY, None, "cloudgeni:1")
    assert normalized["event_type"] == "scan_completed"
    assert normalized["scan_id"] == "scan_xyz789"
    assert normalized["target"] == "myorg/infrastructure"
    assert normalized["scan_target"] == {"repository": "repo_abc123", "branch": "main"}
    assert normalized["severity_counts"] == {"critical": 0, "high": 2, "medium": 5, "low": 8, "info": 0}
    assert normalized["url"] == "https://app.cloudgeni.ai/scans/scan_xyz789"
    failed = dict(CLOUDGENI_BODY, data=dict(CLOUDGENI_BODY["data"], status="failed"))
    assert events.normalize_delivery("cloudgeni", failed, None, None)["status"] == "failed"


def test_agilesec_callback_is_a_scan_completed_event():
    normalized = events.normalize_delivery("agilesec", AGILESEC_BODY, None, None)
    assert normalized["event_type"] == "scan_completed"
    assert normalized["scan_id"] == AGILESEC_BODY["executionId"]
    assert normalized["status"] == "failed"
    assert normalized["error_code"] == "GIT-1001"
    assert normalized["scan_target"] == {"sensor": AGILESEC_BODY["sensorId"]}
    assert events.normalize_delivery("agilesec", dict(AGILESEC_BODY, status="successful"), None, None)["status"] == "completed"


def test_unknown_fields_and_events_do_not_break_normalization():
    normalized = events.normalize_delivery("harborguard", {"event": "Image.Pushed"}, None, None)
    assert normalized["event_type"] == "image_pushed"
    assert normalized["scan_id"] is None
    assert events.normalize_delivery("cloudgeni", {"event": "scan.completed", "data": "x"}, None, None)["scan_id"] is None
    with pytest.raises(ValueError):
        events.normalize_delivery("penaxtra", {}, None, None)


def test_delivery_timestamps():
    assert events.delivery_timestamp("harborguard", {"timestamp": "1970-01-01T00:01:40Z"}) == 100.0
    assert events.delivery_timestamp("cloudgeni", {"timestamp": "1970-01-01T00:01:40+00:00"}) == 100.0
    assert events.delivery_timestamp("cloudgeni", {"timestamp": "yesterday"}) is None
    assert events.delivery_timestamp("agilesec", {"timestamp": "1970-01-01T00:01:40Z"}) is None


def test_only_safe_headers_reach_events():
    headers = {"Content-Type": "application/json", "Authorization": "Bearer tok", "X-HarborGuard-Signature": "sha256=00",
               "X-HarborGuard-Event": "critical_cve", "X-Callback-Token": "tok"}
    assert events.safe_headers(headers) == {"Content-Type": "application/json", "X-HarborGuard-Event": "critical_cve"}


def test_event_uuid_is_stable_and_distinct_per_provider():
    assert events.event_uuid("kolega", "e-1") == events.event_uuid("kolega", "e-1")
    assert events.event_uuid("kolega", "e-1") != events.event_uuid("kolega", "e-2")
    assert events.event_uuid("kolega", "e-1") != events.event_uuid("cloudgeni", "e-1")


class Clock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_dedupe_cache_forgets_after_its_ttl():
    clock = Clock()
    cache = events.DedupeCache(ttl=10, max_entries=100, clock=clock)
    cache.add("a")
    clock.now = 9.9
    assert "a" in cache
    clock.now = 10.0
    assert "a" not in cache
    assert len(cache) == 0


def test_dedupe_cache_is_bounded_and_counts_early_evictions():
    clock = Clock()
    cache = events.DedupeCache(ttl=100, max_entries=3, clock=clock)
    for key in "abcd":
        cache.add(key)
    assert "a" not in cache
    assert all(key in cache for key in "bcd")
    assert cache.evicted == 1


def test_normalized_counts_ignores_non_integers():
    assert events.normalized_counts({"critical": 2, "high": "3", "low": True}) == \
        {"critical": 2, "high": 0, "medium": 0, "low": 0, "info": 0}
    assert events.normalized_counts(None) is None


def test_source_arguments_are_validated_like_module_options():
    spec = dict(port=dict(type="int", required=True), mode=dict(type="str", choices=["a", "b"], default="a"))
    assert events.validate_source_args("demo", {"port": "8080"}, spec) == {"port": 8080, "mode": "a"}
    with pytest.raises(ScanopsError) as caught:
        events.validate_source_args("demo", {"mode": "c", "colour": 1}, spec)
    message = caught.value.message
    assert message.startswith("scanops.security.demo: ")
    assert "port" in message and "mode" in message and "colour" in message
