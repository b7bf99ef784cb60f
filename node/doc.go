// Package node wires one moxi process together: it turns the command line
// (-z, -Z and the memcached-style flags) into configuration, builds the
// routing maps, and starts the proxy listeners and, with -p and no -z, the
// built-in memcached server. It is the only package that knows all the
// others.
package node
