package main

import (
	"bufio"
	"encoding/binary"
)

// The memcached binary protocol, as much of it as loadgen speaks: a 1-key
// get is GETK, a multi-get is one GETKQ per key closed by a NOOP (quiet
// gets answer hits only, so the NOOP's reply marks the end), a set is SET
// with flags and exptime extras. It is encoded here by hand rather than
// with internal/binproto so that the benchmark checks moxi against an
// independent reading of the protocol, not against moxi's own codec, and
// loadgen stays stdlib-only.
//
// Every item request carries its key id as opaque and the NOOP the id of
// the first key of its request: a proxy must hand each client its own
// opaques back, and the replies are checked for them.

const (
	binMagicReq = 0x80
	binMagicRes = 0x81
	binHdrLen   = 24

	opSet   = 0x01
	opNoop  = 0x0a
	opGetK  = 0x0c
	opGetKQ = 0x0d

	statusOK          = 0x0000
	statusKeyNotFound = 0x0001
)

// appendBinHeader appends a request header whose key and body lengths are
// patched by endBinPacket once the body is written.
func appendBinHeader(b []byte, op, extLen byte, opaque uint32) []byte {
	b = append(b, binMagicReq, op, 0, 0, extLen, 0, 0, 0, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, opaque)
	return binary.BigEndian.AppendUint64(b, 0) // cas
}

// endBinPacket fills in the lengths of the packet starting at b[start:],
// whose key is b[keyOff:keyEnd] and which ends at len(b).
func endBinPacket(b []byte, start, keyOff, keyEnd int) {
	binary.BigEndian.PutUint16(b[start+2:], uint16(keyEnd-keyOff))
	binary.BigEndian.PutUint32(b[start+8:], uint32(len(b)-start-binHdrLen))
}

// appendBinKeyOnly appends a GETK or GETKQ of key id.
func (k *keyspace) appendBinKeyOnly(b []byte, op byte, id uint32) []byte {
	start := len(b)
	b = appendBinHeader(b, op, 0, id)
	b = k.appendKey(b, id)
	endBinPacket(b, start, start+binHdrLen, len(b))
	return b
}

// appendBinGet appends a get of ids: GETK for one key when quiet is false,
// otherwise GETKQ per key and a NOOP.
func (k *keyspace) appendBinGet(b []byte, ids []uint32, quiet bool) []byte {
	if !quiet {
		return k.appendBinKeyOnly(b, opGetK, ids[0])
	}
	for _, id := range ids {
		b = k.appendBinKeyOnly(b, opGetKQ, id)
	}
	return appendBinHeader(b, opNoop, 0, ids[0]) // empty body: lengths stay 0
}

// appendBinSet appends a SET of key id at version ver, flags 0, no expiry.
func (k *keyspace) appendBinSet(b []byte, id, ver uint32) []byte {
	start := len(b)
	b = appendBinHeader(b, opSet, 8, id)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // flags, exptime
	keyOff := len(b)
	b = k.appendKey(b, id)
	keyEnd := len(b)
	b = k.appendValue(b, id, ver)
	endBinPacket(b, start, keyOff, keyEnd)
	return b
}

// binResponse is a response header with its body, which aliases the
// reader's buffer until discard.
type binResponse struct {
	op                 byte
	status             uint16
	opaque             uint32
	extras, key, value []byte
}

// readBinResponse reads the next response's header and peeks at its
// body, returning the body's length, which the caller discards from r once
// done with it. The body must fit the reader's buffer, as an ascii value
// must (ioBufSize); a larger one cannot be a value we set, and since it is
// not read the stream is lost.
func readBinResponse(r *bufio.Reader) (binResponse, int, error) {
	hdr, err := r.Peek(binHdrLen)
	if err != nil {
		return binResponse{}, 0, fatalf("read binary reply: %v", err)
	}
	res := binResponse{
		op:     hdr[1],
		status: binary.BigEndian.Uint16(hdr[6:]),
		opaque: binary.BigEndian.Uint32(hdr[12:]),
	}
	keyLen, extLen := int(binary.BigEndian.Uint16(hdr[2:])), int(hdr[4])
	bodyLen := binary.BigEndian.Uint32(hdr[8:])
	switch {
	case hdr[0] != binMagicRes:
		return res, 0, fatalf("binary reply: magic 0x%02x", hdr[0])
	case uint64(keyLen+extLen) > uint64(bodyLen):
		return res, 0, fatalf("binary reply: key and extras longer than the body")
	case uint64(bodyLen) > uint64(r.Size()):
		return res, 0, fatalf("binary reply: body of %d bytes", bodyLen)
	}
	_, _ = r.Discard(binHdrLen) // cannot fail after a successful Peek
	body, err := r.Peek(int(bodyLen))
	if err != nil {
		return res, 0, fatalf("read binary reply body of %d bytes: %v", bodyLen, err)
	}
	res.extras, res.key, res.value = body[:extLen], body[extLen:extLen+keyLen], body[extLen+keyLen:]
	return res, len(body), nil
}

