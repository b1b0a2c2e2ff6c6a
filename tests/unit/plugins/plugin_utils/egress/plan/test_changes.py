# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The plan: what to create, update, adopt, prune or refuse, and how it reads."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.fields import (
    FieldChange,
    format_change,
    format_path,
    owned_paths,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import ownership_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import build_plan, reference
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

MANAGER = "meshops.aws_egress"
OUR_LABELS = {"app.kubernetes.io/managed-by": MANAGER, "meshops.io/egress-set": "default"}


def entry(name, hosts=("sqs.us-east-1.amazonaws.com",), labels=None, version="v1", namespace="istio-system", **spec):
    return {
        "apiVersion": f"networking.istio.io/{version}",
        "kind": "ServiceEntry",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(OUR_LABELS if labels is None else labels),
            "annotations": {"meshops.io/aws-services": "sqs"},
        },
        "spec": {
            "hosts": list(hosts),
            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            "location": "MESH_EXTERNAL",
            "resolution": "DNS",
            "exportTo": ["*"],
            **spec,
        },
    }


def _fields_v1(obj):
    """managedFields as the API server records them for a server-side apply of `obj`."""

    def walk(value):
        if isinstance(value, dict):
            return {f"f:{key}": walk(item) for key, item in value.items()}
        return {}

    fields = {
        "f:metadata": {
            "f:labels": walk(obj["metadata"].get("labels", {})),
            "f:annotations": walk(obj["metadata"].get("annotations", {})),
        },
        "f:spec": walk(obj["spec"]),
    }
    if "ports" in obj["spec"]:
        fields["f:spec"]["f:ports"] = {'k:{"name":"tls"}': {".": {}, "f:name": {}, "f:number": {}, "f:protocol": {}}}
    return fields


def served(obj, manager=MANAGER):
    """`obj` as the API server returns it after we applied it: extra metadata, managedFields."""
    live = copy.deepcopy(obj)
    live["metadata"].update(
        {
            "uid": "0f1e",
            "resourceVersion": "1234",
            "generation": 1,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "managedFields": [
                {
                    "manager": manager,
                    "operation": "Apply",
                    "apiVersion": obj["apiVersion"],
                    "fieldsType": "FieldsV1",
                    "fieldsV1": _fields_v1(obj),
                }
            ],
        }
    )
    return live


def plan(desired, live, variable_prefix="", **options):
    """The plan as plain data: whole objects to apply, references to prune; options named after `variable_prefix`."""
    result = build_plan(desired, live, ownership_labels(options.pop("set_name", "default")), **options)
    return named_options(
        {
            "apply": result.apply,
            "prune": [reference(obj) for obj in result.prune],
            "create": result.create,
            "conflicts": result.conflicts,
            "counts": result.counts,
            "lines": result.lines,
            "summary": result.summary,
            "changed": result.changed,
            "public": result.public(),
        },
        variable_prefix,
    )


def test_what_is_reported_names_objects_and_never_echoes_them():
    result = plan([entry("a"), entry("b")], [served(entry("b", hosts=["x.amazonaws.com"])), served(entry("old"))])[
        "public"
    ]
    assert result["apply"] == ["ServiceEntry istio-system/a", "ServiceEntry istio-system/b"]
    assert result["prune"] == ["ServiceEntry istio-system/old"]
    assert result["create"] == ["ServiceEntry istio-system/a"]
    assert set(result) == {"changed", "counts", "summary", "lines", "apply", "create", "prune", "withheld", "conflicts"}


def test_missing_objects_are_created():
    result = plan([entry("aws-default-sqs-us-east-1")], [])
    assert result["counts"]["create"] == 1
    assert [r["metadata"]["name"] for r in result["apply"]] == ["aws-default-sqs-us-east-1"]
    assert result["lines"] == ["+ create ServiceEntry istio-system/aws-default-sqs-us-east-1"]
    assert result["create"] == ["ServiceEntry istio-system/aws-default-sqs-us-east-1"]
    assert result["changed"] is True


def test_only_missing_objects_are_listed_as_created():
    changed = entry("b", hosts=("sqs.eu-west-1.amazonaws.com",))
    result = plan([entry("a"), changed, entry("c")], [served(entry("a")), served(entry("b"))])
    assert [r["metadata"]["name"] for r in result["apply"]] == ["b", "c"]
    assert result["create"] == ["ServiceEntry istio-system/c"]


