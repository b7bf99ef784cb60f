package restconfig

import (
	"errors"
	"slices"
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
