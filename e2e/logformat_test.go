package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestJSONLogs: -Z log_format=json makes every log line one JSON object
// with time, level and msg, for log shippers; -vv request logging comes
// out the same way. A bad format stops moxi with one line.
func TestJSONLogs(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	proxy := startProxy(t, []string{mc.Addr}, "log_format=json", "-vv")
	dial(t, proxy.Addr).expect("get json-log-key\r\n", "END\r\n")
	eventually(t, 2*time.Second, func() error {
		if !strings.Contains(proxy.Output(), "json-log-key") {
			return fmt.Errorf("no log line mentions the command yet:\n%s", proxy.Output())
		}
		return nil
	})
	lines := strings.Split(strings.TrimSpace(proxy.Output()), "\n")
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q (%v)", l, err)
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("log line %q has no %q", l, k)
			}
		}
	}
	t.Logf("%d JSON log lines", len(lines))
	checkOneLineError(t, "-p", "11311", "-Z", "log_format=xml")
}
