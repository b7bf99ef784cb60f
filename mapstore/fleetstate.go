package mapstore

import (
	"cmp"
	"slices"
	"time"
)

// FleetState is the replicated state of a fleet: the config source and the
// latest config of each -z section. A FleetState is immutable once a Store
// publishes it: Apply and Restore build a new value and swap it in, so any
// number of readers may hold and read one without locking. Callers must not
// modify a FleetState (its Configs, Bodies or Source included) they did not
// build themselves.
type FleetState struct {
	// Index is the raft index of the last entry applied, including
	// entries that changed nothing else (rejections, identical configs).
	Index   uint64
	Source  *SourceRecord  // nil until the first CmdSetSource
	Configs []ConfigRecord // sorted by Section, at most one per Section
}

// SourceRecord is the fleet's source and the raft index that set it.
type SourceRecord struct {
	Source
	Index uint64 `json:"index"`
}

// ConfigRecord is a section's current config.
type ConfigRecord struct {
	ConfigEntry
	// Index is the map version: the raft index of the entry that set
	// these bytes. An entry carrying identical bytes does not change it,
	// so a version change always means a config change.
	Index uint64 `json:"index"`
	// AppliedAt is the local wall time the entry was applied on the node
	// that produced this record (the snapshot's writer, after a restore).
	// It is for status pages only and never compared.
	AppliedAt time.Time `json:"applied_at"`
}

// Config returns the record of the given section, if any config has been
// set for it.
func (st *FleetState) Config(section int) (ConfigRecord, bool) {
	i, ok := st.find(section)
	if !ok {
		return ConfigRecord{}, false
	}
	return st.Configs[i], true
}

// find returns the position of section in Configs, or where it would go.
func (st *FleetState) find(section int) (int, bool) {
	return slices.BinarySearchFunc(st.Configs, section, func(r ConfigRecord, s int) int {
		return cmp.Compare(r.Section, s)
	})
}

// advanced returns a copy of st at index that shares st's immutable
// parts, for Apply to modify before publishing.
func (st *FleetState) advanced(index uint64) *FleetState {
	next := *st
	next.Index = index
	return &next
}

// withConfig returns a copy of st's Configs with rec stored in its
// section's place; st's slice is left alone because readers may hold it.
func (st *FleetState) withConfig(rec ConfigRecord) []ConfigRecord {
	i, found := st.find(rec.Section)
	out := make([]ConfigRecord, 0, len(st.Configs)+1)
	out = append(out, st.Configs[:i]...)
	out = append(out, rec)
	if found {
		i++
	}
	return append(out, st.Configs[i:]...)
}

// clone deep-copies st, so that Restore owns what it publishes even if the
// caller keeps modifying the value it passed in. It sorts Configs, which
// lookups rely on, in case the caller built them out of order.
func (st *FleetState) clone() *FleetState {
	c := &FleetState{Index: st.Index}
	if st.Source != nil {
		src := *st.Source
		c.Source = &src
	}
	if len(st.Configs) > 0 {
		c.Configs = make([]ConfigRecord, len(st.Configs))
		for i, r := range st.Configs {
			r.Body = slices.Clone(r.Body)
			c.Configs[i] = r
		}
		slices.SortStableFunc(c.Configs, func(a, b ConfigRecord) int {
			return cmp.Compare(a.Section, b.Section)
		})
	}
	return c
}
