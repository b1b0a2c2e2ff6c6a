# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A permission as text, the one spelling the egress_access filter and the access_review module share.

The role compares the filter's checks with the permissions the module reports
as allowed, so both must spell them the same way.
"""

from __future__ import annotations


def permission(verb, group, resource, namespace=None, name=None):
    """'patch serviceentries.networking.istio.io in namespace istio-system': what a check asks for."""
    qualified = f"{resource}.{group}" if group else resource
    target = f"{qualified} {name}" if name else qualified
    return f"{verb} {target} in namespace {namespace}" if namespace else f"{verb} {target}"
