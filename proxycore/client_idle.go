package proxycore

import "time"

// armIdle gives the next request client_idle_timeout to arrive whole: a
// deadline set once per request, not per read, so a client trickling a
// byte at a time is closed as surely as a silent one. Shutdown's own
// deadline (now) must win over it, so a done context sets that back.
func (cc *clientConn) armIdle() {
	if cc.idle <= 0 {
		return
	}
	_ = cc.c.SetReadDeadline(time.Now().Add(cc.idle))
	if cc.ctx.Err() != nil {
		_ = cc.c.SetReadDeadline(time.Now())
	}
}
