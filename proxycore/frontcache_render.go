package proxycore

import (
	"bytes"
	"encoding/binary"
	"strconv"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// The front cache's replies, byte for byte what memcached sends for the
// same item, and the parsers that read items out of servers' replies.

// block renders v as the VALUE block memcached sends.
func (v cachedValue) block(key []byte, withCas bool) []byte {
	b := make([]byte, 0, len(key)+len(v.data)+48)
	b = append(append(append(b, "VALUE "...), key...), ' ')
	b = append(append(b, v.flags...), ' ')
	b = strconv.AppendInt(b, int64(len(v.data)), 10)
	if withCas {
		b = append(append(b, ' '), v.cas...)
	}
	b = append(append(append(b, "\r\n"...), v.data...), "\r\n"...)
	return b
}

// metaAnswerable reports an mg whose every flag the cache can answer as
// the server would: v, f, c, k, s, O and q. Others (t, h, l: the item's
// server-side state; T, N, E, I: changes; b: key encoding) go to the
// server.
func metaAnswerable(cmd *ascii.Request) bool {
	for _, tok := range cmd.MetaFlags {
		switch tok[0] {
		case 'v', 'f', 'c', 'k', 's', 'O', 'q':
		default:
			return false
		}
	}
	return true
}

// metaLearnable reports an mg whose reply carries what an entry needs:
// the value and the client flags.
func metaLearnable(cmd *ascii.Request) bool {
	return cmd.Meta.Has('v') && cmd.Meta.Has('f') && metaAnswerable(cmd)
}

// appendMeta renders v as memcached answers mg: "VA <len>" with v, "HD"
// without, then each flag's return in the order the client gave them.
func (v cachedValue) appendMeta(dst []byte, cmd *ascii.Request) []byte {
	withValue := cmd.Meta.Has('v')
	if withValue {
		dst = strconv.AppendInt(append(dst, "VA "...), int64(len(v.data)), 10)
	} else {
		dst = append(dst, "HD"...)
	}
	for _, tok := range cmd.MetaFlags {
		switch tok[0] {
		case 'f':
			dst = append(append(dst, " f"...), v.flags...)
		case 'c':
			dst = append(append(dst, " c"...), v.cas...)
		case 'k':
			dst = append(append(dst, " k"...), cmd.Key...)
		case 's':
			dst = strconv.AppendInt(append(dst, " s"...), int64(len(v.data)), 10)
		case 'O':
			dst = append(append(dst, ' '), tok...)
		}
	}
	dst = append(dst, "\r\n"...)
	if withValue {
		dst = append(append(dst, v.data...), "\r\n"...)
	}
	return dst
}

// appendBinary renders v as memcached answers a binary get: flags as
// extras, the cas, the key for GETK and GETKQ.
func (v cachedValue) appendBinary(dst []byte, op binproto.Opcode, opaque uint32, key []byte) []byte {
	flags, _ := ascii.ParseUint64(v.flags)
	cas, _ := ascii.ParseUint64(v.cas)
	var extras [4]byte
	binary.BigEndian.PutUint32(extras[:], uint32(flags))
	if !op.ReturnsKey() {
		key = nil
	}
	return binproto.AppendResponse(dst, op, binproto.StatusOK, opaque, cas, extras[:], key, v.data)
}

// parseValueBlock splits "VALUE key flags bytes [cas]\r\ndata\r\n",
// copying what it keeps.
func parseValueBlock(b []byte) (cachedValue, bool) {
	nl := bytes.IndexByte(b, '\n')
	if nl < 1 || !bytes.HasSuffix(b, []byte("\r\n")) {
		return cachedValue{}, false
	}
	f := bytes.Fields(b[:nl-1])
	if len(f) < 4 || string(f[0]) != "VALUE" {
		return cachedValue{}, false
	}
	n, ok := ascii.ParseUint64(f[3])
	data := b[nl+1 : len(b)-2]
	if !ok || uint64(len(data)) != n {
		return cachedValue{}, false
	}
	v := cachedValue{flags: bytes.Clone(f[2]), data: bytes.Clone(data)}
	if len(f) > 4 {
		v.cas = bytes.Clone(f[4])
	}
	return v, true
}

// parseMetaValue reads the item of an mg hit with v and f:
// "VA <len> ... f<flags> ... [c<cas>]\r\n<data>\r\n", copying it.
func parseMetaValue(b []byte) (cachedValue, bool) {
	nl := bytes.IndexByte(b, '\n')
	if nl < 1 || !bytes.HasPrefix(b, []byte("VA ")) || !bytes.HasSuffix(b, []byte("\r\n")) {
		return cachedValue{}, false
	}
	f := bytes.Fields(b[:nl-1])
	n, ok := ascii.ParseUint64(f[1])
	data := b[nl+1 : len(b)-2]
	if !ok || uint64(len(data)) != n {
		return cachedValue{}, false
	}
	var v cachedValue
	for _, tok := range f[2:] {
		switch tok[0] {
		case 'f':
			v.flags = bytes.Clone(tok[1:])
		case 'c':
			v.cas = bytes.Clone(tok[1:])
		}
	}
	if v.flags == nil {
		return cachedValue{}, false
	}
	v.data = bytes.Clone(data)
	return v, true
}

// parseBinaryValue reads the item of a binary get's hit, copying it.
func parseBinaryValue(raw []byte) (cachedValue, bool) {
	if len(raw) < binproto.HeaderLen {
		return cachedValue{}, false
	}
	var h binproto.Header
	h.Decode(raw)
	body := raw[binproto.HeaderLen:]
	if h.Magic != binproto.MagicResponse || h.Status() != binproto.StatusOK || h.ExtLen != 4 ||
		int(h.BodyLen) != len(body) || int(h.ExtLen)+int(h.KeyLen) > len(body) {
		return cachedValue{}, false
	}
	return cachedValue{
		flags: strconv.AppendUint(nil, uint64(binary.BigEndian.Uint32(body)), 10),
		cas:   strconv.AppendUint(nil, h.CAS, 10),
		data:  bytes.Clone(body[int(h.ExtLen)+int(h.KeyLen):]),
	}, true
}
