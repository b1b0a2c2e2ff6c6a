# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The _egress_layout filter (internal to the role): endpoints in, the Istio resources an egress set needs out.

Documentation: _egress_layout.yml beside this file.  The decisions are in
plugin_utils/egress/layout/resources.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.plugin_utils import filter_docs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import data_version
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.resources import (
    DEFAULT_SIDECAR_HOSTS,
    layout,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import caller_error, named_options

PLUGIN_NAME = "meshops.aws_egress._egress_layout"


def egress_layout(
    endpoints,
    name,
    namespace,
    name_prefix,
    mode="sidecar",
    gateway=None,
    sidecars=None,
    export_to=None,
    sidecar_hosts=None,
    network_policy="none",
    network_policy_dns=None,
    network_policy_istiod=None,
    network_policy_egress=None,
    internet_path=True,
    waypoint=None,
    caller_namespaces=None,
    wildcard_resolution="none",
    exclude_hosts=None,
    variable_prefix="",
    log_blocked=False,
):
    """The resources of egress set `name`, as plain data for the role's templates."""
    try:
        # Choices as _egress_layout.yml documents them; the rest is checked where it is used.
        filter_docs.check(__file__, dict(locals()))
        resources = layout(
            endpoints,
            name=name,
            namespace=namespace,
            name_prefix=name_prefix,
            mode=mode,
            gateway=gateway,
            sidecars=[] if sidecars is None else sidecars,
            export_to=["*"] if export_to is None else export_to,
            sidecar_hosts=list(DEFAULT_SIDECAR_HOSTS) if sidecar_hosts is None else sidecar_hosts,
            network_policy=network_policy,
            network_policy_dns=network_policy_dns,
            network_policy_istiod=network_policy_istiod,
            network_policy_egress=[] if network_policy_egress is None else network_policy_egress,
            internet_path=internet_path,
            waypoint=waypoint,
            caller_namespaces=[] if caller_namespaces is None else caller_namespaces,
            wildcard_resolution=wildcard_resolution,
            exclude_hosts=[] if exclude_hosts is None else exclude_hosts,
            log_blocked=log_blocked,
            # The endpoints came from this process's botocore (aws_endpoints, just before); none, nothing came.
            endpoint_data=data_version.current() if endpoints else None,
        )
    except InputError as exc:
        # Called with the caller's variable prefix, the message names the caller's variables alone.
        raise caller_error(exc, PLUGIN_NAME, variable_prefix) from None
    except (KeyError, TypeError, AttributeError) as exc:
        # Endpoints come from aws_endpoints; anything else here is a caller's bug.
        raise AnsibleFilterError(
            f"{PLUGIN_NAME}: expected endpoint dicts from meshops.aws_egress.aws_endpoints ({type(exc).__name__}: {exc})"
        ) from exc
    # The notes name options as the caller's variables.
    return named_options(resources, variable_prefix)


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {"_egress_layout": egress_layout}
