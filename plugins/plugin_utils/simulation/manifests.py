# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Directories of manifests as the simulation reads them: Istio config apart from Kubernetes objects.

The harness takes the two separately (istiod reads Istio config from its config
store and the rest from the Kubernetes API).  A directory may be what the role
renders, or what `kubectl get ... -o yaml` writes (a List of objects).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import (
    UnknownKind,
    WAYPOINT,
    is_istio_group,
    kind_of,
)

SUFFIXES = (".yaml", ".yml")
# kustomize's own file is not a Kubernetes object.
SKIPPED_FILES = ("kustomization.yaml", "kustomization.yml")


class ManifestError(ValueError):
    """A directory or file that is not a readable set of Kubernetes objects."""


def read_dir(path):
    """Every object of every YAML file under `path`, in file-name order; Lists are unpacked."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ManifestError(f"{root} is not a directory")
    objects = []
    for file in sorted(
        p for p in root.rglob("*") if p.suffix in SUFFIXES and p.name not in SKIPPED_FILES and p.is_file()
    ):
        objects.extend(_objects(file))
    return objects


def _objects(file):
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        documents = list(yaml.load_all(file.read_text(encoding="utf-8"), Loader=loader))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{file}: not YAML: {_one_line(exc)}") from None
    found = []
    for number, document in enumerate(documents, start=1):
        if document is None:
            continue
        items = (
            document.get("items")
            if isinstance(document, dict) and str(document.get("kind", "")).endswith("List")
            else [document]
        )
        for item in items or []:
            if not (isinstance(item, dict) and item.get("apiVersion") and item.get("kind")):
                raise ManifestError(
                    f"{file}, document {number}: not a Kubernetes object (it needs apiVersion and kind)"
                )
            found.append(item)
    return found


def _one_line(exc):
    return " ".join(str(exc).split())


def group_of(obj):
    api_version = str(obj.get("apiVersion") or "")
    group, slash, _version = api_version.partition("/")
    return group if slash else ""


def is_istio_config(obj):
    """Istio's own kinds and the Gateway API's go to istiod's config; the rest is Kubernetes."""
    group = group_of(obj)
    return is_istio_group(group) or group == WAYPOINT.group


def is_cni_policy(obj):
    """A network policy the role writes: the CNI enforces it, istiod never reads it, so the simulation leaves it out."""
    try:
        return kind_of(obj).enforced_by == "cni"
    except UnknownKind:
        return False


def identity(obj):
    meta = obj.get("metadata") or {}
    return (obj.get("kind"), meta.get("namespace") or "", meta.get("name") or "")


def to_yaml(objects):
    return yaml.safe_dump_all(objects, sort_keys=False) if objects else ""
