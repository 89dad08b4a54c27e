# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find the collection's examples and turn them into one playbook that runs them as written.

Examples are every module's ``EXAMPLES`` (each top-level task is one example) and every fenced
``yaml`` block of a role README: a play is one example; a block whose info string says
``file=<name>`` is a file the plays next to it read (written beside the generated playbook).

The examples are copied byte for byte. Only connections are supplied, the way a user supplies
them: the modules' environment variables (``CLOUDGENI_API_URL``, ``KOLEGA_TOKEN``, ...) and
the ``vault_*`` variables an example reads, as extra variables.

A task that fails on purpose says so on its ``ignore_errors`` line::

    ignore_errors: true  # fails on purpose: gate failed for kolega scan

and must then fail with that text in its message.
"""

import ast
import os
import re
import secrets

import yaml

FAILS_ON_PURPOSE = re.compile(r"^(?P<indent>\s*)ignore_errors:\s*true\s*#\s*fails on purpose:\s*(?P<reason>\S.*?)\s*$", re.MULTILINE)
TASK_NAME = re.compile(r"^(?P<indent>\s*)- name:\s*(?P<name>.+?)\s*$")
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.MULTILINE | re.DOTALL)
VAULT_VARIABLE = re.compile(r"\bvault_[a-z0-9_]+\b")


class ExampleError(Exception):
    """An example the suite cannot run as written (its text says what to fix)."""


class Source:
    """One runnable example text: a module's EXAMPLES (a task list) or a README play."""

    def __init__(self, kind, name, text, origin):
        self.kind = kind          # "module" or "readme"
        self.name = name          # module name, or "<role> README, play <n>"
        self.text = text
        self.origin = origin      # the file it was read from, relative to the collection root
        self.slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        self.expected_failures = expected_failures(text, origin)

    def tasks(self):
        """The example tasks' names (a module's EXAMPLES) or the plays' names (a README play)."""
        loaded = yaml.safe_load(self.text)
        return [item.get("name") for item in loaded]


def expected_failures(text, origin):
    """``{task name: reason}`` for every task marked ``ignore_errors: true  # fails on purpose: <reason>``."""
    lines = text.splitlines()
    marked = {}
    for match in FAILS_ON_PURPOSE.finditer(text):
        line_number = text[:match.start()].count("\n")
        task_indent = len(match.group("indent")) - 2
        for previous in reversed(lines[:line_number]):
            found = TASK_NAME.match(previous)
            if found and len(found.group("indent")) == task_indent:
                marked[yaml.safe_load(found.group("name"))] = match.group("reason")
                break
        else:
            raise ExampleError("%s: the task of the 'fails on purpose' line %d has no name" % (origin, line_number + 1))
    for number, line in enumerate(lines, start=1):
        if re.match(r"^\s*ignore_errors:", line) and not FAILS_ON_PURPOSE.match(line):
            raise ExampleError("%s line %d: ignore_errors without '# fails on purpose: <reason>': %s" % (origin, number, line.strip()))
    return marked


def module_examples(root):
    """A Source per module in plugins/modules, in name order; fails when a module has no example of itself."""
    sources = []
    directory = os.path.join(root, "plugins", "modules")
    for filename in sorted(os.listdir(directory)):
        if not filename.endswith(".py") or filename.startswith("_"):
            continue
        path = os.path.join(directory, filename)
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), filename)
        texts = [node.value.value for node in tree.body
                 if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets)]
        name = filename[:-3]
        origin = os.path.relpath(path, root)
        if not texts or not texts[0].strip():
            raise ExampleError("%s has no EXAMPLES" % origin)
        source = Source("module", name, texts[0].lstrip("\n"), origin)
        tasks = yaml.safe_load(source.text)
        if not isinstance(tasks, list) or not all(isinstance(task, dict) and task.get("name") for task in tasks):
            raise ExampleError("%s: EXAMPLES must be a list of named tasks" % origin)
        if not any("scanops.security.%s" % name in task for task in tasks):
            raise ExampleError("%s: no example uses scanops.security.%s" % (origin, name))
        names = [task["name"] for task in tasks]
        if len(set(names)) != len(names):
            raise ExampleError("%s: example task names must be unique (the suite reports by name)" % origin)
        sources.append(source)
    return sources


