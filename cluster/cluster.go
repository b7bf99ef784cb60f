package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"

	"github.com/moxifleet/moxi/mapstore"
)

// Cluster is this node's membership in a fleet.
type Cluster struct {
	cfg    Config
	deps   Deps
	logger *slog.Logger

	idMu    sync.Mutex
	id      identity
	hadData bool // cluster_data held this node's identity at start

	fsm    *fsm
	raft   *raftNode
	gossip *gossip

	established atomic.Bool // leader, with the leader routines running
	// leadershipChanges counts this node's became/lost-leader transitions
	leadershipChanges atomic.Uint64
	errc              chan error // fatal conditions for the node (Err)
	cancel            context.CancelFunc
	wg                sync.WaitGroup
	unknown           map[raft.ServerID]time.Time // raft servers gossip does not know; leader loop only

	joinMu  sync.Mutex
	joinErr error // the last join try's failure, nil once joined (JoinErr)

	// Test hooks, set between New and Start: raft's and memberlist's
	// in-memory transports instead of sockets on cfg.BindAddr. nil in
	// production.
	raftTrans   preVoteTransport
	gossipTrans memberlist.Transport
}

// New validates cfg. Nothing is opened until Start.
func New(cfg Config, deps Deps) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Logger == nil || deps.Store == nil {
		return nil, errors.New("cluster: a logger and a store are required")
	}
	return &Cluster{cfg: cfg, deps: deps, logger: deps.Logger, errc: make(chan error, 1),
		unknown: make(map[raft.ServerID]time.Time)}, nil
}

// Start opens cluster_data, restores the state the node last applied (so
// it can serve at once), starts raft and gossip, bootstraps a new fleet
// when this node has a source and no data, and starts joining.
func (c *Cluster) Start() error {
	if err := prepareDataDir(c.cfg.DataDir); err != nil {
		return err
	}
	id, had, err := loadIdentity(c.cfg.DataDir, c.cfg)
	if err != nil {
		return err
	}
	c.id, c.hadData = id, had
	c.fsm = &fsm{store: c.deps.Store, dir: c.cfg.DataDir, logger: c.logger}
	c.raft, err = openRaft(c.cfg, id.Node, c.fsm, libraryLog{logger: c.logger, lib: "raft"}, c)
	if err != nil {
		return err
	}
	// The state file is only good with the raft log it came from: a log
	// started anew restarts indexes at 1, which the file's higher index
	// would make the store skip.
	if err := c.fsm.loadPersisted(c.raft.existed); err != nil {
		c.raft.close()
		return err
	}
	if err := c.checkFleet(c.deps.Store.State()); err != nil {
		c.raft.close()
		return err
	}
	if err := c.maybeBootstrap(); err != nil {
		c.raft.close()
		return err
	}
	if err := c.startGossip(); err != nil {
		c.raft.close()
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.goRun(func() { c.monitorLeadership(ctx) })
	c.goRun(func() { c.watchFleet(ctx) })
	c.goRun(func() { c.watchSuffrage(ctx) })
	if len(c.cfg.Join) > 0 {
		c.setJoinErr(errJoinPending)
		c.goRun(func() { c.joinLoop(ctx) })
	}
	return nil
}

func (c *Cluster) goRun(f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// prepareDataDir creates cluster_data and checks that it is writable, so
// that a bad directory stops the node with one line at start.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cluster_data %s: %w", dir, err)
	}
	probe := filepath.Join(dir, ".write-test")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		return fmt.Errorf("cluster_data %s is not writable: %w", dir, unwrapPath(err))
	}
	return os.Remove(probe)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// maybeBootstrap makes a new fleet of this node when it was started with
// a source, holds no raft state and joins nobody. A node restarting with
// its data never bootstraps again, so it cannot form a second fleet.
func (c *Cluster) maybeBootstrap() error {
	if c.raft.existed || c.cfg.Source == nil || len(c.cfg.Join) > 0 {
		return c.saveIdentity()
	}
	c.idMu.Lock()
	if c.id.Fleet == "" {
		c.id.Fleet = newFleetID()
	}
	c.idMu.Unlock()
	if err := c.saveIdentity(); err != nil {
		return err
	}
	c.logger.Info("bootstrapping a new fleet", "node", c.id.Node, "fleet", c.fleetID())
	return c.raft.bootstrap(c.id.Node, c.cfg.raftAddr())
}

