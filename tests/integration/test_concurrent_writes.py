# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A far cluster is written by concurrent kubernetes.core.k8s runs, in the order traffic needs, and stays safe.

The role talks to the first local cluster through its toxiproxy proxy (the `-proxied` context) with a round trip of
LATENCY_MS: far enough for a plan to be split into batches written at once (batches.py). The API server's audit log
says what was written when; the role's result says how many runs each step took. Faults act on the same proxy.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import ANSIBLE_PLAYBOOK, ROOT, ansible_env
from hardening_helpers import Background, labelled, lease_holder, wait_for, writes_of
from role_helpers import egress_gateway, fresh_namespace, rerun_writes_nothing, role_command, run_role, unique_name

pytestmark = pytest.mark.integration

LATENCY_MS = 50
# A region of its own: the hosts routed through this test's gateway are routed by no other test's set.
GATEWAY_REGION = "me-central-1"
SERVICES = [
    "sqs",
    "sns",
    "kms",
    "secretsmanager",
    "ssm",
    "logs",
    "ecr",
    "lambda",
    "events",
    "firehose",
    "athena",
    "glue",
    "cloudformation",
    "ec2",
    "elasticache",
    "rds",
    "ecs",
    "eks",
    "acm",
    "apigateway",
    "codebuild",
    "xray",
    "ses",
    "appconfig",
    "batch",
    "cloudtrail",
    "config",
    "autoscaling",
    "elbv2",
]
REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-3",
    "sa-east-1",
    "eu-south-1",
    "me-south-1",
    "af-south-1",
]
# A lease the faulted run could not release expires soon, and is not due for renewal while the faults act.
LOCK = {"duration": 12, "timeout": 60}
# The phases of kinds.py, by the audit log's resource names.
TARGETS = {"gateways", "destinationrules", "authorizationpolicies"}


def far(cluster, namespace: str, name: str, tmp_path, **extra) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_lock": LOCK,
        "istio_aws_egress_kubeconfig": cluster.kubeconfig,
        "istio_aws_egress_context": cluster.proxied_context,
        "result_file": str(tmp_path / f"result-{name}.json"),
        **extra,
    }


def result_of(variables: dict) -> dict:
    with open(variables["result_file"], encoding="utf-8") as saved:
        return json.load(saved)


def received(events: list[dict], verb: str, resources: set[str]) -> list[str]:
    """When the API server received each write of `verb` to `resources` (RFC 3339 with microseconds: sortable)."""
    return sorted(
        e["requestReceivedTimestamp"] for e in events if e["verb"] == verb and e["objectRef"]["resource"] in resources
    )


@pytest.fixture
def route_namespace(local_cluster):
    """A namespace for routes of GATEWAY_REGION's hosts, emptied of routes after the test even when it fails: a route
    left behind would make the next run's refused ("already routes")."""
    namespace = fresh_namespace(local_cluster, "conc")
    yield namespace
    local_cluster.kubectl("delete", "virtualservices", "--all", "-n", namespace)


def test_a_far_cluster_is_written_by_concurrent_runs_in_the_order_traffic_needs(
    local_cluster, toxics, tmp_path, route_namespace
):
    gateway = egress_gateway(local_cluster, "conc-gw")
    namespace, name = route_namespace, unique_name("conc")
    variables = far(
        local_cluster,
        namespace,
        name,
        tmp_path,
        istio_aws_egress_services=SERVICES,
        istio_aws_egress_regions=[GATEWAY_REGION],
        istio_aws_egress_mode="egress_gateway",
        istio_aws_egress_gateway=gateway,
    )
    toxics.latency(LATENCY_MS)

    local_cluster.audit.mark()
    run_role(None, variables, tmp_path).assert_ok()
    applied = result_of(variables)
    # 29 entries, each waiting 3 round trips of 50 ms: worth several runs; the gateway's objects and the route one each.
    assert applied["runs"]["apply"] >= 5, applied["runs"]
    assert applied["counts"]["create"] == len(applied["apply"]) == 33
    events = [e for e in local_cluster.audit.writes() if e["responseStatus"]["code"] < 300]
    targets, entries = received(events, "patch", TARGETS), received(events, "patch", {"serviceentries"})
    routes = received(events, "patch", {"virtualservices"})
    assert (len(targets), len(entries), len(routes)) == (3, 29, 1)
    assert max(targets) < min(entries) and max(entries) < min(routes)

    rerun_writes_nothing(local_cluster, variables, tmp_path)

    # Removed: the route first, then the entries it sent to the gateway, then what it pointed at.
    absent = {**variables, "istio_aws_egress_state": "absent"}
    local_cluster.audit.mark()
    run_role(None, absent, tmp_path).assert_ok()
    pruned = result_of(absent)
    assert pruned["runs"]["prune"] >= 3 and pruned["counts"]["prune"] == 33, pruned["runs"]
    events = [e for e in local_cluster.audit.writes() if e["responseStatus"]["code"] < 300]
    targets, entries = received(events, "delete", TARGETS), received(events, "delete", {"serviceentries"})
    routes = received(events, "delete", {"virtualservices"})
    assert (len(targets), len(entries), len(routes)) == (3, 29, 1)
    assert max(routes) < min(entries) and max(entries) < min(targets)
    assert labelled(local_cluster, "serviceentries", namespace, name) == []
    rerun_writes_nothing(local_cluster, absent, tmp_path)


