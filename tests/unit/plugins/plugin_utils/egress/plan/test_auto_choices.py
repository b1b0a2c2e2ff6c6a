# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The `auto` choices decided against a cluster for render and simulate: the reads they make, and what they decide."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import auto_choices as choices

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import render_files as files

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import wildcards
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

ENTRY_CRD = "serviceentries.networking.istio.io"


def entry_crd(*served, resolutions=("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS")):
    schema = {
        "openAPIV3Schema": {
            "properties": {"spec": {"properties": {"resolution": {"type": "string", "enum": list(resolutions)}}}}
        }
    }
    return {
        "metadata": {"name": ENTRY_CRD},
        "spec": {"versions": [{"name": v, "served": True, "schema": schema} for v in served]},
    }


class Reader:
    """The reads of a cluster whose CRDs are `crds` (name -> CRD; absent: not installed; False: may not be read)."""

    def __init__(self, crds):
        self.given = crds
        self.crds = {}
        self.reads = []

    def served_versions(self, kind):
        if kind.crd is None:
            return list(kind.versions)
        self.reads.append(("served", kind.crd))
        crd = self.given.get(kind.crd)
        self.crds[kind.crd] = crd
        return [v["name"] for v in crd["spec"]["versions"] if v.get("served")] if crd else []

    def optional_crd(self, name):
        self.reads.append(("crd", name))
        crd = self.given.get(name)
        return (False, None) if crd is False else (True, crd)


def entry(name, hosts, resolution):
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": "aws"},
        "spec": {
            "hosts": hosts,
            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            "location": "MESH_EXTERNAL",
            "resolution": resolution,
        },
    }


BUCKETS = entry("aws-x-s3-wildcard", ["*.s3.eu-west-1.amazonaws.com"], "NONE")
SQS = entry("aws-x-sqs", ["sqs.eu-west-1.amazonaws.com"], "DNS")
ISTIO_1_30 = {"metadata": {"name": wildcards.ISTIO_1_30_CRD}}


def decide(crds, resources=(BUCKETS, SQS), **asked):
    reader = Reader(crds)
    asked = choices.Asked(name="x", cluster="prod-euw1", **{"wildcard_resolution": "auto", **asked})
    state = choices.read(reader, list(resources), asked.wildcard_resolution, asked.api_version)
    try:
        return (*named_options(choices.decide(list(resources), state, asked), "istio_aws_egress_"), reader.reads)
    except EgressFailure as failure:
        failure.reason = named_options(failure.reason, "istio_aws_egress_")
        raise


def test_on_istio_1_30_the_wildcards_resolve_dynamically_in_the_newest_version_served_reading_crds_only():
    decided, refusals, notes, reads = decide(
        {ENTRY_CRD: entry_crd("v1beta1", "v1"), wildcards.ISTIO_1_30_CRD: ISTIO_1_30}
    )
    assert [(o["apiVersion"], o["spec"]["resolution"]) for o in decided] == [
        ("networking.istio.io/v1", "DYNAMIC_DNS"),
        ("networking.istio.io/v1", "DNS"),
    ]
    assert (refusals, notes) == ([], [])
    assert sorted(reads) == [("crd", wildcards.ISTIO_1_30_CRD), ("served", ENTRY_CRD)]
    assert BUCKETS["spec"]["resolution"] == "NONE", "the given resources are not changed in place"


def test_before_istio_1_30_the_wildcards_stay_none_and_the_version_follows_the_cluster():
    decided, refusals, notes, _reads = decide(
        {ENTRY_CRD: entry_crd("v1alpha3", "v1beta1", resolutions=("NONE", "DNS"))}
    )
    assert [(o["apiVersion"], o["spec"]["resolution"]) for o in decided] == [
        ("networking.istio.io/v1beta1", "NONE"),
        ("networking.istio.io/v1beta1", "DNS"),
    ]
    assert refusals == []
    assert notes == [
        "wildcard hosts keep resolution NONE (istio_aws_egress_wildcard_resolution: auto): its ServiceEntry CRD "
        "does not accept DYNAMIC_DNS (Istio before 1.28)"
    ]


@pytest.mark.parametrize("choice", ["none", "dynamic_dns", "declared"])
def test_declared_choices_read_no_more_than_the_kinds(choice):
    _decided, _refusals, _notes, reads = decide(
        {ENTRY_CRD: entry_crd("v1")}, resources=(SQS,), wildcard_resolution=choice
    )
    assert reads == [("served", ENTRY_CRD)]


def test_a_cluster_without_istio_is_refused_as_site_refuses_it():
    with pytest.raises(EgressFailure) as err:
        decide({})
    assert "Istio is not installed on prod-euw1: it serves no ServiceEntry" in err.value.message


def test_a_kind_the_cluster_does_not_serve_names_the_option_that_does_without_it():
    cilium = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "x", "namespace": "orders"},
    }
    with pytest.raises(EgressFailure) as err:
        decide({}, resources=(cilium,))
    assert err.value.reason == (
        "Cilium is not installed on prod-euw1: it serves no CiliumNetworkPolicy (ciliumnetworkpolicies.cilium.io), which "
        "CiliumNetworkPolicy orders/x needs: install Cilium (its CustomResourceDefinition ciliumnetworkpolicies.cilium.io), "
        "or set istio_aws_egress_network_policy: kubernetes (or none), then run again"
    )


def test_a_pinned_version_the_cluster_does_not_serve_is_refused():
    with pytest.raises(EgressFailure) as err:
        decide({ENTRY_CRD: entry_crd("v1beta1")}, api_version="v1")
    assert (
        'istio_aws_egress_api_version: "v1" is not served by prod-euw1 (it serves networking.istio.io v1beta1)'
        in err.value.message
    )


def test_files_decided_by_a_cluster_assume_nothing():
    assumed = named_options(
        files.render_files([BUCKETS], "x", wildcard_resolution="auto")["assumed"], "istio_aws_egress_"
    )
    assert [line.split(" (")[0] for line in assumed] == [
        "1 wildcard ServiceEntry assumed with resolution NONE",
        "Istio resources assumed in version v1",
    ]
    assert files.render_files([BUCKETS], "x", wildcard_resolution="auto", decided_by="prod-euw1")["assumed"] == []
