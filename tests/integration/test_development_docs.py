# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The commands docs/development.md documents, read from it and run as written in a clone of the checkout: its make
targets and launcher commands start and stop the clone's own clusters (.localcluster of the clone), never the ones
other tests use. The benchmarks run with the arguments the document gives for a short run, since a full run takes
minutes to tens of minutes; the full integration suite against an existing cluster runs one test file, as the
document's INTEGRATION_TESTS allows, since the whole suite is what `make test` runs anyway.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from doc_helpers import clone, commands, section

pytestmark = pytest.mark.integration

DEVELOPMENT = ROOT / "docs" / "development.md"
# Set by the run this test runs in (a worker's clusters, a CI setting); a developer's shell has none of them.
NOT_A_DEVELOPERS = (
    "LOCALCLUSTER_DIR",
    "CLUSTERS",
    "LATENCY_MS",
    "LOCALCLUSTER_CRDS",
    "LOCALCLUSTER_AUDIT",
    "KUBECONFIG",
    "MESHOPS_TEST_KUBECONFIG",
    "MESHOPS_TEST_CONTEXT",
    "CI",
    "PYTEST_XDIST_WORKER",
    "PYTEST_CURRENT_TEST",
)


def inline(pattern: str) -> list[str]:
    """The document's `code` spans that match `pattern` from their start."""
    prose = re.sub(r"```.*?```", "", DEVELOPMENT.read_text(), flags=re.DOTALL)
    spans = (" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose))  # a span may wrap onto the next line
    return [span for span in spans if re.match(pattern, span)]


class Clone:
    """A clone of the checkout sharing its venv, with a developer's shell in it."""

    def __init__(self, path: Path):
        self.path = path
        (path / ".venv").symlink_to(ROOT / ".venv")
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in NOT_A_DEVELOPERS and not key.startswith("ANSIBLE_")
        }

    def sh(self, script: str, timeout: float = 900, **env: str) -> subprocess.CompletedProcess:
        """`script` in bash, stopping at the first command that fails."""
        return subprocess.run(
            ["bash", "-c", f"set -eu -o pipefail\n{script}"],
            cwd=self.path,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )

    def ok(self, script: str, timeout: float = 900, **env: str) -> str:
        done = self.sh(script, timeout, **env)
        assert done.returncode == 0, f"{script}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        return done.stdout

    def clusters(self) -> list[str]:
        return sorted(p.parent.name for p in (self.path / ".localcluster").glob("*/cluster.json"))

    def kubeconfig(self) -> dict:
        return yaml.safe_load((self.path / ".localcluster" / "kubeconfig").read_text())


@pytest.fixture()
def checkout(tmp_path, local_cluster):  # pylint: disable=unused-argument  # local clusters only: it starts its own
    repo = Clone(clone(tmp_path))
    yield repo
    # Whatever failed, nothing the clone started outlives the test.
    repo.sh("make cluster-down")


def test_the_generated_files_as_documented(tmp_path):
    # In a clone: the commands rewrite the role's files, which must come out as they are committed.
    repo = Clone(clone(tmp_path))
    [generated] = inline(r"make generated$")
    [rbac] = inline(r"make rbac$")
    for command in (generated, rbac):
        said = repo.ok(command)
        assert "wrote roles/istio_aws_egress/files/rbac.yaml" in said
    for name in ("templates/resources.yaml.j2", "files/rbac.yaml"):
        ours = (ROOT / "roles" / "istio_aws_egress" / name).read_text()
        assert (repo.path / "roles" / "istio_aws_egress" / name).read_text() == ours, name


def test_make_format_as_documented(tmp_path):
    # The checkout is formatted as `make lint` wants it: the documented command, in a clone, changes nothing.
    repo = Clone(clone(tmp_path))
    [command] = inline(r"make format$")
    sources = sorted(path.relative_to(repo.path) for path in repo.path.rglob("*.py") if ".venv" not in path.parts)
    before = {path: (repo.path / path).read_bytes() for path in sources}
    repo.ok(command)
    assert [path for path in sources if (repo.path / path).read_bytes() != before[path]] == []


