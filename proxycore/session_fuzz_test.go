package proxycore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
	"github.com/moxifleet/moxi/internal/memserver"
	"github.com/moxifleet/moxi/mapstore"
)

// Issue 10: "gat 10\r\n" (an exptime, no key) was a request with no ops,
// which never completed. Its client got no reply, every later reply on the
// connection waited behind it, it kept a downstream_max token, the socket
// stayed in CLOSE-WAIT after the client left and Shutdown hung. No single
// reply is wrong in a way a transcript test notices; what is wrong is that
// the session never ends. FuzzSession checks exactly that, for any bytes a
// client may send: once the client has sent everything and shut its write
// side, the proxy must answer what it can, close, and return to rest.

const (
	// maxSessionInput caps one client's bytes: enough for a long pipeline
	// and a few large values, small enough to keep iterations fast.
	maxSessionInput = 64 << 10
	// sessionLimit is how long the proxy has, after the client's EOF, to
	// write its last reply and close. The backend is local, so anything
	// near this is a request that will never finish. A failing input also
	// spends waitUntil's 2 s and shutdownLimit's bound, and the whole must
	// stay under the 10 s after which a fuzzing worker declares itself
	// deadlocked and dies, losing the failure's report and minimization.
	sessionLimit = 4 * time.Second
	// shutdownLimit bounds a Shutdown: its context's deadline, plus as
	// much again for it to return after that.
	shutdownLimit = 750 * time.Millisecond
	// rigDownstreamTimeout is shorter than sessionLimit, so that a reply
	// the proxy waits for in vain shows up as a downstream timeout (which
	// a healthy local backend never causes) rather than as a hang.
	rigDownstreamTimeout = 2 * time.Second
	// goroutineSlack allows for goroutines of the test framework and of a
	// just-closed connection that are on their way out.
	goroutineSlack = 3
)

// FuzzSession feeds arbitrary client byte streams, text or binary (a
// first byte of 0x80), through real proxies in front of the built-in
// memcached, one proxy per downstream protocol, and fails when the proxy
// (a) neither finishes its replies nor closes within sessionLimit of the
// client's EOF, (b) still holds a downstream_max token or a client
// connection after the client has gone, (c) leaks goroutines, or (d) times
// out on the healthy backend, which means it lost track of a reply.
func FuzzSession(f *testing.F) {
	for _, s := range sessionSeeds() {
		f.Add(s)
	}
	sf := &sessionFuzzer{}
	f.Cleanup(func() {
		if err := sf.close(); err != nil {
			f.Errorf("shutting the proxies down: %v", err)
		}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxSessionInput {
			data = data[:maxSessionInput]
		}
		rig := sf.get(t)
		// A failed input leaves the rig with leaked tokens, connections or
		// goroutines that would fail every later input too; build a new one.
		defer func() {
			if t.Failed() {
				rig.describe(t)
				sf.discard(t)
			}
		}()
		for _, p := range rig.proxies {
			p.checkSession(t, data)
			if t.Failed() {
				return // one proxy's report is enough, and time is short
			}
		}
		rig.checkAtRest(t)
	})
}

// sessionFuzzer holds the rig the fuzz function's inputs share: servers
// start once per process (each fuzzing worker is one), not per input.
type sessionFuzzer struct {
	rig *sessionRig
}

func (sf *sessionFuzzer) get(t *testing.T) *sessionRig {
	t.Helper()
	if sf.rig == nil {
		rig, err := newSessionRig()
		if err != nil {
			t.Fatalf("starting the proxies: %v", err)
		}
		sf.rig = rig
	}
	return sf.rig
}

// discard drops a rig a failed input has left unusable, reporting whether
// it still shuts down (issue 10 made Shutdown hang).
func (sf *sessionFuzzer) discard(t *testing.T) {
	if err := sf.close(); err != nil {
		t.Logf("shutting the failed rig down: %v", err)
	}
}

func (sf *sessionFuzzer) close() error {
	if sf.rig == nil {
		return nil
	}
	err := sf.rig.close()
	sf.rig = nil
	return err
}

