package mapstore

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// TestRingIndexMatchesBinarySearch checks the sliced lookup against a
// plain search of the whole ring, on rings from 1 to 40 servers, at the
// ends of the hash range, on every point and next to it, and at random.
func TestRingIndexMatchesBinarySearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 4, 13, 40} {
		for _, weighted := range []bool{false, true} {
			var servers []Server
			for i := range n {
				servers = append(servers, Server{Host: fmt.Sprintf("10.0.0.%d", i+1), Port: 11211, Weight: i%3 + 1})
			}
			r := newKetamaRing(servers, weighted)
			want := func(h uint32) int {
				i := sort.Search(len(r.points), func(i int) bool { return r.points[i].point >= h })
				if i == len(r.points) {
					i = 0
				}
				return int(r.points[i].idx)
			}
			hashes := []uint32{0, 1, math.MaxUint32, math.MaxUint32 - 1}
			for _, p := range r.points {
				hashes = append(hashes, p.point, p.point-1, p.point+1)
			}
			for range 10000 {
				hashes = append(hashes, rng.Uint32())
			}
			for _, h := range hashes {
				if got := r.locateHash(h); got != want(h) {
					t.Fatalf("%d servers weighted=%v: hash %#x -> server %d, want %d", n, weighted, h, got, want(h))
				}
			}
		}
	}
}
