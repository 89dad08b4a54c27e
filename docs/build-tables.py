# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Regenerate the tables of docs/*.md that are generated from a declaration in the code.

    python docs/build-tables.py           rewrite them
    python docs/build-tables.py --check   fail when one is out of date (the lint suite runs this)

Each table sits between ``<!-- BEGIN GENERATED: <name> ... -->`` and ``<!-- END GENERATED: <name> -->``
in its file; everything outside the markers is hand-written.

* ``provider-matrix`` and ``provider-calls`` in docs/providers.md: the adapters' ``CALLS``, ``NO_CALL``
  and ``FACTS`` (plugins/module_utils/providers/, format in docs/developing.md);
* ``documented-only`` in docs/emulator.md: the tables of tests/emulator/scanops_emulator/documented.py.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENDOR_TITLES = {"cloudgeni": "CloudGeni", "kolega": "Kolega", "agilesec": "AgileSec", "harborguard": "HarborGuard",
                 "penaxtra": "Penaxtra"}


def anchor(heading):
    """The GitHub anchor of a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def assumption_link(vendor, row, prefix="assumptions.md"):
    """``[<row>](assumptions.md#<provider section>)``: the row lives in that provider's table."""
    if not row:
        return "-"
    section = dict((cls.NAME, cls.DISPLAY_NAME) for cls in adapters())[vendor]
    return "[%s](%s#%s)" % (row, prefix, anchor("%s (%s)" % (section, vendor)))


def emulator_tables():
    sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
    from scanops_emulator import documented  # pylint: disable=import-outside-toplevel
    lines = ["| vendor | request | answer with `--documented-only` | assumption it switches off |", "|---|---|---|---|"]
    for vendor, what, answer, row in documented.describe():
        lines.append("| %s | %s | %s | %s |" % (VENDOR_TITLES[vendor], what, answer, assumption_link(vendor, row)))
    lines += ["", "Assumed behaviour the flag keeps (a strict server has to answer something there, and the collection "
                  "reads any answer safely):", "",
              "| vendor | request | what stays | assumption |", "|---|---|---|---|"]
    for vendor, method, path, what, row in documented.KEPT:
        request = "every request" if path == "*" else "`%s %s`" % (method, path)
        lines.append("| %s | %s | %s | %s |" % (VENDOR_TITLES[vendor], request, what, assumption_link(vendor, row)))
    return "\n".join(lines)


def adapters():
    from ansible_collections.scanops.security.plugins.module_utils.providers import ADAPTERS, PROVIDERS  # pylint: disable=import-outside-toplevel
    return [ADAPTERS[name] for name in PROVIDERS]


def assumed_part(call):
    """What of a documented call is assumed, in words."""
    parts = []
    if call.assumed_fields:
        parts.append("the body field names (%s)" % ", ".join("`%s`" % field for field in call.assumed_fields))
    for field, values in sorted(call.assumed_values.items()):
        parts.append("the `%s` values %s" % (field, ", ".join("`%s`" % value for value in values)))
    for param in call.assumed_params:
        parts.append("what `%s` matches" % param)
    if call.assumed_answer:
        parts.append("the answer's shape")
    return "; ".join(parts)


def call_cell(adapter, call):
    request = "`%s %s`" % (call.method, call.path)
    link = assumption_link(adapter.NAME, call.assumption) if call.assumption else None
    if not call.documented:
        text = "**assumed**: %s (%s)" % (request, link)
    elif call.has_assumption:
        text = "documented: %s; assumed: %s (%s)" % (request, assumed_part(call), link)
    else:
        text = "documented: %s" % request
    if call.note:
        text += ", %s" % call.note
    return text


def provider_matrix():
    from ansible_collections.scanops.security.plugins.module_utils.providers.calls import OPERATIONS  # pylint: disable=import-outside-toplevel
    classes = adapters()
    header = "| operation (modules) | %s |" % " | ".join("%s (`%s`)" % (cls.DISPLAY_NAME, cls.NAME) for cls in classes)
    lines = [header, "|---" * (len(classes) + 1) + "|"]

    def fact_row(row, title):
        cells = []
        for cls in classes:
            documented, text = dict((name, (documented, text)) for name, documented, text in cls.FACTS)[row]
            cells.append("%s: %s" % ("documented" if documented else "**assumed**", text))
        lines.append("| %s | %s |" % (title, " | ".join(cells)))

    fact_row("authentication", "authentication (all)")
    for key, title, modules in OPERATIONS:
        cells = []
        for cls in classes:
            calls = [call for call in cls.CALLS if key in call.operations]
            cells.append("<br>".join(call_cell(cls, call) for call in calls) if calls else cls.NO_CALL[key])
        used_by = ", ".join("`%s`" % module if " " not in module else module for module in modules)
        lines.append("| %s (%s) | %s |" % (title, used_by, " | ".join(cells)))
    fact_row("rate limits (client-side pacing)", "rate limits (client-side pacing)")
    fact_row("pagination", "pagination")
    return "\n".join(lines)


def provider_calls():
    lines = ["| provider | adapter method | request | documented / assumed | assumption | sent by |", "|---|---|---|---|---|---|"]
    for cls in adapters():
        for call in cls.CALLS:
            if not call.documented:
                kind = "**assumed**"
            elif call.has_assumption:
                kind = "documented; assumed: %s" % assumed_part(call)
            else:
                kind = "documented"
            lines.append("| %s | `%s` | `%s %s` | %s | %s | %s |" % (
                cls.DISPLAY_NAME, call.name, call.method, call.path, kind,
                assumption_link(cls.NAME, call.assumption) if call.assumption else "-",
                ", ".join("`%s`" % module for module in call.modules) or "no module yet"))
    return "\n".join(lines)


TARGETS = (
    ("provider-matrix", os.path.join("docs", "providers.md"), provider_matrix),
    ("provider-calls", os.path.join("docs", "providers.md"), provider_calls),
    ("documented-only", os.path.join("docs", "emulator.md"), emulator_tables),
)


def with_collection_on_path():
    """Make ``ansible_collections.scanops.security`` importable from this checkout, wherever it is."""
    holder = tempfile.mkdtemp(prefix="scanops-tables.")
    os.makedirs(os.path.join(holder, "ansible_collections", "scanops"))
    os.symlink(ROOT, os.path.join(holder, "ansible_collections", "scanops", "security"))
    sys.path.insert(0, holder)
    return holder


def replace_block(text, name, body, path):
    pattern = re.compile(r"(<!-- BEGIN GENERATED: %s [^\n]*-->\n)(.*?)(<!-- END GENERATED: %s -->)" % (re.escape(name), re.escape(name)),
                         re.S)
    if not pattern.search(text):
        raise SystemExit("%s has no <!-- BEGIN GENERATED: %s ... --> / <!-- END GENERATED: %s --> markers" % (path, name, name))
    return pattern.sub(lambda match: match.group(1) + body.rstrip("\n") + "\n" + match.group(3), text, count=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a generated table is out of date")
    args = parser.parse_args(argv)
    holder = with_collection_on_path()
    try:
        return write_or_check(args.check)
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def write_or_check(check):
    stale = []
    for name, relative, render in TARGETS:
        path = os.path.join(ROOT, relative)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        updated = replace_block(text, name, render(), relative)
        if updated == text:
            continue
        if check:
            stale.append("%s (%s)" % (relative, name))
            continue
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(updated)
        print("rewrote the %s table of %s" % (name, relative))
    if stale:
        print("out of date: %s; run: python docs/build-tables.py" % ", ".join(stale), file=sys.stderr)
        return 1
    if check:
        print("generated tables are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
