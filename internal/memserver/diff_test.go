package memserver

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// transcript is sent chunk by chunk to memcached and to memserver; a chunk
// holding several commands is one pipelined write. CAS values need no
// masking: both servers start empty and assign CAS ids the same way.
var transcript = []string{
	// classic storage and retrieval
	"set a 5 0 5\r\nhello\r\n",
	"get a\r\n",
	"gets a\r\n",
	"get a zz a\r\n",
	"add a 0 0 1\r\nx\r\nadd b 3 0 1\r\nb\r\n",
	"replace zz 0 0 1\r\nx\r\nreplace b 4 0 2\r\nbb\r\n",
	"append a 9 0 1\r\n!\r\nprepend a 9 0 1\r\n<\r\nget a b\r\n",
	"append zz 0 0 1\r\nx\r\nprepend zz 0 0 1\r\nx\r\n",
	"cas a 0 0 1 999\r\nx\r\ncas zz 0 0 1 1\r\nx\r\n",
	"gets a\r\ncas a 7 0 3 5\r\nnew\r\ngets a\r\n",
	"set empty 0 0 0\r\n\r\nget empty\r\n",
	"set big 4294967295 0 3\r\nabc\r\ngets big\r\n",
	// noreply silences everything, errors included
	"set q 0 0 1 noreply\r\n1\r\nadd q 0 0 1 noreply\r\n1\r\nget q\r\n",
	"incr q 5 noreply\r\nincr a 1 noreply\r\ndelete zz noreply\r\nget q\r\n",
	"touch q 100 noreply\r\nflush_all noreply\r\nget q\r\n",
	// delete, touch, gat
	"set d 0 0 1\r\n1\r\ndelete d\r\ndelete d\r\ndelete d 0\r\n",
	"set t 0 0 1\r\n1\r\ntouch t 100\r\ntouch zz 100\r\ngat 200 t zz\r\ngats 0 t\r\n",
	// expiry
	"set e 0 -1 1\r\n1\r\nget e\r\nset e 0 100 1\r\n1\r\nget e\r\n",
	"set e 0 1000000000 1\r\n1\r\nget e\r\nset e 0 9999999999 1\r\n1\r\n",
	"set e 0 0 1\r\n1\r\ntouch e -1\r\nget e\r\n",
	// counters
	"set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\nincr zz 1\r\ndecr zz 1\r\n",
	"set n 0 0 20\r\n18446744073709551615\r\nincr n 1\r\nget n\r\n",
	"set n 0 0 3\r\n100\r\ndecr n 1\r\nget n\r\nincr n 1\r\nincr n 1000\r\nget n\r\n",
	"set n 0 0 3\r\nabc\r\nincr n 1\r\nset n 0 0 2\r\n-1\r\nincr n 1\r\nset n 0 0 3\r\n5 a\r\nincr n 1\r\n",
	"incr n abc\r\nincr n -1\r\ndecr n 18446744073709551616\r\n",
	// other commands
	"version\r\nverbosity 1\r\nverbosity 1 noreply\r\nverbosity x\r\n",
	"flush_all x\r\nflush_all -1\r\nget a b\r\nflush_all 0\r\n",
	"stats reset\r\nstats bogus\r\nstats detail\r\nstats detail on\r\nstats detail off\r\n",
	// protocol errors
	"bogus\r\nGET a\r\nget\r\n",
	"set x 0 0 1\r\nabc\r\nget x\r\n",
	"set " + strings.Repeat("k", 251) + " 0 0 1\r\n1\r\n",
	"get " + strings.Repeat("k", 251) + "\r\n",
	"set x 0 0 -1\r\nset x abc 0 1\r\n1\r\n",
	"incr x\r\ndelete x 1\r\ntouch x\r\ncas x 0 0 1\r\n1\r\n",
	// meta get/set
	"set m 5 0 1\r\n1\r\nmg m v f t s c k O123 q h l\r\nmg m h\r\nmg zz v q\r\nmg zz k O1\r\nmg zz\r\n",
	"mg m zz\r\nmg m v v\r\nmg m Tx\r\nmg m O123456789012345678901234567890123\r\n",
	"mg m t T30\r\nmg m t\r\nmg m u v\r\nmg m q\r\n",
	"ms b 2 c k O1 T0 F3\r\nhi\r\nms b 2 q\r\nhi\r\nms b 2 ME q\r\nhi\r\nms zz 2 MA\r\nhi\r\n",
	"ms zz 2 MR c\r\nhi\r\nms b 2 MX\r\nhi\r\nms b 2 C999\r\nhi\r\nms b 1 MA\r\n!\r\nms b 1 MP\r\n<\r\nmg b v f\r\n",
	"ms b 2 MS T100 F7\r\nhi\r\nmg b f t v\r\nms b 2 I\r\nhi\r\n",
	"ms Zm9v 2 b k c\r\nhi\r\nmg Zm9v b k v O1 s\r\nmg foo k v\r\nme Zm9v b\r\nme foo\r\nme zz\r\n",
	"md Zm9v b k q O3\r\nmd Zm9v b k O3\r\n",
	"mg m F5\r\nms m 1 zz\r\n1\r\nms m 1 F1 F2\r\n1\r\nms m 1 Fx\r\n1\r\nms m 1 Cx\r\n1\r\n",
	// T, N and R read as memcached's safe_strtol: 64-bit range, then int32
	"set tt 0 0 1\r\n1\r\nmg tt v T3000000000\r\nmg tt v\r\nmg tt2 v N3000000000\r\nmg tt v T9223372036854775808\r\n",
	// meta delete / arithmetic
	"set n 0 0 2\r\n10\r\nma n q\r\nma n v\r\nma zz q\r\nma zz\r\nma n v c t k O9 D5 MD\r\n",
	"ma n N0 J7 v\r\nma new N0 J7 v\r\nma new N100 J7 v t\r\nma n MX\r\nma n Dx\r\nma n C1\r\nma n v T30 t\r\n",
	"ma n M- D100 v\r\nma n M+ v\r\nma n MI D18446744073709551615 v\r\n",
	"set s 0 0 1\r\nx\r\nma s\r\nma s q\r\n",
	"md zz q\r\nmd n x\r\nmd n C1 k\r\nmd n q\r\nmd n O1\r\n",
	// stale / win tokens
	"ms w 2\r\nhi\r\nmd w I T30\r\nmg w v c t\r\nmg w v c\r\nms w 3 C999 I\r\nnew\r\n",
	"mg zzz N30 v c t s\r\nmg zzz N30 v c t s\r\nmg w R30 v\r\nmg w R300 c\r\n",
	"mg\r\nms a\r\nma\r\nmd\r\nme\r\n",
	// values over the item size limit are refused and swallowed
	"set huge 0 0 2000000\r\n" + strings.Repeat("x", 2000000) + "\r\nget huge\r\n",
	"set huge 0 0 2000000 noreply\r\n" + strings.Repeat("x", 2000000) + "\r\nget huge\r\n",
	"ms huge 2000000 T0\r\n" + strings.Repeat("x", 2000000) + "\r\nget huge\r\n",
	// append and prepend that would pass the item size limit (-I, 1 MB
	// here: 62 bytes of item overhead for this key) are not stored
	"set big 0 0 1000000\r\n" + strings.Repeat("x", 1000000) + "\r\nappend big 0 0 48515\r\n" + strings.Repeat("y", 48515) +
		"\r\nprepend big 0 0 48515\r\n" + strings.Repeat("y", 48515) + "\r\nmg big s\r\nappend big 0 0 48514\r\n" +
		strings.Repeat("y", 48514) + "\r\nappend big 0 0 1\r\nz\r\nmg big s\r\ndelete big\r\n",
	"set big 5 0 1000000\r\n" + strings.Repeat("x", 1000000) + "\r\nms big 48511 MA\r\n" + strings.Repeat("y", 48511) +
		"\r\nms big 48510 MA\r\n" + strings.Repeat("y", 48510) + "\r\nmg big s f\r\ndelete big\r\n",
	// a long pipelined batch
	strings.Repeat("set p 0 0 1\r\n1\r\nincr p 1\r\nget p\r\nmg p v c\r\n", 200),
}

