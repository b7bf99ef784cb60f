package main

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// mockVersion is what the data nodes and REST API report as the server
// version.
const mockVersion = "1.6.5-membase-mock"

// Errors the admin API maps to HTTP statuses.
var (
	errBusy    = errors.New("a rebalance is running")
	errNoNode  = errors.New("no such node")
	errRequest = errors.New("bad request")
)

// cluster is the pretend membase cluster: data nodes, buckets and their
// maps, and the version clients follow. Every change that clients should
// see goes through publishLocked, which wakes the streaming responses.
type cluster struct {
	cfg     config
	log     *slog.Logger
	ctr     *counters
	started time.Time

	mu         sync.Mutex
	nodes      []*dataNode // by id; ids are never reused
	serverList []int       // ids of the nodes in the cluster, in serverList order
	buckets    []*bucket
	version    uint64
	changed    chan struct{} // closed and replaced by publishLocked
	reb        *rebalance    // the running rebalance, nil if none
}

// newCluster builds the cluster from saved state when there is some, else
// fresh: cfg.nodes nodes, each bucket's vbuckets spread evenly.
func newCluster(cfg config, saved *savedState, ctr *counters, log *slog.Logger) (*cluster, error) {
	c := &cluster{cfg: cfg, log: log, ctr: ctr, started: time.Now(), changed: make(chan struct{})}
	plan := freshPlan(cfg)
	if saved != nil {
		var err error
		if plan, err = saved.plan(cfg); err != nil {
			return nil, err
		}
		c.version = saved.MapVersion
	}
	c.serverList = plan.serverList
	for _, spec := range cfg.buckets {
		rows := plan.rows[spec.name]
		if rows == nil {
			rows = targetRows(unassigned(cfg.vbuckets, cfg.replicas), c.serverList, cfg.replicas)
		}
		c.buckets = append(c.buckets, newBucket(spec, rows))
	}
	for id, sn := range plan.nodes {
		n, err := newDataNode(id, cfg.host, sn.Port, c.buckets, ctr, log)
		if err != nil {
			c.close()
			return nil, err
		}
		n.state = nodeState(sn.State)
		c.nodes = append(c.nodes, n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.publishLocked()
	return c, nil
}

// freshPlan is the layout of a new cluster: cfg.nodes active nodes.
func freshPlan(cfg config) *clusterPlan {
	p := &clusterPlan{rows: map[string][][]int{}}
	for id := range cfg.nodes {
		port := 0
		if cfg.dataPortBase > 0 {
			port = cfg.dataPortBase + id
		}
		p.nodes = append(p.nodes, savedNode{ID: id, Port: port, State: string(nodeActive)})
		p.serverList = append(p.serverList, id)
	}
	return p
}

// publishLocked makes the current state the new config version: streams
// wake up and send it, and the state file is rewritten.
func (c *cluster) publishLocked() {
	c.version++
	close(c.changed)
	c.changed = make(chan struct{})
	if c.cfg.statePath != "" {
		if err := c.saveLocked(c.cfg.statePath); err != nil {
			c.log.Error("cannot save state", "path", c.cfg.statePath, "err", err)
		}
	}
	c.log.Debug("config published", "version", c.version, "servers", len(c.serverList))
}

// watch returns a channel closed at the next publish.
func (c *cluster) watch() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

func (c *cluster) mapVersion() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// bucketNamed returns the bucket called name, nil if there is none.
// Buckets are fixed at start, so no lock is needed.
func (c *cluster) bucketNamed(name string) *bucket {
	for _, b := range c.buckets {
		if b.spec.name == name {
			return b
		}
	}
	return nil
}

// nodeLocked returns node id, or errNoNode.
func (c *cluster) nodeLocked(id int) (*dataNode, error) {
	if id < 0 || id >= len(c.nodes) {
		return nil, fmt.Errorf("node %d: %w", id, errNoNode)
	}
	return c.nodes[id], nil
}

// addNodeLocked creates and starts a node with the next id.
func (c *cluster) addNodeLocked() (*dataNode, error) {
	id := len(c.nodes)
	port := 0
	if c.cfg.dataPortBase > 0 {
		port = c.cfg.dataPortBase + id
	}
	n, err := newDataNode(id, c.cfg.host, port, c.buckets, c.ctr, c.log)
	if err != nil {
		return nil, err
	}
	c.nodes = append(c.nodes, n)
	c.log.Info("data node added", "node", id, "addr", n.addr())
	return n, nil
}

// setListening kills or restarts a node's listener; clients of a node in
// the cluster see its status change.
func (c *cluster) setListening(id int, on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.nodeLocked(id)
	if err != nil {
		return err
	}
	if on {
		err = n.start()
	} else {
		n.kill()
	}
	if err != nil {
		return err
	}
	if slices.Contains(c.serverList, id) {
		c.publishLocked()
	}
	c.log.Info("data node listener", "node", id, "listening", on)
	return nil
}

// close stops every node.
func (c *cluster) close() {
	c.mu.Lock()
	nodes := slices.Clone(c.nodes)
	c.mu.Unlock()
	for _, n := range nodes {
		n.close()
	}
}
