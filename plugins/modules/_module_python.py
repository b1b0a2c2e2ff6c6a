#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: _module_python
short_description: "[INTERNAL] Check that the Python running modules on a host can import the packages they need"
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - B(Internal to this collection:) P(meshops.aws_egress.egress_set#module) runs it on the host. Its options and results
    can change, and it can be removed, in any release.
  - Finds each of O(packages) in the Python that runs this module (the host's C(ansible_python_interpreter), or the one
    interpreter discovery chose) without importing it, and fails naming that Python and C(ansible_python_interpreter)
    when one is missing.
  - Cheap (one Python start, no import of the packages), so a role can check before its first real module run instead of
    failing after it with a message about the module's output.
options:
  packages:
    description: Import names of the packages, for example V(kubernetes).
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
    description: Looks only.
  diff_mode:
    support: none
    description: Nothing to show.
  platform:
    support: full
    platforms: posix
    description: Any host with Python.
"""

EXAMPLES = r"""
- name: Check that modules on this host can use the kubernetes client
  meshops.aws_egress._module_python:
    packages: [kubernetes]
"""

RETURN = r"""
python:
  description: The Python that ran the module.
  returned: always
  type: str
  sample: /usr/bin/python3
version:
  description: Its version.
  returned: always
  type: str
  sample: 3.11.7
missing:
  description: The packages it cannot import.
  returned: always
  type: list
  elements: str
"""

import importlib.util
import platform
import sys

from ansible.module_utils.basic import AnsibleModule


def missing_packages(packages):
    """The names of `packages` this Python cannot find."""
    return [name for name in packages if importlib.util.find_spec(name) is None]


def main():
    module = AnsibleModule(
        argument_spec=dict(packages=dict(type="list", elements="str", required=True)), supports_check_mode=True
    )
    missing = missing_packages(module.params["packages"])
    found = dict(python=sys.executable, version=platform.python_version(), missing=missing, changed=False)
    if missing:
        module.fail_json(
            msg=(
                f"the Python that runs modules here ({sys.executable}, {platform.python_version()}) cannot import "
                f"{', '.join(missing)}: install it there, or set ansible_python_interpreter to a Python that has it "
                f"(with ansible_connection: local, \"{{{{ ansible_playbook_python }}}}\" is the one running Ansible)"
            ),
            **found,
        )
    module.exit_json(**found)


if __name__ == "__main__":
    main()
