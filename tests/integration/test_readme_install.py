# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's install commands, run exactly as written: from the built tarball in a clone, and from git.

The clone is a copy of the checkout's files; the git repository the README names is this checkout, which git is
told to fetch instead (url.<base>.insteadOf): nothing leaves the machine. Collections go to a path of their own.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from test_artifact import user_env

pytestmark = pytest.mark.integration


def commands(section: str) -> list[str]:
    """The `$ ` lines of the console blocks of the README's section `section` (a `## ` heading)."""
    text = (ROOT / "README.md").read_text().split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```console\n(.*?)```", text, re.DOTALL)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def run(command: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(shlex.split(command), cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_the_readmes_install_commands_install_the_collection(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           check=True).stdout
    subprocess.run(["tar", "--null", "-T", "-", "-cf", str(tmp_path / "clone.tar")], cwd=ROOT, input=files, check=True)
    subprocess.run(["tar", "-xf", str(tmp_path / "clone.tar"), "-C", str(clone)], check=True)
    bare = tmp_path / "aws_egress.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(ROOT), str(bare)], check=True)

    install = commands("Install")
    assert install[0] == "ansible-galaxy collection build" and install[-1].startswith("ansible-galaxy collection install git+https://")
    for path, from_git in (("from-tarball", False), ("from-git", True)):
        env = user_env(tmp_path / path)
        # git fetches this checkout where the README names the project's repository.
        url = install[-1].split("git+", 1)[1]
        env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0=f"url.file://{bare}.insteadOf", GIT_CONFIG_VALUE_0=url)
        for command in install[-1:] if from_git else install[:-1]:
            run(command, clone, env)
        manifest = tmp_path / path / "ansible_collections" / "meshops" / "aws_egress" / "MANIFEST.json"
        assert manifest.exists(), sorted(p.name for p in (tmp_path / path).rglob("*"))[:20]
