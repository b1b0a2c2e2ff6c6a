# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real boto3 clients whose requests never leave the process: the hosts they would contact.

Each client gets fake static credentials and a before-send handler that notes
the request URL and answers 200 itself. The unit tests check the filter
admits every recorded host; the simulation tests expect exactly these hosts
to leave the mesh.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import os
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config


@contextlib.contextmanager
def clean_aws_environment():
    """Clients see only what they are given: no profile, region or endpoint setting of this machine."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(
        AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true"
    )
    try:
        yield
    finally:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(saved)


class _CannedBody:
    """Stands in for urllib3's response object."""

    def __init__(self, body):
        self._body = body

    def stream(self, *args, **kwargs):
        yield self._body


class Recorder:
    """A before-send handler: notes the URL, answers 200 with a canned body (by X-Amz-Target operation)."""

    def __init__(self, answers=None):
        self.urls = []
        self._answers = answers or {}

    def note(self, request, **kwargs):
        self.urls.append(request.url)

    def __call__(self, request, **kwargs):
        self.urls.append(request.url)
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        body = next((answer for operation, answer in self._answers.items() if target.endswith(operation)), b"{}")
        return AWSResponse(request.url, 200, {}, _CannedBody(body))

    @property
    def hosts(self):
        return {urlsplit(url).hostname for url in self.urls}


@functools.lru_cache(maxsize=None)
def _session(sts_legacy):
    session = boto3.session.Session()
    if sts_legacy:
        core = session._session  # pylint: disable=protected-access
        core.set_config_variable("sts_regional_endpoints", "legacy")
        core.register_component("data_loader", botocore_session().get_component("data_loader"))  # models load once
    return session


def botocore_session():
    """The botocore session every default client comes from: its models are loaded once."""
    return _session(False)._session  # pylint: disable=protected-access


def make_client(
    service,
    region,
    account_id=None,
    fips=False,
    dualstack=False,
    s3_regional=False,
    sts_legacy=False,
    answers=None,
    endpoint_url=None,
):
    """A client of `service` in `region` and the Recorder of what it sends; call it inside clean_aws_environment()."""
    settings = {"retries": {"total_max_attempts": 1}, "use_fips_endpoint": fips, "use_dualstack_endpoint": dualstack}
    if s3_regional:
        settings["s3"] = {"us_east_1_regional_endpoint": "regional"}
    client = _session(sts_legacy).client(
        service,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
        aws_account_id=account_id,
        endpoint_url=endpoint_url,
        config=Config(**settings),
    )
    recorder = Recorder(answers)
    # before-sign sees the final URL too, and comes first: SigV4a signing
    # (cloudfront-keyvaluestore) needs the optional awscrt package and fails
    # without it before anything is sent.
    client.meta.events.register("before-sign", recorder.note)
    client.meta.events.register("before-send", recorder)
    return client, recorder


def minimal_input(shape, overrides, name=None, depth=0):
    """The smallest input botocore's parameter validation accepts for a shape; `overrides` by member name."""
    if name in overrides:
        return overrides[name]
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False) or depth > 8:
            return {}
        if shape.metadata.get("union"):
            first = next(iter(shape.members))
            return {first: minimal_input(shape.members[first], overrides, first, depth + 1)}
        return {m: minimal_input(shape.members[m], overrides, m, depth + 1) for m in shape.required_members}
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
        return [
            minimal_input(shape.member, overrides, None, depth + 1)
            for _index in range(int(shape.metadata.get("min", 0)))
        ]
    return {}


def operations_to_call(model, skipped=frozenset()):
    """The operation with the fewest required members, plus every operation whose host depends on its input.

    Traits are read through botocore's own model API, not through the code under test.
    `skipped` holds (service, operation) pairs never called.
    """
    chosen, plain = set(), []
    for name in model.operation_names:
        op = model.operation_model(name)
        if op.has_event_stream_input or (model.service_name, name) in skipped:
            continue
        if (
            op.endpoint
            or op.static_context_parameters
            or op.context_parameters
            or op.operation_context_parameters
            or op.endpoint_discovery
        ):
            chosen.add(name)
        else:
            plain.append((len(op.input_shape.required_members) if op.input_shape else 0, name))
    if plain:
        chosen.add(min(plain)[1])
    return sorted(chosen)
