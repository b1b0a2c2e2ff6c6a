# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module runs from other threads go through a copy of the action with a shell of its own, and clean up after it."""

from __future__ import annotations

import threading

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.module_runs import ModuleRuns


class Shell:
    def __init__(self):
        self.tmpdir = None


class Connection:
    def __init__(self):
        self._shell = Shell()


class Action:
    def __init__(self):
        self._connection = Connection()
        self.removed = []
        self.lock = threading.Lock()

    def _execute_module(self, module_name, module_args, task_vars):
        shell = self._connection._shell
        shell.tmpdir = shell.tmpdir or f"/tmp/ansible-tmp-{id(shell)}"  # what _make_tmp_path does without pipelining
        return {"shell": shell, "tmpdir": shell.tmpdir, "module": module_name}

    def _remove_tmp_path(self, path):
        with self.lock:
            self.removed.append(path)
        self._connection._shell.tmpdir = None


def test_the_owning_thread_runs_through_the_action_itself():
    action = Action()
    result = ModuleRuns(action).execute("kubernetes.core.k8s", {}, {})
    assert result["shell"] is action._connection._shell and action.removed == []


def test_other_threads_each_get_a_shell_of_their_own_and_remove_their_directory():
    action = Action()
    runs, results = ModuleRuns(action), []
    threads = [
        threading.Thread(target=lambda: results.append(runs.execute("kubernetes.core.k8s", {}, {})))
        for _thread in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The results hold the shells, so no two can share an id.
    shells = {id(result["shell"]) for result in results}
    assert len(shells) == 4 and id(action._connection._shell) not in shells
    # Each removed the directory it made, and the action's own shell kept none.
    assert sorted(action.removed) == sorted(result["tmpdir"] for result in results)
    assert action._connection._shell.tmpdir is None
