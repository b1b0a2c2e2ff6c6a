# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SIGINT and SIGTERM while a run writes: stop at the next step, release the rollout lease, then end as Ansible would.

ansible-playbook forwards both signals (Ctrl-C, a job cancelled) to its worker
processes, and a worker's own handler kills its process group (the
kubernetes.core.k8s module it runs) and exits at once: a run holding the
rollout lease would keep it until it expires, and every other run would wait
for it. While a run writes, `SignalsDeferred` takes both signals instead: the
module is stopped all the same, the run raises at its next step (between
requests: never halfway through one of ours), its `finally` releases the
lease, and on leaving the block the signal takes its course with the handler
it replaced. SIGKILL cannot be caught: then the lease expires by itself.
"""

from __future__ import annotations

import os
import signal
import threading

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalsDeferred:
    """A context manager: SIGINT and SIGTERM are noted, not obeyed, until it is left; `check` raises once one came."""

    def __init__(self):
        self.received = None
        self._previous = {}

    def __enter__(self):
        # Handlers can only be set from the main thread; elsewhere signals keep their course.
        if threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._note) for signum in SIGNALS}
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        if self.received:
            signal.raise_signal(self.received)
        return False

    def _note(self, signum, _frame):
        self.received = self.received or signum
        # Ansible's worker leads its own process group, where the module it runs is: stop that module as the
        # worker's own handler would, without stopping this process.
        if os.getpgrp() == os.getpid():
            signal.signal(signum, signal.SIG_IGN)
            try:
                os.killpg(os.getpgrp(), signum)
            finally:
                signal.signal(signum, self._note)

    def check(self, doing):
        """Raise EgressFailure when a signal came: what was being done stops here."""
        if self.received:
            raise EgressFailure(
                "interrupted",
                doing,
                f"stopped by {signal.Signals(self.received).name}: nothing more is written, "
                f"and the rollout lease is released",
                converges=True,
            )
