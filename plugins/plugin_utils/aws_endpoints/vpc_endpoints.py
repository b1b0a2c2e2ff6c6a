# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""VPC endpoints: how a cluster's VPC reaches an AWS service without the internet, and which hosts follow.

* An interface endpoint with private DNS (the default): the service's own
  names resolve to the endpoint inside the VPC, so the SDK calls the same
  hosts, and the same hosts are opened.
* An interface endpoint without private DNS: only the endpoint's own names
  (`vpce-<id>-<suffix>.<service>.<region>.vpce.amazonaws.com`) reach it, and
  the SDK calls them only when given them as `endpoint_url`.  Those names are
  opened instead of the service's, with a warning that says so, and with the
  host prefixes some operations put on any endpoint (`stream-vpce-...` for
  CloudWatch Logs' live tail).  S3 puts buckets, access points and its
  control API below the name (`bucket.vpce-...`,
  `<account>.control.vpce-...`): a `*.` wildcard of the name opens them.
* A gateway endpoint (S3 and DynamoDB only): a route to the service's public
  addresses, so the same hosts.

Each endpoint serves one service in one region; an endpoint for a service or
region the filter does not open changes nothing.
"""

from __future__ import annotations

import re
from collections import namedtuple

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import (
    botocore_data,
    partitions,
    sdk_hosts,
    service_spec,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import naming
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import check_keys, described, input_error

KEYS = ("service", "region", "type", "private_dns", "dns_names")
TYPES = ("interface", "gateway")
GATEWAY_SERVICES = ("dynamodb", "s3")
# What an endpoint dict of the filter says about the VPC endpoint that carries its hosts.
PRIVATE_DNS, ENDPOINT_SPECIFIC, GATEWAY = "private_dns", "endpoint_specific", "gateway"
# The first label of an endpoint's own name: the endpoint ID, a suffix, and for a zonal name the zone.
_ENDPOINT_LABEL = re.compile(r"^vpce-[0-9a-f]{8,17}-[0-9a-z]{8}(-[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z])?$")
# Services whose endpoint names carry buckets and other resources as labels below them.
_NAMES_BELOW = ("s3",)

VpcEndpoint = namedtuple("VpcEndpoint", ["service", "region", "kind", "dns_names", "path"])


def parse(value, regions):
    """{(service, region): VpcEndpoint} from the filter's vpc_endpoints option; AnsibleFilterError naming a bad value.

    `regions` is the filter's regions option: an entry without a region means the only one of them.
    """
    if value is None:
        return {}
    if not isinstance(value, (list, tuple)):
        raise input_error(
            "vpc_endpoints",
            f"expected a list of dicts (service, region, type, private_dns, dns_names), got {described(value)}",
        )
    found = {}
    for index, entry in enumerate(value):
        endpoint = _endpoint(entry, f"vpc_endpoints[{index}]", regions)
        key = (endpoint.service, endpoint.region)
        if key in found:
            raise input_error(
                endpoint.path,
                f"a second VPC endpoint for {endpoint.service} in {endpoint.region} (the first is "
                f"{found[key].path}); a VPC reaches a service in a region one way: keep one",
            )
        found[key] = endpoint
    return found


def _endpoint(entry, path, regions):
    if not isinstance(entry, dict):
        raise input_error(
            path, f"expected a dict with 'service' and any of {', '.join(KEYS[1:])}, got {described(entry)}"
        )
    check_keys(entry, path, KEYS)
    if "service" not in entry:
        raise input_error(path, "the dict has no 'service' key (a boto3 client name, such as 'sqs')")
    service = service_spec.service_name(entry["service"], f"{path}.service")
    region = _region(entry.get("region"), f"{path}.region", regions)
    kind = entry.get("type") or "interface"
    if kind not in TYPES:
        raise input_error(f"{path}.type", f"expected one of {', '.join(TYPES)}, got {described(kind)}")
    private_dns, dns_names = entry.get("private_dns"), entry.get("dns_names")
    if private_dns is not None and not isinstance(private_dns, bool):
        raise input_error(f"{path}.private_dns", f"expected true or false, got {described(private_dns)}")
    if kind == "gateway":
        if service not in GATEWAY_SERVICES:
            raise input_error(
                f"{path}.type",
                f"AWS has gateway endpoints for {' and '.join(GATEWAY_SERVICES)} only, not "
                f"{service!r}: give it an interface endpoint (type: interface)",
            )
        if private_dns is not None or dns_names is not None:
            raise input_error(
                path, "a gateway endpoint routes the service's own names: it has neither private_dns nor dns_names"
            )
        return VpcEndpoint(service, region, GATEWAY, (), path)
    if dns_names is None:
        if private_dns is False:
            raise input_error(
                path,
                "an interface endpoint without private DNS is reached by its own names only: list them in "
                "dns_names (vpce-...)",
            )
        return VpcEndpoint(service, region, PRIVATE_DNS, (), path)
    if private_dns:
        raise input_error(
            path,
            "private_dns: true makes the service's own names reach the endpoint, and dns_names are for "
            "an endpoint without it: give one of them",
        )
    names = _dns_names(dns_names, f"{path}.dns_names", service, region)
    return VpcEndpoint(service, region, ENDPOINT_SPECIFIC, names, path)


def _region(value, path, regions):
    if value is None:
        if len(regions) == 1:
            return regions[0]
        where = f"the filter's regions are {', '.join(regions)}" if regions else "the filter has no regions"
        raise input_error(path, f"give the endpoint's region ({where})")
    if not isinstance(value, str):
        raise input_error(path, f"expected a region name, got {described(value)}")
    problem = service_spec.region_problem(value)
    if problem:
        raise input_error(path, problem)
    return str(value)


def _dns_names(value, path, service, region):
    if not isinstance(value, (list, tuple)) or not value:
        raise input_error(path, f"expected a non-empty list of the endpoint's DNS names, got {described(value)}")
    suffix = name_suffix(service, region)
    names = []
    for index, name in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(name, str):
            raise input_error(where, f"expected a DNS name, got {described(name)}")
        # The console shows S3's with a leading "*.", for the names below it.
        name = str(name).lower().removeprefix("*.")
        labels = name.split(".")
        if not is_endpoint_label(labels[0]) or not all(naming.is_dns_label(label) for label in labels[1:]):
            raise input_error(
                where,
                f"{name!r} is not a VPC endpoint's own DNS name "
                f"(vpce-<endpoint id>-<suffix>{suffix or '.<service>.<region>.vpce.amazonaws.com'})",
            )
        if suffix and not name.endswith(suffix):
            raise input_error(
                where, f"{name!r} is not a name of a {service} endpoint in {region}: those end in {suffix}"
            )
        names.append(name)
    return tuple(sorted(set(names)))


def is_endpoint_label(label):
    """Whether a DNS label is a VPC endpoint's own: `vpce-<endpoint id>-<suffix>`, with a zone for a zonal name."""
    return bool(_ENDPOINT_LABEL.match(label))


def name_suffix(service, region):
    """'.sqs.us-east-1.vpce.amazonaws.com': how the names of the service's endpoints in `region` end, or None if unknown.

    The endpoint service's name is the part of the SDK's plain host before the region (`api.ecr`, `eks-auth`).
    """
    host = sdk_hosts.plain_host(service, region)
    labels = host.split(".") if host else []
    if region not in labels:
        return None
    prefix = ".".join(labels[: labels.index(region)])
    return f".{prefix}.{region}.vpce.{partitions.partition_of(region).dns_suffix}" if prefix else None


def hosts(endpoint, spec):
    """The hosts a client of `spec` given one of the endpoint's names as endpoint_url calls: the names with the
    operations' host prefixes, and for S3 what sits below them."""
    findings = set()
    for name in endpoint.dns_names:
        findings |= sdk_hosts.custom_endpoint_hosts(spec, name)
        if endpoint.service in _NAMES_BELOW:
            findings.add(sdk_hosts.HostFinding("*." + name, True))
    return findings


def endpoint_url_warning(endpoint):
    """What the user must do so that the SDK calls the endpoint's names."""
    first = endpoint.dns_names[0]
    plain = sdk_hosts.plain_host(endpoint.service, endpoint.region) or f"{endpoint.service}'s own hosts"
    return (
        f"{endpoint.service} in {endpoint.region}: opened the VPC endpoint's own names ({', '.join(endpoint.dns_names)}) "
        f"instead of {plain}; the SDK calls them only when told to: endpoint_url='https://{first}' "
        f"or the environment variable {botocore_data.endpoint_url_variable(endpoint.service)}"
    )


def covers(endpoint, host):
    """Whether the VPC endpoint carries traffic to `host`, one of the hosts of its service and region.

    Private DNS and gateway endpoints carry the region's names; a gateway endpoint in us-east-1 also carries
    S3's legacy global names, whose addresses are us-east-1's. (S3 Express directory buckets have gateway
    endpoints of their own, which an s3 endpoint is taken to stand for: their control host shares the s3
    entry, and directory buckets are rare.)
    """
    if endpoint.kind == ENDPOINT_SPECIFIC:
        return True
    return endpoint.region in host.split(".") or (endpoint.kind == GATEWAY and endpoint.region == "us-east-1")
