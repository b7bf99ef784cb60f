package mapstore

import (
	"slices"
	"testing"
)

// TestLibvbucketCompare replays testapp's vbucket_compare cases.
func TestLibvbucketCompare(t *testing.T) {
	exp := loadExpectations(t)
	if len(exp.Diffs) != 6 {
		t.Fatalf("want 6 diffs in the expectations, have %d", len(exp.Diffs))
	}
	for _, want := range exp.Diffs {
		d := Compare(libvbucketConfig(t, want.From), libvbucketConfig(t, want.To))
		if d.SequenceChanged != want.SequenceChanged || d.VBucketChanges != want.NVBChanges ||
			!equalNil(d.ServersAdded, want.ServersAdded) || !equalNil(d.ServersRemoved, want.ServersRemoved) {
			t.Errorf("Compare(%s, %s) = %+v, want %+v", want.From, want.To, d, want)
		}
	}
}

// equalNil compares string lists, treating nil and empty alike.
func equalNil(a, b []string) bool { return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b)) }

// TestCompareCredentials: the password being present counts even when
// empty (libvbucket's NULL vs "" distinction), and a weight change is a
// sequence change for host-list maps.
func TestCompareCredentials(t *testing.T) {
	base := `{"numReplicas":0,"serverList":["a:1","b:2"],"vBucketMap":[[0],[1]]`
	parse := func(extra string) *Map {
		m, err := ParseBucket([]byte(base + extra + "}"))
		if err != nil {
			t.Fatalf("%s: %v", extra, err)
		}
		return m
	}
	none, empty := parse(""), parse(`,"saslPassword":""`)
	if d := Compare(none, empty); !d.SequenceChanged || d.VBucketChanges != 0 {
		t.Errorf("absent vs empty password: %+v, want sequence changed, 0 vbucket changes", d)
	}
	if d := Compare(empty, parse(`,"saslPassword":"","name":"default"`)); d.SequenceChanged {
		t.Errorf("name default adds no user: %+v", d)
	}
	if d := Compare(empty, parse(`,"saslPassword":"","name":"b"`)); !d.SequenceChanged {
		t.Errorf("a new user must change the sequence: %+v", d)
	}
	m1, _ := NewServerListMap([]Server{{Host: "a", Port: 1, Weight: 1}}, KetamaWeighted)
	m2, _ := NewServerListMap([]Server{{Host: "a", Port: 1, Weight: 2}}, KetamaWeighted)
	if d := Compare(m1, m2); !d.SequenceChanged || d.VBucketChanges != 0 || len(d.ServersAdded)+len(d.ServersRemoved) != 0 {
		t.Errorf("weight change: %+v, want only sequence changed", d)
	}
	if d := Compare(none, m1); d.VBucketChanges != -1 || len(d.ServersAdded) != 0 ||
		!slices.Equal(d.ServersRemoved, []string{"b:2"}) || !d.SequenceChanged {
		t.Errorf("vbucket vs host list: %+v", d)
	}
}
