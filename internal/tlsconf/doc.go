// Package tlsconf builds moxi's TLS configurations from PEM files (client
// ports, server connections, the fleet's raft and node-to-node HTTP) and
// writes a throwaway CA with node certificates for trying them out
// (moxi tls-init). It knows nothing of moxi's other packages.
package tlsconf
