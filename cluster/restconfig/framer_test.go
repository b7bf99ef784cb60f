package restconfig

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// feed writes parts into a framer and returns the messages it yields and
// the remainder.
func feed(t *testing.T, max int, parts ...string) ([]string, string) {
	t.Helper()
	f := framer{max: max}
	var msgs []string
	for _, p := range parts {
		if err := f.write([]byte(p)); err != nil {
			t.Fatalf("write %q: %v", p, err)
		}
		for m, ok := f.next(); ok; m, ok = f.next() {
			msgs = append(msgs, string(m))
		}
	}
	return msgs, string(f.remainder())
}

// Every two- and three-way split of a stream, so each delimiter straddles
// reads at every offset, yields the same messages; moxi only noticed a
// delimiter that ended a read.
func TestFramerEverySplit(t *testing.T) {
	const stream = `{"rev":1}` + "\n\n\n\n" + `{"rev":2}` + "\n\n\n\n" + ` {"rev":3`
	want := []string{`{"rev":1}`, `{"rev":2}`}
	check := func(parts ...string) {
		t.Helper()
		msgs, rest := feed(t, 1<<10, parts...)
		if !slices.Equal(msgs, want) || rest != `{"rev":3` {
			t.Fatalf("split %q: messages %q, remainder %q", parts, msgs, rest)
		}
	}
	for i := 0; i <= len(stream); i++ {
		for j := i; j <= len(stream); j++ {
			check(stream[:i], stream[i:j], stream[j:])
		}
	}
	var bytewise []string
	for i := range len(stream) {
		bytewise = append(bytewise, stream[i:i+1])
	}
	check(bytewise...)
}

// Newlines beyond a delimiter make empty messages, which are dropped, and
// a delimiter-terminated stream leaves an empty remainder.
func TestFramerSkipsEmptyMessages(t *testing.T) {
	msgs, rest := feed(t, 1<<10, "\n\n\n\n\n\n\n\n  {}\n\n\n\n\n\n\n\n\n", "\n")
	if !slices.Equal(msgs, []string{"{}"}) || rest != "" {
		t.Fatalf("messages %q, remainder %q; want [{}] and empty", msgs, rest)
	}
}

// A message may reach max bytes but not exceed it, whatever the writes.
func TestFramerMaxSize(t *testing.T) {
	msgs, _ := feed(t, 8, "12345", "678\n\n\n\n12345678")
	if !slices.Equal(msgs, []string{"12345678"}) {
		t.Fatalf("messages %q, want [12345678]", msgs)
	}
	f := framer{max: 8}
	if err := f.write([]byte("12345")); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := f.write([]byte("6789")); !errors.Is(err, errConfigTooLarge) {
		t.Fatalf("write past max: err = %v, want errConfigTooLarge", err)
	}
}

// allocated returns the bytes the heap handed out while fn ran, on every
// goroutine; the package's tests do not run in parallel, so the figure is
// fn's own.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A stream that never sends a delimiter is refused by the first write that
// takes the message past max, that write appends nothing, and the buffer
// never holds more than max, a delimiter and one write, where append's
// growth took it past that.
func TestFramerRefusesEndlessMessage(t *testing.T) {
	for _, tc := range []struct{ max, chunk int }{
		{1 << 20, 32 << 10}, // reads that divide max
		{3<<20 + 17, 4093},  // and reads that do not
		{64, 32 << 10},      // a read larger than max
	} {
		f := framer{max: tc.max}
		p := bytes.Repeat([]byte("x"), tc.chunk)
		limit := tc.max + len(delimiter) + tc.chunk
		for written := 0; ; written += tc.chunk {
			held := len(f.buf)
			err := f.write(p)
			if c := cap(f.buf); c > limit {
				t.Fatalf("max %d, chunk %d: buffer capacity %d after %d bytes, want <= %d",
					tc.max, tc.chunk, c, written+tc.chunk, limit)
			}
			if written+tc.chunk <= tc.max {
				if err != nil {
					t.Fatalf("max %d: write up to %d bytes: %v", tc.max, written+tc.chunk, err)
				}
				continue
			}
			if !errors.Is(err, errConfigTooLarge) {
				t.Fatalf("max %d: write to %d bytes: err = %v, want errConfigTooLarge", tc.max, written+tc.chunk, err)
			}
			if len(f.buf) != held {
				t.Fatalf("max %d: refused write grew the buffer from %d to %d bytes", tc.max, held, len(f.buf))
			}
			break
		}
	}
}

