# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find or build the xDS simulation harness (xds-simulate) from the source the collection ships.

The harness is the Go module in ``extensions/xds-simulate/`` (in the artifact too: galaxy.yml's ``build_ignore`` leaves it in).
A binary is good for this collection only if it was built from exactly that source: the builder links the
source's hash into it and ``xds-simulate -version`` prints it back, so a binary built from another release is
refused instead of answering with another release's contract.

``python3 build.py OUT`` builds one and copies it to OUT (the execution environment's build step).

Built binaries live in ``${XDG_CACHE_HOME:-~/.cache}/meshops-aws-egress/xds-simulate-<hash>-<go version>/``;
``make cluster-build`` builds into the same place through this module. Standard library only: the tests'
cluster launcher loads it by path.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[3] / "extensions" / "xds-simulate"
PACKAGE = "meshops.io/aws-egress/xds-simulate"
GO_MINIMUM = (1, 26)
NAME = "xds-simulate"
# What `XDS_SIMULATE` and the module's `harness` option are for, said wherever a harness cannot be had.
PREBUILT = "set XDS_SIMULATE=/path/to/xds-simulate to a binary built from this collection's extensions/xds-simulate"


class BuildError(RuntimeError):
    """No harness for this collection: none built, none buildable, or one built from other source."""


def source_hash(source: Path = SOURCE) -> str:
    """A hash of the harness's Go source: every .go file, go.mod and go.sum, by relative path."""
    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file() and p.suffix in {".go", ".mod", ".sum"}):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def istio_version(source: Path = SOURCE) -> str:
    """The istio.io/istio version the harness's go.mod pins."""
    match = re.search(r"^require istio\.io/istio (\S+)$", (source / "go.mod").read_text(), re.M)
    if not match:
        raise BuildError(f"{source / 'go.mod'} does not pin istio.io/istio on a `require` line of its own")
    return match.group(1)


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "meshops-aws-egress"


def built_from(binary: Path) -> str:
    """The source hash `binary -version` reports ("" when it reports none: built before it could)."""
    try:
        result = subprocess.run([str(binary), "-version"], capture_output=True, text=True, timeout=60, check=False)
        return json.loads(result.stdout).get("source", "") if result.returncode == 0 else ""
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return ""


def check(binary: Path, source: Path = SOURCE) -> None:
    """Refuse `binary` unless it was built from `source`."""
    theirs, ours = built_from(binary), source_hash(source)
    if theirs != ours:
        built = (
            f"was built from harness source {theirs}"
            if theirs
            else "does not say which harness source it was built from"
        )
        raise BuildError(
            f"{NAME} at {binary} {built}, and this collection's is {ours}: use one built from this collection "
            f"(unset XDS_SIMULATE to have it built on first use, or {PREBUILT})"
        )


def find_or_build(notify=print, source: Path = SOURCE) -> Path:
    """The cached harness for `source` and the Go on PATH, built first if missing (minutes the first time)."""
    go = shutil.which("go")
    ours = source_hash(source)
    if not go:
        # A binary built earlier with any Go serves as well; the Go version only keys the cache.
        built = sorted(cache_dir().glob(f"{NAME}-{ours}-go*/{NAME}"))
        if built:
            return built[-1]
        raise BuildError(
            f"{NAME} (istiod's config generation, which the simulation runs) is not built for this collection, "
            f"and there is no Go on PATH to build it: install Go {'.'.join(map(str, GO_MINIMUM))} or newer "
            f"(the first run builds it, which takes minutes), or {PREBUILT}"
        )
    version = _go_version(go, source)
    target = cache_dir() / f"{NAME}-{ours}-{version}" / NAME
    if not target.exists():
        _build(go, version, source, target, notify)
    return target


def _go_version(go: str, source: Path) -> str:
    # Run in the module, so that a toolchain go.mod's `go` line selects (GOTOOLCHAIN=auto) is the one asked.
    result = subprocess.run(
        [go, "env", "GOVERSION"],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GOWORK": "off"},
    )
    version = result.stdout.strip()
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
    if result.returncode != 0 or numbers < GO_MINIMUM:
        said = version or result.stderr.strip().splitlines()[-1:] or "nothing"
        raise BuildError(
            f"{NAME} needs Go {'.'.join(map(str, GO_MINIMUM))} or newer to build, and `{go} env GOVERSION` "
            f"says {said}: install a newer Go (or let GOTOOLCHAIN=auto fetch one), or {PREBUILT}"
        )
    return version


def _build(go: str, version: str, source: Path, target: Path, notify) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # One build at a time per key; a run that waited finds the binary the other one built.
    with _locked(target.parent / ".lock"):
        if target.exists():
            return
        notify(
            f"building {NAME} from {source} with {version} into {target.parent} "
            "(the first build takes minutes; later runs reuse it)"
        )
        partial = str(target.parent / f".{NAME}.{os.getpid()}.{secrets.token_hex(4)}")
        ldflags = (
            f"-s -w -X {PACKAGE}.sourceHash={source_hash(source)} -X {PACKAGE}.istioVersion={istio_version(source)}"
        )
        cmd = [
            go,
            "test",
            "-c",
            "-mod=readonly",
            "-trimpath",
            "-buildvcs=false",
            "-ldflags",
            ldflags,
            "-o",
            partial,
            ".",
        ]
        try:
            result = subprocess.run(
                cmd,
                cwd=source,
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "CGO_ENABLED": "0", "GOWORK": "off"},
            )
            if result.returncode != 0:
                tail = "\n".join(result.stderr.strip().splitlines()[-15:])
                raise BuildError(f"building {NAME} with {version} failed ({' '.join(cmd)}):\n{tail}")
            # Whole or not at all: a concurrent run sees no binary or this one, never half of it.
            os.replace(partial, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)


@contextlib.contextmanager
def _locked(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main(argv: list[str]) -> int:
    """`python3 build.py OUT`: build (or find) the harness for this source and copy it to OUT (an image's build step)."""
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUT", file=sys.stderr)
        return 2
    try:
        shutil.copy2(find_or_build(lambda message: print(message, flush=True)), argv[1])
    except BuildError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
