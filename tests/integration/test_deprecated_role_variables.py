# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's grouped variables (istio_aws_egress_lock, istio_aws_egress_network_policy_peers) take effect by their new
names, and until 1.0.0 by the names they replace, each of which warns; egress_set's owner=rbac likewise."""

from __future__ import annotations

import json
import re

import pytest

from conftest import run_playbook
from role_helpers import OURS, expect_failure, fresh_namespace, objects, run_role, unique_name, writes

pytestmark = pytest.mark.integration

DNS = {"namespace": "kube-system", "selector": {"k8s-app": "dns-of-this-test"}}
REMOVED = "This feature will be removed from collection 'meshops.aws_egress' version 1.0.0."


def egress(namespace: str, name: str, **more) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["sqs"],
        "istio_aws_egress_regions": ["us-east-1"],
        "istio_aws_egress_sidecars": [namespace],
        "istio_aws_egress_network_policy": "kubernetes",
        **more,
    }


def output(run) -> str:
    """What a run printed, however the callback wrapped its lines."""
    return re.sub(r"\s+", " ", run.stdout + run.stderr)


def what_took_effect(cluster, namespace: str, name: str) -> tuple[dict, int]:
    """The DNS peer of the set's NetworkPolicy, and the rollout lease's duration."""
    policy = objects(cluster, "networkpolicies", namespace, selector=f"{OURS},meshops.io/egress-set={name}")[
        f"{namespace}/aws-{name}-egress"
    ]
    dns = [
        rule["to"][0] for rule in policy["spec"]["egress"] if {"protocol": "UDP", "port": 53} in rule.get("ports", [])
    ]
    lease = json.loads(cluster.kubectl("get", "lease", "meshops-aws-egress", "-n", namespace, "-o", "json").stdout)
    return dns[0], lease["spec"]["leaseDurationSeconds"]


def test_the_old_names_take_effect_and_each_warns_naming_its_replacement(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "old-vars"), unique_name("oldvars")
    run = run_role(
        local_cluster,
        egress(
            namespace,
            name,
            istio_aws_egress_network_policy_dns=DNS,
            istio_aws_egress_lock_duration=77,
            istio_aws_egress_lock_timeout=30,
        ),
        tmp_path,
    ).assert_ok()
    peer, duration = what_took_effect(local_cluster, namespace, name)
    assert peer["podSelector"] == {"matchLabels": DNS["selector"]} and duration == 77
    printed = output(run)
    for old, new in (
        ("network_policy_dns", "network_policy_peers.dns"),
        ("lock_duration", "lock.duration"),
        ("lock_timeout", "lock.timeout"),
    ):
        expected = (
            f"[DEPRECATION WARNING]: istio_aws_egress_{old} is deprecated: set istio_aws_egress_{new} instead; until "
            f"then the role takes it as istio_aws_egress_{new}. {REMOVED}"
        )
        assert printed.count(expected) == 1, printed
    assert printed.count("[DEPRECATION WARNING]") == 3, printed


def test_the_new_names_take_effect_without_a_warning(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "new-vars"), unique_name("newvars")
    run = run_role(
        local_cluster,
        egress(
            namespace, name, istio_aws_egress_network_policy_peers={"dns": DNS}, istio_aws_egress_lock={"duration": 78}
        ),
        tmp_path,
    ).assert_ok()
    assert what_took_effect(local_cluster, namespace, name) == (
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": DNS["selector"]},
        },
        78,
    )
    assert "[DEPRECATION WARNING]" not in output(run)


def test_both_names_with_different_values_are_refused_before_any_request(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "both-vars"), unique_name("bothvars")
    local_cluster.audit.mark()
    expect_failure(
        local_cluster,
        egress(namespace, name, istio_aws_egress_lock={"timeout": 90}, istio_aws_egress_lock_timeout=60),
        tmp_path,
        "istio_aws_egress_lock_timeout: 60 is deprecated and istio_aws_egress_lock.timeout is 90: "
        "set istio_aws_egress_lock.timeout only",
    )
    assert writes(local_cluster.audit) == []


OWNER_RBAC = """\
- name: The deprecated owner=rbac of egress_set
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Install a ClusterRole through egress_set
      meshops.aws_egress.egress_set:
        name: unused
        namespace: unused
        owner: rbac
        resources: "{{ resources }}"
        kubeconfig: "{{ kubeconfig }}"
        context: "{{ context }}"
      register: installed

    - name: Keep the result for the test to read
      ansible.builtin.copy:
        content: "{{ installed | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""


def test_egress_set_owner_rbac_still_installs_and_warns(local_cluster, tmp_path):
    role = unique_name("old-owner")
    resources = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
                "name": role,
                "labels": {"app.kubernetes.io/managed-by": "meshops.aws_egress", "app.kubernetes.io/component": "rbac"},
            },
            "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}],
        }
    ]
    playbook, result_file = tmp_path / "owner_rbac.yml", tmp_path / "result.json"
    playbook.write_text(OWNER_RBAC)
    variables = {
        "kubeconfig": local_cluster.kubeconfig,
        "context": local_cluster.context,
        "resources": resources,
        "result_file": str(result_file),
    }
    try:
        for run in (1, 2):
            local_cluster.audit.mark()
            done = run_playbook(playbook, extra_vars=variables)
            assert done.returncode == 0, done.stdout + done.stderr
            result = json.loads(result_file.read_text())
            assert result["changed"] is (run == 1) and result["counts"]["create"] == (run == 1)
            assert [
                w["verb"] for w in local_cluster.audit.writes() if w["objectRef"]["resource"] == "clusterroles"
            ] == (["patch"] if run == 1 else [])
            assert re.search(
                r"\[DEPRECATION WARNING\]: meshops\.aws_egress\.egress_set: owner=rbac installs the role's RBAC "
                r"through meshops\.aws_egress\._install_rbac; use the istio_aws_egress role \(tasks_from: rbac\)\. "
                + re.escape(REMOVED),
                re.sub(r"\s+", " ", done.stdout + done.stderr),
            ), done.stdout + done.stderr
        assert (
            json.loads(local_cluster.kubectl("get", "clusterrole", role, "-o", "json").stdout)["rules"]
            == resources[0]["rules"]
        )
    finally:
        local_cluster.kubectl("delete", "clusterrole", role, check=False)
