# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Other kubernetes.core releases than the one the checkout's .venv has, as Ansible would find them installed.

requirements/kubernetes-core.yml names each with the ansible package that bundles it. Only that package's
kubernetes.core files (about 1 MB) are taken from its wheel, once, into the shared cache
(${XDG_CACHE_HOME:-~/.cache}/meshops-aws-egress/collections/kubernetes.core-<version>/, reused by every checkout and run);
the wheel is not installed and not kept. With that directory first in ANSIBLE_COLLECTIONS_PATH, Ansible loads this
kubernetes.core instead of the one the ansible package bundles.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import yaml

from botocore_versions import _locked

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "meshops-aws-egress" / "collections"
RELEASES = yaml.safe_load((ROOT / "requirements" / "kubernetes-core.yml").read_text(encoding="utf-8"))
MEMBERS = "ansible_collections/kubernetes/core/"


def manifest_version(collection: Path) -> str:
    return json.loads((collection / "MANIFEST.json").read_text(encoding="utf-8"))["collection_info"]["version"]


def bundled() -> Path:
    """The kubernetes.core the checkout's ansible package bundles: the one Ansible finds last."""
    spec = importlib.util.find_spec("ansible_collections.kubernetes.core")
    assert spec and spec.submodule_search_locations, "the ansible package bundles no kubernetes.core"
    return Path(list(spec.submodule_search_locations)[0])


def collections_dir(release: dict) -> Path:
    """A collections directory holding only kubernetes.core `release["version"]`, from `release["from"]`'s wheel."""
    version, package = str(release["version"]), release["from"]
    target = CACHE / f"kubernetes.core-{version}"
    if not (target / MEMBERS / "MANIFEST.json").is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        with _locked(CACHE / f".kubernetes.core-{version}.lock"):
            if not (target / MEMBERS / "MANIFEST.json").is_file():
                _extract(package, version, target)
    found = manifest_version(target / MEMBERS)
    assert found == version, f"{target} holds kubernetes.core {found}, not {version}"
    return target


def _extract(package: str, version: str, target: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".kubernetes.core-{version}-", dir=CACHE))
    try:
        # Any Python: only the collection's files are used, with the checkout's ansible-core.
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "pip"),
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "--ignore-requires-python",
                "--dest",
                str(staging / "wheel"),
                package,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        [wheel] = (staging / "wheel").glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(staging / "tree", [name for name in archive.namelist() if name.startswith(MEMBERS)])
        found = manifest_version(staging / "tree" / MEMBERS)
        assert found == version, (
            f"{package} bundles kubernetes.core {found}, not {version} (requirements/kubernetes-core.yml)"
        )
        shutil.rmtree(target, ignore_errors=True)
        (staging / "tree").rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