// sessionRig is one built-in memcached and, in front of it, one proxy per
// downstream protocol.
type sessionRig struct {
	backend  *memserver.Server
	proxies  []*rigProxy
	baseline int // goroutines at rest, downstream connections open
	// stuck are client goroutines already running at warm-up: those a
	// failed rig before this one leaked, left out of describe's report.
	stuck map[string]bool
}

// rigProxy is a proxy with the handles the checks read.
type rigProxy struct {
	proto string // downstream protocol
	addr  string
	srv   *Server
	b     *bucket
}

func newSessionRig() (*sessionRig, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rig := &sessionRig{backend: memserver.New(memserver.Config{Version: "test"})}
	go func() { _ = rig.backend.Serve(ln) }()
	for _, proto := range []string{"ascii", "binary"} {
		p, err := startRigProxy(ln.Addr().String(), proto)
		if err != nil {
			_ = rig.close()
			return nil, err
		}
		rig.proxies = append(rig.proxies, p)
	}
	if err := rig.warmUp(); err != nil {
		_ = rig.close()
		return nil, err
	}
	return rig, nil
}

// startRigProxy runs a proxy with default behavior but the given
// downstream protocol, in front of the backend at addr.
func startRigProxy(addr, proto string) (*rigProxy, error) {
	m, err := backendMap(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	beh := DefaultBehavior()
	beh.DownstreamProtocol = Protocol(proto)
	beh.DownstreamTimeout = rigDownstreamTimeout
	cfg := Config{Version: "test", Threads: 1, ConfType: "static",
		Buckets: []Bucket{{Name: "default", Port: port, Behavior: beh, Maps: m}}}
	srv, err := New(cfg, Deps{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	go func() { _ = srv.Serve(port, ln) }()
	return &rigProxy{proto: proto, addr: ln.Addr().String(), srv: srv, b: srv.byPort[port]}, nil
}

// backendMap is staticMap without a testing.TB, for a rig built inside
// the fuzz function.
func backendMap(addr string) (StaticMap, error) {
	host, port, _ := net.SplitHostPort(addr)
	p, err := net.LookupPort("tcp", port)
	if err != nil {
		return StaticMap{}, err
	}
	m, err := mapstore.NewServerListMap([]mapstore.Server{{Host: host, Port: p}}, mapstore.KetamaWeighted)
	return StaticMap{M: m}, err
}

// warmUp opens every downstream connection the proxies will keep (one per
// connection slot; a client's slot follows its arrival order), so that
// the goroutine count measured afterwards is the count at rest.
func (rig *sessionRig) warmUp() error {
	for _, p := range rig.proxies {
		slots := len(p.b.routing().servers[0].slots)
		for range slots {
			reply, err := p.session([]byte("get warm-up\r\n"))
			if err != nil {
				return fmt.Errorf("%s downstream: warm-up: %w", p.proto, err)
			}
			if string(reply) != "END\r\n" {
				return fmt.Errorf("%s downstream: warm-up got %q", p.proto, reply)
			}
		}
	}
	deadline := time.Now().Add(sessionLimit)
	for !rig.idle() {
		if time.Now().After(deadline) {
			return errors.New("warm-up connections did not close")
		}
		time.Sleep(time.Millisecond)
	}
	rig.baseline = runtime.NumGoroutine()
	rig.stuck = make(map[string]bool)
	for _, g := range clientGoroutines() {
		rig.stuck[goroutineID(g)] = true
	}
	return nil
}

func (rig *sessionRig) idle() bool {
	for _, p := range rig.proxies {
		if !p.idle() {
			return false
		}
	}
	return true
}

// close shuts the proxies and the backend down, each within a bound; an
// error means one of them hung.
func (rig *sessionRig) close() error {
	var errs []error
	for _, p := range rig.proxies {
		if err := shutdownWithin(p.srv.Shutdown); err != nil {
			errs = append(errs, fmt.Errorf("%s downstream proxy: %w", p.proto, err))
		}
	}
	if err := shutdownWithin(rig.backend.Shutdown); err != nil {
		errs = append(errs, fmt.Errorf("backend: %w", err))
	}
	return errors.Join(errs...)
}

// shutdownWithin runs shutdown with a context of shutdownLimit and gives
// up on it as long again after that: issue 10's Shutdown hung even past
// its context, waiting for a client handler that could never return, and
// a fuzz input that reproduces it must fail, not stall the fuzzer.
func shutdownWithin(shutdown func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownLimit)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- shutdown(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * shutdownLimit):
		return fmt.Errorf("Shutdown did not return %v after its context ended", shutdownLimit)
	}
}

// checkSession runs data as one client session and checks that the proxy
// ends it and lets go of everything it took for it: checks (a) and (b).
func (p *rigProxy) checkSession(t *testing.T, data []byte) {
	t.Helper()
	reply, err := p.session(data)
	if err != nil {
		t.Errorf("%s downstream: the proxy neither finished replying nor closed within %v of the client's EOF: %v; got %d bytes: %q",
			p.proto, sessionLimit, err, len(reply), clip(reply))
	}
	waitUntil(t, p.proto+" downstream: the proxy returns its downstream_max tokens and closes its client connections",
		p.idle)
	if n := p.b.stats.get(totDownstreamTimeout); n != 0 {
		t.Errorf("%s downstream: %d downstream timeouts on a healthy local backend: the proxy waited for a reply that was not coming",
			p.proto, n)
	}
}

// idle reports whether no request holds a downstream_max token and no
// client connection is open.
func (p *rigProxy) idle() bool {
	return len(p.b.sem) == 0 && p.srv.net.NumConns() == 0
}

// session sends data on a new connection, shuts the write side and reads
// until the proxy closes. Writing runs beside reading: a long pipeline's
// replies fill the socket buffers before its requests are all written,
// and a client that only wrote would deadlock with the proxy.
func (p *rigProxy) session(data []byte) ([]byte, error) {
	c, err := net.DialTimeout("tcp", p.addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		// The proxy may close first (quit, a fatal protocol error), so
		// write errors are expected and not the client's to report.
		_, _ = c.Write(data)
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	_ = c.SetReadDeadline(time.Now().Add(sessionLimit))
	var reply bytes.Buffer
	_, err = io.Copy(&reply, c)
	_ = c.Close() // unblocks a writer the proxy stopped reading from
	<-wrote
	if err != nil && isReset(err) {
		// The proxy closed with some of our bytes unread: still a close.
		err = nil
	}
	return reply.Bytes(), err
}

// checkAtRest is check (c): with every session over, the goroutines are
// back to those of the rig at rest.
func (rig *sessionRig) checkAtRest(t *testing.T) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("goroutines return to the %d at rest (+%d)", rig.baseline, goroutineSlack),
		func() bool { return runtime.NumGoroutine() <= rig.baseline+goroutineSlack })
}

