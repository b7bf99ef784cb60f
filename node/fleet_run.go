package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moxifleet/moxi/cluster"
	"github.com/moxifleet/moxi/mapstore"
)

// newFleetNode sets a node up for fleet mode. The proxy is built in Run,
// once the fleet's source is known.
func (n *Node) newFleetNode(fo FleetOptions, behavior string) error {
	if n.opts.Socket != "" {
		return fmt.Errorf("-s: not supported in fleet mode (cluster_bind)")
	}
	f, err := newFleet(fo, n.opts, behavior)
	if err != nil {
		return err
	}
	if f.sec, err = n.fleetSecurity(fo); err != nil {
		return err
	}
	cfg := fo.clusterConfig()
	cfg.Source, cfg.Version = f.source, n.opts.Version
	cfg.GossipKeys, cfg.RaftTLS = f.sec.keys, f.sec.mutual
	cfg.Ports = n.advertisedPorts()
	f.drops = newDropBatcher()
	c, err := cluster.New(cfg, cluster.Deps{Logger: n.logger, Store: f.store, Lead: n.lead, OnShared: n.applyShared})
	if err != nil {
		return fmt.Errorf("-Z %w", err)
	}
	f.cluster = c
	n.fleet = f
	if n.runsMemServer() {
		n.mem = n.newMemServer()
	}
	return nil
}

// advertisedPorts is what gossip says this node serves on.
func (n *Node) advertisedPorts() string {
	var ports []string
	if n.opts.Listen != "" {
		ports = append(ports, "l="+n.opts.Listen)
	}
	ports = append(ports, "port_listen="+strconv.Itoa(n.behavior.PortListen))
	return strings.Join(ports, " ")
}

// runFleet is Run in fleet mode: join or start the fleet, wait for its
// configuration (at once when cluster_data holds the last one), build
// and serve the proxy, and on the way out leave the fleet (handing
// leadership off first) while the proxy drains.
func (n *Node) runFleet(ctx context.Context) error {
	c := n.fleet.cluster
	if err := c.Start(); err != nil {
		return err
	}
	defer n.leaveFleet()
	admin, err := n.startAdmin()
	if err != nil {
		return err
	}
	defer admin.close()
	shareCtx, stopSharing := context.WithCancel(ctx)
	defer stopSharing()
	go n.runDropSharing(shareCtx, n.fleet.drops, c)
	st, err := n.fleet.waitReady(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := n.buildFleetProxy(st); err != nil {
		return err
	}
	applyCtx, stopApply := context.WithCancel(ctx)
	defer stopApply()
	applied := make(chan struct{})
	go func() {
		defer close(applied)
		n.applyFleet(applyCtx)
	}()
	defer func() { stopApply(); <-applied }()
	return n.serve(ctx, c.Err())
}

// leaveFleet leaves gossip and raft within the drain time.
func (n *Node) leaveFleet() {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := n.fleet.cluster.Shutdown(ctx); err != nil {
		n.logger.Warn("leaving the fleet", "err", err)
	}
}

// applyFleet applies each config entry the fleet agrees on to this
// node's maps, in version order, for as long as ctx lasts.
func (n *Node) applyFleet(ctx context.Context) {
	ch, unsubscribe := n.fleet.store.Subscribe()
	defer unsubscribe()
	for {
		st := n.fleet.store.State()
		for _, rec := range st.Configs {
			n.applyRecord(rec)
		}
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
	}
}

// applyRecord applies one section's entry if it is newer than what this
// node serves. One that fails to parse here (the leader checked it, so
// only a moxi of another version could get there) is logged and the
// last good map stays.
func (n *Node) applyRecord(rec mapstore.ConfigRecord) {
	f := n.fleet
	f.mu.Lock()
	if rec.Index <= f.applied[rec.Section] {
		f.mu.Unlock()
		return
	}
	f.applied[rec.Section] = rec.Index
	f.mu.Unlock()
	var err error
	if rec.Section < len(n.feeds) {
		err = n.feeds[rec.Section].apply(rec.Body, rec.Origin, rec.Index)
	} else {
		err = n.applyStatic(rec)
	}
	if err != nil {
		n.logger.Error("fleet config rejected here; keeping the last good map", "version", rec.Index, "source", rec.Origin, "err", err)
		return
	}
	lag := f.lag.observe(rec, time.Now())
	if rec.Section >= len(n.feeds) { // REST feeds log their own line
		n.logger.Info("map applied", "version", rec.Index, "source", rec.Origin, "ports", len(n.proxyCfg.Buckets))
	}
	if rec.Section < len(n.feeds) && n.feeds[rec.Section].bucket == "" {
		n.notePool(rec, lag)
		return
	}
	n.noteApplied(rec, lag)
}

// notePool records what /status shows of a pool's entry: each bucket the
// proxy took from it (ApplyPool creates them, so proxyCfg has none). lag
// is the entry's propagation lag in ms, nil when unknown.
func (n *Node) notePool(rec mapstore.ConfigRecord, lag *float64) {
	maps, err := mapstore.ParseBucketsHost(rec.Body, hostOf(rec.Origin))
	now := time.Now()
	port := n.behavior.PortListen
	keep := map[string]bool{} // buckets the entry has, or kept their last map
	for _, e := range bucketErrors(err) {
		keep[strconv.Itoa(port)+"/"+e.Name] = true
	}
	f := n.fleet
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range maps {
		keep[strconv.Itoa(port)+"/"+m.Name] = true
	}
	for key, mi := range f.info {
		if mi.Port == port && !keep[key] {
			delete(f.info, key) // a bucket the cluster no longer has
		}
	}
	for _, m := range maps {
		key := strconv.Itoa(port) + "/" + m.Name
		f.info[key] = mapInfo{Port: port, Bucket: m.Name, Version: rec.Index, Source: mapstore.RedactURL(rec.Origin),
			AppliedAt: now, Servers: len(m.Servers), PropagationMS: lag}
	}
}

// applyStatic applies a static config's text to each port's map.
func (n *Node) applyStatic(rec mapstore.ConfigRecord) error {
	cc, err := ParseClusterConfig(string(rec.Body))
	if err != nil {
		return err
	}
	if cc.REST != nil {
		return errRESTInStatic(cc)
	}
	dist := mapstore.ParseDistribution(n.behavior.McsOpts)
	for _, s := range cc.Static {
		b, err := n.staticBucket(s, dist)
		if err != nil {
			return err
		}
		n.fleet.mu.Lock()
		lm := n.fleet.static[s.Port]
		n.fleet.mu.Unlock()
		if lm == nil {
			n.logger.Warn("the fleet's config names a port this node does not serve; restart to serve it", "port", s.Port)
			continue
		}
		m := b.Maps.Current()
		m.Version = rec.Index
		lm.m.Store(m)
	}
	return nil
}

// noteApplied records what /status shows of an applied entry; lag as
// for notePool.
func (n *Node) noteApplied(rec mapstore.ConfigRecord, lag *float64) {
	now := time.Now()
	f := n.fleet
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range n.proxyCfg.Buckets {
		m := b.Maps.Current()
		if m == nil || m.Version != rec.Index {
			continue
		}
		key := strconv.Itoa(b.Port) + "/" + b.Name
		f.info[key] = mapInfo{Port: b.Port, Bucket: b.Name, Version: rec.Index, Source: mapstore.RedactURL(rec.Origin),
			AppliedAt: now, Servers: len(m.Servers), PropagationMS: lag}
	}
}
