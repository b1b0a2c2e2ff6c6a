# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one door to botocore: its data files and its endpoint ruleset evaluator.

botocore is imported on first use, never at import time, so the collection
imports (and ansible-doc and ansible-test sanity work) without it.  Everything
loaded is cached for the life of the process: one Ansible run expands many
services, and the data never changes under it.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
import zlib
from collections import namedtuple

from ansible.errors import AnsibleFilterError
from ansible.module_utils.compat.version import LooseVersion

# The oldest botocore whose ruleset evaluator takes the parameters S3's ruleset leaves out (EndpointProvider's
# excluded_params); requirements.txt admits none older, and the tests plan with this one too.
MINIMUM_BOTOCORE = "1.43.14"
MISSING_BOTOCORE = "the aws_endpoints filter needs botocore: pip install botocore"

# Keys of a service model's operations that can change the host.
_OPERATION_ENDPOINT_TRAITS = re.compile(
    rb'"(?:hostPrefix|staticContextParams|operationContextParams|endpointdiscovery)"'
)

# A service model's endpoint prefix, among its metadata, which come before its operations.
_ENDPOINT_PREFIX = re.compile(rb'"endpointPrefix"\s*:\s*"([^"]+)"')

# botocore leaves these S3 parameters out of endpoint resolution (they never
# change the host); see botocore.endpoint_provider.S3_UNREFERENCED_PARAMS.
_S3_UNREFERENCED_PARAMS = frozenset(("Key", "Prefix", "CopySource"))

_JSON_EXTENSIONS = (".json", ".json.gz")  # botocore's order of preference

OperationTraits = namedtuple(
    "OperationTraits",
    [
        "name",  # operation name, e.g. "GetObject"
        "static_params",  # tuple of (ruleset parameter, value) pairs fixed by the model
        "input_params",  # tuple of (ruleset parameter, required) bound to input members
        "host_prefix",  # "data-" or "{graphIdentifier}." or None
        "host_labels",  # tuple of (input member, required) used in host_prefix
        "discovers_endpoint",  # True if the SDK must ask the service for its host first
    ],
)

# The traits of an operation without any: what most operations of most services look like.
PLAIN_OPERATION = OperationTraits("*", (), (), None, (), False)


class _PlainDictFileLoader:
    """botocore's file loader interface (exists, load_file), reading JSON into plain dicts.

    botocore's JSONFileLoader builds OrderedDicts, which takes twice as long.
    """

    def exists(self, file_path):
        return _data_file(file_path) is not None

    def load_file(self, file_path):
        full_path = _data_file(file_path)
        if full_path is None:
            return None
        with open(full_path, "rb") as handle:
            payload = handle.read()
        if full_path.endswith(".gz"):
            payload = gzip.decompress(payload)  # one call: faster than reading a GzipFile
        return json.loads(payload.decode("utf-8"))


def _data_file(file_path):
    """The JSON file botocore would read for a data path without extension, or None."""
    return next((file_path + ext for ext in _JSON_EXTENSIONS if os.path.isfile(file_path + ext)), None)


def _operations_text(file_path):
    """The start of a service model, up to where its shapes begin: the operations.

    Service models are large (about 100 MB for all services, mostly shapes and
    documentation); reading only this part tells whether the model is needed.
    """
    full_path = _data_file(file_path)
    inflate = zlib.decompressobj(wbits=31) if full_path.endswith(".gz") else None
    text, operations_at = b"", -1
    with open(full_path, "rb") as handle:
        for chunk in iter(functools.partial(handle.read, 1 << 16), b""):
            new_from = max(0, len(text) - 16)  # a key may straddle two chunks
            text += inflate.decompress(chunk) if inflate else chunk
            if operations_at < 0:
                operations_at = text.find(b'"operations":', new_from)
            if operations_at >= 0 and text.find(b'"shapes":', max(new_from, operations_at)) >= 0:
                break  # botocore's models list operations before shapes
    return text