// binStatusError describes an error reply, whose value is the server's
// message (cut short: it is for a human).
func binStatusError(what string, res *binResponse) error {
	msg := res.value[:min(len(res.value), 80)]
	return softf("%s: status 0x%04x %q", what, res.status, msg)
}

// readBinStored reads the reply to a SET of key id.
func readBinStored(r *bufio.Reader, id uint32) error {
	res, n, err := readBinResponse(r)
	if err != nil {
		return err
	}
	defer r.Discard(n)
	switch {
	case res.op != opSet:
		return fatalf("set: unexpected binary reply opcode 0x%02x", res.op)
	case res.status != statusOK:
		return binStatusError("set", &res)
	case res.opaque != id:
		return softf("set: opaque %d, sent %d", res.opaque, id)
	}
	return nil
}

// readBinGet reads the reply to appendBinGet(want, quiet), with the same
// checks and results as readGet. Not quiet: one GETK reply, a hit or a
// miss. Quiet: GETKQ replies for the hits, in any order, then the NOOP's.
func readBinGet(r *bufio.Reader, ks *keyspace, want, expect []uint32, got []bool, quiet bool) (int, error) {
	clear(got)
	hits, hint := 0, 0
	var soft error
	wantOp := byte(opGetK)
	if quiet {
		wantOp = opGetKQ
	}
	for {
		res, n, err := readBinResponse(r)
		if err != nil {
			return hits, err
		}
		done := !quiet
		switch {
		case quiet && res.op == opNoop:
			done = true
			if res.status != statusOK || res.opaque != want[0] {
				soft = firstErr(soft, softf("get: noop reply status 0x%04x opaque %d, sent %d", res.status, res.opaque, want[0]))
			}
		case res.op != wantOp:
			_, _ = r.Discard(n)
			return hits, fatalf("get: unexpected binary reply opcode 0x%02x", res.op)
		case res.status == statusKeyNotFound && !quiet:
			if res.opaque != want[0] {
				soft = firstErr(soft, softf("get: miss reply opaque %d, sent %d", res.opaque, want[0]))
			}
		case res.status != statusOK: // quiet gets do not answer misses at all
			soft = firstErr(soft, binStatusError("get", &res))
		default:
			i, err := binHit(ks, &res, want, expect, got, hint)
			if i >= 0 {
				hits++
				hint = i + 1
			}
			soft = firstErr(soft, err)
		}
		_, _ = r.Discard(n) // cannot fail after a successful Peek
		if done {
			return hits, soft
		}
	}
}

// binHit checks a hit: a requested key not seen yet, its opaque, flags 0
// and a value of that key at the expected version. It returns the key's
// index in want, or -1 when it does not count as found.
func binHit(ks *keyspace, res *binResponse, want, expect []uint32, got []bool, hint int) (int, error) {
	id, ok := ks.keyID(res.key)
	i := -1
	if ok {
		i = indexOf(want, id, hint)
	}
	if i < 0 || got[i] {
		return -1, softf("get: unrequested or repeated key %q", res.key)
	}
	got[i] = true
	switch {
	case res.opaque != id:
		return i, softf("get: key id %d came with opaque %d", id, res.opaque)
	case len(res.extras) != 4 || binary.BigEndian.Uint32(res.extras) != 0:
		return i, softf("get: key id %d: extras %x, want flags 0", id, res.extras)
	}
	return i, checkGot(ks, res.value, id, expect[i])
}
