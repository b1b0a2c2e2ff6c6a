# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input fails before any request reaches a cluster, naming the variable and the value."""

from __future__ import annotations

import subprocess
import venv

import pytest

from role_helpers import expect_failure, fresh_namespace, role_command, run, writes

pytestmark = pytest.mark.integration

GOOD = {
    "istio_aws_egress_name": "input",
    "istio_aws_egress_services": ["sqs"],
    "istio_aws_egress_regions": ["us-east-1"],
}

# (variables over GOOD, what the failure must say): argument specs first, then the role, then the filters.
BAD_INPUT = [
    ({"istio_aws_egress_mode": "gateway"}, ["istio_aws_egress_mode", "gateway", "sidecar, egress_gateway"]),
    ({"istio_aws_egress_prune": "sometimes"}, ["istio_aws_egress_prune", "sometimes"]),
    ({"istio_aws_egress_credential_sources": ["imdsv2"]}, ["istio_aws_egress_credential_sources", "imdsv2"]),
    ({"istio_aws_egress_name": "Team_A"}, ['istio_aws_egress_name: "Team_A" is not an egress set name']),
    ({"istio_aws_egress_name": "a" * 31}, ["istio_aws_egress_name", "at most 30 characters"]),
    # Every message names the role's variables, never the filter's arguments.
    (
        {"istio_aws_egress_regions": []},
        ["istio_aws_egress_services[0]: 'sqs' has no regions: set istio_aws_egress_regions, or give"],
    ),
    (
        {
            "istio_aws_egress_regions": [],
            "istio_aws_egress_services": [],
            "istio_aws_egress_credential_sources": ["irsa"],
        },
        [
            "istio_aws_egress_credential_sources[0]: 'irsa' calls AWS in the workload's region: set istio_aws_egress_regions"
        ],
    ),
    (
        {"istio_aws_egress_regions": ["us-east-1", "eu_west_1"]},
        ["istio_aws_egress_regions[1]: 'eu_west_1' is not an AWS region; did you mean 'eu-west-1'?"],
    ),
    (
        {"istio_aws_egress_services": ["sqs", {"name": "dynamo"}]},
        ["istio_aws_egress_services[1].name: 'dynamo' is not a service botocore knows", "did you mean 'dynamodb'?"],
    ),
    (
        {"istio_aws_egress_services": "sqs"},
        ["istio_aws_egress_services: expected a list of service names or dicts, got str 'sqs'"],
    ),
    (
        {"istio_aws_egress_account_ids": [123456789012]},
        ["istio_aws_egress_account_ids[0]: expected an account ID as a string of 12 digits"],
    ),
    (
        {"istio_aws_egress_sidecars": ["orders", "Billing"]},
        ["istio_aws_egress_sidecars[1]: 'Billing' is not a namespace name"],
    ),
    (
        {"istio_aws_egress_namespace": "istio system"},
        ["istio_aws_egress_namespace: 'istio system' is not a namespace name"],
    ),
    ({"istio_aws_egress_export_to": ["*", "*"]}, ["istio_aws_egress_export_to[1]: '*' is listed twice"]),
    (
        {"istio_aws_egress_mode": "egress_gateway", "istio_aws_egress_gateway": {"selector": "istio=egressgateway"}},
        [
            "istio_aws_egress_gateway.selector: expected a dict of pod labels (strings to strings), got str 'istio=egressgateway'"
        ],
    ),
]


def _case_id(index: int) -> str:
    return f"{index}-" + "-".join(key.removeprefix("istio_aws_egress_") for key in BAD_INPUT[index][0])


@pytest.mark.parametrize("variables, messages", BAD_INPUT, ids=[_case_id(index) for index in range(len(BAD_INPUT))])
def test_bad_input_writes_nothing_and_names_the_variable(local_cluster, tmp_path, variables, messages):
    local_cluster.audit.mark()
    failed = expect_failure(local_cluster, {**GOOD, **variables}, tmp_path, *messages)
    assert writes(local_cluster.audit) == []
    assert "the filter" not in failed.stdout


NOWHERE = """\
apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: nowhere, user: {token: none}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: nowhere}}]
current-context: nowhere
"""


def test_bad_input_is_found_before_the_cluster_is_contacted(tmp_path):
    # A cluster nobody listens for: contacting it fails on the connection, not on the input.
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(NOWHERE)
    nowhere = {"istio_aws_egress_kubeconfig": str(kubeconfig), "istio_aws_egress_context": "nowhere"}
    expect_failure(
        None,
        {**GOOD, **nowhere, "istio_aws_egress_regions": ["moon-1"]},
        tmp_path,
        "istio_aws_egress_regions[0]: 'moon-1' is not an AWS region",
    )
    # ...while a good input does get as far as the cluster.
    expect_failure(
        None,
        {**GOOD, **nowhere},
        tmp_path,
        "connecting to nowhere failed",
        "cannot reach the API server at 127.0.0.1:1",
        "Connection refused",
    )


def test_a_missing_kubeconfig_is_named(tmp_path):
    missing = str(tmp_path / "no-such-kubeconfig")
    expect_failure(
        None,
        {**GOOD, "istio_aws_egress_kubeconfig": missing},
        tmp_path,
        f'istio_aws_egress_kubeconfig: "{missing}" is not a file',
    )


def test_a_module_python_without_the_kubernetes_client_is_named_before_any_write(local_cluster, tmp_path):
    # A virtualenv of its own, with nothing installed: whatever the machine's Python has, not the kubernetes client.
    venv.create(tmp_path / "bare", with_pip=False)
    bare = tmp_path / "bare" / "bin" / "python"
    assert subprocess.run([str(bare), "-c", "import kubernetes"], capture_output=True, check=False).returncode != 0
    namespace = fresh_namespace(local_cluster, "input-python")
    local_cluster.audit.mark()
    failed = run(
        role_command(
            {
                **GOOD,
                "istio_aws_egress_namespace": namespace,
                "istio_aws_egress_kubeconfig": local_cluster.kubeconfig,
                "istio_aws_egress_context": local_cluster.context,
                "ansible_python_interpreter": str(bare),
            },
            tmp_path,
        )
    )
    assert failed.returncode != 0
    assert failed.said(f"checking the Python that runs modules for {local_cluster.context} failed")
    assert (
        failed.said("cannot import kubernetes")
        and failed.said("ansible_python_interpreter")
        and failed.said("nothing was written")
    )
    assert local_cluster.audit.writes() == []


def test_an_argument_spec_failure_shows_the_offending_value_first(tmp_path):
    failed = run(role_command({**GOOD, "istio_aws_egress_mode": "gateway"}, tmp_path))
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    first = next(line for line in output.splitlines() if "istio_aws_egress_mode" in line)
    assert (
        first.strip() == "value of istio_aws_egress_mode must be one of: sidecar, egress_gateway, ambient, got: gateway"
    )
    assert output.index(first) < output.index("argument_spec_data")
