# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether the declared AWS hosts have a way out of the cluster's VPC.

In a cluster marked as having no internet path (istio_aws_egress_internet_path:
false: no NAT gateway, no internet gateway route), AWS is reached through VPC
endpoints only.  Endpoints the aws_endpoints filter marked with the VPC
endpoint that carries them (`vpc_endpoint`) are fine; any other AWS host is
unreachable however the mesh is configured, and the plan says so.  Link-local
credential endpoints are on the node and always reachable.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import described, input_error
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

_SHOWN = 8


def notes(endpoints, internet_path=True):
    """The plan's notes about AWS hosts no VPC endpoint carries, in a cluster without an internet path."""
    if not isinstance(internet_path, bool):
        raise input_error("internet_path", f"expected true or false, got {described(internet_path)}")
    if internet_path:
        return []
    stranded = [endpoint for endpoint in endpoints if endpoint["kind"] == "api" and not endpoint.get("vpc_endpoint")]
    if not stranded:
        return []
    shown = [f"{e['name']} ({', '.join(e['hosts'][:2])}{', ...' if len(e['hosts']) > 2 else ''})" for e in stranded]
    return [
        f"this cluster has no internet path ({option_ref('internet_path')}: false), and no VPC endpoint carries "
        f"{listed(shown, _SHOWN)}: workloads cannot reach those hosts; add the VPC endpoints to the VPC and to "
        f"{option_ref('vpc_endpoints')}"
    ]
