# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `diagnose` runbook, run as an operator runs it: playbooks/diagnose.yml over an inventory and its proxies' logs.

The logs are made from Istio's own access log formats, read from istio's source
in the Go module cache (the release the harness is built from), for sidecars,
an egress gateway and a waypoint, in TEXT and JSON; and from ztunnel's format
(tests/access_logs.py). One run covers every cause code across clusters in
sidecar, egress gateway and ambient mode, each fix proven (or not) on the
harness; another gives bad input and no harness, each cluster failing with one
clear line or saying what it could not do. It contacts no cluster.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

import access_logs
import localcluster
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import formats
from conftest import ANSIBLE_PLAYBOOK, ROOT, ansible_env
from role_helpers import RoleRun

pytestmark = pytest.mark.integration

PLAYBOOK = ROOT / "playbooks" / "diagnose.yml"
TIME = "2026-12-01T10:{:02d}:00.000Z"
CLIENT = "10.244.1.7:51912"
TELEMETRY_LOGGING = Path("pilot") / "pkg" / "model" / "telemetry_logging.go"


@pytest.fixture(scope="module")
def istio_formats() -> tuple[str, dict]:
    """Istio's default TEXT and JSON access log formats, from the istio.io/istio the harness is built from."""
    return access_logs.istio_formats((localcluster._istio_module_dir() / TELEMETRY_LOGGING).read_text())  # pylint: disable=protected-access


def test_the_collection_reads_the_formats_istio_writes(istio_formats):
    text, fields = istio_formats
    assert (formats.ENVOY_TEXT_FORMAT, formats.ENVOY_JSON_FORMAT) == (text, fields)


class Logs:
    """Lines of one proxy's log, made from Istio's formats (Envoy) or ztunnel's."""

    def __init__(self, istio_formats):
        self.text_format, self.json_format = istio_formats

    def text(self, values: dict) -> str:
        return access_logs.envoy_text(self.text_format, values)

    def json(self, values: dict) -> str:
        return access_logs.envoy_json(self.json_format, values)


def write_inventory(root: Path, hosts: dict) -> Path:
    """An inventory (root/inventory) of `hosts` ({name: {variables, logs: {path: lines}, mesh: [objects]}}), each cluster's logs and
    mesh objects under root/<host>/ and named in its host_vars."""
    inventory = root / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "clusters": {
                    "hosts": {name: {} for name in hosts},
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    },
                }
            }
        )
    )
    for name, host in hosts.items():
        variables = dict(host.get("variables", {}))
        logs = root / name / "logs"
        for relative, lines in host.get("logs", {}).items():
            path = logs / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(lines) if isinstance(lines, bytes) else path.write_text("\n".join(lines) + "\n")
        if "logs" in host:
            logs.mkdir(parents=True, exist_ok=True)
            variables.setdefault("diagnose_logs", str(logs))
        if host.get("mesh"):
            mesh = root / name / "mesh"
            mesh.mkdir(parents=True)
            (mesh / "objects.yaml").write_text(yaml.safe_dump_all(host["mesh"]))
            variables["simulate_mesh_objects"] = str(mesh)
        (inventory / "host_vars" / f"{name}.yml").write_text(yaml.safe_dump(variables))
    return inventory


def diagnose(inventory: Path, out: Path, env: dict | None = None) -> RoleRun:
    result = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(PLAYBOOK), "-e", json.dumps({"diagnose_dir": str(out)})],
        cwd=ROOT,
        env=ansible_env(**(env or {})),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    return RoleRun(result.returncode, result.stdout, result.stderr)


def findings(out: Path, cluster: str) -> dict:
    data = json.loads((out / f"{cluster}.json").read_text())
    return {(f["destination"], f["proxy"]): f for f in data["findings"]}


def sidecar(namespace: str) -> dict:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Sidecar",
        "metadata": {"name": "default", "namespace": namespace},
        "spec": {
            "egress": [{"hosts": ["./*", "istio-system/s3.us-east-1.amazonaws.com"]}],
            "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"},
        },
    }


