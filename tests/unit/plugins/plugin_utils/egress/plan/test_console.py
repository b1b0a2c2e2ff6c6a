# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the role prints for a plan: lines, notes once per cause, no notes again on a run that writes nothing."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.console import grouped, plan_lines


def plan(changed=True, notes=(), lines=("+ create ServiceEntry istio-system/aws-demo-sqs-us-east-1",)):
    return {
        "cluster": "local-a",
        "changed": changed,
        "summary": "1 to create, 0 to update, 0 to adopt, 0 to prune, 0 unchanged",
        "lines": list(lines),
        "notes": list(notes),
        "endpoint_data": {"lines": ["endpoint data: botocore 1.44.8"]},
        "api_versions": {"serviceentries.networking.istio.io": "networking.istio.io/v1"},
    }


def test_a_plan_is_a_list_of_lines_without_line_breaks():
    shown = plan_lines(plan(notes=["wildcards go direct: *.s3.amazonaws.com"]), "demo", check_mode=True)
    assert shown == [
        "Egress set demo on local-a, networking.istio.io/v1 (check mode: nothing is written)",
        "1 to create, 0 to update, 0 to adopt, 0 to prune, 0 unchanged",
        "endpoint data: botocore 1.44.8",
        "+ create ServiceEntry istio-system/aws-demo-sqs-us-east-1",
        "! wildcards go direct: *.s3.amazonaws.com",
    ]
    assert not any("\n" in line for line in shown)


def test_a_note_of_the_layout_and_of_the_plan_is_printed_once():
    note = "not through the egress gateway (wildcard or link-local hosts): *.s3.amazonaws.com"
    assert plan_lines(plan(notes=[note]), "demo", layout_notes=[note]).count(f"! {note}") == 1


def test_notes_of_one_cause_are_one_line():
    notes = [
        f"accepted (gateway_port): the gateway Service istio-egressgateway has no port 443 for {host}"
        for host in ("sqs.us-east-1.amazonaws.com", "sts.us-east-1.amazonaws.com")
    ] * 2
    assert grouped(notes) == [
        "accepted (gateway_port): the gateway Service istio-egressgateway has no port 443 for "
        "sqs.us-east-1.amazonaws.com; the gateway Service istio-egressgateway has no port 443 for "
        "sts.us-east-1.amazonaws.com"
    ]
    assert grouped(["a note without a detail", "a note without a detail", "cause: one", "cause: two"]) == [
        "a note without a detail",
        "cause: one; two",
    ]


def test_a_run_that_writes_nothing_counts_its_notes_instead_of_repeating_them():
    notes = ["wildcards go direct: *.s3.amazonaws.com", "ztunnel ignores exportTo: every workload"]
    quiet = plan_lines(plan(changed=False, notes=notes, lines=()), "demo")
    assert [line for line in quiet if line.startswith("!")] == [
        "! 2 notes, shown when the plan writes (or with -v); playbooks/plan.yml reports them"
    ]
    assert plan_lines(plan(changed=False, notes=notes, lines=()), "demo", verbosity=1)[-2:] == [
        f"! {note}" for note in notes
    ]
    assert plan_lines(plan(changed=False, lines=()), "demo")[-1] == "endpoint data: botocore 1.44.8"


def test_a_plan_that_withholds_and_a_removal_print_their_notes_though_they_write_nothing():
    notes = [
        "accepted (endpoint_data_downgrade): the endpoint data alone closes x",
        "Istio is not installed on a: nothing",
    ]
    withholding = plan(changed=False, notes=notes, lines=())
    withholding["withheld"] = ["ServiceEntry demo/aws-demo-dynamodb-us-east-1"]
    for lines in (
        plan_lines(withholding, "demo"),
        plan_lines(plan(changed=False, notes=notes, lines=()), "demo", state="absent"),
    ):
        assert [line for line in lines if line.startswith("!")] == [f"! {note}" for note in notes]
