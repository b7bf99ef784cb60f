package proxycore

import (
	"bytes"

	"github.com/moxifleet/moxi/internal/binproto"
)

// SASL PLAIN limits of the original moxi: longer credentials fail.
const (
	maxSASLUser     = 128
	maxSASLPassword = 256
)

// saslAuth handles SASL_AUTH: PLAIN credentials that match a bucket's
// user and password exactly move the connection to that bucket. Anything
// else fails and leaves the connection where it was.
func (cc *clientConn) saslAuth(r *request) {
	usr, pwd, ok := parsePlain(r.bin.Key, r.bin.Value)
	if ok {
		var b *bucket
		if b, ok = cc.srv.authBucket(usr, pwd); ok {
			cc.b = b
			r.localReply(binproto.StatusOK, []byte("Authenticated"))
			return
		}
	}
	r.localReply(binproto.StatusAuthError, []byte("Auth failure"))
}

// parsePlain splits PLAIN auth data, "[authzid] NUL user NUL password".
func parsePlain(mech, data []byte) (usr, pwd string, ok bool) {
	if string(mech) != "PLAIN" {
		return "", "", false
	}
	parts := bytes.Split(data, []byte{0})
	if len(parts) != 3 || len(parts[1]) >= maxSASLUser || len(parts[2]) >= maxSASLPassword {
		return "", "", false
	}
	return string(parts[1]), string(parts[2]), true
}
