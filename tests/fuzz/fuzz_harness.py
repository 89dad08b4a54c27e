# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad inputs derived from every module's argument spec, run in-process against one emulator.

Modules are found in ``plugins/modules`` (a new module is covered without editing this file); each
module's argument spec is read by running its ``main()`` until it builds its AnsibleModule, and
its valid baselines come from its own EXAMPLES (one per provider the examples use). For every
option, suboption and list element the spec declares, the values below are each set on every
baseline (the shared connection options, checked the same way whatever the provider, on the
module's first baseline only):

* every string: a 20,000-character value, NUL, an ANSI escape and a lone surrogate; names and
  references (not free text) also a line break, a right-to-left override and a zero-width space;
* ids (``*_id``, ``*_ids``, ``id``, ``ids``, ``organization``) and names that may be ids
  (``repository``, ``sensor``, ``callback``): empty, ``.``, ``..``; ids also ``a/b`` and ``../x``;
* ``api_url`` and ``proxy``: every URL form of issue 11 (credentials, query, fragment, whitespace,
  no scheme, ``ftp://``, empty, ...), built on the emulator's own address;
* ``image``: too long a name or tag, a bad digest, whitespace;
* numbers: NaN, +/-infinity, -1, 1e300 (floats); ``"abc"``, -1, 10**18 (ints); strings for both;
* booleans: ``"maybe"``; choices: a word outside them; dicts: a string that is no dict, a NaN or
  a lone surrogate inside; lists of dicts: each suboption's values in a one-entry list.

Every one of them is detectable without asking the vendor, so each case must: fail, without a
traceback, with a message naming the option, leave no request in the emulator's request log, and
print no credential (the API key, a URL password).
"""

import collections
import os

import yaml

from ansible.module_utils import basic

from ansible_collections.scanops.security.tests.utils.module_runner import (  # noqa: F401 pylint: disable=unused-import
    load_module,
    module_names,
    patch_module_args,
    run_main,
)

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION_ROOT = os.path.dirname(os.path.dirname(HERE))
EMULATOR_DIR = os.path.join(COLLECTION_ROOT, "tests", "emulator")
CLIENT_PATHS = {"cloudgeni": "/cloudgeni/api/v1", "kolega": "/kolega", "agilesec": "/agilesec", "harborguard": "/harborguard",
                "penaxtra": "/penaxtra"}
# The emulator's documented demo credentials (docs/emulator.md).
DEMO_KEYS = {
    "cloudgeni": "cg_live_demo_admin_4f7c2a9e1b3d5f60",
    "kolega": "kcp_live_demo_5b1e9c3a7d2f4e6081a9",
    "agilesec": "isg_demo_token_7c3e9a1f5b2d4e60a8c1",
    "harborguard": "hg_ak_5e8f2a7c9b1d3e6f0a4c8b2d7e9f1a3c5b7d9e2f4a6c8b0d",
    "penaxtra": "pnx_live_demo_6a1f3c8e2b9d4f7a0c5e",
}
URL_PASSWORD = "fuzz-pw-6b1d0e"
CASE_SECONDS = 30

# Counts the suites print at the end, by title (filled by the tests, printed by conftest.py).
SUMMARY = collections.OrderedDict()

# What the words in the module docstring mean, as data.
FREE_TEXT = ("note", "reason", "instructions", "description")
NAME_OR_ID = ("repository", "sensor", "callback")
NOT_PATH_IDS = ("rule_id",)


def is_id(name):
    return name not in NOT_PATH_IDS and (name in ("id", "ids", "organization") or name.endswith("_id") or name.endswith("_ids"))


# ---------------------------------------------------------------------------------------------
# Modules, specs and baselines
# ---------------------------------------------------------------------------------------------
class _SpecCaptured(Exception):
    def __init__(self, spec):
        super().__init__("spec captured")
        self.spec = spec


def argument_spec_of(module):
    """The argument spec ``main()`` hands to AnsibleModule (whatever subclass the module uses)."""
    original = basic.AnsibleModule.__init__

    def capture(self, argument_spec=None, **_kwargs):
        raise _SpecCaptured(argument_spec)

    basic.AnsibleModule.__init__ = capture
    try:
        with patch_module_args({}):
            module.main()
    except _SpecCaptured as captured:
        return captured.spec
    finally:
        basic.AnsibleModule.__init__ = original
    raise AssertionError("%s.main() built no AnsibleModule" % module.__name__)


def _untemplate(value):
    if isinstance(value, str) and "{{" in value:
        return "placeholder"
    if isinstance(value, dict):
        return dict((k, _untemplate(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_untemplate(v) for v in value]
    return value


def baselines_of(name, module):
    """``{provider: args}``: the first EXAMPLES task of each provider, templated values made plain."""
    found = {}
    for task in yaml.safe_load(module.EXAMPLES) or []:
        args = task.get("scanops.security.%s" % name) if isinstance(task, dict) else None
        if not isinstance(args, dict) or not args.get("provider") or args["provider"] in found:
            continue
        found[args["provider"]] = _untemplate(args)
    return found


# ---------------------------------------------------------------------------------------------
# Bad values
# ---------------------------------------------------------------------------------------------
def url_forms(base):
    """Every bad URL form, built on a working URL ``base`` (scheme://host:port/path)."""
    scheme, rest = base.split("://", 1)
    return [
        ("credentials", "%s://svc:%s@%s" % (scheme, URL_PASSWORD, rest)),
        ("token as user name", "%s://%s@%s" % (scheme, URL_PASSWORD, rest)),
        ("query", base + "?x=1"),
        ("bare query mark", base + "?"),
        ("fragment", base + "#frag"),
        ("trailing space", base + " "),
        ("leading space", " " + base),
        ("line break", base + "\n"),
        ("tab inside", base.replace("://", "://\t")),
        ("no scheme", rest),
        ("ftp scheme", "ftp://" + rest),
        ("file scheme", "file:///etc/passwd"),
        ("javascript", "javascript:alert(1)"),
        ("empty", ""),
        ("spaces only", "   "),
        ("no host", scheme + "://"),
        ("port out of range", "%s://127.0.0.1:99999/x" % scheme),
        ("broken IPv6", "%s://[::1/x" % scheme),
        ("backslash", base.replace("://", "://evil.example\\@")),
        ("right-to-left override", base + "/\u202e"),
        ("huge", base + "/" + "a" * 20000),
    ]


def string_values(name):
    free_text = name in FREE_TEXT
    values = [("20,000 characters", "x" * 20000), ("NUL", "a\x00b"), ("ANSI escape", "\x1b[31mred"), ("lone surrogate", "a\ud800b")]
    if not free_text:
        values += [("line break", "two\nlines"), ("right-to-left override", "abc\u202egpj.exe"), ("zero-width space", "ab\u200bc")]
    if is_id(name) or name in NAME_OR_ID or name == "image":
        values += [("empty", ""), ("dot", "."), ("dot dot", "..")]
    if is_id(name):
        values += [("slash", "a/b"), ("traversal", "../admin"), ("leading space", " id")]
    if name == "image":
        values += [("image name over 255", "ghcr.io/acme/" + "n" * 300 + ":1"), ("tag over 128", "nginx:" + "t" * 129),
                   ("bad tag", "nginx:-x"), ("bad digest", "nginx@sha256:zz"), ("space", "ghcr.io/acme/api 1")]
    return values


def values_for(name, spec, emulator_url, provider):
    """``[(label, value)]``: the bad values of one option (or list element) by its name and type."""
    kind = spec.get("type", "str")
    if spec.get("choices"):
        bad_choice = [("outside choices", "bogus-choice")]
        if kind == "list":
            return [("element outside choices", ["bogus-choice"])]
        return bad_choice
    if name == "api_url":
        return url_forms(emulator_url + CLIENT_PATHS[provider])
    if name == "proxy":
        return [(label, value) for label, value in url_forms("http://127.0.0.1:9") if label != "file scheme"] + \
            [("path", "http://127.0.0.1:9/path")]
    if kind in ("str", "path", "raw"):
        return string_values(name)
    if kind == "float":
        return [("NaN", float("nan")), ("infinity", float("inf")), ("-infinity", float("-inf")), ("negative", -1.0),
                ("1e300", 1e300), ("word", "abc")]
    if kind == "int":
        return [("word", "abc"), ("negative", -1), ("10**18", 10 ** 18), ("NaN", float("nan")), ("fraction", 1.5)]
    if kind == "bool":
        return [("word", "maybe")]
    if kind == "dict":
        return [("not a dict", "not a dict"), ("NaN inside", {"k": float("nan")}), ("lone surrogate inside", {"k": "a\ud800"})]
    if kind == "list":
        elements = spec.get("elements") or "str"
        if elements == "dict":
            return []  # suboptions are fuzzed one by one
        return [("element: %s" % label, [value]) for label, value in values_for(name, dict(type=elements), emulator_url, provider)]
    return []


class Case(object):
    """One module run with one bad value."""

    def __init__(self, module, provider, option, label, args, leaks):
        self.module = module
        self.provider = provider
        self.option = option
        self.label = label
        self.args = args
        self.leaks = leaks
        self.result = None
        self.output = ""
        self.crashed = False
        self.requests = []
        self.problems = []

    @property
    def id(self):
        return "%s[%s] %s: %s" % (self.module, self.provider, self.option, self.label)


def generate(emulator_url):
    """Every case of every module.

    A module's own options are fuzzed on every baseline (their rules may depend on the provider);
    the shared connection options, checked the same way whatever the provider, on its first baseline.
    """
    from ansible_collections.scanops.security.plugins.module_utils.common import scanops_argument_spec
    shared = set(scanops_argument_spec())
    cases = []
    for name in module_names():
        module = load_module(name)
        spec = argument_spec_of(module)
        baselines = sorted(baselines_of(name, module).items())
        assert baselines, "%s: no EXAMPLES task with a provider to start from" % name
        for index, (provider, example) in enumerate(baselines):
            baseline = connection(emulator_url, provider)
            baseline.update(example)
            for option, option_spec in sorted(spec.items()):
                if index and option in shared:
                    continue
                cases.extend(_option_cases(name, provider, baseline, option, option_spec, emulator_url))
    return cases


def connection(emulator_url, provider):
    """Shared options pointing at the emulator: fast, no retries, no pacing."""
    options = {"provider": provider, "api_url": emulator_url + CLIENT_PATHS[provider], "api_key": DEMO_KEYS[provider],
               "retries": 0, "timeout": 5, "rate_limit": 0}
    if provider == "cloudgeni":
        options["organization"] = "org_123"
    return options


def _option_cases(module, provider, baseline, option, spec, emulator_url):
    leaks = (DEMO_KEYS[provider], URL_PASSWORD)
    cases = []
    if spec.get("type") == "list" and spec.get("elements") == "dict" and spec.get("options"):
        # The baseline's values of the suboptions move into the one entry (targets: the target options).
        base = dict((k, v) for k, v in baseline.items() if k not in spec["options"] and k != option)
        entry = dict((sub, baseline.get(sub, "placeholder")) for sub, sub_spec in spec["options"].items()
                     if sub_spec.get("required") or baseline.get(sub) is not None)
        for sub, sub_spec in sorted(spec["options"].items()):
            for label, value in values_for(sub, sub_spec, emulator_url, provider):
                args = dict(base)
                args[option] = [dict(entry, **{sub: value})]
                cases.append(Case(module, provider, "%s[0].%s" % (option, sub), label, args, leaks))
        return cases
    for label, value in values_for(option, spec, emulator_url, provider):
        args = dict(baseline)
        args[option] = value
        cases.append(Case(module, provider, option, label, args, leaks))
    return cases


# ---------------------------------------------------------------------------------------------
# Running a case
# ---------------------------------------------------------------------------------------------
def run_cases(cases, request_log, batch=100):
    """Run and judge ``cases``; the request log is read once per batch of cases.

    Almost every batch leaves the log untouched; a batch that does not is run again one case at a
    time, so every request is pinned on the case that sent it.
    """
    for start in range(0, len(cases), batch):
        chunk = cases[start:start + batch]
        request_log.skip()
        for case in chunk:
            execute(case)
        if request_log.new():
            for case in chunk:
                run_case(case, request_log)
        else:
            for case in chunk:
                case.requests = []
                judge(case)
    return cases


def run_case(case, request_log):
    """Run the module's main() with the case's arguments; fill in result, output, requests and problems."""
    request_log.skip()
    execute(case)
    case.requests = request_log.new()
    judge(case)
    return case


def execute(case):
    """Run the case's module in-process (tests/utils/module_runner.py) and keep what it printed."""
    run = run_main(load_module(case.module), case.args, timeout=CASE_SECONDS)
    case.problems = []
    case.output = run.output
    case.result = run.result
    case.crashed = run.crashed


def judge(case):
    result = case.result
    if case.crashed:
        case.problems.append("traceback or no JSON result: %r" % case.output[-400:])
        return
    if not result.get("failed"):
        case.problems.append("did not fail (changed=%s)" % result.get("changed"))
    msg = result.get("msg") or ""
    wanted = case.option.split("[")[0] if "[" in case.option else case.option
    sub = case.option.rsplit(".", 1)[-1]
    if wanted not in msg or sub not in msg:
        case.problems.append("message does not name %s: %r" % (case.option, msg[:300]))
    if case.requests:
        case.problems.append("%d request(s) reached the emulator: %s" % (
            len(case.requests), ", ".join("%s %s" % (r["method"], r["path"]) for r in case.requests[:3])))
    for secret in case.leaks:
        if secret and secret in case.output:
            case.problems.append("a credential or URL password is in the output")


class RequestLog(object):
    """The emulator's request log, read through its admin API from a cursor."""

    def __init__(self, http):
        self.http = http
        self.cursor = 0

    def new(self):
        """Requests logged since the last call."""
        items = self.http.get("/_emulator/requests", params={"since_id": self.cursor}).json()["items"]
        if items:
            self.cursor = max(entry["id"] for entry in items)
        # The log holds its own admin reads too.
        return [entry for entry in items if entry["vendor"] != "admin"]

    def skip(self):
        """Forget whatever was logged before now."""
        self.new()
