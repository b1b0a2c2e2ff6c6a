# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Random services, regions, accounts and options: every input ends either as resources that
`istioctl validate` accepts, rendered by the role's own templates in both modes, or as an
AnsibleFilterError. Never another exception.

Under tests/integration because it needs istioctl, which is built with the local clusters. It needs
no cluster. The resources are validated in batches, one istioctl call per batch; each input's
resources live in namespaces of their own, so an error names the input it came from.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import aws_endpoints
from ansible_collections.meshops.aws_egress.plugins.filter._egress_layout import egress_layout
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import (
    botocore_data,
    credentials,
    partitions,
)
from role_templates import render_all

pytestmark = pytest.mark.integration

EXAMPLES = 1500
BATCH = 150  # inputs per rendering process and istioctl call

SERVICES = sorted(botocore_data.service_names())
REGIONS = list(partitions.all_regions())
SOURCES = list(credentials.credential_source_names())
# Services whose hosts depend on more than the region, and regions of every partition: drawn often.
SPECIAL = [
    "s3",
    "dynamodb",
    "dynamodbstreams",
    "kinesis",
    "s3control",
    "sts",
    "iam",
    "bedrock-runtime",
    "eks-auth",
    "ecr",
    "sso",
]
# Good names that YAML readers take for something else (Go's: y, n, on, off are booleans).
YAML_LOOKALIKES = ["on", "off", "yes", "no", "y", "n", "true", "false", "null", "123", "0x1f", "1e3", "0o17"]
OTHER_PARTITIONS = [
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
    "us-gov-east-1",
    "us-iso-east-1",
    "us-isob-east-1",
    "eusc-de-east-1",
]


def misspelled(words):
    """A real word, slightly wrong: the typos people make."""
    return st.builds(
        lambda word, how: {
            0: word.upper(),
            1: word.replace("-", "_"),
            2: word[:-1],
            3: word + "x",
            4: f" {word}",
            5: word.replace("-", ""),
        }[how],
        st.sampled_from(words),
        st.integers(0, 5),
    )


