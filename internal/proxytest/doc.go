// Package proxytest holds test helpers shared by the data-plane tests: it
// starts real memcached processes on loopback ports and waits for them.
package proxytest
