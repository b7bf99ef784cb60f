package main

import (
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
)

// TestStateSurvivesRestart stops the mock after a rebalance and starts a
// new one from the state file: same node ports, same map, a newer map
// version, even though -nodes asks for something else.
func TestStateSurvivesRestart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	first := startMock(t, "-nodes", "2", "-vbuckets", "16", "-rebalance-step", "1ms", "-state", state)
	admin(t, first, "/mock/rebalance?nodes=3&wait=1", http.StatusOK)
	admin(t, first, "/mock/failover?node=0", http.StatusOK)
	before := fetchBucket(t, first, "default")
	version := mockStats(t, first).MapVersion
	first.close()

	second := startMock(t, "-nodes", "4", "-vbuckets", "16", "-state", state)
	after := fetchBucket(t, second, "default")
	if !slices.Equal(after.VBucketServerMap.ServerList, before.VBucketServerMap.ServerList) ||
		!slices.EqualFunc(after.VBucketServerMap.VBucketMap, before.VBucketServerMap.VBucketMap, slices.Equal) {
		t.Fatalf("restarted cluster: servers %v, want %v (or the map differs)",
			after.VBucketServerMap.ServerList, before.VBucketServerMap.ServerList)
	}
	if v := mockStats(t, second).MapVersion; v <= version {
		t.Fatalf("map version after restart %d, want above %d", v, version)
	}
	// The node failed over before the restart is still out of the cluster.
	admin(t, second, "/mock/failover?node=0", http.StatusBadRequest)
}

// TestStateMismatch refuses a state file whose maps do not fit the flags.
func TestStateMismatch(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	startMock(t, "-nodes", "1", "-vbuckets", "16", "-state", state).close()
	cfg, err := parseFlags([]string{"-rest", "127.0.0.1:0", "-vbuckets", "32", "-state", state}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := newMock(cfg, slog.New(slog.DiscardHandler)); err == nil {
		m.close()
		t.Fatal("a 16-vbucket state started with -vbuckets 32")
	}
}
