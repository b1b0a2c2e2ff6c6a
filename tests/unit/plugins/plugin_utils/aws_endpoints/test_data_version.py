# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which endpoint data an expansion runs with: botocore's version and the collection's."""

from __future__ import annotations

import json
from pathlib import Path

import botocore
import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import data_version

ROOT = Path(__file__).resolve().parents[5]


def test_the_versions_are_botocore_s_and_the_collection_s():
    assert data_version.current() == {
        "botocore": botocore.__version__,
        "collection": yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"],
    }
    assert (
        data_version.described({"botocore": "1.44.8", "collection": "0.1.0"})
        == "botocore 1.44.8, meshops.aws_egress 0.1.0"
    )


def test_an_installed_collection_reads_its_version_from_its_manifest(tmp_path, monkeypatch):
    (tmp_path / "MANIFEST.json").write_text(json.dumps({"collection_info": {"version": "2.3.4"}}))
    monkeypatch.setattr(data_version, "_ROOT", tmp_path)
    data_version.collection_version.cache_clear()
    try:
        assert data_version.collection_version() == "2.3.4"
        (tmp_path / "MANIFEST.json").unlink()
        data_version.collection_version.cache_clear()
        assert data_version.collection_version() == "unknown"
    finally:
        data_version.collection_version.cache_clear()


def test_newer_compares_each_component_as_a_version():
    assert data_version.newer(
        {"botocore": "1.44.10", "collection": "0.1.0"}, {"botocore": "1.44.9", "collection": "0.1.0"}
    ) == ["botocore"]
    assert data_version.newer(
        {"botocore": "1.44.8", "collection": "1.0.0"}, {"botocore": "1.44.8", "collection": "0.10.0"}
    ) == ["collection"]
    assert (
        data_version.newer({"botocore": "dev", "collection": "0.1.0"}, {"botocore": "1.44.8", "collection": "0.1.0"})
        == []
    )
    assert data_version.newest(["1.43.14", "1.44.10", "1.44.9"]) == "1.44.10"
