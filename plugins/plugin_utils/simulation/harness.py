# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the xDS simulation harness (xds-simulate) on one request.

xds-simulate runs istiod's own config generation in-process and reports what a
sidecar, gateway or waypoint proxy would do with given calls. The request and
response formats are described in extensions/xds-simulate/contract_test.go and
in the README ("The xDS simulation harness"). The binary is XDS_SIMULATE, or the
one built from the collection's own extensions/xds-simulate (build.py), built on
first use.

    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.harness import simulate
    response = simulate({"mesh": {...}, "config": "...", "proxies": {...}, "calls": [...]})

Standard library only, no Ansible: the tests and the egress_simulate action
both run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import build

TAIL_LINES = 20
# Binaries already checked against the source, by path and what the file system says of them.
_checked: set = set()


class HarnessError(RuntimeError):
    """The harness could not produce a response: missing, refused, failed or timed out."""


def binary_for(binary: Path | str | None = None, notify=print) -> Path:
    """The harness to run: `binary`, else XDS_SIMULATE, else the one built from the collection's source (built now if
    missing, with `notify` told first). Raises HarnessError with one line when there is none or it is another source's."""
    given = binary or os.environ.get("XDS_SIMULATE")
    try:
        if not given:
            found = build.find_or_build(notify)
        else:
            found = Path(given)
            if not found.is_file():
                raise HarnessError(
                    f"xds-simulate not found at {found} (XDS_SIMULATE or the harness option): unset it to have "
                    f"the harness built from this collection on first use, or {build.PREBUILT}"
                )
        stat = found.stat()
        key = (str(found), stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if key not in _checked:
            build.check(found)
            _checked.add(key)
    except build.BuildError as err:
        raise HarnessError(str(err)) from None
    return found


def simulate(request: dict, binary: Path | None = None, timeout: float = 120) -> dict:
    """Run one request through xds-simulate and return its parsed response.

    Raises HarnessError with one line when there is no harness for this collection, and with the tails of its stderr and
    stdout when it fails.
    """
    binary = binary_for(binary)
    with tempfile.TemporaryDirectory(prefix="xds-simulate-") as tmp:
        request_file = Path(tmp) / "request.json"
        response_file = Path(tmp) / "response.json"
        request_file.write_text(json.dumps(request))
        cmd = [str(binary), "-test.run=^TestSimulate$", f"-request={request_file}", f"-response={response_file}"]
        try:
            result = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as err:
            raise HarnessError(
                f"xds-simulate did not finish within {timeout:g}s{_tails(err.stderr, err.stdout)}"
            ) from err
        if result.returncode != 0 or not response_file.exists():
            raise HarnessError(f"xds-simulate failed (exit {result.returncode}){_tails(result.stderr, result.stdout)}")
        return json.loads(response_file.read_text())


def _tails(stderr: str | bytes | None, stdout: str | bytes | None) -> str:
    """The last lines of both streams: request errors go to stderr, test failures to stdout."""
    parts = []
    for name, text in (("stderr", stderr), ("stdout", stdout)):
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        lines = (text or "").strip().splitlines()
        if lines:
            parts.append(f"--- {name} (last {min(len(lines), TAIL_LINES)} lines):\n" + "\n".join(lines[-TAIL_LINES:]))
    return (":\n" + "\n".join(parts)) if parts else ""
