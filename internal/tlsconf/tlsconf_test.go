package tlsconf

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// handshake runs a TLS handshake between server and client configs over
// loopback and returns each side's error.
func handshake(t *testing.T, server, client *tls.Config) (serr, cerr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		tc := tls.Server(c, server)
		err = tc.Handshake()
		if err == nil {
			_, err = tc.Read(make([]byte, 1)) // a client refusing us shows here in TLS 1.3
		}
		done <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(c, client)
	cerr = tc.Handshake()
	if cerr == nil {
		_, cerr = tc.Write([]byte("x"))
	}
	c.Close()
	return <-done, cerr
}

func files(dir, name string) Files {
	return Files{Cert: filepath.Join(dir, name+".pem"), Key: filepath.Join(dir, name+"-key.pem"), CA: filepath.Join(dir, "ca.pem")}
}

// TestMutual: two nodes of one CA shake hands; a node of another CA is
// refused by both sides; Init will not overwrite a CA.
func TestMutual(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	if err := Init(dir, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if err := Init(other, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if err := Init(dir, []string{"c"}); err == nil || !strings.Contains(err.Error(), "already holds a CA") {
		t.Fatalf("Init over a CA: %v", err)
	}
	as, _, err := Mutual(files(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	_, bc, err := Mutual(files(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	if serr, cerr := handshake(t, as, bc); serr != nil || cerr != nil {
		t.Fatalf("same CA: server %v, client %v", serr, cerr)
	}
	_, xc, err := Mutual(files(other, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if serr, _ := handshake(t, as, xc); serr == nil {
		t.Fatal("a node of another CA was accepted")
	}
	noCert := &tls.Config{InsecureSkipVerify: true}
	if serr, _ := handshake(t, as, noCert); serr == nil {
		t.Fatal("a client without a certificate was accepted")
	}
	xs, _, _ := Mutual(files(other, "x"))
	if _, cerr := handshake(t, xs, bc); cerr == nil {
		t.Fatal("a server of another CA was accepted")
	}
}

// TestServerClient: a plain TLS server and a client checking its name.
func TestServerClient(t *testing.T) {
	dir := t.TempDir()
	if err := Init(dir, []string{"node1"}); err != nil {
		t.Fatal(err)
	}
	f := files(dir, "node1")
	srv, err := Server(Files{Cert: f.Cert, Key: f.Key})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := Client(Files{CA: f.CA, ServerName: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	if serr, cerr := handshake(t, srv, cli); serr != nil || cerr != nil {
		t.Fatalf("server %v, client %v", serr, cerr)
	}
	wrong, _ := Client(Files{CA: f.CA, ServerName: "elsewhere"})
	if _, cerr := handshake(t, srv, wrong); cerr == nil {
		t.Fatal("a certificate for another name was accepted")
	}
	if _, err := Server(Files{Cert: f.Cert, Key: f.Key, Verify: true}); err == nil {
		t.Fatal("verify without a CA was accepted")
	}
}
