# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Options named as the caller knows them, in every message an entry point returns or raises.

The logic marks an option where a message names it (`option_ref("accept")`) and never learns how the caller spells
it. Each entry point (an action plugin, a filter) names the marks once, in all it returns or raises: with the prefix
of the role's variables (`istio_aws_egress_accept`), or without one as the option itself (`accept`). An input error
names its options as "the filter's accept" without a prefix: it says where the bad value sits (input_errors.py).
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleActionFail, AnsibleError, AnsibleFilterError

_MARK = "\x1f"
# An option ("accept", "gateway.selector"), or "*": all of them ("the istio_aws_egress_* variables").
_NAME = re.compile("[\\w.*]+")
_OPTION = re.compile(f"{_MARK}({_NAME.pattern}){_MARK}")


def option_ref(name):
    """An option, where a message names it: the entry point names it as the caller's variable, or as the option."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"not an option's name: {name!r}")  # its marks would reach the user
    return f"{_MARK}{name}{_MARK}"


def named(text, variable_prefix="", unprefixed="{}"):
    """`text` with each option it marks named after `variable_prefix`, or, without one, as `unprefixed` says it."""
    if _MARK not in text:
        return text

    def option(match):
        return f"{variable_prefix}{match.group(1)}" if variable_prefix else unprefixed.format(match.group(1))

    return _OPTION.sub(option, text)


def named_options(value, variable_prefix=""):
    """`value`, a result (strings in dicts, lists and tuples, keys too) or an AnsibleError (named in place), with its
    options named.

    Strings without a mark come back as they are, Ansible's tagged ones too; so does anything else.
    """
    if isinstance(value, str):
        return named(value, variable_prefix)
    if isinstance(value, dict):
        return {
            named_options(key, variable_prefix): named_options(item, variable_prefix) for key, item in value.items()
        }
    if type(value) in (list, tuple):
        return type(value)(named_options(item, variable_prefix) for item in value)
    if isinstance(value, AnsibleError):
        # The message alone: a cause's message, appended by AnsibleError.message, is not ours to rewrite.
        value.message = named(value._original_message, variable_prefix)  # pylint: disable=protected-access
        return value
    return value


def named_run(run, variable_prefix=""):
    """What an entry point's `run()` returns, or the AnsibleError it raises, with the options they mark named: the
    entry point's one call."""
    try:
        return named_options(run(), variable_prefix)
    except AnsibleError as err:
        named_options(err, variable_prefix)  # in place: the error goes on as it was raised
        raise


def input_message(error, variable_prefix=""):
    """An input_errors.InputError's message, its path and the options it mentions named as the caller's variables
    (`istio_aws_egress_regions[1]: ...`), or as the filter's options without a prefix."""
    return f"{variable_prefix or ''}{error.path}: {named(error.problem, variable_prefix, unprefixed=UNPREFIXED_INPUT)}"


def caller_error(error, plugin_name, variable_prefix=""):
    """The error a filter raises for an InputError: named as the caller's variable, or as the filter's option after the
    filter's name."""
    return CallerInputError(
        input_message(error, variable_prefix) if variable_prefix else f"{plugin_name}: {input_message(error)}"
    )


# How an input error names another option when the caller has no prefix for it.
UNPREFIXED_INPUT = "the filter's {}"


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


# The option an entry point takes the caller's prefix in.
PREFIX_OPTION = "variable_prefix"


def with_prefix(args, prefix):
    """A task's arguments with `prefix` as their variable_prefix, unless they give one."""
    return {PREFIX_OPTION: prefix, **args}
