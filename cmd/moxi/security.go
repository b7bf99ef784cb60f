package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moxifleet/moxi/internal/tlsconf"
)

// runKeygen is "moxi keygen": it prints a new random 32-byte gossip key
// (AES-256) in base64, for -Z cluster_key or a line of cluster_key_file,
// as "consul keygen" does.
func runKeygen(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "moxi: keygen: takes no arguments, got %q\n", args)
		return exitConfig
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		fmt.Fprintf(stderr, "moxi: keygen: %v\n", err)
		return exitConfig
	}
	fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(key))
	return exitOK
}

// runTLSInit is "moxi tls-init DIR NAME...": it writes a new CA and one
// certificate per node name into DIR (tlsconf.Init), to try cluster TLS
// out, like "consul tls ca create". Not for production: the CA's key is
// written next to the certificates, and nothing revokes them.
func runTLSInit(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintln(stderr, "moxi: tls-init: usage: moxi tls-init DIR NAME... (a CA and a certificate per node name)")
		return exitConfig
	}
	dir, names := args[0], args[1:]
	if err := checkCertNames(names); err != nil {
		fmt.Fprintf(stderr, "moxi: tls-init: %v\n", err)
		return exitConfig
	}
	if err := tlsconf.Init(dir, names); err != nil {
		fmt.Fprintf(stderr, "moxi: tls-init: %v\n", err)
		return exitConfig
	}
	printTLSInit(stdout, dir, names)
	return exitOK
}

// checkCertNames refuses names that would write outside DIR or over the
// CA's files (NAME.pem is a file name), and repeated ones.
func checkCertNames(names []string) error {
	for i, n := range names {
		switch {
		case n == "" || n == "." || n == ".." || strings.ContainsAny(n, `/\`):
			return fmt.Errorf("node name %q: not a file name", n)
		case n == "ca":
			return errors.New(`node name "ca": taken by the CA's own files (ca.pem, ca-key.pem)`)
		case strings.HasPrefix(n, "-"):
			return fmt.Errorf("node name %q: flags go before DIR", n)
		case slices.Contains(names[:i], n):
			return fmt.Errorf("node name %q given twice", n)
		}
	}
	return nil
}

func printTLSInit(w io.Writer, dir string, names []string) {
	fmt.Fprintf(w, "moxi tls-init: a CA and %d node certificates in %s, to try cluster TLS out.\n", len(names), dir)
	fmt.Fprintln(w, "NOT FOR PRODUCTION: the CA's key sits next to the certificates; use your own CA for a real fleet.")
	fmt.Fprintf(w, "  %s  the CA: every node's cluster_tls_ca\n", filepath.Join(dir, "ca.pem"))
	fmt.Fprintf(w, "  %s  the CA's key: keep it off the nodes\n", filepath.Join(dir, "ca-key.pem"))
	for _, n := range names {
		fmt.Fprintf(w, "  %s, %s  node %s\n", filepath.Join(dir, n+".pem"), filepath.Join(dir, n+"-key.pem"), n)
	}
	n := names[0]
	fmt.Fprintf(w, "Node %s: -Z cluster_tls_cert=%s,cluster_tls_key=%s,cluster_tls_ca=%s\n",
		n, filepath.Join(dir, n+".pem"), filepath.Join(dir, n+"-key.pem"), filepath.Join(dir, "ca.pem"))
}
