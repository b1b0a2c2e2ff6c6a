# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Declared resources as tasks pass them: a list of objects, or the YAML stream the role's template renders."""

from __future__ import annotations

import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.plain_data import plain


class NotResources(ValueError):
    """A value that is not a list of Kubernetes objects nor a YAML stream of them."""


def objects_of(resources):
    """The objects of `resources` (a list, or a YAML stream), as plain data."""
    if isinstance(resources, str):
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            resources = [doc for doc in yaml.load_all(str(resources), Loader=loader) if doc]
        except yaml.YAMLError as exc:
            raise NotResources(f"resources: not a YAML stream of Kubernetes objects: {exc}") from None
    if not isinstance(resources, list) or not all(isinstance(item, dict) for item in resources):
        raise NotResources(
            f"resources: expected a list of Kubernetes objects or a YAML stream of them, got {type(resources).__name__}"
        )
    return [plain(item) for item in resources]


def stream_of(objects):
    """`objects` as one YAML stream, in order."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump_all(objects, Dumper=dumper, sort_keys=False) if objects else ""
