package proxycore

import (
	"net"
	"time"
)

// The read deadline of a server connection enforces downstream_timeout:
// a server with replies outstanding that makes no progress for that long
// is timed out. Moving the deadline on every reply would cost a timer
// update per op; instead the deadline is armed when a batch goes out to an
// idle connection, and only when it fires does the reader decide: nothing
// outstanding (an idle connection) clears it, recent progress moves it to
// one timeout past that progress, and no progress is a real timeout.

// armDeadline sets the read deadline one downstream_timeout past now and
// notes now as the start of the wait. Called with dl held.
func (d *dconn) armDeadline(now time.Time) {
	t := d.srv.beh.DownstreamTimeout
	if t <= 0 {
		return
	}
	d.armedAt = int64(now.Sub(d.epoch))
	_ = d.conn.SetReadDeadline(now.Add(t))
}

// answered notes one reply read.
func (d *dconn) answered() { d.outstanding.Add(-1) }

// deadlineFired is called when a read timed out. It reports whether the
// reader should keep waiting, having cleared or moved the deadline.
func (d *dconn) deadlineFired() bool {
	d.dl.Lock()
	defer d.dl.Unlock()
	if d.outstanding.Load() == 0 {
		_ = d.conn.SetReadDeadline(time.Time{})
		return true
	}
	last := max(d.lastRead.Load(), d.armedAt)
	until := d.epoch.Add(time.Duration(last) + d.srv.beh.DownstreamTimeout)
	if !time.Now().Before(until) {
		return false
	}
	_ = d.conn.SetReadDeadline(until)
	return true
}

// progressReader is the reader's view of a server connection: it records
// when bytes arrive, and retries a timed-out read that deadlineFired says
// is not a real timeout. Without watch (during authentication, or with no
// downstream_timeout) it is a plain read, so the auth deadline applies as
// set.
type progressReader struct {
	d     *dconn
	c     net.Conn
	watch bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	for {
		n, err := p.c.Read(b)
		if n > 0 && p.watch {
			p.d.lastRead.Store(int64(time.Since(p.d.epoch)))
		}
		if n > 0 || err == nil || !p.watch || !isTimeout(err) || !p.d.deadlineFired() {
			return n, err
		}
	}
}
