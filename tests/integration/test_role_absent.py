# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""state: absent removes every resource of the egress set, and only those; twice is fine."""

from __future__ import annotations

import pytest

from role_helpers import (
    GATEWAY_REGIONS,
    egress_gateway,
    fresh_namespace,
    objects,
    removed_after,
    run_role,
    unique_name,
    writes,
)

pytestmark = pytest.mark.integration

# Qualified: with the Gateway API installed, "gateways" alone means gateway.networking.k8s.io.
KINDS = (
    "serviceentries",
    "gateways.networking.istio.io",
    "destinationrules",
    "virtualservices",
    "authorizationpolicies",
    "sidecars",
)


def egress(namespace: str, name: str, **overrides) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["sqs"],
        "istio_aws_egress_regions": ["us-east-1"],
        "istio_aws_egress_credential_sources": ["imds"],
        **overrides,
    }


def owned(cluster, name: str) -> set[str]:
    return {
        f"{kind}/{key}"
        for kind in KINDS
        for key in objects(
            cluster, kind, selector=f"app.kubernetes.io/managed-by=meshops.aws_egress,meshops.io/egress-set={name}"
        )
    }


def test_absent_removes_the_whole_set_and_twice_is_fine(local_cluster, tmp_path):
    namespace = fresh_namespace(local_cluster, "role-absent")
    apps = fresh_namespace(local_cluster, "role-absent-apps")
    gateway = egress_gateway(local_cluster, "role-absent-gw")
    gone_name, stays_name = unique_name("gone"), unique_name("stays")
    full = egress(
        namespace,
        gone_name,
        istio_aws_egress_mode="egress_gateway",
        istio_aws_egress_sidecars=[apps],
        istio_aws_egress_gateway=gateway,
        istio_aws_egress_regions=[GATEWAY_REGIONS["role_absent"]],
    )
    with removed_after(local_cluster, tmp_path) as remove:
        remove(full)
        run_role(local_cluster, full, tmp_path).assert_ok()
        # Another set in the namespace, with hosts of its own (one host in two sets of a namespace is refused).
        run_role(
            local_cluster,
            egress(namespace, stays_name, istio_aws_egress_services=["sns"], istio_aws_egress_credential_sources=[]),
            tmp_path,
        ).assert_ok()
        assert (
            len(owned(local_cluster, gone_name)) == 7
        )  # 2 entries, Gateway, DestinationRule, VirtualService, AuthorizationPolicy, Sidecar
        stays = owned(local_cluster, stays_name)
        assert len(stays) == 1

        local_cluster.audit.mark()
        # The service variables no longer matter; bad ones would not even be read.
        gone = run_role(
            local_cluster,
            {**full, "istio_aws_egress_state": "absent", "istio_aws_egress_services": ["no-such-service"]},
            tmp_path,
        )
        assert gone.assert_ok().changed == 1
        assert len(writes(local_cluster.audit)) == 7 and {write[0] for write in writes(local_cluster.audit)} == {
            "delete"
        }
        assert owned(local_cluster, gone_name) == set()
        assert owned(local_cluster, stays_name) == stays

        local_cluster.audit.mark()
        again = run_role(local_cluster, {**full, "istio_aws_egress_state": "absent"}, tmp_path).assert_ok()
        assert again.changed == 0 and writes(local_cluster.audit) == []
