# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One run against one cluster: read, plan, refuse or write.

    read the live objects (plan/reads.py) -> plan (plan/changes.py) -> refuse what would
    harm the mesh (safety/mesh.py) -> [not in check mode, and only if the plan
    writes] access review -> rollout lease -> apply -> prune -> release

From the lease on, SIGINT and SIGTERM stop the run at its next step, and the
lease is released before the signal takes its course (apply/interruption.py).

kubernetes.core.k8s applies and prunes; everything around it runs here, in
the controller, on one client.  The lease is taken with the resourceVersion
the plan read it at: when that write succeeds, no other rollout wrote since
the plan's reads, and the plan stands.  Otherwise the run waits for the lease
and plans again under it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ansible_collections.meshops.aws_egress.plugins.module_utils.access_reviews import missing_message, review_all
from ansible_collections.meshops.aws_egress.plugins.module_utils.api_errors import api_error
from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import FIELD_MANAGER, LOCK_NAME, MANAGED_BY
from ansible_collections.meshops.aws_egress.plugins.module_utils.kubernetes_core import k8s_failure_status
from ansible_collections.meshops.aws_egress.plugins.module_utils.lease import LeaseHeld, LeaseLock, LeaseLost
from ansible_collections.meshops.aws_egress.plugins.module_utils.lease_store import LeaseStore
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import access_logs as access_log_safety
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply import batches
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import auto_choices as choices
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import endpoint_data
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import mesh_config
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import outbound_policy
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import policies as policy_safety
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import mesh as safety
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import waypoint as waypoints
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import wildcards
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.needed_access import plan_checks
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.diffs import plan_diffs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import (
    EgressFailure,
    failure_text,
    status_of_exception,
    write_failure,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.interruption import SignalsDeferred
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import (
    ISTIO,
    KINDS,
    SIDECAR,
    UnknownKind,
    kind_of,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.lease_keeper import LeaseKeeper
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import ownership_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import (
    build_plan,
    describe,
    identity,
    others_of,
    reference,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import ClusterReader, read_live
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.writes import write_waves


@dataclass
class Request:
    """What the role asks of one cluster: the egress_set module's options."""

    name: str
    namespace: str  # the egress set's namespace: its rollout lease lives there
    resources: list
    cluster: str
    state: str = "present"
    prune: bool = True
    adopt: bool = False
    api_version: str = "auto"
    gateway: dict | None = None
    waypoint: dict | None = None  # ambient mode's: name, namespace, create
    wildcard_resolution: str = "none"  # or "auto": DYNAMIC_DNS for wildcard entries where the cluster resolves it
    accept: list = field(default_factory=list)
    exclude_hosts: list = field(
        default_factory=list
    )  # hosts the set leaves to other owners: the plan names who declares them
    outbound_policy: dict | None = (
        None  # namespace (istiod's), namespaces (the set's): where to read the outbound policy
    )
    lock_timeout: int = 300
    lock_duration: int = 120
    check_mode: bool = False
    diff: bool = False  # --diff: the result holds each write's objects before and after (plan/diffs.py)
    concurrency: int = 1  # kubernetes.core.k8s runs writing at once, at most (apply/batches.py); 1: one run per step

    @property
    def owner_labels(self):
        return ownership_labels(self.name)

    @property
    def prunes(self):
        return self.prune or self.state == "absent"


class Run:
    """One run: its client, what it found, and how long each step took."""

    def __init__(
        self,
        request,
        api_client,
        execute_k8s,
        holder,
        check_modules=None,
        clock=time.monotonic,
        say=None,
        signals=SignalsDeferred,
    ):
        self.request = request
        self.api_client = api_client
        self.execute_k8s = execute_k8s  # module args -> the kubernetes.core.k8s result
        # Raises EgressFailure when the Python that runs modules cannot run kubernetes.core.k8s.
        self.check_modules = check_modules or (lambda: None)
        self.holder = holder
        self.clock = clock
        self.say = say or (
            lambda message: None
        )  # what the operator should read while the run goes on (Ansible's Display)
        self.signals = signals  # -> a context manager that defers SIGINT and SIGTERM while the run writes
        self.interruption = None
        # The holder of the lease this run waits for, once said.
        self.waiting_for = None
        self.timings = {}
        self.notes = []
        self.endpoint_data = endpoint_data.Report()
        self.outbound = {}  # what the entries do in each namespace (safety/outbound_policy.py), when asked
        self.waited = 0.0
        # When the lease this run holds was taken or last renewed (self.clock): it expires lock_duration after that.
        self.lease_taken_at = None
        self.round_trip = None  # seconds of the quickest read: what the writes' batches are sized by
        self.runs = {}  # step -> kubernetes.core.k8s runs it took

    def run(self):
        """The run's result (the plan, notes, timings); raises EgressFailure."""
        request = self.request
        self._check_kinds()
        state, plan = self._read_and_plan()
        if request.check_mode or not plan.changed:
            return self._result(state, plan, changed=plan.changed if request.check_mode else False)
        # Before the first write (the lease): a module that cannot even start would fail after it.
        started = self.clock()
        self.check_modules()
        self._lap("module_python", started)
        allowed = self._review(plan)
        with self.signals() as self.interruption:
            lock, lease = self._take_lease(state)
            try:
                if lease is None:
                    lease = self._wait_for_lease(lock)
                    state, plan = self._plan_again(plan, allowed)
                lease = self._write(plan, lock, lease)
            finally:
                if lease is not None:
                    self._release(lock, lease)
        return self._result(state, plan, changed=plan.changed)

    # -- reading and planning ---------------------------------------------------

    def _check_kinds(self):
        for index, obj in enumerate(self.request.resources):
            try:
                kind_of(obj)
            except UnknownKind as err:
                raise EgressFailure(
                    "refuse",
                    f"planning egress set {self.request.name} on {self.request.cluster}",
                    f"resources[{index}]: {err}",
                ) from None

    def _read_and_plan(self, read_lease=True):
        """(state, plan); the rollout lease is read too unless `read_lease` is false (this run holds it already)."""
        request, started = self.request, self.clock()
        gateway = request.gateway
        reader = ClusterReader(self.api_client, request.cluster)
        state = read_live(
            reader,
            KINDS,
            request.resources,
            request.owner_labels,
            pin=request.api_version,
            namespaces={identity(obj)[2] for obj in request.resources if identity(obj)[2]},
            services=[(gateway["namespace"], gateway["service"])] if gateway else [],
            lease=(request.namespace, LOCK_NAME) if not request.check_mode and read_lease else None,
            crds=wildcards.crds_to_read(request.resources, request.wildcard_resolution),
            list_namespaces=bool(request.waypoint),
        )
        self._lap("read", started)
        self.round_trip = reader.round_trip
        started = self.clock()
        desired = choices.versioned(request.resources, state, request)
        others = others_of(desired, state.objects, request.owner_labels)
        desired, fit_refusals, fit_notes = self._fit(desired, state, others)
        self.endpoint_data = endpoint_data.compare(desired, state.objects, request.owner_labels, request.accept)
        plan = build_plan(
            desired,
            state.objects,
            request.owner_labels,
            adopt=request.adopt,
            prune=request.prunes,
            hold=self.endpoint_data.hold,
        )
        refusals, notes = safety.check(
            desired,
            others,
            gateway=gateway,
            services=state.services,
            missing_namespaces=state.missing_namespaces,
            excluded_hosts=request.exclude_hosts,
            namespace=request.namespace,
        )
        policy_refusals, policy_notes = policy_safety.check(desired, others)
        log_refusals, log_notes = access_log_safety.check(
            desired, others, self._mesh_logs(desired), safety.ROOT_NAMESPACE
        )
        refusals = fit_refusals + refusals + policy_refusals + log_refusals + self.endpoint_data.refusals
        notes = notes + fit_notes + policy_notes + log_notes + self.endpoint_data.notes
        accepted = [finding for finding in refusals if finding.override in request.accept]
        refusals = [finding for finding in refusals if finding.override not in request.accept]
        self.notes = notes + [f"accepted ({finding.override}): {finding.problem}" for finding in accepted]
        self.notes += self._outbound_policy(desired, state)
        if request.state == "absent" and state.unserved:
            unserved = ", ".join(
                kind.kind if kind.product == ISTIO else f"{kind.kind} ({kind.describe()})" for kind in state.unserved
            )
            # Without Istio's kinds, ours of another API (the waypoint; NetworkPolicies are always served) can still be
            # there: then they are pruned.
            everything = all(kind in state.unserved for kind in KINDS if kind.product == ISTIO) and not plan.prune
            self.notes.append(
                f"Istio is not installed on {request.cluster}: egress set {request.name} has nothing to remove"
                if everything
                else f"{request.cluster} serves no {unserved}: none of egress set {request.name} can be there"
            )
        self._lap("plan", started)
        if refusals or plan.conflicts:
            raise self._refusal(plan, refusals)
        return state, plan

    def _mesh_logs(self, desired):
        """The default revision's mesh config, read only when the set writes a Telemetry (safety/access_logs.py)."""
        request = self.request
        if not access_log_safety.telemetries(desired):
            return None
        control_plane = (request.outbound_policy or {}).get("namespace") or safety.ROOT_NAMESPACE
        return mesh_config.read(
            ClusterReader(self.api_client, request.cluster).configmap, control_plane, mesh_config.configmap_name(None)
        )

    def _outbound_policy(self, desired, state):
        """The notes on what the entries do in the set's namespaces (safety/outbound_policy.py); none unless asked for."""
        request = self.request
        if not request.outbound_policy or request.state != "present":
            return []
        started, sidecar_kind = self.clock(), SIDECAR
        ours = {identity(obj)[2]: identity(obj)[3] for obj in desired if identity(obj)[:2] == sidecar_kind.key}
        verdicts, default = outbound_policy.assess(
            ClusterReader(self.api_client, request.cluster),
            sidecar_kind,
            state.versions.get(sidecar_kind),
            [*request.outbound_policy["namespaces"], *ours],
            request.outbound_policy["namespace"],
            ours,
        )
        self.outbound = {"mesh": default and default.public(), "namespaces": [verdict.public() for verdict in verdicts]}
        self._lap("outbound_policy", started)
        return outbound_policy.notes(verdicts, default)

    def _fit(self, desired, state, others):
        """(desired, refusals, notes): wildcard entries as this cluster resolves them; what it cannot take of ambient mode.

        `others`: the live objects neither declared nor ours.
        """
        request = self.request
        desired, refusals, notes = choices.resolve(desired, state, request)
        waypoint_refusals, waypoint_notes = waypoints.check(
            desired, state, others, request.waypoint, request.namespace, request.cluster
        )
        return desired, refusals + waypoint_refusals, notes + waypoint_notes

    def _refusal(self, plan, refusals):
        request = self.request
        lines = list(plan.conflicts) + [finding.text() for finding in refusals]
        if plan.conflicts and not refusals:
            heading = (
                f"{len(plan.conflicts)} resource(s) of egress set {request.name} on {request.cluster} are in the way"
            )
        else:
            heading = f"egress set {request.name} on {request.cluster} was refused before any write"
        return EgressFailure("refuse", heading, "nothing was written:\n" + "\n".join(lines))

    # -- writing ------------------------------------------------------------------

    def _review(self, plan, allowed=()):
        started = self.clock()
        checks = [
            check
            for check in plan_checks(plan, self.request.namespace, LOCK_NAME)
            if check["permission"] not in allowed
        ]
        granted, missing = review_all(self.api_client, checks)
        self._lap("access_review", started)
        if missing:
            raise EgressFailure(
                "access",
                f"checking the rights of the planned writes on {self.request.cluster}",
                missing_message(self.request.cluster, missing) + "; nothing was written",
            )
        return list(allowed) + granted

    def _lock(self):
        store = LeaseStore(self.api_client, LOCK_NAME, self.request.namespace)
        return LeaseLock(store, LOCK_NAME, self.request.namespace, labels=dict(MANAGED_BY))

    def _take_lease(self, state):
        started, lock = self.clock(), self._lock()
        if not state.lease_read:
            return lock, None
        try:
            lease = lock.take(state.lease, self.holder, self.request.lock_duration)
        except Exception as err:  # noqa: BLE001  an API failure, named below
            raise self._lease_failure(err, "taking") from None
        if lease is not None:
            # Before the write that took it, which stamped the lease's renewal after this moment.
            self.lease_taken_at = started
        self._lap("lease", started)
        return lock, lease

    def _wait_for_lease(self, lock):
        started = self.clock()
        try:
            lease = lock.acquire(
                self.holder, self.request.lock_duration, self.request.lock_timeout, waiting=self._waiting
            )
        except LeaseHeld as held:
            info = held.args[0]
            raise EgressFailure(
                "lease",
                f"taking the rollout lease on {self.request.cluster}",
                f"rollout lease {lock.namespace}/{lock.name} is held by {info['holder']} (since {info['acquire_time']}, "
                f"expires {info['expires']} unless renewed); gave up after waiting {self.request.lock_timeout}s",
            ) from None
        except Exception as err:  # noqa: BLE001
            raise self._lease_failure(err, "taking") from None
        self.lease_taken_at = self.clock()
        self.waited = self.lease_taken_at - started
        self._lap("lease", started)
        return lease

    def _waiting(self, held):
        """Before each wait for the lease: stop if a signal came; say who holds it, once per holder."""
        self.interruption.check(f"waiting for the rollout lease on {self.request.cluster}")
        if held["holder"] != self.waiting_for:
            self.waiting_for = held["holder"]
            self.say(
                f"{self.request.cluster}: waiting up to {self.request.lock_timeout}s for rollout lease {held['namespace']}/{held['name']}, "
                f"held by {held['holder']} since {held['acquire_time']}; it expires {held['expires']} unless its holder renews it"
            )

    def _plan_again(self, planned, allowed):
        """Under the lease, after waiting for another rollout: plan from what it left."""
        state, plan = self._read_and_plan(read_lease=False)
        if plan.lines != planned.lines:
            self.notes.append(
                f"egress set {self.request.name} on {self.request.cluster} changed while this run waited "
                f"{self.waited:.0f}s for the rollout lease; the plan now is: {plan.summary}"
            )
            self._review(plan, allowed)
        return state, plan

    def _write(self, plan, lock, lease):
        request = self.request
        self.interruption.check(f"writing egress set {request.name} to {request.cluster}")
        held = {"lease": lease}

        def renew():
            held["lease"] = self._renew(lock, held["lease"])

        # An unexpired lease is still ours; past half its duration, make sure: before the prune, and meanwhile.
        with LeaseKeeper(
            renew, lambda: self.clock() - self.lease_taken_at > request.lock_duration / 2, request.lock_duration
        ) as keeper:
            if plan.apply:
                started = self.clock()
                self._k8s_waves(
                    "apply",
                    f"applying {len(plan.apply)} resources to {request.cluster}",
                    plan.apply,
                    keeper,
                    lambda batch: {
                        "definition": batch,
                        "apply": True,
                        # We are the declared owner of these fields: the plan refused what is not ours.
                        "server_side_apply": {"field_manager": FIELD_MANAGER, "force_conflicts": True},
                    },
                )
                self._lap("apply", started)
            if plan.prune:
                self.interruption.check(f"pruning {len(plan.prune)} resources on {request.cluster}")
                keeper.renew_if_due()
                started = self.clock()
                self._k8s_waves(
                    "prune",
                    f"pruning {len(plan.prune)} resources on {request.cluster}",
                    plan.prune,
                    keeper,
                    lambda batch: {"definition": [reference(obj) for obj in batch], "state": "absent"},
                    backwards=True,
                )
                self._lap("prune", started)
        return held["lease"]

    def _k8s_waves(self, step, doing, objects, keeper, args_of, backwards=False):
        """Write `objects` in waves of concurrent kubernetes.core.k8s runs (apply/batches.py, apply/writes.py)."""
        per_object = batches.waiting_per_object(step, self.round_trip or 0.0)
        waves = batches.waves(objects, self.request.concurrency, per_object, backwards=backwards)

        def stopping():
            if keeper.lost:
                return keeper.lost
            try:
                self.interruption.check(doing)
            except EgressFailure as failure:
                return failure
            return None

        self.runs[step] = write_waves(
            waves,
            lambda batch: self._k8s(step, doing, batch, args_of(batch)),
            self.request.concurrency,
            stopping=stopping,
        )

    def _k8s(self, step, doing, objects, args):
        result = self.execute_k8s(args)
        # A signal stops the module too: its failure is the signal's doing.
        self.interruption.check(doing)
        if result.get("failed"):
            names = [describe(obj) for obj in objects]
            failure = write_failure(
                step,
                doing,
                k8s_failure_status(result),
                failure_text(result),
                names,
                server=self.api_client.configuration.host,
            )
            if not failure.obj and self.request.concurrency > 1:
                failure.batch = (
                    f"the batch of {len(names)} from {names[0]} to {names[-1]}" if len(names) > 1 else names[0]
                )
            raise failure

    def _renew(self, lock, lease):
        renewing = self.clock()
        try:
            lease = lock.renew(self.holder, self.request.lock_duration, lease)
        except LeaseLost as lost:
            raise EgressFailure(
                "renew",
                f"renewing the rollout lease on {self.request.cluster}",
                f"it expired during the write and is held by {lost.args[0].get('holder') or 'nobody'} now, "
                f"so nothing more was written",
                fix="raise the lock duration above the time a renewal takes",
                converges=True,
            ) from None
        except Exception as err:  # noqa: BLE001
            raise self._lease_failure(err, "renewing") from None
        self.lease_taken_at = renewing
        return lease

    def _release(self, lock, lease):
        try:
            lock.release(self.holder, lease)
        except Exception as err:  # noqa: BLE001  never hides the failure that brought us here
            self.notes.append(
                f"the rollout lease {lock.namespace}/{lock.name} on {self.request.cluster} could not be released "
                f"({api_error(err)}); it expires {self.request.lock_duration}s "
                f"after its last renewal, and until then other runs wait for it"
            )

    def _lease_failure(self, err, doing):
        status = status_of_exception(err)
        return EgressFailure(
            "lease",
            f"{doing} the rollout lease on {self.request.cluster}",
            api_error(err),
            status=status,
            converges=not status or status["code"] >= 500,
        )

    # -- reporting ---------------------------------------------------------------

    def _lap(self, step, started):
        self.timings[step] = self.timings.get(step, 0.0) + self.clock() - started

    def _result(self, state, plan, changed):
        result = plan.public()
        result.update(
            changed=changed,
            notes=list(self.notes),
            cluster=self.request.cluster,
            waited=round(self.waited, 1),
            api_versions={kind.describe(): kind.api_version(version) for kind, version in state.versions.items()},
            unserved_kinds=[f"{kind.kind} ({kind.describe()})" for kind in state.unserved],
            endpoint_data=self.endpoint_data.public(),
            outbound_policy=self.outbound,
            runs=dict(self.runs),
            timings={step: round(seconds, 3) for step, seconds in self.timings.items()},
        )
        if self.request.diff:
            result["diff"] = plan_diffs(plan, state.objects)
        return result
