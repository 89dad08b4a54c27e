# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""validation.py: every rule rejects what it should, names the option, and never repeats a secret."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.scanops.security.plugins.module_utils import validation
from ansible_collections.scanops.security.plugins.module_utils.validation import OptionError

BASE = "https://api.example.test/v1"


@pytest.mark.parametrize("value,fragment", [
    ("", "must not be empty"),
    ("   ", "must not be empty"),
    ("http://user:hunter22@api.example.test/v1", "credentials"),
    ("https://tok3n-only@api.example.test/v1", "credentials"),
    (BASE + "?x=1", "query string"),
    (BASE + "?", "query string"),
    (BASE + "#frag", "fragment"),
    (BASE + " ", "whitespace"),
    (" " + BASE, "whitespace"),
    (BASE + "\n", "whitespace"),
    ("https://api.example.test\\v1", "backslash"),
    ("api.example.test/v1", "not an absolute URL"),
    ("127.0.0.1:8080/v1", "not an absolute URL"),
    ("ftp://api.example.test/v1", "scheme ftp"),
    ("file:///etc/passwd", "scheme file"),
    ("javascript:alert(1)", "not an absolute URL"),
    ("https://", "has no host"),
    ("https://api.example.test:99999/v1", "port"),
    ("https://[::1/v1", "not a valid URL"),
    ("https://api.example.test/\u202ev1", "whitespace, a backslash or a control character"),
    ("https://" + "a" * 3000 + ".test", "at most 2048"),
])
def test_bad_api_urls_are_refused_naming_the_option(value, fragment):
    with pytest.raises(OptionError) as info:
        validation.check_url(value, "api_url")
    assert info.value.message.startswith("api_url: ")
    assert fragment in info.value.message
    assert "hunter22" not in info.value.message and "tok3n-only" not in info.value.message


@pytest.mark.parametrize("value,expected", [
    (BASE, BASE),
    (BASE + "/", BASE),
    ("http://127.0.0.1:8765/harborguard", "http://127.0.0.1:8765/harborguard"),
    ("HTTPS://API.example.test", "HTTPS://API.example.test"),
])
def test_good_api_urls_pass(value, expected):
    assert validation.check_url(value, "api_url") == expected


@pytest.mark.parametrize("value,fragment", [
    ("http://user:pr0xy@proxy.example.test:3128", "proxy_username and proxy_password"),
    ("ftp://proxy.example.test", "scheme ftp"),
    ("http://proxy.example.test:3128/path", "must not have a path"),
    ("proxy.example.test:3128", "not an absolute URL"),
])
def test_bad_proxies_are_refused(value, fragment):
    with pytest.raises(OptionError) as info:
        validation.check_proxy(value)
    assert info.value.message.startswith("proxy: ") and fragment in info.value.message
    assert "pr0xy" not in info.value.message


@pytest.mark.parametrize("value", ["http://proxy.example.test:3128", "socks5h://127.0.0.1:1080", "https://proxy.example.test/"])
def test_good_proxies_pass(value):
    assert validation.check_proxy(value) == value


@pytest.mark.parametrize("value,fragment", [
    ("", "must not be empty"),
    (" ", "must not be empty"),
    (".", "'.' and '..'"),
    ("..", "'.' and '..'"),
    ("a/b", "contains '/'"),
    ("../../admin", "contains '/'"),
    (" scan_1", "whitespace"),
    ("scan\x00", "U+0000"),
])
def test_ids_stay_one_path_segment(value, fragment):
    with pytest.raises(OptionError) as info:
        validation.check_id(value, "scan_id")
    assert info.value.message.startswith("scan_id: ") and fragment in info.value.message


def test_names_may_hold_a_slash_but_not_dot_segments():
    assert validation.check_name_or_id("myorg/infrastructure", "repository") == "myorg/infrastructure"
    for value in ("", ".", ".."):
        with pytest.raises(OptionError):
            validation.check_name_or_id(value, "repository")


@pytest.mark.parametrize("char", ["\x00", "\x07", "\n", "\x1b", "\x7f", "\x85", "\u202e", "\u202d", "\u2066", "\u200f",
                                  "\u200b", "\ufeff", "\ud800"])
def test_names_refuse_control_bidi_and_invisible_characters(char):
    with pytest.raises(OptionError) as info:
        validation.check_name("evil%sname" % char, "name")
    assert "U+%04X" % ord(char) in info.value.message and "position 4" in info.value.message


def test_secret_names_do_not_say_where_the_bad_character_is():
    with pytest.raises(OptionError) as info:
        validation.check_name("abc\ndef", "token", secret=True)
    assert "position" not in info.value.message and "abc" not in info.value.message


def test_name_length_limit():
    validation.check_name("n" * 200, "name", 200)
    with pytest.raises(OptionError) as info:
        validation.check_name("n" * 201, "name", 200)
    assert "201 characters long; at most 200" in info.value.message


def test_free_text_keeps_line_breaks_and_right_to_left_text():
    note = "first line\nsecond line\twith a tab, \u05e9\u05dc\u05d5\u05dd"
    assert validation.check_text(note, "note") == note
    with pytest.raises(OptionError):
        validation.check_text("bell\x07", "note")