// laField varies with the clock; the rest of an me line must match.
var laField = regexp.MustCompile(` la=\d+`)

func TestDifferentialAgainstMemcached(t *testing.T) {
	mcAddr := startMemcached(t)
	msAddr, _ := startMemserver(t, Config{})
	mc, ms := dial(t, mcAddr), dial(t, msAddr)
	for i, chunk := range transcript {
		want, err := mc.exchange(chunk)
		if err != nil {
			t.Fatalf("chunk %d: memcached: %v", i, err)
		}
		got, err := ms.exchange(chunk)
		if err != nil {
			t.Fatalf("chunk %d: memserver: %v", i, err)
		}
		want, got = laField.ReplaceAllString(want, " la=N"), laField.ReplaceAllString(got, " la=N")
		if got != want {
			t.Errorf("chunk %d %q:\nmemserver: %q\nmemcached: %q", i, chunk, got, want)
		}
	}
}

// statNames returns a stats reply's names in order, with connection ids
// (file descriptors in memcached) masked, and its non-STAT lines.
func statNames(reply string) []string {
	var names []string
	for _, l := range strings.Split(reply, "\r\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 3 && f[0] == "STAT":
			names = append(names, connID.ReplaceAllString(f[1], "N:"))
		case l != "":
			names = append(names, l)
		}
	}
	return names
}

var connID = regexp.MustCompile(`^\d+:(addr|listen_addr|state|secs_since_last_cmd)$`)

// TestDifferentialStats: every stats group lists memcached's names in
// memcached's order (values are each server's own), with a few items of
// two sizes stored so that items, slabs and cachedump have classes.
func TestDifferentialStats(t *testing.T) {
	mcAddr := startMemcached(t)
	msAddr, _ := startMemserver(t, Config{})
	seed := "set a 0 0 1\r\n1\r\nset b 0 0 100\r\n" + strings.Repeat("b", 100) + "\r\nget a\r\n"
	for _, addr := range []string{mcAddr, msAddr} {
		if _, err := dial(t, addr).exchange(seed); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range []string{"stats\r\n", "stats settings\r\n", "stats items\r\n", "stats slabs\r\n",
		"stats sizes\r\n", "stats conns\r\n", "stats cachedump 1 0\r\n", "stats cachedump 2 1\r\n",
		"stats cachedump 1\r\n", "stats cachedump 64 0\r\n", "stats settings extra\r\n"} {
		want, err := dial(t, mcAddr).exchange(cmd)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dial(t, msAddr).exchange(cmd)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := statNames(got), statNames(want); !slices.Equal(g, w) {
			t.Errorf("%q: names differ from memcached's:\n got %q\nwant %q", cmd, g, w)
		}
	}
}

func TestQuitClosesLikeMemcached(t *testing.T) {
	mcAddr := startMemcached(t)
	msAddr, _ := startMemserver(t, Config{})
	for _, addr := range []string{mcAddr, msAddr} {
		got, err := dial(t, addr).exchange("version\r\nquit\r\n")
		if err != nil {
			t.Fatal(err)
		}
		if got != "VERSION 1.6.18\r\n<CLOSED>" { // both report 1.6.18
			t.Errorf("%s: %q", addr, got)
		}
	}
}
