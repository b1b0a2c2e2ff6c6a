// Copyright: Contributors to the meshops.aws_egress project
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

package xds

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/mesh"

	"meshops.io/aws-egress/xds-simulate/simulation"
)

// The pinned istio.io/istio pseudo-version, set at link time by the launcher.
var istioVersion = "unknown"

// TestSimulate is the harness: it reads the request named by -request, runs
// istiod's config generation for every proxy, runs every call through istio's
// simulation and writes the response to -response.
func TestSimulate(t *testing.T) {
	if request == nil {
		t.Skip("no -request given: this test is the xds-simulate harness, run it with -request and -response")
	}
	in, err := parseInputs(request)
	if err != nil {
		t.Fatal(err)
	}
	m, err := meshConfig(request.Mesh)
	if err != nil {
		t.Fatal(err)
	}
	server := newIstiod(t, in.configs, in.kube, m)

	resp := Response{
		Results:        []CallResult{},
		RejectedConfig: orEmpty(in.rejected),
		ConfigWarnings: orEmpty(in.warnings),
		Proxies:        map[string]ProxySummary{},
		Istio:          Provenance{Module: istioModule, Version: istioVersion, Ambient: features.EnableAmbient},
	}
	proxies := map[string]*proxySim{}
	for _, id := range sortedKeys(request.Proxies) {
		ps := newProxySim(t, server, id, request.Proxies[id], request.IstioVersion)
		proxies[id] = ps
		summary := summarize(ps.sim.Listeners, ps.sim.Clusters, routeNames(ps.sim))
		summary.IstioVersion = ps.proxy.IstioVersion.String()
		resp.Proxies[id] = summary
	}
	for _, call := range request.Calls {
		resp.Results = append(resp.Results, proxies[call.Proxy].run(server, call))
	}
	if err := writeJSON(*responseFlag, resp); err != nil {
		t.Fatal(err)
	}
}

// meshConfig is the mesh config of a default install (istio's defaults plus
// the Prometheus metrics provider the istio-discovery chart writes, which
// puts istio.stats on every chain), then the request's.
func meshConfig(req Mesh) (*meshconfig.MeshConfig, error) {
	m := mesh.DefaultMeshConfig()
	m.DefaultProviders = &meshconfig.MeshConfig_DefaultProviders{Metrics: []string{"prometheus"}}
	if req.Config != "" {
		applied, err := mesh.ApplyMeshConfig(req.Config, m)
		if err != nil {
			return nil, fmt.Errorf("mesh.config: %v", err)
		}
		m = applied
	}
	m.RootNamespace = req.RootNamespace
	if req.OutboundTrafficPolicy != "" {
		m.OutboundTrafficPolicy = &meshconfig.MeshConfig_OutboundTrafficPolicy{
			Mode: meshconfig.MeshConfig_OutboundTrafficPolicy_Mode(
				meshconfig.MeshConfig_OutboundTrafficPolicy_Mode_value[req.OutboundTrafficPolicy]),
		}
	}
	return m, nil
}

// proxySim is one proxy with everything istiod generated for it.
type proxySim struct {
	id    string
	proxy *model.Proxy
	sim   *simulation.Simulation
}

func newProxySim(t *testing.T, server *istiod, id string, p ProxyRequest, version string) *proxySim {
	types := map[string]model.NodeType{"sidecar": model.SidecarProxy, "router": model.Router, "waypoint": model.Waypoint}
	labels := p.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	proxy := server.SetupProxy(&model.Proxy{
		ID:              id + "." + p.Namespace,
		Type:            types[p.Type],
		ConfigNamespace: p.Namespace,
		// Gateways are selected by Labels, Sidecars and policies by the
		// metadata labels: a real proxy has both.
		Labels:      labels,
		IPAddresses: p.IPs,
		Metadata: &model.NodeMetadata{
			Namespace:    p.Namespace,
			Labels:       labels,
			IstioVersion: version,
			ClusterID:    constants.DefaultClusterName,
		},
	})
	return &proxySim{id: id, proxy: proxy, sim: simulation.NewSimulationFromConfigGen(t, server.ConfigGenTest, proxy)}
}

