# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Proxy logs -> lines -> blocked calls, streamed: a file or a directory of logs read once, line by line.

Logs come as `kubectl logs` prints them (with `--prefix`, `--timestamps`, or
both), or as the kubelet keeps them on a node (CRI lines, file names
`<pod>_<namespace>_<container>-<id>.log` or `<namespace>_<pod>_<uid>/<container>/0.log`);
`.gz` files are read through gzip.  Who called is what the line says (ztunnel
names the caller's namespace, workload and identity), else what the path
says: the kubelet's names, or a directory named after the namespace
(`<logs>/<namespace>/<pod>.log`); else the file.  Which proxy logged it is
what the line says (ztunnel's format, a waypoint's clusters), else the pod or
file name (`waypoint`, `egressgateway`), else a sidecar.

Every line is counted as an access line (of Istio's TEXT or JSON format, or a
ztunnel access event), a proxy's own line, or neither; only the lines that
hold what a blocked call's line holds are read in full.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.meshops.aws_egress.plugins.plugin_utils import naming
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import blocked, formats

# A file whose first block holds a NUL byte is not a log.
_PROBE_BYTES = 8192
_KUBELET_CONTAINER_LOG = re.compile(
    r"^(?P<pod>[a-z0-9][a-z0-9.-]*)_(?P<namespace>[a-z0-9-]+)_(?P<container>[a-z0-9-]+)-[0-9a-f]{64}\.log$"
)
_KUBELET_POD_DIR = re.compile(r"^(?P<namespace>[a-z0-9-]+)_(?P<pod>[a-z0-9][a-z0-9.-]*)_[0-9a-f-]{36}$")
_KUBECTL_PREFIX = re.compile(rb"^\[pod/([^/\]]+)/([^\]]+)\] ")
_TIMESTAMP_PREFIX = re.compile(rb"^\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d) (?:(?:stdout|stderr) [FP] )?")
_ZTUNNEL_FAILED = (b"\terror\taccess\t", b"\twarn\taccess\t")
_ZTUNNEL_JSON_ACCESS = (b'"scope":"access"', b'"scope": "access"')
_PROXY_NAMES = (
    (blocked.WAYPOINT, ("waypoint",)),
    (blocked.GATEWAY, ("egressgateway", "egress-gateway")),
    (blocked.ZTUNNEL, ("ztunnel",)),
)


class LogError(ValueError):
    """Logs that cannot be read: a missing path, an empty directory, no proxy log in them."""


@dataclass
class Counts:
    lines: int = 0
    access: int = 0  # access lines of Envoy's (TEXT or JSON) or ztunnel's
    proxy: int = 0  # the proxies' own lines
    other: int = 0  # neither: counted, never fatal
    unreadable: int = 0  # access lines that looked blocked but did not parse
    blocked: int = 0
    files: int = 0
    skipped: list = field(default_factory=list)  # files that are not text, with why

    def as_dict(self):
        return {
            key: getattr(self, key) for key in ("files", "lines", "access", "proxy", "other", "unreadable", "blocked")
        } | {"skipped": list(self.skipped)}


@dataclass(frozen=True)
class LogFile:
    path: Path
    shown: str  # as the report names it: relative to the logs given
    caller: blocked.Caller
    proxy: str


def log_files(path):
    """Every log file under `path` (a file or a directory, searched recursively), in name order."""
    root = Path(path).expanduser()
    if not root.exists():
        raise LogError(f"{root} does not exist")
    if root.is_file():
        return [_log_file(root, root.parent)]
    if not root.is_dir():
        raise LogError(f"{root} is neither a file nor a directory")
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files:
        raise LogError(
            f"{root} is an empty directory: give the proxies' logs "
            f"(kubectl logs <pod> -c istio-proxy > {root}/<namespace>/<pod>.log)"
        )
    return [_log_file(file, root) for file in files]


def _log_file(path, root):
    relative = path.relative_to(root)
    namespace, pod, container = "", "", ""
    kubelet = _KUBELET_CONTAINER_LOG.match(path.name)
    pod_dir = next((m for m in (_KUBELET_POD_DIR.match(part) for part in relative.parts[:-1]) if m), None)
    if kubelet:
        namespace, pod, container = kubelet["namespace"], kubelet["pod"], kubelet["container"]
    elif pod_dir:
        namespace, pod, container = pod_dir["namespace"], pod_dir["pod"], relative.parts[-2]
    elif len(relative.parts) > 1 and naming.is_dns_label(relative.parts[0]):
        namespace, pod = relative.parts[0], _stem(path.name)
    shown = relative.as_posix()
    proxy = _proxy_named(f"{shown} {pod} {container}")
    return LogFile(path, shown, _caller(namespace, pod, proxy, shown), proxy)


def _caller(namespace, pod, proxy, shown):
    # A gateway's, waypoint's or ztunnel's namespace is its own, not its callers'.
    return blocked.Caller(namespace if proxy == blocked.SIDECAR else "", pod, "", shown)


def _stem(name):
    for suffix in (".gz", ".log", ".txt"):
        name = name.removesuffix(suffix)
    return name


def _proxy_named(text):
    text = text.lower()
    return next((proxy for proxy, words in _PROXY_NAMES if any(word in text for word in words)), blocked.SIDECAR)


def scan(files, on_blocked, counts=None):
    """Read every file line by line; call `on_blocked(BlockedCall)` for each blocked call; return the Counts."""
    counts = counts or Counts()
    for log in files:
        counts.files += 1
        opener = gzip.open if log.path.name.endswith(".gz") else open
        try:
            with opener(log.path, "rb") as handle:
                why = _not_text(handle.peek(_PROBE_BYTES) if hasattr(handle, "peek") else b"")
                if why:
                    counts.skipped.append(f"{log.shown}: {why}")
                    continue
                _scan_lines(handle, log, on_blocked, counts)
        except (OSError, EOFError) as err:
            counts.skipped.append(
                f"{log.shown}: cannot be read ({err.strerror if isinstance(err, OSError) and err.strerror else err})"
            )
    return counts


def _not_text(start):
    return "not text (it holds NUL bytes)" if b"\x00" in start[:_PROBE_BYTES] else ""


def _scan_lines(handle, log, on_blocked, counts):
    envoy_markers = blocked.ENVOY_MARKERS
    for raw in handle:
        counts.lines += 1
        caller = log.caller
        proxy = log.proxy
        if raw[:5] == b"[pod/":
            prefix = _KUBECTL_PREFIX.match(raw)
            if prefix:
                raw = raw[prefix.end() :]
                pod = prefix.group(1).decode("utf-8", "replace")
                proxy = _proxy_named(f"{log.shown} {pod} {prefix.group(2).decode('utf-8', 'replace')}")
                caller = _caller(caller.namespace, pod, proxy, log.shown)
        if raw[:1].isdigit() and b" " in raw[:40]:
            stamp = _TIMESTAMP_PREFIX.match(raw)
            if stamp:
                raw = raw[stamp.end() :]
        first = raw[:1]
        if first == b"[":
            if raw[1:2].isdigit() and b'] "' in raw[:48]:
                counts.access += 1
                if any(marker in raw for marker in envoy_markers):
                    _blocked(formats.envoy_text(_text(raw)), caller, proxy, on_blocked, counts)
            elif formats.is_proxy_log(_text(raw[:64])):
                counts.proxy += 1
            else:
                counts.other += 1
        elif first == b"{":
            if b'"upstream_cluster"' in raw:
                counts.access += 1
                if any(marker in raw for marker in envoy_markers):
                    _blocked(formats.envoy_json(_text(raw)), caller, proxy, on_blocked, counts)
            elif any(marker in raw for marker in _ZTUNNEL_JSON_ACCESS):
                counts.access += 1
                if b'"error"' in raw:
                    _ztunnel(_text(raw), caller, on_blocked, counts)
            elif b'"level"' in raw:
                counts.proxy += 1
            else:
                counts.other += 1
        elif first.isdigit() and formats.is_proxy_log(_text(raw[:64])):
            if b"\taccess\t" in raw[:64]:
                counts.access += 1
                if any(marker in raw[:64] for marker in _ZTUNNEL_FAILED):
                    _ztunnel(_text(raw), caller, on_blocked, counts)
            else:
                counts.proxy += 1
        else:
            counts.other += 1


def _text(raw):
    return raw.decode("utf-8", "replace").rstrip("\r\n")


def _blocked(record, caller, proxy, on_blocked, counts):
    if record is None:
        counts.unreadable += 1
        return
    call = blocked.from_envoy(record, proxy, caller)
    if call:
        counts.blocked += 1
        on_blocked(call)


def _ztunnel(line, caller, on_blocked, counts):
    event = formats.ztunnel(line)
    if event is None:
        counts.unreadable += 1
        return
    call = blocked.from_ztunnel(event, caller)
    if call:
        counts.blocked += 1
        on_blocked(call)
