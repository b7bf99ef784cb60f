// Package a2b translates memcached's text and meta commands to the binary
// protocol and binary replies back to the text memcached would have sent
// ("ascii to binary", the original moxi's a2b). It knows the two
// protocols only (internal/ascii, internal/binproto), not the proxy: the
// proxy (proxycore) sends what Request encodes and answers with what
// Reply renders. What binary cannot carry gets a CLIENT_ERROR naming the
// flag; the proxy avoids that where it can by sending such commands over
// a text connection instead.
package a2b
