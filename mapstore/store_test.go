package mapstore

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var testNow = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

// mustApply applies data at index and fails the test on an error.
func mustApply(t testing.TB, s *Store, index uint64, data []byte) ApplyResult {
	t.Helper()
	res, err := s.Apply(index, data, testNow.Add(time.Duration(index)*time.Second))
	if err != nil {
		t.Fatalf("Apply(%d): %v", index, err)
	}
	return res
}

func configEntry(section int, body string) []byte {
	return EncodeSetConfig(ConfigEntry{Section: section, Origin: fmt.Sprint("origin-", section), Body: []byte(body)})
}

// sourcedStore returns a store whose source was set at index 1.
func sourcedStore(t testing.TB) *Store {
	s := NewStore()
	mustApply(t, s, 1, EncodeSetSource(testSource))
	return s
}

func TestApplySetSource(t *testing.T) {
	same := testSource
	same.FleetID, same.Behavior = "another", "another"
	other := Source{Kind: "static", Spec: "/etc/moxi.cfg"}
	tests := []struct {
		name    string
		data    []byte
		want    ApplyResult
		wantErr error
	}{
		{"same source again", EncodeSetSource(testSource), ApplyResult{Unchanged: true}, nil},
		{"same spec other fleet id", EncodeSetSource(same), ApplyResult{Unchanged: true}, nil},
		{"different source", EncodeSetSource(other), ApplyResult{Unchanged: true}, ErrSourceConflict},
	}
	for _, tt := range tests {
		s := sourcedStore(t)
		res, err := s.Apply(2, tt.data, testNow)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
		if !reflect.DeepEqual(res, tt.want) {
			t.Errorf("%s: result = %+v, want %+v", tt.name, res, tt.want)
		}
		st := s.State()
		if st.Index != 2 || st.Source.Index != 1 || st.Source.Source != testSource {
			t.Errorf("%s: state %+v, source %+v; want index 2 and the first source", tt.name, st, st.Source)
		}
	}
}

func TestApplyFirstSource(t *testing.T) {
	s := NewStore()
	if st := s.State(); st == nil || st.Index != 0 || st.Source != nil || st.Configs != nil {
		t.Fatalf("initial state %+v, want empty", st)
	}
	res := mustApply(t, s, 3, EncodeSetSource(testSource))
	if !reflect.DeepEqual(res, ApplyResult{}) {
		t.Errorf("result %+v", res)
	}
	want := &SourceRecord{Source: testSource, Index: 3}
	if st := s.State(); st.Index != 3 || !reflect.DeepEqual(st.Source, want) {
		t.Errorf("state %+v source %+v, want %+v", st, st.Source, want)
	}
}

func TestSourceConflictNamesBoth(t *testing.T) {
	s := sourcedStore(t)
	_, err := s.Apply(2, EncodeSetSource(Source{Kind: "static", Spec: "/etc/moxi.cfg"}), testNow)
	msg := fmt.Sprint(err)
	for _, want := range []string{"/etc/moxi.cfg", testSource.Spec, "mapstore: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
}

func TestApplySetConfig(t *testing.T) {
	s := sourcedStore(t)
	steps := []struct {
		index   uint64
		data    []byte
		want    ApplyResult
		version map[int]uint64 // section -> ConfigRecord.Index afterwards
	}{
		{2, configEntry(1, "b1"), ApplyResult{Changed: []int{1}}, map[int]uint64{1: 2}},
		{3, configEntry(0, "a1"), ApplyResult{Changed: []int{0}}, map[int]uint64{0: 3, 1: 2}},
		{4, configEntry(5, "c1"), ApplyResult{Changed: []int{5}}, map[int]uint64{0: 3, 1: 2, 5: 4}},
		{5, configEntry(1, "b1"), ApplyResult{Unchanged: true}, map[int]uint64{0: 3, 1: 2, 5: 4}},
		{6, configEntry(1, "b2"), ApplyResult{Changed: []int{1}}, map[int]uint64{0: 3, 1: 6, 5: 4}},
	}
	for _, step := range steps {
		res := mustApply(t, s, step.index, step.data)
		if !reflect.DeepEqual(res, step.want) {
			t.Errorf("index %d: result %+v, want %+v", step.index, res, step.want)
		}
		st := s.State()
		if st.Index != step.index || len(st.Configs) != len(step.version) {
			t.Fatalf("index %d: state index %d with %d configs", step.index, st.Index, len(st.Configs))
		}
		for i, rec := range st.Configs {
			if i > 0 && st.Configs[i-1].Section >= rec.Section {
				t.Errorf("index %d: configs not sorted: %d after %d", step.index, rec.Section, st.Configs[i-1].Section)
			}
			if rec.Index != step.version[rec.Section] {
				t.Errorf("index %d: section %d version %d, want %d", step.index, rec.Section, rec.Index, step.version[rec.Section])
			}
		}
	}
}

// "A config identical to the current one is not re-applied": its version,
// origin and time stay those of the entry that first set the bytes.
func TestIdenticalConfigKeepsVersion(t *testing.T) {
	s := sourcedStore(t)
	mustApply(t, s, 2, configEntry(0, "x"))
	before, _ := s.State().Config(0)
	res, err := s.Apply(9, EncodeSetConfig(ConfigEntry{Section: 0, Origin: "elsewhere", Body: []byte("x")}), testNow.Add(time.Hour))
	if err != nil || !res.Unchanged || res.Changed != nil {
		t.Fatalf("Apply = %+v, %v; want Unchanged", res, err)
	}
	after, _ := s.State().Config(0)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("record changed:\n%+v\n%+v", before, after)
	}
	if s.State().Index != 9 {
		t.Errorf("state index %d, want 9", s.State().Index)
	}
}

