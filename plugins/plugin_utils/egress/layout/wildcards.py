# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wildcard hosts: which resolution they get, and whether a cluster takes it.

A wildcard AWS host (`*.s3.us-east-1.amazonaws.com`) has no address of its
own.  With resolution NONE the proxy trusts the destination the application
chose; with DYNAMIC_DNS (Istio's CRD accepts it from 1.28; sidecars resolve it
from 1.30, waypoints with istiod's ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS)
it resolves the name the TLS handshake asks for.

* `none`: NONE, everywhere.
* `dynamic_dns`: DYNAMIC_DNS; a cluster whose CRD does not accept it is refused.
* `auto`: rendered as NONE (render mode contacts no cluster); egress_set turns
  the wildcard entries to DYNAMIC_DNS on a cluster that has Istio 1.30's CRDs
  (its ServiceEntry CRD accepts DYNAMIC_DNS, and it serves the TrafficExtension
  CRD that 1.30 added: 1.28's and 1.29's accept DYNAMIC_DNS too, but their
  sidecars do not resolve it).  In ambient mode `auto` stays NONE: the waypoint
  needs an istiod flag that no API shows.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils import role_options
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import describe, identity
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety.mesh import Finding
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import described, input_error
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import ISTIO_1_30_CRD, SERVICE_ENTRY
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

CHOICES = role_options.choices("wildcard_resolution")
# egress_set's former word for the resolution as the resources declare it (none, dynamic_dns), accepted until 1.0.0.
DEPRECATED_CHOICE = "declared"
DEPRECATION = (
    "meshops.aws_egress.egress_set: wildcard_resolution=declared is deprecated: give the choice the resources were laid "
    "out with (none or dynamic_dns, as the role's istio_aws_egress_wildcard_resolution), or leave it out"
)
DYNAMIC_DNS = "DYNAMIC_DNS"
SERVICE_ENTRY_CRD = SERVICE_ENTRY.crd
WAYPOINT_FLAG = "ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS"
USE_WAYPOINT_LABEL = "istio.io/use-waypoint"


def check_choice(choice):
    if choice not in CHOICES:
        raise input_error("wildcard_resolution", f"expected one of {', '.join(CHOICES)}, got {described(choice)}")


def is_wildcard(endpoint):
    """A TLS API endpoint of wildcard hosts only, which nothing but its name can resolve."""
    return (
        endpoint["kind"] == "api"
        and endpoint["protocol"] == "TLS"
        and endpoint["resolution"] == "NONE"
        and not endpoint.get("addresses")
        and not endpoint.get("endpoints")
        and all(host.startswith("*.") for host in endpoint["hosts"])
    )


def resolution(endpoint, choice):
    """The resolution the layout writes for `endpoint`: DYNAMIC_DNS for wildcards only when asked for by name."""
    return DYNAMIC_DNS if choice == "dynamic_dns" and is_wildcard(endpoint) else endpoint["resolution"]


def for_cluster(choice, mode):
    """The choice egress_set is told (its wildcard_resolution option): the role's, but in ambient mode `auto` stays none."""
    return "none" if choice == "auto" and mode == "ambient" else choice


def assumed(objects, choice):
    """What `auto` was taken to mean for `objects` where no cluster decided it (render, simulate), and how to pin it.

    `choice` is what the layout leaves to the cluster (for_cluster): only `auto` leaves anything."""
    entries = [obj for obj in objects if _upgradable(obj)] if choice == "auto" else []
    if not entries:
        return []
    return [
        f"{len(entries)} wildcard ServiceEntr{'y' if len(entries) == 1 else 'ies'} assumed with resolution NONE "
        f"({option_ref('wildcard_resolution')}: auto is decided against the cluster, and none was read: site.yml applies "
        f"{DYNAMIC_DNS} where the cluster has Istio 1.30's CRDs); name the host's cluster (its context), or set "
        f"{option_ref('wildcard_resolution')} to dynamic_dns or none, to model exactly what is applied"
    ]


# -- on the cluster (egress_set) ------------------------------------------------


def accepted(crd, version):
    """The resolutions the ServiceEntry CRD's schema of `version` lists; None when it lists none (no enum to check)."""
    for served in (crd or {}).get("spec", {}).get("versions") or []:
        if served.get("name") == version:
            schema = ((served.get("schema") or {}).get("openAPIV3Schema") or {}).get("properties", {}).get("spec", {})
            enum = (schema.get("properties") or {}).get("resolution", {}).get("enum")
            return list(enum) if enum else None
    return None


def _is_entry(obj):
    return identity(obj)[:2] == SERVICE_ENTRY.key


def _upgradable(obj):
    """A wildcard entry as the layout writes it for `auto`: TLS, NONE, outside the mesh, no addresses, no waypoint."""
    spec = obj.get("spec") or {}
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return (
        _is_entry(obj)
        and spec.get("resolution", "NONE") == "NONE"
        and spec.get("location") == "MESH_EXTERNAL"
        and not spec.get("addresses")
        and not spec.get("endpoints")
        and USE_WAYPOINT_LABEL not in labels
        and spec.get("hosts")
        and all(host.startswith("*.") for host in spec["hosts"])
        and all(port.get("protocol") == "TLS" for port in spec.get("ports") or [])
    )


def resolve(desired, crds, version, choice, unreadable=()):
    """(desired, refusals, notes): wildcard entries as the cluster should get them, and what it cannot take.

    `crds`: CustomResourceDefinitions read, by name (None: not there); `version`:
    the ServiceEntry version written; `unreadable`: CRDs the user may not read.
    """
    enum = accepted(crds.get(SERVICE_ENTRY_CRD), version)
    notes, refusals = [], []
    istio_1_30 = crds.get(ISTIO_1_30_CRD) is not None
    why_not = _why_not_1_30(unreadable)
    if choice == "auto":
        wildcards = [obj for obj in desired if _upgradable(obj)]
        if wildcards and enum is not None and DYNAMIC_DNS in enum and istio_1_30:
            desired = [_with_dynamic_dns(obj) if _upgradable(obj) else obj for obj in desired]
        elif wildcards:
            reason = (
                f"its ServiceEntry CRD does not accept {DYNAMIC_DNS} (Istio before 1.28)"
                if enum is None or DYNAMIC_DNS not in enum
                else why_not
            )
            notes.append(f"wildcard hosts keep resolution NONE ({option_ref('wildcard_resolution')}: auto): {reason}")
    for value in sorted({(obj.get("spec") or {}).get("resolution") for obj in desired if _is_entry(obj)} - {None}):
        having = [describe(obj) for obj in desired if _is_entry(obj) and obj["spec"].get("resolution") == value]
        if enum is not None and value not in enum:
            refusals.append(
                Finding(
                    f"the cluster's ServiceEntry CustomResourceDefinition does not accept resolution {value} (it accepts "
                    f"{', '.join(enum)}), which {listed(having)} {'has' if len(having) == 1 else 'have'}",
                    f"set {option_ref('wildcard_resolution')} to none or auto, or upgrade Istio (its CRD accepts {DYNAMIC_DNS} "
                    f"from 1.28 on, and sidecars resolve it from 1.30 on)"
                    if value == DYNAMIC_DNS
                    else "upgrade Istio's CRDs",
                )
            )
        elif value == DYNAMIC_DNS and not istio_1_30 and choice != "auto":
            direct = [
                describe(obj)
                for obj in desired
                if _is_entry(obj)
                and obj["spec"].get("resolution") == value
                and USE_WAYPOINT_LABEL not in ((obj.get("metadata") or {}).get("labels") or {})
            ]
            if direct:
                notes.append(
                    f"{listed(direct)} {'resolves' if len(direct) == 1 else 'resolve'} with {DYNAMIC_DNS} at the sidecars, but {why_not}: "
                    f"under an older istiod their wildcard hosts are not reached"
                )
    return desired, refusals, notes


def _why_not_1_30(unreadable):
    if ISTIO_1_30_CRD in unreadable:
        return (
            f"the CustomResourceDefinition {ISTIO_1_30_CRD}, which says whether the cluster has Istio 1.30's CRDs, "
            f"may not be read (install the role's RBAC again)"
        )
    return (
        f"the cluster has no Istio 1.30 CRDs (no {ISTIO_1_30_CRD}), and sidecars resolve {DYNAMIC_DNS} "
        f"from Istio 1.30 on"
    )


def _with_dynamic_dns(obj):
    return {**obj, "spec": {**obj["spec"], "resolution": DYNAMIC_DNS}}


def crds_to_read(desired, choice):
    """The CustomResourceDefinitions, beyond the kinds', that deciding needs."""
    needed = choice == "auto" or any(
        _is_entry(obj) and (obj.get("spec") or {}).get("resolution") == DYNAMIC_DNS for obj in desired
    )
    return [ISTIO_1_30_CRD] if needed else []
