# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `diagnose` runbook without diagnose_logs: the proxies' logs read live through a real API server (pods/log).

The local clusters run no kubelet. The API server proxies pods/log to the kubelet address of the pod's Node object
(its InternalIP and kubeletEndpoint port); here that address is a minimal stand-in for the node's log endpoint
(`/containerLogs/<namespace>/<pod>/<container>`, with sinceSeconds and tailLines), which this test alone uses. Everything
between the playbook and the stand-in is real: the API server's authorization (the optional read-only ClusterRole the
role ships, bound to a user bound to nothing else), its pod lookup and its proxying.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

import access_logs
import localcluster
from conftest import ANSIBLE_PLAYBOOK, ROOT, ansible_env
from hardening_helpers import user_kubeconfig
from role_helpers import RoleRun, fresh_namespace

pytestmark = pytest.mark.integration

PLAYBOOK = ROOT / "playbooks" / "diagnose.yml"
LOG_READER = ROOT / "roles" / "istio_aws_egress" / "files" / "rbac-diagnose-log-reader.yaml"
TELEMETRY_LOGGING = Path("pilot") / "pkg" / "model" / "telemetry_logging.go"
CLIENT = "10.244.1.7:51912"


class StandInKubelet:
    """The node's log endpoint, answering the API server with canned lines: the last tailLines of them."""

    def __init__(self, cert: str, key: str, logs: dict):
        self.logs = logs  # (namespace, pod, container) -> lines
        self.asked = []  # (path, query) of every request
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802  the stdlib's name
                url = urlparse(self.path)
                query = {key: values[0] for key, values in parse_qs(url.query).items()}
                stand_in.asked.append((url.path, query))
                parts = url.path.split("/")
                lines = (
                    stand_in.logs.get(tuple(parts[2:5])) if len(parts) == 5 and parts[1] == "containerLogs" else None
                )
                if lines is None:
                    self.send_error(404)
                    return
                body = "".join(f"{line}\n" for line in lines[-int(query.get("tailLines", len(lines))) :]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def apply(cluster, *objects: dict) -> None:
    cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def node(cluster, port: int) -> str:
    """A Node whose kubelet is the stand-in: the API server reaches a node at its address and kubelet port."""
    name = f"stand-in-{uuid.uuid4().hex[:6]}"
    apply(cluster, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
    cluster.kubectl(
        "patch",
        "node",
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(
            {
                "status": {
                    "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
                }
            }
        ),
    )
    return name


def pod(
    namespace: str, name: str, node_name: str, labels: dict | None = None, containers=("app", "istio-proxy")
) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {
            "nodeName": node_name,
            "automountServiceAccountToken": False,
            "containers": [{"name": container, "image": container} for container in containers],
        },
    }


def black_hole(formats, host: str, minute: int) -> str:
    text_format, _json_format = formats
    return access_logs.envoy_text(
        text_format, access_logs.black_hole(host, "52.94.0.1:443", CLIENT, f"2026-12-01T10:{minute:02d}:00.000Z")
    )


def test_diagnose_reads_the_proxies_logs_through_pods_log(local_cluster, tmp_path):
    formats = access_logs.istio_formats((localcluster._istio_module_dir() / TELEMETRY_LOGGING).read_text())  # pylint: disable=protected-access
    orders, gateway_ns = fresh_namespace(local_cluster, "live-orders"), fresh_namespace(local_cluster, "live-gw")
    for namespace in (orders, gateway_ns):
        # The ServiceAccount admission wants the default account, which a controller-manager would have made.
        apply(
            local_cluster,
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": namespace}},
        )
    logs = {
        # Three blocked calls; the bound of two lines per pod keeps the last two.
        (orders, "api-0", "istio-proxy"): [
            black_hole(formats, "sns.us-east-1.amazonaws.com", 1),
            black_hole(formats, "kms.us-east-1.amazonaws.com", 2),
            black_hole(formats, "sqs.us-east-2.amazonaws.com", 3),
        ],
        (gateway_ns, "istio-egressgateway-0", "istio-proxy"): ["2026-12-01T10:04:00.000Z info proxy ready"],
    }
    pki = Path(local_cluster.info["ca_file"]).parent
    with StandInKubelet(str(pki / "apiserver.crt"), str(pki / "apiserver.key"), logs) as kubelet:
        node_name = node(local_cluster, kubelet.port)
        apply(
            local_cluster,
            pod(orders, "api-0", node_name),
            pod(orders, "batch-0", node_name, containers=("batch",)),
            pod(gateway_ns, "istio-egressgateway-0", node_name, labels={"istio": "live-egressgateway"}),
            pod(gateway_ns, "other-0", node_name, labels={"istio": "other"}),
        )
        # A user bound to nothing but the shipped log reader, in the namespaces it reads.
        local_cluster.kubectl("apply", "-f", str(LOG_READER))
        for namespace in (orders, gateway_ns):
            local_cluster.kubectl(
                "create",
                "rolebinding",
                "diagnose-log-reader",
                "-n",
                namespace,
                "--clusterrole=meshops-aws-egress-diagnose-log-reader",
                "--user=operator",
            )
        kubeconfig = user_kubeconfig(local_cluster, "operator", tmp_path / "operator.kubeconfig", context="operator")
        run = _diagnose(
            tmp_path,
            kubeconfig,
            {
                "istio_aws_egress_services": ["sqs", "kms"],
                "istio_aws_egress_regions": ["us-east-1"],
                "istio_aws_egress_sidecars": [orders],
                "istio_aws_egress_mode": "egress_gateway",
                "istio_aws_egress_gateway": {
                    "namespace": gateway_ns,
                    "selector": {"istio": "live-egressgateway"},
                    "service": "istio-egressgateway",
                },
                "diagnose_since": "15m",
                "diagnose_lines": 2,
            },
        )
        asked = list(kubelet.asked)
    run.assert_ok()

    # The API server asked the node for each proxy container's log, with the bounds given.
    assert sorted(asked) == sorted(
        [
            (f"/containerLogs/{orders}/api-0/istio-proxy", {"sinceSeconds": "900", "tailLines": "2"}),
            (
                f"/containerLogs/{gateway_ns}/istio-egressgateway-0/istio-proxy",
                {"sinceSeconds": "900", "tailLines": "2"},
            ),
        ]
    )
    report = json.loads((tmp_path / "diagnose" / "cluster.json").read_text())
    assert report["logs"] == "live, the last 15m"
    # Of the three blocked calls, the last two lines were read: sns fell outside the bound.
    assert sorted(f["destination"] for f in report["findings"]) == [
        "kms.us-east-1.amazonaws.com",
        "sqs.us-east-2.amazonaws.com",
    ]
    assert f"pod {orders}/batch-0 has no istio-proxy container: not read" in report["notes"]


def _diagnose(tmp_path: Path, kubeconfig: Path, variables: dict) -> RoleRun:
    inventory = tmp_path / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "clusters": {
                    "hosts": {"cluster": {}},
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    },
                }
            }
        )
    )
    (inventory / "host_vars" / "cluster.yml").write_text(
        yaml.safe_dump(
            {**variables, "istio_aws_egress_kubeconfig": str(kubeconfig), "istio_aws_egress_context": "operator"}
        )
    )
    result = subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            "-i",
            str(inventory),
            str(PLAYBOOK),
            "-e",
            json.dumps({"diagnose_dir": str(tmp_path / "diagnose")}),
        ],
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    return RoleRun(result.returncode, result.stdout, result.stderr)
