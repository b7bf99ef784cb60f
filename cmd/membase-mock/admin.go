package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The admin API, for tests and humans. Every reply is JSON; errors are
// {"error": "..."} with 400 (bad request), 404 (no such node) or 409 (a
// rebalance is running).

// rebalanceJSON describes a rebalance in /mock/status and in the reply
// to POST /mock/rebalance.
type rebalanceJSON struct {
	Target []int `json:"target"` // node ids the cluster ends with
	Moved  int   `json:"moved"`
	Total  int   `json:"total"`
	Done   bool  `json:"done"`
}

type nodeStatusJSON struct {
	ID        int            `json:"id"`
	Addr      string         `json:"addr"`
	State     string         `json:"state"`
	Listening bool           `json:"listening"`
	Items     map[string]int `json:"items"`    // per bucket
	VBuckets  map[string]int `json:"vbuckets"` // vbuckets it is master of, per bucket
}

type statusJSON struct {
	RebalanceRunning bool             `json:"rebalance_running"`
	Rebalance        *rebalanceJSON   `json:"rebalance,omitempty"`
	MapVersion       uint64           `json:"map_version"`
	ServerList       []string         `json:"server_list"`
	Nodes            []nodeStatusJSON `json:"nodes"`
}

// handleStats is GET /mock/stats: the counters.
func (m *mock) handleStats(w http.ResponseWriter, r *http.Request) {
	st := m.ctr.snapshot()
	m.cl.mu.Lock()
	st.MapVersion, st.RebalanceRunning = m.cl.version, m.cl.reb != nil
	m.cl.mu.Unlock()
	writeJSON(w, http.StatusOK, st)
}

// handleStatus is GET /mock/status: nodes, map version, rebalance.
func (m *mock) handleStatus(w http.ResponseWriter, r *http.Request) {
	c := m.cl
	c.mu.Lock()
	defer c.mu.Unlock()
	st := statusJSON{MapVersion: c.version, ServerList: c.serverAddrsLocked(), Nodes: []nodeStatusJSON{}}
	if c.reb != nil {
		st.RebalanceRunning = true
		st.Rebalance = &rebalanceJSON{Target: c.reb.target, Moved: c.reb.moved, Total: c.reb.total}
	}
	for _, n := range c.nodes {
		ns := nodeStatusJSON{ID: n.id, Addr: n.addr(), State: string(n.state), Listening: n.listening(),
			Items: map[string]int{}, VBuckets: map[string]int{}}
		for _, b := range c.buckets {
			ns.Items[b.spec.name] = n.servers[b.spec.name].Stats().CurrItems
			for vb := range b.owners {
				if b.owns(n.id, uint16(vb)) {
					ns.VBuckets[b.spec.name]++
				}
			}
		}
		st.Nodes = append(st.Nodes, ns)
	}
	writeJSON(w, http.StatusOK, st)
}

// handleRebalance is POST /mock/rebalance. Parameters, in the query or as
// a JSON body: nodes=N (target node count: fresh nodes are added, or the
// highest ids removed), or add=K (fresh nodes) and/or remove=ID,ID. With
// wait=1 it answers when the rebalance is over (200), else at once (202).
func (m *mock) handleRebalance(w http.ResponseWriter, r *http.Request) {
	req, err := rebalanceParams(r)
	if err != nil {
		adminError(w, err)
		return
	}
	reb, err := m.cl.startRebalance(m.ctx, req)
	if err != nil {
		adminError(w, err)
		return
	}
	status := http.StatusAccepted
	if r.URL.Query().Get("wait") == "1" {
		select {
		case <-reb.done:
			status = http.StatusOK
		case <-r.Context().Done():
			return
		}
	}
	m.cl.mu.Lock()
	out := rebalanceJSON{Target: reb.target, Moved: reb.moved, Total: reb.total, Done: status == http.StatusOK}
	m.cl.mu.Unlock()
	writeJSON(w, status, out)
}

// rebalanceParams reads a rebalanceRequest from the JSON body, then lets
// query parameters override it.
func rebalanceParams(r *http.Request) (rebalanceRequest, error) {
	var req rebalanceRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return req, fmt.Errorf("read body: %w", err)
	}
	if strings.TrimSpace(string(body)) != "" {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return req, fmt.Errorf("body: %w: %w", err, errRequest)
		}
	}
	q := r.URL.Query()
	if req.Nodes, err = intParam(q.Get("nodes"), req.Nodes); err != nil {
		return req, err
	}
	if req.Add, err = intParam(q.Get("add"), req.Add); err != nil {
		return req, err
	}
	if s := q.Get("remove"); s != "" {
		req.Remove = nil
		for f := range strings.SplitSeq(s, ",") {
			id, err := intParam(f, 0)
			if err != nil {
				return req, err
			}
			req.Remove = append(req.Remove, id)
		}
	}
	return req, nil
}

// intParam parses s, or returns def when s is empty.
func intParam(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a number: %w", s, errRequest)
	}
	return v, nil
}

// handleFailover is POST /mock/failover?node=ID[&orphan=1].
func (m *mock) handleFailover(w http.ResponseWriter, r *http.Request) {
	id, err := nodeParam(r)
	if err == nil {
		err = m.cl.failover(id, r.URL.Query().Get("orphan") == "1")
	}
	if err != nil {
		adminError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"node": id, "map_version": m.cl.mapVersion()})
}

// handleListener serves POST /mock/kill-node?node=ID (on false) and
// /mock/start-node?node=ID (on true).
func (m *mock) handleListener(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := nodeParam(r)
		if err == nil {
			err = m.cl.setListening(id, on)
		}
		if err != nil {
			adminError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"node": id, "listening": on, "map_version": m.cl.mapVersion()})
	}
}

func nodeParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("node")
	if s == "" {
		return 0, fmt.Errorf("node=ID is required: %w", errRequest)
	}
	return intParam(s, 0)
}

// adminError maps an error to its status.
func adminError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, errRequest):
		status = http.StatusBadRequest
	case errors.Is(err, errNoNode):
		status = http.StatusNotFound
	case errors.Is(err, errBusy):
		status = http.StatusConflict
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
