package main

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/moxifleet/moxi/internal/binproto"
)

// maxSASLBody bounds a SASL request the node reads before a bucket is
// chosen; PLAIN credentials are tiny.
const maxSASLBody = 4096

// authenticate answers the SASL requests a binary connection starts with
// (moxi logs in to the bucket this way on every new connection) and
// returns the bucket the last successful PLAIN login chose, "" if none.
// It stops, consuming nothing more, at the first byte of anything else:
// a text command or a binary data request, for the bucket server to
// serve.
func (n *dataNode) authenticate(c net.Conn, br *bufio.Reader) (string, error) {
	chosen := ""
	for {
		first, err := br.Peek(1)
		if err != nil {
			return "", err
		}
		if first[0] != binproto.MagicRequest {
			return chosen, nil
		}
		raw, err := br.Peek(binproto.HeaderLen)
		if err != nil {
			return "", err
		}
		var h binproto.Header
		h.Decode(raw)
		if !isSASLOp(h.Opcode) {
			return chosen, nil
		}
		reply, bucket, err := n.saslExchange(br, &h)
		if err != nil {
			return "", err
		}
		if bucket != "" {
			chosen = bucket
		}
		if _, err := c.Write(reply); err != nil {
			return "", err
		}
	}
}

func isSASLOp(op binproto.Opcode) bool {
	return op == binproto.OpSASLListMechs || op == binproto.OpSASLAuth || op == binproto.OpSASLStep
}

// saslExchange reads one SASL request and returns the reply and, for a
// successful login, the bucket it selects. Only PLAIN is offered, with the
// bucket name as user and its saslPassword as password.
func (n *dataNode) saslExchange(br *bufio.Reader, h *binproto.Header) ([]byte, string, error) {
	if h.BodyLen > maxSASLBody || uint32(h.ExtLen)+uint32(h.KeyLen) > h.BodyLen {
		return nil, "", fmt.Errorf("malformed sasl request (body %d bytes)", h.BodyLen)
	}
	pkt := make([]byte, binproto.HeaderLen+int(h.BodyLen))
	if _, err := io.ReadFull(br, pkt); err != nil {
		return nil, "", err
	}
	body := pkt[binproto.HeaderLen+int(h.ExtLen):]
	mech, data := body[:h.KeyLen], body[h.KeyLen:]
	if h.Opcode == binproto.OpSASLListMechs {
		return binproto.AppendResponse(nil, h.Opcode, binproto.StatusOK, h.Opaque, 0, nil, nil, []byte("PLAIN")), "", nil
	}
	bucket, err := n.checkPlain(h.Opcode, mech, data)
	if err != nil {
		n.log.Debug("sasl auth refused", "err", err)
		return binproto.AppendError(nil, h.Opcode, binproto.StatusAuthError, h.Opaque, "Auth failure"), "", nil
	}
	return binproto.AppendResponse(nil, h.Opcode, binproto.StatusOK, h.Opaque, 0, nil, nil, []byte("Authenticated")), bucket, nil
}

// checkPlain validates "authzid NUL user NUL password" against the
// buckets and returns the user, which names the bucket.
func (n *dataNode) checkPlain(op binproto.Opcode, mech, data []byte) (string, error) {
	if op != binproto.OpSASLAuth || string(mech) != "PLAIN" {
		return "", fmt.Errorf("mechanism %q not supported", mech)
	}
	parts := bytes.SplitN(data, []byte{0}, 3)
	if len(parts) != 3 {
		return "", errors.New("malformed PLAIN credentials")
	}
	user, pass := string(parts[1]), parts[2]
	want, ok := n.secrets[user]
	if !ok || subtle.ConstantTimeCompare([]byte(want), pass) != 1 {
		return "", fmt.Errorf("bad credentials for bucket %q", user)
	}
	return user, nil
}
