package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/couchbase/gomemcached"
)

// The test's secrets: none may show in any output moxi makes.
const (
	secretBucketPW = "bkt-pw-5e1d9c"
	secretAdminPW  = "adm-pw-a87f30"
	secretZPwd     = "zpwd-pw-c4b21e"
	secretGossip   = "bW94aS10ZXN0LWdvc3NpcC1rZXktMzJieXRlcyEhISE=" // 32 bytes, base64
)

// TestSecretsNeverShown: bucket saslPasswords, REST credentials (in
// auth= and in a URL), -Z pwd and the gossip key never appear in moxi's
// logs at -vvv, /status, /status/history, /fleet, the page, /metrics,
// stats proxy (all of it, config included) or stats, standalone or in a
// fleet, while clients log in to the SASL bucket and use it.
func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"standalone", "fleet"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			m := startMock(t, "-rest", "127.0.0.1:0", "-nodes", "2", "-vbuckets", "64",
				"-buckets", "default,other:"+secretBucketPW, "-admin-password", secretAdminPW)
			url := strings.Replace(m.rest, "http://", "http://Administrator:"+secretAdminPW+"@", 1) +
				"/pools/default/saslBucketsStreaming"
			admin := "127.0.0.1:" + strconv.Itoa(freePort(t))
			z := "pwd=" + secretZPwd + ",admin_listen=" + admin
			var moxi *proc
			var addr string
			if mode == "standalone" {
				moxi = startMoxi(t, func(port int) []string {
					return []string{"-vvv", "-Z", "port_listen=" + strconv.Itoa(port) + "," + z, "-z",
						"url=" + url + ",auth=Administrator%" + secretAdminPW}
				})
				addr = moxi.Addr
			} else {
				f := startFleet(t, 1, fleetOptions{Source: "url=" + url, Extra: "pwd=" + secretZPwd + ",cluster_key=" + secretGossip,
					Verbosity: "-vvv"})
				moxi, admin, addr = f.Nodes[0].proc(), f.Nodes[0].Admin, f.Nodes[0].Addr
			}
			useSASLBucket(t, addr)
			outputs := map[string]string{}
			for _, path := range []string{"/status", "/status/history", "/fleet", "/", "/metrics"} {
				waitHTTP(t, "http://"+admin+"/health", http.StatusOK)
				outputs["GET "+path] = scrapeRaw(t, "http://"+admin+path)
			}
			for _, cmd := range []string{"stats proxy", "stats proxy config", "stats proxy settings", "stats", "stats proxy keystats"} {
				outputs[cmd] = fmt.Sprint(statsOf(t, addr, cmd))
			}
			outputs["log"] = moxi.Output()
			// The outputs were read for real: -vvv logs per command, and
			// the status names its (redacted) source.
			if !strings.Contains(outputs["log"], "level=DEBUG") || !strings.Contains(outputs["GET /status"], "****") {
				t.Errorf("no -vvv log lines, or /status shows no redacted source:\n%s", outputs["GET /status"])
			}
			if !strings.Contains(outputs["stats proxy config"], "****") && mode == "standalone" {
				t.Errorf("stats proxy config shows no redacted password:\n%s", outputs["stats proxy config"])
			}
			for name, out := range outputs {
				for _, secret := range []string{secretBucketPW, secretAdminPW, secretZPwd, secretGossip} {
					if i := strings.Index(out, secret); i >= 0 {
						t.Errorf("%s shows a secret: ...%s...", name, out[max(0, i-80):min(len(out), i+len(secret)+20)])
					}
				}
			}
		})
	}
}

// useSASLBucket logs a binary client in to the SASL bucket "other" and
// uses it, and a text client uses "default".
func useSASLBucket(t *testing.T, addr string) {
	t.Helper()
	text := newVBClient(addr)
	waitServing(t, text, startTimeout)
	bin := dialGomemcached(t, addr)
	if res, err := bin.Auth("other", secretBucketPW); err != nil || res.Status != gomemcached.SUCCESS {
		t.Fatalf("auth as other: %v %v", res, err)
	}
	if _, err := bin.Set(0, "k", 0, 0, []byte("in-other")); err != nil {
		t.Fatalf("set in other: %v", err)
	}
	if res, err := bin.Get(0, "k"); err != nil || string(res.Body) != "in-other" {
		t.Fatalf("get in other: %v %v", res, err)
	}
}
