# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as users get it: the built artifact, installed into an empty collections path, run from elsewhere.

Nothing of the checkout is used but the artifact: the playbooks run from a directory of their own, with no
ansible.cfg, and find the collection in the path it was installed into (kubernetes.core comes with the
`ansible` package, as for a user). The execution environment's definition and the requirements the collection
declares for it are what ansible-builder reads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import botocore
import pytest
import yaml

import access_logs
import localcluster
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.formats import ENVOY_TEXT_FORMAT
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import build
from conftest import ROOT
from role_helpers import RoleRun, fresh_namespace, unique_name

pytestmark = pytest.mark.integration

BIN = ROOT / ".venv" / "bin"
# What a user runs and reads, and what only this repository's developers need.
SHIPPED = {
    "plugins",
    "roles",
    "playbooks",
    "meta",
    "docs",
    "changelogs",
    "inventories",
    "extensions",
    "README.md",
    "LICENSE",
    "requirements.txt",
    "bindep.txt",
    "requirements",
    "MANIFEST.json",
    "FILES.json",
}
NOT_SHIPPED = (
    "tests/",
    "benchmarks/",
    "Makefile",
    ".ci/",
    "inventories/local/",
    "ansible.cfg",
    "requirements/dev.txt",
    ".ansible-lint",
    "changelogs/fragments/",
)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("artifact")
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
        cwd=out,
        env=user_env(out),
    )
    (built,) = out.glob("meshops-aws_egress-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def installed(artifact, tmp_path_factory) -> Path:
    """An empty collections path holding the artifact alone."""
    path = tmp_path_factory.mktemp("collections")
    # Away from the checkout, whose ansible.cfg already knows the collection (as a link to itself).
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "-p", str(path), str(artifact)],
        capture_output=True,
        text=True,
        check=True,
        cwd=path,
        env=user_env(path),
    )
    assert (path / "ansible_collections" / "meshops" / "aws_egress" / "MANIFEST.json").exists()
    return path


