package cluster

// FSM tests: every command type through the raft.FSM adapter, and a
// snapshot round trip after each (nomad's testSnapshotRestore style):
// Snapshot, Persist into a buffer sink, Restore into a fresh fsm, compare.

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/moxifleet/moxi/mapstore"
)

// bufSink is a raft.SnapshotSink over a buffer.
type bufSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *bufSink) ID() string    { return "test-snapshot" }
func (s *bufSink) Close() error  { s.closed = true; return nil }
func (s *bufSink) Cancel() error { s.cancelled = true; return nil }

var _ raft.SnapshotSink = (*bufSink)(nil)

// newTestFSM returns an fsm over a fresh store in its own directory,
// loaded (it persists after each apply) unless told otherwise.
func newTestFSM(t *testing.T, dir string, loaded bool) *fsm {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	f := &fsm{store: mapstore.NewStore(), dir: dir, logger: newLogCapture(t, "fsm").logger()}
	f.loaded.Store(loaded)
	return f
}

// snapshotBytes runs Snapshot and Persist into a buffer sink.
func snapshotBytes(t *testing.T, f *fsm) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()
	var sink bufSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatalf("Persist: %v", err)
	}
	if !sink.closed || sink.cancelled {
		t.Fatalf("Persist left the sink closed=%v cancelled=%v, want closed only", sink.closed, sink.cancelled)
	}
	return sink.Bytes()
}

// roundTrip checks that f's state survives Snapshot, Persist and Restore
// into a fresh fsm, and returns the fresh fsm.
func roundTrip(t *testing.T, f *fsm) *fsm {
	t.Helper()
	data := snapshotBytes(t, f)
	fresh := newTestFSM(t, "", true)
	if err := fresh.Restore(readCloser{bytes.NewReader(data)}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if err := sameState(f.store.State(), fresh.store.State()); err != nil {
		t.Fatalf("state after snapshot round trip differs: %v", err)
	}
	return fresh
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func command(index uint64, data []byte) *raft.Log {
	return &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: data}
}

var (
	testSource  = mapstore.Source{Kind: "static", Spec: "11211=127.0.0.1:11311", Behavior: "downstream_max=4", FleetID: "f00d"}
	otherSource = mapstore.Source{Kind: "rest", Spec: "http://membase:8091/pools/default/bucketsStreaming/default", FleetID: "beef"}
)

func configEntry(section int, body string) []byte {
	return mapstore.EncodeSetConfig(mapstore.ConfigEntry{Section: section, Origin: "/etc/moxi.cfg", Body: []byte(body)})
}

// TestFSMApplyAndSnapshotEachCommand applies every command type, and the
// entries the FSM must pass over, in log order; after each, the response,
// the state, the state file and a snapshot round trip are checked.
func TestFSMApplyAndSnapshotEachCommand(t *testing.T) {
	unknownSkippable := []byte{byte(0x7f | mapstore.IgnoreUnknown), '{', '}'}
	unknownFatal := []byte{0x7f, '{', '}'}
	steps := []struct {
		name    string
		log     *raft.Log
		wantErr error // in the applyResponse
		// the expected state afterwards
		index   uint64
		source  *mapstore.Source
		configs map[int]uint64 // section -> version
	}{
		{name: "set source", log: command(1, mapstore.EncodeSetSource(testSource)),
			index: 1, source: &testSource, configs: map[int]uint64{}},
		{name: "set config section 0", log: command(2, configEntry(0, "11211=a:1,b:2")),
			index: 2, source: &testSource, configs: map[int]uint64{0: 2}},
		{name: "set config section 1", log: command(3, configEntry(1, "11212=c:3")),
			index: 3, source: &testSource, configs: map[int]uint64{0: 2, 1: 3}},
		{name: "identical config keeps its version", log: command(4, configEntry(0, "11211=a:1,b:2")),
			index: 4, source: &testSource, configs: map[int]uint64{0: 2, 1: 3}},
		{name: "new config of section 0", log: command(5, configEntry(0, "11211=a:1")),
			index: 5, source: &testSource, configs: map[int]uint64{0: 5, 1: 3}},
		{name: "same source again", log: command(6, mapstore.EncodeSetSource(testSource)),
			index: 6, source: &testSource, configs: map[int]uint64{0: 5, 1: 3}},
		{name: "another source is refused", log: command(7, mapstore.EncodeSetSource(otherSource)),
			wantErr: mapstore.ErrSourceConflict, index: 7, source: &testSource, configs: map[int]uint64{0: 5, 1: 3}},
		{name: "unknown command marked IgnoreUnknown", log: command(8, unknownSkippable),
			index: 8, source: &testSource, configs: map[int]uint64{0: 5, 1: 3}},
		{name: "replayed entry is skipped", log: command(3, configEntry(1, "11212=replayed")),
			index: 8, source: &testSource, configs: map[int]uint64{0: 5, 1: 3}},
		{name: "raft's own entries are not commands", log: &raft.Log{Index: 9, Term: 1, Type: raft.LogConfiguration},
			index: 8, source: &testSource, configs: map[int]uint64{0: 5, 1: 3}},
		// An entry that does not decode leaves the state, index included,
		// as it was, and the FSM says so (it does not panic).
		{name: "unknown command without the flag", log: command(10, unknownFatal),
			wantErr: mapstore.ErrUnknownCommand, index: 8, source: &testSource, configs: map[int]uint64{0: 5, 1: 3}},
		{name: "malformed payload", log: command(11, []byte{byte(mapstore.CmdSetConfig), 'n', 'u', 'l', 'l'}),
			wantErr: mapstore.ErrBadCommand, index: 8, source: &testSource, configs: map[int]uint64{0: 5, 1: 3}},
		{name: "config after a bad entry", log: command(12, configEntry(2, "11213=d:4")),
			index: 12, source: &testSource, configs: map[int]uint64{0: 5, 1: 3, 2: 12}},
	}
	f := newTestFSM(t, "", true)
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			resp := f.Apply(s.log)
			if s.log.Type != raft.LogCommand {
				if resp != nil {
					t.Fatalf("Apply of a %v entry answered %v, want nil", s.log.Type, resp)
				}
			} else {
				ar, ok := resp.(applyResponse)
				if !ok {
					t.Fatalf("Apply answered %T, want applyResponse", resp)
				}
				if (s.wantErr == nil) != (ar.err == nil) || (s.wantErr != nil && !errors.Is(ar.err, s.wantErr)) {
					t.Fatalf("Apply error %v, want %v", ar.err, s.wantErr)
				}
			}
			st := f.store.State()
			if st.Index != s.index {
				t.Errorf("index %d, want %d", st.Index, s.index)
			}
			if st.Source == nil || st.Source.Source != *s.source {
				t.Errorf("source %+v, want %+v", st.Source, s.source)
			}
			if len(st.Configs) != len(s.configs) {
				t.Errorf("%d configs, want %d", len(st.Configs), len(s.configs))
			}
			for sec, v := range s.configs {
				if rec, ok := st.Config(sec); !ok || rec.Index != v {
					t.Errorf("section %d at version %d (present %v), want %d", sec, rec.Index, ok, v)
				}
			}
			// The state file holds what the store holds.
			saved, err := mapstore.LoadStateFile(filepath.Join(f.dir, stateFile))
			if err != nil {
				t.Fatalf("state file after apply: %v", err)
			}
			if err := sameState(st, saved); err != nil {
				t.Errorf("state file differs from the store: %v", err)
			}
			roundTrip(t, f)
		})
	}
}

