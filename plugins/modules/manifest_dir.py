#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: manifest_dir
short_description: Make a directory hold exactly a given set of manifest files
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - Writes each file of O(files) into O(path), leaving files whose content is already right untouched.
  - Removes the files it recognises as its own (name matches O(prune_pattern) and content matches
    O(prune_marker)) that are not in O(files), so the directory holds exactly the declared set.
    Files it does not recognise are never touched.
  - One task for any number of files, where a loop of M(ansible.builtin.copy) costs a module run per file.
  - The C(meshops.aws_egress.istio_aws_egress) role writes its rendered resources with it.
options:
  path:
    description: The directory. It is created, with its parents, when missing.
    type: path
    required: true
  files:
    description:
      - File name (no directory part) to file content.
    type: dict
    required: true
  prune_pattern:
    description:
      - A regular expression that the whole name of a file must match for the file to be removed
        when it is not in O(files). Without it, nothing is removed.
    type: str
  prune_marker:
    description:
      - A regular expression (multi-line mode) that the content of a file must match for it to be
        removed. Required with O(prune_pattern).
    type: str
attributes:
  check_mode:
    description: Reports what would be written and removed, and touches nothing.
    support: full
  diff_mode:
    description: Lists the names of the files written and removed.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - Files are written atomically, one by one; the directory as a whole is not.
"""

EXAMPLES = r"""
- name: Write two manifests and remove stale ones this task wrote before
  meshops.aws_egress.manifest_dir:
    path: rendered/egress
    files:
      serviceentry-istio-system-aws-default-sqs-us-east-1.yaml: "{{ sqs_entry | ansible.builtin.to_nice_yaml }}"
      kustomization.yaml: "{{ kustomization | ansible.builtin.to_nice_yaml }}"
    prune_pattern: 'serviceentry-.*\.yaml'
    prune_marker: '^\s+meshops\.io/egress-set: default$'
"""

RETURN = r"""
written:
  description: Names of the files created or changed (or that would be, in check mode), sorted.
  returned: always
  type: list
  elements: str
  sample: [serviceentry-istio-system-aws-default-sqs-us-east-1.yaml]
removed:
  description: Names of the files removed (or that would be, in check mode), sorted.
  returned: always
  type: list
  elements: str
  sample: []
unchanged:
  description: How many files already had the right content.
  returned: always
  type: int
  sample: 12
"""

import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native


def _bad_name(name):
    return not name or name in (".", "..") or "/" in name or "\0" in name


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _plan(directory, files, prune_pattern, prune_marker):
    """(to_write {name: bytes}, to_remove [names], unchanged count)."""
    to_write, unchanged = {}, 0
    for name, content in files.items():
        wanted = to_bytes(content, errors="surrogate_or_strict")
        if _read(os.path.join(directory, name)) == wanted:
            unchanged += 1
        else:
            to_write[name] = wanted
    to_remove = []
    if prune_pattern and os.path.isdir(directory):
        name_re = re.compile(prune_pattern)
        marker_re = re.compile(to_bytes(prune_marker), re.MULTILINE)
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if name in files or not name_re.fullmatch(name) or not os.path.isfile(path) or os.path.islink(path):
                continue
            if marker_re.search(_read(path) or b""):
                to_remove.append(name)
    return to_write, to_remove, unchanged


def _write(module, directory, name, content):
    handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
    with os.fdopen(handle, "wb") as out:
        out.write(content)
    module.atomic_move(temp, os.path.join(directory, name))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            files=dict(type="dict", required=True),
            prune_pattern=dict(type="str"),
            prune_marker=dict(type="str"),
        ),
        required_by={"prune_pattern": "prune_marker"},
        supports_check_mode=True,
    )
    directory, files = module.params["path"], module.params["files"]
    bad = sorted(name for name in files if _bad_name(name))
    if bad:
        module.fail_json(msg=f"files: {bad[0]!r} is not a plain file name (no directory part)")
    try:
        to_write, to_remove, unchanged = _plan(
            directory, files, module.params["prune_pattern"], module.params["prune_marker"]
        )
    except re.error as exc:
        module.fail_json(msg=f"prune_pattern or prune_marker: not a regular expression: {exc}")
    result = dict(changed=bool(to_write or to_remove), written=sorted(to_write), removed=to_remove, unchanged=unchanged)
    if module._diff:
        before = sorted(set(to_remove) | {n for n in to_write if os.path.exists(os.path.join(directory, n))})
        result["diff"] = dict(
            before_header=directory,
            after_header=directory,
            before="".join(f"{name}\n" for name in before),
            after="".join(f"{name}\n" for name in sorted(to_write)),
        )
    if module.check_mode or not result["changed"]:
        module.exit_json(**result)
    try:
        os.makedirs(directory, exist_ok=True)
        for name, content in sorted(to_write.items()):
            _write(module, directory, name, content)
        for name in to_remove:
            os.remove(os.path.join(directory, name))
    except OSError as exc:
        module.fail_json(msg=f"{directory}: {to_native(exc)}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
