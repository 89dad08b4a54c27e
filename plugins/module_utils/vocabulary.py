# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The normalized vocabulary every module speaks, and the per-vendor translation table type.

Scan statuses: queued, running, completed, failed, cancelled.
Severities: critical, high, medium, low, info (ranked for threshold comparisons).
Finding statuses: open, acknowledged, in_progress, resolved, ignored, false_positive,
needs_manual_review.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.scanops.security.plugins.module_utils.errors import VocabularyError

QUEUED = "queued"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
SCAN_STATUSES = (QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED)
TERMINAL = frozenset((COMPLETED, FAILED, CANCELLED))

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

FINDING_STATUSES = ("open", "acknowledged", "in_progress", "resolved", "ignored",
                    "false_positive", "needs_manual_review")

# Words vendors use for a severity that are not one of the five; anything else unknown is info.
_SEVERITY_ALIASES = {
    "moderate": "medium",
    "informational": "info",
    "information": "info",
    "negligible": "info",
    "unknown": "info",
    "none": "info",
}


def severity_rank(severity):
    """Rank of a normalized severity (info=0 ... critical=4); unknown words rank as info."""
    return SEVERITY_RANK.get(str(severity or "info").lower(), 0)


def severity_at_least(severity, threshold):
    """True when ``severity`` is as severe as ``threshold`` or more."""
    return severity_rank(severity) >= severity_rank(threshold)


def is_terminal(status):
    """True for completed, failed and cancelled."""
    return status in TERMINAL


def empty_counts():
    """A zeroed ``{critical, high, medium, low, info}`` dict."""
    return dict((sev, 0) for sev in SEVERITIES)


class Vocabulary(object):
    """Translation between one vendor's words and the normalized vocabulary.

    Args:
        provider: provider id, used in error messages.
        scan_statuses: vendor scan status (any case) -> normalized scan status.
        finding_statuses: normalized finding status -> the vendor's word (exact case to send).
        severities: extra vendor severity word (any case) -> normalized severity.
        unknown_scan_status: what an unlisted vendor scan status means. ``running`` keeps
            pollers waiting (until their own timeout) instead of guessing an outcome.
        severity_filter: normalized severity -> the one word the vendor's list filter takes for
            it (exact case to send). A severity left out has no single vendor word (several
            vendor words mean it, or none is known), so a filter on it can't be sent.
    """

    def __init__(self, provider, scan_statuses, finding_statuses, severities=None, unknown_scan_status=RUNNING,
                 severity_filter=None):
        self.provider = provider
        self._scan = dict((k.lower(), v) for k, v in scan_statuses.items())
        self._to_vendor = dict(finding_statuses)
        self._from_vendor = dict((v.lower(), k) for k, v in finding_statuses.items())
        self._severity = dict(_SEVERITY_ALIASES)
        self._severity.update(dict((k.lower(), v) for k, v in (severities or {}).items()))
        self._unknown_scan_status = unknown_scan_status
        self._severity_filter = dict(severity_filter or {})

    # scan statuses -------------------------------------------------------------------------
    def scan_status(self, vendor_status):
        """Normalized scan status for the vendor's word (case-insensitive)."""
        if vendor_status is None:
            return self._unknown_scan_status
        return self._scan.get(str(vendor_status).lower(), self._unknown_scan_status)

    def vendor_scan_statuses(self, normalized):
        """The vendor words that mean the normalized scan status (for list filters)."""
        return sorted(k for k, v in self._scan.items() if v == normalized)

    # severities ---------------------------------------------------------------------------
    def severity(self, vendor_severity):
        """Normalized severity; unknown or missing words map to info."""
        word = str(vendor_severity or "info").lower()
        if word in SEVERITY_RANK:
            return word
        return self._severity.get(word, "info")

    def vendor_severity(self, severity):
        """The vendor's filter word for a severity (normalized or that word itself, any case).

        None when the vendor has no single word for it: a filter on it must stay on our side.
        """
        key = str(severity or "").strip().lower()
        if key in self._severity_filter:
            return self._severity_filter[key]
        for word in self._severity_filter.values():
            if word.lower() == key:
                return word
        return None

    # finding statuses ---------------------------------------------------------------------
    @property
    def vendor_finding_statuses(self):
        """The vendor's finding status words, in normalized order."""
        return [self._to_vendor[s] for s in FINDING_STATUSES if s in self._to_vendor]

    @property
    def finding_statuses(self):
        """The normalized finding statuses this vendor supports."""
        return [s for s in FINDING_STATUSES if s in self._to_vendor]

    def finding_status_from_vendor(self, vendor_status):
        """Normalized finding status for a vendor word; an unlisted word comes back lower-cased."""
        if vendor_status is None:
            return None
        word = str(vendor_status)
        return self._from_vendor.get(word.lower(), word.lower())

    def finding_status_to_vendor(self, status):
        """The vendor's word for ``status``, given as a normalized word or the vendor's own.

        Raises:
            VocabularyError: naming the statuses this vendor supports.
        """
        word = str(status or "").strip()
        key = word.lower()
        if key in self._to_vendor:
            return self._to_vendor[key]
        if key in self._from_vendor:
            return self._to_vendor[self._from_vendor[key]]
        if not self._to_vendor:
            raise VocabularyError("%s findings have no status that can be set (finding status '%s')" % (self.provider, word))
        allowed = ", ".join("%s (%s)" % (n, self._to_vendor[n]) if self._to_vendor[n] != n else n
                            for n in self.finding_statuses)
        raise VocabularyError("finding status '%s' is not supported by %s; use one of: %s"
                              % (word, self.provider, allowed))

    def normalize_finding_status(self, status):
        """Normalized word for a user-given status (normalized or vendor word); validates it."""
        return self._from_vendor[self.finding_status_to_vendor(status).lower()]
