package cluster

// Bootstrap safety, identity and configuration checks.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestBootstrapOnlyOnce: a node with a source and an empty cluster_data
// bootstraps; restarted with its data, alone, it does not bootstrap a
// second fleet: it keeps the fleet's three-server configuration, serves
// its last state at once, and cannot lead without a quorum. A second
// member restarting with its data makes the fleet whole again.
func TestBootstrapOnlyOnce(t *testing.T) {
	f := newTestFleet(t, 3, false, nil)
	first := f.start(0)
	if c := first.c; c.HadData() || c.raft.existed {
		t.Fatalf("a node with an empty cluster_data says it had data (HadData %v, raft state %v)", c.HadData(), c.raft.existed)
	}
	if !strings.Contains(first.log.String(), "bootstrapping a new fleet") {
		t.Fatalf("a node with a source and empty data did not bootstrap; log:\n%s", first.log.String())
	}
	f.waitLeader(10 * time.Second)
	f.start(1)
	f.start(2)
	l := f.waitMembers(3, 0, 15*time.Second)
	run, _ := f.rec.current(l.name)
	waitFor(t, 10*time.Second, "every store at the leader's entry", func() error { return f.converged(run.proposed) })
	fleet := first.store.State().Source.FleetID
	if fleet == "" || fleet != first.c.fleetID() {
		t.Fatalf("the fleet's source has fleet ID %q, the node %q", fleet, first.c.fleetID())
	}
	var id identity
	if data, err := os.ReadFile(filepath.Join(first.cfg.DataDir, identityFile)); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(data, &id); err != nil || id.Fleet != fleet {
		t.Fatalf("%s holds %+v (%v), want fleet %s", identityFile, id, err, fleet)
	}
	last := first.store.State()
	for i := range f.nodes {
		f.hardStop(i)
	}

	// Restart the first node alone, with its data and its source: the
	// command line a service manager would run again.
	f.nodes[0].store = newStoreForRestart()
	again := f.start(0)
	// Before any leader: the state it last applied, read from its data.
	if err := sameReplicated(last, again.store.State()); err != nil {
		t.Fatalf("the restarted node does not have its last state at once: %v", err)
	}
	if !again.c.HadData() || !again.c.raft.existed {
		t.Fatalf("restarted with its data, HadData %v, raft state %v", again.c.HadData(), again.c.raft.existed)
	}
	if n := strings.Count(again.log.String(), "bootstrapping a new fleet"); n != 1 {
		t.Fatalf("the node bootstrapped %d times in its life, want once; log:\n%s", n, again.log.String())
	}
	if got := again.c.fleetID(); got != fleet {
		t.Fatalf("restarted in fleet %q, was %q", got, fleet)
	}
	// No second fleet: the configuration is the old one, and alone the
	// node cannot win an election (ten election timeouts, polled).
	holdsFor(t, 2*time.Second, "a lone restarted member of a 3-voter fleet", func() error {
		servers, err := again.servers()
		if err != nil {
			return err
		}
		if len(servers) != 3 {
			return fmt.Errorf("raft configuration %v, want the fleet's three servers", servers)
		}
		if s := again.c.raft.r.State(); s == raft.Leader {
			return fmt.Errorf("it became leader alone: a second fleet")
		}
		return nil
	})
	if st := again.store.State(); st.Index < last.Index {
		t.Fatalf("the restarted node went back to index %d from %d", st.Index, last.Index)
	}

	// With a second member back, the old fleet has a quorum again.
	f.nodes[1].store = newStoreForRestart()
	f.start(1)
	nl := f.waitLeader(10 * time.Second)
	if got := nl.store.State().Source.FleetID; got != fleet {
		t.Fatalf("the fleet came back as %q, was %q", got, fleet)
	}
}

// TestJoiningNodeNeverBootstraps: a node without a source, or one that
// is told to join, does not bootstrap; with empty data and nobody to
// join it gives up after cluster_join_timeout.
func TestJoiningNodeNeverBootstraps(t *testing.T) {
	for _, tc := range []struct {
		name   string
		source bool
	}{{"no source", false}, {"source and join", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newTestFleet(t, 1, false, func(c *Config) {
				c.JoinTimeout = time.Second
				// Nobody answers on the discard port.
				c.Join = []string{"127.0.0.1:9"}
			})
			if !tc.source {
				f.nodes[0].cfg.Source = nil
			}
			f.nodes[0].cfg.Join = []string{"127.0.0.1:9"}
			n := f.start(0)
			start := time.Now()
			select {
			case err := <-n.c.Err():
				if !errors.Is(err, ErrJoinTimeout) {
					t.Fatalf("Err() = %v, want ErrJoinTimeout", err)
				}
				t.Logf("gave up after %v: %q", time.Since(start), err)
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("the join timeout error is not one line: %q", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a node with empty data and nobody to join did not give up")
			}
			if strings.Contains(n.log.String(), "bootstrapping") {
				t.Fatalf("a joining node bootstrapped; log:\n%s", n.log.String())
			}
			if c := strings.Count(n.log.String(), "join failed; retrying"); c < 2 {
				t.Errorf("logged %d join retries in a second, want each try logged", c)
			}
			servers, err := n.servers()
			if err != nil {
				t.Fatal(err)
			}
			if len(servers) != 0 {
				t.Fatalf("a joining node has raft configuration %v", servers)
			}
		})
	}
}

