# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint data is an input: two real botocore releases, one inventory, one cluster.

OLDEST is the oldest botocore requirements.txt admits, CURRENT the one requirements/runtime.txt pins (the checkout's
.venv); botocore_versions.py gives the older one a Python of its own. For the services below their data differ:

* servicediscovery with dual-stack moved from `*.amazonaws.com` hosts to `*.api.aws` ones: a rename, and SDKs built on the
  older data still call the old hosts;
* dynamodb gained `search-dynamodb.<region>.amazonaws.com` and `*.search-ddb.<region>.amazonaws.com`: an addition.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from botocore_versions import CURRENT, OLDEST, VENV, python_with_botocore
from conftest import ROOT
from role_helpers import (
    fresh_namespace,
    objects,
    refused,
    removed_after,
    rerun_writes_nothing,
    role_command,
    run,
    run_role,
    unique_name,
    writes,
)

pytestmark = pytest.mark.integration

REGION = "us-east-1"
SERVICES = [{"name": "servicediscovery", "dualstack": True}, "dynamodb"]
RENAMED = {"data-servicediscovery.us-east-1.amazonaws.com", "servicediscovery.us-east-1.amazonaws.com"}
NEW_NAMES = {"data-servicediscovery.us-east-1.api.aws", "servicediscovery.us-east-1.api.aws"}
ADDED = {"search-dynamodb.us-east-1.amazonaws.com", "*.search-ddb.us-east-1.amazonaws.com"}
BOTOCORE = "meshops.io/botocore-version"


@pytest.fixture(scope="module")
def oldest():
    """The python of a controller with the oldest botocore the collection admits."""
    return python_with_botocore(OLDEST)