def user_env(collections: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    return {
        **env,
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": os.pathsep.join([str(BIN), env.get("PATH", "")]),
    }


def user_run(collections: Path, workdir: Path, *args: str, env: dict | None = None) -> RoleRun:
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), *args],
        cwd=workdir,
        env={**user_env(collections), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return RoleRun(result.returncode, result.stdout, result.stderr)


def test_the_artifact_holds_what_users_run_and_nothing_else(artifact):
    with tarfile.open(artifact) as tar:
        names = tar.getnames()
    assert {name.split("/")[0] for name in names} == SHIPPED
    assert [name for name in names if name.startswith(NOT_SHIPPED) or name in NOT_SHIPPED] == []
    for needed in (
        "plugins/action/egress_set.py",
        "roles/istio_aws_egress/meta/argument_specs.yml",
        "playbooks/site.yml",
        "meta/execution-environment.yml",
        "docs/execution-environment.yml",
        "inventories/prod/hosts.yml",
        "extensions/xds-simulate/go.mod",
        "extensions/xds-simulate/go.sum",
        "extensions/xds-simulate/simulate_test.go",
        "extensions/xds-simulate/simulation/traffic.go",
    ):
        assert needed in names, needed


def test_the_installed_collection_renders_an_inventory_from_its_own_playbook(installed, tmp_path):
    inventory = installed / "ansible_collections" / "meshops" / "aws_egress" / "inventories" / "prod"
    out = tmp_path / "rendered"
    run = user_run(
        installed,
        tmp_path,
        "-i",
        str(inventory),
        "meshops.aws_egress.render",
        "-e",
        f"render_dir={out}",
        "-e",
        "render_offline=true",
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["prod-apse2", "prod-euw1", "prod-use1"]
    kinds = {
        yaml.safe_load(p.read_text())["kind"] for p in (out / "prod-use1").iterdir() if p.name != "kustomization.yaml"
    }
    assert kinds == {
        "ServiceEntry",
        "Gateway",
        "DestinationRule",
        "VirtualService",
        "AuthorizationPolicy",
        "Sidecar",
        "NetworkPolicy",
    }


def test_the_installed_collection_diagnoses_logs_by_its_playbooks_name(installed, tmp_path):
    inventory = installed / "ansible_collections" / "meshops" / "aws_egress" / "inventories" / "prod"
    (tmp_path / "logs" / "orders").mkdir(parents=True)
    (tmp_path / "logs" / "orders" / "orders-api.log").write_text(
        access_logs.envoy_text(
            ENVOY_TEXT_FORMAT,
            access_logs.black_hole(
                "sqs.us-east-2.amazonaws.com", "52.94.0.1:443", "10.244.1.7:51912", "2026-12-01T10:00:00.000Z"
            ),
        )
        + "\n"
    )
    # The harness as a user who built it in a checkout names it; a shell in the directory the reports go to.
    env = {"XDS_SIMULATE": str(localcluster.BIN / "xds-simulate"), "PWD": str(tmp_path)}
    run = user_run(
        installed,
        tmp_path,
        "-i",
        str(inventory),
        "meshops.aws_egress.diagnose",
        "--limit",
        "prod-use1",
        "-e",
        "diagnose_logs=logs",
        env=env,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert run.said("prod-use1: 1 blocked destination in 1 of 1 line: 1 with a fix (1 proven), 0 without")
    [found] = json.loads((tmp_path / "diagnose" / "prod-use1.json").read_text())["findings"]
    assert (
        found["fix"]["change"] == "add {name: sqs, regions: [us-east-2]} to istio_aws_egress_services"
        and found["proven"]
    )


def test_the_installed_collection_builds_its_harness_on_first_use_and_simulates(installed, tmp_path):
    collection = installed / "ansible_collections" / "meshops" / "aws_egress"
    inventory = collection / "inventories" / "prod"
    # No harness anywhere: an empty cache of ours, no XDS_SIMULATE, no checkout. Go's own build cache stays warm
    # (it lives under XDG_CACHE_HOME too, unless GOCACHE says otherwise).
    gocache = subprocess.run(["go", "env", "GOCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    go_version = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()
    cache = tmp_path / "cache"
    env = {"XDS_SIMULATE": "", "XDG_CACHE_HOME": str(cache), "GOCACHE": gocache, "PWD": str(tmp_path)}
    args = ("-i", str(inventory), "meshops.aws_egress.simulate", "--limit", "prod-use1", "-e", "simulate_offline=true")

    first = user_run(installed, tmp_path, *args, env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    source = collection / "extensions" / "xds-simulate"
    assert f"building xds-simulate from {source} with {go_version}" in first.stdout
    assert "the first build takes minutes" in first.stdout
    # The installed source is the checkout's, byte for byte: one harness source.
    assert build.source_hash(source) == build.source_hash()
    [built] = (cache / "meshops-aws-egress").glob("xds-simulate-*/xds-simulate")
    assert built.parent.name == f"xds-simulate-{build.source_hash()}-{go_version}"
    assert build.built_from(built) == build.source_hash()
    report = json.loads((tmp_path / "simulate" / "prod-use1.json").read_text())
    assert report["violations"] == [] and report["counts"]["leave"] > 0, report["summary"]

    before = built.stat()
    second = user_run(installed, tmp_path, *args, env=env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-2000:]
    assert "building xds-simulate" not in second.stdout
    after = built.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)

    no_go = os.pathsep.join(
        d for d in user_env(installed)["PATH"].split(os.pathsep) if d and not (Path(d) / "go").exists()
    )
    assert shutil.which("go", path=no_go) is None
    without = user_run(
        installed, tmp_path, *args, env={**env, "XDG_CACHE_HOME": str(tmp_path / "empty-cache"), "PATH": no_go}
    )
    assert without.returncode != 0
    assert "Traceback" not in without.stdout + without.stderr
    assert (
        "xds-simulate (istiod's config generation, which the simulation runs) is not built for this collection, and there "
        "is no Go on PATH to build it: install Go 1.26 or newer (the first run builds it, which takes minutes), or set "
        "XDS_SIMULATE=/path/to/xds-simulate to a binary built from this collection's extensions/xds-simulate"
    ) in without.stdout


def test_the_installed_role_applies_and_reruns_without_a_write(installed, local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "artifact"), unique_name("artifact")
    (tmp_path / "inventory.yml").write_text(
        yaml.safe_dump(
            {
                "clusters": {
                    "hosts": {
                        "cluster": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                        }
                    }
                }
            }
        )
    )
    (tmp_path / "play.yml").write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Open the AWS egress",
                    "hosts": "clusters",
                    "gather_facts": False,
                    "roles": [{"role": "meshops.aws_egress.istio_aws_egress"}],
                }
            ]
        )
    )
    variables = json.dumps(
        {
            "istio_aws_egress_kubeconfig": local_cluster.kubeconfig,
            "istio_aws_egress_context": local_cluster.context,
            "istio_aws_egress_name": name,
            "istio_aws_egress_namespace": namespace,
            "istio_aws_egress_services": ["sqs"],
            "istio_aws_egress_regions": ["us-east-1"],
        }
    )
    first = user_run(installed, tmp_path, "-i", "inventory.yml", "play.yml", "-e", variables).assert_ok()
    assert first.changed == 1 and first.said("1 to create")
    local_cluster.audit.mark()
    assert user_run(installed, tmp_path, "-i", "inventory.yml", "play.yml", "-e", variables).assert_ok().changed == 0
    assert local_cluster.audit.writes() == []


