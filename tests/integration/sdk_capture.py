# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hosts real boto3 clients contact, recorded before anything is sent.

Clients come from tests/sdk_recording.py, as in the unit tests of the hosts
boto3 contacts: no request leaves the process. The simulation tests expect
exactly these hosts to leave the mesh.
"""

from __future__ import annotations

import functools

from botocore import xform_name

from sdk_recording import clean_aws_environment, make_client, minimal_input, operations_to_call

# Accounts and buckets the SDK is called with where the variables name none: any value would do.
SOME_ACCOUNT = "111122223333"
SOME_BUCKET = "amzn-egress-simulated"
# Called only by code answering an S3 Object Lambda access point, on a host per request; the
# collection leaves it out on purpose, and so do the unit tests of the hosts boto3 contacts.
SKIPPED = {("s3", "WriteGetObjectResponse")}


@functools.lru_cache(maxsize=None)
def contacted(
    service,
    region,
    account_id=None,
    bucket=SOME_BUCKET,
    s3_regional=False,
    sts_legacy=False,
    fips=False,
    dualstack=False,
    operation=None,
    arn_account=None,
    endpoint_url=None,
):
    """Hosts a client of `service` in `region` contacts: for one operation, or for every kind of operation.

    `account_id` is the credentials' account; `arn_account` the account of the ARNs in the input (the credentials' by default);
    `endpoint_url` what a workload sets for a VPC endpoint without private DNS.
    """
    with clean_aws_environment():
        client, recorder = make_client(
            service,
            region,
            account_id=account_id,
            fips=fips,
            dualstack=dualstack,
            s3_regional=s3_regional,
            sts_legacy=sts_legacy,
            endpoint_url=endpoint_url,
        )
        model = client.meta.service_model
        partition = client.meta.partition
        account = arn_account or account_id or SOME_ACCOUNT
        overrides = {
            "Bucket": bucket,
            "AccountId": account,
            "TableName": "t",
            "StreamArn": f"arn:{partition}:dynamodb:{region}:{account}:table/t/stream/x",
        }
        for name in [operation] if operation else operations_to_call(model, SKIPPED):
            op = model.operation_model(name)
            params = minimal_input(op.input_shape, overrides) if op.input_shape else {}
            try:
                getattr(client, xform_name(name))(**params)
            except Exception:  # pylint: disable=broad-exception-caught
                pass  # the canned answer may not parse, or the SDK refuses the input: what was sent is recorded
    return frozenset(recorder.hosts)


def declared_hosts(variables):
    """{host: why} for every host boto3 contacts for the role's variables: services, regions, credential sources."""
    regions = variables.get("istio_aws_egress_regions") or []
    accounts = list(variables.get("istio_aws_egress_account_ids") or [])
    common = {
        "fips": bool(variables.get("istio_aws_egress_fips")),
        "dualstack": bool(variables.get("istio_aws_egress_dualstack")),
        "sts_legacy": bool(variables.get("istio_aws_egress_sts_legacy_global")),
    }
    found = {}
    for entry in variables.get("istio_aws_egress_services") or []:
        entry = {"name": entry} if isinstance(entry, str) else entry
        service = entry["name"]
        for region in entry.get("regions") or regions:
            for kwargs in _variants(service, entry.get("buckets"), entry.get("account_ids") or accounts, region):
                for host in contacted(
                    service, region, **common, **kwargs, endpoint_url=_endpoint_url(variables, service, region)
                ):
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
                for host in contacted(
                    service,
                    region,
                    operation=operation,
                    fips=common["fips"],
                    dualstack=common["dualstack"],
                    endpoint_url=_endpoint_url(variables, service, region),
                ):
                    found.setdefault(host, f"{source} in {region}")
    return found


def _endpoint_url(variables, service, region):
    """What a workload gives the SDK for a VPC endpoint without private DNS: the endpoint's own first name."""
    for endpoint in variables.get("istio_aws_egress_vpc_endpoints") or []:
        if (
            endpoint["service"] == service
            and endpoint.get("region", region) == region
            and endpoint.get("private_dns") is False
        ):
            return f"https://{endpoint['dns_names'][0]}"
    return None


def _variants(service, buckets, accounts, region):
    """The settings a service's hosts depend on: each bucket, legacy and regional us-east-1 S3, each account."""
    if service == "s3":
        for bucket in buckets or [SOME_BUCKET]:
            for s3_regional in (False, True) if region == "us-east-1" else (False,):
                yield {"bucket": bucket, "s3_regional": s3_regional}
    elif service in ("dynamodb", "dynamodbstreams"):
        # Credentials without an account ID (instance credentials) and with one; ARNs of a declared account.
        for account in accounts or [SOME_ACCOUNT]:
            yield {"arn_account": account}
            yield {"account_id": account}
    else:
        yield {}