def hosts_with(python) -> set[str]:
    """The hosts the aws_endpoints filter opens for SERVICES, run by `python`."""
    script = (
        "import json, sys; sys.path.insert(0, '.collections')\n"
        "from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import aws_endpoints\n"
        f"print(json.dumps([h for e in aws_endpoints({SERVICES!r}, regions=[{REGION!r}]) for h in e['hosts']]))"
    )
    return set(
        json.loads(
            subprocess.run([str(python), "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        )
    )


def test_the_two_botocore_releases_open_other_hosts_for_one_inventory(oldest):
    old, new = hosts_with(oldest), hosts_with(VENV / "bin" / "python")
    assert old - new == RENAMED
    assert new - old == NEW_NAMES | ADDED


def test_an_upgrade_of_the_endpoint_data_is_planned_apart_and_closes_nothing_without_consent(
    local_cluster, oldest, tmp_path
):
    namespace, orders, name = (
        fresh_namespace(local_cluster, "data"),
        fresh_namespace(local_cluster, "data-orders"),
        unique_name("data"),
    )
    variables = {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": SERVICES,
        "istio_aws_egress_regions": [REGION],
        "istio_aws_egress_sidecars": [orders],
    }
    renamed_entry, sidecar = f"aws-{name}-servicediscovery-{REGION}", f"{orders}/aws-{name}-egress"
    # As the playbooks take them: the inventory's host names its cluster.
    cluster_variables = {
        "istio_aws_egress_kubeconfig": local_cluster.kubeconfig,
        "istio_aws_egress_context": local_cluster.context,
        **variables,
    }
    collection = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]

    def live():
        return {**objects(local_cluster, "serviceentries", namespace), **objects(local_cluster, "sidecars", orders)}

    with removed_after(local_cluster, tmp_path) as remove:
        remove(variables)
        # A controller with the oldest botocore rolls the set out; every object says which endpoint data it came from.
        run_role(local_cluster, variables, tmp_path, python=oldest).assert_ok()
        assert {o["metadata"]["annotations"][BOTOCORE] for o in live().values()} == {OLDEST}
        assert set(live()[f"{namespace}/{renamed_entry}"]["spec"]["hosts"]) == RENAMED
        rerun_writes_nothing(local_cluster, variables, tmp_path, python=oldest)

        # plan.yml with the current botocore: the endpoint data's changes under their own heading, with both versions.
        local_cluster.audit.mark()
        plan_dir = tmp_path / "plan"
        planned = run(
            role_command(
                {**cluster_variables, "plan_dir": str(plan_dir)}, tmp_path, playbook=ROOT / "playbooks" / "plan.yml"
            )
        )
        assert planned.returncode == 0, planned.stdout[-4000:] + planned.stderr[-2000:]
        assert writes(local_cluster.audit) == []
        heading = (
            f"endpoint data: botocore {OLDEST}, meshops.aws_egress {collection} -> botocore {CURRENT}, meshops.aws_egress "
            f"{collection}; what it changes, not the inventory:"
        )
        withheld = [f"{host} (servicediscovery in {REGION}, still declared)" for host in sorted(RENAMED)]
        report = json.loads((plan_dir / "cluster.json").read_text())["endpoint_data"]
        assert report["botocore"] == CURRENT and report["recorded"] == [{"botocore": OLDEST, "collection": collection}]
        assert report["added"] == sorted(
            [f"{host} (dynamodb in {REGION})" for host in ADDED]
            + [f"{host} (servicediscovery in {REGION}): waits with the withheld writes" for host in NEW_NAMES]
        )
        assert report["withheld"] == withheld and report["removed"] == []
        markdown = (plan_dir / "cluster.md").read_text()
        assert "## Changes from the endpoint data alone" in markdown and heading in markdown
        for line in [
            heading,
            *(f"- {host}: withheld" for host in withheld),
            f"= withheld ServiceEntry {namespace}/{renamed_entry}",
            f"= withheld Sidecar {sidecar}",
            f"~ update ServiceEntry {namespace}/aws-{name}-dynamodb-{REGION}",
        ]:
            assert planned.said(line), line

        # The rollout with it: what the endpoint data adds goes ahead; the renamed hosts stay open until accepted.
        local_cluster.audit.mark()
        upgrade = run_role(local_cluster, variables, tmp_path).assert_ok()
        assert upgrade.said("2 withheld (they would close hosts only the endpoint data drops)")
        assert sorted(writes(local_cluster.audit)) == [
            ("patch", "serviceentries", namespace, f"aws-{name}-dynamodb-{REGION}"),
            ("patch", "serviceentries", namespace, f"aws-{name}-dynamodb-{REGION}-wildcard"),
        ]
        after = live()
        assert set(after[f"{namespace}/{renamed_entry}"]["spec"]["hosts"]) == RENAMED
        assert after[f"{namespace}/{renamed_entry}"]["metadata"]["annotations"][BOTOCORE] == OLDEST
        assert {f"{namespace}/{host}" for host in RENAMED} <= set(after[sidecar]["spec"]["egress"][0]["hosts"])
        assert (
            "search-dynamodb.us-east-1.amazonaws.com"
            in after[f"{namespace}/aws-{name}-dynamodb-{REGION}"]["spec"]["hosts"]
        )
        rerun_writes_nothing(local_cluster, variables, tmp_path)

        # The older controller again: refused, naming both versions, rather than undo what the newer one did.
        refused(
            local_cluster,
            variables,
            tmp_path,
            f"objects on this cluster record botocore {CURRENT}",
            f"this run's botocore {OLDEST}",
            f"run with botocore {CURRENT} or newer",
            "endpoint_data_downgrade",
            python=oldest,
        )

        # Going back knowingly is no silent flip either: the older data's removals wait as the newer data's did.
        local_cluster.audit.mark()
        back = run_role(
            local_cluster,
            {**variables, "istio_aws_egress_accept": ["endpoint_data_downgrade"]},
            tmp_path,
            check=True,
            python=oldest,
        ).assert_ok()
        assert writes(local_cluster.audit) == []
        for line in (
            f"botocore {CURRENT}, meshops.aws_egress {collection} -> botocore {OLDEST}, meshops.aws_egress {collection}",
            f"- search-dynamodb.us-east-1.amazonaws.com (dynamodb in {REGION}, still declared): withheld",
            f"= withheld ServiceEntry {namespace}/aws-{name}-dynamodb-{REGION}",
            "accepted (endpoint_data_downgrade)",
        ):
            assert back.said(line), line

        # Consent, as the README's runbook gives it to site.yml: the renamed hosts are closed, their new names opened.
        local_cluster.audit.mark()
        closed = run(
            role_command(
                cluster_variables,
                tmp_path,
                playbook=ROOT / "playbooks" / "site.yml",
                args=("-e", '{"istio_aws_egress_accept": ["endpoint_data_removal"]}'),
            )
        )
        assert closed.returncode == 0, closed.stdout[-4000:] + closed.stderr[-2000:]
        assert closed.said(f"accepted (endpoint_data_removal): the endpoint data alone closes {withheld[0]}")
        assert sorted(writes(local_cluster.audit)) == [
            ("patch", "serviceentries", namespace, renamed_entry),
            ("patch", "sidecars", orders, f"aws-{name}-egress"),
        ]
        after = live()
        assert set(after[f"{namespace}/{renamed_entry}"]["spec"]["hosts"]) == NEW_NAMES
        assert not {f"{namespace}/{host}" for host in RENAMED} & set(after[sidecar]["spec"]["egress"][0]["hosts"])
        assert {o["metadata"]["annotations"][BOTOCORE] for o in after.values()} == {CURRENT}
        # Given once: the set now records the current versions, and nothing waits any more.
        rerun_writes_nothing(local_cluster, variables, tmp_path)
