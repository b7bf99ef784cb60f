package e2e

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// runMemccapable runs libmemcached's memccapable ascii suite against the
// port and returns the names of failed cases and the whole output.
func runMemccapable(t *testing.T, port int) (failed []string, output string) {
	t.Helper()
	return runMemccapableSuite(t, port, "ascii")
}

// runMemccapableSuite runs one memccapable suite, "ascii" (-a) or "binary"
// (-b). memccapable prints one "[pass]" or "[FAIL]" line per case; a suite
// whose "<suite> set" case did not pass counts as not run, so that a
// memccapable that gave up early is not taken for success.
func runMemccapableSuite(t *testing.T, port int, suite string) (failed []string, output string) {
	t.Helper()
	path := requireTool(t, "memccapable")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	flag := map[string]string{"ascii": "-a", "binary": "-b"}[suite]
	if flag == "" {
		t.Fatalf("memccapable: unknown suite %q", suite)
	}
	cmd := exec.CommandContext(ctx, path, "-h", "127.0.0.1", "-p", strconv.Itoa(port), flag, "-t", "5")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("memccapable %s still running after 60s:\n%s", flag, out)
	}
	for _, m := range regexp.MustCompile(`(?m)^(.*?)\s*\[FAIL\]`).FindAllStringSubmatch(string(out), -1) {
		failed = append(failed, m[1])
	}
	if err != nil && len(failed) == 0 {
		failed = append(failed, "exit: "+err.Error())
	}
	if !regexp.MustCompile(`(?m)^`+suite+` set\s+\[pass\]`).Match(out) && len(failed) == 0 {
		failed = append(failed, "no test ran")
	}
	return failed, string(out)
}

func TestMemccapable(t *testing.T) {
	t.Parallel()
	targets := map[string]func(t *testing.T) int{
		"memcached": func(t *testing.T) int { return startMemcached(t).Port },
		"proxy": func(t *testing.T) int {
			return startProxy(t, []string{startMemcached(t).Addr}, "").Port
		},
		"proxy-4-servers": func(t *testing.T) int {
			return startProxy(t, addrs(startMemcacheds(t, 4)), "").Port
		},
		"builtin-server": func(t *testing.T) int { return startServer(t).Port },
	}
	for name, start := range targets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if failed, out := runMemccapable(t, start(t)); len(failed) > 0 {
				t.Errorf("memccapable -a failed %q:\n%s", failed, out)
			}
		})
	}
}
