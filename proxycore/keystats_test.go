package proxycore

import (
	"testing"
	"time"
)

// TestKeyStatsLifespan: a key's counts start again once key_stats_lifespan
// has passed since they started.
func TestKeyStatsLifespan(t *testing.T) {
	beh := DefaultBehavior()
	beh.KeyStatsMax, beh.KeyStatsLifespan, beh.KeyStatsSpec = 10, time.Second, "k"
	ks := newKeyStats(&beh)
	t0 := time.Unix(1000, 0)
	ks.entry([]byte("k1"), t0).gets = 5
	if e := ks.entry([]byte("k1"), t0.Add(time.Second)); e.gets != 5 {
		t.Errorf("within the lifespan: gets %d, want 5", e.gets)
	}
	if e := ks.entry([]byte("k1"), t0.Add(time.Second+time.Millisecond)); e.gets != 0 || !e.added.Equal(t0.Add(time.Second+time.Millisecond)) {
		t.Errorf("past the lifespan: %+v, want fresh counts", e)
	}
	if newKeyStats(&Behavior{KeyStatsMax: 10, KeyStatsLifespan: time.Second}) != nil {
		t.Error("key stats on without key_stats_spec")
	}
}
