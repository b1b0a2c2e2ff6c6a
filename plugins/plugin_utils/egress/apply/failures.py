# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Typed failures of a run: which step, which object, the API's status, and what to do next.

Every failure is raised where it happens, as an EgressFailure; the action
plugin turns it into one message and a few result keys (`failed_step`,
`failed_object`, `api_status`, `converges`).  Whether "a rerun converges" is
said follows from the status: a lost connection or a busy server passes, a
missing namespace or CustomResourceDefinition does not.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.api_errors import (
    error_body,
    failure_reason,
    status_line,
)

CONVERGES = "a rerun plans from what is there and converges"


class EgressFailure(Exception):
    """A failed step of a run, with what an operator needs to act on it."""

    def __init__(self, step, doing, reason, obj=None, status=None, fix=None, converges=False, objects=None):
        super().__init__(reason)
        self.step = step  # target, read, refuse, access, lease, apply, renew, prune, interrupted
        self.doing = doing  # "applying 25 resources to prod-use1"
        self.reason = reason
        self.obj = obj  # "ServiceEntry istio-system/aws-prod-sqs-us-east-1"
        # Every object named by a failure of concurrent writes (apply/writes.py); `obj` is the first.
        self.objects = objects if objects is not None else [obj] if obj else []
        # The batch a concurrent write failed in, when the failure names no object (a lost connection).
        self.batch = None
        self.status = status  # {"code": 404, "reason": "NotFound", "message": ...}
        self.fix = fix
        self.converges = converges

    @property
    def message(self):
        if self.step == "refuse":
            return f"{self.doing}: {self.reason}"
        text = f"{self.doing} failed"
        if self.obj:
            text += f" at {self.obj}"
        text += f": {self.reason}"
        if self.fix:
            text += f"; {self.fix}"
        if self.converges:
            text += f" ({CONVERGES})"
        return text

    def result(self):
        return {
            "failed_step": self.step,
            "failed_object": self.obj,
            "failed_objects": list(self.objects),
            "api_status": self.status,
            "converges": self.converges,
        }


def status_of_exception(err):
    """The API's Status of an ApiException as a dict (code, reason, message, details), or None: a failure's `api_status`.

    Its text is api_errors.api_error's.
    """
    code = getattr(err, "status", None)
    if not code:
        return None
    status = {"code": code, "reason": getattr(err, "reason", None) or ""}
    body = error_body(err)
    status.update({key: body[key] for key in ("reason", "message", "details") if body.get(key)})
    return status


def failure_text(result):
    """What a failed module said: its message, or when it could not even report (kubernetes.core.k8s fails to
    serialise a connection error's reason under ansible-core 2.19), the error Ansible captured instead."""
    return "\n".join(str(result[key]) for key in ("msg", "exception", "module_stderr") if result.get(key))


def _module_reason(status, text, server=None):
    """'404 NotFound: namespaces "orders" not found' from a module's failure, or the one line that matters in its `text`."""
    if not status:
        return failure_reason(text, server)
    return status_line(status.get("code"), status.get("reason"), status.get("message"))


def write_failure(step, doing, status, text, objects, server=None):
    """The failure of a kubernetes.core.k8s write: the object it names, and whether a rerun helps."""
    details = (status or {}).get("details") or {}
    code = (status or {}).get("code")
    obj, fix, converges = _failed_object(details, objects), None, False
    if code == 404 and details.get("kind") == "namespaces":
        namespace = details.get("name")
        obj = obj or next((o for o in objects if o.split(" ", 1)[1].startswith(f"{namespace}/")), None)
        fix = f"namespace {namespace} does not exist: create it, then run again"
    elif code == 404 and step == "prune" and details.get("name"):
        # Deleted already: by another writer, or by this very request, resent by the client after its answer was lost.
        fix, converges = "it was gone already", True
    elif code == 404:
        fix = "the cluster does not serve this kind: install its CustomResourceDefinition, then run again"
    elif code == 403:
        fix = "grant the permission (the role's README, Permissions), then run again"
    elif code in (400, 422):
        fix = "the API server refused the object as invalid (an admission policy or webhook may have refused it)"
    else:
        # Lost connections, timeouts, a busy or restarting server, another writer's conflict.
        converges = True
    return EgressFailure(
        step, doing, _module_reason(status, text, server), obj=obj, status=status, fix=fix, converges=converges
    )


def _failed_object(details, objects):
    name, plural = details.get("name"), details.get("kind")
    if not name or plural == "namespaces":
        return None
    matches = [o for o in objects if o.endswith(f"/{name}") or o.endswith(f" {name}")]
    return matches[0] if len(matches) == 1 else (f"{plural} {name}" if plural else name)
