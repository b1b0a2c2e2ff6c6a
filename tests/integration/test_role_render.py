# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render mode: files only, no cluster; valid for istioctl and for the API server."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from role_helpers import fresh_namespace, run_role

pytestmark = pytest.mark.integration

KINDS = {
    "sidecar": {"ServiceEntry", "Sidecar", "Telemetry"},
    "egress_gateway": {
        "ServiceEntry",
        "Sidecar",
        "Gateway",
        "DestinationRule",
        "VirtualService",
        "AuthorizationPolicy",
        "Telemetry",
    },
}


def render(tmp_path, out, **overrides) -> dict:
    return {
        "istio_aws_egress_name": "render",
        "istio_aws_egress_render_dir": str(out),
        # Rendering must not need a cluster: this kubeconfig does not exist.
        "istio_aws_egress_kubeconfig": str(tmp_path / "no-such-kubeconfig"),
        "istio_aws_egress_context": "nowhere",
        "istio_aws_egress_services": ["sqs", "sns"],
        "istio_aws_egress_regions": ["us-east-1"],
        **overrides,
    }


def rendered(out) -> dict[str, dict]:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(out.iterdir())}


@pytest.mark.parametrize("mode", ["sidecar", "egress_gateway"])
def test_everything_rendered_is_valid_for_istioctl_and_the_api_server(target_cluster, istioctl, tmp_path, mode):
    out = tmp_path / "rendered"
    namespace, orders, gateway = (
        fresh_namespace(target_cluster, f"role-render-{part}") for part in ("entries", "orders", "gw")
    )
    variables = render(
        tmp_path,
        out,
        istio_aws_egress_mode=mode,
        istio_aws_egress_namespace=namespace,
        istio_aws_egress_sidecars=[orders],
        istio_aws_egress_gateway={"namespace": gateway},
        istio_aws_egress_services=["dynamodb", {"name": "s3", "buckets": ["orders-archive"]}, "sqs"],
        istio_aws_egress_regions=["us-east-1", "eu-west-1"],
        istio_aws_egress_account_ids=["123456789012"],
        istio_aws_egress_credential_sources=["irsa", "imds", "eks_pod_identity_ipv6"],
        istio_aws_egress_log_blocked=True,
    )
    run = run_role(None, variables, tmp_path).assert_ok()
    assert run.changed == 1
    # What the plan would say of the layout, render mode says too.
    assert run.said("! not through the egress gateway (wildcard or link-local hosts): aws-render-") == (
        mode == "egress_gateway"
    )

    files = rendered(out)
    resources = {name: doc for name, doc in files.items() if name != "kustomization.yaml"}
    assert files["kustomization.yaml"]["resources"] == sorted(resources)
    assert {doc["kind"] for doc in resources.values()} == KINDS[mode]
    for name, doc in resources.items():
        meta = doc["metadata"]
        assert name == f"{doc['kind'].lower()}-{meta['namespace']}-{meta['name']}.yaml"
        assert meta["labels"] == {
            "app.kubernetes.io/managed-by": "meshops.aws_egress",
            "meshops.io/egress-set": "render",
        }
        assert doc["apiVersion"].endswith("/v1")

    validate = subprocess.run([istioctl, "validate", "-f", str(out)], capture_output=True, text=True, check=False)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "has warnings" not in validate.stderr + validate.stdout
    analyze = subprocess.run(
        [istioctl, "analyze", "--use-kube=false", *(str(out / name) for name in resources)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert analyze.returncode == 0, analyze.stdout + analyze.stderr
    assert "No validation issues found" in analyze.stdout + analyze.stderr

    # The API server (Istio's CRD schemas and CEL rules) accepts the directory as it is.
    dry_run = target_cluster.kubectl("apply", "--server-side", "--dry-run=server", "-k", str(out), check=False)
    assert dry_run.returncode == 0, dry_run.stderr
    assert dry_run.stdout.count("serverside-applied (server dry run)") == len(resources)


def test_the_render_directory_holds_exactly_the_declared_set(tmp_path):
    out = tmp_path / "rendered"
    assert run_role(None, render(tmp_path, out), tmp_path).assert_ok().changed == 1
    ours = set(rendered(out))
    assert ours == {
        "kustomization.yaml",
        "serviceentry-istio-system-aws-render-sqs-us-east-1.yaml",
        "serviceentry-istio-system-aws-render-sns-us-east-1.yaml",
    }
    others = {
        "notes.txt": "mine\n",
        "serviceentry-istio-system-by-hand.yaml": "metadata:\n  name: by-hand\n",
        "serviceentry-istio-system-aws-batch-sqs-us-east-1.yaml": "metadata:\n  labels:\n    meshops.io/egress-set: batch\n",
    }
    for name, text in others.items():
        (out / name).write_text(text)

    assert run_role(None, render(tmp_path, out, istio_aws_egress_services=["sqs"]), tmp_path).assert_ok().changed == 1
    assert set(rendered(out)) == ours - {"serviceentry-istio-system-aws-render-sns-us-east-1.yaml"} | set(others)
    assert all((out / name).read_text() == text for name, text in others.items())
    assert run_role(None, render(tmp_path, out, istio_aws_egress_services=["sqs"]), tmp_path).assert_ok().changed == 0

    assert run_role(None, render(tmp_path, out, istio_aws_egress_state="absent"), tmp_path).assert_ok().changed == 1
    assert set(rendered(out)) == {"kustomization.yaml"} | set(others)
    assert rendered(out)["kustomization.yaml"]["resources"] == []
