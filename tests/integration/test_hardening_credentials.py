# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No run prints a bearer token or kubeconfig contents, at default verbosity or -vvv, failures included.

Real runs against a cluster of their own (its token users get bound here), with the token in the
kubeconfig, in a file the kubeconfig names, or in the environment; their whole output is scanned.
"""

from __future__ import annotations

import base64
import concurrent.futures
import datetime
import json
from pathlib import Path

import pytest

from hardening_helpers import HARDENING, scratch_clusters, user_kubeconfig
from role_helpers import LOCK_NAME, fresh_namespace, role_command, run, unique_name

pytestmark = pytest.mark.integration

VERBOSITIES = ("default", "-vvv")


@pytest.fixture(scope="module")
def cluster():
    with scratch_clusters("creds") as clusters:
        yield clusters[0]


def secrets_of(cluster) -> dict[str, str]:
    """What must never be printed: every token (or half of one), and the CA as a kubeconfig holds it."""
    ca = Path(cluster.info["ca_file"]).read_bytes()
    found = {f"the token of {user}": token for user, token in cluster.info["tokens"].items()}
    found.update({f"half the token of {user}": token[:24] for user, token in cluster.info["tokens"].items()})
    found["the certificate-authority-data"] = base64.b64encode(ca).decode()
    found["the CA certificate's first line"] = next(
        line for line in ca.decode().splitlines() if line and not line.startswith("-----")
    )
    return found


def hold_lease(cluster, namespace: str, holder: str) -> None:
    """A lease another run holds for the next ten minutes."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": LOCK_NAME, "namespace": namespace},
                "spec": {"holderIdentity": holder, "leaseDurationSeconds": 600, "acquireTime": now, "renewTime": now},
            }
        ),
    )


def scenarios(cluster, tmp: Path) -> dict[str, tuple[dict, dict, list[str]]]:
    """name -> (role variables, environment, what the run must say: a run that fails must fail for the reason meant)."""
    namespace, held = fresh_namespace(cluster, "creds"), fresh_namespace(cluster, "creds-held")
    # The operator may read (the role's cluster-wide read rights, and listing in the namespace) but not write.
    run(
        role_command(
            {
                "istio_aws_egress_kubeconfig": cluster.kubeconfig,
                "istio_aws_egress_context": cluster.context,
                "istio_aws_egress_namespace": fresh_namespace(cluster, "creds-elsewhere"),
                "istio_aws_egress_rbac_subject": {"kind": "User", "name": "operator"},
            },
            tmp,
            playbook=HARDENING / "rbac.yml",
        )
    ).assert_ok()
    cluster.kubectl(
        "create",
        "role",
        "list-only",
        "-n",
        namespace,
        "--verb=list",
        "--resource=serviceentries.networking.istio.io,"
        "gateways.networking.istio.io,destinationrules.networking.istio.io,virtualservices.networking.istio.io",
    )
    cluster.kubectl("create", "rolebinding", "list-only", "-n", namespace, "--role=list-only", "--user=operator")
    hold_lease(cluster, held, "someone@elsewhere/1")

    def kubeconfig(user, label, **options):
        return {
            "istio_aws_egress_kubeconfig": str(user_kubeconfig(cluster, user, tmp / f"{label}.kubeconfig", **options)),
            "istio_aws_egress_context": "hardening",
        }

    def egress(**extra):
        # The egress set's name is given per run (see outputs).
        return {
            "istio_aws_egress_namespace": namespace,
            "istio_aws_egress_services": ["sqs"],
            "istio_aws_egress_regions": ["us-east-1"],
            **extra,
        }

    def environment(user):
        return {
            "K8S_AUTH_HOST": cluster.info["server"],
            "K8S_AUTH_SSL_CA_CERT": cluster.info["ca_file"],
            "K8S_AUTH_API_KEY": cluster.token(user),
        }

    forbidden_read = [
        "reading the CustomResourceDefinition serviceentries.networking.istio.io from",
        "403 Forbidden",
        'User "unprivileged" cannot get',
    ]
    return {
        "applies, token in the kubeconfig": ({**egress(), **kubeconfig("admin", "inline")}, {}, ["1 to create"]),
        "applies, token in a file": ({**egress(), **kubeconfig("admin", "file", inline=False)}, {}, ["1 to create"]),
        "applies, token in the environment": (egress(), environment("admin"), ["1 to create"]),
        "forbidden to read, token in the kubeconfig": (
            {**egress(), **kubeconfig("unprivileged", "read")},
            {},
            forbidden_read,
        ),
        "forbidden to read, token in a file": (
            {**egress(), **kubeconfig("unprivileged", "readf", inline=False)},
            {},
            forbidden_read,
        ),
        "forbidden to read, token in the environment": (egress(), environment("unprivileged"), forbidden_read),
        "forbidden to write": (
            {**egress(), **kubeconfig("operator", "write")},
            {},
            [
                f"missing permission on hardening: cannot get serviceentries.networking.istio.io in namespace {namespace}",
                f"cannot patch serviceentries.networking.istio.io in namespace {namespace}",
            ],
        ),
        "server unreachable": (
            {**egress(), **kubeconfig("admin", "gone", server="https://127.0.0.1:1")},
            {},
            ["cannot reach the API server at 127.0.0.1:", "Connection refused"],
        ),
        "no such context": (
            {**egress(), **kubeconfig("admin", "nocontext"), "istio_aws_egress_context": "nope"},
            {},
            [
                'istio_aws_egress_context: "nope" is not a context of',
                "(its contexts: hardening); nothing was read or written",
            ],
        ),
        "lease held by another run": (
            {**egress(istio_aws_egress_namespace=held, istio_aws_egress_lock_timeout=1), **kubeconfig("admin", "held")},
            {},
            ["taking the rollout lease on hardening failed", "is held by someone@elsewhere/1"],
        ),
    }


