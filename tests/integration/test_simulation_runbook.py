# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `simulate` runbook, run as an operator runs it: playbooks/simulate.yml over an inventory, or `make simulate`.

Green on the shipped inventories, with every host real boto3 clients contact
in its matrix as leaving the mesh (in ambient mode, through the waypoint from
the caller namespaces only); red, with the report saying why, where the mesh's
own objects hide a declared host, open undeclared ones, break the gateway or
open the waypoint to every namespace, and where a manifest cannot be read; and
without the harness or Go, one line saying what it needs. It needs no kube
context: it contacts no cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

import sdk_capture
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.declared import declared
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.simulate import simulate_egress
from conftest import ANSIBLE_PLAYBOOK, ansible_env
from simulation_helpers import ROOT, render_inventory

pytestmark = pytest.mark.integration

PLAYBOOK = ROOT / "playbooks" / "simulate.yml"


def simulate(inventory: Path, out: Path, env: dict | None = None, **extra) -> subprocess.CompletedProcess:
    extra_vars = {"simulate_dir": str(out), **extra}
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(PLAYBOOK), "-e", json.dumps(extra_vars)],
        cwd=ROOT,
        env=ansible_env(**(env or {})),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def make_simulate(inventory: str, tmp_path: Path) -> tuple[Path, dict]:
    """`make simulate` on inventories/<inventory>, green: where the reports are, and each cluster rendered with its variables."""
    out = tmp_path / "simulate"
    run = subprocess.run(
        ["make", "simulate", f"INVENTORY=inventories/{inventory}", f"SIMULATE_DIR={out}", "SIMULATE_OFFLINE=true"],
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return out, render_inventory(inventory, tmp_path / "rendered")


def report(out: Path, cluster: str) -> dict:
    return json.loads((out / f"{cluster}.json").read_text())


def cells(data: dict, target: str) -> dict:
    [row] = [r for r in data["matrix"] if r["target"] == target]
    return row["cells"]


def write_manifests(directory: Path, *objects: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for index, obj in enumerate(objects):
        (directory / f"{index:02d}-{obj['kind'].lower()}.yaml").write_text(yaml.safe_dump(obj))
    return directory


def service(namespace: str, name: str, ports: list[dict], selector: dict | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": selector or {"app": name}, "ports": ports},
    }


# --------------------------------------------------------------------------
# Green


def test_on_prod_every_host_boto3_contacts_goes_through_the_gateway_and_the_mesh_stays(tmp_path):
    mesh = write_manifests(
        tmp_path / "mesh",
        service(
            "istio-system",
            "istio-egressgateway",
            [{"name": "https", "port": 443, "targetPort": 8443}],
            {"istio": "egressgateway"},
        ),
        service("orders", "api", [{"name": "http", "port": 8080}]),
        service("shop", "frontend", [{"name": "http-web", "port": 80}]),
    )
    out = tmp_path / "simulate"
    run = simulate(ROOT / "inventories" / "prod", out, simulate_mesh_objects=str(mesh), simulate_offline=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]

    clusters = yaml.safe_load((ROOT / "inventories" / "prod" / "hosts.yml").read_text())["clusters"]["hosts"]
    index = (out / "README.md").read_text()
    variables = render_inventory("prod", tmp_path / "rendered")
    for cluster in clusters:
        assert f"[{cluster}]({cluster}.md) | egress_gateway |" in index
        data = report(out, cluster)
        assert data["violations"] == [] and data["counts"]["violations"] == 0
        assert [c["name"] for c in data["callers"]] == ["billing", "orders", "payments", "default", "egress gateway"]
        # The operator's gateway Service was used, not the modelled one; its targetPort is where the gateway listens.
        assert data["gateway"] == {
            "service": "istio-egressgateway.istio-system.svc.cluster.local",
            "listener_port": 8443,
        }
        assert not any("modelled as Istio's egress gateway chart" in note for note in data["notes"])
        for host in sdk_capture.declared_hosts(variables[cluster].variables):
            row = cells(data, host)
            assert {name: c["outcome"] for name, c in row.items()} == {
                "billing": "via gateway",
                "orders": "via gateway",
                "payments": "via gateway",
                "default": "via gateway",
                "egress gateway": "allowed",
            }, host
            assert {c["cluster"] for c in row.values()} == {f"outbound|443||{host}"}
            assert row["egress gateway"]["rbac"], host
        for row in data["matrix"]:
            if row["kind"] in ("aws", "non-aws") and not row["declared"]:
                assert {c["outcome"] for c in row["cells"].values()} == {"black-holed"}, row
        # prod declares IRSA only: no link-local credential endpoint is open.
        assert {c["outcome"] for r in data["matrix"] if r["kind"] == "credentials" for c in r["cells"].values()} == {
            "black-holed"
        }
        # In-mesh Services of the mesh's objects: reached from the Sidecar namespaces.
        for host in ("api.orders.svc.cluster.local", "frontend.shop.svc.cluster.local"):
            assert {name: c["outcome"] for name, c in cells(data, host).items()} == {
                "billing": "allowed",
                "orders": "allowed",
                "payments": "allowed",
            }, host
        markdown = (out / f"{cluster}.md").read_text()
        assert "No violations" in markdown
        assert (
            "| host | port | why | billing (our Sidecar) | orders (our Sidecar) | payments (our Sidecar) |" in markdown
        )
        assert "`outbound\\|443\\|\\|sqs.us-east-1.amazonaws.com`" in markdown


STAGING = {"staging-use1": "us-east-1", "staging-euw1": "eu-west-1"}
STAGING_KMS = "vpce-0c1d2e3f4a5b6c7d8-m4n5p6q7.kms.eu-west-1.vpce.amazonaws.com"


def test_make_simulate_on_the_staging_inventory_is_green_at_the_waypoint(tmp_path):
    out, variables = make_simulate("staging", tmp_path)
    index = (out / "README.md").read_text()
    for cluster in STAGING:
        assert f"[{cluster}]({cluster}.md) | ambient |" in index
        data = report(out, cluster)
        assert data["mode"] == "ambient" and data["violations"] == [] and data["gateway"] is None
        assert data["waypoint"] == {"name": "aws-staging-waypoint", "namespace": "aws-egress"}
        assert [(c["name"], c["role"]) for c in data["callers"]] == [
            ("billing", "listed"),
            ("orders", "listed"),
            ("default", "unlisted"),
        ]
        assert data["notes"][0].startswith(
            "ztunnel is not modelled: every call starts at the waypoint aws-egress/aws-staging-waypoint"
        )
        declared = sdk_capture.declared_hosts(variables[cluster].variables)
        assert {r["target"] for r in data["matrix"] if r["declared"]} == set(declared)
        for host in declared:
            assert {name: c["outcome"] for name, c in cells(data, host).items()} == {
                "billing": "allowed",
                "orders": "allowed",
                "default": "denied",
            }, host
        for row in data["matrix"]:
            if not row["declared"]:
                assert {c["outcome"] for c in row["cells"].values()} <= {"black-holed", "denied"}, row
        markdown = (out / f"{cluster}.md").read_text()
        assert "No violations" in markdown and "ztunnel is not modelled" in markdown
        assert (
            "| host | port | why | billing (caller namespace) | orders (caller namespace) | default (not a caller namespace) |"
            in markdown
        )
    # The private cluster reaches KMS through its VPC endpoint's own name, which the declaration names too.
    assert cells(report(out, "staging-euw1"), STAGING_KMS)["orders"]["cluster"] == f"inbound-vip|443|tcp|{STAGING_KMS}"


def test_make_simulate_on_the_local_inventory_is_green(tmp_path):
    out, variables = make_simulate("local", tmp_path)
    for cluster in ("local-a", "local-b"):
        data = report(out, cluster)
        assert data["mode"] == "sidecar" and data["violations"] == []
        imds = cells(data, "169.254.169.254")["default"]
        assert (imds["outcome"], imds["cluster"]) == ("allowed", "outbound|80||imds.aws.internal")
        for host in sdk_capture.declared_hosts(variables[cluster].variables):
            first, _dot, rest = host.partition(".")
            target = f"simulated.{rest}" if first in (sdk_capture.SOME_BUCKET, sdk_capture.SOME_ACCOUNT) else host
            assert cells(data, target)["default"]["outcome"] == "allowed", host


# --------------------------------------------------------------------------
# Red


def inventory(tmp_path: Path, mesh: Path | None, **variables) -> Path:
    """One cluster in eu-west-1, sqs and s3 in sidecar mode unless `variables` say otherwise; no kube context."""
    root = tmp_path / "inventory"
    (root / "group_vars").mkdir(parents=True)
    (root / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "clusters": {
                    "hosts": {"sim-a": {}},
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    },
                }
            }
        )
    )
    group_vars = {
        "istio_aws_egress_name": "sim",
        "istio_aws_egress_services": ["sqs", "s3"],
        "istio_aws_egress_regions": ["eu-west-1"],
        "istio_aws_egress_sidecars": ["orders"],
        **variables,
    }
    if mesh:
        group_vars["simulate_mesh_objects"] = str(mesh)
    (root / "group_vars" / "clusters.yml").write_text(yaml.safe_dump(group_vars))
    return root


