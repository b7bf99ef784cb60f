package main

import (
	"bufio"
	"crypto/tls"
	"math/rand/v2"
	"net"
	"time"
)

// A worker is one simulated client: one goroutine owning one connection to
// each server (one server when talking to a proxy). It runs in batches:
// generate -pipeline requests, write them all (split per server by key),
// flush every server, then read the replies. With several servers this is
// the fastest client-side fan-out a single-threaded client can do: all
// servers work on their sub-requests at the same time.
//
// All buffers are reused across batches, so the steady state does not
// allocate.
type worker struct {
	cfg   *config
	index int // this worker owns (alone sets) the keys with id%conns == index
	rng   *rand.Rand
	srv   []*serverConn
	reqs  []request
	ids   []uint32 // keys of all requests of the batch
	vers  []uint32 // per key in ids: version to set, or expected from a get
	own   []uint32 // current version of owned key index+i*conns, or anyVersion
	got   []bool   // readGet scratch
	hist  histogram
	st    stats
	hits  uint64 // keys found in the current batch, counted when it completes
	owned uint64 // gets of owned keys of known version in the current batch
}

type request struct {
	set    bool
	off, n int           // keys are ids[off:off+n]
	done   time.Duration // since batch start, when its last reply part was read
}

type serverConn struct {
	conn  net.Conn
	r     *bufio.Reader
	w     *bufio.Writer
	parts []part
	ids   []uint32 // keys of this server's parts
	vers  []uint32 // their versions, as in worker.vers
	cur   int      // request whose part is being built, -1 for none
}

// part is the share of one request sent to one server.
type part struct {
	req    int
	off, n int // keys are serverConn.ids[off:off+n], versions .vers[off:off+n]
}

type stats struct {
	ops, gets, sets, keys, hits uint64
	owned                       uint64 // keys read whose exact version was known
	errors                      uint64
	firstErr                    string
}

func (s *stats) add(o *stats) {
	s.ops += o.ops
	s.gets += o.gets
	s.sets += o.sets
	s.keys += o.keys
	s.hits += o.hits
	s.owned += o.owned
	s.errors += o.errors
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
}

func (s *stats) fail(err error) {
	s.errors++
	if s.firstErr == "" {
		s.firstErr = err.Error()
	}
}

// ioBufSize must hold a whole value for bufio.Reader.Peek, plus slack for
// the write side so a batch rarely grows past one buffer.
func ioBufSize(valueSize int) int { return max(64<<10, 2*valueSize+4096) }

func newWorker(cfg *config, id int) (*worker, error) {
	w := &worker{
		cfg:   cfg,
		index: id,
		rng:   rand.New(rand.NewPCG(cfg.seed, uint64(id))),
		got:   make([]bool, cfg.multiget),
		own:   make([]uint32, ownedKeys(cfg.keys, cfg.conns, id)),
	}
	for i := range w.own {
		w.own[i] = anyVersion // until we set it (the prefill may be another process's)
	}
	for _, addr := range cfg.servers {
		c, err := net.DialTimeout("tcp", addr, cfg.timeout)
		if err != nil {
			w.close()
			return nil, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true) // Go's default, stated: batches are flushed explicitly
		}
		if cfg.tls != nil {
			host, _, _ := net.SplitHostPort(addr)
			tcfg := cfg.tls.Clone()
			tcfg.ServerName = host
			c = tls.Client(c, tcfg)
		}
		n := ioBufSize(cfg.ks.size)
		w.srv = append(w.srv, &serverConn{conn: c, r: bufio.NewReaderSize(c, n), w: bufio.NewWriterSize(c, n)})
	}
	return w, nil
}

func (w *worker) close() {
	for _, s := range w.srv {
		_ = s.conn.Close()
	}
}

// setDeadline bounds every read and write of the phase: a hung server or
// proxy then fails the run instead of hanging it.
func (w *worker) setDeadline(t time.Time) {
	for _, s := range w.srv {
		_ = s.conn.SetDeadline(t)
	}
}