def test_concurrent_runs_without_pipelining_use_a_vaulted_token(local_cluster, toxics, tmp_path):
    """Without pipelining every run writes its module to a temporary directory; the token is vaulted and no kubeconfig
    is set: a run sharing another's directory, or a thread without Ansible's context, fails here."""
    namespace, name = fresh_namespace(local_cluster, "conc-vault"), unique_name("concvault")
    password = tmp_path / "vault-password"
    password.write_text("not-a-real-secret\n")
    vaulted = subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK.parent / "ansible-vault"),
            "encrypt_string",
            "--vault-password-file",
            str(password),
            "--name",
            "vaulted_token",
            local_cluster.token("admin"),
        ],
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    variables_file = tmp_path / "vaulted.yml"
    variables_file.write_text(vaulted)
    proxied = f"https://127.0.0.1:{local_cluster.info['proxy_port']}"
    variables = {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_lock": LOCK,
        "istio_aws_egress_services": ["sqs", "sns", "kms"],
        "istio_aws_egress_regions": REGIONS,
        "server": proxied,
        "ca_file": local_cluster.info["ca_file"],
        "result_file": str(tmp_path / "result.json"),
    }
    extra = tmp_path / "variables.json"
    extra.write_text(json.dumps(variables))
    toxics.latency(LATENCY_MS)
    inventory = ROOT / "tests" / "integration" / "playbooks" / "istio_aws_egress" / "inventory.yml"
    command = [
        str(ANSIBLE_PLAYBOOK),
        "-i",
        str(inventory),
        str(ROOT / "tests" / "integration" / "playbooks" / "concurrent" / "vaulted_token.yml"),
        "--vault-password-file",
        str(password),
        "-e",
        f"@{variables_file}",
        "-e",
        f"@{extra}",
    ]
    remote_tmp = tmp_path / "remote-tmp"
    remote_tmp.mkdir()
    environment = ansible_env(
        ANSIBLE_PIPELINING="False", ANSIBLE_REMOTE_TMP=str(remote_tmp), KUBECONFIG=str(tmp_path / "no-kubeconfig")
    )

    local_cluster.audit.mark()
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["runs"]["apply"] >= 2 and result["counts"]["create"] == 3 * len(REGIONS)
    assert sorted(labelled(local_cluster, "serviceentries", namespace, name)) == sorted(
        f"aws-{name}-{service}-{region}" for service in ("sqs", "sns", "kms") for region in REGIONS
    )
    # Each run made its module's temporary directory there, and removed it: none is left behind.
    assert list(remote_tmp.iterdir()) == []
    assert "Error deleting remote temporary files" not in done.stdout + done.stderr

    local_cluster.audit.mark()
    again = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False, timeout=600)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout + again.stderr
    assert [e for e in local_cluster.audit.writes() if e["objectRef"].get("namespace") == namespace] == []


@pytest.mark.parametrize("step", ["apply", "prune"])
def test_resets_and_timeouts_in_some_batches_fail_the_run_and_the_rerun_converges(
    local_cluster, toxics, tmp_path, step
):
    namespace, name = fresh_namespace(local_cluster, f"conc-{step}"), unique_name(f"conc{step}")
    services = SERVICES[:10]
    everything = far(
        local_cluster, namespace, name, tmp_path, istio_aws_egress_services=services, istio_aws_egress_regions=REGIONS
    )
    fewer = {**everything, "istio_aws_egress_services": services[:2]}
    toxics.latency(LATENCY_MS)
    if step == "prune":
        run_role(None, everything, tmp_path).assert_ok()
    variables, verb = (everything, "patch") if step == "apply" else (fewer, "delete")

    local_cluster.audit.mark()
    rollout = Background(role_command(variables, tmp_path), tmp_path)
    wait_for(
        lambda: writes_of(local_cluster, verb, namespace) >= 20,
        timeout=120,
        interval=0.01,
        what=f"20 {verb} writes in {namespace}",
    )
    # Some connections reset, some stalled: some batches fail, some finish.
    toxics.reset_peer(toxicity=0.5).timeout(1000, toxicity=0.5)
    failed = rollout.wait()
    toxics.clear()
    assert failed.returncode != 0
    doing = f"applying {10 * len(REGIONS)} resources" if step == "apply" else f"pruning {8 * len(REGIONS)} resources"
    assert failed.said(
        f"{doing} to {local_cluster.proxied_context} failed"
        if step == "apply"
        else f"{doing} on {local_cluster.proxied_context} failed"
    ), failed.stdout
    assert failed.said("a rerun plans from what is there and converges"), failed.stdout
    left = len(labelled(local_cluster, "serviceentries", namespace, name))
    assert (20 <= left < 10 * len(REGIONS)) if step == "apply" else (2 * len(REGIONS) < left <= 10 * len(REGIONS) - 20)

    # The rerun (after the unreleased lease expires) writes what is missing or left; the run after it writes nothing.
    run_role(None, variables, tmp_path).assert_ok()
    assert lease_holder(local_cluster, namespace) == ""
    wanted = services if step == "apply" else services[:2]
    assert sorted(labelled(local_cluster, "serviceentries", namespace, name)) == sorted(
        f"aws-{name}-{service}-{region}" for service in wanted for region in REGIONS
    )
    rerun_writes_nothing(local_cluster, variables, tmp_path)
