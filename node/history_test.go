package node

import (
	"math"
	"testing"
	"time"
)

func TestRingKeepsTheLastValuesInOrder(t *testing.T) {
	var r ring[int]
	if got := r.appendTo(nil); len(got) != 0 {
		t.Fatalf("empty ring holds %v", got)
	}
	for i := 1; i <= 5; i++ {
		r.push(i)
	}
	if got := r.appendTo(nil); len(got) != 5 || got[0] != 1 || got[4] != 5 {
		t.Fatalf("after 5 pushes: %v", got)
	}
	for i := 6; i <= histLen+7; i++ {
		r.push(i)
	}
	got := r.appendTo(nil)
	if len(got) != histLen {
		t.Fatalf("after %d pushes it holds %d values, want %d", histLen+7, len(got), histLen)
	}
	for i, v := range got {
		if want := 8 + i; v != want { // the 7 oldest were overwritten
			t.Fatalf("value %d is %d, want %d", i, v, want)
		}
	}
}

// liveAt is a Live with one server (when addr is not empty) whose
// request rate is rate.
func liveAt(seq uint64, addr string, rate float64) Live {
	l := Live{Seq: seq, At: time.UnixMilli(int64(seq) * 1000), Node: NodeLive{ReqRate: num(rate)}}
	if addr != "" {
		l.Servers = []ServerLive{{Port: 11211, Bucket: "default", Addr: addr, ReqRate: num(rate)}}
	}
	return l
}

func TestHistoryAlignsSeriesThatComeAndGo(t *testing.T) {
	h := newHistory()
	h.record(liveAt(1, "", 1))
	h.record(liveAt(2, "", 2))
	h.record(liveAt(3, "a:1", 3)) // a server appears
	h.record(liveAt(4, "", 4))    // and is gone
	v := h.view("")
	if v.Seq != 4 || len(v.Times) != 4 || v.Times[0] != 1000 || v.Times[3] != 4000 {
		t.Fatalf("seq %d, times %v", v.Seq, v.Times)
	}
	key := seriesKey{Scope: "server", Port: 11211, Bucket: "default", Addr: "a:1", Metric: "req_rate"}.String()
	got := v.Series[key]
	if len(got) != 4 || !isNaN(got[0]) || !isNaN(got[1]) || got[2] != 3 || !isNaN(got[3]) {
		t.Fatalf("%s: %v, want [NaN NaN 3 NaN]", key, got)
	}
	if node := v.Series["node|0|||req_rate"]; len(node) != 4 || node[0] != 1 || node[3] != 4 {
		t.Errorf("node req_rate: %v", node)
	}
	if only := h.view("node"); len(only.Series) != 4 || only.Series[key] != nil {
		t.Errorf("scope node: %d series, server's present %v", len(only.Series), only.Series[key] != nil)
	}
}

func TestHistoryDropsASeriesGoneForTheWholeWindow(t *testing.T) {
	h := newHistory()
	h.record(liveAt(1, "a:1", 1))
	key := seriesKey{Scope: "server", Port: 11211, Bucket: "default", Addr: "a:1", Metric: "req_rate"}
	for seq := uint64(2); seq < histLen+1; seq++ {
		h.record(liveAt(seq, "", 1))
	}
	if h.series[key] == nil {
		t.Fatal("dropped while its one point is still in the window")
	}
	h.record(liveAt(histLen+1, "", 1))
	if h.series[key] != nil {
		t.Fatal("kept after a whole window without a point")
	}
}

func TestHistoryRecordAllocatesNothingOnceFull(t *testing.T) {
	h := newHistory()
	l := liveAt(1, "a:1", 1)
	l.Buckets = []BucketLive{{Port: 11211, Bucket: "default", FrontCache: &FrontCacheLive{}}}
	for range histLen {
		l.Seq++
		h.record(l)
	}
	allocs := testing.AllocsPerRun(100, func() {
		l.Seq++
		h.record(l)
	})
	if allocs != 0 {
		t.Errorf("record allocates %v times a sample once full", allocs)
	}
}

func isNaN(v num) bool { return math.IsNaN(float64(v)) }
