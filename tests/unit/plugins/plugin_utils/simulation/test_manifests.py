# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directories of manifests: what the role renders and what `kubectl get -o yaml` writes."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.manifests import (
    ManifestError,
    is_cni_policy,
    is_istio_config,
    read_dir,
)

ENTRY = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "ServiceEntry",
    "metadata": {"name": "sqs", "namespace": "istio-system"},
}
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "orders"}}


def test_every_object_of_every_yaml_file_in_name_order_lists_unpacked_kustomization_skipped(tmp_path):
    (tmp_path / "b.yaml").write_text(yaml.safe_dump_all([ENTRY, None]))
    (tmp_path / "kustomization.yaml").write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "a.yml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [SERVICE]}))
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert read_dir(tmp_path) == [ENTRY, SERVICE]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("kind: [", "not YAML"),
        ("- just\n- a list\n", "document 1: not a Kubernetes object"),
        ("apiVersion: v1\n", "document 1: not a Kubernetes object"),
    ],
)
def test_what_is_not_a_kubernetes_object_is_refused_naming_the_file(tmp_path, text, problem):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ManifestError, match=f"^{tmp_path / 'bad.yaml'}.*{problem}"):
        read_dir(tmp_path)


def test_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(ManifestError, match="is not a directory"):
        read_dir(tmp_path / "nowhere")


@pytest.mark.parametrize(
    "api_version, istio",
    [
        ("networking.istio.io/v1", True),
        ("security.istio.io/v1beta1", True),
        ("gateway.networking.k8s.io/v1", True),
        ("v1", False),
        ("discovery.k8s.io/v1", False),
        ("networking.k8s.io/v1", False),
    ],
)
def test_istio_and_gateway_api_kinds_are_config_the_rest_is_kubernetes(api_version, istio):
    assert is_istio_config({"apiVersion": api_version, "kind": "X"}) is istio


@pytest.mark.parametrize(
    "api_version, kind, cni",
    [
        ("networking.k8s.io/v1", "NetworkPolicy", True),
        ("cilium.io/v2", "CiliumNetworkPolicy", True),
        ("networking.istio.io/v1", "ServiceEntry", False),
        ("security.istio.io/v1", "AuthorizationPolicy", False),
        ("v1", "Service", False),
        ("apps/v1", "Deployment", False),
    ],
)
def test_network_policies_are_the_cnis_and_left_out_of_the_simulation(api_version, kind, cni):
    assert is_cni_policy({"apiVersion": api_version, "kind": kind}) is cni
