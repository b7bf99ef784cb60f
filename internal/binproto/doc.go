// Package binproto is memcached's binary protocol: the 24-byte header, the
// opcodes and status codes, a request reader that validates client input
// the way memcached 1.6.18 does (same error status and text, same
// decision to close or to swallow and keep reading, down to memcached's
// quirks), a response reader for replies from servers, and helpers that
// append packets to a buffer without allocating.
//
// Multi-byte header fields are big-endian. A packet's body is its extras,
// then its key, then its value; BodyLen counts all three.
//
// differential_test.go holds the evidence: it replays every malformed and
// edge input the tests know against a real memcached and checks that the
// Reader predicts its replies byte for byte.
package binproto
