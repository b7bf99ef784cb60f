// Package memserver is moxi's built-in memcached server (moxi -p PORT with no
// -z): an in-memory store with a byte limit, LRU eviction, expiry, CAS,
// client flags and counters, speaking the memcached text, meta and binary
// protocols. As in memcached, each connection's first byte picks its
// protocol (0x80 is binary) unless Config.Protocol forces one; text and
// binary clients share one store.
//
// It is the "pretend memcached" of chained and test topologies and a backend
// a newcomer can use at once. It aims to answer every command byte-for-byte
// as memcached 1.6 does, binary framing quirks included (see binConn).
package memserver
