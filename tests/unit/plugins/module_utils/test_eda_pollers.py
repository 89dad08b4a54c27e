# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The polling event sources: checkpoint file, Kolega finding-event feed, finished-scan watch and
the asyncio loop (order, once-only emission, resume after a crash, backoff, feedback)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import asyncio
import json
import logging
import os
from urllib.parse import parse_qs

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils import eda_pollers as pollers
from ansible_collections.scanops.security.plugins.module_utils.eda_events import epoch, utc_now_iso

T0 = 1780000000.0


def iso(seconds):
    return utc_now_iso(T0 + seconds)


class KolegaFeed(object):
    """``GET /api/v1/finding-events`` as documented: newest first, skip/limit pages, filters."""

    def __init__(self):
        self.events = []  # in the order they happened
        self.queries = []
        self.fail_next = 0

    def add(self, at, event_type="created", **fields):
        event = {"id": "evt-%03d" % (len(self.events) + 1), "organization_id": "org", "repository_id": "repo-1",
                 "finding_id": "fnd-%d" % len(self.events), "scan_id": "batch-1", "scan_type": "secrets_scan",
                 "event_type": event_type, "previous_status": None, "new_status": "open", "severity": "high",
                 "check_id": "aws-key", "file_path": "a.py", "actor_user_id": None, "metadata": {},
                 "event_timestamp": iso(at), "created_at": iso(at)}
        event.update(fields)
        self.events.append(event)
        return event

    def __call__(self, request):
        assert request.url.path == "/api/v1/finding-events"
        query = dict((k, v[0]) for k, v in parse_qs(request.url.query.decode()).items())
        self.queries.append(query)
        if self.fail_next:
            self.fail_next -= 1
            return httpx.Response(500, json={"detail": {"detail": "boom", "error_code": "INTERNAL"}})
        selected = [e for e in reversed(self.events)
                    if ("start" not in query or epoch(e["event_timestamp"]) >= epoch(query["start"]))
                    and all(e.get(k) == query[k] for k in ("repository_id", "event_type", "severity") if k in query)]
        skip, limit = int(query.get("skip", 0)), int(query.get("limit", 100))
        page = selected[skip:skip + limit]
        return httpx.Response(200, json={"items": page, "total": len(selected), "limit": limit, "skip": skip,
                                         "has_next": skip + len(page) < len(selected)})


@pytest.fixture
def feed(make_adapter):
    fake = KolegaFeed()
    adapter, _recorder = make_adapter("kolega", fake)
    fake.adapter = adapter
    return fake


class Clock(object):
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


def ids(batch):
    return [event["scanops"]["event_id"] for event, _state in batch]


def drain(poller, state):
    """Poll once, 'commit' every event; answers (ids, state)."""
    batch = poller.poll(state)
    return ids(batch), (batch[-1][1] if batch else state)


# -- checkpoint --------------------------------------------------------------------------------------------
def test_checkpoint_round_trip_and_atomic_replacement(tmp_path):
    path = str(tmp_path / "sub" / "ck.json")
    checkpoint = pollers.Checkpoint(path, {"source": "x"})
    assert checkpoint.load() is None
    checkpoint.save({"n": 1})
    checkpoint.stage({"n": 2})
    # Staged but not committed (a kill -9 here): the file still holds the previous state.
    assert pollers.Checkpoint(path, {"source": "x"}).load() == {"n": 1}
    checkpoint.commit()
    assert pollers.Checkpoint(path, {"source": "x"}).load() == {"n": 2}
    assert os.listdir(os.path.dirname(path)) == ["ck.json"]
    checkpoint.stage({"n": 3})
    checkpoint.discard()
    assert os.listdir(os.path.dirname(path)) == ["ck.json"]
    with open(path, encoding="utf-8") as handle:
        assert json.load(handle)["identity"] == {"source": "x"}


def test_checkpoint_of_another_feed_or_corrupt_is_refused(tmp_path):
    path = str(tmp_path / "ck.json")
    pollers.Checkpoint(path, {"source": "x", "filters": {}}).save({})
    with pytest.raises(pollers.CheckpointError, match="belongs to another feed"):
        pollers.Checkpoint(path, {"source": "x", "filters": {"severity": "high"}}).load()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"version": 1, "identity"')
    with pytest.raises(pollers.CheckpointError, match="cannot read the checkpoint file"):
        pollers.Checkpoint(path, {"source": "x"}).load()