// TestFSMSnapshotEmpty: a fleet with nothing applied round-trips too.
func TestFSMSnapshotEmpty(t *testing.T) {
	f := newTestFSM(t, "", true)
	fresh := roundTrip(t, f)
	if st := fresh.store.State(); st.Index != 0 || st.Source != nil || len(st.Configs) != 0 {
		t.Fatalf("empty snapshot restored as %+v", st)
	}
}

// TestFSMRestoreOlderSnapshotDoesNotRegress: a snapshot older than the
// state (a restart that loaded its newer state file first) changes
// nothing, in memory or on disk.
func TestFSMRestoreOlderSnapshotDoesNotRegress(t *testing.T) {
	f := newTestFSM(t, "", true)
	f.Apply(command(1, mapstore.EncodeSetSource(testSource)))
	f.Apply(command(2, configEntry(0, "11211=a:1")))
	old := snapshotBytes(t, f)
	f.Apply(command(3, configEntry(0, "11211=a:1,b:2")))
	f.Apply(command(4, configEntry(1, "11212=c:3")))
	before := f.store.State()

	if err := f.Restore(readCloser{bytes.NewReader(old)}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if err := sameState(before, f.store.State()); err != nil {
		t.Fatalf("an older snapshot changed the state: %v", err)
	}
	saved, err := mapstore.LoadStateFile(filepath.Join(f.dir, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := sameState(before, saved); err != nil {
		t.Fatalf("an older snapshot changed the state file: %v", err)
	}

	// A newer snapshot is taken.
	g := newTestFSM(t, "", true)
	g.Apply(command(1, mapstore.EncodeSetSource(testSource)))
	if err := g.Restore(readCloser{bytes.NewReader(snapshotBytes(t, f))}); err != nil {
		t.Fatal(err)
	}
	if err := sameState(before, g.store.State()); err != nil {
		t.Fatalf("a newer snapshot was not taken: %v", err)
	}
}

// TestFSMRestoreBadSnapshot: a damaged snapshot is an error and the state
// stays.
func TestFSMRestoreBadSnapshot(t *testing.T) {
	f := newTestFSM(t, "", true)
	f.Apply(command(1, mapstore.EncodeSetSource(testSource)))
	data := snapshotBytes(t, f)
	data[len(data)-1] ^= 0xff // the CRC
	before := f.store.State()
	if err := f.Restore(readCloser{bytes.NewReader(data)}); err == nil {
		t.Fatal("a snapshot with a bad CRC was restored")
	}
	if err := sameState(before, f.store.State()); err != nil {
		t.Fatalf("a bad snapshot changed the state: %v", err)
	}
}

// TestFSMStateFileLoadedWithLog: the state file written after apply is
// what the next start loads, before raft replays anything.
func TestFSMStateFileLoadedWithLog(t *testing.T) {
	dir := t.TempDir()
	f := newTestFSM(t, dir, true)
	f.Apply(command(1, mapstore.EncodeSetSource(testSource)))
	f.Apply(command(2, configEntry(0, "11211=a:1")))
	want := f.store.State()

	next := newTestFSM(t, dir, false)
	if err := next.loadPersisted(true); err != nil {
		t.Fatalf("loadPersisted: %v", err)
	}
	if err := sameState(want, next.store.State()); err != nil {
		t.Fatalf("the restarted fsm did not load its state file: %v", err)
	}
	// Raft replays the log over it: nothing applies twice.
	if ar := next.Apply(command(2, configEntry(0, "11211=a:1"))).(applyResponse); !ar.result.Skipped {
		t.Fatalf("a replayed entry was applied again: %+v", ar.result)
	}
}

// TestFSMSnapshotBeforeStateFile: raft restores its snapshot while
// starting, before loadPersisted; an older snapshot must neither
// overwrite the newer file nor win over it once the file is loaded.
func TestFSMSnapshotBeforeStateFile(t *testing.T) {
	dir := t.TempDir()
	f := newTestFSM(t, dir, true)
	f.Apply(command(1, mapstore.EncodeSetSource(testSource)))
	f.Apply(command(2, configEntry(0, "11211=a:1")))
	old := snapshotBytes(t, f)
	f.Apply(command(3, configEntry(0, "11211=a:1,b:2")))
	want := f.store.State()

	next := newTestFSM(t, dir, false)
	if err := next.Restore(readCloser{bytes.NewReader(old)}); err != nil {
		t.Fatal(err)
	}
	saved, err := mapstore.LoadStateFile(filepath.Join(dir, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := sameState(want, saved); err != nil {
		t.Fatalf("raft's start-up restore overwrote the newer state file: %v", err)
	}
	if err := next.loadPersisted(true); err != nil {
		t.Fatal(err)
	}
	if err := sameState(want, next.store.State()); err != nil {
		t.Fatalf("after loading the state file: %v", err)
	}
}

// TestFSMStaleStateFileRemoved: without a raft log (a log started anew
// restarts indexes at 1) the state file is stale and must not be loaded.
func TestFSMStaleStateFileRemoved(t *testing.T) {
	dir := t.TempDir()
	f := newTestFSM(t, dir, true)
	f.Apply(command(1, mapstore.EncodeSetSource(testSource)))
	f.Apply(command(7, configEntry(0, "11211=a:1")))

	next := newTestFSM(t, dir, false)
	if err := next.loadPersisted(false); err != nil {
		t.Fatalf("loadPersisted: %v", err)
	}
	if st := next.store.State(); st.Index != 0 || st.Source != nil {
		t.Fatalf("a stale state file was loaded: %+v", st)
	}
	// Either no file, or one holding the empty state: never the stale one.
	saved, err := mapstore.LoadStateFile(filepath.Join(dir, stateFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		t.Fatal(err)
	case saved.Index != 0 || saved.Source != nil:
		t.Fatalf("the stale state file is still there: index %d", saved.Index)
	}
	// The new log's entry 1 applies (the stale index 7 would have hidden it).
	if ar := next.Apply(command(1, mapstore.EncodeSetSource(otherSource))).(applyResponse); ar.err != nil || ar.result.Skipped {
		t.Fatalf("the new log's first entry: %+v, %v", ar.result, ar.err)
	}
}

// TestFSMNotPersistedBeforeLoad: until the state file is loaded, Apply
// does not write it (it would overwrite a newer one).
func TestFSMNotPersistedBeforeLoad(t *testing.T) {
	dir := t.TempDir()
	f := newTestFSM(t, dir, false)
	f.Apply(command(1, mapstore.EncodeSetSource(testSource)))
	if _, err := os.Stat(filepath.Join(dir, stateFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state file written before loadPersisted: %v", err)
	}
}
