package mapstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// equalState compares two states deeply; AppliedAt is compared with
// time.Equal because JSON drops the monotonic clock and the zone name.
func equalState(t testing.TB, got, want *FleetState) {
	t.Helper()
	if got.Index != want.Index || !reflect.DeepEqual(got.Source, want.Source) ||
		len(got.Configs) != len(want.Configs) {
		t.Fatalf("state differs:\n got %+v source %+v\nwant %+v source %+v", got, got.Source, want, want.Source)
	}
	for i, g := range got.Configs {
		w := want.Configs[i]
		if !reflect.DeepEqual(g.ConfigEntry, w.ConfigEntry) || g.Index != w.Index || !g.AppliedAt.Equal(w.AppliedAt) {
			t.Errorf("config %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// testSnapshotRestore applies entries to a fresh store, writes a snapshot
// into a buffer, restores it into another fresh store and compares (nomad's
// testSnapshotRestore, with a buffer for the sink).
func testSnapshotRestore(t *testing.T, entries ...[]byte) *FleetState {
	t.Helper()
	s := NewStore()
	for i, e := range entries {
		// Rejections are part of the state too (Index advances).
		if _, err := s.Apply(uint64(i+1), e, time.Now()); err != nil && s.State().Index != uint64(i+1) {
			t.Fatalf("entry %d: %v", i+1, err)
		}
	}
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, s.State()); err != nil {
		t.Fatalf("WriteSnapshot: %v", err)
	}
	st, err := ReadSnapshot(&buf)
	if err != nil {
		t.Fatalf("ReadSnapshot: %v", err)
	}
	fresh := NewStore()
	if !fresh.Restore(st) {
		t.Fatal("a fresh store refused the snapshot")
	}
	equalState(t, fresh.State(), s.State())
	return fresh.State()
}

func TestSnapshotRestoreEmpty(t *testing.T) {
	testSnapshotRestore(t)
}

func TestSnapshotRestoreSetSource(t *testing.T) {
	st := testSnapshotRestore(t, EncodeSetSource(testSource))
	if st.Source == nil || st.Source.Source != testSource {
		t.Errorf("source %+v", st.Source)
	}
}

func TestSnapshotRestoreSetConfig(t *testing.T) {
	st := testSnapshotRestore(t,
		EncodeSetSource(testSource),
		configEntry(2, "two"),
		EncodeSetConfig(ConfigEntry{Section: 0, Body: []byte("\x00\xff binary\n\n\n\n")}),
		EncodeSetConfig(ConfigEntry{Section: 1, Body: []byte{}}),
		configEntry(2, "two"), // identical: version stays 2
	)
	if rec, _ := st.Config(2); rec.Index != 2 || st.Index != 5 {
		t.Errorf("section 2 version %d, state index %d", rec.Index, st.Index)
	}
}

func TestSnapshotRestoreRejectedAndIgnored(t *testing.T) {
	st := testSnapshotRestore(t,
		configEntry(0, "before any source"),
		EncodeSetSource(testSource),
		EncodeSetSource(Source{Kind: "static", Spec: "conflict"}),
		[]byte{byte(IgnoreUnknown | 0x11)},
	)
	if st.Index != 4 || len(st.Configs) != 0 || st.Source.Index != 2 {
		t.Errorf("state %+v source %+v", st, st.Source)
	}
}

const goldenSnapshot = "MOXIFLEET\x00\x01\x00\x00\x00\x00\x00\x00\x00\a" +
	"\x01N" + `{"kind":"static","spec":"11211=a:1","behavior":"","fleet_id":"ab12","index":1}` +
	"\x02i" + `{"section":0,"origin":"-z","body":"MTEyMTE9YTox","index":3,"applied_at":"2024-01-02T03:04:05.000000006Z"}` +
	"\x00\x04\xc2\xec>X"

func goldenState() *FleetState {
	return &FleetState{Index: 7,
		Source: &SourceRecord{Source: Source{Kind: "static", Spec: "11211=a:1", FleetID: "ab12"}, Index: 1},
		Configs: []ConfigRecord{{ConfigEntry: ConfigEntry{Origin: "-z", Body: []byte("11211=a:1")},
			Index: 3, AppliedAt: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)}}}
}

// The snapshot format is what state files and raft snapshots on disk
// hold: version 1 must read forever, and writing must not drift.
func TestSnapshotGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, goldenState()); err != nil {
		t.Fatal(err)
	}
	if buf.String() != goldenSnapshot {
		t.Errorf("snapshot bytes changed:\n got %q\nwant %q", buf.String(), goldenSnapshot)
	}
	st, err := ReadSnapshot(bytes.NewReader([]byte(goldenSnapshot)))
	if err != nil {
		t.Fatal(err)
	}
	equalState(t, st, goldenState())
}

