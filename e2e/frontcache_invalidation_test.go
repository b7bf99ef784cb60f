package e2e

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFrontCacheDropsEveryChange: a key the front cache holds (from a
// text get) is dropped at once by every command through the proxy that
// may change it, in the text, meta and binary protocols, noreply and
// quiet forms included, over both downstream protocols (binary clients
// need a binary downstream); flush_all, FLUSH and FLUSHQ drop every key.
//
// Each case first makes the cache stale where the command itself would
// not show it: touch, gat and mg T leave the value alone, so the server's
// value is changed behind the proxy's back before; add and mg N need the
// key gone, so it is deleted behind its back. The get through the proxy
// after the command must then match the server's state, which is never
// the cached value: the test fails if the entry survived.
//
// The groups run in parallel, each with its own memcached and proxy; the
// cases of a group run in turn, since they read the proxy's counters
// (cacheAnswers, and the miss the get after each change must be).
func TestFrontCacheDropsEveryChange(t *testing.T) {
	t.Parallel()
	for _, down := range []string{"ascii", "binary"} {
		t.Run("text/"+down, func(t *testing.T) {
			t.Parallel()
			runTextChanges(t, newStaleFixture(t, down), down, classicChanges)
		})
		t.Run("meta/"+down, func(t *testing.T) {
			t.Parallel()
			runTextChanges(t, newStaleFixture(t, down), down, metaChanges)
		})
	}
	t.Run("binary/binary", func(t *testing.T) {
		t.Parallel()
		runBinaryChanges(t, newStaleFixture(t, "binary"), binaryChanges)
	})
}

// staleFixture is a memcached and a proxy with the front cache on for
// "yes" keys: rc reads (and, for text cases, changes) through the proxy,
// direct reads and changes the server behind its back.
type staleFixture struct {
	proxy  *proc
	rc     *rawConn
	direct *rawConn
}

func newStaleFixture(t *testing.T, downstream string) *staleFixture {
	t.Helper()
	mc := startMemcached(t)
	proxy := startProxy(t, []string{mc.Addr}, "downstream_protocol="+downstream+","+frontCacheZ(time.Hour))
	return &staleFixture{proxy: proxy, rc: dial(t, proxy.Addr), direct: dial(t, mc.Addr)}
}

// failing returns f with its connections failing t, a case, rather than
// the group that dialed them: a subtest must not end its parent.
func (f *staleFixture) failing(t *testing.T) *staleFixture {
	rc, direct := *f.rc, *f.direct
	rc.t, direct.t = t, t
	return &staleFixture{proxy: f.proxy, rc: &rc, direct: &direct}
}

// What a case does behind the proxy's back once the key is cached.
const (
	changeBehind = "set <k> 0 0 1\r\nS\r\n" // the server's value becomes S
	deleteBehind = "delete <k>\r\n"         // the server no longer has the key
)

// textChange is a text or meta command that must drop a cached key.
// In send and replies, <k> is the key, <k64> its base64 and <cas> the
// cas the server holds just before the command.
type textChange struct {
	name    string
	initial string // the value cached; "A" when empty
	behind  string // changeBehind, deleteBehind or nothing
	send    string
	replies string // all the proxy answers to send, "" for noreply
	after   string // the value at the server afterwards
	gone    bool   // or the key is not there afterwards
	all     bool   // a flush: every key goes
	ascii   bool   // needs an ascii downstream
}

var classicChanges = []textChange{
	{name: "set", send: "set <k> 0 0 1\r\nB\r\n", replies: "STORED\r\n", after: "B"},
	{name: "set noreply", send: "set <k> 0 0 1 noreply\r\nB\r\n", after: "B"},
	{name: "add", behind: deleteBehind, send: "add <k> 0 0 1\r\nB\r\n", replies: "STORED\r\n", after: "B"},
	{name: "add noreply", behind: deleteBehind, send: "add <k> 0 0 1 noreply\r\nB\r\n", after: "B"},
	{name: "replace", send: "replace <k> 0 0 1\r\nB\r\n", replies: "STORED\r\n", after: "B"},
	{name: "replace noreply", send: "replace <k> 0 0 1 noreply\r\nB\r\n", after: "B"},
	{name: "append", send: "append <k> 0 0 1\r\nB\r\n", replies: "STORED\r\n", after: "AB"},
	{name: "append noreply", send: "append <k> 0 0 1 noreply\r\nB\r\n", after: "AB"},
	{name: "prepend", send: "prepend <k> 0 0 1\r\nB\r\n", replies: "STORED\r\n", after: "BA"},
	{name: "prepend noreply", send: "prepend <k> 0 0 1 noreply\r\nB\r\n", after: "BA"},
	{name: "cas", send: "cas <k> 0 0 1 <cas>\r\nB\r\n", replies: "STORED\r\n", after: "B"},
	{name: "cas noreply", send: "cas <k> 0 0 1 <cas> noreply\r\nB\r\n", after: "B"},
	// 20 and not 10: memcached pads a decr that shortens the number
	{name: "incr", initial: "20", send: "incr <k> 5\r\n", replies: "25\r\n", after: "25"},
	{name: "incr noreply", initial: "20", send: "incr <k> 5 noreply\r\n", after: "25"},
	{name: "decr", initial: "20", send: "decr <k> 3\r\n", replies: "17\r\n", after: "17"},
	{name: "decr noreply", initial: "20", send: "decr <k> 3 noreply\r\n", after: "17"},
	{name: "touch", behind: changeBehind, send: "touch <k> 3600\r\n", replies: "TOUCHED\r\n", after: "S"},
	{name: "touch noreply", behind: changeBehind, send: "touch <k> 3600 noreply\r\n", after: "S"},
	{name: "gat", behind: changeBehind, send: "gat 3600 <k>\r\n", replies: "VALUE <k> 0 1\r\nS\r\nEND\r\n", after: "S"},
	{name: "gats", behind: changeBehind, send: "gats 3600 <k>\r\n", replies: "VALUE <k> 0 1 <cas>\r\nS\r\nEND\r\n", after: "S"},
	{name: "delete", send: "delete <k>\r\n", replies: "DELETED\r\n", gone: true},
	{name: "delete noreply", send: "delete <k> noreply\r\n", gone: true},
	{name: "flush_all", send: "flush_all\r\n", replies: "OK\r\n", gone: true, all: true},
	{name: "flush_all noreply", send: "flush_all noreply\r\n", gone: true, all: true},
}

// metaChanges: q hides HD (ms, md, ma), not a hit's value or HD W (mg),
// and mn marks the end of the replies. Meta has no flush.
var metaChanges = []textChange{
	{name: "ms", send: "ms <k> 1\r\nB\r\n", replies: "HD\r\n", after: "B"},
	{name: "ms quiet", send: "ms <k> 1 q\r\nB\r\nmn\r\n", replies: "MN\r\n", after: "B"},
	{name: "ms base64 key", send: "ms <k64> 1 b\r\nB\r\n", replies: "HD\r\n", after: "B"},
	{name: "md", send: "md <k>\r\n", replies: "HD\r\n", gone: true},
	{name: "md quiet", send: "md <k> q\r\nmn\r\n", replies: "MN\r\n", gone: true},
	{name: "ma incr", initial: "20", send: "ma <k>\r\n", replies: "HD\r\n", after: "21"},
	{name: "ma incr quiet", initial: "20", send: "ma <k> q\r\nmn\r\n", replies: "MN\r\n", after: "21"},
	{name: "ma decr", initial: "20", send: "ma <k> MD\r\n", replies: "HD\r\n", after: "19"},
	{name: "ma decr quiet", initial: "20", send: "ma <k> MD q\r\nmn\r\n", replies: "MN\r\n", after: "19"},
	{name: "mg touch", behind: changeBehind, send: "mg <k> T3600 v\r\n", replies: "VA 1\r\nS\r\n", after: "S"},
	{name: "mg touch quiet", behind: changeBehind, send: "mg <k> T3600 v q\r\nmn\r\n", replies: "VA 1\r\nS\r\nMN\r\n", after: "S"},
	// a binary downstream cannot carry mg N (the proxy refuses it with a
	// CLIENT_ERROR, see internal/a2b)
	{name: "mg vivify", behind: deleteBehind, send: "mg <k> N30\r\n", replies: "HD W\r\n", after: "", ascii: true},
	{name: "mg vivify quiet", behind: deleteBehind, send: "mg <k> N30 q\r\nmn\r\n", replies: "HD W\r\nMN\r\n", after: "",
		ascii: true},
}

// runTextChanges sends each case's command from the fixture's text
// client, the one that reads the key back: a noreply command has no
// reply to wait for, only its place on the connection.
func runTextChanges(t *testing.T, f *staleFixture, downstream string, cases []textChange) {
	for _, c := range cases {
		if c.ascii && downstream != "ascii" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			f := f.failing(t)
			key := caseKey(c.name)
			f.checkDropped(t, key, c.initial, c.behind, valueReply(key, c.after, c.gone), c.all, func(cas string) {
				expand := strings.NewReplacer("<k>", key, "<k64>", base64.StdEncoding.EncodeToString([]byte(key)), "<cas>", cas)
				f.rc.send(expand.Replace(c.send))
				want := expand.Replace(c.replies)
				var got string
				for len(got) < len(want) {
					got += f.rc.reply()
				}
				if got != want {
					t.Fatalf("%q through the proxy: %q, want %q", expand.Replace(c.send), got, want)
				}
			})
		})
	}
}

