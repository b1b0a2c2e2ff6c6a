// Copyright: Contributors to the meshops.aws_egress project
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

package xds

import (
	"encoding/json"
	"sort"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/networking/util"
	"istio.io/istio/pilot/pkg/xds/endpoints"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/wellknown"
)

// clusterType names how Envoy finds a cluster's endpoints.
func clusterType(c *cluster.Cluster) string {
	switch t := c.GetClusterDiscoveryType().(type) {
	case *cluster.Cluster_Type:
		return t.Type.String()
	case *cluster.Cluster_ClusterType:
		if t.ClusterType.GetName() == "envoy.clusters.dynamic_forward_proxy" {
			return "dynamic_forward_proxy"
		}
		return t.ClusterType.GetName()
	}
	return ""
}

// endpointsOf lists a cluster's endpoints as Envoy would get them: EDS
// clusters from istiod's endpoint index (what an EDS push would carry), the
// others from their own load assignment. ORIGINAL_DST and dynamic forward
// proxy clusters have none: the destination comes from the connection.
// Health is judged as Envoy does: UNKNOWN (what STATIC clusters carry) counts
// as healthy. mtls lists the endpoints Envoy would reach with Istio mTLS.
func endpointsOf(c *cluster.Cluster, proxy *model.Proxy, push *model.PushContext,
	index *model.EndpointIndex,
) (healthy, unhealthy, mtls []string) {
	healthy, unhealthy, mtls = []string{}, []string{}, []string{}
	cla := c.GetLoadAssignment()
	if clusterType(c) == cluster.Cluster_EDS.String() {
		builder := endpoints.NewEndpointBuilder(c.Name, proxy, push)
		cla = builder.BuildClusterLoadAssignment(index)
	}
	for _, locality := range cla.GetEndpoints() {
		for _, lb := range locality.GetLbEndpoints() {
			// Formatted by istio's own test helper, one endpoint at a time.
			one := &endpoint.ClusterLoadAssignment{Endpoints: []*endpoint.LocalityLbEndpoints{{
				LbEndpoints: []*endpoint.LbEndpoint{lb},
			}}}
			addr := xdstest.ExtractEndpoints(one)
			switch lb.GetHealthStatus() {
			case core.HealthStatus_HEALTHY, core.HealthStatus_UNKNOWN:
				healthy = append(healthy, addr...)
			default:
				unhealthy = append(unhealthy, addr...)
			}
			if socketTLS(endpointSocket(c, lb)) == "istio_mutual" {
				mtls = append(mtls, addr...)
			}
		}
	}
	return sortedOrEmpty(healthy), sortedOrEmpty(unhealthy), sortedOrEmpty(mtls)
}

// endpointSocket is the transport socket Envoy uses for one endpoint: the
// first transport socket match whose labels the endpoint's
// envoy.transport_socket_match metadata carries, else the cluster's own.
func endpointSocket(c *cluster.Cluster, lb *endpoint.LbEndpoint) *core.TransportSocket {
	labels := lb.GetMetadata().GetFilterMetadata()[util.EnvoyTransportSocketMetadataKey].GetFields()
	for _, m := range c.GetTransportSocketMatches() {
		matches := true
		for k, v := range m.GetMatch().GetFields() {
			if labels[k].GetStringValue() != v.GetStringValue() {
				matches = false
			}
		}
		if matches {
			return m.GetTransportSocket()
		}
	}
	return c.GetTransportSocket()
}

// upstreamTLS says how the proxy secures connections to a cluster's endpoints.
// auto_mtls is Istio's auto mTLS: transport socket matches that use Istio
// mTLS only for endpoints labelled security.istio.io/tlsMode=istio.
func upstreamTLS(c *cluster.Cluster) string {
	if len(c.GetTransportSocketMatches()) > 0 {
		return "auto_mtls"
	}
	return socketTLS(c.GetTransportSocket())
}

// socketTLS names a transport socket: none, tls, istio_mutual (TLS with the
// workload certificate Istio's SDS calls "default"), or another socket's name.
func socketTLS(ts *core.TransportSocket) string {
	if ts == nil || ts.GetName() == wellknown.TransportSocketRawBuffer {
		return "none"
	}
	if ts.GetName() != wellknown.TransportSocketTLS {
		return ts.GetName()
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err == nil {
		sds := ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()
		if len(sds) > 0 && sds[0].GetName() == "default" {
			return "istio_mutual"
		}
	}
	return "tls"
}

// chainFilters lists a filter chain's network filters, the HTTP filters of
// its connection manager, and every RBAC filter's config.
func chainFilters(fc *listener.FilterChain) (network, http []string, rbac []json.RawMessage) {
	network, http, rbac = []string{}, []string{}, []json.RawMessage{}
	for _, f := range fc.GetFilters() {
		network = append(network, f.GetName())
		switch f.GetName() {
		case wellknown.RoleBasedAccessControl:
			rbac = append(rbac, anyJSON(f.GetTypedConfig()))
		case wellknown.HTTPConnectionManager:
			h := &hcm.HttpConnectionManager{}
			if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
				continue
			}
			for _, hf := range h.GetHttpFilters() {
				http = append(http, hf.GetName())
				if hf.GetName() == wellknown.HTTPRoleBasedAccessControl {
					rbac = append(rbac, anyJSON(hf.GetTypedConfig()))
				}
			}
		}
	}
	return network, http, rbac
}

// anyJSON renders a typed config as Envoy's config dump does, with its @type.
func anyJSON(a *anypb.Any) json.RawMessage {
	if a == nil {
		return json.RawMessage("null")
	}
	out, err := protojson.Marshal(a)
	if err != nil {
		js, _ := json.Marshal(map[string]string{"@type": a.GetTypeUrl(), "error": err.Error()})
		return js
	}
	return out
}

func summarize(ls []*listener.Listener, cs []*cluster.Cluster, routes []string) ProxySummary {
	s := ProxySummary{Listeners: []string{}, Clusters: []ClusterInfo{}, Routes: sortedOrEmpty(routes)}
	for _, l := range ls {
		s.Listeners = append(s.Listeners, l.GetName())
	}
	sort.Strings(s.Listeners)
	for _, c := range cs {
		s.Clusters = append(s.Clusters, ClusterInfo{Name: c.GetName(), Type: clusterType(c)})
	}
	sort.Slice(s.Clusters, func(i, j int) bool { return s.Clusters[i].Name < s.Clusters[j].Name })
	return s
}

func sortedOrEmpty(in []string) []string {
	out := append([]string{}, in...)
	sort.Strings(out)
	return out
}
