# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Another operator's controller: this checkout's Python packages, but another botocore.

The tests plan with two real botocore releases side by side: the one requirements/runtime.txt pins (the checkout's
.venv) and the oldest requirements.txt admits. The older one is pip-installed once into the shared cache
(${XDG_CACHE_HOME:-~/.cache}/meshops-aws-egress/python/botocore-<version>/, reused by every checkout and run); a small
venv of this checkout (.venv/botocore-<version>/) finds it first and everything else in .venv, so ansible-playbook run
by its python expands the services with that botocore, as a controller that has it would.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "meshops-aws-egress" / "python"


def pinned(requirements: Path, package: str, operator: str) -> str:
    """The version `requirements` gives `package` with `operator` ('==' or '>=')."""
    match = re.search(
        rf"^{re.escape(package)}[^#\n]*?{re.escape(operator)}\s*([0-9][0-9.]*)", requirements.read_text(), re.MULTILINE
    )
    assert match, f"{requirements.name} pins no {package}{operator}"
    return match.group(1)


# The oldest botocore the collection admits, and the one the checkout's .venv has.
OLDEST = pinned(ROOT / "requirements.txt", "botocore", ">=")
CURRENT = pinned(ROOT / "requirements" / "runtime.txt", "botocore", "==")


def python_with_botocore(version: str) -> Path:
    """A python that imports botocore `version` and everything else from the checkout's .venv."""
    packages = _cached(f"botocore-{version}", ["--no-deps", f"botocore=={version}"])
    venv = VENV / f"botocore-{version}"
    python, ready = venv / "bin" / "python", venv / ".ready"
    if not ready.exists():
        with _locked(VENV / f".botocore-{version}.lock"):
            if not ready.exists():
                # In place: a venv knows its own path. One cut short is made again.
                shutil.rmtree(venv, ignore_errors=True)
                subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
                site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
                # Read in order at start-up: this botocore first, then the checkout's packages.
                (site / "meshops-botocore.pth").write_text(f"{packages}\n{sysconfig.get_path('purelib')}\n")
                ready.touch()
    found = subprocess.run(
        [str(python), "-c", "import botocore; print(botocore.__version__)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == version, f"{python} imports botocore {found}, not {version}"
    return python


def _cached(name: str, pip_args: list[str]) -> Path:
    """pip install --target of `pip_args` into the shared cache, once."""
    target = CACHE / name
    if not target.is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        with _locked(CACHE / f".{name}.lock"):
            if not target.is_dir():
                staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=CACHE))
                subprocess.run(
                    [
                        str(VENV / "bin" / "pip"),
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        "--target",
                        str(staging),
                        *pip_args,
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                staging.rename(target)
    return target


@contextlib.contextmanager
def _locked(path: Path):
    """Held by one process at a time: pytest-xdist workers, or two checkouts sharing the cache."""
    with open(path, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