def test_what_the_server_adds_is_not_a_change():
    live = served(entry("a"))
    live["status"] = {"conditions": []}
    live["metadata"]["labels"]["team"] = "payments"  # another manager's label
    live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    live["metadata"]["managedFields"].append(
        {"manager": "kubectl-edit", "operation": "Update", "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}}}
    )
    result = plan([entry("a")], [live])
    assert result["counts"]["unchanged"] == 1
    assert result["apply"] == [] and result["prune"] == [] and result["lines"] == []
    assert result["changed"] is False


def test_a_changed_field_is_an_update_that_says_how():
    live = served(entry("a", hosts=["sqs.us-east-1.amazonaws.com"]))
    wanted = entry("a", hosts=["sqs.us-east-1.amazonaws.com", "sqs-fips.us-east-1.amazonaws.com"], resolution="DNS")
    wanted["spec"]["exportTo"] = ["."]
    result = plan([wanted], [live])
    assert result["counts"]["update"] == 1
    assert result["apply"] == [wanted]
    assert result["lines"] == [
        "~ update ServiceEntry istio-system/a",
        '    spec.exportTo: +["."] -["*"]',
        '    spec.hosts: +["sqs-fips.us-east-1.amazonaws.com"]',
    ]


def test_our_labels_and_annotations_are_compared():
    live = served(entry("a"))
    wanted = entry("a")
    wanted["metadata"]["annotations"]["meshops.io/aws-services"] = "sqs,sns"
    result = plan([wanted], [live])
    assert result["lines"][1] == '    metadata.annotations[meshops.io/aws-services]: "sqs" -> "sqs,sns"'


def test_a_field_we_set_before_and_no_longer_want_is_removed():
    before = entry("a", addresses=["169.254.169.254"])
    live = served(before)
    result = plan([entry("a")], [live])
    assert result["counts"]["update"] == 1
    assert '    spec.addresses: ["169.254.169.254"] -> (removed)' in result["lines"]


def test_an_empty_map_we_set_is_kept_and_one_we_no_longer_set_is_removed():
    # A NetworkPolicy's podSelector {} selects every pod: no leaf, but a field we own and still set.
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "a", "namespace": "orders", "labels": dict(OUR_LABELS)},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"namespaceSelector": {}}]}]},
    }
    assert plan([policy], [served(policy)])["counts"]["unchanged"] == 1
    narrowed = served({**policy, "spec": {**policy["spec"], "podSelector": {"matchLabels": {"app": "cart"}}}})
    result = plan([policy], [narrowed])
    assert (
        result["counts"]["update"] == 1
        and '    spec.podSelector.matchLabels.app: "cart" -> (removed)' in result["lines"]
    )


def test_a_field_another_manager_added_is_left_alone():
    live = served(entry("a"))
    live["spec"]["subjectAltNames"] = ["x"]
    live["metadata"]["managedFields"].append(
        {"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:spec": {"f:subjectAltNames": {}}}}
    )
    assert plan([entry("a")], [live])["counts"]["unchanged"] == 1


def test_the_same_object_under_another_version_is_the_same_object():
    live = served(entry("a", version="v1beta1"))
    result = plan([entry("a", version="v1")], [live])
    assert result["counts"] == {
        "create": 0,
        "update": 0,
        "adopt": 0,
        "unchanged": 1,
        "prune": 0,
        "keep": 0,
        "withheld": 0,
        "conflict": 0,
    }


def test_an_object_of_another_egress_set_is_a_conflict_even_when_adopting():
    other = served(entry("a", labels={**OUR_LABELS, "meshops.io/egress-set": "batch"}))
    for adopt in (False, True):
        result = plan([entry("a")], [other], adopt=adopt)
        assert result["apply"] == [] and result["prune"] == []
        assert result["conflicts"] == [
            "ServiceEntry istio-system/a belongs to egress set 'batch'; one set never takes over another's resources"
        ]
        assert result["counts"]["conflict"] == 1


def test_an_object_that_is_not_ours_is_a_conflict_unless_adopted():
    foreign = served(entry("a", labels={"app.kubernetes.io/managed-by": "Helm"}), manager="helm")
    result = plan([entry("a"), entry("b")], [foreign], variable_prefix="istio_aws_egress_")
    assert result["conflicts"] == [
        "ServiceEntry istio-system/a exists and is managed by 'Helm'; set istio_aws_egress_adopt: true to take it over"
    ]
    # The option as the caller names it: the module's own, or another role's variable.
    assert plan([entry("a")], [foreign])["conflicts"] == [
        "ServiceEntry istio-system/a exists and is managed by 'Helm'; set adopt: true to take it over"
    ]
    assert plan([entry("a")], [foreign], variable_prefix="team_egress_")["conflicts"][0].endswith(
        "set team_egress_adopt: true to take it over"
    )
    unlabelled = served(entry("a", labels={}), manager="kubectl-client-side-apply")
    assert (
        "not labelled app.kubernetes.io/managed-by=meshops.aws_egress"
        in plan([entry("a")], [unlabelled])["conflicts"][0]
    )

    adopted = plan([entry("a")], [unlabelled], adopt=True)
    assert adopted["conflicts"] == [] and adopted["counts"]["adopt"] == 1
    assert adopted["apply"] == [entry("a")]
    assert adopted["lines"][0] == "~ adopt ServiceEntry istio-system/a (taking over a resource not labelled as ours)"
    assert "    metadata.labels[meshops.io/egress-set]: (unset) -> \"default\"" in adopted["lines"]


