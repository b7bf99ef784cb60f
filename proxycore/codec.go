package proxycore

import (
	"bufio"
	"net"
)

// Protocol is a wire protocol towards the servers (-Z downstream_protocol).
type Protocol string

// The two downstream protocols. The names are the -Z values.
const (
	ProtocolBinary Protocol = "binary"
	ProtocolText   Protocol = "ascii"
)

// codec is how a server connection speaks its protocol: the login a new
// connection makes, what a batch needs before it is written, and how a
// reply is read. Each downstream has one (its text twin the text codec),
// and routing picks the downstream, hence the codec, per operation: the
// protocol is a value here, not a setting compared along the request path.
type codec interface {
	protocol() Protocol
	// login runs on a new connection before it carries any request.
	login(d *dconn, c net.Conn, br *bufio.Reader) error
	// prepare readies a batch for writing (text joins gets).
	prepare(batch []*op)
	// read reads o's reply.
	read(r *bufio.Reader, o *op, scratch *[]byte) error
}

// codecFor returns the codec of p.
func codecFor(p Protocol) codec {
	if p == ProtocolText {
		return textCodec{}
	}
	return binaryCodec{}
}

// binaryCodec speaks memcached's binary protocol, logging in with SASL
// PLAIN (and selecting -Z bucket) where the server wants it.
type binaryCodec struct{}

func (binaryCodec) protocol() Protocol { return ProtocolBinary }

func (binaryCodec) login(d *dconn, c net.Conn, br *bufio.Reader) error {
	return d.authenticate(c, br)
}

func (binaryCodec) prepare([]*op) {}

func (binaryCodec) read(r *bufio.Reader, o *op, scratch *[]byte) error {
	return readBinReply(r, o, scratch)
}

// textCodec speaks the text protocol: no login (text has no SASL), and
// queued single-key gets are joined into one multi-key get line.
type textCodec struct{}

func (textCodec) protocol() Protocol { return ProtocolText }

func (textCodec) login(*dconn, net.Conn, *bufio.Reader) error { return nil }

func (textCodec) prepare(batch []*op) { groupGets(batch) }

func (textCodec) read(r *bufio.Reader, o *op, _ *[]byte) error { return readReply(r, o) }