// ownedKeys is how many ids below keys are congruent to index mod conns.
func ownedKeys(keys uint32, conns, index int) int {
	if uint32(index) >= keys {
		return 0
	}
	return int((keys-uint32(index)-1)/uint32(conns)) + 1
}

// expected is the version a get of id must return, or anyVersion: it is
// known only for keys this worker owns and has prefilled or set.
func (w *worker) expected(id uint32) uint32 {
	if int(id%uint32(w.cfg.conns)) != w.index {
		return anyVersion
	}
	return w.own[id/uint32(w.cfg.conns)]
}

// bump returns the next version of owned key id and records it as current.
// A key of unknown version starts at a random one, so that a stale value
// left by an earlier process cannot pass for ours.
func (w *worker) bump(id uint32) uint32 {
	v := &w.own[id/uint32(w.cfg.conns)]
	if *v == anyVersion || *v+1 == anyVersion {
		*v = 1 + w.rng.Uint32N(1<<30)
	} else {
		*v++
	}
	return *v
}

// genBatch fills w.reqs with n random requests. Expected versions are
// computed in request order, which is the order in which each server must
// execute them.
func (w *worker) genBatch(n int) {
	w.reqs, w.ids, w.vers = w.reqs[:0], w.ids[:0], w.vers[:0]
	w.owned = 0
	keys := w.cfg.keys
	for range n {
		r := request{off: len(w.ids)}
		if w.rng.Float64() < w.cfg.getRatio || len(w.own) == 0 {
			// Distinct keys start, start+stride, ...: stride is coprime
			// with the keyspace so they cannot repeat (a proxy may
			// legitimately dedupe repeated keys, a server does not).
			start := w.rng.Uint32N(keys)
			r.n = w.cfg.multiget
			for i := range r.n {
				id := uint32((uint64(start) + uint64(i)*uint64(w.cfg.stride)) % uint64(keys))
				v := w.expected(id)
				if v != anyVersion {
					w.owned++
				}
				w.ids = append(w.ids, id)
				w.vers = append(w.vers, v)
			}
		} else {
			id := uint32(w.index) + uint32(w.cfg.conns)*w.rng.Uint32N(uint32(len(w.own)))
			r.set, r.n = true, 1
			w.ids = append(w.ids, id)
			w.vers = append(w.vers, w.bump(id))
		}
		w.reqs = append(w.reqs, r)
	}
}

// prefillBatch fills w.reqs with version-0 sets of this worker's keys from
// id first on, at most n of them, and returns the next id.
func (w *worker) prefillBatch(first uint32, n int) uint32 {
	w.reqs, w.ids, w.vers = w.reqs[:0], w.ids[:0], w.vers[:0]
	id := first
	for ; len(w.reqs) < n && id < w.cfg.keys; id += uint32(w.cfg.conns) {
		w.reqs = append(w.reqs, request{set: true, off: len(w.ids), n: 1})
		w.ids = append(w.ids, id)
		w.vers = append(w.vers, 0)
		w.own[id/uint32(w.cfg.conns)] = 0
	}
	return id
}

// route splits request i into per-server parts and encodes them.
func (w *worker) route(i int) {
	r := &w.reqs[i]
	for k := r.off; k < r.off+r.n; k++ {
		id := w.ids[k]
		s := w.srv[w.cfg.route[id]]
		if s.cur != i {
			s.cur = i
			s.parts = append(s.parts, part{req: i, off: len(s.ids)})
		}
		s.ids = append(s.ids, id)
		s.vers = append(s.vers, w.vers[k])
		s.parts[len(s.parts)-1].n++
	}
	for _, s := range w.srv {
		if s.cur != i {
			continue
		}
		p := s.parts[len(s.parts)-1]
		b := s.w.AvailableBuffer()
		ks := w.cfg.ks
		switch {
		case r.set && w.cfg.binary:
			b = ks.appendBinSet(b, s.ids[p.off], s.vers[p.off])
		case r.set:
			b = ks.appendSet(b, s.ids[p.off], s.vers[p.off])
		case w.cfg.binary:
			b = ks.appendBinGet(b, s.ids[p.off:p.off+p.n], w.quietGets())
		default:
			b = ks.appendGet(b, s.ids[p.off:p.off+p.n])
		}
		_, _ = s.w.Write(b) // a write error resurfaces from Flush
	}
}

