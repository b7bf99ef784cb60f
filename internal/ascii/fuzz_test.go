package ascii

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"testing"
)

// countingReader counts the bytes handed to the bufio.Reader, so that the
// fuzz test can tell how much input each Next consumed.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func FuzzReader(f *testing.F) {
	seeds := []string{
		"get a b c\r\n", "gets a\r\n", "gat 10 a\r\n", "gats 0\r\n",
		"set k 0 0 3\r\nabc\r\n", "cas k 1 2 3 4 noreply\r\nabc\r\n", "append k 0 0 1\r\nXYZ",
		"delete k 0 noreply\r\n", "incr k 5\r\n", "decr k -1\r\n", "touch k 1\r\n",
		"flush_all 0 noreply\r\n", "stats items\r\n", "version\r\n", "verbosity noreply\r\n", "quit\r\n",
		"mg a2V5 b v k q O123\r\n", "ms k 2 T0 F1 MS\r\nhi\r\n", "md k q C5\r\n", "ma k D3 J1 N0 MI\r\n",
		"mn\r\n", "me k b\r\n", "ms k 1 Tx\r\nX\r\n", "set k 0 0 5\r\nhelloXXget a\r\n",
		"set k 0 0 -1\r\n", "get \x00a\r\n", "\r\n", "mg k \xff\r\n", "ms k 2147483645\r\n",
		"set k 0 0 1048517\r\n", "get " + string(bytes.Repeat([]byte("k"), 251)) + "\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &countingReader{r: bytes.NewReader(data)}
		br := bufio.NewReaderSize(src, 16)
		r := NewReader(br, 4096)
		var req Request
		consumed := 0
		for {
			err := r.Next(&req)
			now := src.n - br.Buffered()
			var pe *Error
			if err != nil && !errors.As(err, &pe) {
				return // io.EOF or io.ErrUnexpectedEOF
			}
			if now <= consumed {
				t.Fatalf("Next made no progress at offset %d (err %v)", consumed, err)
			}
			consumed = now
			if pe != nil {
				if pe.Close {
					return
				}
				continue
			}
			checkRequest(t, &req)
		}
	})
}

// checkRequest asserts the invariants of a successfully parsed Request.
func checkRequest(t *testing.T, req *Request) {
	t.Helper()
	if req.Op == OpUnknown || len(req.Tokens) == 0 {
		t.Fatalf("success without a command: %+v", req)
	}
	for _, tok := range req.Tokens {
		if len(tok) == 0 || bytes.IndexByte(tok, ' ') >= 0 || bytes.IndexByte(tok, 0) >= 0 {
			t.Fatalf("bad token %q", tok)
		}
	}
	if len(req.Key) > maxKeyLength {
		t.Fatalf("key of %d bytes accepted", len(req.Key))
	}
	for _, k := range req.Keys {
		if len(k) > maxKeyLength {
			t.Fatalf("key of %d bytes accepted", len(k))
		}
	}
	if req.Op.IsRetrieval() && req.Op <= OpGets && len(req.Keys) == 0 {
		t.Fatalf("get without keys")
	}
	if req.Op != OpMetaNoop && req.Op != OpVersion && req.Op != OpQuit && req.Op != OpStats &&
		req.Op != OpFlushAll && req.Op != OpVerbosity && !req.Op.IsRetrieval() && req.Key == nil {
		t.Fatalf("%v without a key", req.Tokens[0])
	}
	if req.Op.IsStorage() {
		checkDataLength(t, req)
	} else if req.Data != nil {
		t.Fatalf("data on %q", req.Tokens[0])
	}
}

// checkDataLength compares len(Data) with the declared length whenever
// that is a plain decimal number.
func checkDataLength(t *testing.T, req *Request) {
	t.Helper()
	pos := 4
	if req.Op == OpMetaSet {
		pos = 2
	}
	if req.Data == nil {
		t.Fatalf("storage command without data")
	}
	if n, err := strconv.Atoi(string(req.Tokens[pos])); err == nil && n != len(req.Data) {
		t.Fatalf("data is %d bytes, declared %d", len(req.Data), n)
	}
}