def gateway_service(ports: list[dict]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "istio-egressgateway", "namespace": "istio-system"},
        "spec": {"selector": {"istio": "egressgateway"}, "ports": ports},
    }


HTTPS_PORT = {"name": "https", "port": 443, "targetPort": 8443}
# Another team's policy on the ambient waypoint: no Secrets Manager for anyone.
NO_SECRETS = {
    "apiVersion": "security.istio.io/v1",
    "kind": "AuthorizationPolicy",
    "metadata": {"name": "no-secrets", "namespace": "aws-egress"},
    "spec": {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "aws-amb-waypoint"}],
        "action": "DENY",
        "rules": [{"when": [{"key": "connection.sni", "values": ["secretsmanager.us-east-1.amazonaws.com"]}]}],
    },
}


def black_hole(logs: Logs, host: str, minute: int, address: str = "52.94.0.1:443", as_json: bool = False) -> str:
    values = access_logs.black_hole(host, address, CLIENT, TIME.format(minute))
    return logs.json(values) if as_json else logs.text(values)


def ztunnel(namespace: str, service: str, error: str, minute: int, as_json: bool = False) -> str:
    values = access_logs.ztunnel_denied(
        namespace, f"{namespace}-api-5f6d7c8b9-abcde", service, "240.240.0.5:443", error
    )
    return (access_logs.ztunnel_event_json if as_json else access_logs.ztunnel_event)(values, TIME.format(minute))