def ee_context(installed: Path, artifact: Path, tmp_path: Path) -> Path:
    """ansible-builder's build context for the shipped definition, laid out as the README builds it: the definition in
    docs/ of a checkout, the tarball `ansible-galaxy collection build` wrote one directory above it."""
    checkout = tmp_path / "checkout"
    (checkout / "docs").mkdir(parents=True)
    collection = installed / "ansible_collections" / "meshops" / "aws_egress"
    shutil.copy(collection / "docs" / "execution-environment.yml", checkout / "docs")
    shutil.copy(artifact, checkout / artifact.name)
    created = subprocess.run(
        [
            str(BIN / "ansible-builder"),
            "create",
            "-f",
            "docs/execution-environment.yml",
            "--context",
            str(tmp_path / "context"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=checkout,
        env=user_env(installed),
    )
    assert created.returncode == 0, created.stdout + created.stderr
    return tmp_path / "context"


def containerfile_stages(context: Path) -> dict[str, str]:
    containerfile = next(p for p in (context / "Containerfile", context / "Dockerfile") if p.exists()).read_text()
    return dict(re.findall(r"^FROM \S+ AS (\w+)\n(.*?)(?=^FROM |\Z)", containerfile, re.M | re.S))


def test_the_execution_environment_builds_a_context_with_what_the_collection_needs(installed, artifact, tmp_path):
    context = ee_context(installed, artifact, tmp_path)
    containerfile = next(p for p in (context / "Containerfile", context / "Dockerfile") if p.exists()).read_text()
    assert "ansible-galaxy" in containerfile and "introspect" in containerfile and "python3.11" in containerfile
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    # The collection itself comes from the tarball, not from a Galaxy server by name.
    assert [c["name"] for c in galaxy["collections"]] == ["kubernetes.core"]
    assert (context / "_build" / "meshops-aws-egress" / artifact.name).read_bytes() == artifact.read_bytes()
    # One botocore for every build: the endpoint data the hosts come from (README, "Updating the endpoint data").
    assert (context / "_build" / "requirements.txt").read_text().split() == [f"botocore=={botocore.__version__}"]
    # What the build's introspection step adds for this collection: its meta/execution-environment.yml, read by
    # ansible-builder itself from the installed artifact.
    introspected = subprocess.run(
        [str(BIN / "ansible-builder"), "introspect", "--sanitize", str(installed)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=user_env(installed),
    )
    python = yaml.safe_load(introspected.stdout.split("---", 1)[1])["python"]
    assert any(line.startswith("kubernetes>=24.2.0,<37") for line in python), python
    assert any(line.startswith("botocore>=1.43.14,<1.45") for line in python), python


def test_the_execution_environment_installs_the_built_tarball_in_its_galaxy_stage(installed, artifact, tmp_path):
    stages = containerfile_stages(ee_context(installed, artifact, tmp_path))
    galaxy = stages["galaxy"].splitlines()
    copy = "COPY _build/meshops-aws-egress/ /tmp/meshops-aws-egress/"
    assert copy in galaxy
    [step] = [line for line in galaxy if "collection install --no-deps" in line]
    assert galaxy.index(step) > galaxy.index(copy)
    # The step itself, run here: the image's paths mapped onto a scratch directory and an empty collections path.
    staged, target = tmp_path / "staged", tmp_path / "image-collections"
    staged.mkdir()
    command = (
        step.removeprefix("RUN ")
        .replace("/tmp/meshops-aws-egress", str(staged))
        .replace("/usr/share/ansible/collections", str(target))
    )
    ran = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, check=False, cwd=tmp_path, env=user_env(target)
    )
    assert ran.returncode == 1 and "put exactly one meshops-aws_egress-<version>.tar.gz beside docs/" in ran.stderr, ran
    shutil.copy(artifact, staged / artifact.name)
    ran = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, check=False, cwd=tmp_path, env=user_env(target)
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    manifest = json.loads((target / "ansible_collections" / "meshops" / "aws_egress" / "MANIFEST.json").read_text())
    assert f"meshops-aws_egress-{manifest['collection_info']['version']}.tar.gz" == artifact.name
    assert not staged.exists(), "the staged tarball is removed from the image"


def test_the_execution_environment_builds_the_harness_in_its_builder_stage(installed, artifact, tmp_path):
    collection = installed / "ansible_collections" / "meshops" / "aws_egress"
    stages = containerfile_stages(ee_context(installed, artifact, tmp_path))
    [step] = [line for line in stages["builder"].splitlines() if "simulation/build.py" in line]
    assert step.startswith("RUN GOTOOLCHAIN=auto ") and "/output/xds-simulate" in step
    final = stages["final"].splitlines()
    assert "COPY --from=builder /output/xds-simulate /usr/local/bin/xds-simulate" in final
    assert "ENV XDS_SIMULATE=/usr/local/bin/xds-simulate" in final
    # The builder step itself, run here: the image's paths mapped onto the installed collection and a scratch /output.
    output = tmp_path / "output"
    output.mkdir()
    command = (
        step.removeprefix("RUN ")
        .replace("$PYCMD", str(BIN / "python"))
        .replace("/usr/share/ansible/collections", str(installed))
        .replace("/output/", f"{output}/")
        .replace("/tmp/xds-simulate-build", str(tmp_path / "build-cache"))
    )
    gocache = subprocess.run(["go", "env", "GOCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    ran = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**user_env(installed), "GOCACHE": gocache},
        timeout=900,
    )
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    build.check(output / "xds-simulate", collection / "extensions" / "xds-simulate")
