# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Error types shared by every scanops.security module.

``ScanopsApiError`` carries what a vendor said about a failed call (HTTP status, vendor error
code, vendor message) plus the method and path of the request.  It never carries request
headers, query strings or credentials: the client redacts known secrets from the vendor message
before building it, because some services echo what they were sent.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

REDACTED = "********"


def redact(text, secrets):
    """Return ``text`` with every non-empty value of ``secrets`` replaced by ``********``."""
    if text is None:
        return None
    text = str(text)
    # Longest first so a secret that contains another one is removed whole.
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


class ScanopsError(Exception):
    """Base class of every error this collection raises on purpose."""

    def __init__(self, message):
        super(ScanopsError, self).__init__(message)
        self.message = message

    def describe(self, action, resource=None):
        """Render ``"<action> <resource>: <message>"``."""
        subject = action if not resource else "%s %s" % (action, resource)
        return "%s: %s" % (subject, self.message)

    def to_dict(self):
        """A JSON-safe summary for module results."""
        return {"message": self.message}


class VocabularyError(ScanopsError, ValueError):
    """A word (status, severity) the provider does not know; the message lists those it does."""


class ScanopsApiError(ScanopsError):
    """A call to a vendor API failed.

    Attributes:
        provider: provider id (``cloudgeni`` ...).
        status: HTTP status code, or None when no response arrived.
        code: the vendor's error code (``not_found``, ``RATE_LIMITED`` ...) or None.
        message: the vendor's message (already redacted).
        method, path: the request that failed (path only, no query string).
        retry_after: seconds the vendor asked us to wait, if it said so.
        details: the vendor's structured details (e.g. CloudGeni ``existingScanId``), redacted.
        may_have_acted: True when the request reached the server and its effect is unknown
            (a create POST that timed out or got a 5xx). Modules look for what the request may
            have created instead of sending it again.
        note: extra explanation added by the client (e.g. when a retry would be allowed).
    """

    def __init__(self, message, provider=None, status=None, code=None, method=None, path=None,
                 retry_after=None, details=None, may_have_acted=False, note=None):
        super(ScanopsApiError, self).__init__(message)
        self.provider = provider
        self.status = status
        self.code = code
        self.method = method
        self.path = path
        self.retry_after = retry_after
        self.details = details
        self.may_have_acted = may_have_acted
        self.note = note

    def __str__(self):
        return self.describe("%s %s" % (self.method or "request", self.path or "")).strip()

    def status_suffix(self):
        """``"(HTTP 404 not_found)"``, ``"(HTTP 500)"``, ``"(ReadTimeout)"`` or ``""``."""
        parts = []
        if self.status is not None:
            parts.append("HTTP %s" % self.status)
        if self.code:
            parts.append(str(self.code))
        return "(%s)" % " ".join(parts) if parts else ""

    def describe(self, action, resource=None):
        """Render ``"<action> <resource>: <vendor message> (HTTP <code> <vendor code>)"``."""
        text = super(ScanopsApiError, self).describe(action, resource)
        suffix = self.status_suffix()
        if suffix:
            text = "%s %s" % (text, suffix)
        if self.note:
            text = "%s; %s" % (text, self.note)
        return text

    def to_dict(self):
        return {
            "provider": self.provider,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "method": self.method,
            "path": self.path,
            "retry_after": self.retry_after,
            "details": self.details,
            "may_have_acted": self.may_have_acted,
        }


class ScanopsTransportError(ScanopsApiError):
    """No usable HTTP response: connection refused or dropped, or a timeout.

    ``may_have_acted`` is False only when the request certainly never left this host (the
    connection could not be opened); after a read timeout or a dropped connection it is True.
    ``code`` holds the kind of failure (``ConnectError``, ``ReadTimeout`` ...).
    """


class ScanopsTlsError(ScanopsTransportError):
    """The API's TLS certificate could not be verified; permanent, so never retried."""
