package node

import (
	"encoding/json"
	"net/http"
)

// statusViews serves what the status page reads: /status (with the live
// figures), /status/history, /fleet and the page itself.
//
// The history is an endpoint of its own rather than part of /status:
// /status is what `moxi status -watch`, scripts and the other nodes'
// /fleet fetch every second, and 15 minutes of every series is tens of
// kilobytes they do not need. The page reads the history once and then
// appends each second's live figures itself.
type statusViews struct {
	n      *Node
	smp    *sampler
	self   string       // this node's admin address, as bound
	client *http.Client // for the peers' /status
	fleets *fleetCache  // /fleet's answers
}

func newStatusViews(n *Node, smp *sampler, self string) *statusViews {
	v := &statusViews{n: n, smp: smp, self: self, client: n.peerClient()}
	v.fleets = &fleetCache{gather: v.fleet}
	return v
}

// status is the node's Status with its live figures.
func (v *statusViews) status() Status {
	st := v.n.status()
	if st.Node == "" { // standalone: no fleet name; the admin address tells nodes apart
		st.Node = v.self
	}
	st.Live = v.smp.live()
	return st
}

func (v *statusViews) serveStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, v.status(), true)
}

// serveHistory answers the series of ?scope= (node, bucket, server; all
// when absent).
func (v *statusViews) serveHistory(w http.ResponseWriter, r *http.Request) {
	scope := r.URL.Query().Get("scope")
	switch scope {
	case "", "node", "bucket", "server":
	default:
		http.Error(w, "scope: want node, bucket or server", http.StatusBadRequest)
		return
	}
	writeJSON(w, v.smp.history(scope), false) // 900 points a series: one line each would triple it
}

func writeJSON(w http.ResponseWriter, v any, indent bool) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	if indent {
		enc.SetIndent("", "  ")
	}
	_ = enc.Encode(v)
}
