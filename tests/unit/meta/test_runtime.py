# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meta/runtime.yml: the oldest ansible-core it allows is the one the tests run, and every name it routes exists."""

from __future__ import annotations

from pathlib import Path

import yaml
from ansible.release import __version__ as ansible_core
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[3]
RUNTIME = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
MODULES = {path.stem for path in (ROOT / "plugins" / "modules").glob("*.py")}


def test_the_oldest_ansible_core_allowed_is_the_one_tested():
    allowed = SpecifierSet(RUNTIME["requires_ansible"])
    running = Version(ansible_core)
    assert running in allowed
    # The minor line before the tested one is refused: a wider range would be a promise no test keeps.
    assert Version(f"{running.major}.{running.minor - 1}.99") not in allowed
    role = yaml.safe_load((ROOT / "roles" / "istio_aws_egress" / "meta" / "main.yml").read_text())
    assert role["galaxy_info"]["min_ansible_version"] == f"{running.major}.{running.minor}"


def test_every_old_name_redirects_to_a_module_that_exists_and_warns():
    routing = RUNTIME["plugin_routing"]["modules"]
    assert set(routing) == {"module_python", "rollout_lease", "access_review"}
    for old, route in routing.items():
        assert old not in MODULES
        assert route["redirect"] == f"meshops.aws_egress._{old}" and f"_{old}" in MODULES
        assert route["deprecation"]["removal_version"] and route["deprecation"]["warning_text"]


def test_the_action_group_names_modules_that_exist_and_extends_kubernetes_core():
    members = RUNTIME["action_groups"]["egress"]
    assert members[0] == {"metadata": {"extend_group": ["kubernetes.core.k8s"]}}
    assert set(members[1:]) <= MODULES
