package memserver

import (
	"bufio"
	"context"
	"errors"
	"net"
	"time"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

const connBufSize = 16 << 10

// serveConn serves one client until it quits, the connection fails or the
// server shuts down, in the protocol its first byte announces.
func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	// Shutdown wakes a blocked read; a request in progress still completes.
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })
	defer stop()
	s.currConns.Add(1)
	s.totalConns.Add(1)
	defer s.currConns.Add(-1)

	ci := s.conns.add(&connInfo{addr: tcpName(c.RemoteAddr()), listen: tcpName(c.LocalAddr())}, s.cfg.Clock().Unix())
	defer s.conns.remove(ci)

	tc := &trafficConn{Conn: c, s: s} // a new variable: the AfterFunc above reads c
	br := bufio.NewReaderSize(tc, connBufSize)
	if s.speaksBinary(br) {
		s.serveBinary(tc, br, ci)
		return
	}
	s.serveASCII(tc, br, ci)
}

// speaksBinary applies Config.Protocol. In auto mode it waits for the
// first byte, as memcached does: 0x80 is the binary request magic, which
// no text command starts with.
func (s *Server) speaksBinary(br *bufio.Reader) bool {
	switch s.cfg.Protocol {
	case "binary":
		return true
	case "ascii":
		return false
	}
	first, err := br.Peek(1)
	return err == nil && first[0] == binproto.MagicRequest
}

// serveASCII reads, executes and answers text and meta commands. Replies
// are buffered and flushed only when no further request is already
// buffered, so a pipelined batch is answered with one write.
func (s *Server) serveASCII(c net.Conn, br *bufio.Reader, ci *connInfo) {
	bw := bufio.NewWriterSize(c, connBufSize)
	rd := ascii.NewReader(br, s.cfg.MaxItemSize)
	var req ascii.Request
	for {
		if !s.step(rd, &req, bw, ci) {
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
func (s *Server) step(rd *ascii.Reader, req *ascii.Request, bw *bufio.Writer, ci *connInfo) bool {
	err := rd.Next(req)
	if err == nil {
		ci.lastCmd.Store(s.cfg.Clock().Unix())
		ci.busy.Store(true)
		defer ci.busy.Store(false)
		return !s.execute(bw, req)
	}
	var pe *ascii.Error
	if !errors.As(err, &pe) {
		return false // EOF, reset, or the shutdown deadline
	}
	if pe.Reply != "" { // empty: the command had noreply, or a silent close
		writeLine(bw, pe.Reply)
	}
	if pe.DropKey {
		s.store.drop(req.Key) // memcached unlinks the old value too
	}
	return !pe.Close
}

// trafficConn counts the bytes a client sends and receives, for stats'
// bytes_read and bytes_written: one atomic add per read or write call.
type trafficConn struct {
	net.Conn
	s *Server
}

func (c *trafficConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.s.bytesRead.Add(uint64(n))
	return n, err
}

func (c *trafficConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.s.bytesWritten.Add(uint64(n))
	return n, err
}
