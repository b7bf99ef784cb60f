package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// step is one request of a transcript and how many replies it produces
// (0 for noreply commands). "{cas}" in req is replaced by the last cas
// number seen on the connection, so a transcript can do a successful cas.
type step struct {
	req     string
	replies int
}

func s1(req string) step { return step{req, 1} }

var key251 = strings.Repeat("k", 251)

// storageTranscript covers the classic text commands and noreply.
var storageTranscript = []step{
	s1("flush_all\r\n"),
	s1("get a\r\n"),
	s1("set a 5 0 3\r\nabc\r\n"),
	s1("get a\r\n"),
	s1("gets a\r\n"),
	s1("add a 0 0 1\r\nx\r\n"),
	s1("add b 1 0 2\r\nbb\r\n"),
	s1("replace c 0 0 1\r\nx\r\n"),
	s1("replace b 2 0 3\r\nBBB\r\n"),
	s1("append b 0 0 2\r\n>>\r\n"),
	s1("prepend b 0 0 2\r\n<<\r\n"),
	s1("append zz 0 0 1\r\nx\r\n"),
	s1("prepend zz 0 0 1\r\nx\r\n"),
	s1("get a b zz a\r\n"),
	s1("gets b\r\n"),
	s1("cas b 9 0 3 {cas}\r\nnew\r\n"),
	s1("cas b 9 0 3 {cas}\r\nold\r\n"),
	s1("cas zz 0 0 1 123\r\nx\r\n"),
	s1("gets a b\r\n"),
	s1("set n 0 0 2\r\n10\r\n"),
	s1("incr n 5\r\n"),
	s1("decr n 3\r\n"),
	s1("decr n 100\r\n"),
	s1("incr n 18446744073709551615\r\n"),
	s1("incr n 2\r\n"),
	s1("incr zz 1\r\n"),
	s1("decr zz 1\r\n"),
	s1("incr a 1\r\n"),
	s1("touch a 100\r\n"),
	s1("touch zz 100\r\n"),
	s1("gat 200 a zz b\r\n"),
	s1("gats 300 a\r\n"),
	s1("gat 0 zz\r\n"),
	s1("delete a\r\n"),
	s1("delete a\r\n"),
	s1("delete b 0\r\n"),
	s1("set e 0 0 0\r\n\r\n"),
	s1("get e\r\n"),
	s1("set f 4294967295 0 1\r\nf\r\n"),
	s1("get f\r\n"),
	s1("set x 0 -1 1\r\nx\r\n"),
	s1("get x\r\n"),
	s1("set  sp   0 0 1\r\nx\r\n"),
	s1("get sp\n"),
	// noreply: no reply at all, the effect is seen by the next get.
	{"set q 0 0 1 noreply\r\n1\r\n", 0},
	{"add q 0 0 1 noreply\r\n2\r\n", 0},
	{"append q 0 0 1 noreply\r\n3\r\n", 0},
	{"prepend q 0 0 1 noreply\r\n0\r\n", 0},
	s1("get q\r\n"),
	{"replace q 0 0 2 noreply\r\n40\r\n", 0},
	{"incr q 2 noreply\r\n", 0},
	{"decr q 1 noreply\r\n", 0},
	s1("gets q\r\n"),
	{"cas q 0 0 1 {cas} noreply\r\n7\r\n", 0},
	{"touch q 100 noreply\r\n", 0},
	s1("get q\r\n"),
	{"delete q noreply\r\n", 0},
	{"delete q noreply\r\n", 0},
	s1("get q\r\n"),
	{"set r 0 0 1 noreply\r\nr\r\n", 0},
	{"flush_all noreply\r\n", 0},
	s1("get r\r\n"),
	s1("verbosity 1\r\n"),
	{"verbosity 0 noreply\r\n", 0},
	{"verbosity noreply\r\n", 0}, // memcached 1.6 answers nothing
	s1("verbosity foo bar my\r\n"),
	s1("flush_all 0\r\n"),
	s1("get e f\r\n"),
}

