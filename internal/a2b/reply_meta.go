package a2b

import (
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// Meta replies. memcached writes return flags in the order the request
// listed them; which flags a reply echoes depends on the command and the
// outcome (memcached 1.6.18, checked against the server):
//
//	mg hit   VA <len>|HD  s c f O k     mg miss   EN  O k
//	ms       HD|NS|EX|NF  O k c (c0 on failure)
//	md       HD|NF|EX     O k
//	ma hit   VA <len>|HD  c O k         ma fail   NF|EX  O k
//
// q hides mg's EN and every command's HD (and ma's VA); over binary that
// is the quiet opcode answering nothing before the NOOP, so Reply never
// sees those outcomes here.

// mgReply answers mg from a GETK/GATK response.
func mgReply(dst []byte, cmd *ascii.Request, p *binproto.Packet) []byte {
	switch st := p.Status(); st {
	case binproto.StatusOK:
		value := metaHas(cmd, 'v')
		if value {
			dst = strconv.AppendInt(append(dst, "VA "...), int64(len(p.Value)), 10)
		} else {
			dst = append(dst, "HD"...)
		}
		dst = metaReturnFlags(dst, cmd, p, "scfOk")
		if value {
			dst = append(append(dst, p.Value...), '\r', '\n')
		}
		return dst
	case binproto.StatusKeyNotFound:
		return metaReturnFlags(append(dst, "EN"...), cmd, p, "Ok")
	default:
		return append(dst, a2bStatusText(st)...)
	}
}

// msReply answers ms. As with classic storage, binary ADD says KEY_EEXISTS
// and REPLACE says KEY_ENOENT where text ms says NS; ENOENT is NF only for
// a compare (C) in set or replace mode.
func msReply(dst []byte, cmd *ascii.Request, p *binproto.Packet) []byte {
	code := ""
	mode, _ := metaArg(cmd, 'M')
	switch p.Status() {
	case binproto.StatusOK:
		code = "HD"
	case binproto.StatusNotStored:
		code = "NS"
	case binproto.StatusKeyExists:
		code = "EX"
		if len(mode) == 1 && mode[0] == 'E' {
			code = "NS"
		}
	case binproto.StatusKeyNotFound:
		code = "NS"
		if _, compare := metaArg(cmd, 'C'); compare && (len(mode) == 0 || mode[0] == 'S' || mode[0] == 'R') {
			code = "NF"
		}
	default:
		return append(dst, storeErrorText(p.Status())...)
	}
	return metaReturnFlags(append(dst, code...), cmd, p, "Okc")
}

// mdReply answers md.
func mdReply(dst []byte, cmd *ascii.Request, p *binproto.Packet) []byte {
	code := ""
	switch st := p.Status(); st {
	case binproto.StatusOK:
		code = "HD"
	case binproto.StatusKeyNotFound:
		code = "NF"
	case binproto.StatusKeyExists:
		code = "EX"
	default:
		return append(dst, a2bStatusText(st)...)
	}
	return metaReturnFlags(append(dst, code...), cmd, p, "Ok")
}

// maReply answers ma: the new value (v) in decimal, like memcached.
func maReply(dst []byte, cmd *ascii.Request, p *binproto.Packet) []byte {
	switch st := p.Status(); st {
	case binproto.StatusOK:
		if len(p.Value) != 8 {
			return append(dst, errA2BBadResponse...)
		}
		var num [20]byte
		n := strconv.AppendUint(num[:0], binary.BigEndian.Uint64(p.Value), 10)
		value := metaHas(cmd, 'v')
		if !value {
			return metaReturnFlags(append(dst, "HD"...), cmd, p, "cOk")
		}
		dst = strconv.AppendInt(append(dst, "VA "...), int64(len(n)), 10)
		dst = metaReturnFlags(dst, cmd, p, "cOk")
		return append(append(dst, n...), '\r', '\n')
	case binproto.StatusKeyNotFound:
		return metaReturnFlags(append(dst, "NF"...), cmd, p, "Ok")
	case binproto.StatusKeyExists:
		return metaReturnFlags(append(dst, "EX"...), cmd, p, "Ok")
	default:
		return append(dst, arithErrorText(st)...)
	}
}

// metaReturnFlags appends, in request order, the return flags of cmd that
// are listed in which, then ends the line. s, c and f come from the
// response: value length, header CAS (0 in a failure, as memcached's c0)
// and the flags extras of a get.
func metaReturnFlags(dst []byte, cmd *ascii.Request, p *binproto.Packet, which string) []byte {
	for _, f := range cmd.MetaFlags {
		if strings.IndexByte(which, f[0]) < 0 {
			continue
		}
		switch f[0] {
		case 'O':
			dst = append(append(dst, ' '), f...)
		case 'k':
			dst = appendMetaKey(dst, cmd)
		case 'c':
			dst = strconv.AppendUint(append(dst, " c"...), p.CAS, 10)
		case 's':
			dst = strconv.AppendInt(append(dst, " s"...), int64(len(p.Value)), 10)
		case 'f':
			dst = strconv.AppendUint(append(dst, " f"...), uint64(getFlags(p)), 10)
		}
	}
	return append(dst, '\r', '\n')
}

// appendMetaKey appends " k<key>"; a b request gets its key back base64
// encoded and followed by " b", as memcached does.
func appendMetaKey(dst []byte, cmd *ascii.Request) []byte {
	dst = append(dst, " k"...)
	if !cmd.Base64 {
		return append(dst, cmd.Key...)
	}
	return append(base64.StdEncoding.AppendEncode(dst, cmd.Key), " b"...)
}

// getFlags is the client flags of a get response (4 bytes of extras).
func getFlags(p *binproto.Packet) uint32 {
	if len(p.Extras) < 4 {
		return 0
	}
	return binary.BigEndian.Uint32(p.Extras)
}

// metaHas reports whether cmd carries meta flag c.
func metaHas(cmd *ascii.Request, c byte) bool {
	_, ok := metaArg(cmd, c)
	return ok
}

// metaArg returns the argument of meta flag c, and whether it is present.
func metaArg(cmd *ascii.Request, c byte) ([]byte, bool) {
	for _, f := range cmd.MetaFlags {
		if f[0] == c {
			return f[1:], true
		}
	}
	return nil, false
}
