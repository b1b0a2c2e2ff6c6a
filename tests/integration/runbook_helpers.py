# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook as an operator runs it: an inventory of the local clusters, the collection's playbooks over it, and
other teams' objects on the clusters.

An `Inventory` is one egress set per host (by default one for all) in a namespace of its own on every cluster, with
inventories/local's group_vars for the rest. `Runbook` runs the playbooks over it, from the checkout
(`ansible-playbook playbooks/<name>.yml`, with the repository's ansible.cfg) or from an installed artifact
(`ansible-playbook meshops.aws_egress.<name>`, no ansible.cfg), and reads what every cluster's API server recorded.
"""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import xmlschema
import yaml

from conftest import ANSIBLE_PLAYBOOK, ROOT, localcluster
from hardening_helpers import host_recaps, labelled
from role_helpers import RoleRun, fresh_namespace, run
from test_artifact import user_run

LOCAL = ROOT / "inventories" / "local"
JUNIT_SCHEMA = xmlschema.XMLSchema(ROOT / "tests" / "schemas" / "junit-10.xsd")


@dataclass
class Inventory:
    """Hosts (host name -> its variables, which must hold `context` and `aws_region`) over the local clusters' kubeconfig,
    with inventories/local's group_vars and `settings` on top, written to `directory`."""

    directory: Path
    hosts: dict
    settings: dict = field(default_factory=dict)

    def write(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        group = yaml.safe_load((LOCAL / "group_vars" / "clusters.yml").read_text())
        (self.directory / "group_vars").mkdir(exist_ok=True)
        (self.directory / "group_vars" / "clusters.yml").write_text(yaml.safe_dump({**group, **self.settings}))
        local = yaml.safe_load((LOCAL / "hosts.yml").read_text())["clusters"]["vars"]
        (self.directory / "hosts.yml").write_text(
            yaml.safe_dump(
                {"clusters": {"hosts": self.hosts, "vars": {**local, "kubeconfig": str(localcluster.KUBECONFIG)}}}
            )
        )
        return self.directory


class Runbook:
    """The collection's playbooks over one inventory of local clusters, and what their API servers recorded."""

    def __init__(
        self, clusters: dict, tmp_path: Path, hosts: dict | None = None, installed: Path | None = None, **settings
    ):
        self.clusters = clusters  # cluster name -> LocalCluster
        self.tmp_path = tmp_path
        self.name = f"rb-{uuid.uuid4().hex[:6]}"
        self.namespace = self.name
        for cluster in clusters.values():
            cluster.kubectl("create", "namespace", self.namespace)
        hosts = hosts or {
            name: {"context": name, "aws_region": region} for name, region in zip(clusters, ("us-east-1", "eu-west-1"))
        }
        self.hosts = Inventory(
            tmp_path / f"inventory-{self.name}",
            hosts,
            {"istio_aws_egress_name": self.name, "istio_aws_egress_namespace": self.namespace, **settings},
        )
        self.inventory = self.hosts.write()
        self.installed = installed

    def set_host(self, host: str, **variables) -> None:
        """Give `host` these variables (a host_vars change, as an operator makes it)."""
        self.hosts.hosts[host] = {**self.hosts.hosts[host], **variables}
        self.hosts.write()

    def command(self, playbook: str, *args: str) -> list[str]:
        """ansible-playbook -i <inventory> playbooks/<playbook>.yml <args>, from the checkout."""
        return [str(ANSIBLE_PLAYBOOK), "-i", str(self.inventory), str(ROOT / "playbooks" / f"{playbook}.yml"), *args]

    def run(self, playbook: str, *args: str, timeout: float = 600) -> RoleRun:
        """ansible-playbook -i <inventory> <playbook> <args>: the checkout's playbooks/<playbook>.yml, or the installed
        collection's meshops.aws_egress.<playbook> run from a directory of its own."""
        if self.installed is None:
            return run(self.command(playbook, *args), timeout=timeout)
        # A shell in tmp_path: its PWD is where the playbooks' reports go by default.
        return user_run(
            self.installed,
            self.tmp_path,
            "-i",
            str(self.inventory),
            f"meshops.aws_egress.{playbook}",
            *args,
            env={"PWD": str(self.tmp_path)},
        )

    def mark(self) -> None:
        for cluster in self.clusters.values():
            cluster.audit.mark()

    def writes(self) -> dict:
        """Write requests per cluster since the last mark, as 'verb resource namespace/name'."""
        return {
            name: [
                f"{w['verb']} {w['objectRef'].get('resource')} {w['objectRef'].get('namespace')}/{w['objectRef'].get('name')}"
                for w in cluster.audit.writes()
            ]
            for name, cluster in self.clusters.items()
        }

    def entries(self, cluster: str, egress_set: str | None = None) -> list[str]:
        """Names of the egress set's ServiceEntries on `cluster`."""
        return labelled(self.clusters[cluster], "serviceentries", self.namespace, egress_set or self.name)


def beside_other_teams(
    clusters: dict, tmp_path: Path, hosts: dict | None = None, installed: Path | None = None, **settings
) -> Runbook:
    """An egress set over the clusters, in a namespace where another team keeps a ServiceEntry and a NetworkPolicy."""
    book = Runbook(clusters, tmp_path, hosts, installed, **settings)
    for cluster in clusters.values():
        apply(cluster, *other_teams(book.namespace))
    return book


def other_teams(namespace: str) -> list[dict]:
    """Another team's objects in `namespace`: a ServiceEntry for a host outside AWS and an egress NetworkPolicy."""
    return [service_entry(namespace, "payments-stripe", ["api.stripe.com"]), network_policy(namespace, "ledger")]


def succeeded(result: RoleRun) -> RoleRun:
    """The run exited 0 and no host failed."""
    recaps = host_recaps(result)
    assert result.returncode == 0 and recaps and all(r["failed"] == 0 for r in recaps.values()), (
        f"the run failed:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
    )
    return result


def junit(directory: Path) -> dict:
    """junit.xml, validated against the schema: suite name -> {case name -> its <failure> text, or None}."""
    text = (directory / "junit.xml").read_text()
    JUNIT_SCHEMA.validate(text)
    return {
        suite.attrib["name"]: {
            case.attrib["name"]: (None if case.find("failure") is None else case.find("failure").text)
            for case in suite.iter("testcase")
        }
        for suite in ET.fromstring(text).iter("testsuite")
    }


def reports(directory: Path, clusters) -> dict:
    """The report files of plan, verify or simulate in `directory`, as CI and scripts read them: every cluster's JSON
    and Markdown, index.json naming every cluster, and junit.xml valid against the schema with a suite per cluster.
    Returns the JSON reports by cluster."""
    assert set(json.loads((directory / "index.json").read_text())) == set(clusters)
    assert set(junit(directory)) == set(clusters)
    assert all((directory / f"{host}.md").read_text().startswith("# ") for host in clusters)
    return {host: json.loads((directory / f"{host}.json").read_text()) for host in clusters}


def readable(result: RoleRun, clusters: int) -> RoleRun:
    """Lines, as the default callback prints lists: no message printed as one string of escaped line breaks, no
    warning of ours or of our pinned requirements, and no more skipped steps than one per cluster."""
    assert "\\n" not in result.stdout, f"a message printed as one escaped string:\n{result.stdout[-8000:]}"
    for warning in ("[WARNING]", "[DEPRECATION WARNING]", "Warning:"):
        assert warning not in result.stdout + result.stderr, (
            f"{warning} in the output:\n{result.stdout[-4000:]}\n{result.stderr}"
        )
    assert result.stdout.count("skipping: [") <= clusters, result.stdout
    return result


def failed_saying(result: RoleRun, *messages: str) -> RoleRun:
    """The run exited non-zero and said each of `messages`, however the callback wrapped its lines."""
    assert result.returncode != 0, f"the run succeeded:\n{result.stdout[-8000:]}"
    for message in messages:
        assert result.said(message), (
            f"{message!r} is not in the output:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
        )
    return result


def changed(result: RoleRun) -> dict:
    """changed= of every host in the PLAY RECAP."""
    return {host: recap["changed"] for host, recap in host_recaps(result).items()}


def namespace_everywhere(clusters: dict, prefix: str) -> str:
    """A namespace no other test uses, on every cluster."""
    first, *others = clusters.values()
    name = fresh_namespace(first, prefix)
    for cluster in others:
        cluster.kubectl("create", "namespace", name)
    return name


def apply(cluster, *manifests: dict) -> None:
    cluster.kubectl(
        "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(manifests)})
    )


def service_entry(namespace: str, name: str, hosts: list[str], **spec) -> dict:
    """Another team's ServiceEntry for external hosts on 443."""
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "hosts": hosts,
            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            "location": "MESH_EXTERNAL",
            "resolution": "DNS",
            **spec,
        },
    }


def sidecar(namespace: str, name: str, **spec) -> dict:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Sidecar",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"egress": [{"hosts": ["./*", "istio-system/*"]}], **spec},
    }


def network_policy(namespace: str, name: str) -> dict:
    """Another team's egress policy on its own pods."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": {"app": name}},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"protocol": "TCP", "port": 5432}]}],
        },
    }


def snapshot(cluster, *objects: dict) -> list[dict]:
    """The objects as the API server holds them now, metadata and all: any write would change their resourceVersion."""
    held = []
    for obj in objects:
        group = obj["apiVersion"].rpartition("/")[0]
        resource = f"{obj['kind'].lower()}.{group}" if group else obj["kind"].lower()
        held.append(
            json.loads(
                cluster.kubectl(
                    "get", resource, obj["metadata"]["name"], "-n", obj["metadata"]["namespace"], "-o", "json"
                ).stdout
            )
        )
    return held
