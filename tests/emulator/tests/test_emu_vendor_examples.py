# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vendor pages' own curl examples, run with curl against the emulator.

Commands are read from the pages in vendor-docs and run unchanged except for the base URL, the
credential and the documented placeholders (``<uuid>``, the ``string`` scan id). Each answer
is compared with the example response printed after the command on the same page.
"""

import json
import os
import shutil
import subprocess

import pytest

from emu_helpers import (CLOUDGENI, HARBORGUARD_KEY, PENAXTRA_AWS, PENAXTRA_TOKEN, assert_shape, curl_examples, json_after,
                         page_text)

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def run_shell(command, env):
    completed = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=dict(os.environ, **env), timeout=60, check=False)
    return completed


def last_request(admin):
    items = admin.requests()["items"]
    return [item for item in items if item["vendor"] != "admin"][-1]


def test_cloudgeni_curl_examples(emulator_url, admin):
    text = page_text("cloudgeni-scanning-api.txt")
    examples = [(command, start, end) for command, start, end in curl_examples(text) if "$ORG_ID" not in command]
    assert len(examples) == 5
    env = {"CLOUDGENI_API_KEY": CLOUDGENI["X-CLOUDGENI-API-KEY"]}
    seen = {}
    for number, (command, _start, end) in enumerate(examples):
        next_start = examples[number + 1][1] if number + 1 < len(examples) else None
        following = text[end:next_start]
        example = json_after(following, following.find("Example Response:")) if "Example Response:" in following.split("Example Request:")[0] else None
        local = command.replace("https://api.cloudgeni.ai", emulator_url + "/cloudgeni")
        completed = run_shell(local, env)
        assert completed.returncode == 0, completed.stderr
        request = last_request(admin)
        body = json.loads(completed.stdout)
        seen[request["method"] + " " + request["route"].split("/api/v1")[1]] = (request["status"], body)
        if example is not None:
            assert_shape(example, body)
    status, listing = seen["GET /organizations/{org_id}/repositories"]
    assert status == 200 and len(listing["data"]) == 10 and listing["pagination"] == {"total": 25, "limit": 10, "offset": 0}
    assert listing["data"][0]["id"] == "repo_abc123" and listing["data"][0]["fullName"] == "myorg/infrastructure"
    status, scan = seen["POST /organizations/{org_id}/repositories/{repo_id}/scans"]
    assert status == 201 and scan["status"] == "queued" and scan["branch"] == "main" and scan["type"] == "static"
    status, detail = seen["GET /organizations/{org_id}/repositories/{repo_id}/scans/{scan_id}"]
    assert status == 200 and detail["status"] == "completed"
    assert detail["summary"] == {"total": 15, "critical": 0, "high": 2, "medium": 5, "low": 8, "info": 0}
    status, history = seen["GET /organizations/{org_id}/repositories/{repo_id}/scans"]
    assert status == 200 and [item["id"] for item in history["data"]] == ["scan_xyz"]
    status, findings = seen["GET /organizations/{org_id}/repositories/{repo_id}/scans/{scan_id}/findings"]
    assert status == 200 and findings["pagination"]["total"] == 2
    assert {item["severity"] for item in findings["data"]} == {"high"}


def critical_script(emulator_url):
    text = page_text("cloudgeni-scanning-api.txt")
    start = text.index("#!/bin/bash")
    script = text[start:text.index("exit 0", start) + len("exit 0")]
    return script.replace("https://api.cloudgeni.ai", emulator_url + "/cloudgeni")


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (apt-get install -y jq)")
@pytest.mark.parametrize("finding_count,exit_code,message", [(0, 0, "No critical findings"), (400, 1, "Critical findings detected!")])
def test_cloudgeni_check_for_critical_findings_script(emulator_url, admin, finding_count, exit_code, message):
    admin.scope("cloudgeni", "repo_abc123", queued_seconds=0, running_seconds=0, finding_count=finding_count)
    env = {"CLOUDGENI_API_KEY": CLOUDGENI["X-CLOUDGENI-API-KEY"], "ORG_ID": "org_123", "REPO_ID": "repo_abc123"}
    completed = run_shell(critical_script(emulator_url), env)
    assert completed.returncode == exit_code, completed.stdout + completed.stderr
    assert completed.stdout.splitlines()[0].startswith("Scan started: scan_")
    assert completed.stdout.splitlines()[-1] == message


def test_harborguard_curl_examples(emulator_url, admin):
    admin_key = admin.seed("harborguard", "api_key", role="admin", name="org admin key")["key"]
    text = page_text("harborguard-scans-api.txt")
    examples = curl_examples(text)
    assert len(examples) == 6
    answers = []
    for number, (command, _start, end) in enumerate(examples):
        next_start = examples[number + 1][1] if number + 1 < len(examples) else None
        example = json_after(text, end, next_start)
        key = HARBORGUARD_KEY
        if "/upload" in command:
            key = "hg_ak_0b9a8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f"
        elif command.startswith("curl -X DELETE"):
            key = admin_key
        local = command.replace("https://harborguard.co", emulator_url + "/harborguard").replace("<token>", key)
        local = local.replace("/api/scans/string", "/api/scans/scn-3kp9q1")
        # "string" is the page generator's placeholder; the page lists the sortable fields.
        local = local.replace("sort=string", "sort=scannedAt:desc")
        completed = run_shell(local, {})
        assert completed.returncode == 0, completed.stderr
        request = last_request(admin)
        body = json.loads(completed.stdout)
        answers.append((request["method"], request["route"], request["status"], body))
        if example is not None and "/upload" not in command:
            assert_shape(example, body)
    statuses = [(method, route.replace("/harborguard", ""), status) for method, route, status, _body in answers]
    assert statuses == [("GET", "/api/scans", 200), ("POST", "/api/scans", 202), ("GET", "/api/scans/{scan_id}", 200),
                        ("GET", "/api/scans/{scan_id}/status", 200), ("DELETE", "/api/scans/{scan_id}", 200),
                        ("POST", "/api/scans/upload", 200)]
    assert answers[1][3]["status"] == "QUEUED" and answers[1][3]["message"] == "Scan queued for execution"
    detail = answers[2][3]["data"]
    assert detail["image"] == {"name": "ghcr.io/acme/api", "tag": "1.4.7", "digest": detail["image"]["digest"]}
    assert detail["compliance"] == "B" and detail["riskScore"] == 47 and detail["duration"] == 38211


def test_penaxtra_curl_examples(emulator_url, admin):
    text = page_text("penaxtra-cloud-posture-runs-api.txt")
    examples = curl_examples(text)
    assert len(examples) == 2
    results = []
    for number, (command, _start, end) in enumerate(examples):
        next_start = examples[number + 1][1] if number + 1 < len(examples) else None
        example = json_after(text, end, next_start)
        local = command.replace("https://penaxtra.com", emulator_url + "/penaxtra").replace("<uuid>", PENAXTRA_AWS)
        completed = run_shell(local, {"TOKEN": PENAXTRA_TOKEN})
        assert completed.returncode == 0, completed.stderr
        body = json.loads(completed.stdout)
        assert_shape(example, body)
        results.append((last_request(admin)["status"], body))
    assert results[0][0] == 200 and len(results[0][1]["data"]) == 9
    assert results[1][0] == 202
    assert results[1][1] == {"accepted": True, "integration_id": PENAXTRA_AWS, "trigger": "manual", "poll": "/api/v2/cloud-posture-runs"}
