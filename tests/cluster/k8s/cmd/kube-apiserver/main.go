// Command kube-apiserver is the upstream Kubernetes API server with an
// optional etcd running in the same process, so that one local test cluster
// is one process: one pid file to stop, nothing left behind.
//
// The embedded etcd is enabled by three flags of our own, which are removed
// from the command line before the upstream flags are parsed:
//
//	--embedded-etcd-dir=DIR          etcd data directory
//	--embedded-etcd-client-url=URL   e.g. http://127.0.0.1:23790
//	--embedded-etcd-peer-url=URL     e.g. http://127.0.0.1:23800
//
// Pass the client URL again as --etcd-servers.
package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	_ "time/tzdata"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

const prefix = "--embedded-etcd-"

func main() {
	own, rest := splitFlags(os.Args[1:])
	if own["dir"] != "" {
		if err := startEtcd(own); err != nil {
			fmt.Fprintf(os.Stderr, "embedded etcd: %v\n", err)
			os.Exit(1)
		}
	}
	os.Args = append(os.Args[:1], rest...)
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}

// splitFlags takes our --embedded-etcd-* flags out of args.
func splitFlags(args []string) (map[string]string, []string) {
	own := map[string]string{}
	var rest []string
	for _, a := range args {
		if !strings.HasPrefix(a, prefix) {
			rest = append(rest, a)
			continue
		}
		key, value, _ := strings.Cut(strings.TrimPrefix(a, prefix), "=")
		own[key] = value
	}
	return own, rest
}

func startEtcd(own map[string]string) error {
	client, err := url.Parse(own["client-url"])
	if err != nil || client.Host == "" {
		return fmt.Errorf("--embedded-etcd-client-url=%q is not a URL", own["client-url"])
	}
	peer, err := url.Parse(own["peer-url"])
	if err != nil || peer.Host == "" {
		return fmt.Errorf("--embedded-etcd-peer-url=%q is not a URL", own["peer-url"])
	}
	cfg := embed.NewConfig()
	cfg.Name = "local"
	cfg.Dir = own["dir"]
	cfg.ListenClientUrls = []url.URL{*client}
	cfg.AdvertiseClientUrls = []url.URL{*client}
	cfg.ListenPeerUrls = []url.URL{*peer}
	cfg.AdvertisePeerUrls = []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{filepath.Join(own["dir"], "..", "etcd.log")}
	// A throwaway test store: durability is not worth an fsync per write.
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	select {
	case <-e.Server.ReadyNotify():
		return nil
	case err := <-e.Err():
		return err
	case <-time.After(60 * time.Second):
		e.Close()
		return fmt.Errorf("not ready after 60s")
	}
}