// rawSnapshot builds a version-1 snapshot by hand, independently of
// WriteSnapshot, from records given as type byte plus payload.
func rawSnapshot(index uint64, records ...string) []byte {
	b := []byte("MOXIFLEET\x00\x01")
	b = binary.BigEndian.AppendUint64(b, index)
	for _, r := range records {
		b = append(b, r[0])
		b = binary.AppendUvarint(b, uint64(len(r)-1))
		b = append(b, r[1:]...)
	}
	b = append(b, 0, 4)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

const (
	rawSource = "\x01" + `{"kind":"rest","spec":"u","index":1}`
	rawConfig = "\x02" + `{"section":1,"body":"eA==","index":2}`
)

func TestReadSnapshotRecords(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		wantErr bool
	}{
		{"source and config", rawSnapshot(2, rawSource, rawConfig), false},
		{"ignorable unknown record", rawSnapshot(2, rawSource, "\x85whatever", rawConfig, "\x80"), false},
		{"unknown record", rawSnapshot(2, rawSource, "\x05{}"), true},
		{"config before source", rawSnapshot(2, rawConfig, rawSource), true},
		{"two sources", rawSnapshot(2, rawSource, rawSource), true},
		{"sections out of order", rawSnapshot(2, rawSource, rawConfig, rawConfig), true},
		{"record newer than state", rawSnapshot(1, rawSource, rawConfig), true},
		{"null payload", rawSnapshot(2, "\x01null"), true},
		{"bad json", rawSnapshot(2, "\x01{"), true},
		{"bad time", rawSnapshot(2, rawSource, "\x02"+`{"applied_at":"yesterday"}`), true},
		{"long end record", append(rawSnapshot(0)[:19], 0, 5, 0, 0, 0, 0, 0), true},
		{"oversized record", append(rawSnapshot(0)[:19], 1, 0xff, 0xff, 0xff, 0xff, 0x0f), true},
		{"varint overflow", append(rawSnapshot(0)[:19], 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), true},
		{"trailing data", append(rawSnapshot(0), 0), true},
		{"bad magic", append([]byte("MOXIFLEEX"), rawSnapshot(0)[9:]...), true},
		{"format version 2", append([]byte("MOXIFLEET\x00\x02"), rawSnapshot(0)[11:]...), true},
		{"empty", nil, true},
	}
	for _, tt := range tests {
		st, err := ReadSnapshot(bytes.NewReader(tt.data))
		if tt.wantErr != (err != nil) || (err != nil && !errors.Is(err, ErrBadSnapshot)) {
			t.Errorf("%s: ReadSnapshot = %+v, %v", tt.name, st, err)
		}
	}
}

// Every proper prefix of a snapshot is truncated, and every single-byte
// change is caught (the magic, version, structure or checksum).
func TestReadSnapshotTruncatedOrCorrupt(t *testing.T) {
	good := []byte(goldenSnapshot)
	for n := range len(good) {
		_, err := ReadSnapshot(bytes.NewReader(good[:n]))
		if !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("prefix of %d bytes: err = %v", n, err)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("prefix of %d bytes: err = %v, want ErrUnexpectedEOF", n, err)
		}
	}
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x20
		if st, err := ReadSnapshot(bytes.NewReader(bad)); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("byte %d changed: ReadSnapshot = %+v, %v", i, st, err)
		}
	}
}

