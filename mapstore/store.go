package mapstore

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// State-level rejections. Apply returns them for a committed entry that
// the state refuses; the entry still consumes its index (every node
// refuses it the same way), so they are results to report, not faults.
var (
	ErrSourceConflict = errors.New("mapstore: fleet already has a different config source")
	ErrNoSource       = errors.New("mapstore: no config source set")
)

// Store holds a fleet's replicated state (the FSM state of the raft layer).
// Readers call State, which never locks; Apply and Restore are serialised
// and publish a new FleetState atomically. The zero Store is ready to use,
// as is the one NewStore returns.
type Store struct {
	state atomic.Pointer[FleetState]
	mu    sync.Mutex // serialises Apply and Restore (writers only)

	subMu sync.Mutex
	subs  map[chan struct{}]struct{}
}

// ApplyResult says what an Apply did besides its error.
type ApplyResult struct {
	// Skipped: the index was not above the state's, so the entry had been
	// applied already (a replay after a restart) and nothing changed.
	Skipped bool
	// Unchanged: the entry consumed its index but changed nothing else: an
	// identical config, the same source again, an unknown command marked
	// IgnoreUnknown, or a rejection (then the error says which).
	Unchanged bool
	// Changed lists the sections whose config the entry replaced.
	Changed []int
}

// NewStore returns a Store with the empty state at index 0.
func NewStore() *Store {
	s := &Store{}
	s.state.Store(&FleetState{})
	return s
}

// State returns the current state, never nil. The value is shared and
// immutable: do not modify it.
func (s *Store) State() *FleetState {
	if st := s.state.Load(); st != nil {
		return st
	}
	return &FleetState{}
}

// Apply applies the log entry data committed at index. now is the local
// time, recorded as ConfigRecord.AppliedAt and never compared, so Apply
// stays deterministic across nodes.
//
// An index at or below the state's is skipped (Skipped), so replaying a
// log over a state loaded from disk is harmless and the state never goes
// back. An entry that does not decode (ErrBadCommand, ErrUnknownCommand)
// leaves the state, index included, untouched: the caller is expected to
// stop. A rejection (ErrSourceConflict, ErrNoSource) leaves the state
// unchanged except that Index advances.
func (s *Store) Apply(index uint64, data []byte, now time.Time) (ApplyResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.State()
	if index <= cur.Index {
		return ApplyResult{Skipped: true}, nil
	}
	_, cmd, err := DecodeCommand(data)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply entry %d: %w", index, err)
	}
	next := cur.advanced(index)
	var res ApplyResult
	switch c := cmd.(type) {
	case Source:
		res, err = applySetSource(next, c)
	case ConfigEntry:
		// Round(0) drops the monotonic reading, which means nothing once
		// the record is persisted or sent in a snapshot.
		rec := ConfigRecord{ConfigEntry: c, Index: index, AppliedAt: now.Round(0)}
		res, err = applySetConfig(next, rec)
	default: // nil: an unknown type marked IgnoreUnknown
		res = ApplyResult{Unchanged: true}
	}
	s.state.Store(next)
	if next.Source != cur.Source || len(res.Changed) > 0 {
		s.notify()
	}
	if err != nil {
		err = fmt.Errorf("apply entry %d: %w", index, err)
	}
	return res, err
}

// applySetSource sets next's source unless one is set already. next is
// the unpublished copy Apply is building.
func applySetSource(next *FleetState, src Source) (ApplyResult, error) {
	switch {
	case next.Source == nil:
		next.Source = &SourceRecord{Source: src, Index: next.Index}
		return ApplyResult{}, nil
	case next.Source.Same(src):
		return ApplyResult{Unchanged: true}, nil
	}
	cur := next.Source
	return ApplyResult{Unchanged: true}, fmt.Errorf("set source %s %q over %s %q: %w",
		src.Kind, src.Spec, cur.Kind, cur.Spec, ErrSourceConflict)
}

// applySetConfig stores rec in next unless its section already holds the
// same bytes: re-applying them would bump the version and make every node
// rebuild a map that did not change.
func applySetConfig(next *FleetState, rec ConfigRecord) (ApplyResult, error) {
	if next.Source == nil {
		return ApplyResult{Unchanged: true},
			fmt.Errorf("set config of section %d: %w", rec.Section, ErrNoSource)
	}
	if old, ok := next.Config(rec.Section); ok && bytes.Equal(old.Body, rec.Body) {
		return ApplyResult{Unchanged: true}, nil
	}
	next.Configs = next.withConfig(rec)
	return ApplyResult{Changed: []int{rec.Section}}, nil
}

// Restore replaces the whole state with a copy of st (nil means the empty
// state) and reports true, unless st is older than the current state: then
// it keeps the current one and reports false. Refusing older states lets a
// node load its own newer state file before raft restores an older
// snapshot, without going back.
func (s *Store) Restore(st *FleetState) bool {
	if st == nil {
		st = &FleetState{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Index < s.State().Index {
		return false
	}
	s.state.Store(st.clone())
	s.notify()
	return true
}

// Subscribe returns a channel that receives a token after the state
// changes (a source set, a config replaced, a restore), and a function
// that ends the subscription and closes the channel. The channel holds one
// token, so changes made while the subscriber is busy coalesce into one:
// on a token, read State for the latest. Entries that only advance Index
// send none. Subscribe before the first State call to miss nothing.
func (s *Store) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.subMu.Lock()
	if s.subs == nil {
		s.subs = make(map[chan struct{}]struct{})
	}
	s.subs[ch] = struct{}{}
	s.subMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.subMu.Lock()
			delete(s.subs, ch)
			s.subMu.Unlock()
			// notify sends only under subMu to channels still in subs,
			// so nothing can send on ch once it is gone from the map.
			close(ch)
		})
	}
}

// notify gives every subscriber a token without blocking: a full channel
// already holds one, which is all a coalescing subscriber needs.
func (s *Store) notify() {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