func TestApplyConfigWithoutSource(t *testing.T) {
	s := NewStore()
	res, err := s.Apply(1, configEntry(0, "x"), testNow)
	if !errors.Is(err, ErrNoSource) || !res.Unchanged {
		t.Fatalf("Apply = %+v, %v; want ErrNoSource", res, err)
	}
	if st := s.State(); st.Index != 1 || len(st.Configs) != 0 {
		t.Errorf("state %+v, want only the index advanced", st)
	}
}

func TestApplyStaleIndexSkipped(t *testing.T) {
	s := sourcedStore(t)
	mustApply(t, s, 5, configEntry(0, "new"))
	for _, index := range []uint64{0, 2, 5} {
		res := mustApply(t, s, index, configEntry(0, "old"))
		if !res.Skipped {
			t.Errorf("index %d: result %+v, want Skipped", index, res)
		}
	}
	// Even garbage is skipped: a replayed entry was applied before.
	if res, err := s.Apply(4, []byte{0x42}, testNow); err != nil || !res.Skipped {
		t.Errorf("stale unknown entry: %+v, %v", res, err)
	}
	if rec, _ := s.State().Config(0); string(rec.Body) != "new" || s.State().Index != 5 {
		t.Errorf("state regressed: %+v", s.State())
	}
}

func TestApplyUnknownCommands(t *testing.T) {
	s := sourcedStore(t)
	before := s.State()
	for _, data := range [][]byte{{0x42, '{', '}'}, nil, []byte("\x02null")} {
		if _, err := s.Apply(2, data, testNow); err == nil {
			t.Errorf("Apply(%q) succeeded", data)
		}
		if s.State() != before {
			t.Errorf("Apply(%q) changed the state", data)
		}
	}
	_, err := s.Apply(2, []byte{0x42}, testNow)
	if !errors.Is(err, ErrUnknownCommand) {
		t.Errorf("err = %v, want ErrUnknownCommand", err)
	}
	res := mustApply(t, s, 2, []byte{0x42 | byte(IgnoreUnknown), 'x'})
	if !res.Unchanged || s.State().Index != 2 || s.State().Source != before.Source {
		t.Errorf("ignorable entry: result %+v state %+v", res, s.State())
	}
}

func TestZeroStore(t *testing.T) {
	var s Store
	if st := s.State(); st == nil || st.Index != 0 {
		t.Fatalf("zero Store state %+v", st)
	}
	mustApply(t, &s, 1, EncodeSetSource(testSource))
	if s.State().Source == nil {
		t.Error("zero Store did not apply")
	}
}

// A published state never changes: readers may hold it across Applies.
func TestPublishedStateImmutable(t *testing.T) {
	s := sourcedStore(t)
	mustApply(t, s, 2, configEntry(0, "a"))
	mustApply(t, s, 3, configEntry(2, "c"))
	held := s.State()
	snapshot := held.clone()
	mustApply(t, s, 4, configEntry(1, "b"))
	mustApply(t, s, 5, configEntry(0, "a2"))
	if _, err := s.Apply(6, EncodeSetSource(Source{Kind: "static", Spec: "x"}), testNow); err == nil {
		t.Fatal("conflicting source accepted")
	}
	if !reflect.DeepEqual(held, snapshot) {
		t.Errorf("held state changed:\n%+v\n%+v", held, snapshot)
	}
}

