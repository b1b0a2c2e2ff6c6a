# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""manifest_dir: a directory that holds exactly the declared files, and never loses a file it does not own."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.meshops.aws_egress.plugins.modules import manifest_dir

OURS = "metadata:\n  labels:\n    meshops.io/egress-set: default\n"
THEIRS = "metadata:\n  labels:\n    meshops.io/egress-set: batch\n"
PATTERN = r"serviceentry-.+\.yaml"
MARKER = r"^\s+meshops\.io/egress-set: default$"


def run(capsys, check_mode=False, diff=False, **args):
    args.setdefault("prune_pattern", PATTERN)
    args.setdefault("prune_marker", MARKER)
    args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        manifest_dir.main()
    return json.loads(capsys.readouterr().out)


def test_writes_files_then_changes_nothing(tmp_path, capsys):
    files = {"serviceentry-a.yaml": OURS, "kustomization.yaml": "resources: []\n"}
    first = run(capsys, path=str(tmp_path / "out"), files=files)
    assert first["changed"] is True and first["written"] == ["kustomization.yaml", "serviceentry-a.yaml"]
    assert (tmp_path / "out" / "serviceentry-a.yaml").read_text() == OURS
    second = run(capsys, path=str(tmp_path / "out"), files=files)
    assert second["changed"] is False and second["written"] == [] and second["unchanged"] == 2


def test_removes_only_stale_files_it_recognises(tmp_path, capsys):
    (tmp_path / "serviceentry-old.yaml").write_text(OURS)  # ours, no longer declared
    (tmp_path / "serviceentry-batch.yaml").write_text(THEIRS)  # another egress set's
    (tmp_path / "notes.yaml").write_text(OURS)  # not a name we write
    result = run(capsys, path=str(tmp_path), files={"serviceentry-a.yaml": OURS})
    assert result["removed"] == ["serviceentry-old.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.yaml",
        "serviceentry-a.yaml",
        "serviceentry-batch.yaml",
    ]


def test_check_mode_reports_and_touches_nothing(tmp_path, capsys):
    (tmp_path / "serviceentry-old.yaml").write_text(OURS)
    result = run(capsys, check_mode=True, diff=True, path=str(tmp_path), files={"serviceentry-a.yaml": OURS})
    assert (
        result["changed"] is True
        and result["written"] == ["serviceentry-a.yaml"]
        and result["removed"] == ["serviceentry-old.yaml"]
    )
    assert result["diff"]["before"] == "serviceentry-old.yaml\n" and result["diff"]["after"] == "serviceentry-a.yaml\n"
    assert [p.name for p in tmp_path.iterdir()] == ["serviceentry-old.yaml"]


def test_without_a_pattern_nothing_is_removed(tmp_path, capsys):
    (tmp_path / "serviceentry-old.yaml").write_text(OURS)
    result = run(capsys, path=str(tmp_path), files={}, prune_pattern=None, prune_marker=None)
    assert result["changed"] is False and (tmp_path / "serviceentry-old.yaml").exists()


@pytest.mark.parametrize("name", ["../escape.yaml", "sub/file.yaml", "..", ""])
def test_names_with_a_directory_part_are_refused(tmp_path, capsys, name):
    result = run(capsys, path=str(tmp_path), files={name: OURS})
    assert result["failed"] is True and "is not a plain file name" in result["msg"]
    assert list(tmp_path.iterdir()) == []


def test_a_bad_pattern_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "serviceentry-x.yaml").write_text(OURS)
    result = run(capsys, path=str(tmp_path), files={}, prune_pattern="(")
    assert result["failed"] is True and result["msg"].startswith(
        "prune_pattern or prune_marker: not a regular expression"
    )
