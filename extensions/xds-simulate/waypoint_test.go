// Copyright: Contributors to the meshops.aws_egress project
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

package xds

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"

	xdscore "github.com/cncf/xds/go/xds/core/v3"
	matcher "github.com/cncf/xds/go/xds/type/matcher/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/wellknown"

	"meshops.io/aws-egress/xds-simulate/simulation"
)

// A waypoint takes HBONE on its connect_terminate listener (15008), which
// hands every tunnelled connection to the internal listener main_internal with
// the original destination (service VIP and port). main_internal chooses its
// filter chain with a filter_chain_matcher (Envoy's unified matcher tree:
// destination IP, then port, then the sniffed protocol), not with the per-chain
// filter_chain_match that istio's simulation package implements: that package
// cannot pick a waypoint chain, and its listener lookup never selects an
// internal listener. So for waypoint calls the harness evaluates the matcher
// tree itself (below) and then lets istio's simulation run the chosen chain
// (HTTP route, virtual host, cluster) exactly as for sidecars and gateways.

const (
	connectTerminate = "connect_terminate"
	mainInternal     = "main_internal"
)

// matchInputs are the values Envoy's matcher inputs would read for one call.
type matchInputs map[string]string

func waypointInputs(l *listener.Listener, call simulation.Call) matchInputs {
	in := matchInputs{
		"ip":                 call.Address,
		"port":               fmt.Sprint(call.Port),
		"transport-protocol": "raw_buffer",
	}
	tlsInspected := listenerFilterActive(l, wellknown.TLSInspector, call.Port)
	if call.TLS != simulation.Plaintext && call.TLS != "" && tlsInspected {
		in["transport-protocol"] = "tls"
		in["sni"] = call.Sni
	}
	// Envoy's application-protocol input renders the detected protocols as a
	// quoted list: the HTTP inspector detects 'http/1.1' or 'h2c' in plaintext.
	if (call.TLS == simulation.Plaintext || call.TLS == "") && listenerFilterActive(l, wellknown.HTTPInspector, call.Port) {
		switch call.Protocol {
		case simulation.HTTP:
			in["application-protocol"] = "'http/1.1'"
		case simulation.HTTP2:
			in["application-protocol"] = "'h2c'"
		}
	}
	return in
}

func listenerFilterActive(l *listener.Listener, name string, port int) bool {
	f, ok := xdstest.ExtractListenerFilters(l)[name]
	if !ok {
		return false
	}
	return f.GetFilterDisabled() == nil || !xdstest.EvaluateListenerFilterPredicates(f.GetFilterDisabled(), port)
}

var errNoMatch = errors.New("no filter chain matched")

// evalMatcher walks a matcher tree and returns the chain name of the action
// it reaches. Inputs the call does not set (filter state written by other
// filters) never match, so their on_no_match applies.
func evalMatcher(m *matcher.Matcher, in matchInputs) (string, error) {
	if m == nil {
		return "", errNoMatch
	}
	name, err := evalTree(m.GetMatcherTree(), in)
	if err == nil {
		return name, nil
	}
	if !errors.Is(err, errNoMatch) {
		return "", err
	}
	if m.GetOnNoMatch() != nil {
		return evalOnMatch(m.GetOnNoMatch(), in)
	}
	return "", errNoMatch
}

func evalOnMatch(om *matcher.Matcher_OnMatch, in matchInputs) (string, error) {
	switch v := om.GetOnMatch().(type) {
	case *matcher.Matcher_OnMatch_Action:
		return actionName(v.Action), nil
	case *matcher.Matcher_OnMatch_Matcher:
		return evalMatcher(v.Matcher, in)
	}
	return "", fmt.Errorf("unsupported on_match %T", om.GetOnMatch())
}

func actionName(a *xdscore.TypedExtensionConfig) string {
	s := &wrapperspb.StringValue{}
	if err := a.GetTypedConfig().UnmarshalTo(s); err == nil && s.GetValue() != "" {
		return s.GetValue()
	}
	return a.GetName()
}

