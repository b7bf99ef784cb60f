package proxycore

import (
	"bufio"
	"net"
	"slices"
	"testing"

	"github.com/moxifleet/moxi/internal/binproto"
)

// reversingServer answers each GETKQ... NOOP group with a hit for every
// key, last key first, as a chained proxy may (it answers a group server
// by server, not in request order), then the NOOP.
func reversingServer(c net.Conn) {
	rd := binproto.NewReader(bufio.NewReader(c), 1<<20)
	w := bufio.NewWriter(c)
	var hits [][]byte
	for {
		var p binproto.Packet
		if _, err := rd.Next(&p, nil); err != nil {
			return
		}
		if p.Opcode != binproto.OpNoop {
			hit := binproto.AppendResponse(nil, binproto.OpGetKQ, binproto.StatusOK, p.Opaque, 1,
				[]byte{0, 0, 0, 0}, p.Key, append([]byte("v-"), p.Key...))
			hits = append(hits, hit)
			continue
		}
		slices.Reverse(hits)
		for _, h := range hits {
			_, _ = w.Write(h)
		}
		hits = hits[:0]
		_, _ = w.Write(binproto.AppendResponse(nil, binproto.OpNoop, binproto.StatusOK, p.Opaque, 0, nil, nil, nil))
		if w.Flush() != nil {
			return
		}
	}
}

// TestMultiGetHitsOutOfOrder: a server that is itself a proxy may answer
// a multi-get's hits in another order than asked; every key must still
// get its value, in the client's order.
func TestMultiGetHitsOutOfOrder(t *testing.T) {
	addr := fakeServer(t, reversingServer)
	p := startProxy(t, []string{addr}, func(b *Behavior) { b.DownstreamProtocol = "binary" })
	c := dial(t, p.addr)
	c.send("get a b c\r\n")
	c.expect("VALUE a 0 3\r\nv-a\r\nVALUE b 0 3\r\nv-b\r\nVALUE c 0 3\r\nv-c\r\nEND\r\n")
}