SQS = "sqs.eu-west-1.amazonaws.com"
S3 = "s3.eu-west-1.amazonaws.com"
EC2 = "ec2.eu-west-1.amazonaws.com"

HIDING_SIDECAR = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "Sidecar",
    "metadata": {"name": "default", "namespace": "default"},
    "spec": {"egress": [{"hosts": ["./*", f"istio-system/{SQS}"]}], "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}},
}
FOREIGN_ENTRY = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "ServiceEntry",
    "metadata": {"name": "all-of-aws", "namespace": "legacy"},
    "spec": {
        "hosts": ["*.amazonaws.com"],
        "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
        "resolution": "NONE",
        "location": "MESH_EXTERNAL",
    },
}


@pytest.mark.parametrize(
    "case",
    ["a-sidecar-hides-a-declared-host", "a-foreign-entry-opens-undeclared-hosts", "the-gateway-service-lacks-port-443"],
)
def test_the_runbook_fails_and_says_which_call_goes_the_wrong_way(tmp_path, case):
    # `message` is one call's violation in the report; `cause` the console's one line for every call it breaks.
    if case == "a-sidecar-hides-a-declared-host":
        mesh, variables = write_manifests(tmp_path / "mesh", HIDING_SIDECAR), {}
        wrong = [(S3, "default", "black-holed")]
        message = f"declared {S3} does not leave the mesh from namespace default (no Sidecar of ours)"
        cause = (
            "Sidecar default/default of the mesh hides declared hosts from namespace default; add istio-system/<host> "
            "(or istio-system/*) to its egress hosts, or remove it and set istio_aws_egress_sidecars to include default"
        )
    elif case == "a-foreign-entry-opens-undeclared-hosts":
        mesh, variables = write_manifests(tmp_path / "mesh", FOREIGN_ENTRY), {}
        wrong = [(EC2, "default", "allowed")]
        message = (
            f"undeclared {EC2} (ec2 in eu-west-1, not declared) leaves the mesh from namespace default (no Sidecar of ours) "
            f"through outbound|443||*.amazonaws.com; narrow its hosts or its exportTo to the namespaces that need them, "
            f"or declare the hosts in istio_aws_egress_services"
        )
        cause = (
            "ServiceEntry legacy/all-of-aws of the mesh opens *.amazonaws.com to undeclared hosts; narrow its hosts or its "
            "exportTo to the namespaces that need them, or declare the hosts in istio_aws_egress_services ("
        )
    else:
        mesh = write_manifests(
            tmp_path / "mesh",
            service("istio-system", "istio-egressgateway", [{"name": "http2", "port": 80}], {"istio": "egressgateway"}),
        )
        variables = {"istio_aws_egress_mode": "egress_gateway"}
        wrong = [(SQS, "orders", "dropped"), (SQS, "default", "dropped")]
        message = f"declared {SQS} does not leave the mesh from namespace orders (our Sidecar): dropped"
        cause = (
            "the gateway Service istio-system/istio-egressgateway has no port 443: the mesh's route to it has nowhere to go; "
            "add port 443 to Service istio-system/istio-egressgateway (Istio's egress gateway chart serves 443 -> 8443), "
            "or set istio_aws_egress_gateway.service to the egress gateway's Service ("
        )
    out = tmp_path / "simulate"
    run = simulate(inventory(tmp_path, mesh, **variables), out)
    assert run.returncode != 0
    assert "Traceback" not in run.stdout + run.stderr
    data = report(out, "sim-a")
    assert message in "\n".join(data["violations"])
    # Each violation says what to change; the console says each cause once, and the report keeps every call.
    assert all("istio_aws_egress_" in v or "its egress hosts" in v for v in data["violations"]), data["violations"]
    [group] = [g for g in data["violation_groups"] if g["line"].startswith(cause)]
    assert run.stdout.count(cause) == 1 and message not in run.stdout
    assert group["count"] == len(group["violations"]) and set(group["violations"]) <= set(data["violations"])
    if case == "the-gateway-service-lacks-port-443":
        # One root cause, every call routed through the gateway: one group, one console line.
        assert len(data["violation_groups"]) == 1 and group["count"] == len(data["violations"]) > 1
        assert f"{group['count']} calls: " in group["line"]
    for target, caller, outcome in wrong:
        cell = cells(data, target)[caller]
        assert cell["outcome"] == outcome and cell["violation"], cell
    if case != "the-gateway-service-lacks-port-443":
        # What the mesh's objects do not touch still goes the right way.
        assert cells(data, SQS)["orders"]["outcome"] == "allowed"
    markdown = (out / "sim-a.md").read_text()
    assert "## Violations" in markdown and f"- {group['line']}\n" in markdown
    assert all(f"- {v}\n" in markdown for v in data["violations"])
    assert "| [sim-a](sim-a.md) |" in (out / "README.md").read_text()


