# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run never writes into a cluster nobody named."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.target import ClusterNotNamed, check_named
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options


def kubeconfig(tmp_path, *contexts):
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": contexts[0] if contexts else "",
                "contexts": [{"name": name, "context": {"cluster": name}} for name in contexts],
            }
        )
    )
    return str(path)


@pytest.fixture(autouse=True)
def no_environment(monkeypatch, tmp_path):
    for name in ("K8S_AUTH_CONTEXT", "K8S_AUTH_HOST", "K8S_AUTH_KUBECONFIG", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.kube/config


def named_check(auth, variable_prefix="istio_aws_egress_"):
    """check_named, its refusal naming the options as the role's variables (or, without a prefix, as the options)."""
    try:
        check_named(auth)
    except ClusterNotNamed as err:
        raise ClusterNotNamed(named_options(str(err), variable_prefix)) from None


def test_several_contexts_and_none_named_is_refused(tmp_path):
    with pytest.raises(
        ClusterNotNamed, match=r"^istio_aws_egress_context is not set, and .*kubeconfig has 2 contexts \(a, b\)"
    ):
        named_check({"kubeconfig": kubeconfig(tmp_path, "a", "b")})


def test_a_named_context_one_context_or_no_kubeconfig_is_fine(tmp_path, monkeypatch):
    check_named({"kubeconfig": kubeconfig(tmp_path, "a", "b"), "context": "b"})
    check_named({"kubeconfig": kubeconfig(tmp_path, "only")})
    check_named({})  # in a pod, without a kubeconfig: the service account
    check_named({"host": "https://10.0.0.1", "api_key": "t"})
    monkeypatch.setenv("K8S_AUTH_CONTEXT", "a")
    check_named({"kubeconfig": kubeconfig(tmp_path, "a", "b")})


def test_the_kubeconfig_variable_is_read_like_kubectl_does(tmp_path, monkeypatch):
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    monkeypatch.setenv("KUBECONFIG", f"{kubeconfig(first, 'a')}:{kubeconfig(second, 'b')}")
    with pytest.raises(ClusterNotNamed, match=r"has 2 contexts \(a, b\)"):
        check_named({})


def test_a_kubeconfig_that_is_not_there_is_named(tmp_path):
    with pytest.raises(ClusterNotNamed, match=r'^istio_aws_egress_kubeconfig: ".*/nowhere" is not a file'):
        named_check({"kubeconfig": str(tmp_path / "nowhere"), "context": "a"})


def test_a_context_the_kubeconfig_lacks_is_named_with_the_contexts_it_has(tmp_path):
    path = kubeconfig(tmp_path, "local-a", "local-a-proxied", "local-b")
    with pytest.raises(ClusterNotNamed) as refused:
        named_check({"kubeconfig": path, "context": "local-c"})
    assert str(refused.value) == (
        f'istio_aws_egress_context: "local-c" is not a context of {path} (its contexts: local-a, '
        f'local-a-proxied, local-b); nothing was read or written'
    )


def test_a_context_without_any_kubeconfig_is_named(tmp_path):
    with pytest.raises(
        ClusterNotNamed, match=r'^context: "prod" is not a context of ~/.kube/config \(it has no context\)'
    ):
        named_check({"context": "prod"}, "")