@functools.lru_cache(maxsize=None)
def _botocore():
    """Import what we use from botocore, or explain how to get it."""
    try:
        from botocore.endpoint_provider import EndpointProvider
        from botocore.exceptions import EndpointProviderError
        from botocore.loaders import Loader
    except ImportError:
        raise AnsibleFilterError(MISSING_BOTOCORE) from None
    version = botocore_version()
    if LooseVersion(version) < LooseVersion(MINIMUM_BOTOCORE):
        raise AnsibleFilterError(
            f"botocore {version} is older than {MINIMUM_BOTOCORE}, the oldest the aws_endpoints filter "
            f"works with: pip install 'botocore>={MINIMUM_BOTOCORE}' (requirements.txt names the "
            f"range this collection is tested with)"
        )
    return EndpointProvider, EndpointProviderError, Loader


def botocore_version():
    """The version of the botocore this process imports: whose endpoint data every host comes from."""
    try:
        import botocore
    except ImportError:
        raise AnsibleFilterError(MISSING_BOTOCORE) from None
    return botocore.__version__


@functools.lru_cache(maxsize=None)
def _loader():
    loader_class = _botocore()[2]
    # Same search path as botocore.session: AWS_DATA_PATH, ~/.aws/models, botocore/data.
    extra = [
        os.path.expanduser(os.path.expandvars(p)) for p in os.environ.get("AWS_DATA_PATH", "").split(os.pathsep) if p
    ]
    return loader_class(extra_search_paths=extra, file_loader=_PlainDictFileLoader())


def endpoint_provider_error():
    """The exception class botocore raises when a ruleset ends in an error rule."""
    return _botocore()[1]


@functools.lru_cache(maxsize=None)
def partitions_data():
    """botocore's partitions.json: partitions, their DNS suffixes and regions."""
    return _loader().load_data("partitions")


@functools.lru_cache(maxsize=None)
def endpoints_data():
    """botocore's endpoints.json: the older, per-region endpoint table."""
    return _loader().load_data("endpoints")


@functools.lru_cache(maxsize=None)
def service_names():
    """Client names (as for boto3.client()) that have a model and an endpoint ruleset."""
    loader = _loader()
    return frozenset(loader.list_available_services("service-2")) & frozenset(
        loader.list_available_services("endpoint-rule-set-1")
    )


@functools.lru_cache(maxsize=None)
def is_service(name):
    """Whether `name` is in service_names(), looking at its own directory only.

    Listing every service reads about 900 directories; a run asks about a few.
    """
    if not name or name in (os.curdir, os.pardir) or any(sep and sep in name for sep in (os.sep, os.altsep)):
        return name in service_names()  # not a directory name: never one, but let the listing say so
    return all(_has_data(name, type_name) for type_name in ("service-2", "endpoint-rule-set-1"))


def _has_data(service, type_name):
    """Whether some API version of `service` has `type_name`, as botocore's list_available_services finds it."""
    loader = _loader()
    for search_path in loader.search_paths:
        # Listed, not joined: on a case-insensitive file system "S3" would find s3's directory.
        service_path = os.path.join(search_path, service)
        if os.path.isdir(search_path) and service in _names_in(search_path) and os.path.isdir(service_path):
            if any(
                loader.file_loader.exists(os.path.join(service_path, version, type_name))
                for version in os.listdir(service_path)
            ):
                return True
    return False


@functools.lru_cache(maxsize=None)
def _names_in(path):
    return frozenset(os.listdir(path))


@functools.lru_cache(maxsize=None)
def clients_by_endpoint_prefix():
    """{endpoint prefix: sorted client names}: what a service's hosts start with, and its boto3 client names
    ("monitoring": ["cloudwatch"], "elasticloadbalancing": ["elb", "elbv2"]), from the models' metadata."""
    loader, clients = _loader(), {}
    for service in sorted(service_names()):
        version = loader.determine_latest_version(service, "service-2")
        for search_path in loader.search_paths:
            file_path = _data_file(os.path.join(search_path, service, version, "service-2"))
            if file_path:
                match = _ENDPOINT_PREFIX.search(_metadata_text(file_path))
                if match:
                    clients.setdefault(match.group(1).decode(), []).append(service)
                break
    return clients


def _metadata_text(full_path):
    """The start of a service model, up to where its operations begin: its metadata, a few kB of about 100 MB."""
    inflate = zlib.decompressobj(wbits=31) if full_path.endswith(".gz") else None
    text = b""
    with open(full_path, "rb") as handle:
        for chunk in iter(functools.partial(handle.read, 1 << 12), b""):
            text += inflate.decompress(chunk) if inflate else chunk
            if b'"operations":' in text:
                break
    return text


