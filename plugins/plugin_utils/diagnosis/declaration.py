# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An egress set's options (the role's variables, without their prefix) -> what it declares, as the simulation judges it."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.declared import EXPANSION_OPTIONS, declared


def declaration(options):
    """The simulation's Declared of the options egress_simulate and egress_diagnose take (the gateway's with its defaults)."""
    return declared(
        options.get("services"),
        options["name"],
        options["namespace"],
        options["mode"],
        gateway=options.get("gateway"),
        sidecars=options.get("sidecars"),
        sidecar_hosts=options.get("sidecar_hosts"),
        export_to=options.get("export_to"),
        waypoint=options.get("waypoint"),
        caller_namespaces=options.get("caller_namespaces"),
        wildcard_resolution=options.get("wildcard_resolution"),
        **{key: options.get(key) for key in EXPANSION_OPTIONS},
    )
