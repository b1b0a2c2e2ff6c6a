# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The k8s_failure filter: a failure message in, the one line that matters out.

Documentation: k8s_failure.yml beside this file.  The work is done in
module_utils/api_errors.py (the modules use it too).
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.api_errors import failure_reason


def k8s_failure(message):
    """The API server's message, or which server could not be reached and why."""
    return failure_reason(message)


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {"k8s_failure": k8s_failure}
