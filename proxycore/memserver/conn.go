package memserver

import (
	"bufio"
	"context"
	"errors"
	"net"
	"time"

	"github.com/moxifleet/moxi/proxycore/ascii"
)

const connBufSize = 16 << 10

// serveConn reads, executes and answers commands until the client quits,
// the connection fails or the server shuts down. Replies are buffered and
// flushed only when no further request is already buffered, so a pipelined
// batch is answered with one write.
func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	// Shutdown wakes a blocked read; a request in progress still completes.
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })
	defer stop()
	s.currConns.Add(1)
	s.totalConns.Add(1)
	defer s.currConns.Add(-1)

	br := bufio.NewReaderSize(c, connBufSize)
	bw := bufio.NewWriterSize(c, connBufSize)
	rd := ascii.NewReader(br, s.cfg.MaxItemSize)
	var req ascii.Request
	for {
		if !s.step(rd, &req, bw) {
			_ = bw.Flush()
			return
		}
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}

// step handles one request and reports whether to keep the connection.
func (s *Server) step(rd *ascii.Reader, req *ascii.Request, bw *bufio.Writer) bool {
	err := rd.Next(req)
	if err == nil {
		return !s.execute(bw, req)
	}
	var pe *ascii.Error
	if !errors.As(err, &pe) {
		return false // EOF, reset, or the shutdown deadline
	}
	if pe.Reply != "" { // empty: the command had noreply, or a silent close
		writeLine(bw, pe.Reply)
	}
	return !pe.Close
}
