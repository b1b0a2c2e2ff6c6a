# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Blocked calls -> findings: one per blocked destination, port and proxy, aggregated over every line that shows it.

Bounded whatever the logs hold: a finding keeps its first callers (the rest
are counted), and a diagnosis its first findings (the rest are counted too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_CALLERS = 20
MAX_WAYS = 5
MAX_FINDINGS = 2000


@dataclass
class Finding:
    destination: str
    port: int
    proxy: str
    protocol: str
    count: int = 0
    first_seen: str = ""
    last_seen: str = ""
    callers: dict = field(default_factory=dict)  # Caller -> lines
    more_callers: int = 0  # lines of callers beyond MAX_CALLERS
    ways: list = field(default_factory=list)  # what the logs say happened, the first few

    def add(self, call):
        self.count += 1
        if call.time and call.time != "-":
            self.first_seen = min(self.first_seen or call.time, call.time)
            self.last_seen = max(self.last_seen, call.time)
        if call.caller in self.callers:
            self.callers[call.caller] += 1
        elif len(self.callers) < MAX_CALLERS:
            self.callers[call.caller] = 1
        else:
            self.more_callers += 1
        if call.how not in self.ways and len(self.ways) < MAX_WAYS:
            self.ways.append(call.how)

    @property
    def namespaces(self):
        """The callers' namespaces where known, most lines first ("" for callers whose namespace no log says)."""
        lines = {}
        for caller, count in self.callers.items():
            lines[caller.namespace] = lines.get(caller.namespace, 0) + count
        return sorted(lines, key=lambda ns: (-lines[ns], ns))

    def sources(self):
        found = [
            {
                "source": caller.shown,
                "namespace": caller.namespace or None,
                "pod": caller.pod or None,
                "identity": caller.identity or None,
                "file": caller.file or None,
                "lines": count,
            }
            for caller, count in self.callers.items()
        ]
        return sorted(found, key=lambda s: (-s["lines"], s["source"]))


class Findings:
    """Blocked calls, aggregated as they stream in."""

    def __init__(self):
        self.by_key = {}
        self.dropped = 0  # blocked lines of destinations beyond MAX_FINDINGS

    def add(self, call):
        key = (call.destination, call.port, call.proxy)
        finding = self.by_key.get(key)
        if finding is None:
            if len(self.by_key) >= MAX_FINDINGS:
                self.dropped += 1
                return
            finding = self.by_key[key] = Finding(call.destination, call.port, call.proxy, call.protocol)
        finding.add(call)

    def ordered(self):
        """Most lines first."""
        return sorted(self.by_key.values(), key=lambda f: (-f.count, f.destination, f.port, f.proxy))