@pytest.fixture(scope="module")
def causes_run(istio_formats, tmp_path_factory):
    """Clusters in every mode, each with logs whose blocked calls have one cause each; run once."""
    logs, root = Logs(istio_formats), tmp_path_factory.mktemp("diagnose-causes")
    hosts = {
        "side": {
            "variables": {
                "istio_aws_egress_name": "side",
                "istio_aws_egress_services": ["sqs", "s3"],
                "istio_aws_egress_regions": ["us-east-1"],
                "istio_aws_egress_sidecars": ["orders"],
                "istio_aws_egress_export_to": ["orders", "payments"],
            },
            "logs": {
                "orders/orders-api-7d9f.log": [black_hole(logs, "sqs.us-east-2.amazonaws.com", m) for m in (3, 1, 2)]
                + [
                    logs.text(
                        access_logs.block_all(
                            "169.254.169.254", "169.254.169.254:80", CLIENT, TIME.format(4), "/latest/api/token"
                        )
                    ),
                    black_hole(logs, "sqs.us-east-1.amazonaws.com", 5),
                    logs.text(
                        access_logs.allowed("s3.us-east-1.amazonaws.com", "52.94.0.9:443", CLIENT, TIME.format(6))
                    ),
                    "2026-12-01T10:00:00.000000Z\tinfo\txdsproxy\tconnected to upstream XDS server: istiod.istio-system.svc:15012",
                ],
                "payments/payments-api-1.log": [
                    black_hole(logs, "sqs.us-east-1.amazonaws.com", 7, as_json=True),
                    black_hole(logs, "example.com", 8, "93.184.215.14:443", as_json=True),
                ],
                "reports/reports-api-1.log": [black_hole(logs, "sqs.us-east-1.amazonaws.com", 9, as_json=True)],
                "istio-proxy.log": [black_hole(logs, "kms.us-east-1.amazonaws.com", 10)],
            },
            "mesh": [sidecar("payments")],
        },
        "gw": {
            "variables": {
                "istio_aws_egress_name": "gw",
                "istio_aws_egress_mode": "egress_gateway",
                "istio_aws_egress_services": ["sqs"],
                "istio_aws_egress_regions": ["eu-west-1"],
                "istio_aws_egress_sidecars": ["orders"],
            },
            "logs": {
                "istio-system/istio-egressgateway-5c7d8f-x2x4k.log": [
                    logs.text(
                        access_logs.no_filter_chain(
                            "sns.eu-west-1.amazonaws.com", "10.244.0.9:8443", CLIENT, TIME.format(1)
                        )
                    )
                ],
                "orders/orders-api-7d9f.log": [black_hole(logs, "kinesis.eu-west-1.amazonaws.com", 2, as_json=True)],
            },
            "mesh": [gateway_service([HTTPS_PORT])],
        },
        "gw-broken": {
            "variables": {
                "istio_aws_egress_name": "gwb",
                "istio_aws_egress_mode": "egress_gateway",
                "istio_aws_egress_services": ["sqs"],
                "istio_aws_egress_regions": ["eu-west-1"],
                "istio_aws_egress_sidecars": ["orders"],
            },
            "logs": {"orders/orders-api-7d9f.log": [black_hole(logs, "sns.eu-west-1.amazonaws.com", 1)]},
            "mesh": [gateway_service([{"name": "http2", "port": 80}])],
        },
        "amb": {
            "variables": {
                "istio_aws_egress_name": "amb",
                "istio_aws_egress_namespace": "aws-egress",
                "istio_aws_egress_mode": "ambient",
                "istio_aws_egress_caller_namespaces": ["orders", "billing"],
                "istio_aws_egress_services": ["sqs", "secretsmanager"],
                "istio_aws_egress_regions": ["us-east-1"],
            },
            "logs": {
                "istio-system/ztunnel-x7k2p.log": [
                    ztunnel(
                        "shipping",
                        "sqs.us-east-1.amazonaws.com",
                        "connection closed due to policy rejection: allow policies exist, but none allowed",
                        1,
                    ),
                    ztunnel(
                        "orders",
                        "kinesis.us-east-1.amazonaws.com",
                        "http status: 503 Service Unavailable",
                        2,
                        as_json=True,
                    ),
                    ztunnel("orders", "secretsmanager.us-east-1.amazonaws.com", "http status: 403 Forbidden", 3),
                    "2026-12-01T10:00:00.000000Z\tinfo\txds{id=1}\treceived response type=type.googleapis.com/istio.workload.Address size=12",
                ],
                "aws-egress/aws-amb-waypoint-6b7c9d-x2x4k.log": [
                    logs.text(
                        access_logs.rbac_denied(
                            "sqs.us-east-1.amazonaws.com",
                            "inbound-vip|443|tcp|sqs.us-east-1.amazonaws.com",
                            "240.240.0.5:443",
                            "envoy://internal_client_address/",
                            TIME.format(4),
                        )
                    ),
                    logs.json(
                        access_logs.no_filter_chain(
                            "sns.us-east-1.amazonaws.com",
                            "240.240.0.9:443",
                            "envoy://internal_client_address/",
                            TIME.format(5),
                        )
                    ),
                ],
            },
            "mesh": [NO_SECRETS],
        },
        "exp": {
            "variables": {
                "istio_aws_egress_name": "exp",
                "istio_aws_egress_services": ["sqs"],
                "istio_aws_egress_regions": ["us-east-1"],
                "istio_aws_egress_sidecars": ["orders"],
                "istio_aws_egress_export_to": ["orders"],
            },
            "logs": {"reports/reports-api-1.log": [black_hole(logs, "sqs.us-east-1.amazonaws.com", 1, as_json=True)]},
            "mesh": [sidecar("payments")],
        },
        "nomesh": {
            "variables": {
                "istio_aws_egress_name": "nomesh",
                "istio_aws_egress_services": ["sqs"],
                "istio_aws_egress_regions": ["us-east-1"],
            },
            "logs": {"orders/orders-api-7d9f.log": [black_hole(logs, "sqs.us-east-2.amazonaws.com", 1)]},
        },
    }
    out = root / "diagnose"
    run = diagnose(write_inventory(root, hosts), out)
    return run, out


def assert_finding(found: dict, cause: str, proven: bool | None, change: str = "", aws: tuple | None = None) -> dict:
    assert found["cause"]["code"] == cause, found["cause"]
    assert found["proven"] is proven, (found["proof"], found["no_fix"])
    # A fix is proven or not; without one there is nothing to prove, and no_fix says why.
    assert (found["fix"] is None) == (proven is None) and bool(found["no_fix"]) == (proven is None)
    if change:
        assert found["fix"]["change"] == change
    if aws:
        assert (found["aws"]["service"], found["aws"]["region"], found["aws"]["partition"]) == aws
    return found


