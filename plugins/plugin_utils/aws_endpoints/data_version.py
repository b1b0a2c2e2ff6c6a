# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which endpoint data an expansion runs with: botocore's version, and this collection's.

Every host we open comes from botocore's endpoint rulesets, read by this
collection's code; two controllers with other versions of either may open
other hosts for the same inventory.  Both versions are recorded on what the
role writes and in its reports, so that such a change is seen as one.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import yaml
from ansible.module_utils.compat.version import LooseVersion

from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import COLLECTION
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import botocore_data

COMPONENTS = ("botocore", "collection")
NAMES = {"botocore": "botocore", "collection": COLLECTION}
# plugins/plugin_utils/aws_endpoints/ -> the collection's root: MANIFEST.json when installed, galaxy.yml in a checkout.
_ROOT = Path(__file__).resolve().parents[3]


def current():
    """{"botocore": ..., "collection": ...}: the versions this process expands with."""
    return {"botocore": botocore_data.botocore_version(), "collection": collection_version()}


@functools.lru_cache(maxsize=None)
def collection_version():
    """This collection's version, as its MANIFEST.json (built) or galaxy.yml (a checkout) says; "unknown" without either."""
    manifest = _ROOT / "MANIFEST.json"
    if manifest.is_file():
        return str(json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"])
    galaxy = _ROOT / "galaxy.yml"
    if galaxy.is_file():
        return str(yaml.safe_load(galaxy.read_text(encoding="utf-8"))["version"])
    return "unknown"


def described(versions):
    """'botocore 1.44.8, meshops.aws_egress 0.1.0'."""
    return ", ".join(f"{NAMES[component]} {versions.get(component)}" for component in COMPONENTS)


def newer(versions, than):
    """The components ('botocore', 'collection') in which `versions` is newer than `than`; unreadable versions never are."""
    return [component for component in COMPONENTS if _newer(versions.get(component), than.get(component))]


def newest(values):
    """The newest of some versions of one component."""
    result = None
    for value in values:
        if result is None or _newer(value, result):
            result = value
    return result


def _newer(one, other):
    try:
        return LooseVersion(str(one)) > LooseVersion(str(other))
    except TypeError:  # a part that is a number in one and a word in the other ("1.44.8", "main"): no order
        return False