@pytest.fixture(scope="module")
def outputs(cluster, tmp_path_factory):
    """Every scenario at both verbosities, three runs at a time: (scenario, verbosity) -> (run, what it must say)."""
    tmp = tmp_path_factory.mktemp("credentials")
    planned = scenarios(cluster, tmp)
    # Every scenario run is checked by a test below, and only those.
    assert set(planned) == set(SCENARIOS) and MODULES_RUN <= set(SCENARIOS)

    def one(key):
        variables, env, said = planned[key[0]]
        # An egress set per run, so that both verbosities apply (and print) something; where it applies, in a
        # namespace of its own (two sets declaring one host in a namespace are refused).
        variables = {**variables, "istio_aws_egress_name": unique_name("creds")}
        if key[0].startswith("applies"):
            variables["istio_aws_egress_namespace"] = fresh_namespace(cluster, "creds-applies")
        command = role_command(variables, tmp, args=() if key[1] == "default" else (key[1],))
        return key, (run(command, timeout=300, env=env), said)

    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(one, [(name, verbosity) for name in planned for verbosity in VERBOSITIES]))


SCENARIOS = [
    "applies, token in the kubeconfig",
    "applies, token in a file",
    "applies, token in the environment",
    "forbidden to read, token in the kubeconfig",
    "forbidden to read, token in a file",
    "forbidden to read, token in the environment",
    "forbidden to write",
    "server unreachable",
    "no such context",
    "lease held by another run",
]


# Scenarios that get as far as the egress_set action and kubernetes.core.k8s, whose arguments -vvv prints.
MODULES_RUN = {
    "applies, token in the kubeconfig",
    "applies, token in a file",
    "applies, token in the environment",
    "forbidden to write",
    "lease held by another run",
}


@pytest.mark.parametrize("verbosity", VERBOSITIES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_secret_in_the_output(cluster, outputs, scenario, verbosity):
    result, said = outputs[(scenario, verbosity)]
    # The run went where it was meant to: a success, or a failure for the reason meant.
    assert (result.returncode == 0) == scenario.startswith("applies"), result.stdout[-3000:]
    output = result.stdout + result.stderr
    for text in said:
        assert text in output or result.said(text), f"{text!r} not in the output:\n{result.stdout[-3000:]}"
    if verbosity == "-vvv" and scenario in MODULES_RUN:
        assert "module_args" in output  # the modules' arguments are shown, credentials masked
    leaked = [what for what, secret in secrets_of(cluster).items() if secret in output]
    assert leaked == [], f"{', '.join(leaked)} printed"
