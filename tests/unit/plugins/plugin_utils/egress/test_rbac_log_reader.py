# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The optional log reader the role ships is rbac.py's, read-only, and apart from the role's own RBAC."""

from __future__ import annotations

from pathlib import Path

import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.rbac import rules as rbac

FILES = Path(__file__).resolve().parents[5] / "roles" / "istio_aws_egress" / "files"


def test_the_shipped_file_is_the_log_reader_role():
    [shipped] = [doc for doc in yaml.safe_load_all((FILES / "rbac-diagnose-log-reader.yaml").read_text()) if doc]
    role = rbac.log_reader_role()
    assert (
        shipped["kind"] == "ClusterRole"
        and shipped["metadata"]["name"] == role["name"] == "meshops-aws-egress-diagnose-log-reader"
    )
    assert shipped["metadata"]["labels"] == rbac.rbac_labels()
    assert shipped["rules"] == role["rules"]


def test_it_only_reads_and_is_not_among_the_roles_rbac():
    assert {verb for rule in rbac.log_reader_role()["rules"] for verb in rule["verbs"]} <= {"get", "list"}
    assert rbac.log_reader_role()["name"] not in [role["name"] for role in rbac.cluster_roles()]
    assert "meshops-aws-egress-diagnose-log-reader" not in (FILES / "rbac.yaml").read_text()
