// Package e2e drives the built moxi binary against real memcached servers.
//
// TestMain builds ./cmd/moxi once per run; every test then starts its own
// memcached processes and moxi processes on free loopback ports, so tests
// run in parallel without sharing servers. MOXI_E2E_BINARY=/path/to/moxi
// tests a prebuilt binary instead of building one. Tests that need a tool missing
// from PATH (memcached, memccapable) skip outside CI and fail under
// CI=true.
package e2e
