package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// identity is what a node keeps in cluster_data about itself, so that a
// restart keeps its raft ID and cannot wander into another fleet.
type identity struct {
	Node    string `json:"node"`
	Cluster string `json:"cluster_name"`
	// Fleet is the fleet's random ID, known once the node bootstrapped
	// one or applied a fleet's source; empty before.
	Fleet string `json:"fleet_id,omitempty"`
}

const identityFile = "node.json"

// loadIdentity reads dir's identity, or makes one for a node new to dir.
// A dir of another cluster_name is refused.
func loadIdentity(dir string, cfg Config) (identity, bool, error) {
	path := filepath.Join(dir, identityFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		name := cfg.NodeName
		if name == "" {
			name = cfg.BindAddr
		}
		return identity{Node: name, Cluster: cfg.Name}, false, nil
	}
	if err != nil {
		return identity{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	var id identity
	if err := json.Unmarshal(data, &id); err != nil || id.Node == "" {
		return identity{}, false, fmt.Errorf("cluster_data %s: %s is not a moxi node identity", dir, identityFile)
	}
	if id.Cluster != cfg.Name {
		return identity{}, false, fmt.Errorf("cluster_data %s belongs to fleet %q (cluster_name), not %q", dir, id.Cluster, cfg.Name)
	}
	if cfg.NodeName != "" && cfg.NodeName != id.Node {
		return identity{}, false, fmt.Errorf("cluster_data %s belongs to node %q, not %q", dir, id.Node, cfg.NodeName)
	}
	return id, true, nil
}

// save writes id atomically.
func (id identity) save(dir string) error {
	data, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return fmt.Errorf("encode identity: %w", err)
	}
	path := filepath.Join(dir, identityFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

// newFleetID returns a random fleet ID.
func newFleetID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