// metaTranscript covers mg/ms/md/ma/mn with the flags clients use.
var metaTranscript = []step{
	s1("flush_all\r\n"),
	s1("mn\r\n"),
	s1("ms m 2 T0 F5\r\nhi\r\n"),
	s1("ms m2 3 c k O77 F1\r\nhey\r\n"),
	s1("mg m v\r\n"),
	s1("mg m v k f s t O123\r\n"),
	s1("mg m k f s c\r\n"),
	s1("mg m\r\n"),
	s1("mg bQ== b v k\r\n"),
	s1("mg missing v\r\n"),
	s1("mg missing v k O9\r\n"),
	{"mg missing v q\r\n", 0},
	{"mg missing2 v q k O1\r\n", 0},
	s1("mn\r\n"),
	s1("mg m2 v q\r\n"),
	s1("mn\r\n"),
	s1("ms m 3 MA\r\n+++\r\n"),
	s1("ms m 3 MP\r\n---\r\n"),
	s1("ms m 1 ME\r\nx\r\n"),
	s1("ms nope 1 MR\r\nx\r\n"),
	s1("ms nope 1 MA\r\nx\r\n"),
	s1("mg m v c\r\n"),
	s1("ms m 1 C{cas}\r\nz\r\n"),
	s1("ms m 1 C{cas}\r\ny\r\n"),
	s1("mg m v\r\n"),
	{"ms q1 1 q\r\na\r\n", 0},
	s1("ms q1 1 q ME\r\nb\r\n"),
	s1("mn\r\n"),
	s1("ms YjY0 2 b\r\nbb\r\n"),
	s1("mg YjY0 b v k\r\n"),
	s1("mg b64 v\r\n"),
	s1("ma cnt\r\n"),
	s1("ma cnt N0 J10 v\r\n"),
	s1("ma cnt v\r\n"),
	s1("ma cnt D5 v t\r\n"),
	s1("ma cnt MD D100 v\r\n"),
	s1("ma cnt M- v\r\n"),
	s1("ma cnt MI D7 v k O5\r\n"),
	s1("ma cnt c\r\n"),
	{"ma cnt q D1\r\n", 0},
	s1("ma cnt v\r\n"),
	s1("ma m\r\n"),
	s1("md m2 k O4\r\n"),
	s1("md m2\r\n"),
	{"md m q\r\n", 0},
	s1("md m q\r\n"), // q does not hide NF on md

	s1("mn\r\n"),
	s1("mg m v\r\n"),
	s1("md cnt C1\r\n"),
	s1("mg cnt v\r\n"),
	s1("mn\r\n"),

	// Flags binary has no field for: with a binary downstream these go
	// over a text connection to the same server, in order with the rest.
	s1("ms m 2 T0\r\nhi\r\n"),
	s1("mg m h v\r\n"),
	s1("mg m h u t\r\n"),
	s1("me m\r\n"),
	s1("me missing\r\n"),
	s1("ms inv 1 T0\r\nx\r\n"),
	s1("md m I T30\r\n"),
	s1("mg m v\r\n"),
	s1("mg m v\r\n"),
	s1("ms m 2 I\r\nhi\r\n"),
	s1("mg viv N0 v s\r\n"),
	s1("mg viv N0 v s\r\n"),
	s1("ms rc 1 T10\r\nx\r\n"),
	s1("mg rc R30 v\r\n"),
	{"ma cviv N0 J3 q\r\nmn\r\n", 2},
	{"ma cviv N0 q\r\nmn\r\n", 1},
	s1("mg cviv v\r\n"),
	// one write mixing binary-able and text-only commands on one key
	{"ms o 1\r\n1\r\nmg o v t\r\nms o 1 I\r\n2\r\nmg o v\r\nmg o h v\r\nma o\r\nmg o v\r\n", 7},
	{"set o2 0 0 1\r\n1\r\nmg o2 v t\r\nappend o2 0 0 1\r\n2\r\nmg o2 v\r\nincr o2 5\r\nma o2 v\r\nget o2\r\n", 7},
	s1("mn\r\n"),
}

