package proxycore

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Timing histograms of "stats proxy timings" (-Z time_stats=1), as the
// original's: per bucket, the time to connect to a server and the time a
// request held its server ("reserved"; here, from dispatch to the last
// reply), in microseconds. Bins: 20 of 100 µs from 0, then 20 from
// 2000 µs whose width starts at 100 µs and doubles each bin; a time past
// the last bin counts in it. Each bin is an atomic: recording costs a
// request one add and takes no lock.
const (
	timingFixedBins = 20
	timingBins      = 2 * timingFixedBins
	timingBinWidth  = 100  // µs
	timingGrowStart = 2000 // µs
)

// histogram is one timing histogram.
type histogram struct{ bins [timingBins]atomic.Uint64 }

// timingBin is the bin of a time of us microseconds.
func timingBin(us int64) int {
	if us < timingGrowStart {
		return int(max(us, 0) / timingBinWidth)
	}
	start, width := int64(timingGrowStart), int64(timingBinWidth)
	for i := timingFixedBins; i < timingBins-1; i++ {
		if us < start+width {
			return i
		}
		start, width = start+width, width*2
	}
	return timingBins - 1
}

// timingRange is bin i's start and width in microseconds.
func timingRange(i int) (start, width int64) {
	if i < timingFixedBins {
		return int64(i) * timingBinWidth, timingBinWidth
	}
	start, width = timingGrowStart, timingBinWidth
	for range i - timingFixedBins {
		start, width = start+width, width*2
	}
	return start, width
}

func (h *histogram) add(d time.Duration) { h.bins[timingBin(d.Microseconds())].Add(1) }

func (h *histogram) reset() {
	for i := range h.bins {
		h.bins[i].Store(0)
	}
}

// write appends a STAT line named name for each non-empty bin:
// "START+WIDTH=COUNT PCT% ***", PCT cumulative, the bar up to 24 stars
// in proportion to the fullest bin.
func (h *histogram) write(w *statWriter, name string) {
	var counts [timingBins]uint64
	var total, most uint64
	for i := range h.bins {
		counts[i] = h.bins[i].Load()
		total += counts[i]
		most = max(most, counts[i])
	}
	var cum uint64
	for i, n := range counts {
		if n == 0 {
			continue
		}
		cum += n
		start, width := timingRange(i)
		row := strconv.FormatInt(start, 10) + "+" + strconv.FormatInt(width, 10) + "=" +
			strconv.FormatUint(n, 10) + " " + strconv.FormatFloat(100*float64(cum)/float64(total), 'f', 2, 64) + "% " +
			strings.Repeat("*", int(24*n/most))
		w.stat(name, strings.TrimRight(row, " "))
	}
}