@pytest.mark.parametrize("value", ["k\u00e9y", "two words", "line\nbreak", "tab\t", ""])
def test_header_credentials_are_visible_ascii_and_never_repeated(value):
    with pytest.raises(OptionError) as info:
        validation.check_header_value(value, "api_key")
    assert value.strip() == "" or value not in info.value.message


@pytest.mark.parametrize("option,value,fragment", [
    ("timeout", float("nan"), "finite"),
    ("timeout", float("inf"), "finite"),
    ("timeout", 0, "greater than 0"),
    ("timeout", -1, "greater than 0"),
    ("timeout", 1e300, "at most 3600"),
    ("retries", -1, "at least 0"),
    ("retries", 1000, "at most 100"),
    ("retry_timeout", -0.5, "at least 0"),
    ("rate_limit", float("-inf"), "finite"),
    ("rate_limit", -2, "at least 0"),
    ("wait_sleep", float("nan"), "finite"),
    ("wait_timeout", -1, "at least 0"),
    ("concurrency", 0, "at least 1"),
    ("limit", 0, "at least 1"),
    ("max_risk_score", -1, "at least 0"),
    ("max_risk_score", 101, "at most 100"),
    ("auto_resolution_interval", 0, "at least 1"),
])
def test_numbers_are_finite_and_in_range(option, value, fragment):
    spec = {option: {"type": "float"}}
    with pytest.raises(OptionError) as info:
        validation.check_params({option: value}, spec)
    assert info.value.message.startswith(option + ": ") and fragment in info.value.message


def test_numbers_in_range_pass():
    spec = dict((name, {"type": "float"}) for name in validation.NUMBER_RANGES)
    values = {"timeout": 30.0, "retries": 0, "retry_timeout": 0, "rate_limit": 0, "wait_timeout": 0, "wait_sleep": 0,
              "concurrency": 32, "findings_limit": 0, "limit": 1, "max_risk_score": 100, "auto_resolution_interval": 30}
    validation.check_params(values, spec)


@pytest.mark.parametrize("value,fragment", [
    ("a" * 20000, "at most 1024"),
    ("ghcr.io/acme/api:1.4.6\u202e", "U+202E"),
    ("ghcr.io/acme/" + "n" * 300 + ":1", "at most 255"),
    ("ghcr.io/acme/api:" + "t" * 129, "the tag"),
    ("ghcr.io/acme/api:-bad", "the tag"),
    ("ghcr.io/acme/api@sha256:xyz", "digest"),
    ("ghcr.io/acme api:1", "whitespace"),
    ("/api:1", "no valid image name"),
    (":1", "no valid image name"),
])
def test_image_references_follow_the_oci_limits(value, fragment):
    with pytest.raises(OptionError) as info:
        validation.check_image_reference(value, "image")
    assert fragment in info.value.message


@pytest.mark.parametrize("value", ["nginx", "ghcr.io/acme/api:1.4.6", "registry.acme.example:5000/team/app:v1_2-rc.3",
                                   "nginx@sha256:" + "a" * 64, "ghcr.io/acme/api:1.4.6@sha256:" + "b" * 64])
def test_good_image_references_pass(value):
    assert validation.check_image_reference(value, "image") == value


def test_check_params_walks_suboptions_and_list_elements():
    spec = {
        "targets": {"type": "list", "elements": "dict", "options": {"image": {"type": "str"}, "name": {"type": "str"}}},
        "ids": {"type": "list", "elements": "str"},
        "labels": {"type": "dict"},
        "token": {"type": "str", "no_log": True},
    }
    with pytest.raises(OptionError) as info:
        validation.check_params({"targets": [{"image": "nginx"}, {"image": "a" * 2000}]}, spec)
    assert info.value.message.startswith("targets[1].image: ")
    with pytest.raises(OptionError) as info:
        validation.check_params({"ids": ["f1", ".."]}, spec)
    assert info.value.message.startswith("ids[1]: ")
    with pytest.raises(OptionError) as info:
        validation.check_params({"labels": {"team": {"score": float("nan")}}}, spec)
    assert info.value.message.startswith("labels.team.score: ")
    with pytest.raises(OptionError) as info:
        validation.check_params({"token": "s3cr3t\x00value"}, spec)
    assert "s3cr3t" not in info.value.message
    validation.check_params({"targets": [{"image": "nginx", "name": "web"}], "ids": ["f1"], "labels": {"a": "b"},
                             "token": "x"}, spec)


def test_id_options_follow_the_naming_convention():
    for name in ("scan_id", "integration_id", "ids", "id", "organization", "finding_id"):
        assert validation.is_id_option(name), name
    for name in ("rule_id", "repository", "image", "name"):
        assert not validation.is_id_option(name), name


def test_check_choice_is_case_insensitive_and_lists_the_choices():
    assert validation.check_choice("COMPLETE", ["complete", "failed"], "status") == "complete"
    with pytest.raises(OptionError) as info:
        validation.check_choice("bogus", ["complete", "failed"], "status", "scan status")
    assert info.value.message == "status: 'bogus' is not a scan status this provider knows; use one of: complete, failed"


def test_safe_url_hides_credentials_query_and_fragment():
    shown = validation.safe_url("https://u:p4ss@h.example.test:8443/a/b?token=abc#x")
    assert shown == "https://********@h.example.test:8443/a/b?...#..."
