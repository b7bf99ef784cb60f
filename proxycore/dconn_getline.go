package proxycore

import "bufio"

// Shared get lines (text servers only). memcached 1.6 answers every text
// "get" command with a write of its own, so fifty clients' one-key gets
// queued on a connection cost the server fifty sendmsg calls, and the
// proxy as many reads. One "get k1 k2 ... kn" line carrying them costs
// one, which is what moxi's get squashing did. The writer joins runs of
// queued one-key gets into such a line; the reader hands each VALUE block
// to the op that asked for its key. Hits come back in request order, so
// the blocks are matched by walking the run forward, and a key asked twice
// is answered twice, once to each asker.

// maxGetLine bounds the ops sharing one get line (memcached accepts long
// get lines; this keeps one slow line from holding many clients).
const maxGetLine = 64

// groupGets marks the runs of mergeable gets in a batch about to be
// written: each run's first op gets the run's length (1 for an op that
// goes alone), every other op of the run 0.
func groupGets(batch []*op) {
	for i := 0; i < len(batch); {
		n := 1
		for batch[i].merge && i+n < len(batch) && batch[i+n].merge && n < maxGetLine {
			batch[i+n].group = 0
			n++
		}
		batch[i].group = n
		i += n
	}
}

// writeGetLine writes one "get" line carrying the key of each op in run;
// each op's out is "get <key>\r\n".
func writeGetLine(w *bufio.Writer, run []*op) error {
	_, _ = w.WriteString("get")
	for _, o := range run {
		_, _ = w.Write(o.out[len("get") : len(o.out)-2])
	}
	_, err := w.WriteString("\r\n")
	return err
}

// readGetLine reads the reply to a shared get line whose first op is head,
// taking the run's other ops from pending, and finishes them all. It
// returns false when the connection failed and the reader must stop.
func (d *dconn) readGetLine(r *bufio.Reader, head *op) bool {
	run := append(d.lineOps[:0], head)
	defer func() { clear(run); d.lineOps = run[:0] }()
	for len(run) < head.group {
		select {
		case o := <-d.pending:
			run = append(run, o)
		case <-d.quit: // killed mid-run: the run's ops are ours to fail
			for _, o := range run {
				d.finishUnanswered(o, d.deathCause())
			}
			return false
		}
	}
	if err := readGetLineValues(r, run); err != nil {
		d.failRead(head, err, true)
		for _, o := range run[1:] {
			finishPartial(o, d.deathCause())
		}
		return false
	}
	for _, o := range run {
		d.answered()
		o.parent.opDone(o)
	}
	return true
}

// readGetLineValues reads VALUE blocks up to END, appending each to the
// next op of run that asked for its key.
func readGetLineValues(r *bufio.Reader, run []*op) error {
	next := 0
	for {
		line, key, n, done, err := nextValueLine(r)
		if done || err != nil {
			return err
		}
		j := next
		for j < len(run) && string(getLineKey(run[j])) != string(key) {
			j++
		}
		if j == len(run) { // a key nobody asked for: drop its block
			if _, err := r.Discard(n + 2); err != nil {
				return err
			}
			continue
		}
		next = j + 1
		if _, err := keepValueBlock(r, run[j], line, key, n, 0); err != nil {
			return err
		}
	}
}

// getLineKey is the one key a mergeable get op asks for.
func getLineKey(o *op) []byte { return o.parent.slots[o.slots[0]].key }
