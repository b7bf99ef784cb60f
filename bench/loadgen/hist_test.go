package main

import (
	"math/rand/v2"
	"testing"
)

func TestBucketBoundaries(t *testing.T) {
	// Every bucket's high value maps back to it, the next value to the
	// next bucket: buckets tile the range without gaps or overlap.
	for i := 0; i < numBuckets-1; i++ {
		hi := bucketHigh(i)
		if got := bucketOf(hi); got != i {
			t.Fatalf("bucketOf(bucketHigh(%d)=%d) = %d", i, hi, got)
		}
		if got := bucketOf(hi + 1); got != i+1 {
			t.Fatalf("bucketOf(%d) = %d, want %d", hi+1, got, i+1)
		}
	}
}

func TestBucketPrecision(t *testing.T) {
	for v := uint64(0); v < linearMax; v++ {
		if bucketHigh(bucketOf(v)) != v {
			t.Fatalf("value %d below linearMax is not exact", v)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		v := rng.Uint64N(1 << 36)
		hi := bucketHigh(bucketOf(v))
		if hi < v || float64(hi-v) > float64(v)/subCount {
			t.Fatalf("value %d reported as %d: more than 1/%d off", v, hi, subCount)
		}
	}
}

func TestBucketClamp(t *testing.T) {
	if got := bucketOf(1 << 62); got != numBuckets-1 {
		t.Fatalf("huge value went to bucket %d, want last %d", got, numBuckets-1)
	}
}

func TestQuantile(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 {
		t.Fatal("empty histogram should report 0")
	}
	for v := uint64(1); v <= 100; v++ { // exact range: 1..100 µs
		h.record(v)
	}
	for _, tc := range []struct {
		q    float64
		want uint64
	}{{0.01, 1}, {0.5, 50}, {0.99, 99}, {1, 100}} {
		got := h.quantile(tc.q)
		// 50 and 99 are exact; 100 sits in [100,101] capped at max.
		if got != tc.want {
			t.Errorf("quantile(%v) = %d, want %d", tc.q, got, tc.want)
		}
	}
	if h.mean() != 50.5 {
		t.Errorf("mean = %v, want 50.5", h.mean())
	}
}

func TestQuantileCappedAtMax(t *testing.T) {
	var h histogram
	h.record(1000) // bucket [992,1007]
	if got := h.quantile(0.99); got != 1000 {
		t.Fatalf("p99 of one sample = %d, want the sample", got)
	}
}

func TestMerge(t *testing.T) {
	var a, b, all histogram
	for v := uint64(0); v < 5000; v += 7 {
		if v%2 == 0 {
			a.record(v)
		} else {
			b.record(v)
		}
		all.record(v)
	}
	a.merge(&b)
	if a != all {
		t.Fatal("merged histogram differs from recording everything in one")
	}
}