@pytest.mark.parametrize("value, expected", [("now", "now"), ("OLDEST", "oldest"), ("1970-01-01T00:01:40Z", 100.0)])
def test_start_from_values(value, expected):
    assert pollers.parse_start_from(value) == expected


def test_start_from_rejects_other_words():
    with pytest.raises(pollers.ScanopsError, match="start_from must be now, oldest or an ISO-8601 time"):
        pollers.parse_start_from("yesterday")


# -- finding-event feed ---------------------------------------------------------------------------------------
def test_feed_from_now_skips_what_existed_and_emits_new_events_once_in_order(feed):
    feed.add(-50)
    feed.add(-10)
    clock = Clock()
    poller = pollers.FindingEventFeed(feed.adapter, lookback=300, clock=clock)
    state = poller.initial_state()
    assert drain(poller, state)[0] == []
    feed.add(5)
    feed.add(6)
    feed.add(6)  # same second: the feed's order decides
    emitted, state = drain(poller, state)
    assert emitted == ["evt-003", "evt-004", "evt-005"]
    assert drain(poller, state)[0] == []
    # Every poll asks only for the window since the newest event minus the lookback.
    assert feed.queries[-1]["start"] == iso(6 - 300)


def test_feed_emits_a_late_event_with_an_earlier_time_once(feed):
    poller = pollers.FindingEventFeed(feed.adapter, lookback=60, start_from="oldest")
    feed.add(10)
    feed.add(20)
    emitted, state = drain(poller, {"watermark": None, "floor": None, "recent": {}})
    assert emitted == ["evt-001", "evt-002"]
    feed.add(15)  # shows up after evt-002 but happened before it
    emitted, state = drain(poller, state)
    assert emitted == ["evt-003"]
    assert drain(poller, state)[0] == []
    # Ids older than the window are dropped from the checkpoint: it stays bounded.
    feed.add(200)
    _emitted, state = drain(poller, state)
    assert sorted(state["recent"]) == ["evt-004"]


def test_feed_start_from_a_time_and_filters(feed):
    feed.add(0)
    feed.add(100, severity="critical")
    feed.add(100, severity="high")
    poller = pollers.FindingEventFeed(feed.adapter, filters={"severity": "critical", "scan_type": None},
                                      start_from=iso(50))
    emitted, _state = drain(poller, poller.initial_state())
    assert emitted == ["evt-002"]
    assert feed.queries[-1]["severity"] == "critical" and "scan_type" not in feed.queries[-1]
    assert poller.identity()["filters"] == {"severity": "critical"}


def test_feed_walks_every_page_and_drops_repeats_across_pages(feed):
    for second in range(450):
        feed.add(second)
    poller = pollers.FindingEventFeed(feed.adapter, start_from="oldest")
    emitted, _state = drain(poller, {"watermark": None, "floor": None, "recent": {}})
    assert emitted == ["evt-%03d" % n for n in range(1, 451)]
    assert [int(q["skip"]) for q in feed.queries] == [0, 200, 400]


def test_feed_event_shape(feed):
    feed.add(1, event_type="status_changed", previous_status="open", new_status="false_positive")
    poller = pollers.FindingEventFeed(feed.adapter, start_from="oldest")
    (event, _state), = poller.poll({"watermark": None, "floor": None, "recent": {}})
    assert event["scanops"]["event_type"] == "finding_status_changed"
    assert event["scanops"]["new_status"] == "false_positive"
    assert event["scanops"]["severity"] == "high"
    assert event["payload"] == feed.events[0]
    assert event["meta"]["uuid"]


# -- run_poller -----------------------------------------------------------------------------------------------
class RecordingQueue(asyncio.Queue):
    """A consumer that takes each event at once (like ansible-rulebook's engine loop)."""

    def __init__(self, crash_on=None):
        super(RecordingQueue, self).__init__()
        self.received = []
        self.crash_on = crash_on

    async def put(self, item):
        if self.crash_on is not None and len(self.received) == self.crash_on:
            raise KeyboardInterrupt("killed")
        self.received.append(item)


def run(coroutine):
    return asyncio.run(coroutine)


def test_run_poller_resumes_after_a_crash_without_loss_or_repeat(feed, tmp_path):
    for second in range(5):
        feed.add(second)
    identity = {"source": "finding_events"}
    path = str(tmp_path / "ck.json")

    def poller():
        return pollers.FindingEventFeed(feed.adapter, start_from="oldest")

    first = RecordingQueue(crash_on=3)
    with pytest.raises(KeyboardInterrupt):
        run(pollers.run_poller(first, poller(), pollers.Checkpoint(path, identity), interval=0.01, max_polls=1))
    assert [e["scanops"]["event_id"] for e in first.received] == ["evt-001", "evt-002", "evt-003"]
    feed.add(10)
    second = RecordingQueue()
    run(pollers.run_poller(second, poller(), pollers.Checkpoint(path, identity), interval=0.01, max_polls=1))
    assert [e["scanops"]["event_id"] for e in second.received] == ["evt-004", "evt-005", "evt-006"]
    assert os.listdir(str(tmp_path)) == ["ck.json"]


