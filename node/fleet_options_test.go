package node

import (
	"reflect"
	"testing"
	"time"
)

// TestSplitFleetKeys: fleet keys come out of -Z by their full names, the
// rest is left for ParseBehavior in its order, and a bad value names its key.
func TestSplitFleetKeys(t *testing.T) {
	f, rest, err := splitFleetKeys("downstream_max=8, cluster_bind=127.0.0.2:7946,cluster_join=a|b:7000," +
		"cluster_reap=90s,cluster_join_timeout=1500,cluster_voters=5,timeout=300,admin_listen=127.0.0.2:8290,admin_pprof=true,log_format=json")
	if err != nil {
		t.Fatal(err)
	}
	want := defaultFleetOptions()
	want.Bind, want.Join, want.Reap = "127.0.0.2:7946", []string{"a", "b:7000"}, 90*time.Second
	want.JoinTimeout, want.Voters, want.Admin = 1500*time.Millisecond, 5, "127.0.0.2:8290"
	want.Pprof, want.LogFormat = true, "json"
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got %+v, want %+v", f, want)
	}
	if rest != "downstream_max=8,timeout=300" {
		t.Errorf("rest %q, want the proxy behaviors in order", rest)
	}
	for _, bad := range []string{"cluster_voters=x", "cluster_reap=soon", "cluster_fast=maybe", "admin_pprof=on", "log_format=xml"} {
		if _, _, err := splitFleetKeys(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
