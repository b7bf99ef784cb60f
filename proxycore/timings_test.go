package proxycore

import (
	"strings"
	"testing"
	"time"
)

func TestTimingBins(t *testing.T) {
	for _, c := range []struct {
		us         int64
		bin        int
		start, wid int64
	}{
		{0, 0, 0, 100}, {99, 0, 0, 100}, {100, 1, 100, 100}, {1999, 19, 1900, 100},
		{2000, 20, 2000, 100}, {2099, 20, 2000, 100}, {2100, 21, 2100, 200}, {2300, 22, 2300, 400},
		{-5, 0, 0, 100}, {1 << 40, 39, 0, 0},
	} {
		if got := timingBin(c.us); got != c.bin {
			t.Errorf("timingBin(%d) = %d, want %d", c.us, got, c.bin)
		}
		if c.wid == 0 {
			continue
		}
		if s, w := timingRange(c.bin); s != c.start || w != c.wid {
			t.Errorf("timingRange(%d) = %d+%d, want %d+%d", c.bin, s, w, c.start, c.wid)
		}
	}
	// The bins tile the line: each starts where the previous ends.
	for i := 1; i < timingBins; i++ {
		ps, pw := timingRange(i - 1)
		if s, _ := timingRange(i); s != ps+pw {
			t.Errorf("bin %d starts at %d, bin %d ends at %d", i, s, i-1, ps+pw)
		}
	}
}

func TestHistogramRows(t *testing.T) {
	var h histogram
	for range 3 {
		h.add(50 * time.Microsecond)
	}
	h.add(2150 * time.Microsecond)
	var w statWriter
	h.write(&w, "11211:default:reserved")
	want := "STAT 11211:default:reserved 0+100=3 75.00% ************************\r\n" +
		"STAT 11211:default:reserved 2100+200=1 100.00% ********\r\n"
	if got := string(w.dst); got != want {
		t.Errorf("rows:\n%q\nwant\n%q", got, want)
	}
	h.reset()
	w = statWriter{}
	h.write(&w, "x")
	if len(w.dst) != 0 || strings.Contains(string(w.dst), "STAT") {
		t.Errorf("after reset: %q", w.dst)
	}
}
