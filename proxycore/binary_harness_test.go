package proxycore

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
)

// binClient is a raw binary-protocol connection for tests.
type binClient struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialBin(t *testing.T, addr string) *binClient {
	t.Helper()
	c := dialConn(t, addr)
	return &binClient{t: t, c: c, r: bufio.NewReaderSize(c, 1<<20)}
}

func (c *binClient) send(pkts ...[]byte) {
	c.t.Helper()
	var all []byte
	for _, p := range pkts {
		all = append(all, p...)
	}
	if _, err := c.c.Write(all); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv reads one response; its slices are its own.
func (c *binClient) recv() binproto.Packet {
	c.t.Helper()
	var p binproto.Packet
	if _, _, err := binproto.ReadResponse(c.r, nil, &p); err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	return p
}

// expectClosed asserts the proxy closes the connection without more bytes.
func (c *binClient) expectClosed() {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := c.r.ReadByte()
	if err == nil {
		c.t.Fatalf("got byte 0x%02x, want the connection closed", b)
	}
	if !errors.Is(err, io.EOF) && !isReset(err) {
		c.t.Fatalf("got %v, want the connection closed", err)
	}
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

// pkt builds a request packet.
func binReq(op binproto.Opcode, key, value string, extras []byte, opaque uint32) []byte {
	return binproto.AppendRequest(nil, op, 0, opaque, 0, extras, []byte(key), []byte(value))
}

func setExtras(flags, exp uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, flags), exp)
}

func expectStatus(t *testing.T, p binproto.Packet, op binproto.Opcode, st binproto.Status, opaque uint32) {
	t.Helper()
	if p.Opcode != op || p.Status() != st || p.Opaque != opaque {
		t.Fatalf("got op 0x%02x status 0x%04x opaque %d body %q; want op 0x%02x status 0x%04x opaque %d",
			p.Opcode, uint16(p.Status()), p.Opaque, p.Value, op, uint16(st), opaque)
	}
}
