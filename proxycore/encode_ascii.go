package proxycore

import "github.com/moxifleet/moxi/internal/ascii"

// encodeCommand appends the text-protocol bytes that carry cmd to a server.
// A classic noreply is dropped so that every command gets a reply and the
// connection's replies stay matched to its requests in order; the proxy
// then discards the reply. A quiet meta command keeps its q flag and is
// followed by "mn", whose MN marks where its (possibly empty) reply ends.
func encodeCommand(dst []byte, cmd *ascii.Request) []byte {
	if cmd.NoReply {
		toks := cmd.Tokens[:len(cmd.Tokens)-1]
		for i, t := range toks {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = append(dst, t...)
		}
	} else {
		dst = append(dst, cmd.Line...)
	}
	dst = append(dst, "\r\n"...)
	if cmd.Op.IsStorage() {
		dst = append(append(dst, cmd.Data...), "\r\n"...)
	}
	if cmd.Op.IsMeta() && cmd.Quiet {
		dst = append(dst, "mn\r\n"...)
	}
	return dst
}

// getLineLimit keeps gat/gats lines under memcached's 2048-byte guard,
// which closes the connection on longer lines that do not start with
// "get " or "gets ".
const getLineLimit = 2000

// startGet begins a get line for cmd: "get", "gets", or "gat <exptime>".
func startGet(dst []byte, cmd *ascii.Request) []byte {
	dst = append(dst, cmd.Tokens[0]...)
	if cmd.Op == ascii.OpGat || cmd.Op == ascii.OpGats {
		dst = append(append(dst, ' '), cmd.Tokens[1]...)
	}
	return dst
}
