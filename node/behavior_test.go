package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/proxycore"
)

func TestParseBehaviorDefaults(t *testing.T) {
	got, err := ParseBehavior("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := proxycore.DefaultBehavior(); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseBehavior(t *testing.T) {
	tests := []struct {
		name  string
		z     string
		check func(b proxycore.Behavior) bool
	}{
		{"cycle", "cycle=100", func(b proxycore.Behavior) bool { return b.Cycle == 100*time.Millisecond }},
		{"cycle zero freezes clock", "cycle=0", func(b proxycore.Behavior) bool { return b.Cycle == 0 }},
		{"downstream_max", "downstream_max=8", func(b proxycore.Behavior) bool { return b.DownstreamMax == 8 }},
		{"concurrency alias", "concurrency=7", func(b proxycore.Behavior) bool { return b.DownstreamMax == 7 }},
		{"downstream_conn_max", "downstream_conn_max=2", func(b proxycore.Behavior) bool { return b.DownstreamConnMax == 2 }},
		{"weight alias", "weight=3", func(b proxycore.Behavior) bool { return b.DownstreamWeight == 3 }},
		{"retry alias", "retry=0", func(b proxycore.Behavior) bool { return b.DownstreamRetry == 0 }},
		{"protocol ascii", "protocol=ascii", func(b proxycore.Behavior) bool { return b.DownstreamProtocol == "ascii" }},
		{"protocol memcached-ascii", "downstream_protocol=memcached-ascii", func(b proxycore.Behavior) bool { return b.DownstreamProtocol == "ascii" }},
		{"protocol membase-ascii", "downstream_protocol=membase-ascii", func(b proxycore.Behavior) bool { return b.DownstreamProtocol == "ascii" }},
		{"protocol binary", "downstream_protocol=ascii,protocol=binary", func(b proxycore.Behavior) bool { return b.DownstreamProtocol == "binary" }},
		{"protocol memcached-binary", "protocol=ascii,protocol=memcached-binary", func(b proxycore.Behavior) bool { return b.DownstreamProtocol == "binary" }},
		{"protocol membase-binary", "protocol=ascii,protocol=membase-binary", func(b proxycore.Behavior) bool { return b.DownstreamProtocol == "binary" }},
		{"timeout alias", "timeout=1500", func(b proxycore.Behavior) bool { return b.DownstreamTimeout == 1500*time.Millisecond }},
		{"downstream_conn_timeout alias", "downstream_conn_timeout=7", func(b proxycore.Behavior) bool { return b.DownstreamTimeout == 7*time.Millisecond }},
		{"timeout zero disables", "downstream_timeout=0", func(b proxycore.Behavior) bool { return b.DownstreamTimeout == 0 }},
		{"downstream_conn_queue_timeout", "downstream_conn_queue_timeout=9", func(b proxycore.Behavior) bool { return b.DownstreamConnQueueTimeout == 9*time.Millisecond }},
		{"wait_queue_timeout", "wait_queue_timeout=10", func(b proxycore.Behavior) bool { return b.WaitQueueTimeout == 10*time.Millisecond }},
		{"connect_timeout", "connect_timeout=11", func(b proxycore.Behavior) bool { return b.ConnectTimeout == 11*time.Millisecond }},
		{"auth_timeout", "auth_timeout=12", func(b proxycore.Behavior) bool { return b.AuthTimeout == 12*time.Millisecond }},
		{"time_stats", "time_stats=1", func(b proxycore.Behavior) bool { return b.TimeStats }},
		{"mcs_opts", "mcs_opts=distribution:modula", func(b proxycore.Behavior) bool { return b.McsOpts == "distribution:modula" }},
		{"connect_max_errors", "connect_max_errors=0", func(b proxycore.Behavior) bool { return b.ConnectMaxErrors == 0 }},
		{"connect_retry_interval", "connect_retry_interval=1000", func(b proxycore.Behavior) bool { return b.ConnectRetryInterval == time.Second }},
		{"front cache", "front_cache_max=5,front_cache_lifespan=60000,front_cache_spec=a:|b:,front_cache_unspec=a:x", func(b proxycore.Behavior) bool {
			return b.FrontCacheMax == 5 && b.FrontCacheLifespan == time.Minute && b.FrontCacheSpec == "a:|b:" && b.FrontCacheUnspec == "a:x"
		}},
		{"key stats", "key_stats_max=1,key_stats_lifespan=2,key_stats_spec=k,key_stats_unspec=u", func(b proxycore.Behavior) bool {
			return b.KeyStatsMax == 1 && b.KeyStatsLifespan == 2*time.Millisecond && b.KeyStatsSpec == "k" && b.KeyStatsUnspec == "u"
		}},
		{"optimize_set", "optimize_set=a|b", func(b proxycore.Behavior) bool { return b.OptimizeSet == "a|b" }},
		{"credentials", "usr=alice,pwd=s3cret", func(b proxycore.Behavior) bool { return b.Usr == "alice" && b.Pwd == "s3cret" }},
		{"legacy host port", "host=h,port=11212", func(b proxycore.Behavior) bool { return b.Host == "h" && b.Port == 11212 }},
		{"bucket", "bucket=b1", func(b proxycore.Behavior) bool { return b.Bucket == "b1" }},
		{"port_listen", "port_listen=11311", func(b proxycore.Behavior) bool { return b.PortListen == 11311 }},
		{"default_bucket_name empty is legal", "default_bucket_name=", func(b proxycore.Behavior) bool { return b.DefaultBucketName == "" }},
		{"whitespace trimmed", "  downstream_max = 3 ,\n cycle= 7 ", func(b proxycore.Behavior) bool { return b.DownstreamMax == 3 && b.Cycle == 7*time.Millisecond }},
		{"empty items skipped", ",downstream_max=3,,", func(b proxycore.Behavior) bool { return b.DownstreamMax == 3 }},
		{"comments skipped", "#note=x,downstream_max=3,# bare comment", func(b proxycore.Behavior) bool { return b.DownstreamMax == 3 }},
		{"value keeps later =", "pwd=a=b", func(b proxycore.Behavior) bool { return b.Pwd == "a=b" }},
		{"last one wins", "downstream_max=1,downstream_max=2", func(b proxycore.Behavior) bool { return b.DownstreamMax == 2 }},
		// The wordeq quirk: a key is matched as a prefix, first in source order.
		{"prefix time is downstream_timeout", "time=5", func(b proxycore.Behavior) bool {
			return b.DownstreamTimeout == 5*time.Millisecond && !b.TimeStats
		}},
		{"prefix down is downstream_max", "down=3", func(b proxycore.Behavior) bool { return b.DownstreamMax == 3 }},
		{"prefix downstream_conn is downstream_conn_max", "downstream_conn=6", func(b proxycore.Behavior) bool { return b.DownstreamConnMax == 6 }},
		{"prefix c is cycle", "c=9", func(b proxycore.Behavior) bool { return b.Cycle == 9*time.Millisecond }},
		{"prefix conn is connect_timeout", "conn=13", func(b proxycore.Behavior) bool { return b.ConnectTimeout == 13*time.Millisecond }},
		{"prefix conc is concurrency", "conc=14", func(b proxycore.Behavior) bool { return b.DownstreamMax == 14 }},
		{"prefix p is protocol", "p=ascii", func(b proxycore.Behavior) bool { return b.DownstreamProtocol == "ascii" }},
		{"exact port beats port_listen", "port=5", func(b proxycore.Behavior) bool { return b.Port == 5 && b.PortListen == 11211 }},
		{"prefix port_l is port_listen", "port_l=5", func(b proxycore.Behavior) bool { return b.PortListen == 5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseBehavior(tt.z, nil)
			if err != nil {
				t.Fatalf("ParseBehavior(%q): %v", tt.z, err)
			}
			if !tt.check(b) {
				t.Errorf("ParseBehavior(%q) = %+v", tt.z, b)
			}
		})
	}
}

func TestParseBehaviorErrors(t *testing.T) {
	tests := []struct{ z, want string }{
		{"downstream_max=abc", "-Z: config error in key: downstream_max value: abc"},
		{"downstream_max=-1", "-Z: config error in key: downstream_max value: -1"},
		{"downstream_max=", "-Z: config error in key: downstream_max value: "},
		{"cycle=1.5", "-Z: config error in key: cycle value: 1.5"},
		{"timeout=99999999999", "-Z: config error in key: timeout value: 99999999999"},
		{"protocol=http", "-Z: config error in key: protocol value: http"},
		{"protocol=m", "-Z: config error in key: protocol value: m"},
		{"time_stats=yes", "-Z: config error in key: time_stats value: yes"},
		{"usr=" + strings.Repeat("u", 250), "-Z: config error in key: usr value: uuu"},
		{"front_cache_unspec=" + strings.Repeat("x", 100), "-Z: config error in key: front_cache_unspec"},
		{"bogus=1", "-Z: unknown behavior key: bogus"},
		{"downstream_maxx=1", "-Z: unknown behavior key: downstream_maxx"},
		{"=5", "-Z: unknown behavior key: "},
		{"downstream_max", "-Z: missing = after key: downstream_max"},
		{"cycle=1,oops", "-Z: missing = after key: oops"},
	}
	for _, tt := range tests {
		_, err := ParseBehavior(tt.z, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseBehavior(%q) error = %v, want prefix %q", tt.z, err, tt.want)
		}
	}
}

func TestParseBehaviorEnv(t *testing.T) {
	env := map[string]string{EnvSASLUser: "envuser", EnvSASLPassword: "envpwd"}
	getenv := func(k string) string { return env[k] }

	b, err := ParseBehavior("", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if b.Usr != "envuser" || b.Pwd != "envpwd" {
		t.Errorf("env seeding: got usr=%q pwd=%q", b.Usr, b.Pwd)
	}
	b, err = ParseBehavior("usr=flag", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if b.Usr != "flag" || b.Pwd != "envpwd" {
		t.Errorf("-Z overrides env: got usr=%q pwd=%q", b.Usr, b.Pwd)
	}
}

func TestParseBehaviorFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "behavior.cfg")
	if err := os.WriteFile(path, []byte("downstream_max=5,\n#comment=x,\ntimeout=100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := ParseBehavior(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.DownstreamMax != 5 || b.DownstreamTimeout != 100*time.Millisecond {
		t.Errorf("got %+v", b)
	}

	missing := filepath.Join(dir, "nope")
	_, err = ParseBehavior(missing, nil)
	want := "-Z: could not read behavior file: " + missing + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	if _, err := ParseBehavior("./no/such/file", nil); err == nil {
		t.Error("relative ./ path: want error")
	}
}

func TestBehaviorPairsShowsDefaults(t *testing.T) {
	pairs := BehaviorPairs(proxycore.DefaultBehavior())
	got := map[string]string{}
	for i, p := range pairs {
		got[p[0]] = p[1]
		if i == 0 && p[0] != "cycle" {
			t.Errorf("first key %q, want cycle", p[0])
		}
	}
	for k, want := range map[string]string{
		"cycle": "200", "downstream_max": "1024", "downstream_protocol": "binary",
		"downstream_timeout": "5000", "time_stats": "0", "port_listen": "11211",
		"default_bucket_name": proxycore.FirstBucket, "client_max_pending_bytes": "4194304",
		"front_cache_bytes": "67108864", "client_idle_timeout": "0",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	if len(pairs) != 34 {
		t.Errorf("got %d keys, want 34", len(pairs))
	}
	if a := BehaviorAliases("downstream_timeout"); len(a) != 2 || a[0] != "timeout" {
		t.Errorf("aliases = %v", a)
	}
}

// Every canonical name and alias must resolve to its own key, i.e. no
// earlier key in the table shadows it through prefix matching.
func TestBehaviorKeyNamesNotShadowed(t *testing.T) {
	for _, k := range behaviorKeys() {
		for _, name := range k.names {
			got, ok := lookupBehaviorKey(name)
			if !ok || got.names[0] != k.names[0] {
				t.Errorf("%q resolves to %v, want %s", name, got.names, k.names[0])
			}
		}
	}
}
