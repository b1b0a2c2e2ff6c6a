# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules made internal still run under their old names until 1.0.0, and each old name warns."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from conftest import run_playbook

pytestmark = pytest.mark.integration

# Written at run time, not kept in the repository: ansible-lint rightly tells every playbook there to use the new names.
PLAYBOOK = """\
- name: Deprecated module names
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check this Python by the old name
      meshops.aws_egress.module_python:
        packages: [json]
      register: python_found

    - name: Review a right by the old name
      meshops.aws_egress.access_review:
        checks:
          - {verb: get, resource: namespaces, purpose: needed to read}
        kubeconfig: "{{ kubeconfig }}"
        context: "{{ context }}"
      register: reviewed

    - name: Take the lease by the old name
      meshops.aws_egress.rollout_lease:
        namespace: "{{ lease_namespace }}"
        kubeconfig: "{{ kubeconfig }}"
        context: "{{ context }}"
      register: taken

    - name: Give it back by the old name
      meshops.aws_egress.rollout_lease:
        namespace: "{{ lease_namespace }}"
        holder: "{{ taken.holder }}"
        state: released
        kubeconfig: "{{ kubeconfig }}"
        context: "{{ context }}"
      register: released

    - name: Keep the results for the test to read
      ansible.builtin.copy:
        content: "{{ {'python': python_found, 'reviewed': reviewed, 'taken': taken, 'released': released} | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      check_mode: false
"""


def test_the_old_names_run_the_internal_modules_and_warn(local_cluster, tmp_path):
    namespace = f"old-names-{uuid.uuid4().hex[:6]}"
    local_cluster.kubectl("create", "namespace", namespace)
    result_file = tmp_path / "result.json"
    playbook = tmp_path / "deprecated_names.yml"
    playbook.write_text(PLAYBOOK)
    result = run_playbook(
        playbook,
        extra_vars={
            "kubeconfig": local_cluster.kubeconfig,
            "context": local_cluster.context,
            "lease_namespace": namespace,
            "result_file": str(result_file),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr

    found = json.loads(result_file.read_text())
    assert found["python"]["missing"] == [] and found["python"]["python"]
    assert found["reviewed"]["allowed"] == ["get namespaces"] and found["reviewed"]["missing"] == []
    assert found["taken"]["holder"] and found["released"]["holder"] == found["taken"]["holder"]
    lease = json.loads(
        local_cluster.kubectl("get", "lease", "meshops-aws-egress", "-n", namespace, "-o", "json").stdout
    )
    assert not lease["spec"].get("holderIdentity")  # released: the old name ran the real module twice

    # One warning per old name, naming it, its release of removal and what to use instead.
    output = re.sub(r"\s+", " ", result.stdout + result.stderr)
    for name in ("module_python", "access_review", "rollout_lease"):
        assert re.search(
            rf"\[DEPRECATION WARNING\]: meshops\.aws_egress\.{name} has been deprecated\. It is internal to the "
            rf"collection[^\[]*? This feature will be removed from collection 'meshops\.aws_egress' version 1\.0\.0\.",
            output,
        ), output
