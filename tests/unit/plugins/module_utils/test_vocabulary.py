# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Normalized vocabulary and each vendor's translation, both ways."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.scanops.security.plugins.module_utils import vocabulary
from ansible_collections.scanops.security.plugins.module_utils.errors import VocabularyError
from ansible_collections.scanops.security.plugins.module_utils.providers import PROVIDERS, get_adapter_class


def vocab(provider):
    return get_adapter_class(provider).VOCABULARY


FINDING_MAPS = {
    "cloudgeni": {"open": "open", "resolved": "resolved", "ignored": "suppressed"},
    "kolega": {"open": "open", "resolved": "resolved", "ignored": "ignored", "false_positive": "false_positive",
               "needs_manual_review": "needs_manual_review"},
    "harborguard": {"open": "OPEN", "acknowledged": "ACKNOWLEDGED", "in_progress": "IN_PROGRESS",
                    "resolved": "FIXED", "ignored": "WONT_FIX"},
    "penaxtra": {"open": "open", "acknowledged": "triaged", "in_progress": "in_progress", "resolved": "fixed",
                 "ignored": "risk_accepted", "false_positive": "false_positive"},
}

SCAN_MAPS = {
    "cloudgeni": {"queued": "queued", "running": "running", "completed": "completed", "failed": "failed",
                  "cancelled": "cancelled"},
    "kolega": {"queued": "queued", "creating_scans": "queued", "CREATING_SCANS": "queued", "running": "running",
               "completed": "completed", "succeeded": "completed", "failed": "failed",
               "partial_failure": "failed", "cancelled": "cancelled"},
    "agilesec": {"pending": "queued", "running": "running", "successful": "completed", "failed": "failed"},
    "harborguard": {"QUEUED": "queued", "IN_PROGRESS": "running", "COMPLETE": "completed", "FAILED": "failed",
                    "CANCELLED": "cancelled"},
    "penaxtra": {"running": "running", "completed": "completed", "failed": "failed", "cancelled": "cancelled"},
}


def test_normalized_sets():
    assert vocabulary.SCAN_STATUSES == ("queued", "running", "completed", "failed", "cancelled")
    assert vocabulary.TERMINAL == frozenset(("completed", "failed", "cancelled"))
    assert vocabulary.SEVERITIES == ("critical", "high", "medium", "low", "info")
    assert vocabulary.FINDING_STATUSES == ("open", "acknowledged", "in_progress", "resolved", "ignored",
                                           "false_positive", "needs_manual_review")


def test_severity_rank_orders_thresholds():
    ranks = [vocabulary.severity_rank(s) for s in vocabulary.SEVERITIES]
    assert ranks == sorted(ranks, reverse=True)
    assert vocabulary.severity_at_least("critical", "high")
    assert vocabulary.severity_at_least("high", "high")
    assert not vocabulary.severity_at_least("medium", "high")
    assert vocabulary.severity_at_least("info", "info")


@pytest.mark.parametrize("provider", sorted(SCAN_MAPS))
def test_scan_status_mapping(provider):
    for vendor_word, normalized in SCAN_MAPS[provider].items():
        assert vocab(provider).scan_status(vendor_word) == normalized, vendor_word


def test_terminal_kolega_batch_statuses():
    for word in ("completed", "succeeded", "failed", "partial_failure", "cancelled"):
        assert vocabulary.is_terminal(vocab("kolega").scan_status(word))
    assert not vocabulary.is_terminal(vocab("kolega").scan_status("creating_scans"))


def test_unknown_scan_status_keeps_polling():
    assert vocab("agilesec").scan_status("warming_up") == "running"
    assert vocab("agilesec").scan_status(None) == "running"


@pytest.mark.parametrize("provider", sorted(FINDING_MAPS))
def test_finding_status_both_ways(provider):
    words = vocab(provider)
    for normalized, vendor_word in FINDING_MAPS[provider].items():
        assert words.finding_status_to_vendor(normalized) == vendor_word
        assert words.finding_status_to_vendor(vendor_word) == vendor_word
        assert words.finding_status_to_vendor(vendor_word.swapcase()) == vendor_word
        assert words.finding_status_to_vendor(normalized.upper()) == vendor_word
        assert words.finding_status_from_vendor(vendor_word) == normalized
        assert words.normalize_finding_status(vendor_word) == normalized


@pytest.mark.parametrize("provider", sorted(FINDING_MAPS))
def test_unsupported_finding_status_names_the_allowed_ones(provider):
    words = vocab(provider)
    with pytest.raises(VocabularyError) as info:
        words.finding_status_to_vendor("quarantined")
    message = str(info.value)
    assert "quarantined" in message and provider in message
    for vendor_word in FINDING_MAPS[provider].values():
        assert vendor_word in message


def test_a_normalized_word_the_vendor_lacks_is_refused():
    with pytest.raises(VocabularyError) as info:
        vocab("cloudgeni").finding_status_to_vendor("false_positive")
    assert "suppressed" in str(info.value)
    with pytest.raises(VocabularyError):
        vocab("harborguard").finding_status_to_vendor("needs_manual_review")


def test_agilesec_has_no_settable_finding_status():
    with pytest.raises(VocabularyError) as info:
        vocab("agilesec").finding_status_to_vendor("open")
    assert "agilesec" in str(info.value)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_severities_are_case_insensitive_with_info_fallback(provider):
    words = vocab(provider)
    assert words.severity("CRITICAL") == "critical"
    assert words.severity("High") == "high"
    assert words.severity("negligible") == "info"
    assert words.severity("UNKNOWN") == "info"
    assert words.severity(None) == "info"
    assert words.severity("moderate") == "medium"
