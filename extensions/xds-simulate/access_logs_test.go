// Copyright: Contributors to the meshops.aws_egress project
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

package xds

import (
	"encoding/json"
	"fmt"

	accesslog "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	celfilter "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	fileaccesslog "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxy "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/google/cel-go/cel"
	"google.golang.org/protobuf/encoding/protojson"

	"istio.io/istio/pkg/wellknown"
)

// chainAccessLogs lists the access logs of a filter chain's TCP proxy and
// HTTP connection manager: where a connection or request that chain takes is
// logged, whatever its outcome.
func chainAccessLogs(fc *listener.FilterChain) []AccessLog {
	out := []AccessLog{}
	for _, f := range fc.GetFilters() {
		switch f.GetName() {
		case wellknown.TCPProxy:
			t := &tcpproxy.TcpProxy{}
			if err := f.GetTypedConfig().UnmarshalTo(t); err == nil {
				out = append(out, accessLogs("tcp_proxy", t.GetAccessLog())...)
			}
		case wellknown.HTTPConnectionManager:
			h := &hcm.HttpConnectionManager{}
			if err := f.GetTypedConfig().UnmarshalTo(h); err == nil {
				out = append(out, accessLogs("http_connection_manager", h.GetAccessLog())...)
			}
		}
	}
	return out
}

// accessLogs describes access logs as the contract says (AccessLog).
func accessLogs(where string, logs []*accesslog.AccessLog) []AccessLog {
	out := []AccessLog{}
	for _, al := range logs {
		entry := AccessLog{Where: where, Logger: al.GetName(), OtherFilter: json.RawMessage("null")}
		file := &fileaccesslog.FileAccessLog{}
		if al.GetTypedConfig() != nil && al.GetTypedConfig().UnmarshalTo(file) == nil {
			entry.Path = file.GetPath()
		}
		if filter := al.GetFilter(); filter != nil {
			cel := &celfilter.ExpressionFilter{}
			ext := filter.GetExtensionFilter()
			if ext != nil && ext.GetTypedConfig().UnmarshalTo(cel) == nil {
				entry.Filter = cel.GetExpression()
			} else if js, err := protojson.Marshal(filter); err == nil {
				entry.OtherFilter = js
			}
		}
		out = append(out, entry)
	}
	return out
}

// celAttributes are the attribute maps of Envoy's CEL environment a filter may name.
var celAttributes = []string{"request", "response", "connection", "upstream", "source", "destination", "xds", "metadata", "filter_state"}

// evaluateFilter evaluates a CEL access log filter on the call's known
// attributes, as the contract says (AccessLog.FilterResult).
func evaluateFilter(expression string, res CallResult) string {
	if expression == "" {
		return ""
	}
	opts := []cel.EnvOption{}
	for _, name := range celAttributes {
		opts = append(opts, cel.Variable(name, cel.MapType(cel.StringType, cel.DynType)))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return "error: " + err.Error()
	}
	ast, issues := env.Compile(expression)
	if issues != nil && issues.Err() != nil {
		return "error: " + issues.Err().Error()
	}
	program, err := env.Program(ast)
	if err != nil {
		return "error: " + err.Error()
	}
	xds := map[string]any{}
	if res.Cluster != "" {
		xds["cluster_name"] = res.Cluster
	}
	if res.Route != "" {
		xds["route_name"] = res.Route
	}
	activation := map[string]any{}
	for _, name := range celAttributes {
		activation[name] = map[string]any{}
	}
	activation["xds"] = xds
	out, _, err := program.Eval(activation)
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprint(out.Value())
}
