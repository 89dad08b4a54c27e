# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every pagination style walks every page with the vendor's largest page size."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import httpx

from ansible_collections.scanops.security.plugins.module_utils import pagination


def items(start, stop):
    return [{"id": "i%d" % n} for n in range(start, stop)]


def qp(request, name):
    return int(request.url.params[name])


def test_offset_limit_uses_total(make_client):
    def answer(request):
        offset, limit = qp(request, "offset"), qp(request, "limit")
        return httpx.Response(200, json={"data": items(offset, min(offset + limit, 250)),
                                         "pagination": {"total": 250, "limit": limit, "offset": offset}})

    client, rec = make_client(answer)
    got = list(pagination.iter_offset_limit(client, "/repos", {"provider": "github"}))
    assert [i["id"] for i in got] == ["i%d" % n for n in range(250)]
    assert [qp(r, "offset") for r in rec.requests] == [0, 100, 200]
    assert all(qp(r, "limit") == 100 and r.url.params["provider"] == "github" for r in rec.requests)


def test_skip_limit_follows_has_next(make_client):
    def answer(request):
        skip, limit = qp(request, "skip"), qp(request, "limit")
        page = items(skip, min(skip + limit, 450))
        return httpx.Response(200, json={"items": page, "total": 450, "limit": limit, "skip": skip,
                                         "has_next": skip + len(page) < 450})

    client, rec = make_client(answer)
    got = list(pagination.iter_skip_limit(client, "/findings"))
    assert len(got) == 450 and got[-1]["id"] == "i449"
    assert [qp(r, "skip") for r in rec.requests] == [0, 200, 400]
    assert all(qp(r, "limit") == 200 for r in rec.requests)


def test_page_has_next(make_client):
    def answer(request):
        page, limit = qp(request, "page"), qp(request, "limit")
        start = (page - 1) * limit
        data = items(start, min(start + limit, 401))
        meta = {"page": page, "pageSize": limit, "total": 401, "totalPages": 3, "hasNext": page < 3, "hasPrev": page > 1}
        return httpx.Response(200, json={"data": data, "meta": meta})

    client, rec = make_client(answer)
    got = list(pagination.iter_page_has_next(client, "/api/scans", {"status": "COMPLETE"}))
    assert len(got) == 401
    assert [qp(r, "page") for r in rec.requests] == [1, 2, 3]
    assert all(qp(r, "limit") == 200 for r in rec.requests)


def test_page_size_total(make_client):
    def answer(request):
        page, size = qp(request, "page"), qp(request, "pageSize")
        start = (page - 1) * size
        return httpx.Response(200, json={"data": items(start, min(start + size, 230)), "page": page,
                                         "pageSize": size, "total": 230})

    client, rec = make_client(answer)
    got = list(pagination.iter_page_size_total(client, "/v3/sensors"))
    assert len(got) == 230
    assert [qp(r, "page") for r in rec.requests] == [1, 2, 3]
    assert all(qp(r, "pageSize") == 100 for r in rec.requests)


def test_capped_list_is_one_call(make_client):
    client, rec = make_client([httpx.Response(200, json={"data": items(0, 100)})])
    got = list(pagination.iter_capped_list(client, "/api/v2/cloud-posture-runs", cap=100))
    assert len(got) == 100
    assert len(rec.requests) == 1


def test_capped_list_trims_to_the_cap(make_client):
    client, _rec = make_client([httpx.Response(200, json={"data": items(0, 250)})])
    assert len(list(pagination.iter_capped_list(client, "/api/v2/findings", cap=200))) == 200


def test_walk_stops_on_an_empty_page_even_if_the_server_says_more(make_client):
    client, rec = make_client(lambda request: httpx.Response(200, json={"items": [], "has_next": True}))
    assert list(pagination.iter_skip_limit(client, "/x")) == []
    assert len(rec.requests) == 1


def test_offset_walk_without_total_stops_after_first_page(make_client):
    client, rec = make_client(lambda request: httpx.Response(200, json={"data": items(0, 3)}))
    assert len(list(pagination.iter_offset_limit(client, "/x"))) == 3
    assert len(rec.requests) == 1
