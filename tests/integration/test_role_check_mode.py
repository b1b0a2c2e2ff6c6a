# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode: a readable plan per resource, and not one write."""

from __future__ import annotations

import json

import pytest

from role_helpers import fresh_namespace, objects, run_role, unique_name, writes

pytestmark = pytest.mark.integration


def egress(namespace: str, name: str, **overrides) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["sqs", "sns"],
        "istio_aws_egress_regions": ["us-east-1"],
        **overrides,
    }


def diffs(stdout: str) -> dict[str, str]:
    """Every diff the callback printed, by the object its header names."""
    blocks = stdout.split("--- before: ")[1:]
    return {block.split(" (live)", 1)[0]: "--- before: " + block.split("\n\n", 1)[0] for block in blocks}


def test_check_mode_writes_nothing_and_says_what_would_change(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "role-check"), unique_name("check")
    run_role(local_cluster, egress(namespace, name), tmp_path).assert_ok()
    before = objects(local_cluster, "serviceentries", namespace)

    local_cluster.audit.mark()
    changed = egress(namespace, name, istio_aws_egress_services=["sqs", "kms"], istio_aws_egress_export_to=["."])
    check = run_role(local_cluster, changed, tmp_path, check=True).assert_ok()
    assert writes(local_cluster.audit) == []
    assert objects(local_cluster, "serviceentries", namespace) == before
    assert check.changed == 1  # the plan reports the change
    for line in (
        f"Egress set {name} on local-a, networking.istio.io/v1 (check mode: nothing is written)",
        "1 to create, 1 to update, 0 to adopt, 1 to prune, 0 unchanged",
        f"+ create ServiceEntry {namespace}/aws-{name}-kms-us-east-1",
        f"~ update ServiceEntry {namespace}/aws-{name}-sqs-us-east-1",
        'spec.exportTo: +["."] -["*"]',
        f"- prune ServiceEntry {namespace}/aws-{name}-sns-us-east-1",
    ):
        assert check.said(json.dumps(line)[1:-1]), line  # an item of the printed list, quotes escaped
    # --diff, as kubectl diff shows it: whole objects for a create and a prune, the changed fields of an update.
    shown = diffs(check.stdout)
    created = shown[f"ServiceEntry {namespace}/aws-{name}-kms-us-east-1"]
    assert (
        "@@ -0,0 +1," in created and "+kind: ServiceEntry" in created and "+  - kms.us-east-1.amazonaws.com" in created
    )
    pruned = shown[f"ServiceEntry {namespace}/aws-{name}-sns-us-east-1"]
    assert (
        "+++ after" in pruned
        and ",0 @@" in pruned
        and "-kind: ServiceEntry" in pruned
        and "-  - sns.us-east-1.amazonaws.com" in pruned
    )
    updated = shown[f"ServiceEntry {namespace}/aws-{name}-sqs-us-east-1"]
    changes = [line for line in updated.splitlines()[3:] if line[:1] in "+-"]
    assert changes == ["-  - '*'", "+  - ."], updated
    assert "resourceVersion" not in check.stdout and "managedFields" not in check.stdout
    assert len(shown) == 3

    # And in check mode against an up-to-date cluster: nothing to say, nothing changed.
    local_cluster.audit.mark()
    quiet = run_role(local_cluster, egress(namespace, name), tmp_path, check=True).assert_ok()
    assert quiet.changed == 0 and writes(local_cluster.audit) == []
    assert "0 to create, 0 to update, 0 to adopt, 0 to prune, 2 unchanged" in quiet.stdout
    assert diffs(quiet.stdout) == {}
