# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""simulate.yml on a live cluster: the mesh read from it (get and list only), other teams' objects and their effect in the
report, and what a reader without a right gets: "not read", named, never a crash. A scratch cluster of the test's own,
so that other teams' objects there touch no other test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import run_playbook
from hardening_helpers import scratch_clusters, user_kubeconfig
from role_helpers import ROOT

pytestmark = pytest.mark.integration

SQS, S3, EC2 = "sqs.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com", "ec2.eu-west-1.amazonaws.com"
# Other teams' objects: a Sidecar in the namespace without ours that keeps only its own and legacy's hosts, legacy's
# entry for an AWS host the egress set does not declare, and a Gateway on the egress gateway that istiod refuses (SIMPLE
# TLS without a certificate).
OTHERS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "legacy"}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "orders"}},
    {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Sidecar",
        "metadata": {"name": "default", "namespace": "default"},
        "spec": {"egress": [{"hosts": ["./*", "legacy/*"]}], "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}},
    },
    {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": "ec2", "namespace": "legacy"},
        "spec": {
            "hosts": [EC2],
            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            "resolution": "DNS",
            "location": "MESH_EXTERNAL",
        },
    },
    {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "legacy-egress", "namespace": "istio-system"},
        "spec": {
            "selector": {"istio": "egressgateway"},
            "servers": [
                {
                    "port": {"number": 443, "name": "tls", "protocol": "TLS"},
                    "hosts": ["*.amazonaws.com"],
                    "tls": {"mode": "SIMPLE"},
                }
            ],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "api", "namespace": "orders"},
        "spec": {"selector": {"app": "api"}, "ports": [{"name": "http", "port": 8080}]},
    },
]


@pytest.fixture(scope="module")
def cluster():
    with scratch_clusters("sim-live") as (scratch,):
        scratch.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": OTHERS}))
        yield scratch


def inventory(tmp_path: Path, kubeconfig: str, context: str) -> Path:
    root = tmp_path / "inventory"
    (root / "group_vars").mkdir(parents=True)
    (root / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "clusters": {
                    "hosts": {"sim-live": {}},
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    },
                }
            }
        )
    )
    (root / "group_vars" / "clusters.yml").write_text(
        yaml.safe_dump(
            {
                "istio_aws_egress_kubeconfig": kubeconfig,
                "istio_aws_egress_context": context,
                "istio_aws_egress_name": "live",
                "istio_aws_egress_services": ["sqs", "s3"],
                "istio_aws_egress_regions": ["eu-west-1"],
                "istio_aws_egress_sidecars": ["orders"],
            }
        )
    )
    return root


def simulate(hosts: Path, out: Path):
    return run_playbook(ROOT / "playbooks" / "simulate.yml", "-i", str(hosts), extra_vars={"simulate_dir": str(out)})


def cell(data: dict, target: str, caller: str) -> dict:
    [row] = [r for r in data["matrix"] if r["target"] == target]
    return row["cells"][caller]


def test_simulate_reads_the_mesh_live_and_reports_other_teams_objects_writing_nothing(cluster, tmp_path):
    out = tmp_path / "simulate"
    cluster.audit.mark()
    run = simulate(inventory(tmp_path, cluster.kubeconfig, cluster.context), out)
    assert cluster.audit.writes() == [], "simulate only reads"
    assert run.returncode != 0, "other teams' objects send calls the wrong way"
    assert "Traceback" not in run.stdout + run.stderr
    data = json.loads((out / "sim-live.json").read_text())
    assert data["not_read"] == []
    assert any(n.startswith(f"the mesh's objects were read from {cluster.context}: ") for n in data["notes"]), data[
        "notes"
    ]
    # The Sidecar of namespace default hides the declared hosts from it; legacy's entry lets an undeclared host out there.
    assert cell(data, S3, "default")["outcome"] == "black-holed" and cell(data, S3, "default")["violation"]
    assert cell(data, EC2, "default")["outcome"] == "allowed" and cell(data, EC2, "default")["violation"]
    causes = [group["line"] for group in data["violation_groups"]]
    assert any(
        line.startswith("Sidecar default/default of the mesh hides declared hosts from namespace default")
        for line in causes
    ), causes
    assert any(
        line.startswith(f"ServiceEntry legacy/ec2 of the mesh opens {EC2} to undeclared hosts") for line in causes
    ), causes
    # Our own Sidecar namespace: declared hosts out, legacy's entry not imported, its in-mesh Service (read live) kept.
    assert cell(data, SQS, "orders")["outcome"] == "allowed" and cell(data, EC2, "orders")["outcome"] == "black-holed"
    assert not cell(data, "api.orders.svc.cluster.local", "orders")["violation"]
    # The other team's Gateway was read: istiod refuses it, and the report says so.
    assert any(n.startswith("istio refuses Gateway istio-system/legacy-egress") for n in data["notes"]), data["notes"]


def test_a_reader_without_list_on_one_kind_gets_not_read_in_the_report(cluster, tmp_path):
    # The shipped reader role, less `list` on AuthorizationPolicies, for the token user `unprivileged`.
    role = yaml.safe_load((ROOT / "roles" / "istio_aws_egress" / "files" / "rbac-simulate-reader.yaml").read_text())
    role["metadata"]["name"] += "-no-policies"
    role["rules"] = [rule for rule in role["rules"] if rule["resources"] != ["authorizationpolicies"]]
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": role["metadata"]["name"]},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role["metadata"]["name"]},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "unprivileged"}],
    }
    cluster.kubectl(
        "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [role, binding]})
    )
    kubeconfig = user_kubeconfig(cluster, "unprivileged", tmp_path / "reader.kubeconfig", context="reader")
    out = tmp_path / "simulate"
    cluster.audit.mark()
    run = simulate(inventory(tmp_path, str(kubeconfig), "reader"), out)
    assert cluster.audit.writes() == []
    assert "Traceback" not in run.stdout + run.stderr
    data = json.loads((out / "sim-live.json").read_text())
    assert data["not_read"] == ["authorizationpolicies.security.istio.io of every namespace (list)"]
    assert "## Not read" in (out / "sim-live.md").read_text()
    assert "- authorizationpolicies.security.istio.io of every namespace (list)" in (out / "sim-live.md").read_text()
    # Everything else was read: the other teams' objects still have their effect.
    assert cell(data, EC2, "default")["outcome"] == "allowed"
