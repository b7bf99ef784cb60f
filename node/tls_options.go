package node

import (
	"crypto/tls"
	"fmt"

	"github.com/moxifleet/moxi/internal/tlsconf"
)

// TLSOptions are the -Z keys of TLS to clients and to servers. Like the
// fleet keys they are moxi's own, matched by full name, never shown in
// stats proxy (they name key files).
type TLSOptions struct {
	// Clients: tls_cert, tls_key, tls_ca, tls_verify. With a certificate
	// every proxy port speaks TLS, but those a static -z section marks
	// "notls:PORT=...".
	Clients tlsconf.Files
	// Servers: downstream_tls turns it on; downstream_tls_ca,
	// downstream_tls_cert, downstream_tls_key, downstream_tls_server_name.
	ToServers bool
	Servers   tlsconf.Files
}

func tlsKeys() map[string]func(o *TLSOptions, v string) error {
	str := func(p func(o *TLSOptions) *string) func(o *TLSOptions, v string) error {
		return func(o *TLSOptions, v string) error { *p(o) = v; return nil }
	}
	return map[string]func(o *TLSOptions, v string) error{
		"tls_cert":                   str(func(o *TLSOptions) *string { return &o.Clients.Cert }),
		"tls_key":                    str(func(o *TLSOptions) *string { return &o.Clients.Key }),
		"tls_ca":                     str(func(o *TLSOptions) *string { return &o.Clients.CA }),
		"tls_verify":                 func(o *TLSOptions, v string) error { return setBool(&o.Clients.Verify, v) },
		"downstream_tls":             func(o *TLSOptions, v string) error { return setBool(&o.ToServers, v) },
		"downstream_tls_ca":          str(func(o *TLSOptions) *string { return &o.Servers.CA }),
		"downstream_tls_cert":        str(func(o *TLSOptions) *string { return &o.Servers.Cert }),
		"downstream_tls_key":         str(func(o *TLSOptions) *string { return &o.Servers.Key }),
		"downstream_tls_server_name": str(func(o *TLSOptions) *string { return &o.Servers.ServerName }),
	}
}

// splitTLSKeys takes the TLS keys out of a -Z string and loads the files
// they name, so that a bad file stops moxi at start with one line.
func splitTLSKeys(z string) (o TLSOptions, rest string, client, servers *tls.Config, err error) {
	if rest, err = splitOwnKeys(z, tlsKeys(), &o); err != nil {
		return o, "", nil, nil, err
	}
	client, servers, err = o.configs()
	return o, rest, client, servers, err
}

// configs builds the two TLS configurations the options ask for (nil
// for none).
func (o TLSOptions) configs() (client, servers *tls.Config, err error) {
	c := o.Clients
	if c.Cert != "" || c.Key != "" || c.CA != "" || c.Verify {
		if client, err = tlsconf.Server(c); err != nil {
			return nil, nil, fmt.Errorf("-Z tls_cert/tls_key/tls_ca: %w", err)
		}
	}
	s := o.Servers
	if !o.ToServers {
		if s != (tlsconf.Files{}) {
			return nil, nil, fmt.Errorf("-Z downstream_tls_*: set downstream_tls=1 to speak TLS to servers")
		}
		return client, nil, nil
	}
	if servers, err = tlsconf.Client(s); err != nil {
		return nil, nil, fmt.Errorf("-Z downstream_tls: %w", err)
	}
	return client, servers, nil
}
