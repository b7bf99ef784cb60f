package proxycore

import "time"

// replyKind tells a downstream reader how to find the end of a reply.
type replyKind uint8

const (
	// replyLine is a single line: storage, delete, incr/decr, touch,
	// flush_all, verbosity, stats reset.
	replyLine replyKind = iota
	// replyValues is VALUE blocks then END: get, gets, gat, gats.
	replyValues
	// replyStats is STAT lines then END.
	replyStats
	// replyMeta is one meta reply: a line, plus a data block after "VA n".
	replyMeta
	// replyMetaQuiet is the replies of a quiet meta command followed by the
	// "mn" the proxy appended, up to and including "MN".
	replyMetaQuiet
	// replyBinOne is one binary response packet.
	replyBinOne
	// replyBinFenced is binary responses up to and including the response
	// to the NOOP the proxy sent after quiet commands.
	replyBinFenced
	// replyBinStats is STAT response packets up to the empty terminator,
	// or one error response.
	replyBinStats
	// replyBinValues is GETK/GATK hits turned into VALUE blocks as they
	// are read: one response, or up to the NOOP when fenced.
	replyBinValues
)

// opStatus is how a downstream exchange ended.
type opStatus uint8

const (
	opOK            opStatus = iota
	opConnectFailed          // no connection could be had: refused, blacklisted
	opTimeout                // downstream_timeout expired
	opClosed                 // the connection closed before the reply was complete
)

// op is one exchange with one server: the bytes of one request and the
// reply read back. A client request owns one op per server it touches.
type op struct {
	parent  *request
	server  *downstream // the server it is sent to; a retry names its target here first
	out     []byte      // request bytes to write
	kind    replyKind   // how to read the reply
	reply   []byte      // raw reply bytes
	status  opStatus
	retries int       // retries left when the connection closes first
	fenced  bool      // replyBinValues: several GETKQs, read up to the NOOP fence
	vb      uint16    // vBucket maps: the vbucket the request names
	vbLeft  int       // NOT_MY_VBUCKET retries left
	nmvb    []int32   // multi-get: positions in slots refused NOT_MY_VBUCKET
	slots   []int32   // multi-get: the request's key slots asked of this server
	sentAt  time.Time // when the request was flushed to the server
	// merge marks a plain one-key text get ("get k"), which may share one
	// "get" line with its neighbours on a connection (dconn_getline.go).
	merge bool
	// group is set by a text connection's writer: on the first op of a
	// shared get line, how many ops the line carries (1: a line of its
	// own); 0 on the line's other ops.
	group int
}

// maxKeptBuffer is the largest buffer a pooled op keeps; a rare huge value
// should not pin a megabyte in every pooled op.
const maxKeptBuffer = 64 << 10

func (o *op) reset() {
	o.parent, o.server = nil, nil
	o.out, o.reply, o.slots, o.nmvb = o.out[:0], o.reply[:0], o.slots[:0], o.nmvb[:0]
	if cap(o.reply) > maxKeptBuffer {
		o.reply = nil
	}
	if cap(o.out) > maxKeptBuffer {
		o.out = nil
	}
	o.status, o.retries, o.fenced, o.vb, o.vbLeft = opOK, 0, false, 0, 0
	o.merge, o.group = false, 0
}
