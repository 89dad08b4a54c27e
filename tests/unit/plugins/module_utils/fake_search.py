# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for the AgileSec Search API (unit tests only).

It answers ``_resolve/index`` and pages ``_search`` by ``search_after`` over documents sorted by
``(_index, _id)``, and records every request. It ignores the query on purpose: the query builder
has its own table of tests, and a server that filters nothing shows that the module applies every
filter again on its side.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import fnmatch
import json

import httpx

SEARCH_USER = "crypto-reader"
SEARCH_PASSWORD = "s3arch-pa55-9f2c1e7b"
ORG_INDEX = "agilesec.acme_example.v3.event-%s"


def crypto_doc(position, subtype="key", priority="high", rule="weak-rsa-key-size", details=None, sensor_id="sen_1",
               sensor_name="payments-git", execution_id="exe_1", labels=None, file_path="deploy/tls/server.key"):
    """A search hit in the documented v3.5 layout with the fields the collection assumes below it."""
    source = {
        "@timestamp": "2026-01-02T03:04:05Z",
        "first_found": "2025-12-01T00:00:00Z",
        "version": "3.5.0",
        "object": {"type": subtype, "name": "item %d" % position, "summary": "finding %d" % position},
        "observation": {
            "sensor": {"id": sensor_id, "name": sensor_name, "type": "GIT Sensor", "execution_id": execution_id},
            "source": {"type": "git", "name": "payments", "url": "https://git.acme.example/payments.git", "host": "git.acme.example"},
            "file": {"path": file_path, "name": file_path.rsplit("/", 1)[-1], "line": position + 1},
        },
        "crypto": {subtype: dict(details if details is not None else {"algorithm": "RSA", "size": 1024, "type": "private"})},
        "analysis": {"priority": priority, "policy": {"name": "Default", "rule": rule, "result": "violation"}},
    }
    if priority is None:
        del source["analysis"]
    if labels is not None:
        source["labels"] = labels
    return {"_index": ORG_INDEX % subtype, "_id": "doc%05d" % position, "_score": None, "_source": source}


class FakeSearch(object):
    """``httpx.MockTransport`` handler for ``<base>/searchdb``; other paths go to ``fallback``."""

    def __init__(self, hits=(), indexes=None, fallback=None, answers=None):
        self.hits = sorted(hits, key=lambda hit: (hit["_index"], hit["_id"]))
        self.indexes = list(indexes) if indexes is not None else [ORG_INDEX % kind for kind in ("key", "x509", "algorithm")]
        self.fallback = fallback
        # Scripted answers (httpx.Response) for the next search requests, before the real ones.
        self.answers = list(answers or [])
        self.requests = []

    def searches(self):
        return [r for r in self.requests if r.url.path.endswith("/_search")]

    def bodies(self):
        return [json.loads(r.content) for r in self.searches()]

    def __call__(self, request):
        path = request.url.path
        if "/searchdb" not in path:
            if self.fallback is None:
                return httpx.Response(404, json={"status": "failed", "message": "Not found."})
            return self.fallback(request)
        self.requests.append(request)
        if self.answers:
            return self.answers.pop(0)
        if "/_resolve/index/" in path:
            expression = path.rsplit("/_resolve/index/", 1)[1]
            names = [name for name in self.indexes if any(fnmatch.fnmatchcase(name, part) for part in expression.split(","))]
            return httpx.Response(200, json={"indices": [{"name": n, "attributes": ["open"]} for n in names],
                                             "aliases": [], "data_streams": []})
        body = json.loads(request.content)
        start = 0
        if body.get("search_after") is not None:
            after = tuple(body["search_after"])
            start = next((i for i, hit in enumerate(self.hits) if (hit["_index"], hit["_id"]) > after), len(self.hits))
        page = [dict(hit, sort=[hit["_index"], hit["_id"]]) for hit in self.hits[start:start + body.get("size", 10)]]
        return httpx.Response(200, json={"took": 1, "timed_out": False, "hits": {
            "total": {"value": min(len(self.hits), 10000), "relation": "gte" if len(self.hits) > 10000 else "eq"},
            "max_score": None, "hits": page}})
