# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks of returns.py can fail, and what every RETURN block must say alike.

No emulator: these run on the modules' RETURN blocks and on made-up results.
"""

import pytest

from ansible_collections.scanops.security.tests.conformance.returns import Case, check_result, check_samples, parse_return
from ansible_collections.scanops.security.tests.utils.module_runner import load_module, module_names

DOC = parse_return(type("Doc", (), {"RETURN": """
thing:
  description: A thing; null when there is none.
  returned: always
  type: dict
  contains:
    id:
      description: Its id.
      type: str
    size:
      description: Its size.
      type: int
    tags:
      description: Its tags.
      type: list
      elements: str
    extra:
      description: Only with O(verbose).
      returned: with O(return_diff=true)
      type: str
items:
  description: The items.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "a"}]
  contains:
    name:
      description: Name.
      type: str
api_calls:
  description: Requests.
  returned: always
  type: dict
"""}))


def problems(result, kind="success", **args):
    return check_result(DOC, result, Case(kind, args, result, "cloudgeni"))


GOOD = {"changed": False, "thing": {"id": "a", "size": 1, "tags": ["x"]}, "items": [{"name": "n"}], "api_calls": {"total": 1}}


def test_a_result_that_keeps_the_contract_has_no_problem():
    assert problems(GOOD) == []
    assert problems(dict(GOOD, thing=None)) == []  # "null when there is none"
    failed = {"failed": True, "msg": "boom", "changed": False, "thing": None, "api_calls": {"total": 0}}
    assert problems(failed, kind="input-error") == []


@pytest.mark.parametrize("result, expected", [
    (dict(GOOD, surprise=1), "surprise: returned but not documented"),
    (dict(GOOD, thing=dict(GOOD["thing"], color="red")), "thing.color: returned but not documented"),
    (dict((k, v) for k, v in GOOD.items() if k != "api_calls"), "api_calls: missing (returned: always)"),
    (dict(GOOD, thing={"id": "a", "tags": []}), "thing.size: missing (returned: with its parent)"),
    (dict(GOOD, thing=dict(GOOD["thing"], size="1")), "thing.size: str where the documentation says int"),
    (dict(GOOD, thing=dict(GOOD["thing"], size=True)), "thing.size: a boolean where the documentation says int"),
    (dict(GOOD, thing=dict(GOOD["thing"], tags=[1])), "thing.tags[0]: int where the documentation says str"),
    (dict(GOOD, thing=dict(GOOD["thing"], id=None)), "thing.id: null, and its description does not say when it is null"),
    (dict(GOOD, thing=dict(GOOD["thing"], extra="x")), "thing.extra: present although returned: with O(return_diff=true)"),
    (dict(GOOD, items=[{"name": "n", "size": 2}]), "items[0].size: returned but not documented"),
])
def test_each_check_fails_when_it_should(result, expected):
    assert expected in problems(result)


def test_success_only_keys_must_be_absent_from_a_failure_and_always_keys_present():
    failed = {"failed": True, "msg": "boom", "items": [], "api_calls": {"total": 1}}
    found = problems(failed, kind="api-401")
    assert "items: present although returned: success" in found
    assert "thing: missing (returned: always)" in found
    assert "msg: a failed result without a message" in problems({"failed": True, "thing": None, "api_calls": {}}, kind="api-401")


def test_a_condition_nobody_taught_the_suite_is_a_problem():
    doc = {"odd": {"description": "x", "returned": "on a full moon", "type": "str"}}
    assert check_result(doc, {"odd": "x"}, Case("success", {}, {})) == [
        "odd: returned condition 'on a full moon' is not one tests/conformance/returns.py knows"]


def test_samples_of_the_wrong_shape_are_problems():
    doc = {
        "count": {"description": "x", "returned": "always", "type": "int", "sample": "many"},
        "items": {"description": "x", "returned": "always", "type": "list", "elements": "dict", "sample": [{"name": 1, "other": 2}],
                  "contains": {"name": {"description": "x", "type": "str"}}},
    }
    assert check_samples(doc) == ["count (sample): str where the documentation says int",
                                  "items (sample)[0].other: returned but not documented",
                                  "items (sample)[0].name: int where the documentation says str"]


@pytest.mark.parametrize("name", module_names())
def test_samples_have_the_documented_shape(name):
    assert check_samples(parse_return(load_module(name))) == []


@pytest.mark.parametrize("name", module_names())
def test_every_module_documents_error_and_api_calls_alike(name):
    """RETURN has no doc fragments, so the shared keys are written in every module: the same text in each."""
    doc = parse_return(load_module(name))
    reference = parse_return(load_module("scan_info"))
    for key, own in (("error", ("returned",)), ("api_calls", ("sample",))):
        assert key in doc, "%s does not document %s" % (name, key)
        mine = dict((field, value) for field, value in doc[key].items() if field not in own)
        theirs = dict((field, value) for field, value in reference[key].items() if field not in own)
        assert mine == theirs, "%s: %s is not documented as in scan_info" % (name, key)
    # scan_run's bulk mode reports one error per target (scans[].error) instead.
    assert doc["error"]["returned"] in ("when a request to the platform failed",
                                        "when a request to the platform failed, not with O(targets)")


def test_fields_and_include_raw_decide_which_keys_of_a_finding_are_there():
    raw_phrase = "with O(include_raw=true), or when neither O(include_raw) nor O(fields) is set"
    doc = {"findings": {"description": "x", "returned": "success", "type": "list", "elements": "dict", "contains": {
        "id": {"description": "x", "type": "str"},
        "severity": {"description": "x", "type": "str", "returned": "unless O(fields) leaves it out"},
        "raw": {"description": "x", "type": "dict", "returned": raw_phrase}}}}

    def found(findings, **args):
        result = {"findings": findings}
        return check_result(doc, result, Case("success", args, result))

    assert found([{"id": "a", "severity": "high", "raw": {}}]) == []
    assert found([{"id": "a", "severity": "high"}], fields=["severity"]) == []
    assert found([{"id": "a", "raw": {}}], fields=[], include_raw=True) == []
    assert found([{"id": "a", "severity": "high"}], include_raw=False) == []
    assert found([{"id": "a", "raw": {}}]) == ["findings[0].severity: missing (returned: unless O(fields) leaves it out)"]
    assert found([{"id": "a", "severity": "high", "raw": {}}], fields=["severity"]) == [
        "findings[0].raw: present although returned: %s" % raw_phrase]
    assert found([{"id": "a", "severity": "high"}], fields=["severity"], include_raw=True) == [
        "findings[0].raw: missing (returned: %s)" % raw_phrase]
