package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/moxifleet/moxi/mapstore"
)

// Defaults of the -Z cluster_* keys.
const (
	DefaultGossipPort  = 7946
	DefaultClusterName = "moxi"
	DefaultVoters      = 3
	DefaultReap        = 72 * time.Hour
	DefaultJoinTimeout = 60 * time.Second
	DefaultDemoteAfter = 30 * time.Second
)

// Config configures one node of a fleet.
type Config struct {
	// BindAddr is cluster_bind, HOST:PORT for gossip; raft listens on the
	// same host, on RaftPort (0: the gossip port plus one).
	BindAddr string
	RaftPort int
	DataDir  string // cluster_data: raft log, snapshots, the last state
	Name     string // cluster_name: separates fleets on one network
	// NodeName identifies the node in gossip and raft; empty means the
	// name kept in DataDir, or BindAddr for a new node.
	NodeName    string
	Join        []string      // HOST[:PORT] of members to join
	JoinTimeout time.Duration // a node with no data gives up joining after this
	Voters      int           // raft voters: 1, 3 or 5
	Reap        time.Duration // a failed member is removed after this
	DemoteAfter time.Duration // a failed voter is replaced after this
	// Source is what this node was started with; nil for a node that
	// only joins. Only a node with a source and no data bootstraps.
	Source *mapstore.Source
	// Meta is advertised in gossip: proxy ports and version.
	Version string
	Ports   string
	Admin   string // admin_listen; SetAdmin corrects it once bound
	// Fast selects loopback timings for gossip and raft (tests).
	Fast bool
	// GossipKeys is the gossip keyring (cluster_key, cluster_key_file):
	// the first key encrypts what this node sends, any of them decrypts
	// what it receives. Empty: gossip in the clear.
	GossipKeys [][]byte
	// RaftTLS carries raft over mutual TLS (cluster_tls_*); nil: plain TCP.
	RaftTLS *TLS
}

// TLS is both sides of mutual TLS between fleet nodes (tlsconf.Mutual):
// each end must present a certificate signed by the fleet's CA.
type TLS struct {
	Server, Client *tls.Config
}

// DefaultConfig returns a Config with the documented defaults.
func DefaultConfig() Config {
	return Config{
		Name:        DefaultClusterName,
		JoinTimeout: DefaultJoinTimeout,
		Voters:      DefaultVoters,
		Reap:        DefaultReap,
		DemoteAfter: DefaultDemoteAfter,
	}
}

// Validate checks c, naming the -Z key at fault.
func (c Config) Validate() error {
	host, port, err := splitHostPort(c.BindAddr, DefaultGossipPort)
	switch {
	case err != nil:
		return fmt.Errorf("cluster_bind %q: %w", c.BindAddr, err)
	case net.ParseIP(host) == nil:
		return fmt.Errorf("cluster_bind %q: need an IP address to bind, not a name", c.BindAddr)
	case port == 0:
		return fmt.Errorf("cluster_bind %q: need a port", c.BindAddr)
	case c.DataDir == "":
		return errors.New("cluster_data: needed with cluster_bind")
	case c.Voters != 1 && c.Voters != 3 && c.Voters != 5:
		return fmt.Errorf("cluster_voters %d: must be 1, 3 or 5", c.Voters)
	case c.Name == "":
		return errors.New("cluster_name: must not be empty")
	case c.RaftPort < 0 || c.RaftPort > 65535:
		return fmt.Errorf("cluster_raft_port %d: out of range", c.RaftPort)
	}
	if err := c.validateSecurity(); err != nil {
		return err
	}
	for _, j := range c.Join {
		if _, _, err := splitHostPort(j, DefaultGossipPort); err != nil {
			return fmt.Errorf("join %q: %w", j, err)
		}
	}
	return nil
}

// validateSecurity checks the keyring's key sizes and that RaftTLS has
// both sides.
func (c Config) validateSecurity() error {
	for i, k := range c.GossipKeys {
		if !validKeyLen(len(k)) {
			return fmt.Errorf("cluster_key %d of %d: %d bytes; want 16, 24 or 32", i+1, len(c.GossipKeys), len(k))
		}
	}
	if c.RaftTLS != nil && (c.RaftTLS.Server == nil || c.RaftTLS.Client == nil) {
		return errors.New("cluster_tls_*: need both the server and the client configuration")
	}
	return nil
}

// gossipAddr and raftAddr are where this node listens.
func (c Config) gossipAddr() (string, int) {
	host, port, _ := splitHostPort(c.BindAddr, DefaultGossipPort)
	return host, port
}

func (c Config) raftAddr() string {
	host, port := c.gossipAddr()
	rp := c.RaftPort
	if rp == 0 {
		rp = port + 1
	}
	return net.JoinHostPort(host, strconv.Itoa(rp))
}

// splitHostPort splits HOST[:PORT], defaulting the port.
func splitHostPort(s string, def int) (string, int, error) {
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		if ae, ok := err.(*net.AddrError); ok && ae.Err == "missing port in address" {
			return s, def, nil
		}
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", ps)
	}
	return host, port, nil
}

// Deps are the collaborators a Cluster is given.
type Deps struct {
	Logger *slog.Logger
	Store  *mapstore.Store
	// Lead runs on the established leader until ctx ends (leadership lost
	// or shutdown): it runs the config source and proposes what it
	// receives. It must return promptly once ctx is done.
	Lead func(ctx context.Context, p Proposer)
	// OnShared, when set, receives what another node sent with Share
	// (the front caches' drops). It runs on memberlist's goroutine and
	// must return promptly; payload is its own copy.
	OnShared func(payload []byte)
}

// Proposer replicates a command through raft.
type Proposer interface {
	// Propose applies data (a mapstore command) on every node and
	// returns its raft index, or the error the state gave it.
	Propose(ctx context.Context, data []byte) (uint64, error)
}
