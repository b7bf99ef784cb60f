package proxycore

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moxifleet/moxi/internal/ascii"
	"github.com/moxifleet/moxi/internal/binproto"
)

// slot is one distinct key of a get: where its VALUE block landed.
type slot struct {
	key        []byte
	op         *op // the op whose reply holds the block; nil for a miss
	start, end int32
	// big holds a block of bigBlock bytes or more on its own, instead of
	// at start:end in op.reply (see keepBig).
	big []byte
	// cached is the block the front cache answered with; op is nil then.
	cached []byte
}

// request is one client command on its way through the proxy. Requests and
// their ops are pooled and reused, buffers included.
type request struct {
	cmd     ascii.Request
	conn    *clientConn
	b       *bucket  // the bucket the request was routed in
	rt      *routing // the routing it was sent with
	started time.Time

	// Binary clients: the request's header and body, and its raw bytes
	// (several packets for a group of quiet commands), forwarded as-is.
	binary bool
	bin    binproto.Packet
	raw    []byte
	quiet  int // packets in a group of quiet commands; 0 for one request
	// packets numbers a quiet group's packets, so that their responses
	// go out in request order and NOT_MY_VBUCKET refusals can be told
	// apart and retried (see vbucket_b2b.go).
	packets []groupPacket
	byIndex [][]byte // writeGroup's responses by packet index, reused
	errPkts []byte   // writeGroup's error responses for failed servers, reused
	// cachedPkts holds the front cache's responses to a group's gets.
	cachedPkts []byte

	form replyForm // what writeReply sends: set at dispatch, formOwn once the proxy builds the reply

	viaText    bool   // a text command with no binary form, for a text connection (text_route.go)
	detached   bool   // the proxy's own, out of the client's reply queue: recycled when it completes
	cacheEpoch uint64 // the front cache's epoch when this get was dispatched
	counted    bool   // in its client's inflight count until complete

	reply  []byte // a reply built by the proxy itself
	silent bool   // noreply: nothing goes to the client
	// refused: the proxy answered an error without a server's answer
	// (moxi_commands_total's error); fromCache: the front cache answered.
	refused, fromCache bool
	close              bool // close the client connection after this reply
	done               chan struct{}

	ops      []*op
	left     atomic.Int32 // ops not finished yet
	slots    []slot
	keySlots []int32        // for each client key, its slot
	table    []int32        // dedupe's hash table of slot indexes, reused
	byServer []*op          // forwardGet's per-server table, reused
	targets  []*downstream  // forwardGet's op targets, reused
	claimed  []*dconn       // connections whose write side this request owns
	finish   func(*request) // builds the reply once every op is done
	heldSem  bool           // holds a downstream_max token
	// replyKeys is how many keys the reply may carry values for, and
	// charged the bytes it holds against the client's budget: its
	// estimate while in flight, its reply's size once complete.
	replyKeys int32
	charged   int64
	mu        sync.Mutex // guards ops while NOT_MY_VBUCKET refetches add some
}

// pools recycles requests and ops with their buffers; each Server has its
// own, so nothing is shared between servers in one process (or tests).
type pools struct {
	requests sync.Pool
	ops      sync.Pool
	blocks   blockPool
}

func newPools() *pools {
	p := &pools{}
	p.requests.New = func() any { return &request{done: make(chan struct{}, 1)} }
	p.ops.New = func() any { return new(op) }
	return p
}

func getRequest(c *clientConn) *request {
	r := c.srv.pools.requests.Get().(*request)
	r.conn, r.b = c, c.b
	return r
}

func putRequest(r *request) {
	p := r.conn.srv.pools
	for _, o := range r.ops {
		o.reset()
		p.ops.Put(o)
	}
	clear(r.ops)
	r.ops = r.ops[:0]
	r.reply = r.reply[:0]
	r.silent, r.close, r.heldSem = false, false, false
	r.viaText, r.counted, r.detached = false, false, false
	r.refused, r.fromCache = false, false
	r.replyKeys, r.charged = 0, 0
	r.binary, r.form, r.quiet, r.b, r.rt = false, formLine, 0, nil, nil
	r.packets = r.packets[:0]
	clear(r.byIndex)
	r.byIndex, r.errPkts, r.cachedPkts = r.byIndex[:0], r.errPkts[:0], r.cachedPkts[:0]
	if cap(r.cachedPkts) > maxKeptBuffer {
		r.cachedPkts = nil
	}
	if cap(r.raw) > maxKeptBuffer {
		r.raw = nil
	}
	r.raw = r.raw[:0]
	for i := range r.slots {
		if b := r.slots[i].big; b != nil {
			p.blocks.put(b)
		}
	}
	clear(r.slots) // drop keys and blocks with the request
	r.slots, r.keySlots = r.slots[:0], r.keySlots[:0]
	clear(r.targets)
	r.targets = r.targets[:0]
	clear(r.claimed)
	r.claimed = r.claimed[:0]
	clear(r.byServer)
	r.finish = nil
	r.conn = nil
	p.requests.Put(r)
}