// Several MiB without a delimiter allocate less than twice max in all,
// read buffer aside: no doubling past max and no copy of what is held.
// Before the bound, growth by append allocated about five times max.
func TestFramerEndlessMessageAllocations(t *testing.T) {
	const max, chunk = 4 << 20, 32 << 10
	p := bytes.Repeat([]byte("x"), chunk)
	var err error
	n := allocated(func() {
		f := framer{max: max}
		for range (3 * max) / chunk {
			if err = f.write(p); err != nil {
				return
			}
			f.next()
		}
	})
	if !errors.Is(err, errConfigTooLarge) {
		t.Fatalf("err = %v, want errConfigTooLarge", err)
	}
	if n >= 2*max {
		t.Fatalf("allocated %d bytes for max %d, want < %d", n, max, 2*max)
	}
	t.Logf("allocated %d bytes (%.2f x max)", n, float64(n)/max)
}

// A message of max bytes arriving in reads is handed out without being
// copied, so it is held once, and the bytes after it survive.
func TestFramerHandsOverLargeMessage(t *testing.T) {
	const max, chunk = 4 << 20, 32 << 10
	stream := append(bytes.Repeat([]byte("x"), max), "\n\n\n\n{\"rev\":2}"...)
	var msg []byte
	var ok bool
	f := framer{max: max}
	n := allocated(func() {
		for len(stream) > 0 {
			p := stream[:min(chunk, len(stream))]
			stream = stream[len(p):]
			if err := f.write(p); err != nil {
				t.Errorf("write: %v", err)
				return
			}
			if c := cap(f.buf); c > max+len(delimiter)+chunk {
				t.Errorf("buffer capacity %d, want <= %d", c, max+len(delimiter)+chunk)
				return
			}
			if m, got := f.next(); got {
				msg, ok = m, got
			}
		}
	})
	if !ok || len(msg) != max || bytes.Count(msg, []byte("x")) != max {
		t.Fatalf("got message of %d bytes (ok %v), want %d x", len(msg), ok, max)
	}
	if rest := f.remainder(); string(rest) != `{"rev":2}` {
		t.Fatalf("remainder %q, want {\"rev\":2}", rest)
	}
	if n >= 2*max {
		t.Fatalf("allocated %d bytes for a %d-byte message, want < %d", n, max, 2*max)
	}
	t.Logf("allocated %d bytes (%.2f x max)", n, float64(n)/max)
}

// A message of exactly max bytes passes when its delimiter is split
// across writes, and fails once what looked like its delimiter is not.
func TestFramerMaxSizeSplitDelimiter(t *testing.T) {
	for i := 0; i <= len(delimiter); i++ {
		msgs, _ := feed(t, 8, "12345678"+"\n\n\n\n"[:i], "\n\n\n\n"[i:]+"x")
		if !slices.Equal(msgs, []string{"12345678"}) {
			t.Fatalf("split at %d: messages %q, want [12345678]", i, msgs)
		}
	}
	f := framer{max: 8}
	if err := f.write([]byte("12345678\n\n")); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := f.write([]byte("\nx")); !errors.Is(err, errConfigTooLarge) {
		t.Fatalf("11 bytes without a delimiter: err = %v, want errConfigTooLarge", err)
	}
}

// reference frames a whole stream the plain way: messages end at the
// first delimiter after their start, and any message longer than max
// fails, as does an unterminated end longer than max once the newlines
// that could start a delimiter are set aside.
func reference(stream string, max int) ([]string, string, bool) {
	var msgs []string
	for {
		i := strings.Index(stream, "\n\n\n\n")
		if i < 0 {
			break
		}
		if i > max {
			return nil, "", false
		}
		if m := strings.TrimSpace(stream[:i]); m != "" {
			msgs = append(msgs, m)
		}
		stream = stream[i+4:]
	}
	if len(strings.TrimRight(stream, "\n")) > max {
		return nil, "", false
	}
	return msgs, strings.TrimSpace(stream), true
}

// Random streams of mostly newlines, split at random, frame as the plain
// reference does and fail exactly when it does.
func TestFramerMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var sb strings.Builder
		for range rng.IntN(40) {
			sb.WriteByte("x \n\n\n\n"[rng.IntN(6)])
		}
		stream, max := sb.String(), 1+rng.IntN(8)
		f := framer{max: max}
		var msgs []string
		var failed bool
		for s := stream; s != "" && !failed; {
			p := s[:1+rng.IntN(len(s))]
			s = s[len(p):]
			if err := f.write([]byte(p)); err != nil {
				failed = errors.Is(err, errConfigTooLarge)
				if !failed {
					t.Fatalf("stream %q: write: %v", stream, err)
				}
			}
			for m, ok := f.next(); ok; m, ok = f.next() {
				msgs = append(msgs, string(m))
			}
		}
		want, wantRest, ok := reference(stream, max)
		if failed != !ok {
			t.Fatalf("stream %q, max %d: failed %v, reference ok %v", stream, max, failed, ok)
		}
		if rest := string(f.remainder()); ok && (!slices.Equal(msgs, want) || rest != wantRest) {
			t.Fatalf("stream %q, max %d: messages %q remainder %q, want %q and %q",
				stream, max, msgs, rest, want, wantRest)
		}
	}
}
