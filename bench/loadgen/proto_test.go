package main

import (
	"bufio"
	"strings"
	"testing"
)

// reader uses a small buffer so that replies span several refills.
func reader(s string) *bufio.Reader { return bufio.NewReaderSize(strings.NewReader(s), 128) }

func valueReply(ks *keyspace, id, ver uint32) string {
	key := string(ks.appendKey(nil, id))
	v := ks.appendValue(nil, id, ver)
	return "VALUE " + key + " 0 " + itoa(len(v)) + "\r\n" + string(v) + "\r\n"
}

func itoa(n int) string { return string(newKeyspace("", 0).appendKey(nil, uint32(n))) }

func TestEncode(t *testing.T) {
	ks := newKeyspace("k:", 13)
	if got := string(ks.appendGet(nil, []uint32{1, 22})); got != "get k:1 k:22\r\n" {
		t.Errorf("appendGet = %q", got)
	}
	if got := string(ks.appendSet(nil, 1, 42)); got != "set k:1 0 0 13\r\n0000000042bcd\r\n" {
		t.Errorf("appendSet = %q", got)
	}
}

func TestCheckValue(t *testing.T) {
	ks := newKeyspace("k:", 20)
	for _, ver := range []uint32{0, 1, 4294967294} {
		if got, ok := ks.checkValue(ks.appendValue(nil, 5, ver), 5); !ok || got != ver {
			t.Errorf("version %d read back as %d, %v", ver, got, ok)
		}
	}
	for name, v := range map[string]string{
		"other key":   string(ks.appendValue(nil, 6, 1)),
		"short":       string(ks.appendValue(nil, 5, 1)[:19]),
		"bad version": "00000x0001" + string(ks.filler(5)),
		"too big":     "4294967295" + string(ks.filler(5)), // anyVersion is never written
	} {
		if _, ok := ks.checkValue([]byte(v), 5); ok {
			t.Errorf("%s: %q accepted as a value of key 5", name, v)
		}
	}
}

func TestKeyID(t *testing.T) {
	ks := newKeyspace("k:", 1)
	for key, want := range map[string]bool{
		"k:0": true, "k:4294967295": true, "k:4294967296": false,
		"k:": false, "k:1x": false, "x:1": false, "k:-1": false,
	} {
		if _, ok := ks.keyID([]byte(key)); ok != want {
			t.Errorf("keyID(%q) ok = %v, want %v", key, ok, want)
		}
	}
	if id, _ := ks.keyID([]byte("k:123")); id != 123 {
		t.Errorf("keyID(k:123) = %d", id)
	}
}

func TestParseValueLine(t *testing.T) {
	for line, want := range map[string]int{
		"VALUE k 0 5\r\n":      5,
		"VALUE k 12 100 7\r\n": 100, // with cas
		"VALUE k 0 5":          -1,  // no CRLF
		"VALUE k 0\r\n":        -1,
		"VALUE  0 5\r\n":       -1,
		"VALUE k x 5\r\n":      -1,
		"VALUE k 0 -5\r\n":     -1,
		"END\r\n":              -1,
	} {
		key, n, ok := parseValueLine([]byte(line))
		if ok != (want >= 0) || ok && (n != want || string(key) != "k") {
			t.Errorf("parseValueLine(%q) = %q, %d, %v; want n=%d", line, key, n, ok, want)
		}
	}
}

func TestReadGet(t *testing.T) {
	ks := newKeyspace("k:", 100)
	want := []uint32{1, 2, 3}
	expect := []uint32{anyVersion, 7, anyVersion} // key 2 is "ours", at version 7
	for _, tc := range []struct {
		name     string
		reply    string
		hits     int
		err, bad bool // err: an error; bad: a fatal one
	}{
		{"all in order", valueReply(ks, 1, 0) + valueReply(ks, 2, 7) + valueReply(ks, 3, 9) + "END\r\n", 3, false, false},
		{"out of order", valueReply(ks, 3, 0) + valueReply(ks, 1, 0) + "END\r\n", 2, false, false},
		{"all miss", "END\r\n", 0, false, false},
		{"stale", valueReply(ks, 2, 6) + "END\r\n", 1, true, false},
		{"unrequested", valueReply(ks, 1, 0) + valueReply(ks, 9, 0) + "END\r\n", 1, true, false},
		{"repeated", valueReply(ks, 1, 0) + valueReply(ks, 1, 0) + "END\r\n", 1, true, false},
		{"wrong value", "VALUE k:1 0 100\r\n" + strings.Repeat("x", 100) + "\r\nEND\r\n", 1, true, false},
		{"short value", "VALUE k:1 0 3\r\nbcd\r\nEND\r\n", 1, true, false},
		{"server error", "SERVER_ERROR out of memory\r\n", 0, true, false},
		{"bad terminator", "VALUE k:1 0 1\r\nbXY", 0, true, true},
		{"truncated", valueReply(ks, 1, 0), 1, true, true},
		{"garbage", "STORED\r\n", 0, true, true},
	} {
		r := reader(tc.reply)
		hits, err := readGet(r, ks, want, expect, make([]bool, len(want)))
		if hits != tc.hits || (err != nil) != tc.err || err != nil && isFatal(err) != tc.bad {
			t.Errorf("%s: hits=%d err=%v; want hits=%d err=%v fatal=%v", tc.name, hits, err, tc.hits, tc.err, tc.bad)
		}
		if !tc.bad && r.Buffered() != 0 {
			t.Errorf("%s: reply not fully consumed", tc.name)
		}
	}
}

func TestReadGetValueLargerThanLine(t *testing.T) {
	// A value of several reader buffers must still be read via Peek; the
	// worker sizes its readers with ioBufSize for that.
	ks := newKeyspace("k:", 5000)
	r := bufio.NewReaderSize(strings.NewReader(valueReply(ks, 7, 3)+"END\r\n"), ioBufSize(5000))
	if hits, err := readGet(r, ks, []uint32{7}, []uint32{3}, make([]bool, 1)); hits != 1 || err != nil {
		t.Fatalf("hits=%d err=%v", hits, err)
	}
}

func TestReadStored(t *testing.T) {
	for reply, want := range map[string]string{
		"STORED\r\n":                     "ok",
		"NOT_STORED\r\n":                 "soft",
		"VALUE k 0 1\r\n":                "fatal",
		"SERVER_ERROR out of memory\r\n": "soft",
		"CLIENT_ERROR bad\r\n":           "soft",
		"STORED":                         "fatal",
	} {
		err := readStored(reader(reply))
		got := "ok"
		if err != nil {
			got = map[bool]string{true: "fatal", false: "soft"}[isFatal(err)]
		}
		if got != want {
			t.Errorf("readStored(%q) = %v (%s), want %s", reply, err, got, want)
		}
	}
}