def test_the_runbook_reports_every_cluster_and_says_so(causes_run):
    run, out = causes_run
    assert run.returncode == 0 and "Traceback" not in run.stdout + run.stderr, run.stdout[-4000:] + run.stderr[-2000:]
    index = (out / "README.md").read_text()
    for cluster in ("side", "exp", "gw", "gw-broken", "amb", "nomesh"):
        assert f"| [{cluster}]({cluster}.md) |" in index
        assert run.said(f"{cluster}: ") and (out / f"{cluster}.md").exists()


def test_in_sidecar_mode_each_cause_is_told_apart_on_the_simulation(causes_run):
    _run, out = causes_run
    side = findings(out, "side")
    sqs = assert_finding(
        side[("sqs.us-east-2.amazonaws.com", "sidecar")],
        "not_declared",
        True,
        "add {name: sqs, regions: [us-east-2]} to istio_aws_egress_services",
        ("sqs", "us-east-2", "aws"),
    )
    assert (sqs["count"], sqs["first_seen"], sqs["last_seen"]) == (3, TIME.format(1), TIME.format(3))
    assert [s["source"] for s in sqs["sources"]] == ["orders/orders-api-7d9f"] and sqs["how"] == [
        "BlackHoleCluster (UH)"
    ]
    assert "leaves from orders through outbound|443||sqs.us-east-2.amazonaws.com" in sqs["proof"]
    assert sqs["fix"]["variables"] == {
        "istio_aws_egress_services": ["sqs", "s3", {"name": "sqs", "regions": ["us-east-2"]}]
    }
    imds = assert_finding(
        side[("169.254.169.254", "sidecar")], "not_declared", True, "add imds to istio_aws_egress_credential_sources"
    )
    assert (
        imds["aws"]["credential_source"] == "imds"
        and imds["port"] == 80
        and "outbound|80||imds.aws.internal" in imds["proof"]
    )
    assert_finding(side[("sqs.us-east-1.amazonaws.com", "sidecar")], "hidden_by_sidecar", None)
    assert (
        "Sidecar payments/default (not this egress set's) hides sqs.us-east-1.amazonaws.com"
        in side[("sqs.us-east-1.amazonaws.com", "sidecar")]["cause"]["text"]
    )
    # The same host from two other namespaces: the first cause decides, the others are named.
    assert (
        "other namespaces: orders: not_reproduced, reports: not_exported"
        in side[("sqs.us-east-1.amazonaws.com", "sidecar")]["cause"]["text"]
    )
    assert assert_finding(side[("example.com", "sidecar")], "not_declared", None)["aws"] is None
    # No log names the namespace: the first Sidecar namespace stands in.
    assert_finding(
        side[("kms.us-east-1.amazonaws.com", "sidecar")],
        "not_declared",
        True,
        "add {name: kms, regions: [us-east-1]} to istio_aws_egress_services",
    )
    # The fix is rendered by the role into a directory of its own.
    rendered = yaml.safe_load_all(
        (out / "side" / "fixes" / sqs["fix"]["id"])
        .joinpath("serviceentry-istio-system-aws-side-sqs-us-east-2.yaml")
        .read_text()
    )
    assert [doc["spec"]["hosts"] for doc in rendered] == [["sqs.us-east-2.amazonaws.com"]]


def test_a_namespace_the_entries_are_not_exported_to_is_added_to_export_to(causes_run):
    _run, out = causes_run
    found = assert_finding(
        findings(out, "exp")[("sqs.us-east-1.amazonaws.com", "sidecar")],
        "not_exported",
        True,
        "add reports to istio_aws_egress_export_to, so that it sees the entries",
    )
    assert (
        found["fix"]["yaml"] == "istio_aws_egress_export_to: [orders, reports]\n"
        and "it opens no host" in found["proof"]
    )