def test_a_crash_between_hand_over_and_rename_repeats_that_one_event_with_its_uuid(feed, tmp_path, monkeypatch):
    for second in range(3):
        feed.add(second)
    identity = {"source": "finding_events"}
    path = str(tmp_path / "ck.json")
    commits = []
    real_commit = pollers.Checkpoint.commit

    def crashing_commit(self):
        if len(commits) == 2:
            raise KeyboardInterrupt("killed after the hand-over")
        commits.append(1)
        real_commit(self)

    monkeypatch.setattr(pollers.Checkpoint, "commit", crashing_commit)
    first = RecordingQueue()
    with pytest.raises(KeyboardInterrupt):
        run(pollers.run_poller(first, pollers.FindingEventFeed(feed.adapter, start_from="oldest"),
                               pollers.Checkpoint(path, identity), interval=0.01, max_polls=1))
    monkeypatch.setattr(pollers.Checkpoint, "commit", real_commit)
    second = RecordingQueue()
    run(pollers.run_poller(second, pollers.FindingEventFeed(feed.adapter, start_from="oldest"),
                           pollers.Checkpoint(path, identity), interval=0.01, max_polls=1))
    # The first run's checkpoint (state before evt-002 was staged) holds evt-001 only.
    assert [e["scanops"]["event_id"] for e in first.received] == ["evt-001", "evt-002"]
    assert [e["scanops"]["event_id"] for e in second.received] == ["evt-002", "evt-003"]
    assert second.received[0]["meta"]["uuid"] == first.received[1]["meta"]["uuid"]


def test_run_poller_backs_off_on_errors_then_continues(feed, tmp_path, caplog):
    feed.add(1)
    feed.fail_next = 100  # more than the client's retries
    sleeps = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay):
        sleeps.append(delay)
        if len(sleeps) == 2:
            feed.fail_next = 0
        await real_sleep(0)

    queue = RecordingQueue()
    poller = pollers.FindingEventFeed(feed.adapter, start_from="oldest")
    with caplog.at_level(logging.WARNING):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(pollers.asyncio, "sleep", fake_sleep)
            run(pollers.run_poller(queue, poller, pollers.Checkpoint(str(tmp_path / "ck.json"), {"s": 1}),
                                   interval=10, max_backoff=15, max_polls=3))
    assert [e["scanops"]["event_id"] for e in queue.received] == ["evt-001"]
    # Jittered and growing from the interval, capped by max_backoff.
    assert 5 <= sleeps[0] <= 10 and 7.5 <= sleeps[1] <= 15
    assert "poll failed" in caplog.text and "boom" in caplog.text and "HTTP 500" in caplog.text


def test_without_feedback_the_checkpoint_waits_until_the_engine_took_the_event(feed, tmp_path):
    feed.add(1)
    path = str(tmp_path / "ck.json")
    checkpoint = pollers.Checkpoint(path, {"s": 1})
    checkpoint.save({"watermark": None, "floor": None, "recent": {}})

    async def scenario():
        queue = asyncio.Queue(1)  # ansible-rulebook's source queue has one slot
        task = asyncio.ensure_future(pollers.run_poller(queue, pollers.FindingEventFeed(feed.adapter, start_from="oldest"),
                                                        checkpoint, interval=0.01, max_polls=1))
        await asyncio.sleep(0.2)
        before = checkpoint.load()
        event = await queue.get()
        await asyncio.wait_for(task, 5)
        return before, event, checkpoint.load()

    before, event, after = run(scenario())
    assert before["recent"] == {}
    assert event["scanops"]["event_id"] == "evt-001"
    assert list(after["recent"]) == ["evt-001"]