def test_the_local_control_plane_as_documented(checkout):  # pylint: disable=redefined-outer-name
    block = commands(section(DEVELOPMENT, "The local control plane"))
    assert block[0] == "make cluster-up" and block[-1].startswith("make cluster-down")
    out = checkout.ok("\n".join(block))
    # Status while they ran: both clusters and their proxies; down stopped them and deleted their state.
    assert re.search(r"^local-a\s+https://127\.0\.0\.1:\d+\s+ready", out, re.M) and re.search(
        r"^local-b\s", out, re.M
    ), out
    assert out.count("  proxy ") == 2 and "stopped local-a local-b" in out.replace(",", ""), out
    assert checkout.clusters() == []


def test_fewer_crds_latency_and_restarts_as_documented(checkout):  # pylint: disable=redefined-outer-name
    [fewer] = inline(r"LOCALCLUSTER_CRDS=istio make cluster-up")
    [crds] = inline(r"LOCALCLUSTER_CRDS=istio \.venv/bin/python tests/cluster/localcluster\.py crds")
    [latency] = inline(r"make cluster-up LATENCY_MS=")
    [stop] = inline(r"\.venv/bin/python tests/cluster/localcluster\.py stop NAME")
    start = inline(r"start NAME")[0]  # then `stop NAME` / `start NAME` again, of the same command
    [copy] = inline(r"\.venv/bin/python tests/cluster/localcluster\.py simulation-copy")

    listed = checkout.ok(crds).split()
    assert listed and all(name.endswith("customresourcedefinitions.gen.yaml") for name in listed), listed

    checkout.ok(fewer)
    [name] = checkout.clusters()
    served = checkout.ok(
        f".localcluster/bin/kubectl --kubeconfig .localcluster/kubeconfig --context {name} get crd -o name"
    )
    assert (
        "serviceentries.networking.istio.io" in served
        and ".gateway.networking.k8s.io" not in served
        and ".cilium.io" not in served
    )

    # A restart keeps the cluster's proxy working and the CRD sets it was created with.
    checkout.ok(f"{stop.replace('NAME', name)}\n{stop.rsplit(' ', 2)[0]} {start.replace('NAME', name)}")
    kubectl = f".localcluster/bin/kubectl --kubeconfig .localcluster/kubeconfig --context {name}"
    assert checkout.ok(f"{kubectl}-proxied get --raw /readyz") == "ok"
    assert "gateway.networking.k8s.io" not in checkout.ok(f"{kubectl} get crd -o name")
    checkout.ok("make cluster-down")

    checkout.ok(latency)
    servers = {c["name"]: c["cluster"]["server"] for c in checkout.kubeconfig()["clusters"]}
    contexts = {c["name"]: c["context"]["cluster"] for c in checkout.kubeconfig()["contexts"]}
    # The main context goes through the cluster's proxy, as its -proxied one does.
    assert servers[contexts["local-a"]] == servers[contexts["local-a-proxied"]], servers
    checkout.ok("make cluster-down")

    # The harness's copy of istio's simulator is the pinned version's: refreshing it rewrites it as it is.
    traffic = "extensions/xds-simulate/simulation/traffic.go"
    assert f"wrote {traffic} from istio.io/istio " in checkout.ok(copy)
    assert (checkout.path / traffic).read_bytes() == (ROOT / traffic).read_bytes()


def test_the_harness_snippet_as_documented():
    [snippet] = re.findall(r"```python\n(.*?)```", section(DEVELOPMENT, "The xDS simulation harness", 3), re.DOTALL)
    entries_yaml = yaml.safe_dump(
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "ServiceEntry",
            "metadata": {"name": "sqs", "namespace": "istio-system"},
            "spec": {
                "hosts": ["sqs.us-east-1.amazonaws.com"],
                "location": "MESH_EXTERNAL",
                "resolution": "DNS",
                "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            },
        }
    )
    scope = {"entries_yaml": entries_yaml}
    exec(snippet, scope)  # pylint: disable=exec-used  # the document's own code, as a developer pastes it
    [call] = scope["response"]["results"]
    assert call["cluster"] == "outbound|443||sqs.us-east-1.amazonaws.com", call


