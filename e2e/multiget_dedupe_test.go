package e2e

import "testing"

// TestMultigetDedupeCounters: a multi-get naming a key three times fetches
// it once and sends it three times; stats proxy counts the two keys and
// the value bytes the dedupe saved.
func TestMultigetDedupeCounters(t *testing.T) {
	t.Parallel()
	proxy := startProxy(t, []string{startMemcached(t).Addr}, "").Addr
	rc := dial(t, proxy)
	rc.expect("set dd 0 0 5\r\nhello\r\n", "STORED\r\n")
	block := "VALUE dd 0 5\r\nhello\r\n"
	rc.expect("get dd zz dd dd\r\n", block+block+block+"END\r\n")
	if n := proxyCounter(t, proxy, "tot_multiget_keys_dedupe"); n != 2 {
		t.Errorf("tot_multiget_keys_dedupe = %d, want 2", n)
	}
	if n := proxyCounter(t, proxy, "tot_multiget_bytes_dedupe"); n != 2*len(block) {
		t.Errorf("tot_multiget_bytes_dedupe = %d, want %d", n, 2*len(block))
	}
}
