# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX / Automation Platform: post_deploy_verify.yml run by ansible-runner in a job's private data
directory, its connections injected by the collection's credential types, against the emulator
behind a gateway path, with no emulator variable and $HOME not the passwd home; and the execution
environment recipe of docs/execution-environment.md, checked with ansible-builder create.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys

import jinja2
import yaml

from conftest import AGILESEC_SEARCH, COLLECTION_ROOT, GATEWAY_PREFIX, OUTPUT_DIR, PLATFORMS
from test_real_platforms import check_report

CREDENTIAL_TYPES = os.path.join(COLLECTION_ROOT, "extensions", "awx", "credential_types")
BIN = os.path.dirname(sys.executable)


def credential_types():
    types = {}
    for path in sorted(glob.glob(os.path.join(CREDENTIAL_TYPES, "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            types[os.path.basename(path)[:-4]] = yaml.safe_load(handle)
    return types


def inject(definition, inputs):
    """What AWX puts in the job's environment for a credential of this type (its injector, rendered)."""
    fields = dict((field["id"], "") for field in definition["inputs"]["fields"])
    fields.update(inputs)
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return dict((name, environment.from_string(template).render(**fields)) for name, template in definition["injectors"]["env"].items())


def test_credential_types_cover_every_platform_and_inject_what_the_modules_read():
    types = credential_types()
    assert sorted(types) == sorted(PLATFORMS)
    for platform, definition in types.items():
        assert set(definition) == {"name", "description", "kind", "inputs", "injectors"}, platform
        assert definition["kind"] == "cloud" and set(definition["injectors"]) == {"env"}
        required = definition["inputs"]["required"]
        secrets = [field["id"] for field in definition["inputs"]["fields"] if field.get("secret") and field["id"] in required]
        # One required secret, the API credential; an optional one is AgileSec's Search API password.
        assert len(secrets) == 1, platform
        _path, url_variable, key_variable, _key = PLATFORMS[platform]
        injected = inject(definition, {"api_url": "https://example.invalid", secrets[0]: "the-secret", "organization": "org_1"})
        assert injected[url_variable] == "https://example.invalid" and injected[key_variable] == "the-secret", platform
        # The provider adapters read exactly these variables.
        with open(os.path.join(COLLECTION_ROOT, "plugins", "module_utils", "providers", "%s.py" % platform), encoding="utf-8") as handle:
            adapter = handle.read()
        for variable in injected:
            assert '"%s"' % variable in adapter, (platform, variable)


def private_data_dir(root, gateway_url, reports):
    """AWX's layout: project/ (the project's playbooks), inventory/, env/envvars (credential injectors), env/extravars, env/settings."""
    shutil.copytree(os.path.join(COLLECTION_ROOT, "playbooks"), os.path.join(root, "project"))
    # The collection as a job gets it from the project's collections/requirements.yml (or the EE).
    installed = os.path.join(root, "requirements_collections", "ansible_collections", "scanops", "security")
    shutil.copytree(COLLECTION_ROOT, installed, ignore=shutil.ignore_patterns("tests", ".git", "__pycache__", ".venv*"))
    os.makedirs(os.path.join(root, "inventory"))
    with open(os.path.join(root, "inventory", "hosts"), "w", encoding="utf-8") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    envvars = {"ANSIBLE_COLLECTIONS_PATH": os.path.join(root, "requirements_collections"), "ANSIBLE_LOCALHOST_WARNING": "0",
               "ANSIBLE_FORCE_COLOR": "0", "HOME": os.path.join(root, "home")}
    os.makedirs(envvars["HOME"])
    secrets = {}
    for platform, definition in credential_types().items():
        api_path, _url_variable, _key_variable, key = PLATFORMS[platform]
        required = definition["inputs"]["required"]
        secret_field = [field["id"] for field in definition["inputs"]["fields"] if field.get("secret") and field["id"] in required][0]
        secrets[platform] = key
        fields = {"api_url": gateway_url + api_path, secret_field: key, "organization": "org_123"}
        if platform == "agilesec":
            fields.update(search_username=AGILESEC_SEARCH["AGILESEC_SEARCH_USERNAME"], search_password=AGILESEC_SEARCH["AGILESEC_SEARCH_PASSWORD"])
            secrets["agilesec search"] = AGILESEC_SEARCH["AGILESEC_SEARCH_PASSWORD"]
        envvars.update(inject(definition, fields))
    os.makedirs(os.path.join(root, "env"))
    with open(os.path.join(root, "env", "envvars"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(envvars, handle)
    with open(os.path.join(root, "env", "extravars"), "w", encoding="utf-8") as handle:
        yaml.safe_dump({"scanops_report_dir": reports}, handle)
    # AWX runs jobs with suppress_env_files: the job's environment (with the injected secrets) is
    # not copied into the artifacts (ansible-runner's artifacts/<ident>/command would hold it).
    with open(os.path.join(root, "env", "settings"), "w", encoding="utf-8") as handle:
        yaml.safe_dump({"suppress_env_files": True}, handle)
    return secrets


def test_post_deploy_verify_runs_in_an_awx_job_layout(gateway_url, admin, tmp_path):
    assert gateway_url.endswith(GATEWAY_PREFIX)
    root = str(tmp_path / "job")
    reports = str(tmp_path / "reports")
    secrets = private_data_dir(root, gateway_url, reports)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    completed = subprocess.run([os.path.join(BIN, "ansible-runner"), "run", root, "-p", "post_deploy_verify.yml", "--ident", "job-1"],
                               env=env, capture_output=True, text=True, timeout=600, check=False)
    artifacts = os.path.join(root, "artifacts", "job-1")
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    shutil.copy(os.path.join(artifacts, "stdout"), os.path.join(OUTPUT_DIR, "awx_post_deploy_verify.stdout"))
    with open(os.path.join(artifacts, "status"), encoding="utf-8") as handle:
        status = handle.read().strip()
    assert (completed.returncode, status) == (0, "successful"), completed.stdout[-3000:] + completed.stderr[-2000:]

    events = []
    for path in sorted(glob.glob(os.path.join(artifacts, "job_events", "*.json"))):
        with open(path, encoding="utf-8") as handle:
            events.append(json.load(handle))
    events.sort(key=lambda event: event["counter"])
    kinds = [event["event"] for event in events]
    assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats", kinds[:3] + kinds[-3:]
    assert "runner_on_failed" not in kinds and "runner_on_unreachable" not in kinds
    stats = events[-1]["event_data"]
    assert stats["failures"] == {} and stats["ok"].get("localhost", 0) > 0, stats
    started = [event for event in events if event["event"] == "runner_item_on_ok"
               and event["event_data"].get("task") == "Start the scans"]
    assert len(started) == 5, "one background scan per target"

    with open(os.path.join(reports, "summary.json"), encoding="utf-8") as handle:
        summary = json.load(handle)
    assert summary["passed"] is True and len(summary["targets"]) == 5
    for name in ("index.html", "summary.md", "gate.xml", "payments-crypto.sarif", "aws-prod.junit.xml"):
        assert os.path.isfile(os.path.join(reports, name))
    check_report(reports)
    # $HOME is not the passwd home: the background scans' job files were written under $HOME and all cleaned up.
    async_dir = os.path.join(root, "home", ".ansible_async")
    assert os.path.isdir(async_dir) and os.listdir(async_dir) == []

    # No credential in any job event, in stdout, in any other artifact or in a report. ansible-runner
    # itself records the environment it was given (the job's input, like env/envvars) in
    # artifacts/<ident>/command, readable by its owner only; that file is the one not searched.
    command = os.path.join(artifacts, "command")
    assert oct(os.stat(command).st_mode & 0o777) == "0o600"
    leaked = []
    for top in (os.path.join(root, "artifacts"), reports):
        for parent, _dirs, names in os.walk(top):
            for name in names:
                if os.path.join(parent, name) == command:
                    continue
                with open(os.path.join(parent, name), encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
                leaked.extend("%s in %s" % (platform, os.path.relpath(os.path.join(parent, name), root))
                              for platform, key in secrets.items() if key in text)
    assert leaked == []
    assert admin.requests(vendor="harborguard", method="POST")["total"] == 1


def test_execution_environment_recipe_for_an_unreleased_checkout(tmp_path):
    """docs/execution-environment.md's recipe, as written, with the tarball `make build` makes: ansible-builder create."""
    with open(os.path.join(COLLECTION_ROOT, "docs", "execution-environment.md"), encoding="utf-8") as handle:
        doc = handle.read()
    section = doc[doc.index("## Build an EE from an unreleased checkout"):]
    recipe = re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)
    build = str(tmp_path / "ee")
    os.makedirs(build)
    built = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", build, COLLECTION_ROOT],
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    tarballs = glob.glob(os.path.join(build, "scanops-security-*.tar.gz"))
    assert len(tarballs) == 1
    with open(os.path.join(build, "execution-environment.yml"), "w", encoding="utf-8") as handle:
        handle.write(recipe.replace("scanops-security-0.1.0.tar.gz", os.path.basename(tarballs[0])))
    created = subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml", "--context", "context"],
                             cwd=build, capture_output=True, text=True, timeout=300, check=False)
    assert created.returncode == 0, created.stdout + created.stderr
    context = os.path.join(build, "context")
    # The tarball is in the build context and the Containerfile installs it from there.
    copied = glob.glob(os.path.join(context, "_build", "**", os.path.basename(tarballs[0])), recursive=True)
    assert copied, sorted(os.listdir(os.path.join(context, "_build")))
    (containerfile,) = [path for path in (os.path.join(context, "Containerfile"), os.path.join(context, "Dockerfile")) if os.path.exists(path)]
    with open(containerfile, encoding="utf-8") as handle:
        text = handle.read()
    # The galaxy stage installs the requirements from the copied context.
    assert "COPY _build /build" in text and "ansible-galaxy collection install" in text
    requirements = glob.glob(os.path.join(context, "_build", "requirements.yml"))
    with open(requirements[0], encoding="utf-8") as handle:
        assert os.path.basename(tarballs[0]) in handle.read()