def test_the_integration_tests_against_an_existing_cluster_as_documented(checkout, tmp_path):  # pylint: disable=redefined-outer-name
    [command] = commands(section(DEVELOPMENT, "Testing against an existing cluster"))
    assert command == "MESHOPS_TEST_KUBECONFIG=~/.kube/config MESHOPS_TEST_CONTEXT=kind-mesh make integration"
    [one_file] = inline(r"make integration INTEGRATION_TESTS=")
    # The existing cluster: the clone's local-a, as the context the command names, in ~/.kube/config of a home of its own.
    checkout.ok("make cluster-up CLUSTERS=local-a")
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    config = checkout.kubeconfig()
    [context] = [c for c in config["contexts"] if c["name"] == "local-a"]
    (home / ".kube" / "config").write_text(
        yaml.safe_dump({**config, "current-context": "kind-mesh", "contexts": [{**context, "name": "kind-mesh"}]})
    )
    # Go's and our caches where they are, with another home.
    go_env = json.loads(
        subprocess.run(
            ["go", "env", "-json", "GOPATH", "GOMODCACHE", "GOCACHE"], capture_output=True, text=True, check=True
        ).stdout
    )
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    # One small file of the suite: its cluster tests run on kind-mesh, its local-only ones skip saying why.
    small = "tests/integration/test_local_cluster.py"
    variable = one_file.split()[2].split("=")[0]
    done = checkout.sh(f"{command} {variable}={small}", HOME=str(home), XDG_CACHE_HOME=cache, **go_env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert f"integration: using the existing cluster(s) in MESHOPS_TEST_KUBECONFIG={home}/.kube/config" in done.stdout
    # Under another make (make test), the inner make says which directory it enters and leaves: not the command's output.
    summary = [
        line
        for line in done.stdout.strip().splitlines()
        if not re.match(r"make\[\d+\]: (Entering|Leaving) directory", line)
    ][-1]
    assert re.search(r"\b\d+ passed\b", summary) and re.search(r"\b\d+ skipped\b", summary), done.stdout[-3000:]
    # The file's cluster tests wrote through kind-mesh: the cluster's audit log has their entry.
    assert '"name":"foundation-valid"' in (checkout.path / ".localcluster" / "local-a" / "audit.log").read_text()


# The arguments the document gives for a short run, per script.
SHORT = {
    "role_apply.py": "--sizes 10 --repeat 1",
    "site_rollout.py": "--repeat 1",
    "filter_expand.py": "--runs 1",
    "diagnose_logs.py": "--lines 1000",
}


def test_the_benchmarks_as_documented_in_a_short_run(checkout):  # pylint: disable=redefined-outer-name
    text = section(DEVELOPMENT, "Performance")
    listed = [line.strip() for line in text.splitlines() if line.startswith("    .venv/bin/python benchmarks/")]
    assert len(listed) == 5 and {re.search(r"benchmarks/(\S+)", line).group(1) for line in listed} == set(SHORT)
    for script, args in SHORT.items():
        assert args in text, f"the document no longer gives {args} for {script}"
    checkout.ok("make cluster-build")
    for line in listed:
        command = line.split("#", 1)[0].strip()
        script = re.search(r"benchmarks/(\S+)", command).group(1)
        done = checkout.sh(f"{command} {SHORT[script]}", timeout=1200)
        out = done.stdout
        if script == "role_apply.py":
            assert done.returncode == 0 and re.search(
                r"^\| 10 \| 8 \| \d+\.\d+ s \| \d+\.\d+ s \| \d+\.\d+ s \|", out, re.M
            ), out + done.stderr[-3000:]
            assert ("role apply at N=10" in out) == ("--profile" in command), out
        elif script == "site_rollout.py":
            assert done.returncode == 0, out + done.stderr[-3000:]
            for case in (
                "1 cluster",
                "3 clusters, one batch",
                "6 clusters, one batch",
                "3 clusters, canary + 25% batches",
            ):
                assert re.search(rf"^{re.escape(case)}\s+\d+\.\d+s", out, re.M), out
        else:
            # Their exit says whether the timing goal was met, which a busy machine decides; the run itself must work.
            assert done.returncode == (1 if "MISSED" in out else 0), out + done.stderr[-3000:]
            expected = ("all ", "typical ") if script == "filter_expand.py" else ("diagnosis: 1,000 lines in",)
            assert all(word in out for word in expected), out
    checkout.ok("make cluster-down")
