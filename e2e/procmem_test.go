package e2e

import (
	"os"
	"testing"
)

// memStatus returns the process's resident memory now (VmRSS) and its
// peak (VmHWM), in bytes, read from /proc/PID/status (procStatusKB).
// Measured from the outside, they count everything the process holds
// (Go heap, stacks, runtime), which is what an operator's budget is
// about. Where there is no /proc the test is skipped: the measure does
// not exist there.
func memStatus(t testing.TB, p *proc) (rss, hwm int64) {
	t.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("no /proc here to read %s's memory from: %v", p.Name, err)
	}
	for _, f := range []struct {
		name string
		to   *int64
	}{{"VmRSS", &rss}, {"VmHWM", &hwm}} {
		kb, err := procStatusKB(p.cmd.Process.Pid, f.name)
		if err != nil {
			t.Fatalf("%s's memory: %v\n%s", p.Name, err, p.Output())
		}
		*f.to = int64(kb) << 10
	}
	return rss, hwm
}
