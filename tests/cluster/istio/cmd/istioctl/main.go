// Command istioctl is upstream istioctl, built from the Istio release branch
// whose CRDs the local clusters carry. We use it offline only:
// `istioctl validate -f` and `istioctl analyze --use-kube=false`.
package main

import (
	"fmt"
	"os"

	"istio.io/istio/istioctl/cmd"
	"istio.io/istio/pkg/log"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	if err := cmd.ConfigAndEnvProcessing(); err != nil {
		fmt.Fprintf(os.Stderr, "Could not initialize: %v\n", err)
		os.Exit(cmd.GetExitCode(err))
	}
	root := cmd.GetRootCmd(os.Args[1:])
	log.EnableKlogWithCobra()
	if err := root.Execute(); err != nil {
		os.Exit(cmd.GetExitCode(err))
	}
}
