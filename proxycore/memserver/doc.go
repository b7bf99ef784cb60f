// Package memserver is moxi's built-in memcached server (moxi -p PORT with no
// -z): an in-memory store with a byte limit, LRU eviction, expiry, CAS,
// client flags and counters, speaking the memcached text and meta protocols.
//
// It is the "pretend memcached" of chained and test topologies and a backend
// a newcomer can use at once. It aims to answer every command byte-for-byte
// as memcached 1.6 does.
package memserver
