package main

import (
	"slices"
	"testing"
)

// TestVBucketOf checks the key -> vbucket rule against libvbucket's test
// vectors (testapp, 4 vbuckets) and the spec's 1024-vbucket example.
func TestVBucketOf(t *testing.T) {
	for key, want := range map[string]int{"hello": 0, "doctor": 0, "name": 3, "continue": 3,
		"yesterday": 0, "tomorrow": 1, "another key": 2} {
		if got := vbucketOf([]byte(key), 4); got != want {
			t.Errorf("vbucketOf(%q, 4) = %d, want %d", key, got, want)
		}
	}
	if got := vbucketOf([]byte("00000000"), 1024); got != 8 {
		t.Errorf(`vbucketOf("00000000", 1024) = %d, want 8`, got)
	}
}

// TestBalancedMastersMovesLittle grows 2 nodes to 4 and shrinks back:
// every node ends with its share, and only the vbuckets that must move
// do.
func TestBalancedMastersMovesLittle(t *testing.T) {
	fresh := balancedMasters(slices.Repeat([]int{-1}, 64), []int{0, 1})
	grown := balancedMasters(fresh, []int{0, 1, 2, 3})
	checkShares(t, grown, []int{0, 1, 2, 3}, 16)
	if moved := countMoved(fresh, grown); moved != 32 {
		t.Errorf("2->4 nodes moved %d vbuckets, want 32", moved)
	}
	shrunk := balancedMasters(grown, []int{0, 2, 3})
	if moved := countMoved(grown, shrunk); moved != 16 {
		t.Errorf("removing a node moved %d vbuckets, want its 16", moved)
	}
	for _, m := range shrunk {
		if m == 1 {
			t.Fatal("a removed node is still a master")
		}
	}
}

func checkShares(t *testing.T, masters, nodes []int, share int) {
	t.Helper()
	n := map[int]int{}
	for _, m := range masters {
		n[m]++
	}
	for _, id := range nodes {
		if n[id] != share {
			t.Errorf("node %d masters %d vbuckets, want %d (%v)", id, n[id], share, n)
		}
	}
}

func countMoved(a, b []int) int {
	moved := 0
	for i := range a {
		if a[i] != b[i] {
			moved++
		}
	}
	return moved
}

// TestMapRowsReplicas checks replicas are other nodes, distinct, spread,
// and -1 when there are too few nodes.
func TestMapRowsReplicas(t *testing.T) {
	nodes := []int{4, 5, 6}
	rows := mapRows(balancedMasters(slices.Repeat([]int{-1}, 12), nodes), nodes, 3)
	replicaOf := map[int]map[int]bool{}
	for vb, row := range rows {
		if row[1] == row[0] || row[2] == row[0] || row[1] == row[2] || row[1] < 4 || row[2] < 4 || row[3] != -1 {
			t.Errorf("vb %d row %v: want master, two other nodes, then -1", vb, row)
		}
		if replicaOf[row[0]] == nil {
			replicaOf[row[0]] = map[int]bool{}
		}
		replicaOf[row[0]][row[1]] = true
	}
	for m, reps := range replicaOf {
		if len(reps) != 2 {
			t.Errorf("first replicas of node %d's vbuckets all on %v, want spread over both others", m, reps)
		}
	}
}