def test_through_the_egress_gateway_fixes_are_proven_at_the_gateway_and_a_broken_gateway_proves_none(causes_run):
    _run, out = causes_run
    gw = findings(out, "gw")
    at_gateway = assert_finding(
        gw[("sns.eu-west-1.amazonaws.com", "gateway")],
        "not_declared",
        True,
        "add {name: sns, regions: [eu-west-1]} to istio_aws_egress_services",
    )
    assert at_gateway["how"] == ["no filter chain for it (NR filter_chain_not_found)"]
    assert "leaves from the egress gateway through outbound|443||sns.eu-west-1.amazonaws.com" in at_gateway["proof"]
    through = assert_finding(gw[("kinesis.eu-west-1.amazonaws.com", "sidecar")], "not_declared", True)
    assert (
        "leaves from orders through the egress gateway (outbound|443|aws-gw|istio-egressgateway.istio-system.svc.cluster.local"
        " -> gateway -> outbound|443||kinesis.eu-west-1.amazonaws.com)"
    ) in through["proof"]
    broken = assert_finding(
        findings(out, "gw-broken")[("sns.eu-west-1.amazonaws.com", "sidecar")],
        "not_declared",
        False,
        "add {name: sns, regions: [eu-west-1]} to istio_aws_egress_services",
    )
    assert "still does not leave from orders: dropped" in broken["proof"]


def test_in_ambient_mode_the_waypoint_and_ztunnel_tell_callers_apart(causes_run):
    _run, out = causes_run
    amb = findings(out, "amb")
    shipping = assert_finding(
        amb[("sqs.us-east-1.amazonaws.com", "ztunnel")],
        "not_caller_namespace",
        True,
        "add shipping to istio_aws_egress_caller_namespaces, so that the waypoint admits it",
    )
    assert shipping["sources"][0]["identity"] == "spiffe://cluster.local/ns/shipping/sa/shipping-api"
    assert shipping["fix"]["yaml"] == "istio_aws_egress_caller_namespaces: [orders, billing, shipping]\n"
    assert_finding(
        amb[("kinesis.us-east-1.amazonaws.com", "ztunnel")],
        "not_declared",
        True,
        "add {name: kinesis, regions: [us-east-1]} to istio_aws_egress_services",
    )
    denied = assert_finding(amb[("secretsmanager.us-east-1.amazonaws.com", "ztunnel")], "hidden", None)
    assert "from namespace orders at the waypoint the call ends denied" in denied["cause"]["text"]
    # The waypoint's own log does not name the caller: the cause stays unknown, and says where to look.
    unknown = assert_finding(amb[("sqs.us-east-1.amazonaws.com", "waypoint")], "unknown", None)
    assert unknown["cause"]["text"].startswith(
        "no log names the caller's namespace (ztunnel's log of the same call does"
    )
    assert_finding(amb[("sns.us-east-1.amazonaws.com", "waypoint")], "not_declared", True)


def test_without_the_mesh_objects_the_cause_is_unknown_and_the_fix_is_proven_on_the_egress_set_alone(causes_run):
    _run, out = causes_run
    found = assert_finding(
        findings(out, "nomesh")[("sqs.us-east-2.amazonaws.com", "sidecar")],
        "unknown",
        True,
        "add {name: sqs, regions: [us-east-2]} to istio_aws_egress_services",
    )
    assert found["cause"]["text"].startswith("the mesh's objects were not given (simulate_mesh_objects)")
    assert "(the mesh's objects were not given: the egress set alone)" in found["proof"]
    markdown = (out / "nomesh.md").read_text()
    assert "mesh objects: not given, so causes are unknown" in markdown
    assert "```yaml\nistio_aws_egress_services:\n- sqs\n- name: sqs\n  regions: [us-east-2]\n```" in markdown


