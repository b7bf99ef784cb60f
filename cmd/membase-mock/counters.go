package main

import "sync/atomic"

// counters are what GET /mock/stats reports, so tests can assert how
// clients used the mock (did moxi reconnect? how many NOT_MY_VBUCKETs?).
type counters struct {
	streamsOpen    atomic.Int64 // streaming responses in progress
	streamsTotal   atomic.Int64 // streaming responses ever started
	configRequests atomic.Int64 // config requests of any kind, streams included
	configsSent    atomic.Int64 // configs written to streams
	notMyVBucket   atomic.Int64 // NOT_MY_VBUCKET replies by all data nodes
	rebalances     atomic.Int64
	failovers      atomic.Int64
}

// statsJSON is the body of GET /mock/stats.
type statsJSON struct {
	StreamsOpen      int64  `json:"streams_open"`
	StreamsTotal     int64  `json:"streams_total"`
	ConfigRequests   int64  `json:"config_requests"`
	ConfigsSent      int64  `json:"configs_sent"`
	MapVersion       uint64 `json:"map_version"`
	NotMyVBucket     int64  `json:"not_my_vbucket"`
	Rebalances       int64  `json:"rebalances"`
	Failovers        int64  `json:"failovers"`
	RebalanceRunning bool   `json:"rebalance_running"`
}

func (c *counters) snapshot() statsJSON {
	return statsJSON{
		StreamsOpen:    c.streamsOpen.Load(),
		StreamsTotal:   c.streamsTotal.Load(),
		ConfigRequests: c.configRequests.Load(),
		ConfigsSent:    c.configsSent.Load(),
		NotMyVBucket:   c.notMyVBucket.Load(),
		Rebalances:     c.rebalances.Load(),
		Failovers:      c.failovers.Load(),
	}
}
