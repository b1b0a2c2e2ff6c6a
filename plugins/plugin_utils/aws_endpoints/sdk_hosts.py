# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The hosts an AWS SDK contacts for one service in one region.

The SDK decides a host per request by running the service's endpoint ruleset
with the client's settings (region, FIPS, dual-stack, account ID) and a few
parameters of the operation (static ones from the model, and input members
such as the S3 bucket).  We run the same rulesets through botocore's own
evaluator, once per distinct kind of operation, with:

* the values the user gave (buckets, account IDs), or, when none are given, a
  placeholder whose label becomes a leading "*." wildcard;
* both settings where SDKs differ by default (S3's legacy global endpoint in
  us-east-1; STS's global endpoint when asked for);
* the operation's host prefix ("data-", "{graphIdentifier}.") on top.

Each host is also tagged regional or not: a host that another region of the
same partition resolves to as well (iam.amazonaws.com) is the partition's.
"""

from __future__ import annotations

import functools
import itertools
from collections import namedtuple

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import botocore_data, partitions

HostFinding = namedtuple("HostFinding", ["host", "regional"])  # host may be a "*." wildcard

# Stand-ins for values only known at run time.  Both are valid host labels,
# bucket names and account IDs as far as the rulesets check.
ANY_LABEL = "meshops-any-label"
ANY_ACCOUNT = "meshops-any-account"
_PLACEHOLDERS = (ANY_LABEL, ANY_ACCOUNT)

# Inputs that take an ARN.  The account in the ARN picks the host for
# cross-account access, and for kinesis queues and channels the resource name
# does too, so the ARN is built from the account IDs (or a placeholder).
_ARN_TEMPLATES = {
    ("dynamodb", "ResourceArn"): "arn:{partition}:dynamodb:{region}:{account}:table/{label}",
    (
        "dynamodbstreams",
        "StreamArn",
    ): "arn:{partition}:dynamodb:{region}:{account}:table/{label}/stream/2024-01-01T00:00:00.000",
    ("kinesis", "StreamARN"): "arn:{partition}:kinesis:{region}:{account}:stream/{label}",
    ("kinesis", "ConsumerARN"): "arn:{partition}:kinesis:{region}:{account}:stream/{label}/consumer/{label}:1",
    ("kinesis", "ResourceARN"): "arn:{partition}:kinesis:{region}:{account}:stream/{label}",
    ("kinesis", "QueueARN"): "arn:{partition}:kinesis:{region}:{account}:queue/{label}",
    ("kinesis", "ChannelARN"): "arn:{partition}:kinesis:{region}:{account}:channel/{label}",
    ("eventbridgev2", "EventBusArn"): "arn:{partition}:events:{region}:{account}:event-bus/{label}",
    ("cloudfront-keyvaluestore", "KvsARN"): "arn:{partition}:cloudfront::{account}:key-value-store/{label}",
}

# Operations left out on purpose, by (service, static parameter).
_SKIPPED_OPERATIONS = {
    # S3 WriteGetObjectResponse: only code answering an S3 Object Lambda access
    # point calls it, on a per-request host (*.s3-object-lambda.<region>); opening
    # that wildcard for every S3 user would defeat "exact bucket hosts".
    ("s3", ("UseObjectLambdaEndpoint", True)),
}

# botocore.handlers.remove_accid_host_prefix_from_model: where the ruleset
# already puts the account ID in the host (s3control), botocore drops the
# model's "{AccountId}." host prefix (other SDKs do the same).
_ACCOUNT_HOST_PREFIX = "{AccountId}."
_RULESET_PUTS_ACCOUNT_IN_HOST = ("RequiresAccountId", True)


def sdk_hosts(spec, region):
    """Hosts the SDK contacts for `spec` (a ServiceSpec) in `region`.

    Returns (findings, warnings): a set of HostFinding and a list of messages
    about what could not be resolved, none of it dropped silently.
    """
    parameters = botocore_data.ruleset_parameters(spec.name)
    findings, warnings = set(), []
    for flag, parameter in (("fips", "UseFIPS"), ("dualstack", "UseDualStack")):
        if getattr(spec, flag) and parameter not in parameters:
            warnings.append(
                f"{spec.name}: the endpoint ruleset has no {flag} variant; the SDK uses the standard endpoint"
            )
    kinds = [
        t
        for t in botocore_data.operation_traits(spec.name)
        if not any((spec.name, p) in _SKIPPED_OPERATIONS for p in t.static_params)
    ]
    failures = []  # (traits, first error) of each kind of operation nothing resolved for
    for traits in kinds:
        found, notes, error = _operation_kind_hosts(spec, traits, region)
        findings |= found
        warnings.extend(notes)
        if error:
            failures.append((traits, error))
    if failures and len(failures) == len(kinds):
        reasons = "; ".join(sorted(set(error for dummy, error in failures)))
        return findings, warnings + [f"{spec.name} in {region}: the SDK cannot resolve an endpoint: {reasons}"]
    warnings.extend(
        f"{spec.name} in {region}: no endpoint for {t.name} and operations like it: {error}" for t, error in failures
    )
    return findings, warnings


def _operation_kind_hosts(spec, traits, region):
    """(findings, warnings, error if no call resolved) for one kind of operation."""
    findings, warnings, errors = set(), [], []
    calls = _calls(spec, traits, region)
    probe = partitions.probe_region(region)
    for index, (params, prefix, bucket) in enumerate(calls):
        host, error = _resolve(spec.name, params)
        if error:
            errors.append(error)
            if bucket is not None:
                warnings.append(f"s3 in {region}: no endpoint for bucket {bucket!r}: {error}")
            continue
        pattern = _pattern(prefix + host)
        if pattern is None:
            warnings.append(
                f"{spec.name} in {region}: {traits.name} and operations like it use a host no leading wildcard can match; not opened"
            )
            continue
        findings.add(HostFinding(pattern, _is_regional(pattern, region, probe, spec, traits, index)))
        if traits.discovers_endpoint:
            discovered = _discovered_hosts(pattern, region)
            if discovered is None:
                warnings.append(
                    f"{spec.name} in {region}: cannot tell where the hosts {traits.name} discovers live; not opened"
                )
            else:
                findings.add(HostFinding(discovered, True))
    # No calls at all (buckets: [] leaves nothing to call) is not a failure.
    failed = errors[0] if calls and len(errors) == len(calls) else None
    return findings, warnings, failed


def _is_regional(pattern, region, probe, spec, traits, index):
    """A host is regional if it names the region and the probe region resolves elsewhere."""
    if region not in pattern.split("."):
        return False
    if probe is None:
        return True
    params, prefix, dummy = _calls(spec, traits, probe)[index]
    probe_host, error = _resolve(spec.name, params)
    return error is not None or _pattern(prefix + probe_host) != pattern


def _discovered_hosts(host, region):
    """A wildcard for hosts found by endpoint discovery, or None.

    Timestream's operations first call DescribeEndpoints on the ruleset host
    (query.timestream.<region>...), then the cell hosts it returns
    (query-cell2.timestream.<region>...), which sit beside it.
    """
    parent = host.partition(".")[2]
    if region not in parent.split("."):
        return None  # never open a whole partition's DNS suffix
    return "*." + parent


def custom_endpoint_hosts(spec, host):
    """Hosts a client of `spec` given `host` as its endpoint_url contacts: `host`, and each operation's host prefix on it.

    botocore puts an operation's host prefix ("stream-", "{graphIdentifier}.") on a custom endpoint too.
    """
    findings = {HostFinding(host, True)}
    for traits in botocore_data.operation_traits(spec.name):
        if traits.host_prefix and not any((spec.name, p) in _SKIPPED_OPERATIONS for p in traits.static_params):
            findings.update(
                HostFinding(pattern, True)
                for pattern in (_pattern(prefix + host) for prefix in _host_prefixes(spec, traits))
                if pattern
            )
    return findings


def plain_host(service, region):
    """The host of a plain call (no FIPS, no dual-stack, no account), or None: what endpoints.json describes."""
    parameters = botocore_data.ruleset_parameters(service)
    traits = botocore_data.operation_traits(service)[0]
    params = {"Region": region, "UseFIPS": False, "UseDualStack": False}
    params.update(traits.static_params)
    host, error = _resolve(service, tuple(sorted((k, v) for k, v in params.items() if k in parameters)))
    return None if error else host


@functools.lru_cache(maxsize=4096)
def _calls(spec, traits, region):
    """Every (ruleset params, host prefix, bucket) to evaluate for one kind of operation.

    Cached: the probe region's calls serve every other region of its partition.
    """
    partition = partitions.partition_of(region)
    parameters = botocore_data.ruleset_parameters(spec.name)
    choices = _builtin_choices(spec, region, parameters)
    choices.update(_input_choices(spec, traits, region, partition, parameters))
    choices.update((name, [value]) for name, value in traits.static_params if name in parameters)
    names = sorted(choices)
    calls = []
    for prefix in _host_prefixes(spec, traits):
        for values in itertools.product(*(choices[n] for n in names)):
            params = tuple((n, v) for n, v in zip(names, values) if v is not None)
            bucket = dict(params).get("Bucket") if spec.name == "s3" and spec.buckets else None
            calls.append((params, prefix, bucket))
    return tuple(calls)


def _accounts(spec):
    return list(spec.account_ids) or [ANY_ACCOUNT]


def _builtin_choices(spec, region, parameters):
    """Values for the ruleset's built-in parameters: the client's settings."""
    choices = {}
    for name, (dummy, builtin) in parameters.items():
        if builtin == "AWS::Region":
            choices[name] = [region]
        elif builtin == "AWS::UseFIPS":
            choices[name] = [spec.fips]
        elif builtin == "AWS::UseDualStack":
            choices[name] = [spec.dualstack]
        elif builtin == "AWS::STS::UseGlobalEndpoint":
            choices[name] = [False, True] if spec.sts_legacy_global else [False]
        elif builtin == "AWS::S3::UseGlobalEndpoint":
            # botocore still defaults to the global host in us-east-1 ("legacy"),
            # the other SDKs to the regional one: open both.
            choices[name] = [False, True]
        elif builtin == "AWS::Auth::AccountIdEndpointMode":
            choices[name] = ["preferred"]  # every SDK's default
        elif builtin == "AWS::Auth::AccountId":
            # Credentials from IMDS carry no account ID; from IRSA, SSO and roles they do.
            choices[name] = [None] + _accounts(spec)
    return choices


def _input_choices(spec, traits, region, partition, parameters):
    """Values for ruleset parameters bound to the operation's input members."""
    choices = {}
    static = dict(traits.static_params)
    for name, required in traits.input_params:
        if name in static or name not in parameters:
            continue
        template = _ARN_TEMPLATES.get((spec.name, name))
        if template:
            arns = [
                template.format(partition=partition.name, region=region, account=a, label=ANY_LABEL)
                for a in _accounts(spec)
            ]
            choices[name] = [None] + arns
        elif name == "Bucket" and spec.name == "s3":
            choices[name] = list(spec.buckets) if spec.buckets is not None else [ANY_LABEL]
        elif name == "AccountId":
            choices[name] = _accounts(spec)
        elif required and parameters[name][0] is str:
            choices[name] = [ANY_LABEL]
        # Optional inputs (S3 Key, EventBridge EndpointId, ...) stay unset: the
        # plain call.  Opt-in features such as global endpoint IDs are not opened.
    return choices


def _host_prefixes(spec, traits):
    """The operation's host prefixes with their labels filled in."""
    if not traits.host_prefix:
        return [""]
    if traits.host_prefix == _ACCOUNT_HOST_PREFIX and _RULESET_PUTS_ACCOUNT_IN_HOST in traits.static_params:
        return [""]
    label_choices = []
    for member, dummy in traits.host_labels:
        label_choices.append([(member, a) for a in _accounts(spec)] if member == "AccountId" else [(member, ANY_LABEL)])
    return [traits.host_prefix.format(**dict(labels)) for labels in itertools.product(*label_choices)]


def _pattern(host):
    """The host, its leading placeholder made a "*." wildcard; None if a placeholder sits elsewhere."""
    first, dot, rest = host.partition(".")
    if first in _PLACEHOLDERS and dot and not any(p in rest for p in _PLACEHOLDERS):
        return "*." + rest
    if any(p in host for p in _PLACEHOLDERS):
        return None
    return host


@functools.lru_cache(maxsize=None)
def _resolve(service, params):
    """(host, None) or (None, error message): one ruleset evaluation, cached."""
    try:
        url = botocore_data.endpoint_provider(service).resolve_endpoint(**dict(params)).url
    except botocore_data.endpoint_provider_error() as exc:
        return None, str(exc)
    return _hostname(url), None


def _hostname(url):
    # Rulesets build "https://host[/path]" from templates; no user info, no port.
    netloc = url.partition("://")[2].partition("/")[0]
    return netloc.rpartition("@")[2].partition(":")[0].lower()
