// Copyright: Contributors to the meshops.aws_egress project
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

package xds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strings"
)

// The contract: what the tests and the runbook send and read. Field names are
// the JSON names; new fields may be added, existing ones keep their meaning.

// Request is one simulation: one config, several proxies, several calls.
type Request struct {
	// Set as each proxy's version metadata (ISTIO_VERSION); istio gates some
	// output on it. Defaults to DefaultIstioVersion.
	IstioVersion string `json:"istio_version"`
	Mesh         Mesh   `json:"mesh"`
	// Multi-document YAML of Istio config (networking, security, telemetry,
	// and Gateway API kinds). Each object is validated as `istioctl validate`
	// does; rejected objects are left out, as the API server would refuse them.
	Config string `json:"config"`
	// Multi-document YAML of Kubernetes objects (Service, Pod, EndpointSlice,
	// Namespace, ...), loaded into the fake API client istiod's Kubernetes
	// registry reads.
	Kubernetes string                  `json:"kubernetes"`
	Proxies    map[string]ProxyRequest `json:"proxies"`
	Calls      []CallRequest           `json:"calls"`
	// istiod environment variables (feature flags such as
	// ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS). They are read when istio's
	// packages initialise, so the binary re-executes itself with them set.
	IstiodEnv map[string]string `json:"istiod_env,omitempty"`
}

// Mesh is the part of MeshConfig the tests vary; Config is the rest, as YAML.
type Mesh struct {
	OutboundTrafficPolicy string `json:"outbound_traffic_policy"` // ALLOW_ANY (default) or REGISTRY_ONLY
	RootNamespace         string `json:"root_namespace"`          // default istio-system
	// Ambient runs istiod as with PILOT_ENABLE_AMBIENT=true. Unset means:
	// true when a waypoint proxy is in the request, false otherwise.
	Ambient *bool `json:"ambient,omitempty"`
	// Optional MeshConfig YAML, applied before the two fields above over the
	// mesh config of a default install: istio's defaults plus
	// defaultProviders.metrics [prometheus], as the istio-discovery chart writes.
	Config string `json:"config,omitempty"`
}

// ProxyRequest describes one proxy: its kind, namespace, labels and IPs.
type ProxyRequest struct {
	Type      string            `json:"type"` // sidecar, router or waypoint
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
	IPs       []string          `json:"ips"`
}

// CallRequest is one connection or request a proxy handles.
type CallRequest struct {
	ID      string `json:"id"`
	Proxy   string `json:"proxy"`
	Address string `json:"address"` // destination IP
	Port    int    `json:"port"`
	// tcp or http (http2 also accepted).
	Protocol string `json:"protocol"`
	// The client speaks TLS (SNI from sni, or from host when sni is empty).
	TLS  bool   `json:"tls"`
	SNI  string `json:"sni"`
	Host string `json:"host"` // HTTP Host header
	Path string `json:"path,omitempty"`
	// outbound (sidecar: iptables redirect), gateway (no redirect) or
	// waypoint (after HBONE termination). Defaults from the proxy type.
	Mode string `json:"mode"`
}

// Response is everything the simulation saw.
type Response struct {
	Results        []CallResult            `json:"results"`
	RejectedConfig []Rejected              `json:"rejected_config"`
	ConfigWarnings []Rejected              `json:"config_warnings"`
	Proxies        map[string]ProxySummary `json:"proxies"`
	// What actually ran, for the record.
	Istio Provenance `json:"istio"`
}

