package e2e

import "testing"

// TestMemccapableBinary runs memccapable's binary suite (-b) against real
// memcached (to check the check), moxi with a binary downstream over one
// and four memcached, and moxi's built-in server; and its ascii suite (-a)
// against the binary-downstream proxy, where every text command is
// translated.
func TestMemccapableBinary(t *testing.T) {
	t.Parallel()
	targets := []struct {
		name, suite string
		start       func(t *testing.T) int
	}{
		{"memcached", "binary", func(t *testing.T) int { return startMemcached(t).Port }},
		{"proxy", "binary", func(t *testing.T) int {
			return startBinaryProxy(t, []string{startMemcached(t).Addr}, "").Port
		}},
		{"proxy-4-servers", "binary", func(t *testing.T) int {
			return startBinaryProxy(t, addrs(startMemcacheds(t, 4)), "").Port
		}},
		{"builtin-server", "binary", func(t *testing.T) int { return startServer(t).Port }},
		{"proxy-ascii-suite", "ascii", func(t *testing.T) int {
			return startBinaryProxy(t, []string{startMemcached(t).Addr}, "").Port
		}},
		{"proxy-4-servers-ascii-suite", "ascii", func(t *testing.T) int {
			return startBinaryProxy(t, addrs(startMemcacheds(t, 4)), "").Port
		}},
	}
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if failed, out := runMemccapableSuite(t, tc.start(t), tc.suite); len(failed) > 0 {
				t.Errorf("memccapable %s suite failed %q:\n%s", tc.suite, failed, out)
			}
		})
	}
}