// An I/O error is the reader's, not a bad snapshot.
func TestReadSnapshotIOError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader([]byte(goldenSnapshot[:30])), iotestErrReader{boom})
	_, err := ReadSnapshot(r)
	if !errors.Is(err, boom) || errors.Is(err, ErrBadSnapshot) {
		t.Errorf("err = %v, want boom only", err)
	}
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestWriteSnapshotError(t *testing.T) {
	st := goldenState()
	st.Configs[0].AppliedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := WriteSnapshot(io.Discard, st); err == nil {
		t.Error("unencodable time accepted")
	}
	if err := WriteSnapshot(iotestErrWriter{}, goldenState()); err == nil {
		t.Error("writer error lost")
	}
}

type iotestErrWriter struct{}

func (iotestErrWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fleet.state")
	if _, err := LoadStateFile(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v, want ErrNotExist", err)
	}
	for _, st := range []*FleetState{{Index: 1}, goldenState()} { // the second overwrites
		if err := SaveStateFile(path, st); err != nil {
			t.Fatal(err)
		}
		got, err := LoadStateFile(path)
		if err != nil {
			t.Fatal(err)
		}
		equalState(t, got, st)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(names) != 1 || names[0] != path {
		t.Errorf("files left: %v", names)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, %v; want 0600 (configs hold passwords)", fi.Mode(), err)
	}
}

// A failed save leaves the previous file whole and no temporary file.
func TestStateFileFailedSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fleet.state")
	if err := SaveStateFile(path, goldenState()); err != nil {
		t.Fatal(err)
	}
	bad := goldenState()
	bad.Index = 8
	bad.Configs[0].AppliedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := SaveStateFile(path, bad); err == nil {
		t.Fatal("unencodable state saved")
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
	if got, err := LoadStateFile(path); err != nil || got.Index != 7 {
		t.Errorf("previous file damaged: %+v, %v", got, err)
	}
	if err := SaveStateFile(filepath.Join(dir, "no", "such", "dir"), bad); err == nil {
		t.Error("save into a missing directory succeeded")
	}
}

func TestLoadStateFileCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fleet.state")
	if err := os.WriteFile(path, []byte(goldenSnapshot[:40]), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadStateFile(path); !errors.Is(err, ErrBadSnapshot) {
		t.Errorf("err = %v, want ErrBadSnapshot", err)
	}
}

// FuzzReadSnapshot: any input is either refused or yields a state that
// restores, and writes and reads back the same.
func FuzzReadSnapshot(f *testing.F) {
	f.Add([]byte(goldenSnapshot))
	f.Add(rawSnapshot(2, rawSource, "\x85x", rawConfig))
	f.Add(rawSnapshot(0))
	f.Add([]byte("MOXIFLEET\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzzSnapshot(t, data)
		// Without a checksum fix-up the fuzzer would hardly get past the
		// end record, and never test records it has mutated.
		if n := len(data); n >= 4 {
			fixed := bytes.Clone(data)
			sum := crc32.Checksum(fixed[:n-4], crc32.MakeTable(crc32.Castagnoli))
			binary.BigEndian.PutUint32(fixed[n-4:], sum)
			checkFuzzSnapshot(t, fixed)
		}
	})
}

func checkFuzzSnapshot(t *testing.T, data []byte) {
	st, err := ReadSnapshot(bytes.NewReader(data))
	if err != nil {
		return
	}
	NewStore().Restore(st)
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, st); err != nil {
		t.Fatalf("read a state it cannot write: %v", err)
	}
	again, err := ReadSnapshot(&buf)
	if err != nil {
		t.Fatalf("cannot read back: %v", err)
	}
	equalState(t, again, st)
}
