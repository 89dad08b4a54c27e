# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest plugin: wall time and CPU time of every test, to tell a test that waits from one that computes.

``tests/run-tests.sh`` loads it (``-p pytest_cputime``) in the pytest suites. Each test (setup, call
and teardown) is charged the CPU of the test process, of the processes it started and reaped
(ansible-playbook and the module processes under it) and of the live processes below it, such as a
session's emulator. On a loaded machine wall time grows with the load while CPU time does not,
so the pair shows where a suite's time goes: a test with little CPU and much wall time waits
(sleeps, polls, timers), one whose CPU is close to its wall time on an idle machine computes.

Options: ``--cpu-durations=N`` prints the N slowest tests by wall time (0 prints none, the
default 10); the totals line is printed whenever a test ran. Under pytest-xdist the workers
send their numbers to the controller, which prints one table.
"""

import os
import resource
import time

import pytest

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
METER = pytest.StashKey()
# (node id, wall s, CPU s) of every finished test, in the process that prints the summary.
RESULTS = []


def _has_children():
    """Whether this process has a child, live or not yet reaped (cheap: no /proc walk without one)."""
    try:
        # WNOWAIT: look without reaping, so subprocess still gets its child's status.
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    except (AttributeError, OSError):
        return True
    return True


def _descendants_cpu():
    """``{pid: CPU seconds}`` of the live processes below this one (their own and their reaped children's).

    One pass over /proc reads every process's parent and CPU counters; a process without children
    (most unit tests) skips it.
    """
    if not _has_children():
        return {}
    parents, cpu = {}, {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return {}
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(name)
        parents.setdefault(int(fields[1]), []).append(pid)
        # Fields 14-17 of stat (utime, stime, cutime, cstime), counted after the command name.
        cpu[pid] = sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    found = {}
    pending = list(parents.get(os.getpid(), []))
    while pending:
        pid = pending.pop()
        found[pid] = cpu[pid]
        pending.extend(parents.get(pid, []))
    return found


def _own_and_reaped_cpu():
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime


class Meter:
    """Wall and CPU seconds of one test.

    A live process below this one is charged, per test, what it used since the last look; when it
    is gone (reaped by this process or by another one below it, which then counts its whole
    lifetime), what was already charged or left out before is taken back, so nothing counts twice.
    """

    # pid -> CPU seconds of that live process already charged to a test or used before any test.
    seen = {}

    def __init__(self):
        self.wall = self.own = 0.0

    def start(self):
        self.wall = time.monotonic()
        self.own = _own_and_reaped_cpu()
        for pid, seconds in _descendants_cpu().items():
            self.seen.setdefault(pid, seconds)

    def stop(self):
        wall = time.monotonic() - self.wall
        cpu = _own_and_reaped_cpu() - self.own
        live = _descendants_cpu()
        for pid, seconds in live.items():
            cpu += seconds - self.seen.get(pid, 0.0)
            self.seen[pid] = seconds
        for pid in [pid for pid in self.seen if pid not in live]:
            cpu -= self.seen.pop(pid)
        return wall, max(cpu, 0.0)


def pytest_addoption(parser):
    parser.addoption("--cpu-durations", type=int, default=10, metavar="N",
                     help="print wall and CPU seconds of the N slowest tests (0: only the totals)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):  # pylint: disable=unused-argument
    meter = Meter()
    meter.start()
    item.stash[METER] = meter
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when == "teardown" and METER in item.stash:
        wall, cpu = item.stash[METER].stop()
        report.user_properties.append(("cputime", (round(wall, 3), round(cpu, 3))))


def pytest_runtest_logreport(report):
    """Collects the numbers in the process that prints (the controller under xdist)."""
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == "cputime":
            RESULTS.append((report.nodeid, value[0], value[1]))


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # pylint: disable=unused-argument
    if not RESULTS:
        return
    wall = sum(entry[1] for entry in RESULTS)
    cpu = sum(entry[2] for entry in RESULTS)
    shown = config.getoption("cpu_durations")
    if shown:
        terminalreporter.write_sep("=", "slowest %d tests: wall s, CPU s (the test process and every process below it)"
                                   % min(shown, len(RESULTS)))
        for nodeid, test_wall, test_cpu in sorted(RESULTS, key=lambda entry: -entry[1])[:shown]:
            terminalreporter.write_line("%8.1f %8.1f  %s" % (test_wall, test_cpu, nodeid))
    terminalreporter.write_line("tests' time: %d tests, wall %.1f s summed over tests, CPU %.1f s" % (len(RESULTS), wall, cpu))
