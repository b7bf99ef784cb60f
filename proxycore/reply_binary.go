package proxycore

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// readBinReply reads the binary reply to o. Raw packets are kept in
// o.reply, except for replyBinValues, whose hits are turned into VALUE
// blocks (scratch holds each raw packet meanwhile).
func readBinReply(r *bufio.Reader, o *op, scratch *[]byte) error {
	var p binproto.Packet
	var err error
	switch o.kind {
	case replyBinOne:
		o.reply, _, err = binproto.ReadResponse(r, o.reply, &p)
		return err
	case replyBinFenced:
		for {
			if o.reply, _, err = binproto.ReadResponse(r, o.reply, &p); err != nil {
				return err
			}
			if p.Opcode == binproto.OpNoop {
				return nil
			}
		}
	case replyBinStats:
		for {
			if o.reply, _, err = binproto.ReadResponse(r, o.reply, &p); err != nil {
				return err
			}
			if p.Status() != binproto.StatusOK || (p.KeyLen == 0 && p.BodyLen == 0) {
				return nil
			}
		}
	case replyBinValues:
		return readBinValues(r, o, scratch)
	}
	return fmt.Errorf("read reply kind %d: %w", o.kind, errBadReply)
}

// readBinValues reads GETK/GATK responses (up to the NOOP when fenced)
// and appends each hit to o.reply as the VALUE block memcached's text
// protocol would send, recording where it sits for the request's slots.
// scratch holds a response too large for r's buffer.
func readBinValues(r *bufio.Reader, o *op, scratch *[]byte) error {
	cursor := 0
	withCas := o.parent.cmd.Op == ascii.OpGets || o.parent.cmd.Op == ascii.OpGats
	for {
		var p binproto.Packet
		// Most responses are read in place from r's buffer; only one too
		// big for it is copied into scratch first.
		n, inPlace, err := binproto.PeekResponse(r, &p)
		if err == nil && !inPlace {
			*scratch, _, err = binproto.ReadResponse(r, (*scratch)[:0], &p)
		}
		if err != nil {
			return err
		}
		if inPlace {
			// The bytes stay valid until r's next read, after this turn.
			_, _ = r.Discard(n)
		}
		if p.Opcode == binproto.OpNoop {
			return nil
		}
		if p.Status() == binproto.StatusNotMyVBucket {
			o.nmvb = append(o.nmvb, int32(p.Opaque))
		}
		if p.Status() == binproto.StatusOK && len(p.Extras) >= 4 {
			cursor = keepBinValue(o, &p, cursor, withCas)
		}
		if !o.fenced {
			return nil
		}
	}
}

// keepBinValue turns the hit p into a VALUE block for the slot of o that
// asked for its key, in o.reply or, when big, in a buffer of its own.
func keepBinValue(o *op, p *binproto.Packet, cursor int, withCas bool) int {
	flags := binary.BigEndian.Uint32(p.Extras)
	if len(p.Value) >= bigBlock {
		// 64 bytes bound the VALUE line around the key and the CRLFs.
		block := o.parent.conn.srv.pools.blocks.get(len(p.Value) + len(p.Key) + 64)
		block = appendValueBlock(block, p.Key, flags, p.Value, p.CAS, withCas)
		return o.parent.keepBig(o, cursor, p.Key, block)
	}
	start := len(o.reply)
	o.reply = appendValueBlock(o.reply, p.Key, flags, p.Value, p.CAS, withCas)
	cursor = o.parent.matchSlot(o, cursor, p.Key, start)
	o.parent.endSlot(o, cursor, len(o.reply))
	return cursor
}

// appendValueBlock appends "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n".
func appendValueBlock(dst, key []byte, flags uint32, value []byte, cas uint64, withCas bool) []byte {
	dst = append(append(dst, "VALUE "...), key...)
	dst = strconv.AppendUint(append(dst, ' '), uint64(flags), 10)
	dst = strconv.AppendUint(append(dst, ' '), uint64(len(value)), 10)
	if withCas {
		dst = strconv.AppendUint(append(dst, ' '), cas, 10)
	}
	dst = append(dst, "\r\n"...)
	return append(append(dst, value...), "\r\n"...)
}

// eachPacket calls fn for every complete packet in buf, in order.
func eachPacket(buf []byte, fn func(p *binproto.Packet, raw []byte)) {
	for len(buf) >= binproto.HeaderLen {
		var h binproto.Header
		h.Decode(buf)
		n := binproto.HeaderLen + int(h.BodyLen)
		if n > len(buf) || int(h.KeyLen)+int(h.ExtLen) > int(h.BodyLen) {
			return
		}
		e, k := binproto.HeaderLen+int(h.ExtLen), binproto.HeaderLen+int(h.ExtLen)+int(h.KeyLen)
		p := binproto.Packet{Header: h, Extras: buf[binproto.HeaderLen:e], Key: buf[e:k], Value: buf[k:n]}
		fn(&p, buf[:n])
		buf = buf[n:]
	}
}
