package e2e

// A binary client's quiet commands answered in request order. memcached
// answers a connection's requests in order; through moxi a batch of quiet
// commands is split among the servers, and the replies (GETKQ hits, the
// errors of SETQ/ADDQ/REPLACEQ/INCRQ...) must still come back in the
// order of the requests, whatever server answered first, so that a
// client matching replies by order, or reusing one opaque, cannot tell
// moxi from one memcached.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
)

// quietBatch is one write of packets ending with a NOOP, whose reply
// marks the end of the batch's replies.
type quietBatch struct {
	name string
	pkts [][]byte
}

// quietBatches builds the batches; opaque picks each packet's opaque
// from its index (distinct, or one for all).
func quietBatches(opaque func(i int) uint32) []quietBatch {
	var b []quietBatch
	add := func(name string, build func(p func(op binproto.Opcode, key, value string, extras []byte))) {
		var pkts [][]byte
		build(func(op binproto.Opcode, key, value string, extras []byte) {
			pkts = append(pkts, binReq(op, key, value, extras, opaque(len(pkts))))
		})
		pkts = append(pkts, binReq(binproto.OpNoop, "", "", nil, opaque(len(pkts))))
		b = append(b, quietBatch{name, pkts})
	}
	add("setup", func(p func(binproto.Opcode, string, string, []byte)) {
		for i := range 24 {
			v := fmt.Sprintf("value-%d", i)
			if i == 7 {
				v = strings.Repeat("L", 200_000) // a large value among small ones
			}
			p(binproto.OpSet, fmt.Sprintf("qo%d", i), v, storeExtras(uint32(i), 0))
		}
		p(binproto.OpSet, "qo-num", "5", storeExtras(0, 0))
	})
	add("getkq hits and misses", func(p func(binproto.Opcode, string, string, []byte)) {
		for i := range 24 {
			p(binproto.OpGetKQ, fmt.Sprintf("qo%d", i), "", nil)
			p(binproto.OpGetKQ, fmt.Sprintf("qo-miss%d", i), "", nil)
		}
	})
	add("getq and gatkq", func(p func(binproto.Opcode, string, string, []byte)) {
		for i := 23; i >= 0; i-- {
			p(binproto.OpGetQ, fmt.Sprintf("qo%d", i), "", nil)
			p(binproto.OpGatKQ, fmt.Sprintf("qo%d", (i+5)%24), "", binary.BigEndian.AppendUint32(nil, 0))
		}
	})
	add("quiet store and counter errors", func(p func(binproto.Opcode, string, string, []byte)) {
		for i := range 24 {
			key := fmt.Sprintf("qo%d", i)
			p(binproto.OpAddQ, key, "x", storeExtras(0, 0))               // exists
			p(binproto.OpReplaceQ, "qo-miss"+key, "x", storeExtras(0, 0)) // not found
			p(binproto.OpIncrementQ, key, "", incrExtras(1))              // non-numeric
			p(binproto.OpSetQ, "qo-new"+key, "n", storeExtras(0, 0))      // silent
			p(binproto.OpAppendQ, "qo-miss"+key, "y", nil)                // not stored
			p(binproto.OpDeleteQ, "qo-miss"+key, "", nil)                 // not found
			p(binproto.OpIncrementQ, "qo-num", "", incrExtras(1))         // silent
		}
	})
	return b
}

// incrExtras are INCREMENT's extras: delta, initial 0, and an expiration
// that makes a missing key a miss rather than created.
func incrExtras(delta uint64) []byte {
	b := binary.BigEndian.AppendUint64(nil, delta)
	b = binary.BigEndian.AppendUint64(b, 0)
	return binary.BigEndian.AppendUint32(b, 0xffffffff)
}

// playQuiet sends each batch and reads replies up to the NOOP's, returning
// them with CAS cleared (it differs between servers).
func playQuiet(t *testing.T, addr string, batches []quietBatch) []string {
	t.Helper()
	bc := dialBinary(t, addr)
	var out []string
	for _, b := range batches {
		bc.send(b.pkts...)
		var got bytes.Buffer
		for {
			_ = bc.c.SetReadDeadline(time.Now().Add(ioTimeout))
			var p binproto.Packet
			buf, start, err := binproto.ReadResponse(bc.r, nil, &p)
			if err != nil {
				t.Fatalf("%s: %s: %v after %d bytes", addr, b.name, err, got.Len())
			}
			clear(buf[start+16 : start+binproto.HeaderLen])
			got.Write(buf[start:])
			if p.Opcode == binproto.OpNoop {
				break
			}
		}
		out = append(out, got.String())
	}
	return out
}

// describePackets lists a reply's packets (opcode, status, opaque, key)
// for a failure message.
func describePackets(raw string) string {
	var parts []string
	buf := []byte(raw)
	for len(buf) >= binproto.HeaderLen {
		var h binproto.Header
		h.Decode(buf)
		n := binproto.HeaderLen + int(h.BodyLen)
		if n > len(buf) {
			break
		}
		key := buf[binproto.HeaderLen+int(h.ExtLen) : binproto.HeaderLen+int(h.ExtLen)+int(h.KeyLen)]
		parts = append(parts, fmt.Sprintf("%02x/%x/%d/%s", byte(h.Opcode), uint16(h.Status()), h.Opaque, key))
		buf = buf[n:]
	}
	return strings.Join(parts, " ")
}

func TestBinaryQuietOrder(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name   string
		opaque func(int) uint32
	}{
		{"distinct opaques", func(i int) uint32 { return uint32(1000 + i) }},
		{"one opaque", func(int) uint32 { return 7 }},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			batches := quietBatches(mode.opaque)
			want := playQuiet(t, startMemcached(t).Addr, batches)
			for _, n := range []int{1, 4} {
				proxy := startBinaryProxy(t, addrs(startMemcacheds(t, n)), "")
				got := playQuiet(t, proxy.Addr, batches)
				for i, b := range batches {
					if got[i] != want[i] {
						t.Errorf("%d servers, %s: replies differ from memcached's:\n got %s\nwant %s",
							n, b.name, describePackets(got[i]), describePackets(want[i]))
					}
				}
			}
		})
	}
}
