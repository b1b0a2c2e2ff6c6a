# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SIGINT and SIGTERM while a run writes: noted, the process's own children stopped, then delivered as before.

Each case runs in a process of its own that leads its process group, as Ansible's worker does, so that real signals
reach real processes and nothing of the test runner.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import os, signal, subprocess, sys
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.interruption import SignalsDeferred

    os.setsid()  # as Ansible's worker: the leader of its process group, where the module it runs is
    signum = getattr(signal, sys.argv[1])
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with SignalsDeferred() as deferred:
        os.kill(os.getpid(), signum)
        print("child ended by", -child.wait(timeout=30), flush=True)
        try:
            deferred.check("applying")
        except EgressFailure as failure:
            print(failure.step, failure.message, flush=True)
        print("still here, releasing the lease", flush=True)
    print("not reached: the signal takes its course on leaving", flush=True)
""")


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_child_lets_the_run_finish_its_step_then_takes_its_course(name):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    signum = getattr(signal, name)
    lines = done.stdout.splitlines()
    assert lines == [
        f"child ended by {signum}",
        f"interrupted applying failed: stopped by {name}: nothing more is written, and the rollout lease is released "
        f"(a rerun plans from what is there and converges)",
        "still here, releasing the lease",
    ], done.stderr
    # The handler it replaced (Python's: KeyboardInterrupt for SIGINT) ends the process, as the signal would have.
    assert done.returncode == -signum