// TestDataOfAnotherClusterNameRefused: cluster_data kept by a node of
// cluster_name "a" is refused by a node of "b", with an error naming
// both, before raft opens anything there.
func TestDataOfAnotherClusterNameRefused(t *testing.T) {
	dir := t.TempDir()
	if err := (identity{Node: "127.0.0.1:7946", Cluster: "a"}).save(dir); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.BindAddr, cfg.DataDir, cfg.Name, cfg.Fast = "127.0.0.1:7946", dir, "b", true
	c, err := New(cfg, Deps{Logger: newLogCapture(t, "b").logger(), Store: newStoreForRestart()})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start()
	if err == nil {
		c.raft.close()
		t.Fatal("a node of cluster_name b started on the data of cluster_name a")
	}
	msg := err.Error()
	for _, want := range []string{"cluster_name", dir, `"a"`, `"b"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %s", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q is not one line", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "raft.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("raft opened its log in the other fleet's data (%v)", err)
	}
}

// TestDataOfAnotherFleetRefused: a node whose identity names one fleet
// but whose state holds another fleet's source refuses to start.
func TestDataOfAnotherFleetRefused(t *testing.T) {
	f := newTestFleet(t, 1, false, nil)
	f.start(0)
	f.waitLeader(10 * time.Second)
	f.hardStop(0)
	dir := f.nodes[0].cfg.DataDir
	var id identity
	data, err := os.ReadFile(filepath.Join(dir, identityFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &id); err != nil {
		t.Fatal(err)
	}
	id.Fleet = "0ther0ther"
	if err := id.save(dir); err != nil {
		t.Fatal(err)
	}
	c, err := New(f.nodes[0].cfg, Deps{Logger: newLogCapture(t, "again").logger(), Store: newStoreForRestart()})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start()
	if err == nil {
		_ = c.Shutdown(t.Context())
		t.Fatal("a node started on data whose state belongs to another fleet")
	}
	if !errors.Is(err, ErrOtherFleet) || !strings.Contains(err.Error(), "0ther0ther") {
		t.Fatalf("error %v, want ErrOtherFleet naming both fleets", err)
	}
}

// TestDataDirNotWritable: a cluster_data that cannot be created (under a
// regular file: this fails for root too) stops Start with an error naming
// cluster_data.
func TestDataDirNotWritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.BindAddr, cfg.DataDir, cfg.Fast = "127.0.0.1:7946", filepath.Join(file, "sub"), true
	c, err := New(cfg, Deps{Logger: newLogCapture(t, "x").logger(), Store: newStoreForRestart()})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start()
	if err == nil {
		t.Fatal("Start succeeded on a cluster_data under a regular file")
	}
	if !strings.HasPrefix(err.Error(), "cluster_data ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %q does not start with cluster_data or is not one line", err)
	}
}

// TestConfigValidateNamesKey: every Validate error names the -Z key at
// fault.
func TestConfigValidateNamesKey(t *testing.T) {
	good := DefaultConfig()
	good.BindAddr, good.DataDir = "127.0.0.1:7946", "/var/lib/moxi"
	if err := good.Validate(); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for _, tc := range []struct {
		key    string
		mutate func(*Config)
	}{
		{"cluster_bind", func(c *Config) { c.BindAddr = "" }},
		{"cluster_bind", func(c *Config) { c.BindAddr = "moxi.example.com:7946" }},
		{"cluster_bind", func(c *Config) { c.BindAddr = "127.0.0.1:0" }},
		{"cluster_bind", func(c *Config) { c.BindAddr = "127.0.0.1:99999" }},
		{"cluster_bind", func(c *Config) { c.BindAddr = "[::1" }},
		{"cluster_data", func(c *Config) { c.DataDir = "" }},
		{"cluster_voters", func(c *Config) { c.Voters = 2 }},
		{"cluster_voters", func(c *Config) { c.Voters = 0 }},
		{"cluster_name", func(c *Config) { c.Name = "" }},
		{"cluster_raft_port", func(c *Config) { c.RaftPort = -1 }},
		{"cluster_raft_port", func(c *Config) { c.RaftPort = 70000 }},
		{"join", func(c *Config) { c.Join = []string{"127.0.0.1:notaport"} }},
		{"cluster_key", func(c *Config) { c.GossipKeys = [][]byte{make([]byte, 32), make([]byte, 20)} }},
		{"cluster_tls_", func(c *Config) { c.RaftTLS = &TLS{} }},
	} {
		c := good
		tc.mutate(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("%+v: no error, want one naming %s", c, tc.key)
			continue
		}
		if !strings.Contains(err.Error(), tc.key) {
			t.Errorf("error %q does not name %s", err, tc.key)
		}
	}
}

// TestNewRefusesBadConfig: New validates.
func TestNewRefusesBadConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BindAddr, cfg.DataDir, cfg.Voters = "127.0.0.1:7946", t.TempDir(), 4
	if _, err := New(cfg, Deps{Logger: newLogCapture(t, "x").logger(), Store: newStoreForRestart()}); err == nil ||
		!strings.Contains(err.Error(), "cluster_voters") {
		t.Fatalf("New with 4 voters: %v", err)
	}
}
