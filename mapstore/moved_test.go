package mapstore

import (
	"fmt"
	"slices"
	"testing"
)

func movedSorted(from, to *Map) []string {
	m := MovedServers(from, to)
	slices.Sort(m)
	return m
}

func hostsMap(t *testing.T, dist Distribution, hosts ...string) *Map {
	t.Helper()
	var servers []Server
	for _, h := range hosts {
		servers = append(servers, Server{Host: h, Port: 11211})
	}
	m, err := NewServerListMap(servers, dist)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMovedServersKetama: adding a server to a ketama ring moves keys
// only to it, so each server that lost keys and the new one are moved;
// keys that stayed stay for every other server. The claim is checked
// against key placement itself: every key whose owner changed has both
// owners in the moved set, and a server with no key moved would not be.
func TestMovedServersKetama(t *testing.T) {
	for _, dist := range []Distribution{KetamaWeighted, Ketama} {
		from := hostsMap(t, dist, "a", "b", "c")
		to := hostsMap(t, dist, "a", "b", "c", "d")
		moved := movedSorted(from, to)
		if !slices.Contains(moved, "d:11211") {
			t.Fatalf("%v: the new server is not moved: %v", dist, moved)
		}
		for i := range 20000 {
			key := []byte(fmt.Sprintf("key:%d", i))
			a, b := serverAt(from, from.Locate(key)), serverAt(to, to.Locate(key))
			if a != b && (!slices.Contains(moved, a) || !slices.Contains(moved, b)) {
				t.Fatalf("%v: key %s moved %s -> %s, not in %v", dist, key, a, b, moved)
			}
		}
		if got := movedSorted(from, hostsMap(t, dist, "a", "b", "c")); len(got) != 0 {
			t.Fatalf("%v: the same ring moved %v", dist, got)
		}
	}
}

// TestMovedServersKetamaSpares: removing one server of six moves only
// keys it held, so a server that gained none of them stays unmoved.
func TestMovedServersKetamaSpares(t *testing.T) {
	from := hostsMap(t, Ketama, "a", "b", "c", "d", "e", "f")
	to := hostsMap(t, Ketama, "a", "b", "c", "d", "e")
	moved := movedSorted(from, to)
	gained := map[string]bool{"f:11211": true}
	for i := range 50000 {
		key := []byte(fmt.Sprintf("k%d", i))
		if a, b := serverAt(from, from.Locate(key)), serverAt(to, to.Locate(key)); a != b {
			gained[b] = true
		}
	}
	for _, s := range moved {
		if !gained[s] {
			t.Errorf("%s is moved but no sampled key moved to or from it (moved %v)", s, moved)
		}
	}
}

func TestMovedServersVBucket(t *testing.T) {
	cfg := func(masters ...int) *Map {
		t.Helper()
		m, err := ParseBucket([]byte(fmt.Sprintf(`{"name":"default","vBucketServerMap":{"hashAlgorithm":"CRC",
			"numReplicas":0,"serverList":["s1:1","s2:1","s3:1"],"vBucketMap":[[%d],[%d],[%d],[%d]]}}`,
			masters[0], masters[1], masters[2], masters[3])))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if got := movedSorted(cfg(0, 1, 2, 0), cfg(0, 1, 2, 0)); len(got) != 0 {
		t.Fatalf("same map moved %v", got)
	}
	if got, want := movedSorted(cfg(0, 1, 2, 0), cfg(0, 1, 2, 2)), []string{"s1:1", "s3:1"}; !slices.Equal(got, want) {
		t.Fatalf("moved %v, want %v", got, want)
	}
	if got, want := movedSorted(cfg(0, 1, 2, 0), cfg(0, -1, 2, 0)), []string{"s2:1"}; !slices.Equal(got, want) {
		t.Fatalf("vbucket without master: moved %v, want %v", got, want)
	}
}

func TestMovedServersModula(t *testing.T) {
	from := hostsMap(t, Modula, "a", "b")
	if got := movedSorted(from, hostsMap(t, Modula, "a", "b")); len(got) != 0 {
		t.Fatalf("same list moved %v", got)
	}
	if got, want := movedSorted(from, hostsMap(t, Modula, "a", "b", "c")), []string{"a:11211", "b:11211", "c:11211"}; !slices.Equal(got, want) {
		t.Fatalf("moved %v, want %v", got, want)
	}
}