// badInputTranscript: each error has memcached's reply and the connection
// keeps working afterwards.
var badInputTranscript = []step{
	s1("bogus\r\n"),
	s1("hello world this is not a command\r\n"),
	s1("\r\n"),
	s1("get\r\n"),
	{"set " + key251 + " 0 0 1\r\nx\r\n", 2},
	s1("get " + key251 + "\r\n"),
	s1("get ok " + key251 + "\r\n"),
	s1("delete " + key251 + "\r\n"),
	s1("incr " + key251 + " 1\r\n"),
	s1("mg " + key251 + " v\r\n"),
	{"set k 0 0 3\r\nabcde\r\n", 2},
	s1("get k\r\n"),
	s1("set k 0 0 -1\r\n"),
	s1("set k 0 0 4294967295\r\n"),
	s1("set k 0 0 2147483647\r\n"),
	{"set k abc 0 1\r\nx\r\n", 2},
	{"set k 0 0\r\nx\r\n", 2},
	{"cas k 0 0 1\r\nx\r\n", 2},
	{"cas k 0 0 1 abc\r\nx\r\n", 2},
	s1("set n 0 0 1\r\n5\r\n"),
	s1("incr n x\r\n"),
	s1("incr n -1\r\n"),
	s1("incr n 18446744073709551616\r\n"),
	s1("delete n 5\r\n"),
	{"SET k 0 0 1\r\nx\r\n", 2},
	{"setx k 0 0 1\r\nx\r\n", 2},
	s1("stats nonsense\r\n"),
	s1("stats nonsense extra\r\n"),
	s1("stats detail\r\n"),
	s1("stats detail x\r\n"),
	s1("stats detail off\r\n"),
	s1("stats detail dump x\r\n"),
	s1("stats sizes x\r\n"),
	// commands with no key where one is required
	s1("mg\r\n"),
	s1("mg  v\r\n"),
	{"ms  2\r\nhi\r\n", 2},
	s1("md \r\n"),
	s1("ma \r\n"),
	s1("me \r\n"),
	s1("mg  b\r\n"),
	s1("get \r\n"),
	s1("gat 0\r\n"),
	s1("gats 0 \r\n"),
	s1("touch \r\n"),
	s1("delete \r\n"),
	s1("incr \r\n"),
	s1("shutdown\r\n"),
	s1("shutdown graceful\r\n"),
	s1("set ok 0 0 2\r\nok\r\n"),
	s1("get ok\r\n"),
}

var (
	casInValue = regexp.MustCompile(`(?m)^(VALUE \S+ \d+ \d+) \d+\r$`)
	casInMeta  = regexp.MustCompile(`(?m)^((?:HD|VA|EN|NF|NS|EX)\b.*? )c\d+\b`)
	meClock    = regexp.MustCompile(`(?m)^(ME \S+ exp=\S+) la=\d+ cas=\d+`)
	casToken   = regexp.MustCompile(`(?m)^(?:VALUE \S+ \d+ \d+ (\d+)\r$|(?:HD|VA).*? c(\d+)\b)`)
)

// normalizeCas replaces cas numbers so replies of different servers
// compare, and me's seconds since last access (la), which the clock moves.
func normalizeCas(s string) string {
	s = meClock.ReplaceAllString(s, "$1 la=<s> cas=<cas>")
	s = casInValue.ReplaceAllString(s, "$1 <cas>\r")
	return casInMeta.ReplaceAllString(s, "${1}c<cas>")
}

// lastCas returns the last cas number in a reply, or "".
func lastCas(reply string) string {
	m := casToken.FindAllStringSubmatch(reply, -1)
	if len(m) == 0 {
		return ""
	}
	last := m[len(m)-1]
	return last[1] + last[2]
}

