# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""render.yml and simulate.yml with a kube context: the `auto` choices decided against the cluster, read-only, so that
the files and the simulation hold exactly what site.yml applies there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import run_playbook
from role_helpers import fresh_namespace, removed_after, unique_name

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# What the egress set owns of each object; the API server adds the rest (uid, resourceVersion, managedFields, status).
OWNED = ("apiVersion", "kind", "spec")


def inventory(tmp_path: Path, cluster, variables: dict) -> Path:
    """One host, the cluster by its context, as the shipped inventories name theirs."""
    root = tmp_path / "inventory"
    (root / "group_vars").mkdir(parents=True)
    (root / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "clusters": {
                    "hosts": {cluster.context: {}},
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
                "istio_aws_egress_kubeconfig": cluster.kubeconfig,
                "istio_aws_egress_context": cluster.context,
                **variables,
            }
        )
    )
    return root


def rendered(directory: Path) -> dict:
    """The rendered objects by (kind, namespace, name)."""
    found = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            obj = yaml.safe_load(path.read_text())
            found[(obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"])] = obj
    return found


def live_copy(cluster, obj: dict) -> dict:
    """The API server's copy of `obj`, read in the version `obj` is written in."""
    group, _slash, version = obj["apiVersion"].rpartition("/")
    plural = {"ServiceEntry": "serviceentries", "Sidecar": "sidecars"}[obj["kind"]]
    resource = f"{plural}.{version}.{group}" if group else plural
    return json.loads(
        cluster.kubectl(
            "get", resource, "-n", obj["metadata"]["namespace"], obj["metadata"]["name"], "-o", "json"
        ).stdout
    )


def ok(run):
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run


def test_render_and_simulate_with_a_context_hold_what_site_applies_and_write_nothing(local_cluster, tmp_path):
    cluster = local_cluster
    namespace, callers, name = (
        fresh_namespace(cluster, "decided"),
        fresh_namespace(cluster, "decided-app"),
        unique_name("decided"),
    )
    # s3 brings wildcard entries: `auto` makes them DYNAMIC_DNS on a cluster with Istio 1.30's CRDs, as these have.
    variables = {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["sqs", "s3"],
        "istio_aws_egress_regions": ["eu-west-1"],
        "istio_aws_egress_sidecars": [callers],
    }
    hosts = inventory(tmp_path, cluster, variables)
    render_dir, simulate_dir = tmp_path / "rendered", tmp_path / "simulate"

    # The mesh's objects from a directory (empty): the shared cluster holds other tests' objects, which a live read takes
    # in (test_simulation_live.py reads them); the `auto` choices are still the cluster's.
    (tmp_path / "mesh").mkdir()
    cluster.audit.mark()
    render = ok(
        run_playbook(ROOT / "playbooks" / "render.yml", "-i", str(hosts), extra_vars={"render_dir": str(render_dir)})
    )
    simulate = ok(
        run_playbook(
            ROOT / "playbooks" / "simulate.yml",
            "-i",
            str(hosts),
            extra_vars={"simulate_dir": str(simulate_dir), "simulate_mesh_objects": str(tmp_path / "mesh")},
        )
    )
    assert cluster.audit.writes() == [], "render and simulate only read"

    files = rendered(render_dir / cluster.context)
    assert files == rendered(simulate_dir / cluster.context)
    wildcards = {
        key: obj for key, obj in files.items() if key[0] == "ServiceEntry" and obj["spec"]["hosts"][0].startswith("*.")
    }
    assert wildcards and {obj["spec"]["resolution"] for obj in wildcards.values()} == {"DYNAMIC_DNS"}
    kustomization = (render_dir / cluster.context / "kustomization.yaml").read_text()
    assert "Assumed without a cluster" not in kustomization
    assert (
        f"# The auto choices decided against {cluster.context}, as site.yml decides them: networking.istio.io/v1."
        in kustomization
    )
    assert f"the auto choices decided against {cluster.context}" in " ".join(render.stdout.split())
    report = json.loads((simulate_dir / f"{cluster.context}.json").read_text())
    assert report["violations"] == [], report["violations"]
    assert report["notes"][0].startswith(
        f"the auto choices (API versions, wildcard resolution) were decided against {cluster.context}"
    )
    assert not any("assumed" in note for note in report["notes"]), report["notes"]
    assert "Traceback" not in simulate.stdout + simulate.stderr

    with removed_after(cluster, tmp_path) as remove_later:
        remove_later(variables)
        ok(run_playbook(ROOT / "playbooks" / "site.yml", "-i", str(hosts)))
        applied = {key: live_copy(cluster, obj) for key, obj in files.items()}
        for key, obj in files.items():
            live = applied[key]
            for field in OWNED:
                assert live[field] == obj[field], (key, field)
            assert live["metadata"].get("labels") == obj["metadata"].get("labels"), key
            owned = obj["metadata"].get("annotations") or {}
            assert {k: v for k, v in (live["metadata"].get("annotations") or {}).items() if k in owned} == owned, key
        # And site.yml applies nothing the render left out.
        ours = json.loads(
            cluster.kubectl(
                "get", "serviceentries,sidecars", "-A", "-l", f"meshops.io/egress-set={name}", "-o", "json"
            ).stdout
        )["items"]
        assert {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in ours} == set(files)


def test_render_offline_says_what_it_assumed_and_contacts_no_cluster(local_cluster, tmp_path):
    cluster = local_cluster
    variables = {
        "istio_aws_egress_name": unique_name("offline"),
        "istio_aws_egress_services": ["s3"],
        "istio_aws_egress_regions": ["eu-west-1"],
        "istio_aws_egress_kubeconfig": str(tmp_path / "no-kubeconfig"),
    }
    hosts = inventory(tmp_path, cluster, variables)
    cluster.audit.mark()
    ok(
        run_playbook(
            ROOT / "playbooks" / "render.yml",
            "-i",
            str(hosts),
            extra_vars={"render_dir": str(tmp_path / "rendered"), "render_offline": True},
        )
    )
    kustomization = (tmp_path / "rendered" / cluster.context / "kustomization.yaml").read_text()
    assert "# Assumed without a cluster: 1 wildcard ServiceEntry assumed with resolution NONE" in kustomization
    assert "# Assumed without a cluster: Istio resources assumed in version v1" in kustomization
    assert "The auto choices decided against" not in kustomization
    assert cluster.audit.writes() == []