# An ALLOW policy of another team on the staging waypoint, admitting everyone: ALLOW policies add up.
OPEN_WAYPOINT = {
    "apiVersion": "security.istio.io/v1",
    "kind": "AuthorizationPolicy",
    "metadata": {"name": "legacy-allow-all", "namespace": "aws-egress"},
    "spec": {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "aws-staging-waypoint"}],
        "action": "ALLOW",
        "rules": [{}],
    },
}


def test_on_staging_a_policy_that_opens_the_waypoint_to_every_namespace_turns_the_runbook_red(tmp_path):
    out = tmp_path / "simulate"
    run = simulate(
        ROOT / "inventories" / "staging",
        out,
        simulate_mesh_objects=str(write_manifests(tmp_path / "mesh", OPEN_WAYPOINT)),
        simulate_offline=True,
    )
    assert run.returncode != 0
    assert "Traceback" not in run.stdout + run.stderr
    fix = (
        "remove or narrow the other ALLOW policies that target waypoint aws-egress/aws-staging-waypoint (ALLOW policies add "
        "up; the egress set's own admits istio_aws_egress_caller_namespaces to the declared hosts)"
    )
    cause = f"the AuthorizationPolicies on waypoint aws-egress/aws-staging-waypoint admit calls the egress set's own refuses; {fix}"
    for cluster, region in STAGING.items():
        sqs = f"sqs.{region}.amazonaws.com"
        message = (
            f"declared {sqs} leaves the mesh from namespace default (not a caller namespace) at the waypoint through "
            f"inbound-vip|443|tcp|{sqs}: the waypoint's policy admits it; {fix}"
        )
        data = report(out, cluster)
        assert message in data["violations"] and message not in run.stdout
        # One policy opens every call: one line on the console per cluster, every call in the report.
        [group] = data["violation_groups"]
        assert group["line"].startswith(cause) and group["count"] == len(data["violations"]) > 1
        assert group["line"] in run.stdout
        row = cells(data, sqs)
        assert (row["default"]["outcome"], row["default"]["expected"]) == ("allowed", "denied")
        assert (row["orders"]["outcome"], row["orders"]["violation"]) == ("allowed", "")
        # An undeclared name on a declared host's address now passes the waypoint too.
        assert any(v.startswith("undeclared example.com (not an AWS host, sent to ") for v in data["violations"])
        assert "## Violations" in (out / f"{cluster}.md").read_text()


