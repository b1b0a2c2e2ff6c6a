# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of our Kubernetes modules: kubernetes.core's options, client and failures.

Our modules take kubernetes.core's authentication options (kubeconfig,
context, api_key, ... all no_log where they hold secrets) and talk through
its client. A failure of the API or of the connection ends the module with
one line that names what was being done and the API server's message, never
the request (its headers carry the bearer token).
"""

from __future__ import annotations

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.ansiblemodule import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.meshops.aws_egress.plugins.module_utils.api_errors import api_error


def with_auth_options(options):
    """kubernetes.core's authentication options plus `options`: a module's argument spec, every part a copy."""
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(copy.deepcopy(options))
    return argument_spec


def k8s_module(options):
    """The module, from kubernetes.core's auth options plus `options` (it fails when kubernetes is missing)."""
    return AnsibleK8SModule(
        module_class=AnsibleModule, argument_spec=with_auth_options(options), supports_check_mode=True
    )


def run_with_client(module, run, doing):
    """`run(module, client)` with kubernetes.core's kubernetes.client.ApiClient for the module's options; `doing(params)`
    says what the module was doing, for the failure message."""
    # Importable now: building the module checked that kubernetes is installed.
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError
    from ansible_collections.meshops.aws_egress.plugins.module_utils.kubernetes_core import api_client

    try:
        run(module, api_client(module=module))
    except CoreException as err:
        module.fail_from_exception(err)
    except (ApiException, HTTPError, OSError) as err:
        module.fail_json(msg=f"{doing(module.params)}: {api_error(err)}")
