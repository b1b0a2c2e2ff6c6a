# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The cluster -> logs: the proxies' logs read through the API server (pods/log), laid out as logs.py reads a directory.

Whose logs: the sidecars of the egress set's namespaces, the egress gateway's
pods, the waypoint's and ztunnel's.  Each pod's proxy container
(`istio-proxy`, as injection and Istio's charts name it) is read for the
last `since` seconds and at most `lines` lines (the API server's sinceSeconds
and tailLines), into `<dir>/<namespace>/<pod>.log`: the directory says who
called, the pod's name which proxy logged (logs.py).  What the user may not
read, or a pod without that container, is said, never a failure of the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import input_error, shown
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import WAYPOINT_NAME_LABEL

PROXY_CONTAINER = "istio-proxy"
ZTUNNEL_SELECTOR = "app=ztunnel"
REQUEST_TIMEOUT = 60
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(\d+)([smhd])$")


class LiveLogError(Exception):
    """The API server refused or failed a read that the diagnosis cannot do without: listing pods."""


@dataclass(frozen=True)
class Source:
    """Pods whose proxy logs to read: a namespace, and the pods' labels (None: every pod there)."""

    namespace: str
    selector: str | None = None


@dataclass
class Read:
    files: list = field(default_factory=list)  # the files written
    notes: list = field(default_factory=list)  # what could not be read, and why


def seconds(since, option="since"):
    """`since` ('90s', '15m', '1h', '2d') in seconds; a bad value names `option`."""
    match = _DURATION.match(str(since).strip()) if isinstance(since, (str, int)) else None
    if not match or int(match.group(1)) == 0:
        raise input_error(
            option, f"{shown(since)} is not a duration: a positive number and s, m, h or d (for example '1h')"
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def sources(sidecar_namespaces=(), gateway=None, waypoint=None, ztunnel_namespace=None):
    """Where the proxies of an egress set run: `gateway` {namespace, selector}, `waypoint` {namespace, name}."""
    found = [Source(namespace) for namespace in sorted(set(sidecar_namespaces))]
    if gateway:
        _require(gateway, "gateway", ("namespace", "selector"))
        found.append(Source(gateway["namespace"], _selector(gateway["selector"])))
    if waypoint:
        _require(waypoint, "waypoint", ("namespace", "name"))
        found.append(Source(waypoint["namespace"], f"{WAYPOINT_NAME_LABEL}={waypoint['name']}"))
    if ztunnel_namespace:
        found.append(Source(ztunnel_namespace, ZTUNNEL_SELECTOR))
    return found


def _require(value, option, keys):
    missing = [key for key in keys if not value.get(key)]
    if missing:
        raise input_error(option, f"needs {', '.join(keys)}; missing or empty: {', '.join(missing)}")


def _selector(labels):
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def read(api, where, since_seconds, lines, out_dir):
    """Read the proxies' logs of `where` (Sources) into `out_dir`; `api(path, query)` -> (status, bytes) of a GET."""
    result, out_dir = Read(), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seen = set()
    for source in where:
        labelled = f" labelled {source.selector}" if source.selector else ""
        status, body = api(
            f"/api/v1/namespaces/{source.namespace}/pods", {"labelSelector": source.selector} if source.selector else {}
        )
        if status == 403:
            result.notes.append(f"pods of namespace {source.namespace}{labelled} not listed (forbidden)")
            continue
        if status != 200:
            raise LiveLogError(
                f"listing the pods of namespace {source.namespace}{labelled}: HTTP {status}: {_said(body)}"
            )
        for pod in _pods(body):
            name = pod["metadata"]["name"]
            if (source.namespace, name) in seen:
                continue
            seen.add((source.namespace, name))
            if PROXY_CONTAINER not in [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]:
                result.notes.append(f"pod {source.namespace}/{name} has no {PROXY_CONTAINER} container: not read")
                continue
            status, body = api(
                f"/api/v1/namespaces/{source.namespace}/pods/{name}/log",
                {"container": PROXY_CONTAINER, "sinceSeconds": str(since_seconds), "tailLines": str(lines)},
            )
            if status != 200:
                result.notes.append(f"log of pod {source.namespace}/{name} not read: HTTP {status}: {_said(body)}")
                continue
            path = out_dir / source.namespace / f"{name}.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            result.files.append(str(path))
    return result


def _pods(body):
    import json

    return json.loads(body).get("items") or []


def _said(body):
    """The API server's message in a Status body, else the body's start."""
    import json

    try:
        return json.loads(body).get("message") or ""
    except ValueError:
        return body[:200].decode("utf-8", "replace")


def api_of(api_client):
    """`api(path, query)` -> (HTTP status, body) for a kubernetes.client.ApiClient; never raises on an HTTP status."""
    from kubernetes.client.rest import ApiException

    def api(path, query):
        try:
            response = api_client.call_api(
                path,
                "GET",
                query_params=list(query.items()),
                auth_settings=["BearerToken"],
                _preload_content=False,
                _return_http_data_only=True,
                _request_timeout=REQUEST_TIMEOUT,
            )
            return 200, response.data
        except ApiException as err:
            return err.status, (err.body or b"") if isinstance(err.body, bytes) else str(err.body or "").encode()

    return api