func routeNames(sim *simulation.Simulation) []string {
	names := make([]string, 0, len(sim.Routes))
	for _, r := range sim.Routes {
		names = append(names, r.GetName())
	}
	return names
}

// run sends one call through the proxy and reports the path it took.
func (ps *proxySim) run(server *istiod, req CallRequest) CallResult {
	res := CallResult{ID: req.ID, Endpoints: []string{}, UnhealthyEndpoints: []string{}, IstioMTLSEndpoints: []string{},
		NetworkFilters: []string{}, HTTPFilters: []string{}, RBAC: []json.RawMessage{}, AccessLogs: []AccessLog{}}
	call := simulation.Call{
		Address:    req.Address,
		Port:       req.Port,
		Path:       req.Path,
		Protocol:   simulation.Protocol(req.Protocol),
		TLS:        simulation.Plaintext,
		Sni:        req.SNI,
		HostHeader: req.Host,
		CallMode:   simulation.CallModeOutbound,
	}
	if req.TLS {
		call.TLS = simulation.TLS
	}
	if req.Mode == "gateway" {
		call.CallMode = simulation.CallModeGateway
	}
	// Istio's simulation reports the matched chain's name only; this hook
	// hands us the chain itself (names need not be unique).
	var matched *listener.FilterChain
	call.CustomListenerValidations = []simulation.CustomFilterChainValidation{
		func(fc *listener.FilterChain) error { matched = fc; return nil },
	}

	sim := ps.sim
	if req.Mode == "waypoint" {
		ls, err := waypointListeners(ps.sim.Listeners, call)
		if err != nil {
			res.Listener = mainInternal
			res.Error = err.Error()
			return res
		}
		cpy := *ps.sim
		cpy.Listeners = ls
		sim = &cpy
	}
	out := sim.Run(call)
	res.Listener = out.ListenerMatched
	res.FilterChain = out.FilterChainMatched
	res.RouteConfig = out.RouteConfigMatched
	res.VirtualHost = out.VirtualHostMatched
	res.Route = out.RouteMatched
	res.Cluster = out.ClusterMatched
	if out.Error != nil {
		res.Error = out.Error.Error()
	}
	if matched == nil && out.FilterChainMatched != "" {
		matched = uniqueChain(xdstest.ExtractListener(out.ListenerMatched, sim.Listeners), out.FilterChainMatched)
	}
	if l := xdstest.ExtractListener(out.ListenerMatched, sim.Listeners); l != nil {
		res.AccessLogs = accessLogs("listener", l.GetAccessLog())
	}
	if matched != nil {
		res.NetworkFilters, res.HTTPFilters, res.RBAC = chainFilters(matched)
		res.AccessLogs = append(res.AccessLogs, chainAccessLogs(matched)...)
	}
	for i := range res.AccessLogs {
		res.AccessLogs[i].FilterResult = evaluateFilter(res.AccessLogs[i].Filter, res)
	}
	if c := findCluster(ps.sim.Clusters, res.Cluster); c != nil {
		res.ClusterType = clusterType(c)
		res.UpstreamTLS = upstreamTLS(c)
		res.Endpoints, res.UnhealthyEndpoints, res.IstioMTLSEndpoints = endpointsOf(c, ps.proxy, server.PushContext(),
			server.Env().EndpointIndex)
	}
	return res
}

func uniqueChain(l *listener.Listener, name string) *listener.FilterChain {
	var found *listener.FilterChain
	chains := append([]*listener.FilterChain{}, l.GetFilterChains()...)
	if l.GetDefaultFilterChain() != nil {
		chains = append(chains, l.GetDefaultFilterChain())
	}
	for _, fc := range chains {
		if fc.GetName() == name {
			if found != nil {
				return nil
			}
			found = fc
		}
	}
	return found
}

func findCluster(cs []*cluster.Cluster, name string) *cluster.Cluster {
	if name == "" {
		return nil
	}
	for _, c := range cs {
		if c.GetName() == name {
			return c
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orEmpty(r []Rejected) []Rejected {
	if r == nil {
		return []Rejected{}
	}
	return r
}

// writeJSON writes through a temporary file, so a reader never sees half a response.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".xds-simulate-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