// checkDropped caches key's initial value through the proxy, runs behind
// on the server, then change (given the server's cas, for cas commands),
// and requires the next get through the proxy to be want, the server's
// state, which the server must agree with, and to miss the cache. For
// a flush (all), a second cached key must be gone too.
func (f *staleFixture) checkDropped(t *testing.T, key, initial, behind, want string, all bool, change func(cas string)) {
	t.Helper()
	if initial == "" {
		initial = "A"
	}
	cached := valueReply(key, initial, false)
	if want == cached {
		t.Fatalf("the case ends with the cached value %q: it cannot tell a dropped entry from a kept one", want)
	}
	keys := []string{key}
	if all {
		keys = append(keys, key+"_other")
	}
	for _, k := range keys {
		f.direct.expect(fmt.Sprintf("set %s 0 0 %d\r\n%s\r\n", k, len(initial), initial), "STORED\r\n")
		cacheAnswers(t, f.proxy.Addr, f.rc, "get "+k+"\r\n", valueReply(k, initial, false))
	}
	if behind != "" {
		cmd := strings.ReplaceAll(behind, "<k>", key)
		if got := f.direct.call(cmd); got != "STORED\r\n" && got != "DELETED\r\n" {
			t.Fatalf("%q to the server: %q", cmd, got)
		}
	}
	misses := proxyCounter(t, f.proxy.Addr, "tot_front_cache_misses")
	change(f.serverCas(t, key))
	if got := f.rc.call("get " + key + "\r\n"); got != want {
		t.Errorf("get through the proxy after the change: %q, want the server's %q (cached: %q)", got, want, cached)
	}
	if got := f.direct.call("get " + key + "\r\n"); got != want {
		t.Fatalf("the server holds %q, the case expects %q: the case is wrong", got, want)
	}
	for _, k := range keys[1:] {
		if got := f.rc.call("get " + k + "\r\n"); got != "END\r\n" {
			t.Errorf("get %s through the proxy after the flush: %q, want END", k, got)
		}
	}
	// The gets after the change were answered by the server, not by the
	// cache: the counters agree with the replies.
	if n := proxyCounter(t, f.proxy.Addr, "tot_front_cache_misses") - misses; n < len(keys) {
		t.Errorf("tot_front_cache_misses grew %d over %d gets after the change: the cache answered", n, len(keys))
	}
}

// serverCas is key's cas at the server, "" when it has no key.
func (f *staleFixture) serverCas(t *testing.T, key string) string {
	t.Helper()
	got := f.direct.call("gets " + key + "\r\n")
	if got == "END\r\n" {
		return ""
	}
	fields := strings.Fields(strings.SplitN(got, "\r\n", 2)[0])
	if len(fields) != 5 {
		t.Fatalf("gets %s from the server: %q", key, got)
	}
	return fields[4]
}

// caseKey is a case's key: cacheable (frontCacheZ's "yes" prefix), one
// token.
func caseKey(name string) string { return "yes:" + strings.ReplaceAll(name, " ", "_") }

// valueReply is memcached's reply to a get of key holding value (flags
// 0), or to one of a key it does not have.
func valueReply(key, value string, gone bool) string {
	if gone {
		return "END\r\n"
	}
	return fmt.Sprintf("VALUE %s 0 %d\r\n%s\r\nEND\r\n", key, len(value), value)
}
