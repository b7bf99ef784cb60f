package cluster

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/moxifleet/moxi/mapstore"
)

// stateFile keeps the last applied state in cluster_data, so a restarted
// node serves its last map before any leader is reachable: raft itself
// replays committed entries only once a leader says they are committed.
const stateFile = "state.snap"

// fsm is the raft.FSM over a mapstore.Store. Apply is pure: the entry
// carries the source's bytes, every node applies them the same way, and
// the map version is the entry's raft index.
type fsm struct {
	store  *mapstore.Store
	dir    string
	logger *slog.Logger
	// loaded is set once the state file has been read: until then the
	// snapshot raft restores at start must not overwrite a newer file.
	loaded atomic.Bool
	saveMu sync.Mutex // one SaveStateFile at a time: they share a temp file
}

// applyResponse is what Apply returns to the proposer.
type applyResponse struct {
	result mapstore.ApplyResult
	err    error
}

// Apply applies one log entry and persists the state it leads to.
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	res, err := f.store.Apply(l.Index, l.Data, time.Now())
	if err != nil {
		// The leader validated the entry before proposing it, so this is
		// a state-level rejection (a source conflict) or a newer moxi's
		// command: the last good state stays in force.
		f.logger.Error("raft entry rejected; keeping the last state", "index", l.Index, "err", err)
	}
	if !res.Skipped {
		f.persist()
	}
	return applyResponse{result: res, err: err}
}

// Snapshot captures the current immutable state; Persist writes it.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	return &fsmSnapshot{state: f.store.State()}, nil
}

// Restore replaces the state with a snapshot's, unless the state this
// node persisted is newer (a restart): it never goes back.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st, err := mapstore.ReadSnapshot(rc)
	if err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	if f.store.Restore(st) {
		f.persist()
	}
	return nil
}

// persist saves the state for the next start; a failure is logged, since
// the raft log still holds everything.
func (f *fsm) persist() {
	if !f.loaded.Load() {
		return
	}
	f.saveMu.Lock()
	defer f.saveMu.Unlock()
	path := filepath.Join(f.dir, stateFile)
	if err := mapstore.SaveStateFile(path, f.store.State()); err != nil {
		f.logger.Error("could not persist the fleet state", "path", path, "err", err)
	}
}

// loadPersisted restores the state saved by the last run, if the raft
// log it goes with still exists; otherwise it removes it.
func (f *fsm) loadPersisted(logExists bool) error {
	defer func() {
		f.loaded.Store(true)
		f.persist() // the newer of the file and raft's snapshot
	}()
	path := filepath.Join(f.dir, stateFile)
	if !logExists {
		if err := os.Remove(path); err != nil && !isNotExist(err) {
			return fmt.Errorf("remove stale %s: %w", path, err)
		}
		return nil
	}
	st, err := mapstore.LoadStateFile(path)
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return fmt.Errorf("load %s: %w", path, err)
	}
	f.store.Restore(st)
	return nil
}

type fsmSnapshot struct{ state *mapstore.FleetState }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := mapstore.WriteSnapshot(sink, s.state); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("write snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}