// CallResult is the path one call took. Names, never indexes: filter-chain
// order is not stable between runs.
type CallResult struct {
	ID          string `json:"id"`
	Listener    string `json:"listener"`
	FilterChain string `json:"filter_chain"`
	RouteConfig string `json:"route_config"`
	VirtualHost string `json:"virtual_host"`
	Route       string `json:"route"`
	Cluster     string `json:"cluster"`
	// EDS, STRICT_DNS, LOGICAL_DNS, STATIC, ORIGINAL_DST, dynamic_forward_proxy,
	// another custom cluster type's name, or "" when the proxy has no cluster
	// of that name (or no cluster was chosen).
	ClusterType string `json:"cluster_type"`
	// Healthy endpoints as host:port: from the cluster's own load assignment
	// (STATIC, DNS) or from istiod's endpoint index (EDS).
	Endpoints          []string `json:"endpoints"`
	UnhealthyEndpoints []string `json:"unhealthy_endpoints"`
	// How the proxy talks to that cluster's endpoints: none, tls, istio_mutual,
	// or auto_mtls (Istio mTLS only to endpoints labelled
	// security.istio.io/tlsMode=istio, as sidecar-injected pods are;
	// plaintext, or the app's own TLS, to the rest).
	UpstreamTLS string `json:"upstream_tls"`
	// The endpoints (healthy or not) the proxy would reach with Istio mTLS.
	IstioMTLSEndpoints []string `json:"istio_mtls_endpoints"`
	NetworkFilters     []string `json:"network_filters"`
	HTTPFilters        []string `json:"http_filters"`
	// Every RBAC filter of the matched chain (network ones and, behind an HTTP
	// connection manager, HTTP ones), each its typed config as JSON with @type.
	RBAC []json.RawMessage `json:"rbac"`
	// Every access log the call passes: the matched listener's own (for
	// connections no chain takes), then the chain's TCP proxy's or HTTP
	// connection manager's, each with its filter.
	AccessLogs []AccessLog `json:"access_logs"`
	// The simulation's own error (no listener, no filter chain, no route ...);
	// empty on a match.
	Error string `json:"error"`
}

// AccessLog is one access log of Envoy's config: where it hangs, which
// logger writes it (envoy.access_loggers.file, ...) and to which path, and
// its filter. Envoy evaluates the filter; the simulation does not.
type AccessLog struct {
	Where  string `json:"where"` // listener, tcp_proxy or http_connection_manager
	Logger string `json:"logger"`
	Path   string `json:"path,omitempty"` // a file logger's path
	// A CEL filter's expression (Telemetry's accessLogging filter), or "" when there is none.
	Filter string `json:"filter"`
	// Any other filter, as its config as JSON (with its type); null when there is none or it is CEL.
	OtherFilter json.RawMessage `json:"other_filter"`
	// The CEL filter evaluated (cel-go) on what the simulation knows of the
	// call: xds.cluster_name and xds.route_name where the call has them.
	// connection.* and response.* are absent (no filter runs, no RBAC is
	// evaluated). "true" (logged), "false", "error: ..." (Envoy logs nothing
	// on an error), or "" without a CEL filter.
	FilterResult string `json:"filter_result"`
}

// Rejected is an object of the request that was not used, or a warning about one.
type Rejected struct {
	Source    string `json:"source"` // config or kubernetes
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Error     string `json:"error"`
}

// ProxySummary is what was generated for one proxy.
type ProxySummary struct {
	IstioVersion string        `json:"istio_version"` // the version metadata it was generated for
	Listeners    []string      `json:"listeners"`
	Clusters     []ClusterInfo `json:"clusters"`
	Routes       []string      `json:"routes"`
}

// ClusterInfo names a cluster and its discovery type.
type ClusterInfo struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Provenance says which istiod ran and how.
type Provenance struct {
	Module  string `json:"module"`
	Version string `json:"version"`
	Ambient bool   `json:"ambient"`
}

var istioVersionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+`)

const (
	// DefaultIstioVersion is the release branch the module is pinned to.
	DefaultIstioVersion = "1.30.0"
	istioModule         = "istio.io/istio"
)

// readRequest decodes a request strictly: a misspelt field is an error, not
// a default.
func readRequest(path string) (*Request, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	req := &Request{}
	if err := dec.Decode(req); err != nil {
		return nil, fmt.Errorf("request %s: %v", path, err)
	}
	req.fillDefaults()
	if errs := req.check(); len(errs) > 0 {
		return nil, fmt.Errorf("request %s is invalid:\n  %s", path, strings.Join(errs, "\n  "))
	}
	return req, nil
}

func (r *Request) fillDefaults() {
	if r.IstioVersion == "" {
		r.IstioVersion = DefaultIstioVersion
	}
	if r.Mesh.RootNamespace == "" {
		r.Mesh.RootNamespace = "istio-system"
	}
	for i := range r.Calls {
		c := &r.Calls[i]
		if c.Protocol == "" {
			c.Protocol = "tcp"
		}
		if c.Mode == "" {
			switch r.Proxies[c.Proxy].Type {
			case "router":
				c.Mode = "gateway"
			case "waypoint":
				c.Mode = "waypoint"
			default:
				c.Mode = "outbound"
			}
		}
	}
}

// ambient is the mode istiod runs in for this request.
func (r *Request) ambient() bool {
	if r.Mesh.Ambient != nil {
		return *r.Mesh.Ambient
	}
	for _, p := range r.Proxies {
		if p.Type == "waypoint" {
			return true
		}
	}
	return false
}

// check lists every problem of the request at once, in a stable order.
func (r *Request) check() []string {
	var errs []string
	if !istioVersionPattern.MatchString(r.IstioVersion) {
		errs = append(errs, fmt.Sprintf("istio_version %q: want MAJOR.MINOR.PATCH, such as %s", r.IstioVersion, DefaultIstioVersion))
	}
	switch r.Mesh.OutboundTrafficPolicy {
	case "", "ALLOW_ANY", "REGISTRY_ONLY":
	default:
		errs = append(errs, fmt.Sprintf("mesh.outbound_traffic_policy %q: want ALLOW_ANY or REGISTRY_ONLY", r.Mesh.OutboundTrafficPolicy))
	}
	if _, ok := r.IstiodEnv["PILOT_ENABLE_AMBIENT"]; ok {
		errs = append(errs, "istiod_env.PILOT_ENABLE_AMBIENT: set mesh.ambient instead")
	}
	ids := make([]string, 0, len(r.Proxies))
	for id := range r.Proxies {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := r.Proxies[id]
		switch p.Type {
		case "sidecar", "router", "waypoint":
		default:
			errs = append(errs, fmt.Sprintf("proxies.%s.type %q: want sidecar, router or waypoint", id, p.Type))
		}
		if p.Namespace == "" {
			errs = append(errs, fmt.Sprintf("proxies.%s.namespace is empty", id))
		}
		for _, ip := range p.IPs {
			if _, err := netip.ParseAddr(ip); err != nil {
				errs = append(errs, fmt.Sprintf("proxies.%s.ips: %q is not an IP address", id, ip))
			}
		}
		if p.Type == "waypoint" && !r.ambient() {
			errs = append(errs, fmt.Sprintf("proxies.%s is a waypoint but mesh.ambient is false", id))
		}
	}
	seen := map[string]bool{}
	for i, c := range r.Calls {
		where := fmt.Sprintf("calls[%d] (%s)", i, c.ID)
		if c.ID == "" {
			errs = append(errs, fmt.Sprintf("calls[%d].id is empty", i))
		} else if seen[c.ID] {
			errs = append(errs, fmt.Sprintf("%s: id used twice", where))
		}
		seen[c.ID] = true
		p, ok := r.Proxies[c.Proxy]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: proxy %q is not in proxies", where, c.Proxy))
		}
		if _, err := netip.ParseAddr(c.Address); err != nil {
			errs = append(errs, fmt.Sprintf("%s: address %q is not an IP address", where, c.Address))
		}
		if c.Port < 1 || c.Port > 65535 {
			errs = append(errs, fmt.Sprintf("%s: port %d is not 1-65535", where, c.Port))
		}
		switch c.Protocol {
		case "tcp", "http", "http2":
		default:
			errs = append(errs, fmt.Sprintf("%s: protocol %q: want tcp, http or http2", where, c.Protocol))
		}
		switch {
		case c.Mode != "outbound" && c.Mode != "gateway" && c.Mode != "waypoint":
			errs = append(errs, fmt.Sprintf("%s: mode %q: want outbound, gateway or waypoint", where, c.Mode))
		case ok && (c.Mode == "waypoint") != (p.Type == "waypoint"):
			errs = append(errs, fmt.Sprintf("%s: mode %s on a %s proxy: waypoint calls go to waypoint proxies only", where, c.Mode, p.Type))
		}
	}
	return errs
}
