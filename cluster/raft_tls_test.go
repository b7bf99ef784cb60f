package cluster

// Raft over mutual TLS (cluster_tls_*): two nodes of one CA talk; a node
// with a certificate of another CA, one with none, and one speaking
// plain TCP cannot, in either direction, and the refusal is logged.

import (
	"crypto/tls"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"

	"github.com/moxifleet/moxi/internal/tlsconf"
)

// testTLS makes a CA in a new directory with a certificate per name, and
// returns each name's mutual TLS.
func testTLS(t *testing.T, names ...string) map[string]*TLS {
	t.Helper()
	dir := t.TempDir()
	if err := tlsconf.Init(dir, names); err != nil {
		t.Fatal(err)
	}
	out := map[string]*TLS{}
	for _, n := range names {
		srv, cli, err := tlsconf.Mutual(tlsconf.Files{Cert: filepath.Join(dir, n+".pem"),
			Key: filepath.Join(dir, n+"-key.pem"), CA: filepath.Join(dir, "ca.pem")})
		if err != nil {
			t.Fatal(err)
		}
		out[n] = &TLS{Server: srv, Client: cli}
	}
	return out
}

// raftServer is a TLS raft transport on loopback answering every
// AppendEntries with success at term 7.
func raftServer(t *testing.T, tt *TLS, log *logCapture) *raft.NetworkTransport {
	t.Helper()
	trans, err := tlsTransport("127.0.0.1:0", tt, io.Discard, log.logger())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); _ = trans.Close() })
	go func() {
		for {
			select {
			case rpc := <-trans.Consumer():
				rpc.Respond(&raft.AppendEntriesResponse{Term: 7, Success: true}, nil)
			case <-done:
				return
			}
		}
	}()
	return trans
}

func raftClient(t *testing.T, tt *TLS, log *logCapture) *raft.NetworkTransport {
	t.Helper()
	trans, err := tlsTransport("127.0.0.1:0", tt, io.Discard, log.logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = trans.Close() })
	return trans
}

func appendTo(client raft.Transport, server *raft.NetworkTransport) (*raft.AppendEntriesResponse, error) {
	var resp raft.AppendEntriesResponse
	err := client.AppendEntries("server", server.LocalAddr(), &raft.AppendEntriesRequest{Term: 7}, &resp)
	return &resp, err
}

// TestRaftTLSStream: an AppendEntries between two nodes of the fleet's
// CA succeeds; from or to a node of another CA, from a client with no
// certificate, and from plain TCP it fails, and the end that refused
// logs it.
func TestRaftTLSStream(t *testing.T) {
	ours, theirs := testTLS(t, "a", "b"), testTLS(t, "x")
	aLog, bLog, xLog := newLogCapture(t, "a"), newLogCapture(t, "b"), newLogCapture(t, "x")
	a := raftServer(t, ours["a"], aLog)
	b := raftClient(t, ours["b"], bLog)
	if resp, err := appendTo(b, a); err != nil || resp.Term != 7 || !resp.Success {
		t.Fatalf("b -> a, one CA: %+v, %v", resp, err)
	}
	x := raftClient(t, theirs["x"], xLog)
	if _, err := appendTo(x, a); err == nil {
		t.Fatal("a node of another CA sent a raft RPC")
	}
	xServer := raftServer(t, theirs["x"], xLog)
	if _, err := appendTo(b, xServer); err == nil {
		t.Fatal("a node sent a raft RPC to a node of another CA")
	}
	noCert := raftClient(t, &TLS{Server: ours["b"].Server, Client: &tls.Config{InsecureSkipVerify: true}}, newLogCapture(t, "nocert"))
	if _, err := appendTo(noCert, a); err == nil {
		t.Fatal("a client without a certificate sent a raft RPC")
	}
	plain, err := tcpTransport("127.0.0.1:0", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plain.Close() })
	if _, err := appendTo(plain, a); err == nil {
		t.Fatal("plain TCP sent a raft RPC to a TLS node")
	}
	waitFor(t, 2*time.Second, "refusals logged", func() error {
		// a refused x; b refused x's server; x refused b's dial to it
		for name, l := range map[string]*logCapture{"a": aLog, "b": bLog, "x": xLog} {
			if len(linesWith(l.String(), raftRefused)) == 0 {
				return fmt.Errorf("%s logged no refusal", name)
			}
		}
		return nil
	})
	// a refused x, the client with no certificate and plain TCP, all
	// from 127.0.0.1 within the minute: one line.
	if lines := linesWith(aLog.String(), raftRefused); len(lines) != 1 {
		t.Errorf("a logged %d refusals from one host, want 1: %q", len(lines), lines)
	}
	if resp, err := appendTo(b, a); err != nil || !resp.Success {
		t.Fatalf("b -> a after the refusals: %+v, %v", resp, err)
	}
}

// TestFleetOverRaftTLS: two Cluster nodes with certificates of the
// fleet's CA form a fleet over TLS raft; a third, with a certificate of
// another CA, joins gossip but never receives an entry.
func TestFleetOverRaftTLS(t *testing.T) {
	ours, theirs := testTLS(t, "n0", "n1"), testTLS(t, "n2")
	f := newTestFleet(t, 3, false, nil)
	f.nodes[0].cfg.RaftTLS, f.nodes[1].cfg.RaftTLS, f.nodes[2].cfg.RaftTLS = ours["n0"], ours["n1"], theirs["n2"]
	f.start(0)
	f.waitLeader(10 * time.Second)
	f.start(1)
	l := f.waitMembers(2, 0, 15*time.Second)
	run, _ := f.rec.current(l.name)
	waitFor(t, 10*time.Second, "both stores at the leader's entry", func() error { return f.converged(run.proposed) })
	want := f.nodes[0].store.State().Index

	outsider := f.start(2)
	waitFor(t, 10*time.Second, "the outsider in gossip", func() error {
		if m, ok := l.c.gossip.members()[outsider.name]; !ok || m.State != memberlist.StateAlive {
			return fmt.Errorf("leader's view of the outsider: %+v (known %v)", m, ok)
		}
		return nil
	})
	holdsFor(t, 3*time.Second, "the outsider gets nothing over raft", func() error {
		if st := outsider.store.State(); st.Index != 0 || st.Source != nil {
			return fmt.Errorf("the outsider's store is at index %d, source %v", st.Index, st.Source)
		}
		return nil
	})
	if got := f.nodes[1].store.State().Index; got < want {
		t.Errorf("the fleet's second node went back from index %d to %d", want, got)
	}
	waitFor(t, 5*time.Second, "both ends log the refusal", func() error {
		if !strings.Contains(outsider.log.String(), raftRefused) || !strings.Contains(l.log.String(), raftRefused) {
			return fmt.Errorf("outsider logged %d, leader %d refusals",
				len(linesWith(outsider.log.String(), raftRefused)), len(linesWith(l.log.String(), raftRefused)))
		}
		return nil
	})
}
