// Copyright: Contributors to the meshops.aws_egress project
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

package xds

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"

	istiolog "istio.io/istio/pkg/log"
)

var (
	requestFlag  = flag.String("request", "", "request JSON file (see contract_test.go)")
	responseFlag = flag.String("response", "", "where to write the response JSON")
	logLevelFlag = flag.String("log-level", "error", "istiod's log level on stderr: debug, info, warn, error or none")
	versionFlag  = flag.Bool("version", false, "print the source hash and the istio.io/istio version this binary was built from, as JSON")
)

// The hash of the source this binary was built from, set at link time by the
// builder (plugins/plugin_utils/simulation/build.py): the collection refuses a
// binary whose hash is not the one of its own extensions/xds-simulate/.
var sourceHash = "unknown"

// reexecMarker is set in the environment of the re-executed binary so that it
// does not re-execute again.
const reexecMarker = "XDS_SIMULATE_ENV_APPLIED"

// request is read once, in TestMain, before any simulation runs.
var request *Request

func TestMain(m *testing.M) {
	flag.Parse()
	if *versionFlag {
		out, _ := json.Marshal(map[string]string{"source": sourceHash, "istio": istioVersion})
		fmt.Println(string(out))
		os.Exit(0)
	}
	if *requestFlag != "" {
		req, err := readRequest(*requestFlag)
		if err != nil {
			fmt.Fprintln(os.Stderr, "xds-simulate:", err)
			os.Exit(2)
		}
		if *responseFlag == "" {
			fmt.Fprintln(os.Stderr, "xds-simulate: -request needs -response")
			os.Exit(2)
		}
		applyIstiodEnv(req)
		request = req
	}
	// Istio logs at info to stdout by default; the response goes to a file and
	// stderr is for diagnostics only.
	opts := istiolog.DefaultOptions()
	opts.OutputPaths = []string{"stderr"}
	opts.SetDefaultOutputLevel("all", istiolog.StringToLevel(*logLevelFlag))
	if err := istiolog.Configure(opts); err != nil {
		fmt.Fprintln(os.Stderr, "xds-simulate: cannot configure logging:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// applyIstiodEnv makes the process environment the one istiod would run with.
// istio reads its feature flags (PILOT_ENABLE_AMBIENT and everything derived
// from it) into package variables at start-up, before any code of ours runs,
// so the only faithful way to change them is to start again with them set.
func applyIstiodEnv(req *Request) {
	if os.Getenv(reexecMarker) == "1" {
		return
	}
	want := map[string]string{}
	for k, v := range req.IstiodEnv {
		want[k] = v
	}
	// Unset is istio's default, false: restart only when it must change.
	if req.ambient() {
		want["PILOT_ENABLE_AMBIENT"] = "true"
	} else if v, ok := os.LookupEnv("PILOT_ENABLE_AMBIENT"); ok && v != "false" {
		want["PILOT_ENABLE_AMBIENT"] = "false"
	}
	differs := false
	for k, v := range want {
		if cur, ok := os.LookupEnv(k); !ok || cur != v {
			differs = true
		}
	}
	if !differs {
		return
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// Go keeps the first of duplicate variables: drop ours before adding them.
	var env []string
	for _, kv := range os.Environ() {
		if _, ours := want[strings.SplitN(kv, "=", 2)[0]]; !ours {
			env = append(env, kv)
		}
	}
	for _, k := range keys {
		env = append(env, k+"="+want[k])
	}
	env = append(env, reexecMarker+"=1")
	self, err := os.Executable()
	if err == nil {
		err = syscall.Exec(self, os.Args, env)
	}
	fmt.Fprintln(os.Stderr, "xds-simulate: cannot re-execute with istiod's environment:", err)
	os.Exit(2)
}