# Good input: what a user means to write.
good_regions = st.lists(st.sampled_from(REGIONS + OTHER_PARTITIONS), min_size=1, max_size=3)
good_accounts = st.lists(st.from_regex(r"\A[0-9]{12}\Z"), max_size=2)
good_service = st.one_of(
    st.sampled_from(SPECIAL),
    st.sampled_from(SERVICES),
    st.fixed_dictionaries(
        {"name": st.sampled_from(SPECIAL + SERVICES)},
        optional={
            "regions": good_regions,
            "account_ids": good_accounts,
            "fips": st.booleans(),
            "dualstack": st.booleans(),
        },
    ),
    st.fixed_dictionaries(
        {"name": st.just("s3"), "buckets": st.lists(st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,20}[a-z0-9]\Z"), max_size=2)},
        optional={"regions": good_regions},
    ),
)
good_options = st.fixed_dictionaries(
    {"regions": good_regions},
    optional={
        "account_ids": good_accounts,
        "fips": st.booleans(),
        "dualstack": st.booleans(),
        "sts_legacy_global": st.booleans(),
        "credential_sources": st.lists(st.sampled_from(SOURCES), max_size=3, unique=True),
        "name_prefix": st.one_of(
            st.from_regex(r"\A[a-z]([-a-z0-9]{0,20}[a-z0-9])?\Z"), st.sampled_from(YAML_LOOKALIKES)
        ),
    },
)
good_layout = st.fixed_dictionaries(
    {},
    optional={
        "sidecars": st.lists(st.integers(0, 3), max_size=3, unique=True),
        "export_to": st.sampled_from(
            [["*"], ["."], ["~"], [".", "team-a"], ["team-a", "team-b"], ["*", "."], ["~", "."]]
        ),
    },
)
good_requests = st.tuples(st.lists(good_service, min_size=1, max_size=4), good_options, good_layout)

# Bad input: a good one with one thing wrong, the way users get it wrong.
junk = st.one_of(
    st.text(max_size=12),
    st.integers(),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
WRONG = {
    "service": st.one_of(misspelled(SERVICES), junk),
    "service key": st.sampled_from(["region", "account", "bucket", "Name", "endpoint"]),
    "region": st.one_of(
        misspelled(REGIONS), st.sampled_from(["us-east-7", "moon-1", "global", "aws-global", ""]), junk
    ),
    "account": st.one_of(
        st.from_regex(r"\A[0-9]{11}\Z"),
        st.from_regex(r"\A[0-9]{13}\Z"),
        st.from_regex(r"\A[0-9]{3}-[0-9]{8}\Z"),
        st.integers(0, 10**12),
        junk,
    ),
    "flag": st.one_of(st.sampled_from(["yes", "true", "1", 1, 0]), junk),
    "credential source": st.one_of(misspelled(SOURCES), junk),
    "name prefix": st.one_of(st.from_regex(r"\A[A-Z_.][a-z]{0,5}\Z"), st.text(min_size=64, max_size=70), junk),
    "option": st.sampled_from(["region", "account_id", "fips_endpoints", "services"]),
    "services": junk,
    "sidecar": st.one_of(st.sampled_from(["Orders", "a_b", "-x", "x" * 64]), junk),
    "export_to": st.one_of(st.sampled_from([["*", "*"], ["~", "."], ["A"], []]), junk),
}


def corrupt(request, what, value):
    services, options, layout = list(request[0]), dict(request[1]), dict(request[2])
    if what == "service":
        services[0] = value
    elif what == "service key":
        services[0] = {"name": services[0] if isinstance(services[0], str) else services[0]["name"], value: "x"}
    elif what == "region":
        options["regions"] = options["regions"][:1] + [value]
    elif what == "account":
        options["account_ids"] = [value]
    elif what == "flag":
        options[("fips", "dualstack", "sts_legacy_global")[len(services) % 3]] = value
    elif what == "credential source":
        options["credential_sources"] = [value]
    elif what == "name prefix":
        options["name_prefix"] = value
    elif what == "option":
        options[value] = ["us-east-1"]
    elif what == "services":
        services = value
    elif what == "sidecar":
        layout["sidecars"] = [value]
    else:
        layout["export_to"] = value
    return services, options, layout


bad_requests = st.sampled_from(sorted(WRONG)).flatmap(
    lambda what: st.builds(corrupt, good_requests, st.just(what), WRONG[what])
)


class Tally:
    """What became of the inputs, and the decided resources still to render and validate."""

    def __init__(self, tmp_path: Path, istioctl: str):
        self.tmp_path, self.istioctl = tmp_path, istioctl
        self.inputs = self.refused = self.rendered = self.resources = self.validated = 0
        self.pending: dict[int, tuple[dict, list[dict]]] = {}  # input number -> (input, its layouts in both modes)

    def validate(self) -> None:
        """Render the pending layouts (one process) and validate them (one istioctl call); a failure names the input."""
        if not self.pending:
            return
        numbers = list(self.pending)
        rendered = render_all(
            [
                ("resources.yaml.j2", {"layout": layout, "networking_version": "v1", "security_version": "v1"})
                for number in numbers
                for layout in self.pending[number][1]
            ]
        )
        texts = {}
        for number, (first, second) in zip(numbers, zip(rendered[::2], rendered[1::2])):
            for result in (first, second):
                assert "error" not in result, (
                    f"the role's templates failed on input {self.pending[number][0]!r}: {result['error']}"
                )
            texts[number] = first["text"] + "\n---\n" + second["text"]
            docs = [doc for doc in yaml.safe_load_all(texts[number]) if doc]
            assert all(doc["metadata"]["namespace"].startswith(f"fuzz-{number}-") for doc in docs)
            self.resources += len(docs)
        stream = self.tmp_path / f"batch-{self.inputs}.yaml"
        stream.write_text("\n---\n".join(texts.values()))
        result = subprocess.run(
            [self.istioctl, "validate", "-f", str(stream)], capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            failing = sorted({number for number in self.pending if f"/fuzz-{number}-" in result.stdout + result.stderr})
            shown = {number: self.pending[number][0] for number in failing[:3]}
            raise AssertionError(
                f"istioctl validate refused the resources of {len(failing)} input(s), for example "
                f"{json.dumps(shown, default=repr, indent=1)}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        self.validated += len(self.pending)
        self.pending.clear()


def layouts_of(number: int, endpoints: list, prefix: str, layout: dict) -> list[dict]:
    """The resources of both modes as the role decides them, in namespaces named after the input."""
    decided = []
    for mode in ("sidecar", "egress_gateway"):
        namespace = f"fuzz-{number}-{mode.replace('_', '')}"
        sidecars = [f"{namespace}-app{n}" if isinstance(n, int) else n for n in layout.get("sidecars", [])]
        decided.append(
            egress_layout(
                endpoints,
                name=prefix.removeprefix("aws-") or "x",
                namespace=namespace,
                name_prefix=prefix,
                mode=mode,
                gateway={
                    "selector": {"istio": "egressgateway"},
                    "namespace": f"{namespace}-gw",
                    "service": "istio-egressgateway",
                },
                sidecars=sidecars,
                export_to=layout.get("export_to", ["*"]),
            )
        )
    return decided


def test_every_input_is_valid_resources_or_a_filter_error(tmp_path, istioctl, capsys):
    assert Path(istioctl).exists(), "istioctl is not built: run `make cluster-build`"
    tally = Tally(tmp_path, istioctl)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(request=st.one_of(good_requests, bad_requests))
    def one_input(request):
        services, options, layout = request
        number = tally.inputs
        tally.inputs += 1
        prefix = options.get("name_prefix") if isinstance(options.get("name_prefix"), str) else "aws"
        try:
            decided = layouts_of(number, aws_endpoints(services, **options), prefix, layout)
        except AnsibleFilterError:
            tally.refused += 1
            return
        tally.rendered += 1
        # Kept as it was drawn, to be reported if the templates or istioctl refuse it.
        tally.pending[number] = (
            {"services": services, "options": options, "layout": layout},
            json.loads(json.dumps(decided)),
        )
        if len(tally.pending) >= BATCH:
            tally.validate()

    one_input()  # pylint: disable=no-value-for-parameter
    tally.validate()
    with capsys.disabled():
        print(
            f"\nfuzz: {tally.inputs} inputs, {tally.refused} refused with AnsibleFilterError, {tally.rendered} rendered "
            f"({tally.resources} resources in both modes) and accepted by istioctl validate"
        )
    # Both outcomes are exercised, so neither half of the claim holds vacuously.
    assert tally.inputs >= EXAMPLES and tally.refused >= EXAMPLES // 5 and tally.validated >= EXAMPLES // 5
