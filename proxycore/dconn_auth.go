package proxycore

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/moxifleet/moxi/internal/binproto"
)

// errAuthRefused is a SASL or bucket-select reply with a non-zero status.
var errAuthRefused = errors.New("refused")

// authenticate (the binary codec's login) logs a new connection in with SASL PLAIN when the
// server has a user (the bucket's from its REST config, else -Z usr/pwd), then selects -Z bucket when set, as moxi
// did once per new connection and never on reuse. It runs before the
// connection carries any request, so it may block on the reply.
func (d *dconn) authenticate(c net.Conn, br *bufio.Reader) error {
	beh, usr, pwd := d.srv.beh, d.srv.usr, d.srv.pwd
	if usr == "" && beh.Bucket == "" {
		return nil
	}
	if beh.AuthTimeout > 0 {
		_ = c.SetDeadline(time.Now().Add(beh.AuthTimeout))
		defer func() { _ = c.SetDeadline(time.Time{}) }()
	}
	if usr != "" {
		cred := append(append(append([]byte{0}, usr...), 0), pwd...)
		pkt := binproto.AppendRequest(nil, binproto.OpSASLAuth, 0, 0, 0, nil, []byte("PLAIN"), cred)
		if err := d.exchange(c, br, pkt); err != nil {
			d.noteAuthFailure(err, totDownstreamAuthFailed)
			return fmt.Errorf("sasl auth as %q: %w", usr, err)
		}
		d.srv.stats.inc(totDownstreamAuth)
	}
	if beh.Bucket != "" {
		pkt := binproto.AppendRequest(nil, binproto.OpBucket, 0, 0, 0, nil, []byte(beh.Bucket), nil)
		if err := d.exchange(c, br, pkt); err != nil {
			d.noteAuthFailure(err, totDownstreamBucketFailed)
			return fmt.Errorf("select bucket %q: %w", beh.Bucket, err)
		}
		d.srv.stats.inc(totDownstreamBucket)
	}
	return nil
}

// exchange writes one request and reads its response, which must succeed.
func (d *dconn) exchange(c net.Conn, br *bufio.Reader, pkt []byte) error {
	if _, err := c.Write(pkt); err != nil {
		return err
	}
	var p binproto.Packet
	if _, _, err := binproto.ReadResponse(br, nil, &p); err != nil {
		return err
	}
	if st := p.Status(); st != binproto.StatusOK {
		return fmt.Errorf("status 0x%04x %q: %w", uint16(st), p.Value, errAuthRefused)
	}
	return nil
}

func (d *dconn) noteAuthFailure(err error, k counter) {
	if isTimeout(err) {
		d.srv.stats.inc(totAuthTimeout)
	}
	d.srv.stats.inc(k)
}