def test_only_our_objects_of_this_set_are_pruned():
    ours = served(entry("old"))
    other_set = served(entry("batch-old", labels={**OUR_LABELS, "meshops.io/egress-set": "batch"}))
    foreign = served(entry("hand-made", labels={}), manager="kubectl")
    result = plan([entry("a")], [ours, other_set, foreign, served(entry("a"))])
    assert result["prune"] == [
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "ServiceEntry",
            "metadata": {"name": "old", "namespace": "istio-system"},
        }
    ]
    assert result["lines"] == ["- prune ServiceEntry istio-system/old"]


def test_with_prune_off_stale_objects_are_kept_and_listed():
    result = plan([], [served(entry("old"))], prune=False)
    assert result["prune"] == [] and result["changed"] is False
    assert result["lines"] == ["= keep ServiceEntry istio-system/old (no longer declared; prune is off)"]
    assert "1 no longer declared but kept (prune is off)" in result["summary"]


def test_nothing_declared_prunes_everything_of_the_set():
    live = [served(entry(name)) for name in ("a", "b")]
    result = plan([], live)
    assert [p["metadata"]["name"] for p in result["prune"]] == ["a", "b"]
    assert result["summary"] == "0 to create, 0 to update, 0 to adopt, 2 to prune, 0 unchanged"


def test_lists_of_maps_are_shown_item_by_item():
    change = FieldChange(
        ("spec", "egress"), [{"hosts": ["istio-system/*", "ns/a"]}], [{"hosts": ["istio-system/*", "ns/b"]}]
    )
    assert format_change(change) == ['spec.egress[0].hosts: +["ns/b"] -["ns/a"]']
    reordered = FieldChange(("spec", "hosts"), ["a", "b"], ["b", "a"])
    assert format_change(reordered) == ['spec.hosts: order ["a", "b"] -> ["b", "a"]']
    assert format_path(("metadata", "labels", "meshops.io/egress-set")) == "metadata.labels[meshops.io/egress-set]"


def test_owned_paths_stop_at_list_items():
    live = served(entry("a"))
    paths = owned_paths(live, MANAGER)
    assert ("spec", "ports") in paths and ("spec", "hosts") in paths
    assert ("metadata", "labels", "meshops.io/egress-set") in paths
    assert owned_paths(live, "someone-else") == set()


# --- properties: a plan applied to the cluster it came from leaves nothing to do ---------------

NAMES = st.sampled_from([f"aws-default-svc{i}" for i in range(8)])
HOSTS = st.lists(st.sampled_from([f"h{i}.amazonaws.com" for i in range(6)]), min_size=1, max_size=3, unique=True)
EXPORTS = st.sampled_from([["*"], ["."], ["istio-system", "orders"]])
RESOURCES = st.dictionaries(NAMES, st.tuples(HOSTS, EXPORTS), max_size=6).map(
    lambda specs: [entry(name, hosts=hosts, exportTo=export) for name, (hosts, export) in sorted(specs.items())]
)


def _server_after(plan_result, live):
    """What the API server holds after the role applies and prunes `plan_result`."""
    by_name = {obj["metadata"]["name"]: obj for obj in live}
    for obj in plan_result["apply"]:
        by_name[obj["metadata"]["name"]] = served(obj)  # server-side apply with force: exactly our fields
    for ref in plan_result["prune"]:
        del by_name[ref["metadata"]["name"]]
    return list(by_name.values())


@settings(max_examples=150, deadline=None)
@given(before=RESOURCES, after=RESOURCES)
def test_applying_a_plan_converges(before, after):
    live = _server_after(plan(before, []), [])
    result = plan(after, live)
    before_names = {r["metadata"]["name"] for r in before}
    after_names = {r["metadata"]["name"] for r in after}
    assert {r["metadata"]["name"] for r in result["apply"]} >= after_names - before_names
    assert {p["metadata"]["name"] for p in result["prune"]} == before_names - after_names
    assert result["counts"]["create"] == len(after_names - before_names)
    rerun = plan(after, _server_after(result, live))
    assert rerun["changed"] is False and rerun["lines"] == []
    assert rerun["counts"]["unchanged"] == len(after)
