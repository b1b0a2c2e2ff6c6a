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
import re

from ansible.errors import AnsibleActionFail, AnsibleFilterError

_SHOWN_VALUE_LENGTH = 60
_OPTION = re.compile("\x1f([\\w.]+)\x1f")


class InputError(AnsibleFilterError):
    """A bad value at `path`; its message names options as the caller knows them (see `named`)."""

    def __init__(self, path, problem):
        self.path = path
        self.problem = problem
        super().__init__(self.named())

    def named(self, variable_prefix=""):
        """The message, with the path and the options it mentions named as the caller's variables
        (`istio_aws_egress_regions[1]: ...`), or as the filter's options without a prefix."""
        def option(match):
            return f"{variable_prefix}{match.group(1)}" if variable_prefix else f"the filter's {match.group(1)}"

        return f"{variable_prefix}{self.path}: {_OPTION.sub(option, self.problem)}"

    def for_caller(self, plugin_name, variable_prefix=""):
        """The error a filter raises: named as the caller's variable, or as the filter's option after the filter's name."""
        return CallerInputError(self.named(variable_prefix) if variable_prefix else f"{plugin_name}: {self.named()}")


class CallerInputError(AnsibleFilterError, AnsibleActionFail):
    """A bad value, raised by a filter: a task whose arguments it was templated in fails with this message alone.

    ansible-core 2.19 wraps an error raised while it templates a task's arguments once per layer ("Finalization of
    task args for 'ansible.builtin.set_fact' failed: Error while resolving value for ...: The filter plugin ...
    failed: ..."), unless an error of the chain gives the task its result, as an action's failure does. The
    traceback is left out too: the message says all there is.
    """

    @property
    def omit_exception_key(self):
        return True


def input_error(path, problem):
    """The error for a bad value at `path` ("services[1].regions[0]")."""
    return InputError(path, problem)


def option_ref(name):
    """Another option, in a problem's text: named by the caller's variable, or as the filter's option."""
    return f"\x1f{name}\x1f"


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
    """"; did you mean 'x'?" for the closest choice, or "" when nothing is close."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(str(word).lower(), sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_keys(entry, path, keys):
    """Refuse the first key of the dict `entry` that is not one of `keys`, naming the closest one."""
    for key in entry:
        if key not in keys:
            raise input_error(path, f"unknown key {shown(key)}{did_you_mean(key, keys)} (keys: {', '.join(keys)})")
