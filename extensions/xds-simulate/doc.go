// Copyright: Contributors to the meshops.aws_egress project
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

// Package xds is the xDS simulation harness: a test binary (`go test -c`)
// that runs istiod's own config generator in-process and reports what a
// sidecar, gateway or waypoint proxy would do with a given call.
//
// Istio's simulation package needs a real *testing.T, so the harness is a test,
// TestSimulate, driven by flags:
//
//	xds-simulate -test.run '^TestSimulate$' -request req.json -response resp.json
//	xds-simulate -version    # the hash of the source it was built from, as JSON
//
// It is built by the collection itself (plugins/plugin_utils/simulation/build.py),
// which links that hash in and refuses a binary built from other source.
//
// The request and response formats are the contract in contract_test.go;
// README.md ("The xDS simulation harness") says what the results prove and
// what they do not.
package xds
