// Copyright: Contributors to the meshops.aws_egress project
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

package xds

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/gvk"
	"istio.io/istio/pkg/config/schema/resource"
	kubelib "istio.io/istio/pkg/kube"
)

// inputs is the request's YAML, sorted into what istiod's two sources read:
// its config store (Istio config) and the Kubernetes API (everything the
// Kubernetes registry, the Gateway API controller and the ambient index watch).
type inputs struct {
	configs  []config.Config
	kube     []runtime.Object
	rejected []Rejected
	warnings []Rejected
}

// Top-level fields an Istio object may have; `istioctl validate` refuses others.
var objectFields = map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "spec": true, "status": true}

func splitYAML(s string) ([][]byte, error) {
	reader := kubeyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(s)))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(string(doc)) != "" && strings.TrimSpace(string(doc)) != "---" {
			docs = append(docs, doc)
		}
	}
}

// parseInputs validates the Istio config as `istioctl validate` does (strict
// decoding, then the kind's own validation) and decodes the Kubernetes
// objects. Whatever is refused is reported, never silently dropped.
func parseInputs(req *Request) (*inputs, error) {
	in := &inputs{}
	// One creation time for all, as istio's own test fixtures do: conflicts
	// between objects are then decided by name, not by parsing order.
	created := time.Now()
	docs, err := splitYAML(req.Config)
	if err != nil {
		return nil, fmt.Errorf("config is not YAML: %v", err)
	}
	for _, doc := range docs {
		in.addConfig(doc, created, req.ambient())
	}
	docs, err = splitYAML(req.Kubernetes)
	if err != nil {
		return nil, fmt.Errorf("kubernetes is not YAML: %v", err)
	}
	for _, doc := range docs {
		obj, k, err := kubelib.IstioCodec.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			in.reject("kubernetes", doc, err)
			continue
		}
		// Istio config given here would reach only some of istiod's sources.
		if _, istio := collections.PilotGatewayAPI().FindByGroupVersionAliasesKind(config.GroupVersionKind{
			Group: k.Group, Version: k.Version, Kind: k.Kind,
		}); istio {
			in.reject("kubernetes", doc, fmt.Errorf("%s is Istio or Gateway API config; it goes in \"config\"", k.Kind))
			continue
		}
		in.kube = append(in.kube, obj)
	}
	return in, nil
}

func (in *inputs) addConfig(doc []byte, created time.Time, ambient bool) {
	un := map[string]any{}
	if err := yaml.UnmarshalStrict(doc, &un); err != nil {
		in.reject("config", doc, err)
		return
	}
	var unknown []string
	for key := range un {
		if !objectFields[key] {
			unknown = append(unknown, fmt.Sprintf("unknown field %q", key))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		in.reject("config", doc, errors.New(strings.Join(unknown, "; ")))
		return
	}
	fillWaypointStatus(un)
	obj := crd.IstioKind{}
	js, _ := json.Marshal(un)
	if err := json.Unmarshal(js, &obj); err != nil {
		in.reject("config", doc, err)
		return
	}
	k := obj.GroupVersionKind()
	schema, ok := collections.PilotGatewayAPI().FindByGroupVersionAliasesKind(config.GroupVersionKind{
		Group: k.Group, Version: k.Version, Kind: k.Kind,
	})
	if !ok {
		in.reject("config", doc, fmt.Errorf("%s is not an Istio or Gateway API kind; Kubernetes objects go in \"kubernetes\"", obj.APIVersion+"/"+obj.Kind))
		return
	}
	if obj.Namespace == "" && !schema.IsClusterScoped() {
		obj.Namespace = metav1.NamespaceDefault
	}
	if obj.CreationTimestamp.IsZero() {
		obj.CreationTimestamp = metav1.NewTime(created)
	}
	cfg, err := crd.ConvertObjectInternal(schema, &obj, "", strictSpec)
	if err != nil {
		in.reject("config", doc, err)
		return
	}
	warning, err := schema.ValidateConfig(*cfg)
	if warning != nil {
		in.warnings = append(in.warnings, Rejected{Source: "config", Kind: cfg.GroupVersionKind.Kind,
			Namespace: cfg.Namespace, Name: cfg.Name, Error: warning.Error()})
	}
	if err != nil {
		in.rejected = append(in.rejected, Rejected{Source: "config", Kind: cfg.GroupVersionKind.Kind,
			Namespace: cfg.Namespace, Name: cfg.Name, Error: err.Error()})
		return
	}
	// The Gateway API controller reads its kinds from the Kubernetes API only,
	// and so does the ambient index (ServiceEntry, AuthorizationPolicy, ...).
	// istio's own waypoint tests give such config to both sources; so do we.
	if cfg.GroupVersionKind.Group == gvk.KubernetesGateway.Group || ambient {
		meta, _ := un["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			un["metadata"] = meta
		}
		if _, ok := meta["namespace"]; !ok && !schema.IsClusterScoped() {
			meta["namespace"] = obj.Namespace
		}
		js, _ := json.Marshal(un)
		kobj, _, err := kubelib.IstioCodec.UniversalDeserializer().Decode(js, nil, nil)
		if err != nil {
			in.rejected = append(in.rejected, Rejected{Source: "config", Kind: cfg.GroupVersionKind.Kind,
				Namespace: cfg.Namespace, Name: cfg.Name, Error: "cannot load into the Kubernetes API: " + err.Error()})
			return
		}
		in.kube = append(in.kube, kobj)
	}
	in.configs = append(in.configs, *cfg)
}

// strictSpec decodes a spec refusing unknown fields, as `istioctl validate` does.
func strictSpec(s resource.Schema, js string) (config.Spec, error) {
	spec, err := s.NewInstance()
	if err != nil {
		return nil, err
	}
	if err := config.ApplyJSONStrict(spec, js); err != nil {
		return nil, err
	}
	return spec, nil
}

// fillWaypointStatus gives an istio-waypoint Gateway without status the
// address istiod's deployment controller writes once the waypoint is ready
// (its Service's hostname). The ambient index ignores Gateways without one.
func fillWaypointStatus(un map[string]any) {
	if un["kind"] != gvk.KubernetesGateway.Kind || !strings.HasPrefix(fmt.Sprint(un["apiVersion"]), gvk.KubernetesGateway.Group+"/") {
		return
	}
	spec, _ := un["spec"].(map[string]any)
	meta, _ := un["metadata"].(map[string]any)
	if spec == nil || meta == nil || spec["gatewayClassName"] != "istio-waypoint" {
		return
	}
	status, _ := un["status"].(map[string]any)
	if status == nil {
		status = map[string]any{}
		un["status"] = status
	}
	if _, ok := status["addresses"]; ok {
		return
	}
	ns, _ := meta["namespace"].(string)
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	status["addresses"] = []any{map[string]any{
		"type":  "Hostname",
		"value": fmt.Sprintf("%v.%s.svc.cluster.local", meta["name"], ns),
	}}
}

// reject records a document that could not even be decoded, naming it as far
// as it can be read.
func (in *inputs) reject(source string, doc []byte, err error) {
	var head struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	_ = yaml.Unmarshal(doc, &head)
	in.rejected = append(in.rejected, Rejected{Source: source, Kind: head.Kind,
		Namespace: head.Metadata.Namespace, Name: head.Metadata.Name, Error: err.Error()})
}
