# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Modules run by one action task from several threads at once.

An action plugin runs a module through its connection's shell, which keeps
the task's temporary directory (where, without pipelining, the module file
and its arguments are written) in `shell.tmpdir`: two runs at once through the
same shell would write the same files and remove each other's directory.  So a
run from another thread goes through a copy of the action whose connection
has a shell of its own, and removes the directory it made when it ends.  The
thread that made ModuleRuns runs modules as the action always does.

The caller runs each thread in a copy of its context (contextvars): Ansible
keeps its templating state there.
"""

from __future__ import annotations

import copy
import threading


class ModuleRuns:
    """`execute(module_name, module_args, task_vars)`: the module's result, from any thread."""

    def __init__(self, action):
        self._action = action
        self._owner = threading.get_ident()

    def execute(self, module_name, module_args, task_vars):
        if threading.get_ident() == self._owner:
            return self._action._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
        runner = self._runner()
        try:
            return runner._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
        finally:
            if runner._connection._shell.tmpdir:
                runner._remove_tmp_path(runner._connection._shell.tmpdir)

    def _runner(self):
        """A copy of the action with a connection and shell of its own, with no temporary directory yet."""
        runner = copy.copy(self._action)
        runner._connection = copy.copy(self._action._connection)
        runner._connection._shell = copy.copy(self._action._connection._shell)
        runner._connection._shell.tmpdir = None
        return runner