// describe logs the rig's state and the goroutines still serving clients,
// which at rest must be none, to show what a failed input left behind.
func (rig *sessionRig) describe(t *testing.T) {
	for _, p := range rig.proxies {
		t.Logf("%s downstream: %d downstream_max tokens held, %d client connections open",
			p.proto, len(p.b.sem), p.srv.net.NumConns())
	}
	t.Logf("%d goroutines, %d at rest", runtime.NumGoroutine(), rig.baseline)
	shown := 0
	for _, g := range clientGoroutines() {
		if !rig.stuck[goroutineID(g)] && shown < 4 {
			t.Logf("client goroutine still running:\n%s", g)
			shown++
		}
	}
}

// clientGoroutines returns the stacks of goroutines serving a client
// connection.
func clientGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "proxycore.(*clientConn)") {
			out = append(out, g)
		}
	}
	return out
}

// goroutineID is a stack's "goroutine N" header.
func goroutineID(stack string) string {
	id, _, _ := strings.Cut(stack, " [")
	return id
}

// clip shortens a reply for a failure message.
func clip(b []byte) []byte {
	if len(b) > 512 {
		return b[:512]
	}
	return b
}

// sessionSeeds are the seed corpus: every zero-key shape of every text
// command (issue 10 was one of them), ordinary pipelines, and binary
// streams with empty keys, quiet groups and broken framing.
func sessionSeeds() [][]byte {
	var seeds [][]byte
	for _, s := range zeroKeyShapes {
		seeds = append(seeds, []byte(s.line+"\r\n"))
	}
	for _, s := range textSessionSeeds {
		seeds = append(seeds, []byte(s))
	}
	return append(seeds, binarySessionSeeds()...)
}

