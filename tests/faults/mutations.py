# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Show that the fault suite catches known-bad changes to the client and to scan_run.

Run by hand (it is not part of ``make test``; each mutation runs a few fault cases, one to three
minutes on two busy cores), from a checkout with the project's venv active:

    python tests/faults/mutations.py                 # every mutation
    python tests/faults/mutations.py retry-post-after-5xx

For each mutation the collection is copied to a temporary directory (as tests/run-tests.sh stages
it), the change is applied to the copy only, and the fault cases that must catch it are run there:
they must fail, and for the reason named. ``control`` cases, which existed before the server-acted
faults, are run too and are expected to pass: they show why those faults were needed. The script
exits non-zero when a mutation survives, a control case fails, or a mutation's anchor text is no
longer in the code (then update the mutation).
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


class Mutation(object):
    """One known-bad change: ``old`` replaced by ``new`` in ``path``."""

    def __init__(self, name, why, path, old, new, catch, expect, control=None):
        self.name = name
        self.why = why
        self.path = path
        self.old = old
        self.new = new
        self.catch = catch        # pytest -k expression: cases that must fail
        self.expect = expect      # text the failure report must hold
        self.control = control    # pytest -k expression: older cases that pass with the mutation


MUTATIONS = [
    Mutation(
        "retry-post-after-5xx", "the client retries a POST after a 502, 503 or 504 (a create the server may have made)",
        "plugins/module_utils/client.py",
        "if not retryable_status or (not safe and response.status_code != 429):",
        "if not retryable_status or (not safe and response.status_code not in (429, 502, 503, 504)):",
        catch="acted_5xx", expect="duplicate: the server acted on 2 create requests", control="5xx_burst and create"),
    Mutation(
        "no-lost-trigger-lookup", "scan_run no longer looks for the scan a lost trigger created, and triggers again",
        "plugins/module_utils/scans.py",
        "found = next(iter(strategy.started_after(strategy.history(), baseline, since)), None)",
        "found = None",
        catch="test_scan_run_under_fault and acted_5xx", expect="duplicate: the server acted on 2 create requests"),
    Mutation(
        "post-5xx-not-acted", "a 5xx answer to a POST is taken as 'nothing happened', so scan_run fails instead of adopting",
        "plugins/module_utils/client.py",
        "if not safe and response.status_code >= 500:",
        "if False:",
        catch="test_scan_run_under_fault and acted_5xx", expect="fault run should have absorbed the fault",
        control="test_scan_run_under_fault and 5xx_burst and create"),
]


def stage(workdir):
    """Copy the collection to ``workdir``/ansible_collections/scanops/security; answer that path."""
    target = os.path.join(workdir, "ansible_collections", "scanops", "security")
    os.makedirs(target)
    tar = subprocess.Popen(["tar", "-C", ROOT, "--exclude=./.git", "--exclude=./.venv", "--exclude=./.venv-core216",
                            "--exclude=__pycache__", "--exclude=./tests/output", "--exclude=.pytest_cache", "-cf", "-", "."],
                           stdout=subprocess.PIPE)
    subprocess.run(["tar", "-C", target, "-xf", "-"], stdin=tar.stdout, check=True)
    tar.stdout.close()
    if tar.wait() != 0:
        raise RuntimeError("could not copy %s" % ROOT)
    return target


def run_cases(workdir, collection, expression):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=workdir, PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=workdir + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "tests/faults",
                           "-k", expression], cwd=collection, env=env, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


def check(mutation):
    """Answer a list of problems (empty: the suite caught the mutation as expected)."""
    with tempfile.TemporaryDirectory(prefix="scanops-mutation-") as workdir:
        collection = stage(workdir)
        path = os.path.join(collection, mutation.path)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if text.count(mutation.old) != 1:
            return ["the anchor %r is in %s %d times (expected once): update the mutation" % (mutation.old, mutation.path, text.count(mutation.old))]
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text.replace(mutation.old, mutation.new))
        problems = []
        code, output = run_cases(workdir, collection, mutation.catch)
        caught = [line for line in output.splitlines() if mutation.expect in line]
        print("  -k %r: exit %d, %d lines name %r" % (mutation.catch, code, len(caught), mutation.expect))
        for line in caught[:6]:
            print("    " + line.strip()[:200])
        if code == 0 or not caught:
            problems.append("the fault suite did not catch it (-k %r exited %d)" % (mutation.catch, code))
        if mutation.control:
            code, output = run_cases(workdir, collection, mutation.control)
            print("  control -k %r: exit %d (passing shows the older faults miss it)" % (mutation.control, code))
            if code != 0:
                problems.append("control cases -k %r failed too:\n%s" % (mutation.control, output[-2000:]))
        return problems


def main(names):
    chosen = [m for m in MUTATIONS if not names or m.name in names]
    unknown = sorted(set(names) - set(m.name for m in MUTATIONS))
    if unknown:
        print("unknown mutations: %s (known: %s)" % (", ".join(unknown), ", ".join(m.name for m in MUTATIONS)))
        return 2
    failed = False
    for mutation in chosen:
        print("%s: %s" % (mutation.name, mutation.why))
        problems = check(mutation)
        for problem in problems:
            print("  PROBLEM: " + problem)
        print("  => %s" % ("caught" if not problems else "NOT CAUGHT AS EXPECTED"))
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
