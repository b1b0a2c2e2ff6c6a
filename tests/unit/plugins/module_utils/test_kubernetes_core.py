# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API client behind kubernetes.core's get_api_client, or a failure that names the supported range.

get_api_client is stubbed here; tests/integration/test_kubernetes_core_contract.py runs the real one of each release.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kubernetes.client import ApiClient

from ansible_collections.kubernetes.core.plugins.module_utils.k8s import client as k8s_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.meshops.aws_egress.plugins.module_utils.kubernetes_core import api_client


def test_the_api_client_is_the_one_kubernetes_core_made_with_the_options_given(monkeypatch):
    made, given = ApiClient(), {}

    def get_api_client(module=None, **auth):
        given.update(module=module, **auth)
        return SimpleNamespace(client=SimpleNamespace(client=made))

    monkeypatch.setattr(k8s_client, "get_api_client", get_api_client)
    assert api_client(context="prod", kubeconfig="/etc/kube") is made
    assert given == {"module": None, "context": "prod", "kubeconfig": "/etc/kube"}


def test_another_shape_fails_naming_what_was_found_and_the_supported_range(monkeypatch):
    monkeypatch.setattr(k8s_client, "get_api_client", lambda module=None, **auth: SimpleNamespace(client=object()))
    with pytest.raises(
        CoreException,
        match=r"returned a SimpleNamespace whose client\.client is a NoneType, not a "
        r"kubernetes\.client\.ApiClient: .*galaxy\.yml",
    ):
        api_client(context="prod")
