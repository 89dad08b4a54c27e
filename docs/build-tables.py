# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Regenerate the tables of docs/*.md that are generated from a declaration in the code.

    python docs/build-tables.py           rewrite them
    python docs/build-tables.py --check   fail when one is out of date (the lint suite runs this)

Each table sits between ``<!-- BEGIN GENERATED: <name> ... -->`` and ``<!-- END GENERATED: <name> -->``
in its file; everything outside the markers is hand-written.

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
# docs/assumptions.md section heading of each provider (the adapters' DISPLAY_NAME).
SECTIONS = {"cloudgeni": "CloudGeni", "kolega": "Kolega DevSec", "agilesec": "Keyfactor AgileSec", "harborguard": "HarborGuard",
            "penaxtra": "Penaxtra"}


def anchor(heading):
    """The GitHub anchor of a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def assumption_link(vendor, row, prefix="assumptions.md"):
    """``[<row>](assumptions.md#<provider section>)``: the row lives in that provider's table."""
    if not row:
        return "-"
    return "[%s](%s#%s)" % (row, prefix, anchor("%s (%s)" % (SECTIONS[vendor], vendor)))


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


TARGETS = (
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