def test_with_feedback_the_checkpoint_waits_for_the_acknowledgement(feed, tmp_path):
    feed.add(1)
    checkpoint = pollers.Checkpoint(str(tmp_path / "ck.json"), {"s": 1})
    checkpoint.save({"watermark": None, "floor": None, "recent": {}})

    async def scenario():
        queue, feedback = RecordingQueue(), asyncio.Queue()
        task = asyncio.ensure_future(pollers.run_poller(queue, pollers.FindingEventFeed(feed.adapter, start_from="oldest"),
                                                        checkpoint, interval=0.01, feedback_queue=feedback, max_polls=1))
        await asyncio.sleep(0.2)
        before = checkpoint.load()
        await feedback.put(queue.received[0])
        await asyncio.wait_for(task, 5)
        return before, checkpoint.load()

    before, after = run(scenario())
    assert before["recent"] == {} and list(after["recent"]) == ["evt-001"]


def test_a_missing_acknowledgement_stops_the_source(feed, tmp_path):
    feed.add(1)
    checkpoint = pollers.Checkpoint(str(tmp_path / "ck.json"), {"s": 1})
    checkpoint.save({"watermark": None, "floor": None, "recent": {}})
    with pytest.raises(asyncio.TimeoutError):
        run(pollers.run_poller(RecordingQueue(), pollers.FindingEventFeed(feed.adapter, start_from="oldest"), checkpoint,
                               interval=0.01, feedback_queue=asyncio.Queue(), feedback_timeout=0.1, max_polls=1))
    assert checkpoint.load()["recent"] == {}


# -- finished-scan watch ----------------------------------------------------------------------------------------
def penaxtra_answers(runs, findings):
    def answer(request):
        if request.url.path == "/api/v2/cloud-posture-runs":
            return httpx.Response(200, json={"data": runs})
        if request.url.path == "/api/v2/findings":
            return httpx.Response(200, json={"data": findings})
        return httpx.Response(404, json={"error": "not_found"})
    return answer


def run_body(run_id, status, completed, trigger="manual", integration="int-1"):
    return {"id": run_id, "integration_id": integration, "trigger": trigger, "started_at": iso(completed - 30),
            "completed_at": iso(completed) if status != "running" else None, "status": status, "asset_count": 4,
            "finding_count": 2, "duration_ms": 30000}


def test_penaxtra_runs_emit_once_with_counts_and_skip_verify_and_running(make_adapter):
    runs = [run_body("r-old", "completed", -100)]
    findings = [{"id": "f1", "scan_id": "r-new", "severity": "critical"}, {"id": "f2", "scan_id": "r-new", "severity": "low"},
                {"id": "f3", "scan_id": "r-old", "severity": "high"}]
    adapter, recorder = make_adapter("penaxtra", penaxtra_answers(runs, findings))
    watch = pollers.FinishedScanWatch(adapter, clock=Clock())
    state = watch.initial_state()
    assert watch.poll(state) == []
    runs[:0] = [run_body("r-new", "completed", 10), run_body("r-verify", "completed", 11, trigger="verify"),
                run_body("r-running", "running", 12), run_body("r-failed", "failed", 5)]
    batch = watch.poll(state)
    assert [event["scanops"]["scan_id"] for event, _state in batch] == ["r-failed", "r-new"]
    failed, new = batch[0][0]["scanops"], batch[1][0]["scanops"]
    assert (failed["status"], failed["severity_counts"]) == ("failed", None)
    assert new["severity_counts"] == {"critical": 1, "high": 0, "medium": 0, "low": 1, "info": 0}
    assert new["scan_target"] == {"integration_id": "int-1"} and new["event_type"] == "scan_completed"
    assert batch[1][0]["payload"]["id"] == "r-new"
    assert watch.poll(batch[-1][1]) == []
    # One findings call, for the completed run only.
    assert sum(1 for r in recorder.requests if r.url.path == "/api/v2/findings") == 1


def test_harborguard_scans_get_their_image_and_counts_from_one_get(make_adapter):
    listed = [{"id": "scn-1", "tagId": "t", "status": "COMPLETE", "duration": 1000, "scannedAt": iso(1)},
              {"id": "scn-2", "tagId": "t", "status": "IN_PROGRESS", "duration": None, "scannedAt": iso(2)}]
    full = {"id": "scn-1", "image": {"name": "ghcr.io/acme/api", "tag": "1.4.7"}, "status": "COMPLETE", "scannedAt": iso(1),
            "duration": 1000, "vulnerabilities": [{"severity": "CRITICAL"}, {"severity": "HIGH"}]}

    def answer(request):
        if request.url.path == "/api/scans":
            return httpx.Response(200, json={"data": listed, "meta": {"hasNext": False}})
        return httpx.Response(200, json={"data": full})

    adapter, _recorder = make_adapter("harborguard", answer)
    watch = pollers.FinishedScanWatch(adapter, start_from="oldest")
    (event, _state), = watch.poll(watch.initial_state())
    assert event["scanops"]["target"] == "ghcr.io/acme/api:1.4.7"
    assert event["scanops"]["scan_target"] == {"image": "ghcr.io/acme/api:1.4.7"}
    assert event["scanops"]["severity_counts"]["critical"] == 1
    assert event["scanops"]["occurred_at"] == iso(1) and event["payload"] is not None