func TestRestore(t *testing.T) {
	s := sourcedStore(t)
	mustApply(t, s, 10, configEntry(0, "current"))
	current := s.State()

	older := &FleetState{Index: 9, Source: &SourceRecord{Source: testSource, Index: 1}}
	if s.Restore(older) || s.State() != current {
		t.Error("an older state replaced a newer one")
	}
	same := current.clone()
	same.Configs[0].Body = []byte("same index")
	if !s.Restore(same) {
		t.Error("a state at the same index was refused")
	}
	newer := &FleetState{Index: 20}
	if !s.Restore(newer) || s.State().Index != 20 || s.State().Source != nil {
		t.Errorf("newer state not restored: %+v", s.State())
	}
	newer.Index = 99 // the caller's value is copied, not shared
	if s.State().Index != 20 {
		t.Error("Restore kept the caller's pointer")
	}
	if s.Restore(nil) || s.State().Index != 20 {
		t.Error("nil restored over a newer state")
	}
	if !NewStore().Restore(nil) {
		t.Error("nil refused by an empty store")
	}
}

func TestRestoreSortsConfigs(t *testing.T) {
	s := NewStore()
	s.Restore(&FleetState{Index: 5, Source: &SourceRecord{Source: testSource, Index: 1},
		Configs: []ConfigRecord{{ConfigEntry: ConfigEntry{Section: 3}}, {ConfigEntry: ConfigEntry{Section: 1}}}})
	if _, ok := s.State().Config(1); !ok {
		t.Errorf("section 1 not found in %+v", s.State().Configs)
	}
}

// recv reports whether ch holds a token now.
func recv(ch <-chan struct{}) bool {
	select {
	case _, ok := <-ch:
		return ok
	default:
		return false
	}
}

func TestSubscribe(t *testing.T) {
	s := NewStore()
	ch, cancel := s.Subscribe()
	defer cancel()
	ch2, cancel2 := s.Subscribe()

	mustApply(t, s, 1, EncodeSetSource(testSource))
	if !recv(ch) || recv(ch) {
		t.Fatal("want exactly one token after setting the source")
	}
	mustApply(t, s, 2, configEntry(0, "a"))
	mustApply(t, s, 3, configEntry(1, "b"))
	if !recv(ch) || recv(ch) {
		t.Error("two changes did not coalesce into one token")
	}
	mustApply(t, s, 4, configEntry(1, "b"))             // identical
	mustApply(t, s, 5, EncodeSetSource(testSource))     // same source
	mustApply(t, s, 6, []byte{byte(IgnoreUnknown | 9)}) // ignorable
	mustApply(t, s, 6, configEntry(1, "c"))             // stale
	if recv(ch) {
		t.Error("token for entries that changed nothing")
	}
	s.Restore(&FleetState{Index: 7})
	if !recv(ch) {
		t.Error("no token after Restore")
	}

	recv(ch2) // drain
	cancel2()
	cancel2() // idempotent
	if _, ok := <-ch2; ok {
		t.Error("channel not closed by unsubscribe")
	}
	mustApply(t, s, 8, EncodeSetSource(testSource)) // no send on the closed channel
	mustApply(t, s, 9, configEntry(0, "z"))
	if !recv(ch) {
		t.Error("remaining subscriber lost its token")
	}
}

// Readers must see whole states while a writer applies (run with -race).
func TestConcurrentReaders(t *testing.T) {
	s := sourcedStore(t)
	const entries = 500
	var wg sync.WaitGroup
	done := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, cancel := s.Subscribe()
			defer cancel()
			for last := uint64(0); ; {
				st := s.State()
				if st.Index < last {
					t.Errorf("state went back from %d to %d", last, st.Index)
				}
				last = st.Index
				if rec, ok := st.Config(0); ok && rec.Index > st.Index {
					t.Errorf("config version %d above state index %d", rec.Index, st.Index)
				}
				select {
				case <-done:
					return
				case <-ch:
				}
			}
		}()
	}
	for i := uint64(2); i < entries; i++ {
		mustApply(t, s, i, configEntry(int(i%3), fmt.Sprint(i)))
	}
	close(done)
	wg.Wait()
	if st := s.State(); st.Index != entries-1 || len(st.Configs) != 3 {
		t.Errorf("final state %+v", st)
	}
}
