package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	lines := []string{
		`{"ops":1000000,"ops_per_sec":100,"p99_us":10,"duration_s":10,"workload":"A","system":"direct"}`,
		`{"ops":1000000,"ops_per_sec":50,"p99_us":20,"duration_s":10,"workload":"A","system":"twemproxy","proxy_cpu_s":4,"proxy_rss_kb":2048}`,
		`{"ops":1000000,"ops_per_sec":80,"p99_us":40,"duration_s":10,"workload":"A","system":"moxi","proxy_cpu_s":2,"proxy_rss_kb":1024,"errors":1}`,
		`{"ops":1000000,"ops_per_sec":60,"p99_us":15,"duration_s":10,"workload":"A","system":"moxi","proxy_cpu_s":3,"proxy_rss_kb":1024}`,
		`{"ops":1000000,"ops_per_sec":90,"p99_us":5,"duration_s":10,"workload":"A","system":"moxi","proxy_cpu_s":3,"proxy_rss_kb":1024}`,
		`{"workload":"B","system":"moxi","na":"not running"}`,
		`{"ops":1000,"ops_per_sec":100,"p99_us":10,"duration_s":10,"workload":"Abin","system":"direct","proto":"binary","conns":50,"multiget":1,"pipeline":1,"get_ratio":0.9}`,
		`{"workload":"Abin","system":"twemproxy","na":"no binary protocol"}`,
		`{"ops":1000,"ops_per_sec":90,"p99_us":20,"duration_s":10,"workload":"Abin","system":"moxi","proto":"binary","proxy_cpu_s":1}`,
	}
	path := filepath.Join(t.TempDir(), "r.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := printReport(&b, path); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"| twemproxy | 50 |",                              // one run: no range shown
		"| moxi | 80 (60–90, n=3) |",                      // median run of three, with range
		"| 15 (5–40) |",                                   // p99: the median over runs, not the median run's 40
		"| 1 | 0 | 2.00 | 1.0 |",                          // errors summed over runs; CPU s per M ops; RSS MB
		"| A | 1.60 | 0.75 | 0.50 | 0.80 | 1.50 | 0.50 |", // ops/s and CPU from the median run, p99 the median p99
		"| B | moxi | n/a (not running) |",
		"| B | n/a | n/a | n/a | n/a | n/a | n/a |",
		"| Abin: 50 conns, 1-key get, depth 1, 90% get, binary | direct | 100 |",
		"| Abin | twemproxy | n/a (no binary protocol) |",
		"| Abin | n/a | n/a | n/a | 0.90 | 2.00 | n/a |", // moxi/direct only
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}