def test_cloudgeni_and_kolega_watch_every_repository_or_the_named_ones(make_adapter):
    def cloudgeni(request):
        path = request.url.path
        if path.endswith("/repositories"):
            return httpx.Response(200, json={"data": [{"id": "repo_a", "fullName": "acme/a"}, {"id": "repo_b", "fullName": "acme/b"}],
                                             "pagination": {"total": 2, "limit": 100, "offset": 0}})
        repo = path.split("/")[-2]
        scans = [{"id": "scan_%s" % repo, "repositoryId": repo, "branch": "main", "type": "full", "status": "completed",
                  "createdAt": iso(0), "completedAt": iso(3), "summary": {"critical": 2, "high": 1}}]
        return httpx.Response(200, json={"data": scans, "pagination": {"total": 1, "limit": 100, "offset": 0}})

    adapter, _recorder = make_adapter("cloudgeni", cloudgeni)
    batch = pollers.FinishedScanWatch(adapter, start_from="oldest").poll({"watermark": None, "floor": None, "recent": {}})
    by_id = dict((e["scanops"]["scan_id"], e["scanops"]) for e, _state in batch)
    assert sorted(by_id) == ["scan_repo_a", "scan_repo_b"]
    assert by_id["scan_repo_a"]["scan_target"] == {"repository": "repo_a", "branch": "main", "scan_type": "full"}
    assert by_id["scan_repo_a"]["target"] == "acme/a"
    assert by_id["scan_repo_a"]["severity_counts"]["critical"] == 2
    named = pollers.FinishedScanWatch(adapter, repositories=["acme/b"], start_from="oldest")
    assert [e["scanops"]["scan_id"] for e, _state in named.poll({"watermark": None, "floor": None, "recent": {}})] == ["scan_repo_b"]
    with pytest.raises(pollers.ScanopsError, match="'nope' matches 0 CloudGeni repositories"):
        pollers.FinishedScanWatch(adapter, repositories=["nope"], start_from="oldest").poll({"recent": {}})

    def kolega(request):
        path = request.url.path
        page = {"total": 1, "limit": 200, "skip": 0, "has_next": False}
        if path == "/api/v1/repositories":
            return httpx.Response(200, json=dict(page, items=[{"id": "k-1", "name": "payments"}]))
        if path.endswith("/results"):
            return httpx.Response(200, json={"batch_id": "b-1", "findings": [{"severity": "critical"}, {"severity": "medium"}]})
        return httpx.Response(200, json=dict(page, items=[{"batch_id": "b-1", "repository_id": "k-1", "scan_type": "secrets_scan",
                                                           "status": "completed", "created_at": iso(0), "completed_at": iso(2)}]))

    adapter, _recorder = make_adapter("kolega", kolega)
    (event, _state), = pollers.FinishedScanWatch(adapter, start_from="oldest").poll({"recent": {}})
    assert event["scanops"]["scan_target"] == {"repository": "k-1", "scan_type": "secrets_scan"}
    assert event["scanops"]["severity_counts"] == {"critical": 1, "high": 0, "medium": 1, "low": 0, "info": 0}


def test_agilesec_is_pointed_at_the_webhook(make_adapter):
    adapter, _recorder = make_adapter("agilesec", [])
    with pytest.raises(pollers.ScanopsError, match="use scan_webhook"):
        pollers.FinishedScanWatch(adapter)


def test_polling_source_refuses_bad_options_before_any_request(monkeypatch):
    for name in ("SCANOPS_API_KEY", "KOLEGA_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    spec = pollers.polling_argument_spec(("kolega",), interval=30, lookback=300)

    async def make(args):
        await pollers.run_polling_source(asyncio.Queue(), args, "finding_events", spec, None)

    with pytest.raises(pollers.ScanopsError) as caught:
        run(make({"api_key": "k", "interval": 0, "start_from": "later", "feedback": True}))
    message = caught.value.message
    assert "interval must be greater than 0" in message
    assert "start_from must be now, oldest" in message
    assert "feedback: true needs ansible-rulebook to pass a feedback queue" in message
    with pytest.raises(pollers.ScanopsError, match="no API key for kolega"):
        run(make({}))
