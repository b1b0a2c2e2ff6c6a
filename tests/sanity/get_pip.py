# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip script ansible-test downloads.

`ansible-test sanity --venv` bootstraps pip in each test venv by running a
get-pip script it fetches from a host outside the package registries. The
Makefile copies this file into ansible-test's cache instead: it installs pip
with ensurepip and then runs `pip install` with the arguments ansible-test
passes (pip itself, pinned), from the package index as configured for pip.
"""

import os
import subprocess
import sys

# ensurepip points PIP_CONFIG_FILE at /dev/null; the real config must apply.
env = {key: value for key, value in os.environ.items() if key != "PIP_CONFIG_FILE"}
subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, env=env, stdout=subprocess.DEVNULL)
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False, env=env).returncode)