var textSessionSeeds = []string{
	// The case: a later reply must not wait behind it.
	"gat 10\r\nget k\r\n",
	"get k\r\ngats 10\r\nmn\r\n",
	"set k 0 0 1\r\nx\r\ngat 10\r\ngat 10 k\r\ngats 0 k\r\n",
	// Ordinary pipelines: store, multi-get with a repeated key, noreply,
	// arithmetic, meta with the quiet flag ended by mn.
	"set a 0 0 1\r\nx\r\nset b 0 0 2 noreply\r\nyy\r\nget a b a c\r\ngets a\r\n" +
		"append a 0 0 1\r\nz\r\nincr n 1\r\nset n 0 0 1\r\n5\r\nincr n 2\r\ndecr n 1 noreply\r\n" +
		"touch a 0\r\ndelete b\r\ndelete b noreply\r\ncas a 0 0 1 1\r\nq\r\nget a b n\r\n",
	"ms m 2 T0 q\r\nhi\r\nmg m v q\r\nmg missing v q\r\nmg m s k q\r\nma n q\r\nmd missing q\r\nmn\r\n",
	"mg m v\r\nma n D2 N0 J7\r\nmd m\r\nme m\r\nmn\r\n",
	"version\r\nstats\r\nstats proxy\r\nflush_all 0\r\nverbosity 0 noreply\r\nget a\r\n",
	"quit\r\nget a\r\n",
	// Garbage, empty lines, an unknown command, a bad value frame.
	"\x00\xff\xfejunk\r\n\r\n\r\nbogus command\r\nget a\r\n",
	"set k 0 0 3\r\nabcdef\r\nget k\r\n",
	"set k 0 0 -1\r\nget k\r\n",
	"get a",
	// A line longer than memcached waits for, with and without an end.
	"set " + strings.Repeat("k", 3000) + " 0 0 1\r\nx\r\nget a\r\n",
	"get " + strings.Repeat("k ", 1500) + "\r\n",
	strings.Repeat("x", 5000),
	// A key longer than 250 bytes.
	"get " + strings.Repeat("k", 251) + "\r\nmn\r\n",
}

// binarySessionSeeds are binary client streams.
func binarySessionSeeds() [][]byte {
	get := func(op binproto.Opcode, key string, opaque uint32) []byte {
		return binproto.AppendRequest(nil, op, 0, opaque, 0, nil, []byte(key), nil)
	}
	set := func(op binproto.Opcode, key, value string, opaque uint32) []byte {
		return binproto.AppendRequest(nil, op, 0, opaque, 0, setExtras(0, 0), []byte(key), []byte(value))
	}
	gatExtras := binary.BigEndian.AppendUint32(nil, 10)
	cat := func(pkts ...[]byte) []byte { return bytes.Join(pkts, nil) }

	bogusBody := set(binproto.OpSet, "k", "v", 1)
	binary.BigEndian.PutUint32(bogusBody[8:], 3) // shorter than extras and key
	hugeBody := set(binproto.OpSet, "k", "v", 1)
	binary.BigEndian.PutUint32(hugeBody[8:], 1<<30) // far more than is sent
	return [][]byte{
		// Keys of zero length, alone and in quiet groups.
		get(binproto.OpGet, "", 1),
		cat(get(binproto.OpGetKQ, "", 1), get(binproto.OpGetQ, "", 2), get(binproto.OpNoop, "", 3)),
		binproto.AppendRequest(nil, binproto.OpGat, 0, 1, 0, gatExtras, nil, nil),
		binproto.AppendRequest(nil, binproto.OpTouch, 0, 1, 0, gatExtras, nil, nil),
		// The usual multi-get and quiet stores, and a group left open.
		cat(set(binproto.OpSetQ, "a", "x", 1), set(binproto.OpSetQ, "b", "y", 2), get(binproto.OpNoop, "", 3),
			get(binproto.OpGetKQ, "a", 4), get(binproto.OpGetKQ, "missing", 5), get(binproto.OpGetKQ, "b", 6),
			get(binproto.OpNoop, "", 7)),
		cat(get(binproto.OpGetKQ, "a", 1), get(binproto.OpGetKQ, "b", 2)),
		cat(set(binproto.OpSet, "k", "v", 1), get(binproto.OpGetK, "k", 2), get(binproto.OpVersion, "", 3),
			get(binproto.OpStat, "", 4), get(binproto.OpQuit, "", 5), get(binproto.OpGet, "k", 6)),
		// Broken framing: truncated headers, impossible and huge bodies.
		{binproto.MagicRequest},
		get(binproto.OpGet, "k", 1)[:10],
		cat(get(binproto.OpGet, "k", 1), get(binproto.OpGet, "k", 2)[:23]),
		bogusBody,
		hugeBody,
		// A text command after a binary start, and an unknown opcode.
		cat(get(binproto.OpNoop, "", 1), []byte("get a\r\n")),
		get(0xee, "k", 1),
	}
}

