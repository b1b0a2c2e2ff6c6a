# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's install commands, run exactly as written: from the built tarball in a clone, and from git.

The clone is a copy of the checkout's files; the git repository the README names is this checkout, which git is
told to fetch instead (url.<base>.insteadOf): nothing leaves the machine. Each way installs for a user with a home of
its own, where Ansible looks for collections by default.
"""

from __future__ import annotations

import subprocess

import pytest

from conftest import ROOT
from doc_helpers import clone, commands, installed_collection, section, shell, shell_env

pytestmark = pytest.mark.integration


def test_the_readmes_install_commands_install_the_collection(tmp_path):
    checkout = clone(tmp_path)
    bare = tmp_path / "aws_egress.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(ROOT), str(bare)], check=True)

    install = commands(section(ROOT / "README.md", "Install"))
    assert install[0] == "ansible-galaxy collection build" and install[-1].startswith(
        "ansible-galaxy collection install git+https://"
    )
    for home, from_git in ((tmp_path / "from-tarball", False), (tmp_path / "from-git", True)):
        home.mkdir()
        env = shell_env(home)
        # git fetches this checkout where the README names the project's repository.
        url = install[-1].split("git+", 1)[1]
        env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0=f"url.file://{bare}.insteadOf", GIT_CONFIG_VALUE_0=url)
        # The tarball is built in a clone; from git, no clone is needed.
        for command in install[-1:] if from_git else install[:-1]:
            done = shell(command, home if from_git else checkout, env)
            assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert (installed_collection(home) / "MANIFEST.json").exists(), sorted(p.name for p in home.rglob("*"))[:20]
