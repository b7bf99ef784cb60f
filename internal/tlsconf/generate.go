package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// validity of what Init writes: long enough to try things for a while.
const validity = 365 * 24 * time.Hour

// Init writes a new CA (ca.pem, ca-key.pem) into dir and, for each name,
// a certificate signed by it (NAME.pem, NAME-key.pem) valid for that
// name, localhost and 127.0.0.1 (and the name's address when it is an
// IP), for both server and client use. It is for trying TLS out: the CA
// key sits next to the certificates. It refuses to overwrite a CA.
func Init(dir string, names []string) error {
	if len(names) == 0 {
		return errors.New("name at least one node")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ca.pem")); err == nil {
		return fmt.Errorf("%s already holds a CA (ca.pem)", dir)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate CA key: %w", err)
	}
	caTmpl := template(pkix.Name{CommonName: "moxi fleet CA (tls-init, not for production)"})
	caTmpl.IsCA, caTmpl.BasicConstraintsValid = true, true
	caTmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("sign CA: %w", err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	if err := writePair(dir, "ca", caDER, caKey); err != nil {
		return err
	}
	for _, name := range names {
		if err := writeNode(dir, name, ca, caKey); err != nil {
			return err
		}
	}
	return nil
}

func writeNode(dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key for %s: %w", name, err)
	}
	t := template(pkix.Name{CommonName: name})
	t.KeyUsage = x509.KeyUsageDigitalSignature
	t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	t.DNSNames = []string{name, "localhost"}
	t.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if ip := net.ParseIP(name); ip != nil {
		t.DNSNames, t.IPAddresses = []string{"localhost"}, append(t.IPAddresses, ip)
	}
	der, err := x509.CreateCertificate(rand.Reader, t, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("sign certificate for %s: %w", name, err)
	}
	return writePair(dir, name, der, key)
}

func template(subject pkix.Name) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	now := time.Now()
	return &x509.Certificate{SerialNumber: serial, Subject: subject,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity)}
}

// writePair writes NAME.pem and NAME-key.pem (the key readable by its
// owner only).
func writePair(dir, name string, der []byte, key *ecdsa.PrivateKey) error {
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode key of %s: %w", name, err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), cert, 0o644); err != nil {
		return fmt.Errorf("write certificate of %s: %w", name, err)
	}
	k := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	if err := os.WriteFile(filepath.Join(dir, name+"-key.pem"), k, 0o600); err != nil {
		return fmt.Errorf("write key of %s: %w", name, err)
	}
	return nil
}
