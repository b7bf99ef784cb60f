package binproto

import "encoding/binary"

// Magic bytes.
const (
	MagicRequest  = 0x80
	MagicResponse = 0x81
)

// HeaderLen is the size of every packet header.
const HeaderLen = 24

// MaxKeyLen is memcached's KEY_MAX_LENGTH.
const MaxKeyLen = 250

// Header is a packet header. VBucket is the vbucket id of a request and
// Status the status of a response: the same two bytes.
type Header struct {
	Magic    uint8
	Opcode   Opcode
	KeyLen   uint16
	ExtLen   uint8
	DataType uint8
	VBucket  uint16 // requests: vbucket id; responses: use Status()
	BodyLen  uint32
	Opaque   uint32
	CAS      uint64
}

// Status returns the status field of a response header.
func (h *Header) Status() Status { return Status(h.VBucket) }

// Decode fills h from the first HeaderLen bytes of b.
func (h *Header) Decode(b []byte) {
	_ = b[HeaderLen-1]
	h.Magic = b[0]
	h.Opcode = Opcode(b[1])
	h.KeyLen = binary.BigEndian.Uint16(b[2:])
	h.ExtLen = b[4]
	h.DataType = b[5]
	h.VBucket = binary.BigEndian.Uint16(b[6:])
	h.BodyLen = binary.BigEndian.Uint32(b[8:])
	h.Opaque = binary.BigEndian.Uint32(b[12:])
	h.CAS = binary.BigEndian.Uint64(b[16:])
}

// AppendTo appends the encoded header to dst.
func (h *Header) AppendTo(dst []byte) []byte {
	dst = append(dst, h.Magic, byte(h.Opcode))
	dst = binary.BigEndian.AppendUint16(dst, h.KeyLen)
	dst = append(dst, h.ExtLen, h.DataType)
	dst = binary.BigEndian.AppendUint16(dst, h.VBucket)
	dst = binary.BigEndian.AppendUint32(dst, h.BodyLen)
	dst = binary.BigEndian.AppendUint32(dst, h.Opaque)
	return binary.BigEndian.AppendUint64(dst, h.CAS)
}

// Packet is a header and its body, split. The slices point into a buffer
// the caller owns (see Reader.Next).
type Packet struct {
	Header
	Extras, Key, Value []byte
}

// split cuts body into extras, key and value by the header's lengths,
// which the caller has checked fit.
func (p *Packet) split(body []byte) {
	e, k := int(p.ExtLen), int(p.KeyLen)
	p.Extras, p.Key, p.Value = body[:e:e], body[e:e+k:e+k], body[e+k:]
}

// AppendRequest appends a request packet. The body lengths are computed;
// the key must fit 16 bits of length and the extras 8.
func AppendRequest(dst []byte, op Opcode, vbucket uint16, opaque uint32, cas uint64, extras, key, value []byte) []byte {
	h := Header{Magic: MagicRequest, Opcode: op, KeyLen: uint16(len(key)), ExtLen: uint8(len(extras)),
		VBucket: vbucket, BodyLen: uint32(len(extras) + len(key) + len(value)), Opaque: opaque, CAS: cas}
	dst = h.AppendTo(dst)
	return append(append(append(dst, extras...), key...), value...)
}

// AppendResponse appends a response packet. The body lengths are computed,
// as for AppendRequest.
func AppendResponse(dst []byte, op Opcode, status Status, opaque uint32, cas uint64, extras, key, value []byte) []byte {
	h := Header{Magic: MagicResponse, Opcode: op, KeyLen: uint16(len(key)), ExtLen: uint8(len(extras)),
		VBucket: uint16(status), BodyLen: uint32(len(extras) + len(key) + len(value)), Opaque: opaque, CAS: cas}
	dst = h.AppendTo(dst)
	return append(append(append(dst, extras...), key...), value...)
}

// AppendError appends an error response with msg as its value, the way
// memcached's write_bin_error makes one: the request's opcode and opaque,
// no key, no extras, data type and CAS zero.
func AppendError(dst []byte, op Opcode, status Status, opaque uint32, msg string) []byte {
	h := Header{Magic: MagicResponse, Opcode: op, VBucket: uint16(status),
		BodyLen: uint32(len(msg)), Opaque: opaque}
	return append(h.AppendTo(dst), msg...)
}

// SetVBucket patches the vbucket field of an encoded request, for
// forwarding a client's packet to the server that owns its key.
func SetVBucket(pkt []byte, vb uint16) { binary.BigEndian.PutUint16(pkt[6:], vb) }

// SetOpaque patches the opaque field of an encoded packet, for matching
// replies to requests when several clients share a server connection.
func SetOpaque(pkt []byte, opaque uint32) { binary.BigEndian.PutUint32(pkt[12:], opaque) }
