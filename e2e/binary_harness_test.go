package e2e

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
)

// startBinaryProxy starts moxi proxying to servers with a binary
// downstream (the default, spelled out so that the test does not depend on
// it) plus the given -Z behaviors and extra flags.
func startBinaryProxy(t testing.TB, servers []string, behaviors string, extra ...string) *proc {
	t.Helper()
	return startProxyEnv(t, servers, "binary", behaviors, nil, extra...)
}

// startProxyEnv starts moxi proxying to servers with the given downstream
// protocol, -Z behaviors, environment additions and extra flags.
func startProxyEnv(t testing.TB, servers []string, protocol, behaviors string, env []string, extra ...string) *proc {
	t.Helper()
	z := "downstream_protocol=" + protocol
	if behaviors != "" {
		z += "," + behaviors
	}
	bin := requireMoxi(t)
	return launchEnv(t, "moxi", bin, env, func(port int) []string {
		args := []string{"-l", "127.0.0.1", "-z", fmt.Sprintf("%d=%s", port, strings.Join(servers, ",")), "-Z", z}
		return append(args, extra...)
	})
}

// binConn is a raw binary-protocol connection with helpers that fail the
// test.
type binConn struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func dialBinary(t testing.TB, addr string) *binConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &binConn{t: t, c: c, r: bufio.NewReaderSize(c, 64<<10)}
}

// send writes the packets in one write.
func (bc *binConn) send(pkts ...[]byte) {
	bc.t.Helper()
	var all []byte
	for _, p := range pkts {
		all = append(all, p...)
	}
	_ = bc.c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := bc.c.Write(all); err != nil {
		bc.t.Fatalf("write %d bytes: %v", len(all), err)
	}
}

// recv reads one response; its slices are its own.
func (bc *binConn) recv() binproto.Packet {
	bc.t.Helper()
	_ = bc.c.SetReadDeadline(time.Now().Add(ioTimeout))
	var p binproto.Packet
	if _, _, err := binproto.ReadResponse(bc.r, nil, &p); err != nil {
		bc.t.Fatalf("read response: %v", err)
	}
	return p
}

// expect reads one response and requires its opcode, status and opaque.
func (bc *binConn) expect(op binproto.Opcode, st binproto.Status, opaque uint32) binproto.Packet {
	bc.t.Helper()
	p := bc.recv()
	if p.Opcode != op || p.Status() != st || p.Opaque != opaque {
		bc.t.Fatalf("got opcode 0x%02x status 0x%04x opaque %d body %q; want opcode 0x%02x status 0x%04x opaque %d",
			byte(p.Opcode), uint16(p.Status()), p.Opaque, p.Value, byte(op), uint16(st), opaque)
	}
	return p
}

// expectClosed requires the peer to close without sending another byte.
func (bc *binConn) expectClosed() {
	bc.t.Helper()
	_ = bc.c.SetReadDeadline(time.Now().Add(ioTimeout))
	b, err := bc.r.ReadByte()
	if err == nil {
		bc.t.Fatalf("got byte 0x%02x, want the connection closed", b)
	}
	if !errors.Is(err, io.EOF) && !isConnReset(err) {
		bc.t.Fatalf("got %v, want the connection closed", err)
	}
}

// binReq builds a request packet.
func binReq(op binproto.Opcode, key, value string, extras []byte, opaque uint32) []byte {
	return binproto.AppendRequest(nil, op, 0, opaque, 0, extras, []byte(key), []byte(value))
}

// storeExtras are the flags and expiration of SET, ADD and REPLACE.
func storeExtras(flags, exp uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, flags), exp)
}
