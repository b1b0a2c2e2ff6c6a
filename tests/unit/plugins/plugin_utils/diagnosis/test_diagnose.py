# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A diagnosis without the mesh's objects: findings aggregated and bounded, mapped to AWS, causes `unknown` with why, fixes offered.

What the simulation decides (causes, proofs) is the integration tests' (test_diagnose_runbook.py).
"""

from __future__ import annotations

import pytest

import access_logs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import causes, findings, formats
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.diagnose import NOT_PROVEN_YET, diagnose
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.logs import LogError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

T = formats.ENVOY_TEXT_FORMAT
OPTIONS = {
    "name": "prod",
    "namespace": "istio-system",
    "mode": "sidecar",
    "gateway": None,
    "sidecars": ["orders"],
    "sidecar_hosts": ["*/*.svc.cluster.local"],
    "export_to": ["*"],
    "waypoint": None,
    "caller_namespaces": [],
    "wildcard_resolution": "auto",
    "services": ["sqs"],
    "regions": ["us-east-1"],
    "account_ids": [],
    "credential_sources": [],
    "fips": False,
    "dualstack": False,
    "sts_legacy_global": False,
    "vpc_endpoints": [],
}


def black_hole(host, second, client="10.0.0.10:5000"):
    return access_logs.envoy_text(
        T, access_logs.black_hole(host, "52.94.0.1:443", client, f"2026-12-01T10:00:{second:02d}.000Z")
    )


def write(directory, name, lines):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_a_finding_per_destination_aggregated_over_lines_and_files(tmp_path):
    write(tmp_path, "orders/api-1.log", [black_hole("sqs.us-east-2.amazonaws.com", s) for s in (5, 1, 9)])
    write(tmp_path, "billing/api-2.log", [black_hole("SQS.us-east-2.amazonaws.com", 3), black_hole("example.com", 4)])
    report = named_options(diagnose(tmp_path, OPTIONS, tmp_path / "unused"), "istio_aws_egress_")
    sqs, other = report["findings"]
    assert (sqs["destination"], sqs["port"], sqs["protocol"], sqs["proxy"], sqs["count"]) == (
        "sqs.us-east-2.amazonaws.com",
        443,
        "tls",
        "sidecar",
        4,
    )
    assert (sqs["first_seen"], sqs["last_seen"]) == ("2026-12-01T10:00:01.000Z", "2026-12-01T10:00:09.000Z")
    assert [(s["source"], s["namespace"], s["lines"]) for s in sqs["sources"]] == [
        ("orders/api-1", "orders", 3),
        ("billing/api-2", "billing", 1),
    ]
    assert sqs["aws"]["service"] == "sqs" and sqs["aws"]["region"] == "us-east-2"
    assert sqs["cause"]["code"] == causes.UNKNOWN and "the mesh's objects were not given" in sqs["cause"]["text"]
    assert sqs["cause"]["text"].endswith("this egress set does not declare sqs.us-east-2.amazonaws.com")
    assert sqs["fix"]["variables"] == {"istio_aws_egress_services": ["sqs", {"name": "sqs", "regions": ["us-east-2"]}]}
    assert sqs["fix"]["yaml"] == "istio_aws_egress_services:\n- sqs\n- name: sqs\n  regions: [us-east-2]\n"
    assert (sqs["proven"], sqs["proof"]) == (None, NOT_PROVEN_YET)
    assert report["fixes"] == [
        {
            "id": "fix-1",
            "egress_set": {
                "services": ["sqs", {"name": "sqs", "regions": ["us-east-2"]}],
                "credential_sources": [],
                "sts_legacy_global": False,
                "vpc_endpoints": [],
                "caller_namespaces": [],
                "export_to": ["*"],
            },
        }
    ]
    assert other["aws"] is None and other["fix"] is None and other["proven"] is None
    assert report["summary"] == "2 blocked destinations in 5 of 5 lines: 1 with a fix (0 proven), 1 without"


def test_findings_and_their_callers_are_bounded_and_the_rest_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(findings, "MAX_CALLERS", 2)
    monkeypatch.setattr(findings, "MAX_FINDINGS", 3)
    write(
        tmp_path,
        "app.log",
        [black_hole(f"h{i}.example.com", i % 60) for i in range(5)]
        + [black_hole("h0.example.com", 1, client=f"10.0.0.{i}:5000") for i in range(3)],
    )
    for index in range(3):
        write(tmp_path, f"ns{index}/app.log", [black_hole("h0.example.com", 2)])
    report = diagnose(tmp_path, OPTIONS, tmp_path / "unused")
    assert [f["destination"] for f in report["findings"]] == ["h0.example.com", "h1.example.com", "h2.example.com"]
    first = report["findings"][0]
    assert first["count"] == 7 and len(first["sources"]) == 2 and first["more_sources"] == 2
    assert report["notes"] == ["2 blocked lines of destinations beyond the first 3 are counted, not shown"]


def test_logs_with_nothing_blocked_say_so(tmp_path):
    write(
        tmp_path,
        "app.log",
        [
            access_logs.envoy_text(
                T,
                access_logs.allowed(
                    "sqs.us-east-1.amazonaws.com", "52.94.0.1:443", "10.0.0.1:1", "2026-12-01T10:00:00.000Z"
                ),
            )
        ],
    )
    report = diagnose(tmp_path, OPTIONS, tmp_path / "unused")
    assert report["findings"] == [] and report["summary"] == "nothing blocked: 1 line read, 1 access line, none blocked"


def test_logs_without_a_single_proxy_line_are_refused(tmp_path):
    write(tmp_path, "notes.txt", ["a shopping list", "milk"])
    (tmp_path / "core").write_bytes(b"\x7fELF\x00\x01" * 100)
    with pytest.raises(LogError) as refused:
        diagnose(tmp_path, OPTIONS, tmp_path / "unused")
    assert str(refused.value) == (
        f"no proxy log line in {tmp_path}: 2 lines in 2 files, none an access line of Istio's TEXT or JSON "
        "format or of ztunnel, nor a proxy's own line (core: not text (it holds NUL bytes))"
    )
