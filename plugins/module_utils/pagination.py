# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Walkers for the five list styles. Each yields items and fetches every page, asking for the
largest page the vendor allows so a listing takes as few calls as possible."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

# Stop a walk whose server keeps answering "more" without end.
MAX_PAGES = 10000


def _with(params, **extra):
    merged = dict(params or {})
    merged.update(extra)
    return merged


def _items(body, key):
    if not isinstance(body, dict):
        return []
    items = body.get(key)
    return items if isinstance(items, list) else []


def iter_offset_limit(client, path, params=None, limit=100, rate_class=None, pages=None):
    """CloudGeni: ``offset``/``limit`` (1-100); body ``{data: [...], pagination: {total, limit, offset}}``.

    ``pages`` stops the walk after that many pages (the first page of a newest-first list).
    """
    offset = 0
    for _page in range(pages or MAX_PAGES):
        body = client.request("GET", path, params=_with(params, limit=limit, offset=offset), rate_class=rate_class)
        items = _items(body, "data")
        yield from items
        total = (body.get("pagination") or {}).get("total") if isinstance(body, dict) else None
        offset += len(items)
        if not items or total is None or offset >= int(total):
            return


def iter_skip_limit(client, path, params=None, limit=200, rate_class=None, pages=None):
    """Kolega: ``skip``/``limit`` (1-200); body ``{items, total, limit, skip, has_next}``.

    ``pages`` stops the walk after that many pages (the first page of a newest-first list).
    """
    skip = 0
    for _page in range(pages or MAX_PAGES):
        body = client.request("GET", path, params=_with(params, limit=limit, skip=skip), rate_class=rate_class)
        items = _items(body, "items")
        yield from items
        skip += len(items)
        if not items or not body.get("has_next"):
            return


def iter_page_has_next(client, path, params=None, limit=200, rate_class=None):
    """HarborGuard: 1-based ``page``/``limit`` (1-200); body ``{data, meta: {hasNext, ...}}``."""
    page = 1
    for _page in range(MAX_PAGES):
        body = client.request("GET", path, params=_with(params, page=page, limit=limit), rate_class=rate_class)
        items = _items(body, "data")
        yield from items
        if not items or not (body.get("meta") or {}).get("hasNext"):
            return
        page += 1


def iter_page_size_total(client, path, params=None, page_size=100, rate_class=None):
    """AgileSec (assumed): 1-based ``page``/``pageSize`` (1-100); body ``{data, page, pageSize, total}``."""
    page = 1
    seen = 0
    for _page in range(MAX_PAGES):
        body = client.request("GET", path, params=_with(params, page=page, pageSize=page_size), rate_class=rate_class)
        items = _items(body, "data")
        yield from items
        seen += len(items)
        total = body.get("total") if isinstance(body, dict) else None
        if not items or total is None or seen >= int(total):
            return
        page += 1


def iter_capped_list(client, path, params=None, cap=None, rate_class=None):
    """Penaxtra: one call, newest first, the server caps the rows (100 runs, 200 findings)."""
    body = client.request("GET", path, params=params, rate_class=rate_class)
    items = _items(body, "data") if isinstance(body, dict) else (body if isinstance(body, list) else [])
    yield from (items[:cap] if cap else items)
