package mapstore

// ConfigEntry.ProposedAt, the leader's clock stamp for the propagation
// lag, is optional in both directions: entries and snapshots written
// before it decode with 0, and stamped ones carry it through Apply and
// snapshots.

import (
	"bytes"
	"reflect"
	"testing"
)

const testStamp = int64(1700000000123456789)

// Entries written by a moxi before the stamp: these bytes must decode
// forever, with ProposedAt 0.
func TestDecodeConfigWithoutStamp(t *testing.T) {
	old := "\x02" + `{"section":1,"origin":"http://mb1:8091/pools/default/saslBucketsStreaming","body":"eyJidWNrZXRzIjpbXX0="}`
	typ, v, err := DecodeCommand([]byte(old))
	if err != nil || typ != CmdSetConfig || !reflect.DeepEqual(v, testEntry) {
		t.Fatalf("DecodeCommand(old entry) = %d, %#v, %v; want %#v", typ, v, err, testEntry)
	}
	if e := v.(ConfigEntry); e.ProposedAt != 0 {
		t.Errorf("ProposedAt of an unstamped entry = %d, want 0", e.ProposedAt)
	}
	// An unstamped entry still encodes to exactly those bytes.
	if got := EncodeSetConfig(testEntry); string(got) != old {
		t.Errorf("unstamped entry encodes as\n %q\nwant\n %q", got, old)
	}
}

func TestEncodeConfigStamp(t *testing.T) {
	e := testEntry
	e.ProposedAt = testStamp
	want := "\x02" + `{"section":1,"origin":"http://mb1:8091/pools/default/saslBucketsStreaming","body":"eyJidWNrZXRzIjpbXX0=","proposed_at":1700000000123456789}`
	got := EncodeSetConfig(e)
	if string(got) != want {
		t.Errorf("stamped entry:\n got %q\nwant %q", got, want)
	}
	typ, v, err := DecodeCommand(got)
	if err != nil || typ != CmdSetConfig || !reflect.DeepEqual(v, e) {
		t.Errorf("DecodeCommand = %d, %#v, %v; want %#v", typ, v, err, e)
	}
}

// Apply keeps the stamp in the record; the same bytes proposed again with
// a later stamp change nothing, the stamp included: the map did not move.
func TestApplyKeepsStamp(t *testing.T) {
	s := sourcedStore(t)
	e := ConfigEntry{Section: 0, Origin: "o", Body: []byte("a"), ProposedAt: testStamp}
	mustApply(t, s, 2, EncodeSetConfig(e))
	again := e
	again.ProposedAt = testStamp + 1e9
	if res := mustApply(t, s, 3, EncodeSetConfig(again)); !res.Unchanged {
		t.Errorf("the same bytes with another stamp: %+v, want Unchanged", res)
	}
	rec, _ := s.State().Config(0)
	if rec.Index != 2 || rec.ProposedAt != testStamp {
		t.Errorf("record %+v, want index 2 stamped %d", rec, testStamp)
	}
}

// Snapshots carry the stamp; one without it (the golden one, written
// before the stamp existed) reads as 0.
func TestSnapshotStamp(t *testing.T) {
	st, err := ReadSnapshot(bytes.NewReader([]byte(goldenSnapshot)))
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Configs[0].ProposedAt; got != 0 {
		t.Errorf("golden snapshot: ProposedAt %d, want 0", got)
	}
	stamped := rawSnapshot(2, rawSource, "\x02"+`{"section":1,"body":"eA==","index":2,"proposed_at":1700000000123456789}`)
	st, err = ReadSnapshot(bytes.NewReader(stamped))
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Configs[0].ProposedAt; got != testStamp {
		t.Errorf("stamped snapshot: ProposedAt %d, want %d", got, testStamp)
	}
	back := testSnapshotRestore(t, EncodeSetSource(testSource),
		EncodeSetConfig(ConfigEntry{Section: 0, Body: []byte("x"), ProposedAt: testStamp}))
	if got := back.Configs[0].ProposedAt; got != testStamp {
		t.Errorf("after a snapshot round trip: ProposedAt %d, want %d", got, testStamp)
	}
}
