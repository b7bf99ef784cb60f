package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Files names the PEM files of one TLS endpoint.
type Files struct {
	Cert, Key string // this side's certificate (chain) and private key
	CA        string // CA certificates that sign the peers' certificates
	// Verify makes a server require a client certificate signed by CA.
	Verify bool
	// ServerName is the name a client checks the server's certificate
	// against; empty means the host it dials.
	ServerName string
}

// minVersion is TLS 1.2: memcached 1.6's floor, and what every client
// library still in use speaks.
const minVersion = tls.VersionTLS12

// Server returns the configuration of a TLS listener: Cert and Key are
// required; with CA, clients' certificates are checked against it, and
// with Verify they must present one.
func Server(f Files) (*tls.Config, error) {
	if f.Cert == "" || f.Key == "" {
		return nil, errors.New("a TLS listener needs a certificate and a key")
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("load certificate %s: %w", f.Cert, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: minVersion}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	if f.Verify {
		if f.CA == "" {
			return nil, errors.New("verifying clients needs a CA file")
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// Client returns the configuration of a TLS client: the server is checked
// against CA (the system's roots when CA is empty); Cert and Key, when
// given, are presented to servers that ask.
func Client(f Files) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: minVersion, ServerName: f.ServerName}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if (f.Cert == "") != (f.Key == "") {
		return nil, errors.New("a client certificate needs both the certificate and the key")
	}
	if f.Cert != "" {
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("load certificate %s: %w", f.Cert, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Mutual returns both sides of a link where each end proves itself with a
// certificate signed by CA (the fleet's raft and node-to-node HTTP). The
// client side checks the peer's certificate against CA only, not a host
// name: peers are known by gossip addresses, which a CA-signed node
// certificate need not list.
func Mutual(f Files) (server, client *tls.Config, err error) {
	if f.CA == "" {
		return nil, nil, errors.New("mutual TLS needs a CA file")
	}
	f.Verify = true
	if server, err = Server(f); err != nil {
		return nil, nil, err
	}
	if client, err = Client(f); err != nil {
		return nil, nil, err
	}
	if len(client.Certificates) == 0 {
		return nil, nil, errors.New("mutual TLS needs this node's certificate and key")
	}
	pool := client.RootCAs
	client.InsecureSkipVerify = true // replaced by the chain check below, without the host name
	client.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		return verifyChain(raw, pool)
	}
	return server, client, nil
}

// verifyChain checks that raw (the peer's certificates, leaf first)
// chains to pool.
func verifyChain(raw [][]byte, pool *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("peer sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return fmt.Errorf("peer certificate: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("peer certificate not signed by the fleet's CA: %w", err)
	}
	return nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}