// quietGets says whether binary gets are multi-gets (GETKQ per key and a
// NOOP) or single GETKs. It depends on -multiget, not on how many keys of
// a request land on one server, as a client library's choice would.
func (w *worker) quietGets() bool { return w.cfg.multiget > 1 }

// exec sends the batch in w.reqs and reads all replies, setting each
// request's done time. Reply problems that leave the stream usable are
// counted in w.st; anything else is returned and ends the worker.
func (w *worker) exec() error {
	w.hits = 0
	for _, s := range w.srv {
		s.parts, s.ids, s.vers, s.cur = s.parts[:0], s.ids[:0], s.vers[:0], -1
	}
	for i := range w.reqs {
		w.route(i)
	}
	start := time.Now()
	for _, s := range w.srv {
		if err := s.w.Flush(); err != nil {
			return err
		}
	}
	for _, s := range w.srv {
		for _, p := range s.parts {
			if err := w.readPart(s, p); err != nil {
				return err
			}
			w.reqs[p.req].done = time.Since(start)
		}
	}
	return nil
}

func (w *worker) readPart(s *serverConn, p part) error {
	var err error
	if w.reqs[p.req].set {
		if w.cfg.binary {
			err = readBinStored(s.r, s.ids[p.off])
		} else {
			err = readStored(s.r)
		}
		if err != nil { // the server's version is unknown now
			w.own[s.ids[p.off]/uint32(w.cfg.conns)] = anyVersion
		}
	} else {
		var hits int
		ids, vers := s.ids[p.off:p.off+p.n], s.vers[p.off:p.off+p.n]
		if w.cfg.binary {
			hits, err = readBinGet(s.r, w.cfg.ks, ids, vers, w.got[:p.n], w.quietGets())
		} else {
			hits, err = readGet(s.r, w.cfg.ks, ids, vers, w.got[:p.n])
		}
		w.hits += uint64(hits)
	}
	if err != nil && isFatal(err) {
		return err
	}
	if err != nil {
		w.st.fail(err)
	}
	return nil
}

// account records the finished batch. A batch cut short by a broken
// connection is not counted at all, so misses stay keys minus hits.
func (w *worker) account() {
	w.st.hits += w.hits
	w.st.owned += w.owned
	for _, r := range w.reqs {
		w.hist.record(uint64(r.done / time.Microsecond))
		w.st.ops++
		if r.set {
			w.st.sets++
		} else {
			w.st.gets++
			w.st.keys += uint64(r.n)
		}
	}
}

// run issues batches until end or until it has sent quota requests.
func (w *worker) run(end time.Time, quota uint64) {
	for time.Now().Before(end) && w.st.ops < quota {
		w.genBatch(int(min(uint64(w.cfg.pipeline), quota-w.st.ops)))
		if err := w.exec(); err != nil {
			w.st.fail(err)
			return
		}
		w.account()
	}
}

// prefill sets this worker's keys with deep pipelining, so that every get
// of the measured run can hit and be verified.
func (w *worker) prefill() error {
	const depth = 100
	for id := uint32(w.index); id < w.cfg.keys; {
		id = w.prefillBatch(id, depth)
		if err := w.exec(); err != nil {
			return err
		}
		if w.st.errors > 0 {
			return softf("%s", w.st.firstErr)
		}
	}
	return nil
}