def test_a_manifest_that_is_not_yaml_fails_naming_the_file(tmp_path):
    mesh = tmp_path / "mesh"
    mesh.mkdir()
    (mesh / "services.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: api\n")
    run = simulate(inventory(tmp_path, mesh), tmp_path / "simulate")
    assert run.returncode != 0
    assert "Traceback" not in run.stdout + run.stderr
    assert f"cannot read the manifests: {mesh / 'services.yaml'}: not YAML" in run.stdout


def test_without_the_harness_or_go_it_says_what_it_needs(tmp_path):
    no_go = os.pathsep.join(d for d in ansible_env()["PATH"].split(os.pathsep) if d and not (Path(d) / "go").exists())
    run = simulate(
        inventory(tmp_path, None),
        tmp_path / "simulate",
        env={"XDS_SIMULATE": "", "XDG_CACHE_HOME": str(tmp_path / "empty-cache"), "PATH": no_go},
    )
    assert run.returncode != 0
    assert "Traceback" not in run.stdout + run.stderr
    assert (
        "is not built for this collection, and there is no Go on PATH to build it: install Go 1.26 or newer (the first "
        "run builds it, which takes minutes), or set XDS_SIMULATE=/path/to/xds-simulate"
    ) in run.stdout


def test_a_named_harness_that_is_not_there_is_said_in_one_line(tmp_path):
    run = simulate(
        inventory(tmp_path, None), tmp_path / "simulate", env={"XDS_SIMULATE": str(tmp_path / "no-such-xds-simulate")}
    )
    assert run.returncode != 0
    assert "Traceback" not in run.stdout + run.stderr
    assert (
        f"xds-simulate not found at {tmp_path / 'no-such-xds-simulate'} (XDS_SIMULATE or the harness option)"
        in run.stdout
    )


