package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/couchbase/gomemcached"
	mc "github.com/couchbase/gomemcached/client"
)

// opTouch is TOUCH (0x1c), which gomemcached has no constant for.
const opTouch = gomemcached.CommandCode(0x1c)

// dialGomemcached connects couchbase's binary client to addr. Its calls
// have no timeouts of their own, so one deadline bounds the whole test.
func dialGomemcached(t *testing.T, addr string) *mc.Client {
	t.Helper()
	c, err := mc.Connect("tcp", addr)
	if err != nil {
		t.Fatalf("gomemcached connect %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return c
}

// exerciseGomemcached drives every command of gomemcached's client that a
// memcached serves through addr and checks memcached's semantics. servers
// are the memcached (or moxi -p) processes at the end of the chain, read
// directly to check merged stats. It flushes them.
func exerciseGomemcached(t *testing.T, addr string, servers []string) {
	t.Helper()
	c := dialGomemcached(t, addr)
	steps := append(gomemcachedSteps(t, servers), bstep{"auth refused", bcheckAuthRefused})
	for _, s := range steps {
		if err := s.fn(c); err != nil {
			t.Errorf("gomemcached %s via %s: %v", s.name, addr, err)
		}
	}
}

// bstep is one named check of a gomemcached client.
type bstep struct {
	name string
	fn   func(*mc.Client) error
}

// gomemcachedSteps are the checks in order: the first flushes, the later
// ones rely on keys the earlier ones set.
func gomemcachedSteps(t *testing.T, servers []string) []bstep {
	return []bstep{
		{"flush", bcheckFlush},
		{"set/get", bcheckSetGet},
		{"get_bulk", bcheckGetBulk},
		{"incr/decr", bcheckIncrDecr},
		{"append", bcheckAppend},
		{"delete", bcheckDelete},
		{"touch/gat", bcheckTouch},
		{"cas", bcheckCAS},
		{"stats", func(c *mc.Client) error { return bcheckStats(t, c, servers) }},
	}
}

// wantStatus checks a reply's status. gomemcached returns a non-success
// reply as the error too; any other error (I/O) is a failure, whatever
// the half-read reply says.
func wantStatus(op string, res *gomemcached.MCResponse, err error, want gomemcached.Status) error {
	if _, isReply := err.(*gomemcached.MCResponse); err != nil && !isReply {
		return fmt.Errorf("%s: %w", op, err)
	}
	if res == nil {
		return fmt.Errorf("%s: no reply", op)
	}
	if res.Status != want {
		return fmt.Errorf("%s: status %v (%q), want %v", op, res.Status, res.Body, want)
	}
	return nil
}

// bwantValue gets key and compares value and flags.
func bwantValue(c *mc.Client, key, value string, flags uint32) error {
	res, err := c.Get(0, key)
	if err := wantStatus("get "+key, res, err, gomemcached.SUCCESS); err != nil {
		return err
	}
	if string(res.Body) != value || len(res.Extras) != 4 || binary.BigEndian.Uint32(res.Extras) != flags {
		return fmt.Errorf("get %q = %q extras %x, want %q flags %d", key, res.Body, res.Extras, value, flags)
	}
	return nil
}

func bcheckFlush(c *mc.Client) error {
	res, err := c.Send(&gomemcached.MCRequest{Opcode: gomemcached.FLUSH, Opaque: 77})
	if err := wantStatus("flush", res, err, gomemcached.SUCCESS); err != nil {
		return err
	}
	res, err = c.Get(0, "anything")
	return wantStatus("get after flush", res, err, gomemcached.KEY_ENOENT)
}

func bcheckSetGet(c *mc.Client) error {
	set, err := c.Set(0, "bsg", 42, 0, []byte("hello"))
	if err := wantStatus("set", set, err, gomemcached.SUCCESS); err != nil {
		return err
	}
	if err := bwantValue(c, "bsg", "hello", 42); err != nil {
		return err
	}
	get, _ := c.Get(0, "bsg")
	if set.Cas == 0 || get.Cas != set.Cas {
		return fmt.Errorf("cas of set %d, of get %d: want equal and non-zero", set.Cas, get.Cas)
	}
	if err := bset(c, "bsg-empty", 0, 0, ""); err != nil {
		return err
	}
	if err := bwantValue(c, "bsg-empty", "", 0); err != nil {
		return err
	}
	res, err := c.Add(0, "bsg", 0, 0, []byte("again"))
	if err := wantStatus("add existing", res, err, gomemcached.KEY_EEXISTS); err != nil {
		return err
	}
	res, err = c.Get(0, "bsg-missing")
	return wantStatus("get missing", res, err, gomemcached.KEY_ENOENT)
}

// bcheckGetBulk sets enough keys to land on every server and reads them
// back in one pipelined GET...NOOP, with misses among them.
func bcheckGetBulk(c *mc.Client) error {
	want := map[string]string{}
	keys := []string{"bulk-missing-1"}
	for i := range 40 {
		k, v := fmt.Sprintf("bulk-%d", i), fmt.Sprintf("value-%d", i)
		if err := bset(c, k, i, 0, v); err != nil {
			return err
		}
		want[k] = v
		keys = append(keys, k)
	}
	keys = append(keys, "bulk-missing-2")
	got := map[string]*gomemcached.MCResponse{}
	if err := c.GetBulk(0, keys, got, nil); err != nil {
		return fmt.Errorf("get_bulk: %w", err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("get_bulk returned %d items, want %d", len(got), len(want))
	}
	for k, v := range want {
		if r := got[k]; r == nil || string(r.Body) != v || r.Cas == 0 {
			return fmt.Errorf("get_bulk[%q] = %v, want %q with a cas", k, r, v)
		}
	}
	// The connection is still in step after the NOOP.
	return bwantValue(c, "bulk-3", "value-3", 3)
}

func bcheckIncrDecr(c *mc.Client) error {
	steps := []struct {
		incr           bool
		delta, initial uint64
		want           uint64
	}{
		{true, 5, 10, 10}, // missing: created with the initial value
		{true, 5, 10, 15},
		{false, 3, 0, 12},
		{false, 100, 0, 0},
		{true, 18446744073709551615, 0, 18446744073709551615},
		{true, 2, 0, 1},
	}
	for _, s := range steps {
		var got uint64
		var err error
		if s.incr {
			got, err = c.Incr(0, "bctr", s.delta, s.initial, 0)
		} else {
			got, err = c.Decr(0, "bctr", s.delta, s.initial, 0)
		}
		if err != nil || got != s.want {
			return fmt.Errorf("incr=%v %d: got %d, %v; want %d", s.incr, s.delta, got, err, s.want)
		}
	}
	// memcached rewrites a shorter number in place, padded with spaces.
	if err := bwantValue(c, "bctr", "1"+strings.Repeat(" ", 19), 0); err != nil {
		return err
	}
	if err := bset(c, "btext", 0, 0, "abc"); err != nil {
		return err
	}
	_, err := c.Incr(0, "btext", 1, 0, 0)
	if res, ok := err.(*gomemcached.MCResponse); !ok || res.Status != gomemcached.DELTA_BADVAL {
		return fmt.Errorf("incr of a non-numeric value: %v, want DELTA_BADVAL", err)
	}
	return nil
}

func bcheckAppend(c *mc.Client) error {
	res, err := c.Append(0, "bap-missing", []byte("x"))
	if err := wantStatus("append missing", res, err, gomemcached.NOT_STORED); err != nil {
		return err
	}
	if err := bset(c, "bap", 3, 0, "mid"); err != nil {
		return err
	}
	res, err = c.Append(0, "bap", []byte(">>"))
	if err := wantStatus("append", res, err, gomemcached.SUCCESS); err != nil {
		return err
	}
	return bwantValue(c, "bap", "mid>>", 3)
}

func bcheckDelete(c *mc.Client) error {
	if err := bset(c, "bdel", 0, 0, "x"); err != nil {
		return err
	}
	res, err := c.Del(0, "bdel")
	if err := wantStatus("delete", res, err, gomemcached.SUCCESS); err != nil {
		return err
	}
	res, err = c.Del(0, "bdel")
	if err := wantStatus("delete again", res, err, gomemcached.KEY_ENOENT); err != nil {
		return err
	}
	res, err = c.Get(0, "bdel")
	return wantStatus("get deleted", res, err, gomemcached.KEY_ENOENT)
}

// bset sets key and requires success.
func bset(c *mc.Client, key string, flags, exp int, value string) error {
	res, err := c.Set(0, key, flags, exp, []byte(value))
	return wantStatus("set "+key, res, err, gomemcached.SUCCESS)
}

// touch sends TOUCH, which gomemcached builds only through Send.
func touch(c *mc.Client, key string, exp uint32) (*gomemcached.MCResponse, error) {
	return c.Send(&gomemcached.MCRequest{Opcode: opTouch, Key: []byte(key), Opaque: 5,
		Extras: binary.BigEndian.AppendUint32(nil, exp)})
}

func bcheckTouch(c *mc.Client) error {
	if err := bset(c, "btouch", 0, 100, "t"); err != nil {
		return err
	}
	res, err := touch(c, "btouch", 1000)
	if err := wantStatus("touch", res, err, gomemcached.SUCCESS); err != nil {
		return err
	}
	res, err = touch(c, "btouch-missing", 1000)
	if err := wantStatus("touch missing", res, err, gomemcached.KEY_ENOENT); err != nil {
		return err
	}
	res, err = c.GetAndTouch(0, "btouch", 500)
	if err := wantStatus("gat", res, err, gomemcached.SUCCESS); err != nil {
		return err
	}
	if string(res.Body) != "t" {
		return fmt.Errorf("gat: value %q, want %q", res.Body, "t")
	}
	res, err = c.GetAndTouch(0, "btouch-missing", 500)
	return wantStatus("gat missing", res, err, gomemcached.KEY_ENOENT)
}

// bcheckCAS uses SetCas with fresh and stale tokens and the client's own
// CAS loop (GET, then SET with the CAS, or ADD for a missing key).
func bcheckCAS(c *mc.Client) error {
	set, err := c.Set(0, "bcas", 0, 0, []byte("v1"))
	if err := wantStatus("set", set, err, gomemcached.SUCCESS); err != nil {
		return err
	}
	res, err := c.SetCas(0, "bcas", 0, 0, set.Cas, []byte("v2"))
	if err := wantStatus("cas with fresh token", res, err, gomemcached.SUCCESS); err != nil {
		return err
	}
	res, err = c.SetCas(0, "bcas", 0, 0, set.Cas, []byte("v3"))
	if err := wantStatus("cas with stale token", res, err, gomemcached.KEY_EEXISTS); err != nil {
		return err
	}
	appendBang := func(cur []byte) ([]byte, mc.CasOp) { return append(bytes.Clone(cur), '!'), mc.CASStore }
	for _, k := range []string{"bcas", "bcas-new"} {
		res, err = c.CAS(0, k, appendBang, 0)
		if err := wantStatus("CAS loop on "+k, res, err, gomemcached.SUCCESS); err != nil {
			return err
		}
	}
	if err := bwantValue(c, "bcas", "v2!", 0); err != nil {
		return err
	}
	return bwantValue(c, "bcas-new", "!", 0)
}

// bcheckStats: STAT through the proxy sums the servers' counters.
func bcheckStats(t *testing.T, c *mc.Client, servers []string) error {
	got, err := c.StatsMap("")
	if err != nil {
		return err
	}
	var items, total uint64
	for _, s := range servers {
		st := statsOf(t, s, "stats")
		n, err1 := strconv.ParseUint(st["curr_items"], 10, 64)
		m, err2 := strconv.ParseUint(st["total_items"], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("stats of %s: curr_items %q total_items %q", s, st["curr_items"], st["total_items"])
		}
		items, total = items+n, total+m
	}
	if got["curr_items"] != strconv.FormatUint(items, 10) || got["total_items"] != strconv.FormatUint(total, 10) {
		return fmt.Errorf("merged curr_items %q total_items %q, want the sums %d and %d",
			got["curr_items"], got["total_items"], items, total)
	}
	if items == 0 {
		return fmt.Errorf("no items on the servers after the sets: %v", got)
	}
	return nil
}

// bcheckAuthRefused: PLAIN credentials the proxy does not know fail with
// an auth error, and the connection keeps serving.
func bcheckAuthRefused(c *mc.Client) error {
	res, err := c.Auth("nobody", "secret")
	if err := wantStatus("auth", res, err, gomemcached.AUTH_ERROR); err != nil {
		return err
	}
	return bwantValue(c, "bsg", "hello", 42)
}

// TestBinaryGomemcachedClient: couchbase's binary client through moxi with a
// binary downstream over three memcached.
func TestBinaryGomemcachedClient(t *testing.T) {
	t.Parallel()
	servers := addrs(startMemcacheds(t, 3))
	exerciseGomemcached(t, startBinaryProxy(t, servers, "").Addr, servers)
}

// TestBinaryGomemcachedMemcached checks the checks: they pass against memcached
// itself (but for the auth step: memcached without -S does not know SASL).
func TestBinaryGomemcachedMemcached(t *testing.T) {
	t.Parallel()
	addr := startMemcached(t).Addr
	c := dialGomemcached(t, addr)
	for _, s := range gomemcachedSteps(t, []string{addr}) {
		if err := s.fn(c); err != nil {
			t.Errorf("gomemcached %s on memcached: %v", s.name, err)
		}
	}
}