func (c *Cluster) saveIdentity() error {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	return c.id.save(c.cfg.DataDir)
}

func (c *Cluster) fleetID() string {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	return c.id.Fleet
}

// checkFleet refuses a state whose source belongs to another fleet than
// the one this node's data belongs to.
func (c *Cluster) checkFleet(st *mapstore.FleetState) error {
	if st.Source == nil || st.Source.FleetID == "" {
		return nil
	}
	if mine := c.fleetID(); mine != "" && mine != st.Source.FleetID {
		return fmt.Errorf("%w: cluster_data %s belongs to fleet %s, the fleet's source (%s) to fleet %s",
			ErrOtherFleet, c.cfg.DataDir, mine, st.Source.Spec, st.Source.FleetID)
	}
	return nil
}

func (c *Cluster) startGossip() error {
	spec := ""
	if st := c.deps.Store.State(); st.Source != nil {
		spec = st.Source.Spec
	} else if c.cfg.Source != nil {
		spec = c.cfg.Source.Spec
	}
	c.gossip = &gossip{logger: c.logger, events: make(chan struct{}, 1),
		states: make(map[string]memberState), transport: c.gossipTrans, onShared: c.deps.OnShared,
		meta: nodeMeta{Raft: c.cfg.raftAddr(), Fleet: c.fleetID(), Version: c.cfg.Version, Ports: c.cfg.Ports, Source: spec,
			Admin: c.cfg.Admin}}
	return startGossip(c.cfg, c.id.Node, c.gossip)
}

// Err delivers a condition the node cannot serve past: no fleet found in
// cluster_join_timeout, or a fleet of another identity.
func (c *Cluster) Err() <-chan error { return c.errc }

func (c *Cluster) fail(err error) {
	select {
	case c.errc <- err:
	default:
	}
}

// HadData reports whether cluster_data held this node's state at start.
func (c *Cluster) HadData() bool { return c.hadData }

// Propose replicates data through raft; only the leader may.
func (c *Cluster) Propose(ctx context.Context, data []byte) (uint64, error) {
	if c.raft.r.State() != raft.Leader {
		return 0, ErrNotLeader
	}
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	f := c.raft.r.Apply(data, timeout)
	if err := f.Error(); err != nil {
		return 0, fmt.Errorf("raft apply: %w", err)
	}
	// Followers learn that an entry is committed from the leader's next
	// AppendEntries, which an idle leader sends only every CommitTimeout.
	// A barrier is such an entry, sent now: the fleet applies the map in a
	// round trip rather than a CommitTimeout, and the leader can idle.
	if err := c.raft.r.Barrier(timeout).Error(); err != nil {
		c.logger.Debug("barrier after a proposal", "err", err)
	}
	if resp, ok := f.Response().(applyResponse); ok && resp.err != nil {
		return f.Index(), resp.err
	}
	return f.Index(), nil
}

// Shutdown leaves the fleet gracefully: a leader hands leadership off
// first, then the node leaves gossip (so the leader removes it from raft
// at once) and stops raft. It returns when ctx ends at the latest.
func (c *Cluster) Shutdown(ctx context.Context) error {
	if c.raft == nil {
		return nil
	}
	if c.raft.r.State() == raft.Leader {
		c.transferLeadership(ctx)
	}
	if c.gossip != nil && c.gossip.ml != nil {
		leave := 2 * time.Second
		if d, ok := ctx.Deadline(); ok {
			leave = min(leave, time.Until(d))
		}
		c.gossip.announceLeave(c.id.Node, leave/2)
		if err := c.gossip.ml.Leave(leave); err != nil {
			c.logger.Warn("leaving gossip", "err", err)
		}
		_ = c.gossip.ml.Shutdown()
	}
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	c.raft.close()
	return nil
}

// transferLeadership hands leadership to another voter, if there is one.
func (c *Cluster) transferLeadership(ctx context.Context) {
	done := make(chan error, 1)
	go func() { done <- c.raft.r.LeadershipTransfer().Error() }()
	select {
	case err := <-done:
		if err != nil {
			c.logger.Warn("could not hand leadership off", "err", err)
			return
		}
		c.logger.Info("handed leadership off before leaving")
	case <-ctx.Done():
		c.logger.Warn("leadership hand-off did not finish in time")
	}
}
