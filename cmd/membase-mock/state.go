package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// savedState is the -state file: enough to restart the mock as the same
// cluster (node ports, membership, maps) after its process was killed.
// Items are not kept, as if every node had lost its disk; a rebalance
// that was running is not resumed (its forward map is dropped), as when
// membase's orchestrator dies mid-rebalance.
type savedState struct {
	MapVersion uint64        `json:"map_version"`
	Nodes      []savedNode   `json:"nodes"`
	ServerList []int         `json:"server_list"` // node ids
	Buckets    []savedBucket `json:"buckets"`
}

type savedNode struct {
	ID    int    `json:"id"`
	Port  int    `json:"port"`
	State string `json:"state"`
}

type savedBucket struct {
	Name string  `json:"name"`
	Map  [][]int `json:"map"` // node ids, not serverList positions
}

// clusterPlan is what newCluster builds: from flags or from a state file.
type clusterPlan struct {
	nodes      []savedNode
	serverList []int
	rows       map[string][][]int // bucket name -> map; absent: spread afresh
}

// loadState reads path; a missing file means a fresh start (nil).
func loadState(path string) (*savedState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var s savedState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse state %s: %w", path, err)
	}
	return &s, nil
}

// plan checks the saved state against the flags and turns it into a
// clusterPlan. Buckets not saved get a fresh map; saved buckets the flags
// no longer name are forgotten.
func (s *savedState) plan(cfg config) (*clusterPlan, error) {
	p := &clusterPlan{nodes: s.Nodes, serverList: s.ServerList, rows: map[string][][]int{}}
	for i, n := range s.Nodes {
		if n.ID != i || n.Port <= 0 || n.Port > 65535 {
			return nil, fmt.Errorf("state: node %d: bad id or port", i)
		}
		switch nodeState(n.State) {
		case nodeActive, nodeFailed, nodeRemoved:
		default:
			return nil, fmt.Errorf("state: node %d: unknown state %q", i, n.State)
		}
	}
	if len(s.ServerList) == 0 {
		return nil, errors.New("state: empty server list")
	}
	for _, id := range s.ServerList {
		if id < 0 || id >= len(s.Nodes) {
			return nil, fmt.Errorf("state: server list names unknown node %d", id)
		}
	}
	for _, b := range s.Buckets {
		if err := checkSavedMap(b, cfg, s.ServerList); err != nil {
			return nil, err
		}
		p.rows[b.Name] = b.Map
	}
	return p, nil
}

// checkSavedMap refuses a map that does not fit the flags or the nodes.
func checkSavedMap(b savedBucket, cfg config, serverList []int) error {
	if len(b.Map) != cfg.vbuckets {
		return fmt.Errorf("state: bucket %q has %d vbuckets, -vbuckets says %d", b.Name, len(b.Map), cfg.vbuckets)
	}
	for vb, row := range b.Map {
		if len(row) != cfg.replicas+1 {
			return fmt.Errorf("state: bucket %q vbucket %d: %d entries, -replicas %d wants %d",
				b.Name, vb, len(row), cfg.replicas, cfg.replicas+1)
		}
		for _, id := range row {
			if id != -1 && !slices.Contains(serverList, id) {
				return fmt.Errorf("state: bucket %q vbucket %d: node %d is not in the cluster", b.Name, vb, id)
			}
		}
	}
	return nil
}

// saveLocked writes the state file atomically (write, then rename), so a
// kill at any moment leaves the old or the new state.
func (c *cluster) saveLocked(path string) error {
	s := savedState{MapVersion: c.version, ServerList: c.serverList}
	for _, n := range c.nodes {
		s.Nodes = append(s.Nodes, savedNode{ID: n.id, Port: n.listenPort(), State: string(n.state)})
	}
	for _, b := range c.buckets {
		s.Buckets = append(s.Buckets, savedBucket{Name: b.spec.name, Map: b.rows})
	}
	data, err := json.Marshal(&s)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".membase-mock-state-*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}
