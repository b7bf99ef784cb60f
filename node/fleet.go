package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moxifleet/moxi/cluster"
	"github.com/moxifleet/moxi/mapstore"
	"github.com/moxifleet/moxi/proxycore"
)

// fleet is a node's fleet-mode state: the replicated store, the cluster,
// and what this node was started with.
type fleet struct {
	opts    FleetOptions
	store   *mapstore.Store
	cluster *cluster.Cluster
	source  *mapstore.Source // from -z; nil for a node that only joins
	reload  chan struct{}    // SIGHUP: the leader re-reads a file source
	drops   *dropBatcher     // the front caches' drops, for the other nodes
	lag     *lagMeter        // map propagation lag, for /metrics and /status
	sec     fleetSecurity    // gossip keyring and cluster TLS

	mu      sync.Mutex
	static  map[int]*liveMap   // static sources: each proxy port's map
	applied map[int]uint64     // each section's version in force here
	info    map[string]mapInfo // "port/bucket": what /status shows
}

// mapInfo is one bucket's map as /status shows it.
type mapInfo struct {
	Port      int       `json:"port"`
	Bucket    string    `json:"bucket"`
	Version   uint64    `json:"version"`
	Source    string    `json:"source"`
	AppliedAt time.Time `json:"applied_at"`
	Servers   int       `json:"servers"`
	// PropagationMS is the time from the leader proposing this map to
	// this node applying it, in milliseconds; absent for a map applied
	// at start from an older entry (see lagMeter).
	PropagationMS *float64 `json:"propagation_ms,omitempty"`
}

// newFleet prepares fleet mode from the options: the -z source, if any,
// is parsed now so that a bad one stops moxi at once.
func newFleet(fo FleetOptions, opts Options, behavior string) (*fleet, error) {
	f := &fleet{opts: fo, store: mapstore.NewStore(), reload: make(chan struct{}, 1), lag: newLagMeter(time.Now()),
		static: map[int]*liveMap{}, applied: map[int]uint64{}, info: map[string]mapInfo{}}
	if opts.ClusterConfig == "" {
		if len(fo.Join) == 0 {
			return nil, errors.New("need cluster configuration (-z) for a new fleet, or moxi join HOST to join one")
		}
		return f, nil
	}
	cc, err := ParseClusterConfig(opts.ClusterConfig)
	if err != nil {
		return nil, fmt.Errorf("-z: %w", err)
	}
	src := mapstore.Source{Kind: "static", Spec: opts.ClusterConfig, Behavior: behavior}
	if cc.REST != nil {
		src.Kind, src.Spec = "rest", resolvedSpec(opts.ClusterConfig)
	}
	f.source = &src
	return f, nil
}

// resolvedSpec is a -z value with a config file replaced by its text, so
// that any node can run a REST source whatever its disk holds.
func resolvedSpec(z string) string {
	if strings.HasPrefix(z, ".") || strings.HasPrefix(z, "/") {
		if data, err := os.ReadFile(z); err == nil {
			return strings.TrimSpace(string(data))
		}
	}
	return z
}

// ready reports whether st says enough to build the proxy: a source, and
// for a static one its first config, which names the ports.
func ready(st *mapstore.FleetState) bool {
	if st.Source == nil {
		return false
	}
	if st.Source.Kind == "rest" {
		return true
	}
	_, ok := st.Config(0)
	return ok
}

// waitReady waits until the store can build the proxy. A node that had
// no data gives up after cluster_join_timeout.
func (f *fleet) waitReady(ctx context.Context) (*mapstore.FleetState, error) {
	ch, unsubscribe := f.store.Subscribe()
	defer unsubscribe()
	var timeout <-chan time.Time
	if !f.cluster.HadData() {
		t := time.NewTimer(f.opts.JoinTimeout)
		defer t.Stop()
		timeout = t.C
	}
	for {
		if st := f.store.State(); ready(st) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-f.cluster.Err():
			return nil, err
		case <-timeout:
			return nil, f.noConfigErr()
		case <-ch:
		}
	}
}

// buildFleetProxy builds the proxy configuration from the fleet's source
// rather than from -z: a joining node serves the ports the fleet names,
// on its own -l address, with its own -Z behaviors.
func (n *Node) buildFleetProxy(st *mapstore.FleetState) error {
	cfg, err := n.baseProxyConfig()
	if err != nil {
		return err
	}
	cfg.ConfType = "dynamic"
	if st.Source.Kind == "rest" {
		cc, err := ParseClusterConfig(st.Source.Spec)
		if err != nil || cc.REST == nil {
			return fmt.Errorf("the fleet's source %q: %w", st.Source.Spec, errors.Join(err, errors.New("not a REST config")))
		}
		cfg.Buckets, cfg.Pools, n.feeds, err = n.restBuckets(cc.REST)
		if err != nil {
			return err
		}
	} else if cfg.Buckets, err = n.fleet.staticBuckets(st, n.behavior); err != nil {
		return err
	}
	n.proxyCfg = cfg
	ps, err := proxycore.New(cfg, proxycore.Deps{Logger: n.logger, Level: n.level, OnDrop: n.fleet.drops.add})
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	n.fleet.mu.Lock() // serving (admin /status, /health) reads it meanwhile
	n.proxy = ps
	n.fleet.mu.Unlock()
	n.connectPools(ps)
	return nil
}

// staticBuckets makes one bucket per port of the fleet's static config,
// each with a map the fleet's entries replace.
func (f *fleet) staticBuckets(st *mapstore.FleetState, beh proxycore.Behavior) ([]proxycore.Bucket, error) {
	rec, _ := st.Config(0)
	cc, err := ParseClusterConfig(string(rec.Body))
	if err != nil || cc.REST != nil {
		return nil, fmt.Errorf("the fleet's static config: %w", errors.Join(err, errRESTInStatic(cc)))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []proxycore.Bucket
	for _, s := range cc.Static {
		lm := &liveMap{}
		f.static[s.Port] = lm
		out = append(out, proxycore.Bucket{Port: s.Port, Name: "default", Behavior: beh, Maps: lm})
	}
	return out, nil
}

func errRESTInStatic(cc *ClusterConfig) error {
	if cc != nil && cc.REST != nil {
		return errors.New("a static source turned into a REST one")
	}
	return nil
}
