// Copyright: Contributors to the meshops.aws_egress project
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

package xds

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/gateway-api/pkg/consts"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/config/aggregate"
	"istio.io/istio/pilot/pkg/config/kube/extensions"
	"istio.io/istio/pilot/pkg/config/kube/gateway"
	"istio.io/istio/pilot/pkg/config/memory"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/networking/core"
	"istio.io/istio/pilot/pkg/serviceregistry"
	"istio.io/istio/pilot/pkg/serviceregistry/ambient"
	kube "istio.io/istio/pilot/pkg/serviceregistry/kube/controller"
	"istio.io/istio/pkg/activenotifier"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/mesh/meshwatcher"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/gatewayapi"
	"istio.io/istio/pkg/config/schema/gvr"
	kubelib "istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/kube/kclient/clienttest"
	"istio.io/istio/pkg/kube/krt"
	"istio.io/istio/pkg/kube/multicluster"
	"istio.io/istio/pkg/test"
)

// istiod is istiod's config generation with its real sources: the config
// store (Istio config), the ServiceEntry registry, the Kubernetes registry
// over a fake API client holding the request's objects, the Gateway API
// controller and, in ambient mode, the ambient index. It is wired as istio's
// pilot/test/xds.NewFakeDiscoveryServer does, less what only serves xDS over
// gRPC (that package cannot be built here: see simulation/doc.go).
type istiod struct {
	*core.ConfigGenTest
}

// clusterID is the one Kubernetes cluster, named as istiod names its own.
const clusterID = constants.DefaultClusterName

func newIstiod(t test.Failer, configs []config.Config, objects []runtime.Object, m *meshconfig.MeshConfig) *istiod {
	// One endpoint index, given to every registry before istiod's environment
	// exists; the environment takes it over below.
	index := model.NewEndpointIndex(model.DisabledCache{})
	updater := model.NewEndpointIndexUpdater(index)

	client := kubelib.NewFakeClient(objects...)
	// The custom resources the Gateway API controller and the ambient index
	// watch, so that their informers can sync. Gateway API CRDs carry the
	// bundle version istiod requires of them, as installed ones do.
	for _, crd := range []schema.GroupVersionResource{
		gvr.AuthorizationPolicy, gvr.PeerAuthentication, gvr.WorkloadEntry, gvr.ServiceEntry,
		gvr.GatewayClass, gvr.KubernetesGateway, gvr.HTTPRoute, gvr.GRPCRoute, gvr.TCPRoute,
		gvr.TLSRoute, gvr.ReferenceGrant,
	} {
		annotations := map[string]string{}
		if v, ok := gatewayapi.MinimumCRDVersions[crd.Resource+"."+crd.Group]; ok {
			annotations[consts.BundleVersionAnnotation] = "v" + v.String()
		}
		clienttest.MakeCRDWithAnnotations(t, client, crd, annotations)
	}
	registry, _ := kube.NewFakeControllerWithOptions(t, kube.FakeControllerOptions{
		Client:          client,
		ClusterID:       clusterID,
		DomainSuffix:    constants.DefaultClusterLocalDomain,
		XDSUpdater:      updater,
		SkipRun:         true,
		ConfigCluster:   true,
		MeshWatcher:     meshwatcher.NewTestWatcher(m),
		SystemNamespace: m.GetRootNamespace(),
	})
	// Made after the registry, so that it is closed before the registry's
	// cleanup shuts the client down (cleanups run last-in first-out); the
	// other order waits forever for informers that never stop.
	stop := test.NewStop(t)

	var gatewayAPI *gateway.Controller
	cg := core.NewConfigGenTest(t, core.TestOptions{
		Configs:           configs,
		ConfigController:  memory.NewController(collections.PilotGatewayAPI(), true),
		MeshConfig:        m,
		XDSUpdater:        updater,
		ServiceRegistries: []serviceregistry.Instance{registry},
		CreateConfigStore: func(c model.ConfigStoreController) model.ConfigStoreController {
			ext := extensions.NewController(c, updater, krt.GlobalDebugHandler)
			gatewayAPI = gateway.NewController(client, func(schema.GroupVersionResource, <-chan struct{}) bool { return true },
				kube.Options{DomainSuffix: constants.DefaultClusterLocalDomain}, updater)
			multi, _ := aggregate.MakeCache([]model.ConfigStoreController{ext, gatewayAPI})
			return multi
		},
		SkipRun:   true,
		ClusterID: clusterID,
	})
	env := cg.Env()
	env.EndpointIndex = index
	env.GatewayAPIController = gatewayAPI

	synced := []cache.InformerSynced{cg.Registry.HasSynced, cg.Store().HasSynced}
	var ambientIndex ambient.Index
	if features.EnableAmbient {
		watcher := meshwatcher.NewTestWatcher(m)
		mc := multicluster.NewController(multicluster.ControllerOptions{
			Client:          client,
			ClusterID:       clusterID,
			SystemNamespace: m.GetRootNamespace(),
			MeshConfig:      watcher,
			Debugger:        krt.GlobalDebugHandler,
		})
		// As istiod starts: collections first, informers after.
		ambientIndex = ambient.New(ambient.Options{
			SystemNamespace:        m.GetRootNamespace(),
			DomainSuffix:           constants.DefaultClusterLocalDomain,
			ClusterID:              clusterID,
			XDSUpdater:             updater,
			MeshConfig:             watcher,
			StatusNotifier:         activenotifier.New(false),
			Debugger:               krt.GlobalDebugHandler,
			MultiClusterController: mc,
			Flags: ambient.FeatureFlags{
				DefaultAllowFromWaypoint:              features.DefaultAllowFromWaypoint,
				EnableK8SServiceSelectWorkloadEntries: features.EnableK8SServiceSelectWorkloadEntries,
			},
		})
		if err := mc.Run(stop); err != nil {
			t.Fatal(err)
		}
		env.AmbientIndexes = ambientIndex
		synced = append(synced, ambientIndex.HasSynced)
	}
	client.RunAndWait(stop)
	// WorkloadEntries and Pods select each other's services, as in istiod.
	cg.ServiceEntryRegistry.AppendWorkloadHandler(registry.WorkloadInstanceHandler)
	registry.AppendWorkloadHandler(cg.ServiceEntryRegistry.WorkloadInstanceHandler)
	if ambientIndex != nil {
		go ambientIndex.Run(stop)
	}

	// The Gateway API controller reports itself synced only after a push
	// context has reconciled it, and ConfigGenTest.Run waits for that: push,
	// as istiod does while it starts, once the service registries have synced.
	early := make(chan struct{})
	go func() {
		defer close(early)
		if kubelib.WaitForCacheSync("xds-simulate registries", stop, cg.Registry.HasSynced) {
			push(env)
		}
	}()
	cg.Run()
	kubelib.WaitForCacheSync("xds-simulate", stop, synced...)
	cg.ServiceEntryRegistry.ResyncEDS()
	if err := env.InitNetworksManager(updater); err != nil {
		t.Fatal(err)
	}
	// The push context the proxies get: everything loaded and synced, and
	// never replaced by the early one.
	<-early
	push(env)
	return &istiod{ConfigGenTest: cg}
}

// push builds a new push context, as each istiod push does.
func push(env *model.Environment) {
	pc := model.NewPushContext()
	pc.InitContext(env, env.PushContext(), nil)
	env.SetPushContext(pc)
}
