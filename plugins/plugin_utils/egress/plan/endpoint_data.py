# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""desired resources + live objects -> what the endpoint data alone changes, and which writes wait for consent.

Every resource the role writes records the endpoint data it was produced with:
botocore's version and this collection's (ownership.endpoint_data_annotations).
The records are compared like any annotation, so a run with other versions
rewrites the set once and the cluster always says which data its set came
from.  That is what lets a plan tell the endpoint data's changes from the
inventory's without the other botocore at hand:

* a host our live ServiceEntries open and no declared one does is removed by
  the endpoint data when its entry was produced with other versions than this
  run's; an entry this run's versions produced can only have lost it to the
  inventory.  Such a removal waits for consent (accept endpoint_data_removal):
  every write that would stop opening the host is withheld, the object left as
  it is, while creations and every other write go ahead.  SDKs in workloads may
  still call a host a newer botocore renamed or dropped;
* a run whose versions are older than those the set's objects record is
  refused (accept endpoint_data_downgrade): two controllers with different
  endpoint data would undo each other's hosts, run after run;
* objects that record nothing (written before the collection recorded its
  endpoint data, or by another tool) are taken as the inventory's, as before.

The services and regions each entry records (provenance annotations) only word
the report: "still declared", or "the inventory changed too".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import (
    BOTOCORE_ANNOTATION,
    COLLECTION_ANNOTATION,
    FIELD_MANAGER,
    REGIONS_ANNOTATION,
    SERVICES_ANNOTATION,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import data_version
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.fields import field_changes
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import SERVICE_ENTRY, kind_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import (
    OURS,
    endpoint_data_of,
    owner_of,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import identity
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety.mesh import Finding
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

REMOVAL = "endpoint_data_removal"
DOWNGRADE = "endpoint_data_downgrade"
_RECORDS = {("metadata", "annotations", BOTOCORE_ANNOTATION), ("metadata", "annotations", COLLECTION_ANNOTATION)}


@dataclass
class Report:
    """What the endpoint data alone changes on one cluster."""

    here: dict | None = (
        None  # the versions of this run: {"botocore", "collection"}; None when the resources record none
    )
    recorded: list = field(default_factory=list)  # the distinct versions the set's objects on the cluster record
    added: list = field(default_factory=list)  # "host (why)": opened by the endpoint data alone
    removed: list = field(default_factory=list)  # "host (why)": closed by the endpoint data, with consent
    withheld: list = field(default_factory=list)  # "host (why)": closed by the endpoint data, waiting for consent
    hold: dict = field(
        default_factory=dict
    )  # identity of each of our objects whose write waits -> the hosts it would close
    restamped: int = 0  # objects whose only change is this run's versions
    refusals: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def older(self):
        """The recorded versions other than this run's."""
        return [versions for versions in self.recorded if self.here and versions != self.here]

    def lines(self):
        """The plan's section on the endpoint data: one line when the cluster's set was produced with this run's, none
        without any."""
        if not self.here:
            return []
        if not self.older:
            return [f"endpoint data: {data_version.described(self.here)}"]
        older = "; ".join(data_version.described(versions) for versions in self.older)
        lines = [f"endpoint data: {older} -> {data_version.described(self.here)}; what it changes, not the inventory:"]
        lines += [f"  + {host}" for host in self.added]
        lines += [f"  - {host}" for host in self.removed]
        lines += [f"  - {host}: withheld" for host in self.withheld]
        if self.withheld:
            lines.append(
                f"  the writes that would close withheld hosts wait: accept it ({option_ref('accept')}: [{REMOVAL}]), "
                f"or stay on {older}"
            )
        if self.restamped == 1:
            lines.append("  1 resource changes only its version annotations")
        elif self.restamped:
            lines.append(f"  {self.restamped} resources change only their version annotations")
        return lines

    def public(self):
        return {
            "botocore": (self.here or {}).get("botocore"),
            "collection": (self.here or {}).get("collection"),
            "recorded": [dict(versions) for versions in self.recorded],
            "added": list(self.added),
            "removed": list(self.removed),
            "withheld": list(self.withheld),
            "lines": self.lines(),
        }


def compare(desired, live, owner_labels, accept=()):
    """The Report for writing `desired` over `live` (every object read) as the owner whose labels are `owner_labels`."""
    ours = [obj for obj in live if owner_of(obj, owner_labels) == OURS]
    report = Report(here=_versions_of(desired))
    report.recorded = _distinct(versions for versions in map(endpoint_data_of, ours) if versions)
    if not report.here:
        return report  # resources that record no endpoint data (rendered elsewhere, or none at all)
    report.refusals = _downgrade(report.here, report.recorded)
    live_hosts, wanted_hosts = _entry_hosts(ours), _entry_hosts(desired)
    closed = {}  # host -> why, for each host the endpoint data alone closes
    for host in sorted(set(live_hosts) - set(wanted_hosts)):
        produced_elsewhere = [entry for entry in live_hosts[host] if endpoint_data_of(entry) not in (None, report.here)]
        if produced_elsewhere:
            entry = produced_elsewhere[0]
            still = "still declared" if _pairs([entry]) <= _pairs(desired) else "the inventory changed too"
            closed[host] = f"{host} ({_asked_by(entry)}, {still})"
    if REMOVAL in accept:
        report.removed = list(closed.values())
        if closed:
            report.notes.append(f"accepted ({REMOVAL}): the endpoint data alone closes {listed(closed.values())}")
    else:
        report.withheld = list(closed.values())
        report.hold = _held(ours, desired, set(closed))
    wanted_by_id = {identity(obj): obj for obj in desired}
    report.restamped = sum(
        1 for obj in ours if identity(obj) in wanted_by_id and _only_restamped(wanted_by_id[identity(obj)], obj)
    )
    had = _pairs(ours)
    for host in sorted(set(wanted_hosts) - set(live_hosts)):
        entries = wanted_hosts[host]
        if report.older and had and _pairs(entries) <= had:
            waits = any(identity(entry) in report.hold for entry in entries)
            report.added.append(
                f"{host} ({_asked_by(entries[0])}){': waits with the withheld writes' if waits else ''}"
            )
    return report


def _only_restamped(resource, obj):
    """Whether writing `resource` over `obj` changes nothing but the recorded versions."""
    paths = {change.path for change in field_changes(resource, obj, FIELD_MANAGER, kind_of(resource).compared)}
    return bool(paths) and paths <= _RECORDS


def _held(ours, desired, closed):
    """identity -> the closed hosts it would stop naming, for each of our objects whose write would."""
    wanted_by_id = {identity(obj): obj for obj in desired}
    held = {}
    for obj in ours:
        lost = sorted((mentioned_hosts(obj) & closed) - mentioned_hosts(wanted_by_id.get(identity(obj)) or {}))
        if lost:
            held[identity(obj)] = lost
    return held


def mentioned_hosts(obj):
    """The hosts an object's spec names, whatever its kind: an entry's hosts, a Sidecar's `<namespace>/<host>`, a route's
    SNI hosts, a policy's SNI values, a Cilium `matchName` or `matchPattern` (`**.` for `*.`)."""
    hosts = set()
    for text in _strings(obj.get("spec") or {}):
        host = text.rpartition("/")[2]
        hosts.add(host[1:] if host.startswith("**.") else host)
    return hosts


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for child in value.values():
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)


def _versions_of(desired):
    """The versions the declared resources record: one run's, so the same on each."""
    return next((versions for versions in map(endpoint_data_of, desired) if versions), None)


def _distinct(versions):
    seen = []
    for item in versions:
        if item not in seen:
            seen.append(item)
    return seen


def _downgrade(here, recorded):
    newest = [versions for versions in recorded if data_version.newer(versions, here)]
    if not newest:
        return []
    components = sorted({component for versions in newest for component in data_version.newer(versions, here)})
    fix = " and ".join(
        f"{data_version.NAMES[component]} {data_version.newest(v[component] for v in newest)} or newer"
        for component in components
    )
    return [
        Finding(
            f"the egress set's objects on this cluster record {listed(data_version.described(v) for v in newest)}, newer than "
            f"this run's {data_version.described(here)}: a run with older endpoint data would undo the hosts the newer one "
            f"opened or closed, and the next run with the newer data would redo them",
            f"run with {fix} (requirements.txt pins the range the collection is tested with)",
            DOWNGRADE,
        )
    ]


def _entry_hosts(objects):
    """host -> the ServiceEntries among `objects` that open it."""
    hosts = {}
    for obj in objects:
        if identity(obj)[:2] == SERVICE_ENTRY.key:
            for host in (obj.get("spec") or {}).get("hosts") or []:
                hosts.setdefault(host, []).append(obj)
    return hosts


def _pairs(objects):
    """(service, region) pairs the ServiceEntries among `objects` were opened for, as their annotations say."""
    pairs = set()
    for obj in objects:
        if identity(obj)[:2] != SERVICE_ENTRY.key:
            continue
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        services = [s for s in (annotations.get(SERVICES_ANNOTATION) or "").split(",") if s]
        regions = [r for r in (annotations.get(REGIONS_ANNOTATION) or "").split(",") if r] or [""]
        pairs.update((service, region) for service in services for region in regions)
    return pairs


def _asked_by(entry):
    """'servicediscovery in us-east-1': what the entry was opened for."""
    annotations = (entry.get("metadata") or {}).get("annotations") or {}
    services = (annotations.get(SERVICES_ANNOTATION) or "").replace(",", ", ") or "no recorded service"
    regions = (annotations.get(REGIONS_ANNOTATION) or "").replace(",", ", ")
    return f"{services} in {regions}" if regions else services