// runTranscript plays steps on a new connection to addr and returns the
// normalised replies of each step.
func runTranscript(t *testing.T, addr string, steps []step) []string {
	t.Helper()
	rc := dial(t, addr)
	cas := "0"
	out := make([]string, len(steps))
	for i, s := range steps {
		rc.send(strings.ReplaceAll(s.req, "{cas}", cas))
		var reply strings.Builder
		for range s.replies {
			_ = rc.c.SetReadDeadline(time.Now().Add(ioTimeout))
			r, err := readReply(rc.r)
			reply.WriteString(r)
			if err != nil {
				t.Fatalf("%s: step %d %q: reading reply: %v (got %q)", addr, i, abbrev(s.req), err, abbrev(reply.String()))
			}
		}
		if c := lastCas(reply.String()); c != "" {
			cas = c
		}
		out[i] = normalizeCas(reply.String())
	}
	return out
}

// compareTranscripts plays steps against memcached directly and against
// target and requires the same bytes for every step.
func compareTranscripts(t *testing.T, direct, target string, steps []step) {
	t.Helper()
	want := runTranscript(t, direct, steps)
	got := runTranscript(t, target, steps)
	for i := range steps {
		if got[i] != want[i] {
			t.Errorf("step %d %q:\n got %q\nwant %q", i, abbrev(steps[i].req), abbrev(got[i]), abbrev(want[i]))
		}
	}
}

var transcripts = map[string][]step{
	"storage":  storageTranscript,
	"meta":     metaTranscript,
	"badinput": badInputTranscript,
}

// TestDifferentialProxy: the same bytes through moxi (one memcached behind
// it) as from memcached directly.
func TestDifferentialProxy(t *testing.T) {
	t.Parallel()
	for name, steps := range transcripts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			direct, behind := startMemcached(t), startMemcached(t)
			compareTranscripts(t, direct.Addr, startProxy(t, []string{behind.Addr}, "").Addr, steps)
		})
	}
}

// TestDifferentialBuiltinServer: moxi -p answers like memcached.
func TestDifferentialBuiltinServer(t *testing.T) {
	t.Parallel()
	for name, steps := range transcripts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			compareTranscripts(t, startMemcached(t).Addr, startServer(t).Addr, steps)
		})
	}
}

// TestDifferentialFourServers: with keys spread over four servers the
// replies are still memcached's (flush_all and multi-gets fan out).
func TestDifferentialFourServers(t *testing.T) {
	t.Parallel()
	direct := startMemcached(t)
	ms := startMemcacheds(t, 4)
	proxy := startProxy(t, addrs(ms), "")
	for _, name := range []string{"storage", "meta", "badinput"} {
		t.Run(name, func(t *testing.T) { compareTranscripts(t, direct.Addr, proxy.Addr, transcripts[name]) })
	}
}

// TestMetaDebug: me is passed through (its la= field varies, so it is
// checked by shape rather than byte for byte).
func TestMetaDebug(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	rc := dial(t, startProxy(t, []string{mc.Addr}, "").Addr)
	rc.expect("set dbg 0 0 3\r\nabc\r\n", "STORED\r\n")
	re := regexp.MustCompile(`^ME dbg exp=-1 la=\d+ cas=\d+ fetch=no cls=\d+ size=\d+\r\n$`)
	if got := rc.call("me dbg\r\n"); !re.MatchString(got) {
		t.Errorf("me dbg: got %q", got)
	}
	rc.expect("me nothere\r\n", "EN\r\n")
	rc.expect("mn\r\n", "MN\r\n")
}

func TestNormalizeCas(t *testing.T) {
	for _, c := range []struct{ in, want, cas string }{
		{"VALUE a 0 1 17\r\nx\r\nEND\r\n", "VALUE a 0 1 <cas>\r\nx\r\nEND\r\n", "17"},
		{"VALUE a 0 1\r\nx\r\nEND\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n", ""},
		{"HD c5\r\n", "HD c<cas>\r\n", "5"},
		{"VA 2 km f5 c12 s2\r\nhi\r\n", "VA 2 km f5 c<cas> s2\r\nhi\r\n", "12"},
		{"VA 2 kcc c9\r\nhi\r\n", "VA 2 kcc c<cas>\r\nhi\r\n", "9"},
	} {
		if got := normalizeCas(c.in); got != c.want {
			t.Errorf("normalizeCas(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := lastCas(c.in); got != c.cas {
			t.Errorf("lastCas(%q) = %q, want %q", c.in, got, c.cas)
		}
	}
}