def test_a_refused_manifest_of_the_set_is_a_violation_and_a_refused_mesh_object_a_note(tmp_path):
    def by_ip(name, namespace):
        # An IP literal as a host: istio's validation refuses it (egress-facts.md).
        return {
            "apiVersion": "networking.istio.io/v1",
            "kind": "ServiceEntry",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "hosts": ["169.254.169.254"],
                "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
                "resolution": "DNS",
                "location": "MESH_EXTERNAL",
            },
        }

    rendered = write_manifests(tmp_path / "rendered", by_ip("aws-sim-imds", "istio-system"))
    mesh = write_manifests(tmp_path / "mesh", by_ip("legacy-imds", "legacy"))
    data = simulate_egress(declared([], "sim", "istio-system", "sidecar"), rendered, mesh)
    [violation] = data["violations"]
    assert (
        violation.startswith("istio refuses ServiceEntry istio-system/aws-sim-imds: ")
        and "cannot be all-numeric" in violation
    )
    assert [
        n
        for n in data["notes"]
        if "legacy/legacy-imds" in n and n.endswith("(left out, as the API server would refuse it)")
    ]


def test_without_a_cluster_the_report_and_the_files_say_what_auto_was_taken_to_be(tmp_path):
    out = tmp_path / "simulate"
    run = simulate(inventory(tmp_path, None), out)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assumed = (
        "1 wildcard ServiceEntry assumed with resolution NONE (istio_aws_egress_wildcard_resolution: auto is decided "
        "against the cluster, and none was read: site.yml applies DYNAMIC_DNS where the cluster has Istio 1.30's CRDs); "
        "name the host's cluster (its context), or set istio_aws_egress_wildcard_resolution to dynamic_dns or none, "
        "to model exactly what is applied"
    )
    assert report(out, "sim-a")["notes"][0] == assumed
    kustomization = (out / "sim-a" / "kustomization.yaml").read_text()
    assert f"# Assumed without a cluster: {assumed}.\n" in kustomization
    assert (
        "# Assumed without a cluster: Istio resources assumed in version v1 (istio_aws_egress_api_version: auto"
        in kustomization
    )

    pinned = tmp_path / "pinned"
    pinned.mkdir()
    run = simulate(
        inventory(pinned, None, istio_aws_egress_wildcard_resolution="dynamic_dns", istio_aws_egress_api_version="v1"),
        pinned / "simulate",
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert not [note for note in report(pinned / "simulate", "sim-a")["notes"] if "assumed" in note]
    assert "Assumed" not in (pinned / "simulate" / "sim-a" / "kustomization.yaml").read_text()
