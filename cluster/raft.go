package cluster

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// raftNode is raft with the stores it opened, closed together.
type raftNode struct {
	r       *raft.Raft
	bolt    *raftboltdb.BoltStore
	trans   raft.Transport
	thin    *thinTransport // trans, with fewer heartbeats to non-voters
	times   timeouts       // the voter timings; non-voters' are longer
	notify  chan bool
	existed bool // the log held state before this start
}

// openRaft opens the raft log (boltdb), snapshots and transport in
// cluster_data and starts raft. It does not bootstrap.
func openRaft(cfg Config, id string, f raft.FSM, out io.Writer, c *Cluster) (*raftNode, error) {
	rn := &raftNode{notify: make(chan bool, 16)}
	var err error
	rn.bolt, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.DataDir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("open raft log in %s: %w", cfg.DataDir, err)
	}
	snaps, err := raft.NewFileSnapshotStore(cfg.DataDir, 2, out)
	if err != nil {
		_ = rn.bolt.Close()
		return nil, fmt.Errorf("open snapshots in %s: %w", cfg.DataDir, err)
	}
	var inner preVoteTransport
	if c.raftTrans != nil {
		inner = c.raftTrans // tests: an in-memory transport
	} else if inner, err = netTransport(cfg, out, c.logger); err != nil {
		_ = rn.bolt.Close()
		return nil, err
	}
	rn.times = voterTimeouts(cfg)
	rn.thin = newThinTransport(inner, rn.times.nonVoterBeat)
	rn.trans = rn.thin
	if rn.existed, err = raft.HasExistingState(rn.bolt, rn.bolt, snaps); err != nil {
		rn.close()
		return nil, fmt.Errorf("read raft state: %w", err)
	}
	rc := raftConfig(cfg, id, rn.notify)
	rc.Logger = raftLogger(c.logger)
	logs, err := raft.NewLogCache(512, rn.bolt)
	if err != nil {
		rn.close()
		return nil, fmt.Errorf("raft log cache: %w", err)
	}
	rn.r, err = raft.NewRaft(rc, f, logs, rn.bolt, snaps, rn.trans)
	if err != nil {
		rn.close()
		return nil, fmt.Errorf("start raft: %w", err)
	}
	return rn, nil
}

// netTransport listens for raft on cfg's raft address: over mutual TLS
// when cluster_tls_* are set, plain TCP otherwise.
func netTransport(cfg Config, out io.Writer, logger *slog.Logger) (*raft.NetworkTransport, error) {
	if cfg.RaftTLS != nil {
		return tlsTransport(cfg.raftAddr(), cfg.RaftTLS, out, logger)
	}
	return tcpTransport(cfg.raftAddr(), out)
}

// tcpTransport listens for raft on addr.
func tcpTransport(addr string, out io.Writer) (*raft.NetworkTransport, error) {
	adv, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("raft address %s: %w", addr, err)
	}
	trans, err := raft.NewTCPTransport(addr, adv, 3, 10*time.Second, out)
	if err != nil {
		return nil, fmt.Errorf("raft listen on %s: %w", addr, err)
	}
	return trans, nil
}

// raftConfig is raft's configuration: leadership changes reach
// monitorLeadership through NotifyCh, which, unlike LeaderCh, drops no
// transition. Maps are small and rare, so snapshots are frequent enough
// to keep the log short and a joining node catches up by snapshot.
func raftConfig(cfg Config, id string, notify chan bool) *raft.Config {
	rc := raft.DefaultConfig()
	voterTimeouts(cfg).setOn(rc)
	rc.LocalID = raft.ServerID(id)
	rc.NotifyCh = notify
	rc.SnapshotThreshold = 64
	rc.SnapshotInterval = 30 * time.Second
	rc.TrailingLogs = 128
	if cfg.Fast {
		rc.SnapshotInterval = time.Second
	}
	return rc
}

// bootstrap makes this node a fleet of one.
func (rn *raftNode) bootstrap(id, addr string) error {
	conf := raft.Configuration{Servers: []raft.Server{{ID: raft.ServerID(id), Address: raft.ServerAddress(addr), Suffrage: raft.Voter}}}
	if err := rn.r.BootstrapCluster(conf).Error(); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}

func (rn *raftNode) close() {
	if rn.thin != nil {
		rn.thin.stopWaiting()
	}
	if rn.r != nil {
		_ = rn.r.Shutdown().Error()
	}
	if t, ok := rn.trans.(raft.WithClose); ok {
		_ = t.Close()
	}
	if rn.bolt != nil {
		_ = rn.bolt.Close()
	}
}
