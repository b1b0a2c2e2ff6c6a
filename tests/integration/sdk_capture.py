# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hosts real boto3 clients contact, recorded before anything is sent.

The technique of tests/unit/plugins/plugin_utils/aws_endpoints/test_real_sdk_hosts.py:
each client gets fake static credentials and a before-send handler that notes
the request URL and answers 200 itself, so no request leaves the process. The
simulation tests expect exactly these hosts to leave the mesh.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import os
from urllib.parse import urlsplit

import boto3
from botocore import xform_name
from botocore.awsrequest import AWSResponse
from botocore.config import Config

# Accounts and buckets the SDK is called with where the variables name none: any value would do.
SOME_ACCOUNT = "111122223333"
SOME_BUCKET = "amzn-egress-simulated"
# Called only by code answering an S3 Object Lambda access point, on a host per request; the
# collection leaves it out on purpose, and so do the unit tests of the hosts boto3 contacts.
SKIPPED = {("s3", "WriteGetObjectResponse")}


class _Body:
    def __init__(self, body):
        self._body = body

    def stream(self, *args, **kwargs):
        yield self._body


class _Recorder:
    def __init__(self):
        self.urls = []

    def note(self, request, **kwargs):
        self.urls.append(request.url)

    def __call__(self, request, **kwargs):
        self.urls.append(request.url)
        return AWSResponse(request.url, 200, {}, _Body(b"{}"))


@contextlib.contextmanager
def _clean_environment():
    """Clients see only what they are given: no profile, region or endpoint setting of this machine."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    try:
        yield
    finally:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(saved)


@functools.lru_cache(maxsize=None)
def _session(sts_legacy):
    session = boto3.session.Session()
    if sts_legacy:
        session._session.set_config_variable("sts_regional_endpoints", "legacy")  # pylint: disable=protected-access
    return session


def _minimal(shape, overrides, name=None, depth=0):
    """The smallest input botocore's parameter validation accepts for a shape."""
    if name in overrides:
        return overrides[name]
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False) or depth > 8:
            return {}
        if shape.metadata.get("union"):
            first = next(iter(shape.members))
            return {first: _minimal(shape.members[first], overrides, first, depth + 1)}
        return {m: _minimal(shape.members[m], overrides, m, depth + 1) for m in shape.required_members}
    if kind == "string":
        return shape.enum[0] if shape.enum else "a" * max(1, int(shape.metadata.get("min", 1)))
    if kind in ("integer", "long"):
        return max(1, int(shape.metadata.get("min", 1)))
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return datetime.datetime(2024, 1, 1)
    if kind == "blob":
        return b"a" * max(1, int(shape.metadata.get("min", 1)))
    if kind == "list":
        return [_minimal(shape.member, overrides, None, depth + 1) for _index in range(int(shape.metadata.get("min", 0)))]
    return {}


def _operations(model):
    """The operation with the fewest required members, plus every operation whose host depends on its input."""
    chosen, plain = set(), []
    for name in model.operation_names:
        op = model.operation_model(name)
        if op.has_event_stream_input or (model.service_name, name) in SKIPPED:
            continue
        if op.endpoint or op.static_context_parameters or op.context_parameters or op.operation_context_parameters \
                or op.endpoint_discovery:
            chosen.add(name)
        else:
            plain.append((len(op.input_shape.required_members) if op.input_shape else 0, name))
    if plain:
        chosen.add(min(plain)[1])
    return sorted(chosen)


@functools.lru_cache(maxsize=None)
def contacted(service, region, account_id=None, bucket=SOME_BUCKET, s3_regional=False, sts_legacy=False, fips=False,
              dualstack=False, operation=None, arn_account=None):
    """Hosts a client of `service` in `region` contacts: for one operation, or for every kind of operation.

    `account_id` is the credentials' account; `arn_account` the account of the ARNs in the input (the credentials' by default).
    """
    settings = {"retries": {"total_max_attempts": 1}, "use_fips_endpoint": fips, "use_dualstack_endpoint": dualstack}
    if s3_regional:
        settings["s3"] = {"us_east_1_regional_endpoint": "regional"}
    with _clean_environment():
        client = _session(sts_legacy).client(service, region_name=region, aws_access_key_id="AKIDEXAMPLE",
                                             aws_secret_access_key="not-a-secret", aws_account_id=account_id,
                                             config=Config(**settings))
        recorder = _Recorder()
        client.meta.events.register("before-sign", recorder.note)
        client.meta.events.register("before-send", recorder)
        model = client.meta.service_model
        partition = client.meta.partition
        account = arn_account or account_id or SOME_ACCOUNT
        overrides = {"Bucket": bucket, "AccountId": account, "TableName": "t",
                     "StreamArn": f"arn:{partition}:dynamodb:{region}:{account}:table/t/stream/x"}
        for name in ([operation] if operation else _operations(model)):
            op = model.operation_model(name)
            params = _minimal(op.input_shape, overrides) if op.input_shape else {}
            try:
                getattr(client, xform_name(name))(**params)
            except Exception:  # pylint: disable=broad-exception-caught
                pass  # the canned answer may not parse, or the SDK refuses the input: what was sent is recorded
    return frozenset(urlsplit(url).hostname for url in recorder.urls)


def declared_hosts(variables):
    """{host: why} for every host boto3 contacts for the role's variables: services, regions, credential sources."""
    regions = variables.get("istio_aws_egress_regions") or []
    accounts = list(variables.get("istio_aws_egress_account_ids") or [])
    common = {"fips": bool(variables.get("istio_aws_egress_fips")), "dualstack": bool(variables.get("istio_aws_egress_dualstack")),
              "sts_legacy": bool(variables.get("istio_aws_egress_sts_legacy_global"))}
    found = {}
    for entry in variables.get("istio_aws_egress_services") or []:
        entry = {"name": entry} if isinstance(entry, str) else entry
        service = entry["name"]
        for region in entry.get("regions") or regions:
            for kwargs in _variants(service, entry.get("buckets"), entry.get("account_ids") or accounts, region):
                for host in contacted(service, region, **common, **kwargs):
                    found.setdefault(host, f"{service} in {region}")
    for source in variables.get("istio_aws_egress_credential_sources") or []:
        for region in regions:
            if source == "irsa":
                calls = [("sts", "AssumeRoleWithWebIdentity")]
            elif source.startswith("eks_pod_identity"):
                calls = [("eks-auth", "AssumeRoleForPodIdentity")]
            else:
                calls = []
            for service, operation in calls:
                for host in contacted(service, region, operation=operation, fips=common["fips"], dualstack=common["dualstack"]):
                    found.setdefault(host, f"{source} in {region}")
    return found


def _variants(service, buckets, accounts, region):
    """The settings a service's hosts depend on: each bucket, legacy and regional us-east-1 S3, each account."""
    if service == "s3":
        for bucket in buckets or [SOME_BUCKET]:
            for s3_regional in ((False, True) if region == "us-east-1" else (False,)):
                yield {"bucket": bucket, "s3_regional": s3_regional}
    elif service in ("dynamodb", "dynamodbstreams"):
        # Credentials without an account ID (instance credentials) and with one; ARNs of a declared account.
        for account in accounts or [SOME_ACCOUNT]:
            yield {"arn_account": account}
            yield {"account_id": account}
    else:
        yield {}
