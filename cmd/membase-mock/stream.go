package main

import (
	"bytes"
	"net/http"
)

// streamDelimiter ends every config on a streaming URL, in a chunk of its
// own; clients split the de-chunked stream on it.
const streamDelimiter = "\n\n\n\n"

// rendering is one config message: what to send, and the part whose
// change is worth a new message (uptime and item counts move all the
// time; ns_server resends only when the bucket's layout changes).
type rendering struct {
	body, key []byte
}

// stream writes configs as ns_server does: a chunk with the JSON, a chunk
// with the delimiter, then again each time the config changes, until the
// client goes away, the mock stops, or POST /mock/drop-streams ends it.
func (m *mock) stream(w http.ResponseWriter, r *http.Request, render func() rendering) {
	m.ctr.configRequests.Add(1)
	m.ctr.streamsTotal.Add(1)
	dropped := m.drops.signal()
	m.ctr.streamsOpen.Add(1)
	defer m.ctr.streamsOpen.Add(-1)
	setJSONHeaders(w)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var lastKey []byte
	for {
		changed := m.cl.watch() // before rendering, so no change is missed
		msg := render()
		if !bytes.Equal(msg.key, lastKey) {
			if writeChunk(w, rc, msg.body) != nil || writeChunk(w, rc, []byte(streamDelimiter)) != nil {
				return
			}
			m.ctr.configsSent.Add(1)
			lastKey = msg.key
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-m.ctx.Done():
			return
		case <-dropped:
			return
		}
	}
}

// writeChunk writes b as exactly one HTTP chunk. net/http makes one chunk
// per flush of its response buffer, and a write larger than the buffer
// goes out whole when the buffer is empty, which flushing after every
// write ensures.
func writeChunk(w http.ResponseWriter, rc *http.ResponseController, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return err
	}
	return rc.Flush()
}

// setJSONHeaders sets the headers ns_server sends with configs.
func setJSONHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Server", "Couchbase Server "+mockVersion)
	h.Set("Pragma", "no-cache")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", "application/json; charset=utf-8")
}