// newOp returns an op of r for the given reply kind, counted in r.left.
func (r *request) newOp(kind replyKind, retries int) *op {
	o := r.conn.srv.pools.ops.Get().(*op)
	o.parent, o.kind, o.retries = r, kind, retries
	r.ops = append(r.ops, o)
	return o
}

// complete marks a request whose reply is ready, settling its bytes with
// the client's reply budget first.
func (r *request) complete() {
	r.forgetChanged()
	if r.counted {
		r.conn.finished()
	}
	if r.detached { // the proxy's own request, which no reply waits for
		r.conn.retire(r)
		return
	}
	r.conn.settle(r)
	r.done <- struct{}{}
}

// opDone is called once per op, from whichever goroutine finished it.
func (r *request) opDone(o *op) {
	if o.server != nil {
		o.server.ss.noteOp(o)
	}
	if r.retryNotMyVBucket(o) {
		return
	}
	r.refetchNotMyVBucket(o)
	r.retryGroupNotMyVBucket(o)
	r.countDown()
}

// countDown drops one count of r.left: an op's, or forward's dispatch
// guard. The last one builds the reply (finish functions read r.ops, so a
// request that sent nothing keeps the reply it has), returns the
// downstream_max token and wakes the client's writer.
func (r *request) countDown() {
	if r.left.Add(-1) != 0 {
		return
	}
	if r.finish != nil && len(r.ops) > 0 {
		r.finish(r)
	}
	if r.heldSem {
		r.heldSem = false
		r.b.release()
	}
	r.complete()
}

// matchSlot finds the slot of o that asked for key, and records that its
// block starts at start. It looks from cursor on first, since memcached
// answers hits in request order, then wraps around: a server that is
// itself a proxy (a chained moxi answers a GETKQ group server by server)
// may answer in another order. It returns the slot's position in o.slots,
// or -1 when nothing matches (a server answering a key it was not asked
// for).
func (r *request) matchSlot(o *op, cursor int, key []byte, start int) int {
	cursor = max(cursor, 0)
	for n := 0; n < len(o.slots); n++ {
		i := (cursor + n) % len(o.slots)
		s := &r.slots[o.slots[i]]
		if string(s.key) == string(key) {
			s.start = int32(start)
			return i
		}
	}
	return -1
}

// endSlot records where the block matched at cursor ends.
func (r *request) endSlot(o *op, cursor int, end int) {
	if cursor >= 0 && cursor < len(o.slots) {
		s := &r.slots[o.slots[cursor]]
		s.op, s.end, s.big = o, int32(end), nil
	}
}

// keepBig records block, a VALUE block in a buffer of its own, as the
// answer for the slot of o that asks for key, searching from cursor; it
// returns the cursor past the match.
func (r *request) keepBig(o *op, cursor int, key, block []byte) int {
	cursor = r.matchSlot(o, cursor, key, 0)
	if cursor >= 0 && cursor < len(o.slots) {
		s := &r.slots[o.slots[cursor]]
		s.op, s.start, s.end, s.big = o, 0, 0, block
	}
	return cursor
}

// valueBlock returns the VALUE block s answers with.
func (s *slot) valueBlock() []byte {
	if s.cached != nil {
		return s.cached
	}
	if s.big != nil {
		return s.big
	}
	return s.op.reply[s.start:s.end]
}

// send queues o on srv, remembering the connection if r must write it.
func (r *request) send(srv *downstream, o *op) {
	if d := srv.queue(o); d != nil {
		r.claimed = append(r.claimed, d)
	}
}

// flush writes the connections r claimed. It first lets the other
// goroutines the poller woke along with this one (clients whose requests
// arrived together) queue theirs, so one write carries them all: the
// batching an event loop gets for free. It runs inside dispatch, before
// r is handed to the client's writer, so r cannot be recycled meanwhile.
func (r *request) flush() {
	if len(r.claimed) == 0 {
		return
	}
	runtime.Gosched()
	for _, d := range r.claimed {
		d.writeQueued()
	}
	clear(r.claimed)
	r.claimed = r.claimed[:0]
}
