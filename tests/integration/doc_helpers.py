# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the README and docs/development.md tell people to run, read from the documents themselves, and a clone of the
checkout to run it in: a test of a documented command fails when the document and reality part."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from conftest import ROOT

BIN = ROOT / ".venv" / "bin"


def section(document: Path, title: str, level: int = 2) -> str:
    """The text under the heading `title` (of `level` #s) of `document`, up to the next heading of that level or above."""
    text = document.read_text().split(f"\n{'#' * level} {title}\n", 1)[1]
    lines, fenced = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(rf"#{{1,{level}}} ", line):
            break
        lines.append(line)
    return "".join(lines)


def commands(text: str) -> list[str]:
    """The `$ ` lines of the console blocks in `text`, without the prompt."""
    blocks = re.findall(r"```console\n(.*?)```", text, re.DOTALL)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def clone(tmp_path: Path) -> Path:
    """A copy of the checkout's files (tracked and new, not ignored), with their times, so make sees built things as built."""
    path = tmp_path / "clone"
    path.mkdir()
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "--null", "-T", "-", "-cf", str(tmp_path / "clone.tar")], cwd=ROOT, input=files, check=True)
    subprocess.run(["tar", "-xf", str(tmp_path / "clone.tar"), "-C", str(path)], check=True)
    return path


def shell_env(home: Path) -> dict:
    """A user's shell: a home of their own (kubeconfig, collections), our venv's Python first, no setting of Ansible's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_") and key != "KUBECONFIG"}
    return {**env, "HOME": str(home), "PATH": os.pathsep.join([str(BIN), env.get("PATH", "")])}


def shell(command: str, cwd: Path, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    """`command` as a user types it into bash in `cwd`."""
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env={**env, "PWD": str(cwd)},
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def installed_collection(home: Path) -> Path:
    """Where Ansible finds the collection by default, for a user whose home is `home`."""
    return home / ".ansible" / "collections" / "ansible_collections" / "meshops" / "aws_egress"