def endpoint_url_variable(service):
    """The environment variable that gives a client of `service` its endpoint_url (AWS_ENDPOINT_URL_SQS), as botocore names it."""
    try:
        from botocore import utils
    except ImportError:
        raise AnsibleFilterError(MISSING_BOTOCORE) from None
    client_name = utils.SERVICE_NAME_ALIASES.get(service, service)
    service_id = utils.CLIENT_NAME_TO_HYPHENIZED_SERVICE_ID_OVERRIDES.get(client_name, client_name)
    return "AWS_ENDPOINT_URL_" + service_id.replace("-", "_").upper()


@functools.lru_cache(maxsize=None)
def endpoint_provider(service):
    """botocore's evaluator for the service's endpoint ruleset: what the SDK runs per request."""
    provider_class = _botocore()[0]
    ruleset = _loader().load_service_model(service, "endpoint-rule-set-1")
    excluded = _S3_UNREFERENCED_PARAMS if service == "s3" else None
    return provider_class(ruleset_data=ruleset, partition_data=partitions_data(), excluded_params=excluded)


@functools.lru_cache(maxsize=None)
def ruleset_parameters(service):
    """The ruleset's parameter definitions: name -> (Python type, builtIn or None)."""
    params = endpoint_provider(service).ruleset.parameters
    return {name: (param.parameter_type, param.builtin) for name, param in params.items()}


@functools.lru_cache(maxsize=None)
def operation_traits(service):
    """The endpoint traits of the service's operations, distinct and sorted.

    Operations without traits collapse into PLAIN_OPERATION; only the first
    operation (by name) of each distinct set of traits is kept, as a label.
    """
    if not _has_endpoint_traits(service):
        return (PLAIN_OPERATION,)
    model = _loader().load_service_model(service, "service-2")
    shapes = model.get("shapes", {})
    distinct = {}
    for name in sorted(model.get("operations", {})):
        traits = _traits_of(name, model["operations"][name], shapes)
        distinct.setdefault(traits[1:], traits)
    return tuple(sorted(distinct.values(), key=lambda t: (t[1:] != PLAIN_OPERATION[1:], repr(t[1:]))))


def _has_endpoint_traits(service):
    """Whether any operation of the service may resolve its host differently, without parsing the model.

    Input members bound to ruleset parameters ("contextParam", among the shapes)
    only matter when the ruleset has parameters that are not built in.
    """
    if any(builtin is None for dummy, builtin in ruleset_parameters(service).values()):
        return True
    loader = _loader()
    version = loader.determine_latest_version(service, "service-2")
    for search_path in loader.search_paths:
        file_path = os.path.join(search_path, service, version, "service-2")
        if _data_file(file_path):
            return bool(_OPERATION_ENDPOINT_TRAITS.search(_operations_text(file_path)))
    return True  # not where botocore looks first: let botocore's loader find it


def _traits_of(name, operation, shapes):
    static = tuple(sorted((param, spec["value"]) for param, spec in operation.get("staticContextParams", {}).items()))
    input_shape = shapes.get(operation.get("input", {}).get("shape"), {})
    required = set(input_shape.get("required", ()))
    members = input_shape.get("members", {})
    bound = {}
    for member_name, member in members.items():
        if "contextParam" in member:
            bound[member["contextParam"]["name"]] = member_name in required
    for param in operation.get("operationContextParams", {}):
        # JMESPath over the input (lists of table names and the like): never required by itself.
        bound.setdefault(param, False)
    host_prefix = operation.get("endpoint", {}).get("hostPrefix")
    host_labels = ()
    if host_prefix:
        host_labels = tuple(sorted((m, m in required) for m, spec in members.items() if spec.get("hostLabel")))
    discovers = bool(operation.get("endpointdiscovery", {}).get("required"))
    if not (static or bound or host_prefix or discovers):
        return PLAIN_OPERATION
    return OperationTraits(name, static, tuple(sorted(bound.items())), host_prefix, host_labels, discovers)
