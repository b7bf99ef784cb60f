package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// nodeMeta is what a node advertises in gossip, kept under memberlist's
// MetaMaxSize (512 bytes): short keys, a source spec cut short.
type nodeMeta struct {
	Raft    string `json:"r"`
	Fleet   string `json:"f,omitempty"`
	Version string `json:"v,omitempty"`
	Ports   string `json:"p,omitempty"`
	Source  string `json:"s,omitempty"`
	// Admin is the node's admin HTTP address (admin_listen, as bound),
	// where the others fetch its /status for the fleet's status page. A
	// node of an older moxi sends none; a new field decodes as empty.
	Admin string `json:"a,omitempty"`
	// Leaving is set by a node shutting down, just before it leaves
	// gossip: memberlist tells the others of a departure without saying
	// whether it was graceful, and a node that left must be removed from
	// raft at once, not after cluster_reap.
	Leaving bool `json:"l,omitempty"`
}

const maxMetaSource = 160

func (m nodeMeta) encode(limit int) []byte {
	if len(m.Source) > maxMetaSource {
		m.Source = m.Source[:maxMetaSource]
	}
	b, _ := json.Marshal(m)
	if len(b) > limit {
		m.Source, m.Ports = "", ""
		b, _ = json.Marshal(m)
	}
	return b
}

func decodeMeta(b []byte) (nodeMeta, error) {
	var m nodeMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decode node meta: %w", err)
	}
	return m, nil
}

// gossip is the memberlist side: this node's meta and what it has heard
// of every member.
type gossip struct {
	ml     *memberlist.Memberlist
	logger *slog.Logger
	events chan struct{} // a token per membership change, for reconcile
	// transport replaces UDP and TCP on cfg.BindAddr (tests); nil in production.
	transport memberlist.Transport
	onShared  func(payload []byte) // Deps.OnShared

	mu     sync.Mutex
	meta   nodeMeta
	states map[string]memberState
}

// memberState is the last news of one member.
type memberState struct {
	State memberlist.NodeStateType
	Addr  string
	Meta  nodeMeta
	Since time.Time // when it entered State
}

// NodeMeta is memberlist's Delegate: this node's meta.
func (g *gossip) NodeMeta(limit int) []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.meta.encode(limit)
}

// leavingMsg prefixes the message a node shutting down sends every
// member directly (see announceLeave).
const leavingMsg = "moxi-leaving:"

// sharedMsg prefixes what Share sends.
const sharedMsg = "moxi-shared:"

// MaxSharedPayload bounds one Share: it goes as one UDP packet
// (memberlist's UDPBufferSize is 1400 bytes).
const MaxSharedPayload = 1200

// Share sends payload to every other alive member, best effort (UDP, no
// retry): news that is worth having soon but harmless to lose, such as
// the front caches' drops, whose lifespan bounds a lost one. It returns
// at once; a payload over MaxSharedPayload is refused.
func (c *Cluster) Share(payload []byte) error {
	if len(payload) > MaxSharedPayload {
		return fmt.Errorf("share %d bytes: over %d", len(payload), MaxSharedPayload)
	}
	g := c.gossip
	if g == nil || g.ml == nil {
		return nil
	}
	msg := append([]byte(sharedMsg), payload...)
	for _, m := range g.aliveNodes(c.id.Node) {
		if err := g.ml.SendBestEffort(m, msg); err != nil {
			g.logger.Debug("could not share with a member", "member", m.Name, "err", err)
		}
	}
	return nil
}

// NotifyMsg records a member's word that it is leaving. memberlist
// requires the bytes to be copied, which the string conversion does.
func (g *gossip) NotifyMsg(b []byte) {
	if payload, ok := bytes.CutPrefix(b, []byte(sharedMsg)); ok {
		if g.onShared != nil {
			g.onShared(bytes.Clone(payload))
		}
		return
	}
	name, ok := strings.CutPrefix(string(b), leavingMsg)
	if !ok {
		return
	}
	g.mu.Lock()
	st := g.states[name]
	st.Meta.Leaving = true
	st.State, st.Since = memberlist.StateLeft, time.Now()
	g.states[name] = st
	g.mu.Unlock()
	g.poke()
}

func (g *gossip) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (g *gossip) LocalState(join bool) []byte                { return nil }
func (g *gossip) MergeRemoteState(buf []byte, join bool)     {}

// NotifyAlive is memberlist's AliveDelegate: a node of another fleet is
// refused as a peer, so two fleets never merge by gossip.
func (g *gossip) NotifyAlive(peer *memberlist.Node) error {
	m, err := decodeMeta(peer.Meta)
	if err != nil {
		return err
	}
	g.mu.Lock()
	mine := g.meta.Fleet
	g.mu.Unlock()
	if mine != "" && m.Fleet != "" && m.Fleet != mine {
		g.mu.Lock()
		source := g.meta.Source
		g.mu.Unlock()
		return fmt.Errorf("%w: %s is in fleet %s (source %q), this node in fleet %s (source %q)",
			ErrOtherFleet, peer.Name, m.Fleet, m.Source, mine, source)
	}
	return nil
}

// NotifyJoin, NotifyLeave and NotifyUpdate are memberlist's EventDelegate.
// They never block: reconcile reads the states itself.
func (g *gossip) NotifyJoin(n *memberlist.Node) {
	g.record(n, memberlist.StateAlive)
	g.logger.Info("member joined", "member", n.Name, "addr", n.Address())
	g.poke()
}

