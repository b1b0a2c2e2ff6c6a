# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's files that are built from the kinds table: `make generated` writes them, the unit tests keep them current.

- roles/istio_aws_egress/templates/resources.yaml.j2: the template dispatch, from kinds.RENDERINGS;
- roles/istio_aws_egress/files/rbac.yaml: templates/rbac.yaml.j2 rendered for the defaults (`make rbac`).

Run as a script: `--write` writes both, `--check` exits 1 naming the stale ones.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "istio_aws_egress"
RESOURCES_TEMPLATE = ROLE / "templates" / "resources.yaml.j2"
SHIPPED_RBAC = ROLE / "files" / "rbac.yaml"

RESOURCES_HEADER = """\
{# Generated from the kinds table (plugins/plugin_utils/egress/kinds.py, RENDERINGS) by `make generated`: change
   the table, not this file. Every resource of the egress set, one YAML document each. An included
   template loses its last newline; "+%}" keeps the one after the tag.
   Values are written as JSON, so that a name such as "on", "n" or "123"
   stays a string for every YAML reader (Go's takes y/n/on/off as booleans). #}
"""

SHIPPED_RBAC_HEADER = """\
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The RBAC the istio_aws_egress role needs, for the defaults: egress set in
# istio-system, egress gateway in istio-system, run as the ServiceAccount
# istio-system/meshops-aws-egress. It is templates/rbac.yaml.j2 rendered for
# them, as one List (`make rbac` writes it; a unit test keeps the two equal).
# The role installs it for you: istio_aws_egress_install_rbac: true and
# istio_aws_egress_rbac_subject, or tasks_from: rbac. By hand: change the
# subject and the RoleBindings' namespaces, add a meshops-aws-egress-sidecars
# RoleBinding in each namespace of istio_aws_egress_sidecars, then
# `kubectl apply -f rbac.yaml`.
"""
SHIPPED_RBAC_FOR = {
    "namespace": "istio-system",
    "sidecar_namespaces": [],
    "gateway_namespace": "istio-system",
    "subject": {"kind": "ServiceAccount", "name": "meshops-aws-egress", "namespace": "istio-system"},
}


def _kinds():
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress import kinds  # pylint: disable=import-outside-toplevel

    return kinds


def resources_template_text() -> str:
    """templates/resources.yaml.j2 as the kinds table's RENDERINGS make it."""
    lines = [RESOURCES_HEADER.rstrip("\n")]
    for _kind, rendering in _kinds().RENDERINGS:
        condition = f" if {rendering.when}" if rendering.when else ""
        lines += [
            f"{{% for {rendering.name} in {rendering.each}{condition} %}}",
            "---",
            f"{{% include '{rendering.template}' +%}}",
            "{% endfor %}",
        ]
    return "\n".join(lines) + "\n"


def shipped_rbac_text() -> str:
    """files/rbac.yaml as it must read: the template for the defaults, as one List, its comments kept."""
    from role_templates import render_all  # pylint: disable=import-outside-toplevel

    rendered = render_all([("rbac.yaml.j2", SHIPPED_RBAC_FOR)])[0]
    if "error" in rendered:
        raise AssertionError(f"rbac.yaml.j2 did not render: {rendered['error']}")
    lines = [SHIPPED_RBAC_HEADER.rstrip("\n"), "---", "apiVersion: v1", "kind: List", "items:"]
    for document in rendered["text"].split("\n---\n"):
        started = False
        for line in document.strip().strip("-").strip("\n").splitlines():
            if not line.strip():
                continue
            if line.startswith("#") and not started:
                lines.append(f"  {line}")
            else:
                lines.append(f"    {line.rstrip()}" if started else f"  - {line.rstrip()}")
                started = True
    return "\n".join(lines) + "\n"


GENERATED = {RESOURCES_TEMPLATE: resources_template_text, SHIPPED_RBAC: shipped_rbac_text}


def stale(which=None) -> list[Path]:
    """The generated files (all, or `which`) whose text is not what the table makes."""
    return [
        path
        for path, build in GENERATED.items()
        if (which is None or path in which) and path.read_text(encoding="utf-8") != build()
    ]


def main(argv: list[str]) -> int:
    which = [SHIPPED_RBAC] if "--rbac" in argv else None
    if "--check" in argv:
        found = stale(which)
        for path in found:
            print(f"{path.relative_to(ROOT)} is stale: run `make generated`", file=sys.stderr)
        return 1 if found else 0
    for path, build in GENERATED.items():
        if which is None or path in which:
            path.write_text(build(), encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main(sys.argv[1:]))
