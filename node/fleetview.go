package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"sync"
	"time"

	"github.com/moxifleet/moxi/cluster"
)

// peerTimeout bounds a gathering of the peers' /status for /fleet: a
// dead or paused peer costs it a second, never more (and the page
// nothing, see fleetCache).
const peerTimeout = time.Second

// maxPeerBody bounds what /fleet reads of a peer's answer.
const maxPeerBody = 4 << 20

// FleetView is GET /fleet: every member as this node knows it, with the
// /status each member answered.
type FleetView struct {
	Node    string        `json:"node"` // the member that answered /fleet
	At      time.Time     `json:"at"`   // when it began gathering this view
	Leader  string        `json:"leader"`
	Members []FleetMember `json:"members"`
}

// FleetMember is one member: gossip's and raft's view, and its own word.
type FleetMember struct {
	cluster.Member
	Self      bool            `json:"self,omitempty"`
	URL       string          `json:"url,omitempty"` // the /status fetched
	Reachable bool            `json:"reachable"`
	Error     string          `json:"error,omitempty"`
	Status    json.RawMessage `json:"status,omitempty"`  // as the member answered it
	History   json.RawMessage `json:"history,omitempty"` // ?history=1: its /status/history?scope=node
}

// serveFleet answers from the cache: at most a second or two old, and
// never waiting for a peer that does not answer (see fleetCache).
func (v *statusViews) serveFleet(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, v.fleets.get(r.URL.Query().Get("history") == "1"), false)
}

// fleet fetches every peer's status at once, each within peerTimeout.
func (v *statusViews) fleet(ctx context.Context, withHistory bool) FleetView {
	at := time.Now()
	own := v.status()
	members := own.Members
	if len(members) == 0 { // standalone: this node alone
		members = []cluster.Member{{Name: own.Node, Addr: v.self, Gossip: "alive", Role: "none", Admin: v.self}}
	}
	out := FleetView{Node: own.Node, At: at, Leader: own.Leader, Members: make([]FleetMember, len(members))}
	ctx, cancel := context.WithTimeout(ctx, peerTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i, m := range members {
		if m.Name == own.Node {
			out.Members[i] = v.selfMember(m, own, withHistory)
			continue
		}
		wg.Go(func() { out.Members[i] = v.peerMember(ctx, m, withHistory) })
	}
	wg.Wait()
	return out
}

func (v *statusViews) selfMember(m cluster.Member, own Status, withHistory bool) FleetMember {
	fm := FleetMember{Member: m, Self: true, Reachable: true}
	fm.Status, _ = json.Marshal(own) // a Status always encodes
	if withHistory {
		fm.History, _ = json.Marshal(v.smp.history("node"))
	}
	return fm
}

// peerMember fetches one peer's /status (and history) at the admin
// address it advertises in gossip.
func (v *statusViews) peerMember(ctx context.Context, m cluster.Member, withHistory bool) FleetMember {
	fm := FleetMember{Member: m}
	base, err := peerAdminURL(m.Admin, m.Addr)
	base = v.n.withAdminScheme(base) // https under cluster TLS
	if err == nil {
		fm.URL = base + "/status"
		fm.Status, err = v.getJSON(ctx, fm.URL)
	}
	if err == nil && withHistory {
		fm.History, err = v.getJSON(ctx, base+"/status/history?scope=node")
	}
	fm.Reachable = fm.Status != nil
	if err != nil {
		fm.Error = err.Error()
		if base != "" && strings.TrimPrefix(base, v.n.adminScheme()+"://") != m.Admin {
			// the address tried is not the one advertised: say both
			fm.Error += fmt.Sprintf(" (admin_listen %s, tried at the member's gossip host)", m.Admin)
		}
	}
	return fm
}

// getJSON GETs url and returns its body, which must be JSON.
func (v *statusViews) getJSON(ctx context.Context, url string) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	resp, err := v.client.Do(req)
	if ue := (*neturl.Error)(nil); errors.As(err, &ue) {
		err = ue.Err // it repeats the URL
	}
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPeerBody))
	switch {
	case err != nil:
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetch %s: %s", url, resp.Status)
	case !json.Valid(b):
		return nil, fmt.Errorf("fetch %s: not JSON", url)
	}
	return b, nil
}

// peerAdminURL is where a member's admin HTTP answers, from the admin
// address it advertises and its gossip address. An unspecified host
// (admin_listen 0.0.0.0:8290) is the member's gossip host; so is a
// loopback one when the gossip address is not loopback, since loopback
// would name this node's own host.
func peerAdminURL(admin, gossipAddr string) (string, error) {
	if admin == "" {
		return "", errors.New("no admin address in gossip (a moxi without the status page?)")
	}
	host, port, err := net.SplitHostPort(admin)
	if err != nil {
		return "", fmt.Errorf("admin address %q: %w", admin, err)
	}
	if port == "" || port == "0" {
		return "", fmt.Errorf("admin address %q: no port", admin)
	}
	gossipHost, _, gerr := net.SplitHostPort(gossipAddr)
	if isLoopbackHost(host) && gerr == nil && !isLoopbackHost(gossipHost) || isUnspecifiedHost(host) {
		if gerr != nil {
			return "", fmt.Errorf("admin address %q on member address %q: %w", admin, gossipAddr, gerr)
		}
		host = gossipHost
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || ip != nil && ip.IsLoopback()
}

func isUnspecifiedHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "" || ip != nil && ip.IsUnspecified()
}
