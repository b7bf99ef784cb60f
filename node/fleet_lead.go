package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moxifleet/moxi/cluster"
	"github.com/moxifleet/moxi/cluster/restconfig"
	"github.com/moxifleet/moxi/mapstore"
)

// lead runs on the fleet's leader only, for as long as it leads: the one
// subscription of the fleet. Each config it receives is checked here and
// proposed as one raft entry with the source's exact bytes; every node,
// this one included, applies it when raft commits it.
func (n *Node) lead(ctx context.Context, p cluster.Proposer) {
	st := n.fleet.store.State()
	if st.Source == nil {
		return
	}
	n.logger.Info("leading the fleet: running its config source", "source", st.Source.Spec)
	defer n.logger.Info("stopped the fleet's config source")
	if st.Source.Kind == "rest" {
		n.leadREST(ctx, p, st.Source.Spec)
		return
	}
	n.leadStatic(ctx, p, st.Source.Spec)
}

// leadREST streams each REST section and proposes what it receives.
func (n *Node) leadREST(ctx context.Context, p cluster.Proposer, spec string) {
	cc, err := ParseClusterConfig(spec)
	if err != nil || cc.REST == nil {
		n.logger.Error("the fleet's REST source does not parse", "source", spec, "err", err)
		return
	}
	var wg sync.WaitGroup
	for i, s := range cc.REST.Sections {
		cfg := restconfig.DefaultConfig()
		cfg.URLs, cfg.Logger, cfg.UserAgent = s.URLs, n.logger, "moxi/"+n.opts.Version
		cfg.User, cfg.Password = s.Credentials(n.behavior)
		bucket := bucketOfURL(s.URLs[0])
		if streamsAllBuckets(s.URLs[0]) {
			bucket = ""
		}
		client, err := restconfig.New(cfg, n.proposeREST(p, i, bucket))
		if err != nil {
			n.logger.Error("the fleet's REST source", "err", err)
			continue
		}
		wg.Go(func() { n.streamWhileLeading(ctx, client) })
	}
	wg.Wait()
}

// streamWhileLeading runs one stream until leadership ends. A 401, which
// stops a standalone moxi, only pauses a fleet's stream: the fleet keeps
// its maps, and another leader may have better luck.
func (n *Node) streamWhileLeading(ctx context.Context, client *restconfig.Client) {
	untrack := n.streams.track(client)
	defer untrack()
	for ctx.Err() == nil {
		err := client.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		n.logger.Error("the fleet's REST stream stopped; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// proposeREST is section i's stream handler on the leader. It works
// from the source alone, not from this node's proxy, which may not be
// built yet when the first node of a fleet starts leading.
func (n *Node) proposeREST(p cluster.Proposer, section int, bucket string) restconfig.Handler {
	return func(ctx context.Context, body []byte, src string) error {
		if err := checkREST(body, src, bucket); err != nil {
			// Logged once, by the REST client.
			return fmt.Errorf("the fleet keeps its last good map: %w", err)
		}
		return n.propose(ctx, p, mapstore.ConfigEntry{Section: section, Origin: src, Body: body})
	}
}

// propose replicates e unless the fleet already has it: the same bytes,
// or a JSON config with the same layout (see sameLayout).
func (n *Node) propose(ctx context.Context, p cluster.Proposer, e mapstore.ConfigEntry) error {
	if rec, ok := n.fleet.store.State().Config(e.Section); ok &&
		(bytes.Equal(rec.Body, e.Body) || sameLayout(rec.Body, rec.Origin, e.Body, e.Origin)) {
		return nil
	}
	e.ProposedAt = time.Now().UnixNano() // each node's propagation lag starts here
	if _, err := p.Propose(ctx, mapstore.EncodeSetConfig(e)); err != nil {
		if errors.Is(err, cluster.ErrNotLeader) || ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("replicate config: %w", err)
	}
	return nil
}

// leadStatic proposes a static source's text, then re-reads a file
// source on SIGHUP and whenever it changes. A node that leads without
// the file (it lives on another host) keeps what the fleet has.
func (n *Node) leadStatic(ctx context.Context, p cluster.Proposer, spec string) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var rejected []byte // the last text refused, so it is logged once
	for {
		if body, origin, ok := n.readStatic(spec, &rejected); ok {
			if err := n.propose(ctx, p, mapstore.ConfigEntry{Section: 0, Origin: origin, Body: body}); err != nil {
				n.logger.Error("could not replicate the static config", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-n.fleet.reload:
		}
	}
}

// readStatic reads a static source and checks it; ok is false when there
// is nothing (valid) to propose.
func (n *Node) readStatic(spec string, rejected *[]byte) (body []byte, origin string, ok bool) {
	origin, body = "-z", []byte(spec)
	if strings.HasPrefix(spec, ".") || strings.HasPrefix(spec, "/") {
		data, err := os.ReadFile(spec)
		if err != nil {
			return nil, "", false
		}
		origin, body = spec, data
	}
	if rec, have := n.fleet.store.State().Config(0); have && bytes.Equal(rec.Body, body) {
		return nil, "", false
	}
	if bytes.Equal(*rejected, body) {
		return nil, "", false
	}
	cc, err := ParseClusterConfig(string(body))
	if err == nil && cc.REST != nil {
		err = errRESTInStatic(cc)
	}
	if err == nil {
		err = n.checkStatic(cc)
	}
	if err != nil {
		*rejected = body
		n.logger.Error("rejected the static config; the fleet keeps its last good maps", "source", origin, "err", err)
		return nil, "", false
	}
	return body, origin, true
}

// checkStatic builds every map of a static config, so a bad one is
// refused before it is replicated.
func (n *Node) checkStatic(cc *ClusterConfig) error {
	dist := mapstore.ParseDistribution(n.behavior.McsOpts)
	for _, s := range cc.Static {
		if _, err := n.staticBucket(s, dist); err != nil {
			return err
		}
	}
	return nil
}

// Reload asks the leader to re-read a file source (SIGHUP).
func (n *Node) Reload() {
	if n.fleet == nil {
		return
	}
	select {
	case n.fleet.reload <- struct{}{}:
	default:
	}
}

// sameLayout reports whether two JSON configs (REST, or a vBucket file)
// route alike (mapstore.SameLayout). membase's configs carry uptime,
// memory and item counts, so a new leader's first message, or a stream
// re-sent after a reconnect, differs in bytes from the fleet's config
// without a change of layout; proposing it would make a new map version
// and make every node rebuild its maps for nothing. Anything that does
// not parse cleanly counts as different.
func sameLayout(a []byte, aOrigin string, b []byte, bOrigin string) bool {
	ma, err := mapstore.ParseBucketsHost(a, hostOf(aOrigin))
	if err != nil {
		return false
	}
	mb, err := mapstore.ParseBucketsHost(b, hostOf(bOrigin))
	return err == nil && mapstore.SameLayouts(ma, mb)
}
