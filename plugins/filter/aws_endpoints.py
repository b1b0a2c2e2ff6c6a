# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The aws_endpoints filter: arguments in, endpoint dicts or AnsibleFilterError out.

Documentation: aws_endpoints.yml beside this file.  The work is done in
plugin_utils (see plugin_utils/expand.py).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.expand import expand
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import caller_error

PLUGIN_NAME = "meshops.aws_egress.aws_endpoints"


def warn(message):
    """Show a warning through Ansible's Display.

    Imported on first use: ansible.utils.display loads Ansible's configuration,
    which a running Ansible has loaded anyway, but ansible-doc, tests and
    anything else importing this plugin may not need.
    """
    from ansible.utils.display import Display

    Display().warning(message)


def aws_endpoints(services, /, variable_prefix="", **options):
    """Expand AWS services into one endpoint dict per ServiceEntry.

    `services` is positional-only, so `services=` among the keyword arguments
    is reported as an unknown option rather than a TypeError.
    """
    try:
        expansion = expand(services, **options)
    except InputError as exc:
        # With the caller's variable prefix, the message names the caller's variables alone.
        raise caller_error(exc, PLUGIN_NAME, variable_prefix) from None
    except AnsibleFilterError as exc:
        raise AnsibleFilterError(f"{PLUGIN_NAME}: {exc.message}") from None
    except Exception as exc:  # pylint: disable=broad-except
        # Input errors are all checked above; anything else is a bug or a
        # botocore surprise, and still reaches the user as a filter error.
        raise AnsibleFilterError(f"{PLUGIN_NAME}: unexpected {type(exc).__name__}: {exc}") from exc
    for warning in expansion.warnings:
        warn(f"{PLUGIN_NAME}: {warning}")
    return expansion.endpoints


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {"aws_endpoints": aws_endpoints}