def readme_examples(root):
    """``(plays, files)``: a Source per play in a role README's yaml blocks, and ``{filename: text}``."""
    plays, files = [], {}
    roles = os.path.join(root, "roles")
    for role in sorted(os.listdir(roles)):
        path = os.path.join(roles, role, "README.md")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        origin = os.path.relpath(path, root)
        number = 0
        for fence in FENCE.finditer(text):
            info = fence.group("info").split()
            if not info or info[0] not in ("yaml", "yml"):
                continue
            options = dict(word.split("=", 1) for word in info[1:] if "=" in word)
            body = fence.group("body")
            if "file" in options:
                if options["file"] in files and files[options["file"]] != body:
                    raise ExampleError("%s: two README files are both called %s" % (origin, options["file"]))
                files[options["file"]] = body
                continue
            loaded = yaml.safe_load(body)
            if not isinstance(loaded, list) or not all(isinstance(play, dict) and "hosts" in play for play in loaded):
                raise ExampleError("%s: a yaml block is neither a play nor marked file=<name>:\n%s" % (origin, body))
            if not all(play.get("name") for play in loaded):
                raise ExampleError("%s: every example play needs a name (the suite reports by name):\n%s" % (origin, body))
            number += 1
            plays.append(Source("readme", "%s README play %d" % (role, number), body, origin))
    return plays, files


def vault_variables(sources):
    """A random value for every ``vault_*`` variable the examples read (what a user keeps in a vault)."""
    names = sorted(set(name for source in sources for name in VAULT_VARIABLE.findall(source.text)))
    return {name: "example-%s-%s" % (name.replace("_", "-"), secrets.token_hex(12)) for name in names}


def indent(text, spaces):
    return "".join((" " * spaces + line) if line.strip() else line for line in text.splitlines(True))


RESET_PLAY_PREFIX = "examples suite | reset before "


def write_playbook(directory, modules, readme_plays, files):
    """Write the examples and one playbook that runs them; answer the playbook's path.

    Each module's examples run in a play of their own, on a host of their own (so one failure does
    not skip the other modules); each README play runs as written. Before each, an empty play named
    ``examples suite | reset before <example>`` tells the example_results callback to reset the
    emulator to its default seed.
    """
    os.makedirs(directory, exist_ok=True)
    for filename, text in files.items():
        with open(os.path.join(directory, filename), "w", encoding="utf-8") as handle:
            handle.write(text)
    plays = []
    for source in modules + readme_plays:
        plays.append("- name: %s%s\n  hosts: localhost\n  gather_facts: false\n  tasks: []\n" % (RESET_PLAY_PREFIX, source.name))
        with open(os.path.join(directory, "%s.yml" % source.slug), "w", encoding="utf-8") as handle:
            handle.write(source.text if source.kind == "module" else "---\n" + source.text)
        if source.kind == "module":
            plays.append("- name: examples suite | %s\n  hosts: example_%s\n  gather_facts: false\n  tasks:\n"
                         "    - name: The EXAMPLES of scanops.security.%s\n      ansible.builtin.import_tasks: %s.yml\n"
                         % (source.name, source.slug, source.name, source.slug))
        else:
            plays.append("- name: examples suite | %s\n  ansible.builtin.import_playbook: %s.yml\n" % (source.name, source.slug))
    playbook = os.path.join(directory, "examples.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        handle.write("---\n" + "\n".join(plays))
    return playbook


def write_inventory(directory, modules, python):
    path = os.path.join(directory, "inventory.ini")
    with open(path, "w", encoding="utf-8") as handle:
        for source in modules:
            handle.write("example_%s ansible_connection=local ansible_python_interpreter=%s\n" % (source.slug, python))
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % python)
    return path