// zeroKeyShapes are text commands with no key, or with too few arguments
// to have one, and memcached 1.6.18's reply to each (measured). The proxy
// must give the same reply and keep the connection usable.
var zeroKeyShapes = []struct{ line, reply string }{
	{"gat 10", "END"},
	{"gats 10", "END"},
	{"gat 10 ", "END"},
	{"gat", "ERROR"},
	{"gats", "ERROR"},
	{"get", "ERROR"},
	{"get ", "ERROR"},
	{"gets", "ERROR"},
	{"touch", "ERROR"},
	{"touch k", "ERROR"},
	{"delete", "ERROR"},
	{"incr", "ERROR"},
	{"incr k", "ERROR"},
	{"decr", "ERROR"},
	{"decr k", "ERROR"},
	{"set", "ERROR"},
	{"set k", "ERROR"},
	{"cas", "ERROR"},
	{"mg", "ERROR"},
	{"ms", "ERROR"},
	{"md", "ERROR"},
	{"ma", "ERROR"},
	{"mn", "MN"},
	{"me", "CLIENT_ERROR bad command line format"},
	{"gat abc", "CLIENT_ERROR invalid exptime argument"},
	{"gats abc", "CLIENT_ERROR invalid exptime argument"},
}

// TestZeroKeyShapesReply checks each zero-key shape's exact reply through
// the proxy, then that an mn on the same connection is still answered,
// and finally all of them pipelined on one connection, where a shape that
// never completes would hold up every reply after it (issue 10).
func TestZeroKeyShapesReply(t *testing.T) {
	backend := startDataNode(t, nil)
	for _, proto := range []string{"ascii", "binary"} {
		t.Run(proto, func(t *testing.T) {
			p := startBoundedProxy(t, backend, proto)
			var all, want strings.Builder
			for _, s := range zeroKeyShapes {
				t.Run(s.line, func(t *testing.T) {
					c := dialShort(t, p.addr)
					c.send(s.line + "\r\nmn\r\n")
					c.expect(s.reply + "\r\nMN\r\n")
				})
				all.WriteString(s.line + "\r\n")
				want.WriteString(s.reply + "\r\n")
			}
			t.Run("pipelined", func(t *testing.T) {
				c := dialShort(t, p.addr)
				c.send(all.String() + "mn\r\n")
				c.expect(want.String() + "MN\r\n")
			})
		})
	}
}

// startBoundedProxy is startProxy with a Shutdown that cannot hang the
// test: a request that never completes (issue 10) made it wait forever.
func startBoundedProxy(t *testing.T, backend, proto string) *rigProxy {
	t.Helper()
	p, err := startRigProxy(backend, proto)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := shutdownWithin(p.srv.Shutdown); err != nil {
			t.Errorf("shutting the proxy down: %v", err)
		}
	})
	return p
}

// dialShort is dial with a deadline short enough that a reply that never
// comes fails the test in seconds.
func dialShort(t *testing.T, addr string) *client {
	t.Helper()
	c := dial(t, addr)
	_ = c.c.SetDeadline(time.Now().Add(sessionLimit))
	return c
}
