package proxycore

import (
	"sync/atomic"
	"time"
)

// latencyBounds are the upper bounds, in seconds, of the latency
// histograms exported to Prometheus and the status page: 100 µs to 5 s,
// about 2.5x apart, the range a memcached request through a proxy spans
// from a local hit to a timeout.
func latencyBounds() []float64 {
	return []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
}

// latencyBins is len(latencyBounds())+1: the last bin is +Inf.
const latencyBins = 16

// latencyHist is a fixed-bucket latency histogram of atomics: recording
// costs one add to a bin, one to the sum and a short scan of the bounds;
// no lock, no allocation.
type latencyHist struct {
	bins  [latencyBins]atomic.Uint64
	sumNS atomic.Uint64
}

func (h *latencyHist) observe(d time.Duration) {
	// latencyBounds in nanoseconds (a local array: no package state).
	bounds := [latencyBins - 1]int64{
		100e3, 250e3, 500e3, 1e6, 2.5e6, 5e6, 10e6, 25e6, 50e6, 100e6, 250e6, 500e6, 1e9, 2.5e9, 5e9,
	}
	ns := int64(d)
	i := 0
	for i < len(bounds) && ns > bounds[i] {
		i++
	}
	h.bins[i].Add(1)
	h.sumNS.Add(uint64(max(ns, 0)))
}

// snapshot copies h for an exporter.
func (h *latencyHist) snapshot() Histogram {
	out := Histogram{Bounds: latencyBounds(), Counts: make([]uint64, latencyBins)}
	for i := range h.bins {
		out.Counts[i] = h.bins[i].Load()
		out.Count += out.Counts[i]
	}
	out.Sum = float64(h.sumNS.Load()) / 1e9
	return out
}

// Histogram is a latency histogram as exporters read it.
type Histogram struct {
	Bounds []float64 // upper bounds in seconds, ascending; +Inf follows
	Counts []uint64  // per bin, not cumulative: len(Bounds)+1
	Count  uint64    // observations
	Sum    float64   // seconds
}

// Sub returns h minus an earlier snapshot of the same histogram: the
// observations made in between.
func (h Histogram) Sub(earlier Histogram) Histogram {
	out := Histogram{Bounds: h.Bounds, Counts: make([]uint64, len(h.Counts))}
	for i := range h.Counts {
		if i < len(earlier.Counts) && h.Counts[i] >= earlier.Counts[i] {
			out.Counts[i] = h.Counts[i] - earlier.Counts[i]
		}
		out.Count += out.Counts[i]
	}
	out.Sum = max(h.Sum-earlier.Sum, 0)
	return out
}

// Quantile estimates the q-quantile (0 < q <= 1) in seconds, linear
// within the bin it falls in, as Prometheus' histogram_quantile does; the
// +Inf bin answers its lower bound. 0 without observations.
func (h Histogram) Quantile(q float64) float64 {
	if h.Count == 0 {
		return 0
	}
	rank := q * float64(h.Count)
	var cum float64
	for i, n := range h.Counts {
		if n == 0 {
			continue
		}
		if cum+float64(n) >= rank {
			lo := 0.0
			if i > 0 {
				lo = h.Bounds[i-1]
			}
			if i >= len(h.Bounds) {
				return lo
			}
			return lo + (h.Bounds[i]-lo)*(rank-cum)/float64(n)
		}
		cum += float64(n)
	}
	return h.Bounds[len(h.Bounds)-1]
}