def test_bad_input_and_a_missing_harness_each_get_one_clear_line(istio_formats, tmp_path):
    logs = Logs(istio_formats)
    base = {"istio_aws_egress_services": ["sqs"], "istio_aws_egress_regions": ["us-east-1"]}
    hosts = {
        "missing": {"variables": {**base, "diagnose_logs": str(tmp_path / "nowhere")}},
        "empty": {"variables": base, "logs": {}},
        "garbage": {"variables": base, "logs": {"core": bytes(range(256)) * 512}},
        "quiet": {
            "variables": base,
            "logs": {
                "orders/api.log": [
                    logs.text(
                        access_logs.allowed("sqs.us-east-1.amazonaws.com", "52.94.0.1:443", CLIENT, TIME.format(1))
                    )
                ]
            },
        },
        "unasked": {"variables": base},
        "noharness": {
            "variables": base,
            "logs": {"orders/api.log": [black_hole(logs, "sqs.us-east-2.amazonaws.com", 1)]},
            "mesh": [sidecar("payments")],
        },
    }
    out = tmp_path / "diagnose"
    run = diagnose(write_inventory(tmp_path, hosts), out, env={"XDS_SIMULATE": str(tmp_path / "no-harness")})
    assert run.returncode != 0 and "Traceback" not in run.stdout + run.stderr
    assert run.said(f"cannot diagnose the logs: {tmp_path / 'nowhere'} does not exist")
    assert run.said(
        f"cannot diagnose the logs: {tmp_path / 'empty' / 'logs'} is an empty directory: give the proxies' logs"
    )
    assert run.said(
        f"cannot diagnose the logs: no proxy log line in {tmp_path / 'garbage' / 'logs'}: 0 lines in 1 file"
    )
    assert run.said("(core: not text (it holds NUL bytes))")
    # Without logs, they are read from the cluster its context names: here, none.
    assert run.said('istio_aws_egress_context: "unasked" is not a context of')
    assert re.findall(r"^(\S+) +: ok=.* failed=1 ", run.stdout, re.M) == ["empty", "garbage", "missing", "unasked"]
    assert (
        json.loads((out / "quiet.json").read_text())["summary"]
        == "nothing blocked: 1 line read, 1 access line, none blocked"
    )
    assert (out / "quiet.md").read_text().count("Nothing blocked.") == 1
    found = findings(out, "noharness")[("sqs.us-east-2.amazonaws.com", "sidecar")]
    assert (
        found["cause"]["code"] == "unknown"
        and "the simulation could not run: xds-simulate not found at" in found["cause"]["text"]
    )
    assert (
        found["fix"]
        and found["proven"] is False
        and found["proof"].startswith("not simulated: xds-simulate not found at")
    )


# --------------------------------------------------------------------------
# The README's worked diagnosis


def worked_diagnosis() -> tuple[str, str]:
    """The command of the README's worked diagnosis and the report it shows."""
    section = (ROOT / "README.md").read_text().split("#### A worked diagnosis", 1)[1].split("\n#### ", 1)[0]
    command = re.search(r"```console\n\$ (.+)\n```", section).group(1)
    return command, re.search(r"````markdown\n(.*?)````", section, re.S).group(1)


def test_the_readmes_worked_diagnosis_is_what_its_command_writes(istio_formats, tmp_path):
    command, shown = worked_diagnosis()
    assert f"`{command}`" in (ROOT / "README.md").read_text().split("### Runbook for operators", 1)[1], (
        "the runbook's step runs it too"
    )
    # The checkout's inventories and playbooks, and the files the README says were saved.
    for name in ("inventories", "playbooks"):
        (tmp_path / name).symlink_to(ROOT / name)
    logs = Logs(istio_formats)
    log = tmp_path / "logs" / "orders" / "orders-api-7d9f5c6b8-x2x4k.log"
    log.parent.mkdir(parents=True)
    log.write_text(
        "\n".join(
            [black_hole(logs, "sqs.us-east-2.amazonaws.com", m) for m in (1, 2, 3)]
            + [
                logs.text(
                    access_logs.block_all(
                        "169.254.169.254", "169.254.169.254:80", CLIENT, TIME.format(4), "/latest/api/token"
                    )
                ),
                black_hole(logs, "sts.amazonaws.com", 5, "52.94.0.2:443"),
            ]
        )
        + "\n"
    )
    (tmp_path / "mesh").mkdir()
    (tmp_path / "mesh" / "istio-egressgateway.yaml").write_text(yaml.safe_dump(gateway_service([HTTPS_PORT])))
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=tmp_path,
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    written = (tmp_path / "diagnose" / "prod-use1.md").read_text()
    assert written == shown, f"the README's worked diagnosis is not what the command writes; it writes:\n{written}"
