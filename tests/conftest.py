# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""In CI (CI set in the environment) a skipped test fails the run.

A skip says why it skipped; on a developer's machine that is enough. CI must
have run everything, or a green run would claim what nothing checked.
"""

from __future__ import annotations

import os

import pytest

SKIPPED: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI") and SKIPPED and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if os.environ.get("CI") and SKIPPED:
        terminalreporter.write_line(f"CI is set: {len(SKIPPED)} skipped test(s) fail the run:", red=True)
        for nodeid in SKIPPED:
            terminalreporter.write_line(f"  {nodeid}")
