# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where the SDKs fetch credentials from, per credential source.

Two kinds of egress: link-local HTTP endpoints on the node (IMDS, the ECS and
EKS Pod Identity agents), and AWS services the credential provider calls (STS
for IRSA).  Istio refuses IP literals as ServiceEntry hosts, so each link-local
endpoint gets a made-up host name under aws.internal and its IP as a STATIC
address: one host and one IP family per entry.
"""

from __future__ import annotations

from collections import namedtuple

LinkLocal = namedtuple("LinkLocal", ["host", "address"])
CredentialSource = namedtuple("CredentialSource", ["link_local", "services"])

LINK_LOCAL_PORT = 80
LINK_LOCAL_PROTOCOL = "HTTP"

CREDENTIAL_SOURCES = {
    # IAM roles for service accounts: AssumeRoleWithWebIdentity on the regional
    # STS endpoint (EKS sets AWS_STS_REGIONAL_ENDPOINTS=regional).
    "irsa": CredentialSource(None, ("sts",)),
    # EC2 instance metadata; IMDSv2 first PUTs /latest/api/token on the same host.
    "imds": CredentialSource(LinkLocal("imds.aws.internal", "169.254.169.254"), ()),
    "imds_ipv6": CredentialSource(LinkLocal("imds-ipv6.aws.internal", "fd00:ec2::254"), ()),
    # The EKS Pod Identity agent on the node, which itself calls eks-auth.
    "eks_pod_identity": CredentialSource(LinkLocal("eks-pod-identity.aws.internal", "169.254.170.23"), ("eks-auth",)),
    "eks_pod_identity_ipv6": CredentialSource(
        LinkLocal("eks-pod-identity-ipv6.aws.internal", "fd00:ec2::23"), ("eks-auth",)
    ),
    # The ECS agent's credential endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).
    "ecs": CredentialSource(LinkLocal("ecs.aws.internal", "169.254.170.2"), ()),
}


def credential_source_names():
    return tuple(sorted(CREDENTIAL_SOURCES))


def services_called_by(source):
    """AWS services (client names) a credential source calls in the workload's regions."""
    return CREDENTIAL_SOURCES[source].services


def link_local_endpoint(source):
    """The link-local endpoint of a credential source, or None (irsa has none)."""
    return CREDENTIAL_SOURCES[source].link_local
