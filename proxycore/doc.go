// Package proxycore is moxi's data plane: it accepts memcached clients,
// parses their commands, routes every key to its server through the current
// routing map, relays the replies in order, and keeps the proxy's own
// counters.
//
// Request path. Each client connection has a reader goroutine that parses
// commands and dispatches them at once, and a writer goroutine that writes
// replies in request order, so pipelined requests to different servers run
// concurrently. Each server has a small set of multiplexed connections; a
// connection's writer batches whatever requests are queued into one write,
// and its reader matches replies to requests in FIFO order (memcached
// answers in order on a connection). A multi-key get is split into one
// request per server and reassembled in the client's key order.
//
// Protocols. A client speaks text (classic and meta) or binary, detected
// by its first byte. Servers are spoken to in binary by default: text
// commands are translated (a2b_*.go) and the replies turned back into the
// text memcached would send; binary clients' keyed requests go byte for
// byte. Quiet binary commands, which have no reply on success, are fenced
// with a NOOP so that replies still match requests in order. SASL PLAIN
// selects a client's bucket (sasl.go) and logs new server connections in
// (dconn_auth.go).
//
// proxycore never imports the cluster package: routing maps arrive through
// the MapSource interface.
package proxycore
