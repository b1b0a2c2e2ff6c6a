# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which cluster a run talks to, never guessed, and one client for it.

Without a context, kubernetes clients use the kubeconfig's current one. With
one context that is the only cluster there is; with several it is whichever
was used last, so a run without a context would write into a cluster nobody
named. That is refused before any request, and so is a context the
kubeconfig does not have.

Two hosts of an inventory may name one cluster through different contexts or
server addresses (a proxy, a load balancer); what tells clusters apart is the
UID of their namespace kube-system, which the API server creates once, at its
first start.
"""

from __future__ import annotations

import json
import os

from ansible_collections.meshops.aws_egress.plugins.module_utils.api_errors import api_error
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

DEFAULT_KUBECONFIG = "~/.kube/config"
# Every API server creates it at its first start (its system namespaces controller), with a UID no other cluster has.
IDENTITY_NAMESPACE = "kube-system"


class ClusterNotNamed(Exception):
    """The kubeconfig is missing, lacks the context named, or has several contexts and none was named."""


def check_named(auth):
    """Raise ClusterNotNamed when `auth` (kubernetes.core's options) names a kubeconfig that is not there or a context the
    kubeconfig does not have, or leaves the cluster to the current context of many."""
    given = auth.get("kubeconfig")
    if isinstance(given, str) and not os.path.isfile(given):
        raise ClusterNotNamed(
            f"{option_ref('kubeconfig')}: {json.dumps(given)} is not a file; nothing was read or written"
        )
    kubeconfig = given or os.environ.get("K8S_AUTH_KUBECONFIG") or os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG
    where = "the kubeconfig given" if isinstance(kubeconfig, dict) else kubeconfig
    if auth.get("host"):
        return
    if auth.get("context"):
        contexts = _contexts(kubeconfig)
        if auth["context"] not in contexts:
            has = f"its contexts: {', '.join(contexts)}" if contexts else "it has no context"
            raise ClusterNotNamed(
                f"{option_ref('context')}: {json.dumps(auth['context'])} is not a context of {where} ({has}); "
                f"nothing was read or written"
            )
        return
    if os.environ.get("K8S_AUTH_CONTEXT") or os.environ.get("K8S_AUTH_HOST"):
        return
    contexts = _contexts(kubeconfig)
    if len(contexts) > 1:
        raise ClusterNotNamed(
            f"{option_ref('context')} is not set, and {where} has {len(contexts)} contexts ({', '.join(contexts)}): set "
            f"{option_ref('context')} to the cluster to work on; nothing was read or written"
        )


def _contexts(kubeconfig):
    """The context names of a kubeconfig (a dict, a path, or a KUBECONFIG list of paths); [] when there is none."""
    import yaml

    if isinstance(kubeconfig, dict):
        return [c.get("name") for c in kubeconfig.get("contexts") or []]
    names = []
    for path in str(kubeconfig).split(os.pathsep):
        path = os.path.expanduser(path)
        if not path or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as handle:
            # libyaml when there: a kubeconfig of many clusters with their certificates is read ten times faster.
            config = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        names += [c.get("name") for c in config.get("contexts") or [] if c.get("name") not in names]
    return names


def client_for(auth, cluster):
    """A kubernetes.client.ApiClient for `auth`, made by kubernetes.core (its options, environment variables and cache)."""
    from kubernetes.config import ConfigException
    from urllib3.exceptions import HTTPError

    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    from ansible_collections.meshops.aws_egress.plugins.module_utils.kubernetes_core import api_client

    try:
        return api_client(**auth)
    except (CoreException, ConfigException) as err:
        raise EgressFailure("read", f"making a client for {cluster}", f"cannot create an API client: {err}") from None
    except (HTTPError, OSError) as err:
        # Without a discovery cache for this configuration, making the client asks for the server's version.
        raise EgressFailure("read", f"connecting to {cluster}", api_error(err)) from None


def cluster_identity(api_client, cluster):
    """{"uid", "server"}: what tells `cluster` apart from every other (the UID of its namespace kube-system), and the
    address this client reaches it at; one GET, raising EgressFailure when it fails."""
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import ClusterReader

    namespace = ClusterReader(api_client, cluster).get(
        f"/api/v1/namespaces/{IDENTITY_NAMESPACE}",
        f"reading namespace {IDENTITY_NAMESPACE}, which identifies the cluster,",
    )
    return {"uid": namespace["metadata"]["uid"], "server": api_client.configuration.host}


def target_of(args):
    """(auth, cluster) of a task's arguments: kubernetes.core's authentication options given (a kubeconfig path
    expanded), and the cluster's name in messages (`cluster`, else the context)."""
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

    auth = {key: args[key] for key in AUTH_ARG_SPEC if args.get(key) not in (None, "")}
    if isinstance(auth.get("kubeconfig"), str):
        auth["kubeconfig"] = os.path.expanduser(auth["kubeconfig"])
    return auth, args.get("cluster") or auth.get("context") or "the current context"
