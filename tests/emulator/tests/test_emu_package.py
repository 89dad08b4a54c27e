# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator as a package of its own (docs/emulator.md, "In your own pipeline"): pip builds it
from tests/emulator, the installed ``scanops-emulator`` command serves from outside the checkout
with serve.py's options, the package declares every library it imports, and ships no tests.

pip installs with ``--target --no-deps --no-index --no-build-isolation`` into a temporary directory:
no download, a few seconds, and the libraries come from the running venv as declared dependencies
would in a user's.
"""

import ast
import email.parser
import glob
import os
import re
import shutil
import subprocess
import sys

import httpx
import pytest

from scanops_emulator.launcher import PACKAGE_PARENT, SERVE

# Imported names that come with a declared distribution rather than being declared themselves.
PROVIDED_BY = {"starlette": "fastapi", "pydantic": "fastapi", "uvloop": "uvloop", "httptools": "httptools"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(target directory, environment) of a ``pip install --target`` of a copy of tests/emulator."""
    work = tmp_path_factory.mktemp("emulator-package")
    source = work / "source"
    # A copy, so that the build's egg-info and build/ directories land in the temporary directory.
    shutil.copytree(PACKAGE_PARENT, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    target = work / "target"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                          "--no-index", "--no-build-isolation", "--target", str(target), str(source)],
                         check=False, capture_output=True, text=True)
    assert pip.returncode == 0, "pip install ./tests/emulator failed:\n" + pip.stderr[-3000:]
    # Only the installed copy is importable as scanops_emulator: not the checkout, not the stage.
    env = dict(os.environ, PYTHONPATH=str(target), PYTHONDONTWRITEBYTECODE="1")
    return target, env


def metadata(target):
    (path,) = glob.glob(os.path.join(str(target), "scanops_emulator-*.dist-info", "METADATA"))
    with open(path, encoding="utf-8") as handle:
        return email.parser.Parser().parse(handle)


def test_installs_the_package_and_the_command_only(installed):
    target, _env = installed
    top = sorted(name for name in os.listdir(str(target)) if not name.endswith(".dist-info"))
    assert top == ["bin", "scanops_emulator"]
    assert os.listdir(os.path.join(str(target), "bin")) == ["scanops-emulator"]
    shipped = sorted(os.listdir(os.path.join(str(target), "scanops_emulator")))
    assert "cli.py" in shipped and "__main__.py" in shipped
    assert not [name for name in shipped if name.startswith(("test", "conftest"))]


def test_declares_every_library_it_imports(installed):
    target, _env = installed
    info = metadata(target)
    declared = {}
    for requirement in info.get_all("Requires-Dist"):
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
        declared[name] = "extra ==" in requirement
    imported = set()
    for path in glob.glob(os.path.join(str(target), "scanops_emulator", "*.py")):
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level:
                imported.add(node.module.split(".")[0])
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "scanops_emulator"}
    assert {"fastapi", "uvicorn", "httpx"} <= third_party, "the scan of the imports found too little: %s" % third_party
    missing = sorted(name for name in third_party if PROVIDED_BY.get(name, name) not in declared)
    assert missing == [], "imported but not declared in tests/emulator/pyproject.toml: %s" % missing
    # The speed-ups stay optional (the [fast] extra); everything else is a hard dependency.
    assert declared == {"fastapi": False, "uvicorn": False, "httpx": False, "httptools": True, "uvloop": True}


def test_command_has_serve_py_options(installed):
    target, env = installed
    command = os.path.join(str(target), "bin", "scanops-emulator")
    installed_help = subprocess.run([command, "--help"], env=env, check=True, capture_output=True, text=True).stdout
    checkout_help = subprocess.run([sys.executable, SERVE, "--help"], check=True, capture_output=True, text=True).stdout
    assert installed_help.startswith("usage: scanops-emulator ")
    # The same parser: identical description and options (the usage lines wrap by the program name).
    assert installed_help.split("\n\n", 1)[1] == checkout_help.split("\n\n", 1)[1]
    assert all(option in installed_help for option in ("--host", "--port", "--profile", "--seed", "--documented-only", "--log-level"))


def test_command_serves_from_outside_the_checkout(installed, tmp_path):
    target, env = installed
    where = subprocess.run([sys.executable, "-c", "import scanops_emulator; print(scanops_emulator.__file__)"],
                           env=env, cwd=str(tmp_path), check=True, capture_output=True, text=True).stdout.strip()
    assert where.startswith(str(target) + os.sep), where
    command = [os.path.join(str(target), "bin", "scanops-emulator"), "--port", "0", "--profile", "demo", "--seed", "3"]
    with subprocess.Popen(command, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            line = process.stdout.readline()
            match = re.match(r"^scanops-emulator ready on (http://127\.0\.0\.1:\d+)\n$", line)
            assert match, (line, process.stderr.read() if process.poll() is not None else "")
            health = httpx.get(match.group(1) + "/_emulator/health").json()
            assert health["status"] == "ok" and health["profile"] == "demo" and health["seed"] == 3
            # A vendor answers too, with the documented authentication (AgileSec: an unknown token is refused).
            answer = httpx.get(match.group(1) + "/agilesec/v3/sensors", headers={"isg-api-token": "not-a-token"})
            assert answer.status_code == 401
        finally:
            process.terminate()
            process.communicate(timeout=10)
