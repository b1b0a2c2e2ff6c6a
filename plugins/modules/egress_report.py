#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: egress_report
short_description: Write a runbook playbook's reports, per cluster and the index over them
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - The report writer of C(playbooks/plan.yml), C(playbooks/verify.yml) and C(playbooks/simulate.yml); use those
    playbooks unless you assemble the run yourself.
  - With O(report), writes the cluster's report to O(directory) as C(<cluster>.json) and C(<cluster>.md), with the time
    it was made (C(planned_at) or C(verified_at), UTC).
  - With O(index), writes in O(directory) C(README.md), C(index.json) and C(junit.xml), one row or test suite per
    cluster listed, read back from the clusters' JSON reports. A cluster this run did not report on keeps the row of
    its last report, whose time says how old it is; a cluster with no report at all is listed as such.
  - C(junit.xml) is JUnit XML as CI systems read it (the Jenkins xunit plugin's C(junit-10.xsd)). Each cluster is a
    suite with one test case for the cluster (planned or refused; in sync or not; every call as declared or not) and
    one per finding - a conflict, a drifted resource or a violation fails, a note passes with its text as output.
  - Runs on the controller and writes there; contacts no cluster.
options:
  kind:
    description:
      - Which playbook's reports. C(plan) - what C(site.yml) would change on each cluster, or why the cluster was refused.
        C(verify) - whether each cluster holds exactly its declared egress, what drifted, or why it was not verified.
        C(simulate) - the index only (C(index.json) and C(junit.xml)), over the JSON reports C(simulate.yml) writes.
    type: str
    required: true
    choices: [plan, verify, simulate]
  directory:
    description: Where the reports go, on the controller. Created if missing.
    type: path
    required: true
  cluster:
    description: The cluster the O(report) is about. Required with O(report).
    type: str
  report:
    description:
      - What the cluster's report says, as the playbook gathered it. For C(plan) - C(context), C(egress_set), C(namespace),
        C(plan) (the result of M(meshops.aws_egress.egress_set) in check mode), C(notes) (a list of lines), and C(refusal)
        (the message that stopped the plan) when the cluster was refused.
      - For C(verify) - C(context), C(egress_set), C(namespace), C(plan) (the result of M(meshops.aws_egress.egress_set)
        in check mode, where any planned write is drift), C(notes), and C(failure) (the message of the step that failed)
        when the cluster could not be verified.
      - Exactly one of O(report) and O(index).
    type: dict
  index:
    description: Every cluster the index lists, in its order. Exactly one of O(report) and O(index).
    type: list
    elements: str
attributes:
  check_mode:
    support: none
    description: Its only effect is the files; in check mode it is skipped.
  diff_mode:
    support: none
    description: No diff is shown.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Write the cluster's plan report
  meshops.aws_egress.egress_report:
    kind: plan
    directory: /tmp/plan
    cluster: "{{ inventory_hostname }}"
    report:
      context: "{{ istio_aws_egress_context }}"
      egress_set: default
      namespace: istio-system
      plan: "{{ istio_aws_egress_plan }}"
      notes: []

- name: Index every cluster of the inventory
  meshops.aws_egress.egress_report:
    kind: plan
    directory: /tmp/plan
    index: "{{ groups['clusters'] }}"
  run_once: true
"""

RETURN = r"""
report:
  description: With O(report), the cluster's report as written to C(<cluster>.json).
  returned: success and O(report) given
  type: dict
files:
  description: With O(index), the index files written.
  returned: success and O(index) given
  type: list
  elements: str
lines:
  description: With O(index), one line per cluster - its name and its report's summary.
  returned: success and O(index) given
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_report_options import (
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    REQUIRED_TOGETHER,
    argument_spec,
)


def main():
    # Everything runs in the action plugin, on the controller; this file documents it.
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        required_together=REQUIRED_TOGETHER,
    )
    module.fail_json(msg="meshops.aws_egress.egress_report runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
