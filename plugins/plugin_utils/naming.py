# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stable resource names: DNS-1123 labels of at most 63 characters.

A name is "<prefix>-<part>-<part>...".  The same parts always give the same
name; when the name is too long it is cut and ends in a short hash of the full
name, so two long names that share a beginning still differ.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import input_error, shown

MAX_NAME_LENGTH = 63
MAX_PREFIX_LENGTH = 40
DEFAULT_PREFIX = "aws"

_HASH_LENGTH = 8
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_NOT_LABEL_CHARACTERS = re.compile(r"[^a-z0-9]+")


def is_dns_label(name):
    """True for a DNS-1123 label (Kubernetes' rule for most resource names)."""
    return len(name) <= MAX_NAME_LENGTH and bool(_LABEL.match(name))


def check_label(value, path, what):
    """Raise the input error at `path` unless `value` is a DNS-1123 label; `what` says what it names ("a namespace name")."""
    if not isinstance(value, str) or not is_dns_label(value):
        raise input_error(
            path,
            f"{shown(value)} is not {what} (a DNS-1123 label: lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit, at most {MAX_NAME_LENGTH} characters)",
        )


def is_name_prefix(prefix):
    """True for a prefix that leaves room for the rest of a name."""
    return len(prefix) <= MAX_PREFIX_LENGTH and bool(_LABEL.match(prefix))


def _label_part(text):
    # "eks_pod_identity" -> "eks-pod-identity"; service, region and partition
    # names are already lowercase words joined by hyphens.
    return _NOT_LABEL_CHARACTERS.sub("-", text.lower()).strip("-")


def resource_name(prefix, *parts):
    """'<prefix>-<parts...>' as a DNS-1123 label of at most 63 characters."""
    full = "-".join([prefix] + [_label_part(p) for p in parts if p])
    if len(full) <= MAX_NAME_LENGTH:
        return full
    digest = hashlib.sha256(full.encode("utf-8")).hexdigest()[:_HASH_LENGTH]
    kept = full[: MAX_NAME_LENGTH - _HASH_LENGTH - 1].rstrip("-")
    return f"{kept}-{digest}"
