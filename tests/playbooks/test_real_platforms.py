# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each playbook runs on its own against platforms it knows only from a connections file or the
modules' environment variables, or stops at once naming the playbook to run first.

The platforms are the emulator behind a gateway path; no emulator variable is defined; $HOME is
not the passwd home (the background scans of post_deploy_scan must find their job files); the
reports land in scanops-reports of the directory the playbook runs from, never in the collection.
"""

import html
import json
import os
import re

from conftest import AGILESEC_SEARCH, COLLECTION_ROOT, PLATFORMS, Runner, collection_files, platform_environment, write_connections

RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def recap(output):
    found = RECAP.findall(output)
    assert found, output[-2000:]
    return tuple(int(number) for number in found[-1])


def check(returncode, output, name):
    assert returncode == 0, "%s failed (tests/output/playbooks/%s.log):\n%s" % (name, name, output[-3000:])
    assert "Traceback (most recent call last)" not in output
    leaked = [platform for platform, spec in PLATFORMS.items() if spec[3] in output]
    leaked += ["agilesec search"] if AGILESEC_SEARCH["AGILESEC_SEARCH_PASSWORD"] in output else []
    assert not leaked, "%s printed the credentials of %s" % (name, leaked)


def test_no_playbook_or_role_reads_an_emulator_variable():
    offenders = []
    for top in ("playbooks", "roles"):
        for parent, dirs, names in os.walk(os.path.join(COLLECTION_ROOT, top)):
            dirs[:] = [d for d in dirs if d != "molecule"]
            for name in names:
                path = os.path.join(parent, name)
                if os.path.relpath(path, COLLECTION_ROOT) in ("playbooks/vars/emulator.yml", "playbooks/run-demo.sh"):
                    continue
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
                if re.search(r"scanops_emulator_url|SCANOPS_EMULATOR_URL|_emulator/", text):
                    offenders.append(os.path.relpath(path, COLLECTION_ROOT))
    assert offenders == []


def test_playbooks_run_on_their_own_behind_another_base_url(gateway_url, admin, tmp_path):
    runner = Runner(str(tmp_path))
    connections = write_connections(str(tmp_path / "connections.yml"), gateway_url)
    before = collection_files()
    env = platform_environment(gateway_url)

    code, output = runner.run("platform_setup", "platform_setup.yml", ["-e", "@" + connections])
    check(code, output, "platform_setup")
    assert recap(output)[1] > 0
    sensors = admin.requests(vendor="agilesec", method="PUT")["items"]
    assert [entry["path"] for entry in sensors if "/v3/sensors/" in entry["path"]], "the sensor was not converged"

    # post_deploy_verify.yml runs as an AWX job in test_awx.py (connections from the credential
    # injectors' environment variables, $HOME not the passwd home): one run of it serves both.
    reports = os.path.join(runner.project, "scanops-reports")

    # No scan from this run: the exceptions apply to the newest completed CloudGeni scan.
    code, output = runner.run("triage", "triage.yml", ["-e", "@" + connections])
    check(code, output, "triage")
    assert os.path.isfile(os.path.join(reports, "exceptions.md"))

    # Connections from the modules' environment variables alone.
    code, output = runner.run("remediate", "remediate.yml", env_extra=env)
    check(code, output, "remediate")
    with open(os.path.join(reports, "remediation.md"), encoding="utf-8") as handle:
        assert re.search(r"https://github\.com/acme/web/pull/\d+", handle.read())

    after = collection_files()
    changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))
    assert changed == [], "the playbooks wrote into the collection: %s" % changed
    # Every request went through the gateway path (the emulator only answers below it).
    assert admin.requests(vendor="kolega")["total"] > 0 and admin.requests(vendor="penaxtra")["total"] > 0


def test_a_playbook_that_needs_another_first_stops_at_once_and_names_it(gateway_url, admin, tmp_path):
    runner = Runner(str(tmp_path))
    env = platform_environment(gateway_url)
    with _agilesec(gateway_url) as agilesec:
        sensor = agilesec.get("/v3/sensors", params={"name": "payments-git"}).json()["data"][0]
        assert agilesec.delete("/v3/sensors/" + sensor["sensorId"]).status_code == 200
    admin.clear_requests()

    code, output = runner.run("post_deploy_verify_alone", "post_deploy_verify.yml", env_extra=env)
    assert code != 0
    assert "AgileSec has no sensor named payments-git: run playbooks/platform_setup.yml first" in output
    started = [entry for entry in admin.requests(method="POST")["items"] if entry["vendor"] != "admin"]
    assert started == [], "scans were started before the play stopped: %s" % started

    code, output = runner.run("triage_alone", "triage.yml", ["-e", "triage_cloudgeni_repository=myorg/landing-zone"], env_extra=env)
    assert code != 0
    assert "CloudGeni has no completed scan of myorg/landing-zone: run playbooks/post_deploy_verify.yml first" in output
    written = [entry for entry in admin.requests()["items"] if entry["method"] in ("POST", "PUT", "PATCH", "DELETE") and entry["vendor"] != "admin"]
    assert written == []


def _agilesec(base_url):
    import httpx  # pylint: disable=import-outside-toplevel
    path, _url_variable, _key_variable, key = PLATFORMS["agilesec"]
    return httpx.Client(base_url=base_url + path, headers={"isg-api-token": key}, timeout=10.0)


def check_report(reports):
    """Each target's bar in index.html reads as a count and a verdict; a target with nothing counted says why."""
    with open(os.path.join(reports, "summary.json"), encoding="utf-8") as handle:
        summary = json.load(handle)
    with open(os.path.join(reports, "index.html"), encoding="utf-8") as handle:
        page = html.unescape(handle.read())
    labels = re.findall(r'<text x="[\d.]+" y="[\d.]+" font-size="13" fill="#(?:2b8a3e|c92a2a)">([^<]*)</text>', page)
    assert len(labels) == len(summary["targets"]), labels
    for target, label in zip(summary["targets"], labels):
        if target["counts_source"] == "none":
            assert label == "no counts, %s" % target["outcome"], label
            assert target["note"].startswith("no counts: ") and target["note"] in page
        else:
            counted = sum(target["gate_counts"].values())
            assert label == "%d finding%s, %s" % (counted, "" if counted == 1 else "s", target["outcome"]), label
            assert target["note"] is None
