# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Error messages that say where in the input a bad value sits.

Every message starts with a path into the arguments, as a user would write
it: "services[3].regions[0]: 'eu_west_1' is not an AWS region; did you mean
'eu-west-1'?".
"""

from __future__ import annotations

import difflib

from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import input_message

_SHOWN_VALUE_LENGTH = 60


class InputError(AnsibleFilterError):
    """A bad value at `path`; its message names options as the caller knows them (option_names.input_message)."""

    def __init__(self, path, problem):
        self.path = path
        self.problem = problem
        super().__init__(input_message(self))


def input_error(path, problem):
    """The error for a bad value at `path` ("services[1].regions[0]")."""
    return InputError(path, problem)


def type_name(value):
    """'str', 'list', ... also for Ansible's tagged and lazy subclasses of them."""
    for name, kind in (("bool", bool), ("str", str), ("int", int), ("float", float), ("dict", dict), ("list", list)):
        if isinstance(value, kind):
            return name
    return "None" if value is None else type(value).__name__


def shown(value):
    """A short, quoted rendering of a value for a message."""
    if isinstance(value, str):
        value = str(value)  # drop Ansible's str subclasses, whose repr may differ
    text = repr(value)
    if len(text) > _SHOWN_VALUE_LENGTH:
        text = text[: _SHOWN_VALUE_LENGTH - 3] + "..."
    return text


def described(value):
    """'str 'us-east-1'', 'int 3': a value with its type, for type errors."""
    return "None" if value is None else f"{type_name(value)} {shown(value)}"


def did_you_mean(word, choices):
    """ "; did you mean 'x'?" for the closest choice, or "" when nothing is close."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(str(word).lower(), sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_keys(entry, path, keys):
    """Refuse the first key of the dict `entry` that is not one of `keys`, naming the closest one."""
    for key in entry:
        if key not in keys:
            raise input_error(path, f"unknown key {shown(key)}{did_you_mean(key, keys)} (keys: {', '.join(keys)})")
