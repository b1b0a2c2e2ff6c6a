# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When the egress_set action may skip its check of the Python that runs modules."""

from __future__ import annotations

import os
import sys

from ansible_collections.meshops.aws_egress.plugins.action.egress_set import _same_python


def test_the_running_python_is_itself():
    assert _same_python(sys.executable, sys.executable)


def test_another_name_for_it_in_the_same_directory_is_it_too(tmp_path):
    (tmp_path / "python3.11").symlink_to(sys.executable)
    (tmp_path / "python").symlink_to("python3.11")
    assert _same_python(str(tmp_path / "python"), str(tmp_path / "python3.11"))


def test_the_base_python_a_virtualenv_links_to_is_not_the_virtualenv(tmp_path):
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").symlink_to(os.path.realpath(sys.executable))
    assert not _same_python(str(venv_bin / "python"), os.path.realpath(sys.executable))


def test_an_unrelated_python_is_not_it(tmp_path):
    other = tmp_path / "python"
    other.write_text("#!/bin/sh\n")
    assert not _same_python(str(other), sys.executable)
