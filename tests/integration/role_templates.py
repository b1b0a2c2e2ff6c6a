# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's templates, rendered by Ansible's own template lookup as the role renders them.

In a process of its own: Ansible's collection loader, once set up, changes how every later
`ansible_collections` import of the test process resolves.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "istio_aws_egress"


def render_all(requests: list[tuple[str, dict]]) -> list[dict]:
    """[(template, template_vars)] -> [{"text": rendered} or {"error": why}], in one process."""
    if not requests:
        return []
    result = subprocess.run(
        [sys.executable, __file__], input=json.dumps(requests), capture_output=True, text=True, check=False, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"rendering the role's templates failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def _main() -> None:
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar, trust_as_template

    init_plugin_loader([str(ROOT / ".collections")])
    templar = Templar(loader=DataLoader(), variables={"ansible_search_path": [str(ROLE)]})
    rendered = []
    for name, template_vars in json.load(sys.stdin):
        templar.available_variables = {"ansible_search_path": [str(ROLE)], "__template_vars": template_vars}
        try:
            # As the role does: a template that renders nothing comes back as null.
            text = templar.template(
                trust_as_template(
                    f"{{{{ lookup('ansible.builtin.template', {name!r}, template_vars=__template_vars) }}}}"
                )
            )
            rendered.append({"text": text or ""})
        except Exception as err:  # pylint: disable=broad-exception-caught
            rendered.append({"error": f"{type(err).__name__}: {err}"})
    json.dump(rendered, sys.stdout)


if __name__ == "__main__":
    _main()
