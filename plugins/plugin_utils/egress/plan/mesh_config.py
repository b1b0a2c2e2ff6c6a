# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The mesh's outbound traffic policy and access logs, as istiod reads them: from its ConfigMap.

istiod of revision R reads the ConfigMap `istio-R` in its own namespace (the
default revision: `istio`); its `mesh` key holds the MeshConfig as YAML, and
Istio's charts label it with the release (`app.kubernetes.io/version`).  A
ConfigMap the user may not read is "not read", never a failure: what is said
of it is advice, and the run goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

REVISION_LABEL = "istio.io/rev"
VERSION_LABEL = "app.kubernetes.io/version"
# What MeshConfig says when outboundTrafficPolicy is unset: Istio's default install.
DEFAULT_MODE = "ALLOW_ANY"

READ, FORBIDDEN, MISSING, UNPARSABLE = "read", "forbidden", "missing", "unparsable"


@dataclass(frozen=True)
class MeshPolicy:
    """One ConfigMap's outbound traffic policy."""

    configmap: str  # namespace/name
    state: str  # READ, FORBIDDEN, MISSING or UNPARSABLE
    mode: str | None = None  # outboundTrafficPolicy.mode as written; None: unset (ALLOW_ANY)
    release: tuple | None = None  # (major, minor) of the chart that wrote it; None: not labelled
    # The mesh-wide access logging it turns on, as said in a plan ("accessLogFile /dev/stdout"); empty: none.
    access_logs: tuple = ()

    @property
    def effective_mode(self):
        return self.mode or DEFAULT_MODE


def configmap_name(revision):
    """The ConfigMap istiod of `revision` reads (`default`, or none: the default revision's)."""
    return "istio" if not revision or revision == "default" else f"istio-{revision}"


def revision_of(namespace):
    """The revision a namespace's sidecars are injected by (its istio.io/rev label); None: the default one."""
    return ((namespace or {}).get("metadata") or {}).get("labels", {}).get(REVISION_LABEL)


def parse(namespace, name, configmap):
    """The MeshPolicy of a ConfigMap read (None: there is none)."""
    where = f"{namespace}/{name}"
    if configmap is None:
        return MeshPolicy(where, MISSING)
    labels = (configmap.get("metadata") or {}).get("labels") or {}
    release = _release(labels.get(VERSION_LABEL))
    try:
        mesh = yaml.safe_load((configmap.get("data") or {}).get("mesh") or "") or {}
    except yaml.YAMLError:
        return MeshPolicy(where, UNPARSABLE, release=release)
    if not isinstance(mesh, dict):
        return MeshPolicy(where, UNPARSABLE, release=release)
    policy = mesh.get("outboundTrafficPolicy") or {}
    mode = policy.get("mode") if isinstance(policy, dict) else None
    return MeshPolicy(where, READ, mode=str(mode) if mode else None, release=release, access_logs=_access_logs(mesh))


def _access_logs(mesh):
    """What in a MeshConfig logs every call of every proxy: a log file, or default access log providers."""
    said = []
    if mesh.get("accessLogFile"):
        said.append(f"accessLogFile {mesh['accessLogFile']}")
    providers = (
        (mesh.get("defaultProviders") or {}).get("accessLogging")
        if isinstance(mesh.get("defaultProviders"), dict)
        else None
    )
    if providers:
        said.append(f"defaultProviders.accessLogging {list(providers)}")
    return tuple(said)


def _release(version):
    """(major, minor) from '1.30.2' or '1.31.0-beta.1'; None when there is no such version."""
    match = re.match(r"^v?(\d+)\.(\d+)", str(version or ""))
    return (int(match.group(1)), int(match.group(2))) if match else None


def read(configmap, namespace, name):
    """The MeshPolicy of ConfigMap `namespace`/`name`.

    `configmap(namespace, name)` -> (allowed, ConfigMap or None), as ClusterReader.configmap reads it.
    """
    allowed, found = configmap(namespace, name)
    return parse(namespace, name, found) if allowed else MeshPolicy(f"{namespace}/{name}", FORBIDDEN)
