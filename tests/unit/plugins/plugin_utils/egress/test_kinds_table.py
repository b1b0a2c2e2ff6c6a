# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kinds table keeps its promise: a kind is a row, its template and its own logic, and nothing else names it.

A kind added without its template, its RBAC reason or its simulation class fails here; so does a group or kind
spelled outside plugins/plugin_utils/egress/kinds.py, and a generated file (`make generated`) left stale.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress import kinds
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.rbac import rules
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import live, manifests

ROOT = Path(__file__).resolve().parents[5]
TEMPLATES = ROOT / "roles" / "istio_aws_egress" / "templates"
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import generated_files  # noqa: E402  pylint: disable=wrong-import-position

# Templates that are not one kind's: the dispatch itself, render mode's kustomization, and the role's RBAC.
NOT_A_KIND = {"resources.yaml.j2", "kustomization.yaml.j2", "rbac.yaml.j2"}
EVERY_KIND = kinds.KINDS + kinds.RBAC_KINDS
BY_NAME = pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: f"{k.group}/{k.kind}")


@BY_NAME
def test_every_kind_has_a_template_that_exists(kind):
    templates = [rendering.template for of, rendering in kinds.RENDERINGS if of is kind]
    assert templates, f"{kind.kind} ({kind.group}) has no Rendering in kinds.RENDERINGS"
    for template in templates:
        assert (TEMPLATES / template).is_file(), template


def test_every_template_of_a_kind_is_in_the_table():
    rendered = {rendering.template for _kind, rendering in kinds.RENDERINGS}
    assert {path.name for path in TEMPLATES.glob("*.yaml.j2")} - NOT_A_KIND == rendered


@BY_NAME
def test_every_kind_says_why_the_rbac_lets_it_be_written(kind):
    assert kind.rbac_reason
    for writer in kind.writers:
        assert kind.rbac_reason in rules.why(writer), writer


@BY_NAME
def test_every_kind_has_a_product_and_a_simulation_class(kind):
    assert kind.product in (kinds.ISTIO, kinds.KUBERNETES, kinds.CILIUM, kinds.GATEWAY_API_PRODUCT)
    assert kind.simulation in kinds.SIMULATION_CLASSES
    # What the CNI enforces is what the simulation leaves out, and only that.
    assert (kind.simulation == "cni") == (kind.enforced_by == "cni")
    sample = kind.manifest(kind.versions[0], "x", "ns")
    assert manifests.is_cni_policy(sample) == (kind.simulation == "cni")
    assert manifests.is_istio_config(sample) == (kind.simulation in ("proxy", "logs", "waypoint"))
    assert (kind in live.CONFIG_KINDS) == (kind.simulation == "proxy")
    # Istio's versions follow istio_aws_egress_api_version only for Istio's own kinds.
    assert kinds.is_istio_group(kind.group) == (kind.product == kinds.ISTIO)


def test_a_kind_is_known_by_its_constant():
    for kind in EVERY_KIND:
        assert kinds.kind_of(kind.manifest(kind.versions[0], "x", "ns")) is kind
        assert kind.of(kind.manifest(kind.versions[0], "x"))
    assert not kinds.WAYPOINT.of(kinds.ISTIO_GATEWAY.manifest("v1", "x"))


def test_the_generated_files_are_current():
    stale = generated_files.stale()
    assert not stale, f"stale: {', '.join(str(path.relative_to(ROOT)) for path in stale)}; run `make generated`"


def _literals(path):
    """(line, text) of the string constants of a module, leaving out docstrings and ansible-doc's YAML."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            skipped.add(id(body[0].value))
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", "") in ("DOCUMENTATION", "EXAMPLES", "RETURN") for t in node.targets
        ):
            skipped.update(id(inner) for inner in ast.walk(node.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped
    ]


def _spelled(text):
    """What in `text` spells a kind or a group of the table (a label such as gateway.istio.io/managed is not one)."""
    if text in {kind.kind for kind in EVERY_KIND} or text == kinds.ISTIO_GROUP_SUFFIX:
        return text
    return next(
        (
            group
            for group in sorted({kind.group for kind in EVERY_KIND if kind.group}, key=len, reverse=True)
            if group in text
        ),
        None,
    )


def test_no_kind_or_group_is_spelled_outside_the_table():
    table = ROOT / "plugins" / "plugin_utils" / "egress" / "kinds.py"
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r} spells {_spelled(text)!r}"
        for path in sorted((ROOT / "plugins").rglob("*.py"))
        if path != table
        for line, text in _literals(path)
        if _spelled(text)
    ]
    assert not found, "name the constants of kinds.py instead:\n" + "\n".join(found)


def test_the_literal_check_finds_what_it_looks_for(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        '"""A docstring about networking.istio.io is prose."""\n'
        'DOCUMENTATION = "group: networking.istio.io"\n'
        'A = ("networking.istio.io", "ServiceEntry")\n'
        'B = f"{x}.cilium.io/{y}"\n'
    )
    assert [(line, _spelled(text)) for line, text in _literals(module) if _spelled(text)] == [
        (3, "networking.istio.io"),
        (3, "ServiceEntry"),
        (4, "cilium.io"),
    ]