func (g *gossip) NotifyLeave(n *memberlist.Node) {
	if n.State == memberlist.StateLeft || g.announcedLeaving(n) {
		g.record(n, memberlist.StateLeft)
		g.logger.Info("member left", "member", n.Name)
	} else {
		g.record(n, memberlist.StateDead)
		g.logger.Info("member failed", "member", n.Name)
	}
	g.poke()
}

func (g *gossip) NotifyUpdate(n *memberlist.Node) {
	if g.announcedLeaving(n) {
		return // a stale update must not bring a leaving member back
	}
	g.record(n, memberlist.StateAlive)
	g.poke()
}

// announcedLeaving reports whether n said it was leaving, in the meta it
// has now or in the last meta heard from it.
func (g *gossip) announcedLeaving(n *memberlist.Node) bool {
	if m, err := decodeMeta(n.Meta); err == nil && m.Leaving {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.states[n.Name].Meta.Leaving
}

// announceLeave tells the others this node is about to leave: in its
// meta, and in a message sent to each member over TCP, since memberlist's
// own leave message can cancel a meta update still queued for gossip, and
// the leader would then take the departure for a failure.
func (g *gossip) announceLeave(name string, timeout time.Duration) {
	g.mu.Lock()
	g.meta.Leaving = true
	g.mu.Unlock()
	if err := g.ml.UpdateNode(timeout); err != nil {
		g.logger.Warn("could not announce leaving", "err", err)
	}
	msg := []byte(leavingMsg + name)
	deadline := time.Now().Add(timeout)
	for _, m := range g.aliveNodes(name) {
		if time.Now().After(deadline) {
			break
		}
		if err := g.ml.SendReliable(m, msg); err != nil {
			g.logger.Debug("could not tell a member this node is leaving", "member", m.Name, "err", err)
		}
	}
}

// aliveNodes returns the other alive members as nodes of this package's
// own making: memberlist's Members hands out pointers into its state,
// which its gossip rewrites meanwhile.
func (g *gossip) aliveNodes(self string) []*memberlist.Node {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*memberlist.Node
	for name, st := range g.states {
		host, port, err := net.SplitHostPort(st.Addr)
		p, perr := strconv.Atoi(port)
		if name == self || st.State != memberlist.StateAlive || err != nil || perr != nil {
			continue
		}
		out = append(out, &memberlist.Node{Name: name, Addr: net.ParseIP(host), Port: uint16(p)})
	}
	return out
}

// record notes a member's new state and meta; a member that announced
// it is leaving counts as left.
func (g *gossip) record(n *memberlist.Node, state memberlist.NodeStateType) {
	meta, _ := decodeMeta(n.Meta)
	if meta.Leaving {
		state = memberlist.StateLeft
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	old, seen := g.states[n.Name]
	since := time.Now()
	if seen && old.State == state {
		since = old.Since
	}
	g.states[n.Name] = memberState{State: state, Addr: n.Address(), Meta: meta, Since: since}
}

// hasPeer reports whether gossip has admitted another alive member: a
// join answered by a node of another fleet admits none.
func (g *gossip) hasPeer(self string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for name, st := range g.states {
		if name != self && st.State == memberlist.StateAlive {
			return true
		}
	}
	return false
}

// members returns a copy of what gossip knows of every member.
func (g *gossip) members() map[string]memberState {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]memberState, len(g.states))
	for k, v := range g.states {
		out[k] = v
	}
	return out
}

func (g *gossip) poke() {
	select {
	case g.events <- struct{}{}:
	default:
	}
}

// setFleet advertises the fleet ID once it is known.
func (g *gossip) setFleet(id, source string) {
	g.mu.Lock()
	changed := g.meta.Fleet != id || g.meta.Source != source
	g.meta.Fleet, g.meta.Source = id, source
	g.mu.Unlock()
	if changed && g.ml != nil {
		_ = g.ml.UpdateNode(time.Second)
	}
}

// setAdmin advertises the admin address once it is bound (an
// admin_listen port of 0 is only known then); no news, no gossip.
func (g *gossip) setAdmin(addr string) {
	g.mu.Lock()
	changed := g.meta.Admin != addr
	g.meta.Admin = addr
	g.mu.Unlock()
	if changed && g.ml != nil {
		_ = g.ml.UpdateNode(time.Second)
	}
}

// SetAdmin advertises addr as this node's admin HTTP address; call it
// after Start.
func (c *Cluster) SetAdmin(addr string) {
	if c.gossip != nil {
		c.gossip.setAdmin(addr)
	}
}

// startGossip creates the memberlist on cfg's bind address.
func startGossip(cfg Config, name string, g *gossip) error {
	mc := memberlist.DefaultLANConfig()
	if cfg.Fast {
		mc = memberlist.DefaultLocalConfig()
		mc.ProbeInterval = 200 * time.Millisecond
		mc.GossipInterval = 50 * time.Millisecond
		mc.PushPullInterval = 2 * time.Second
	}
	host, port := cfg.gossipAddr()
	mc.Name = name
	mc.BindAddr, mc.BindPort = host, port
	mc.AdvertiseAddr, mc.AdvertisePort = host, port
	mc.Label = cfg.Name
	mc.Delegate, mc.Events, mc.Alive = g, g, g
	mc.Logger = memberlistLogger(g.logger)
	if g.transport != nil {
		mc.Transport = g.transport
	}
	if err := setKeyring(mc, cfg.GossipKeys); err != nil {
		return err
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		return fmt.Errorf("gossip on %s: %w", cfg.BindAddr, err)
	}
	g.ml = ml
	return nil
}
