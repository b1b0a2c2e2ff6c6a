# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Parse and check the filter's arguments into an EgressRequest.

All input checking happens here, before any host is computed, so that every
later step can trust its input.  Choices where a user might expect leniency:

* lists are lists: a bare string for regions, account_ids, buckets,
  credential_sources or services is refused (a string is also a sequence,
  and "us-east-1,eu-west-1" would otherwise slip through);
* account IDs are strings of 12 digits: YAML reads an unquoted ID as an
  integer and drops leading zeros, so integers are refused with a hint;
* None (null) for an option means "not given": the filter's value, or the
  default, applies;
* listing a service twice is fine: the hosts of both are merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import (
    botocore_data,
    credentials,
    partitions,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import filter_docs, naming
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import (
    check_keys,
    described,
    did_you_mean,
    input_error,
    shown,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import PREFIX_OPTION, option_ref

SERVICE_KEYS = ("name", "regions", "account_ids", "fips", "dualstack", "buckets")
# The filter's options as aws_endpoints.yml documents them, in its order; the prefix option is the entry point's own.
FILTER_OPTIONS = tuple(
    name
    for name in filter_docs.options(Path(__file__).parents[2] / "filter" / "aws_endpoints.py")
    if name != PREFIX_OPTION
)

_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
# General purpose bucket names (lowercase DNS-like, 3 to 63 characters) and
# directory bucket names ("<base>--<zone-id>--x-s3").
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--table-s3")


@dataclass(frozen=True)
class ServiceSpec:
    """One AWS service to open, with everything that decides its hosts."""

    name: str
    regions: tuple
    account_ids: tuple = ()
    fips: bool = False
    dualstack: bool = False
    buckets: tuple | None = None  # None: any bucket; a tuple: only these buckets
    sts_legacy_global: bool = False
    source: str = ""  # what asked for it: the service name, or "credential_source:irsa"


@dataclass(frozen=True)
class EgressRequest:
    """The checked arguments of one expansion."""

    services: tuple  # of ServiceSpec, listed and implied by credential sources
    link_local_sources: tuple  # credential sources with a link-local endpoint, sorted
    name_prefix: str
    regions: tuple = ()  # the regions option: where services without their own regions are opened


def parse_request(services, options):
    """Check the filter's input and options; raise AnsibleFilterError naming the bad value."""
    unknown = sorted(set(options) - set(FILTER_OPTIONS))
    if unknown:
        raise input_error(
            unknown[0],
            f"unknown option{did_you_mean(unknown[0], FILTER_OPTIONS)} (options: {', '.join(FILTER_OPTIONS)})",
        )
    defaults = {
        "regions": _regions(options.get("regions"), "regions"),
        "account_ids": _account_ids(options.get("account_ids"), "account_ids"),
        "fips": _boolean(options.get("fips"), "fips"),
        "dualstack": _boolean(options.get("dualstack"), "dualstack"),
        "sts_legacy_global": _boolean(options.get("sts_legacy_global"), "sts_legacy_global"),
    }
    name_prefix = _name_prefix(options.get("name_prefix"))
    specs = [
        _service(entry, f"services[{index}]", defaults)
        for index, entry in enumerate(_list(services, "services", "service names or dicts"))
    ]
    sources = _credential_sources(options.get("credential_sources"), defaults["regions"])
    for source in sources:
        for service in credentials.services_called_by(source):
            specs.append(_implied_service(service, source, defaults))
    link_local = tuple(s for s in sources if credentials.link_local_endpoint(s))
    return EgressRequest(tuple(specs), link_local, name_prefix, defaults["regions"])


def _implied_service(service, source, defaults):
    return ServiceSpec(
        name=service,
        regions=defaults["regions"],
        account_ids=defaults["account_ids"],
        fips=defaults["fips"],
        dualstack=defaults["dualstack"],
        sts_legacy_global=defaults["sts_legacy_global"],
        source=f"credential_source:{source}",
    )


def _service(entry, path, defaults):
    if isinstance(entry, str):
        entry = {"name": entry}
        name_path = path
    elif isinstance(entry, dict):
        name_path = f"{path}.name"
    else:
        raise input_error(path, f"expected a service name or a dict with a 'name' key, got {described(entry)}")
    check_keys(entry, path, SERVICE_KEYS)
    if "name" not in entry:
        raise input_error(path, "the dict has no 'name' key")
    name = service_name(entry["name"], name_path)
    regions = (
        _regions(entry.get("regions"), f"{path}.regions") if entry.get("regions") is not None else defaults["regions"]
    )
    if entry.get("regions") is not None and not regions:
        raise input_error(f"{path}.regions", "must not be empty")
    if not regions:
        raise input_error(
            path, f"{name!r} has no regions: set {option_ref('regions')}, or give this service a 'regions' list"
        )
    buckets = None
    if entry.get("buckets") is not None:
        if name != "s3":
            raise input_error(f"{path}.buckets", f"only the s3 service takes buckets, not {name!r}")
        buckets = _buckets(entry["buckets"], f"{path}.buckets")

    def option(key, check):
        return check(entry[key], f"{path}.{key}") if entry.get(key) is not None else defaults[key]

    return ServiceSpec(
        name=name,
        regions=regions,
        account_ids=option("account_ids", _account_ids),
        fips=option("fips", _boolean),
        dualstack=option("dualstack", _boolean),
        buckets=buckets,
        sts_legacy_global=defaults["sts_legacy_global"],
        source=name,
    )


def service_name(name, path):
    if not isinstance(name, str):
        raise input_error(
            path, f"expected a service name (a boto3 client name such as 'dynamodb'), got {described(name)}"
        )
    name = str(name)
    if not botocore_data.is_service(name):
        known = botocore_data.service_names()
        raise input_error(
            path, f"{shown(name)} is not a service botocore knows (use boto3 client names){_meant(name, known)}"
        )
    return name


def _meant(name, known):
    """The client whose hosts start with `name` (users read endpoint prefixes in host names), or the closest client name."""
    clients = botocore_data.clients_by_endpoint_prefix().get(name.lower())
    if not clients:
        return did_you_mean(name, known)
    return f"; {shown(name)} is the endpoint prefix of {', '.join(clients)}: did you mean {' or '.join(map(shown, clients))}?"


def _list(value, path, what):
    if not isinstance(value, (list, tuple)):
        raise input_error(path, f"expected a list of {what}, got {described(value)}")
    return value


def _strings(value, path, what):
    if value is None:
        return ()
    items = _list(value, path, what)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise input_error(f"{path}[{index}]", f"expected a string, got {described(item)}")
    return tuple(str(item) for item in items)


def _regions(value, path):
    names = _strings(value, path, "region names")
    for index, region in enumerate(names):
        problem = region_problem(region)
        if problem:
            raise input_error(f"{path}[{index}]", problem)
    return tuple(sorted(set(names)))


def region_problem(region):
    if partitions.partition_of(region):
        return None
    hint = did_you_mean(region, partitions.all_regions())
    if partitions.is_pseudo_region(region):
        return f"{shown(region)} is a pseudo-region; give real regions (global services are opened once per partition)"
    partition = partitions.pattern_partition(region)
    if partition:
        return f"{shown(region)} looks like a region of partition {partition.name!r} but botocore does not list it (a newer botocore may){hint}"
    return f"{shown(region)} is not an AWS region{hint}"


def _account_ids(value, path):
    if value is None:
        return ()
    items = _list(value, path, "account IDs")
    for index, item in enumerate(items):
        if isinstance(item, int) and not isinstance(item, bool):
            raise input_error(
                f"{path}[{index}]",
                f"expected an account ID as a string of 12 digits, got int {item!r} (quote account IDs in YAML)",
            )
        if not isinstance(item, str):
            raise input_error(
                f"{path}[{index}]", f"expected an account ID as a string of 12 digits, got {described(item)}"
            )
        if not _ACCOUNT_ID.match(item):
            raise input_error(f"{path}[{index}]", f"{shown(item)} is not an AWS account ID (12 digits)")
    return tuple(sorted(set(str(item) for item in items)))


def _boolean(value, path):
    if value is None:
        return False
    if not isinstance(value, bool):
        raise input_error(path, f"expected true or false, got {described(value)}")
    return value


def _buckets(value, path):
    names = _strings(value, path, "S3 bucket names")
    for index, bucket in enumerate(names):
        problem = bucket_name_problem(bucket)
        if problem:
            raise input_error(f"{path}[{index}]", f"{shown(bucket)} is not a valid S3 bucket name: {problem}")
    return tuple(sorted(set(names)))


def bucket_name_problem(bucket):
    """Why a bucket name breaks S3's naming rules, or None."""
    if not _BUCKET.match(bucket):
        return "use 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
    if ".." in bucket or ".-" in bucket or "-." in bucket:
        return "a dot must sit between two letters or digits"
    if _IP_ADDRESS.match(bucket):
        return "it must not look like an IP address"
    if bucket.startswith(_RESERVED_BUCKET_PREFIXES) or bucket.endswith(_RESERVED_BUCKET_SUFFIXES):
        return "that prefix or suffix is reserved by S3"
    return None


def _credential_sources(value, regions):
    known = credentials.credential_source_names()
    names = _strings(value, "credential_sources", "credential source names")
    for index, source in enumerate(names):
        if source not in known:
            raise input_error(
                f"credential_sources[{index}]",
                f"{shown(source)} is not a credential source{did_you_mean(source, known)} (sources: {', '.join(known)})",
            )
        if credentials.services_called_by(source) and not regions:
            raise input_error(
                f"credential_sources[{index}]",
                f"{source!r} calls AWS in the workload's region: set {option_ref('regions')}",
            )
    return tuple(sorted(set(names)))


def _name_prefix(value):
    if value is None:
        return naming.DEFAULT_PREFIX
    if not isinstance(value, str):
        raise input_error("name_prefix", f"expected a string, got {described(value)}")
    if not naming.is_name_prefix(value):
        raise input_error(
            "name_prefix",
            f"{shown(value)} is not a valid name prefix (lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit, at most {naming.MAX_PREFIX_LENGTH} characters)",
        )
    return str(value)
