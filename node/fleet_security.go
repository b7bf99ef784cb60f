package node

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/moxifleet/moxi/cluster"
	"github.com/moxifleet/moxi/internal/tlsconf"
)

// fleetSecurity is what cluster_key, cluster_key_file and cluster_tls_*
// make of the values and files they name.
type fleetSecurity struct {
	keys   [][]byte     // the gossip keyring, the key to send with first; nil: in the clear
	mutual *cluster.TLS // raft, and the peers' /status fetches; nil: plain
	// admin is the admin listener's TLS when mutual is set: a client
	// certificate is checked against cluster_tls_ca when one is given,
	// so that /health and /metrics stay open to what holds none.
	admin *tls.Config
}

// security reads and checks the fleet's keys and certificates. An error
// names the -Z key at fault, never a key's value.
func (f FleetOptions) security() (fleetSecurity, error) {
	var s fleetSecurity
	var err error
	if s.keys, err = f.gossipKeys(); err != nil {
		return s, err
	}
	s.mutual, s.admin, err = f.clusterTLS()
	return s, err
}

// securityKeysSet reports whether any of the fleet's security keys is
// set, which only a fleet node (cluster_bind) takes.
func (f FleetOptions) securityKeysSet() bool {
	return f.Key != "" || f.KeyFile != "" || f.TLS != (tlsconf.Files{}) || f.Insecure
}

func (f FleetOptions) gossipKeys() ([][]byte, error) {
	switch {
	case f.Key != "" && f.KeyFile != "":
		return nil, errors.New("-Z cluster_key and cluster_key_file: set one of them")
	case f.Key != "":
		k, err := decodeGossipKey(f.Key)
		if err != nil {
			return nil, fmt.Errorf("-Z cluster_key: %w", err)
		}
		return [][]byte{k}, nil
	case f.KeyFile != "":
		return readKeyFile(f.KeyFile)
	}
	return nil, nil
}

// decodeGossipKey decodes one base64 key (as moxi keygen and consul
// keygen print them) of an AES size.
func decodeGossipKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64 (%w)", err)
	}
	if n := len(k); n != 16 && n != 24 && n != 32 {
		return nil, fmt.Errorf("a key of %d bytes; want 16, 24 or 32 (moxi keygen makes one)", n)
	}
	return k, nil
}

// readKeyFile reads cluster_key_file: one base64 key a line, the first
// used to send, all accepted (so that keys rotate by rolling restarts);
// blank lines and lines starting with # are skipped.
func readKeyFile(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-Z cluster_key_file %s: %w", path, pathCause(err))
	}
	var keys [][]byte
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := decodeGossipKey(line)
		if err != nil {
			return nil, fmt.Errorf("-Z cluster_key_file %s line %d: %w", path, i+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("-Z cluster_key_file %s: no key in it", path)
	}
	return keys, nil
}

// clusterTLS loads cluster_tls_*: the three go together. Each file is
// read first, so that a missing one is named by its key.
func (f FleetOptions) clusterTLS() (*cluster.TLS, *tls.Config, error) {
	t := f.TLS
	if t == (tlsconf.Files{}) {
		return nil, nil, nil
	}
	for _, k := range []struct{ key, path string }{{"cluster_tls_cert", t.Cert}, {"cluster_tls_key", t.Key}, {"cluster_tls_ca", t.CA}} {
		if k.path == "" {
			return nil, nil, fmt.Errorf("-Z %s: needed with the other cluster_tls_* keys", k.key)
		}
		if _, err := os.ReadFile(k.path); err != nil {
			return nil, nil, fmt.Errorf("-Z %s %s: %w", k.key, k.path, pathCause(err))
		}
	}
	files := tlsconf.Files{Cert: t.Cert, Key: t.Key, CA: t.CA}
	srv, cli, err := tlsconf.Mutual(files)
	if err != nil {
		return nil, nil, fmt.Errorf("-Z cluster_tls_cert/cluster_tls_key/cluster_tls_ca: %w", err)
	}
	admin, err := tlsconf.Server(files) // a CA without Verify: client certificates checked when given
	if err != nil {
		return nil, nil, fmt.Errorf("-Z cluster_tls_cert/cluster_tls_key/cluster_tls_ca: %w", err)
	}
	return &cluster.TLS{Server: srv, Client: cli}, admin, nil
}

// checkExposure refuses a fleet on a cluster_bind other hosts can reach
// without both gossip encryption and cluster TLS: its raft entries carry
// the maps, SASL passwords included, and anyone who can gossip with it
// can join it. cluster_insecure=1 lets it run; the warning it returns is
// then logged at start. A loopback fleet (tests, one host) needs neither.
func (f FleetOptions) checkExposure(s fleetSecurity) (warning string, err error) {
	host := f.Bind
	if h, _, serr := net.SplitHostPort(f.Bind); serr == nil {
		host = h
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLoopback() {
		return "", nil // a host name is cluster.Validate's to refuse
	}
	var missing []string
	if len(s.keys) == 0 {
		missing = append(missing, "cluster_key (or cluster_key_file) to encrypt gossip")
	}
	if s.mutual == nil {
		missing = append(missing, "cluster_tls_cert, cluster_tls_key and cluster_tls_ca for raft and node-to-node HTTP")
	}
	if len(missing) == 0 {
		return "", nil
	}
	if !f.Insecure {
		return "", fmt.Errorf("-Z cluster_bind %s is not a loopback address: a fleet there needs %s; or set cluster_insecure=1 to run it unprotected",
			f.Bind, strings.Join(missing, ", and "))
	}
	return fmt.Sprintf("cluster_insecure=1: this fleet node is reachable on %s without %s; "+
		"anyone who can reach it can join the fleet and read its maps, SASL passwords included", f.Bind, strings.Join(missing, ", nor ")), nil
}

// fleetSecurity reads the fleet's keys and certificates and checks the
// bind address against them, logging the cluster_insecure warning.
func (n *Node) fleetSecurity(fo FleetOptions) (fleetSecurity, error) {
	sec, err := fo.security()
	if err != nil {
		return sec, err
	}
	warning, err := fo.checkExposure(sec)
	if err != nil {
		return sec, err
	}
	if warning != "" {
		n.logger.Warn(warning)
	}
	return sec, nil
}

// noConfigErr is why a node with no data gives up waiting for the fleet's
// configuration: its key was refused (cluster.ErrGossipKey, which must
// not read as "no fleet answered"), or no fleet answered, or it joined
// gossip but raft brought nothing, as when the fleet refuses its
// certificate.
func (f *fleet) noConfigErr() error {
	err := f.cluster.JoinErr()
	switch {
	case errors.Is(err, cluster.ErrGossipKey):
		return fmt.Errorf("%w (no fleet configuration after %v, cluster_join_timeout)", err, f.opts.JoinTimeout)
	case err == nil && len(f.opts.Join) > 0:
		return fmt.Errorf("%w: joined gossip, but no fleet configuration came over raft in %v "+
			"(is the raft port reachable, and does the fleet take this node's cluster_tls_* certificate?)",
			cluster.ErrJoinTimeout, f.opts.JoinTimeout)
	}
	return fmt.Errorf("%w: no fleet configuration after %v", cluster.ErrJoinTimeout, f.opts.JoinTimeout)
}