func evalTree(t *matcher.Matcher_MatcherTree, in matchInputs) (string, error) {
	if t == nil {
		return "", errNoMatch
	}
	input := t.GetInput().GetName()
	value, set := in[input]
	known := map[string]bool{"ip": true, "port": true, "sni": true, "transport-protocol": true,
		"application-protocol": true, "authority-filter-state": true, "request-source-filter-state": true}
	if !known[input] {
		return "", fmt.Errorf("the harness cannot evaluate matcher input %q", input)
	}
	switch tt := t.GetTreeType().(type) {
	case *matcher.Matcher_MatcherTree_ExactMatchMap:
		if !set {
			return "", errNoMatch
		}
		om, ok := tt.ExactMatchMap.GetMap()[value]
		if !ok {
			return "", errNoMatch
		}
		return evalOnMatch(om, in)
	case *matcher.Matcher_MatcherTree_CustomMatch:
		ipm := &matcher.IPMatcher{}
		if err := tt.CustomMatch.GetTypedConfig().UnmarshalTo(ipm); err != nil {
			return "", fmt.Errorf("the harness cannot evaluate custom matcher %s", tt.CustomMatch.GetTypedConfig().GetTypeUrl())
		}
		if !set {
			return "", errNoMatch
		}
		return evalIPMatcher(ipm, value, in)
	}
	return "", fmt.Errorf("the harness cannot evaluate matcher tree %T", t.GetTreeType())
}

// evalIPMatcher follows Envoy's IP matcher: the most specific range first, and
// a less specific one only when the more specific one's matcher fails and is
// not exclusive.
func evalIPMatcher(ipm *matcher.IPMatcher, value string, in matchInputs) (string, error) {
	addr, err := netip.ParseAddr(value)
	if err != nil {
		return "", errNoMatch
	}
	type candidate struct {
		bits int
		rm   *matcher.IPMatcher_IPRangeMatcher
	}
	var cands []candidate
	for _, rm := range ipm.GetRangeMatchers() {
		best := -1
		for _, r := range rm.GetRanges() {
			p, err := netip.ParsePrefix(fmt.Sprintf("%s/%d", r.GetAddressPrefix(), r.GetPrefixLen().GetValue()))
			if err == nil && p.Contains(addr) && p.Bits() > best {
				best = p.Bits()
			}
		}
		if best >= 0 {
			cands = append(cands, candidate{best, rm})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].bits > cands[j].bits })
	for _, c := range cands {
		name, err := evalOnMatch(c.rm.GetOnMatch(), in)
		if err == nil || !errors.Is(err, errNoMatch) || c.rm.GetExclusive() {
			return name, err
		}
	}
	return "", errNoMatch
}

// waypointListeners returns, for a call, the one-chain listener istio's
// simulation can run: main_internal's chosen chain, reachable at the call's
// own address, with main_internal's listener filters (HTTP/TLS inspection).
func waypointListeners(ls []*listener.Listener, call simulation.Call) ([]*listener.Listener, error) {
	if xdstest.ExtractListener(connectTerminate, ls) == nil {
		return nil, fmt.Errorf("the waypoint has no %s listener: it accepts no HBONE", connectTerminate)
	}
	internal := xdstest.ExtractListener(mainInternal, ls)
	if internal == nil {
		return nil, fmt.Errorf("the waypoint has no %s listener", mainInternal)
	}
	call = call.FillDefaults()
	name, err := evalMatcher(internal.GetFilterChainMatcher(), waypointInputs(internal, call))
	if err != nil {
		if errors.Is(err, errNoMatch) {
			return nil, simulation.ErrNoFilterChain
		}
		return nil, err
	}
	chain := xdstest.ExtractFilterChain(name, internal)
	if chain == nil {
		return nil, fmt.Errorf("the matcher chose filter chain %q, which %s does not have", name, mainInternal)
	}
	chain = proto.Clone(chain).(*listener.FilterChain)
	chain.FilterChainMatch = nil
	return []*listener.Listener{{
		Name:            mainInternal,
		Address:         socketAddress(call.Address, call.Port),
		ListenerFilters: internal.GetListenerFilters(),
		FilterChains:    []*listener.FilterChain{chain},
	}}, nil
}

func socketAddress(ip string, port int) *core.Address {
	return &core.Address{Address: &core.Address_SocketAddress{SocketAddress: &core.SocketAddress{
		Address:       ip,
		PortSpecifier: &core.SocketAddress_PortValue{PortValue: uint32(port)},
	}}}
}
