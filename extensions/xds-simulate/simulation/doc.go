// Copyright: Contributors to the meshops.aws_egress project
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

// Package simulation is istio's pilot/pkg/simulation (traffic.go, Apache-2.0,
// Copyright Istio Authors) at the istio.io/istio version go.mod pins, with one
// change: its NewSimulation function and the pilot/test/xds import it needs
// are removed; NewSimulationFromConfigGen, which the harness uses, is kept.
//
// Why a copy: pilot/test/xds imports pilot/pkg/bootstrap, which imports
// github.com/agentgateway/agentgateway/api at a version the Go module proxy
// does not serve (403), so neither package can be built here. Nothing else in
// traffic.go depends on them.
//
// traffic.go must stay byte-for-byte upstream minus that function and import:
// tests/cluster/localcluster.py checks it against the module cache before
// every build of xds-simulate and refuses to build a stale copy.
package simulation
