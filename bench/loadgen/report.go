package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
)

// The report turns the JSON lines collected by run.sh into markdown. Each
// line is a loadgen result to which run.sh appended the workload name, the
// system measured and the proxy's resource usage; a line with "na" set
// stands for a system that could not be measured.
type row struct {
	result
	Workload string  `json:"workload"`
	System   string  `json:"system"` // direct, twemproxy, moxi
	ProxyCPU float64 `json:"proxy_cpu_s"`
	ProxyRSS float64 `json:"proxy_rss_kb"`
	NA       string  `json:"na"`

	runs           int // how many runs this row is the median of
	minOps, maxOps float64
	minP99, maxP99 uint64
}

func readRows(path string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

func printReport(out io.Writer, path string) error {
	all, err := readRows(path)
	if err != nil {
		return err
	}
	rows := medians(all)
	printResults(out, rows)
	fmt.Fprintln(out)
	printRatios(out, rows)
	fmt.Fprintln(out)
	printChecks(out, all)
	return nil
}

// printChecks shows how much of the verification had teeth: reads of a
// key whose exact version the reader knew, summed over all runs.
func printChecks(out io.Writer, all []row) {
	fmt.Fprint(out, "Reads checked against the version their owner last set (all runs):")
	for _, r := range medians(all) {
		if r.NA == "" {
			var n uint64
			for _, a := range all {
				if a.Workload == r.Workload && a.System == r.System {
					n += a.VersionChecks
				}
			}
			fmt.Fprintf(out, " %s/%s %d;", r.Workload, r.System, n)
		}
	}
	fmt.Fprintln(out)
}

// medians reduces repeated runs (BENCH_REPEAT) to one row per workload and
// system: the run with the median throughput, carrying the throughput range
// and the error and miss totals of all runs, so that no failure is hidden.
// Its latency percentiles are the medians over all runs, each taken on its
// own: a tail percentile varies more from run to run than throughput does,
// and the p99 of whichever run had the median throughput is one draw of
// that noise rather than its middle. Unmeasured (n/a) runs only show when
// nothing was measured. Order of first appearance is preserved.
func medians(all []row) []row {
	type key struct{ workload, system string }
	groups := map[key][]row{}
	var order []key
	for _, r := range all {
		k := key{r.Workload, r.System}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []row
	for _, k := range order {
		g := groups[k]
		measured := slices.DeleteFunc(slices.Clone(g), func(r row) bool { return r.NA != "" })
		if len(measured) == 0 {
			out = append(out, g[0])
			continue
		}
		slices.SortFunc(measured, func(a, b row) int { return cmp.Compare(a.OpsPerSec, b.OpsPerSec) })
		m := measured[(len(measured)-1)/2] // lower median: an actual run, not an average
		m.runs = len(measured)
		m.minOps, m.maxOps = measured[0].OpsPerSec, measured[len(measured)-1].OpsPerSec
		m.Errors, m.Misses = 0, 0
		for _, r := range measured {
			m.Errors += r.Errors
			m.Misses += r.Misses
		}
		m.P50 = lowerMedian(sortedOf(measured, func(r row) uint64 { return r.P50 }))
		m.P999 = lowerMedian(sortedOf(measured, func(r row) uint64 { return r.P999 }))
		p99s := sortedOf(measured, func(r row) uint64 { return r.P99 })
		m.P99, m.minP99, m.maxP99 = lowerMedian(p99s), p99s[0], p99s[len(p99s)-1]
		out = append(out, m)
	}
	return out
}

// sortedOf is f over rows, in ascending order.
func sortedOf(rows []row, f func(row) uint64) []uint64 {
	vs := make([]uint64, len(rows))
	for i, r := range rows {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	return vs
}

// lowerMedian of sorted values: a measured value, not an average of two.
func lowerMedian(sorted []uint64) uint64 { return sorted[(len(sorted)-1)/2] }

func describe(r *row) string {
	s := fmt.Sprintf("%s: %d conns, %d-key get, depth %d, %.0f%% get",
		r.Workload, r.Conns, r.Multiget, r.Pipeline, 100*r.GetRatio)
	if r.Proto == "binary" { // older results have no proto: ascii
		s += ", binary"
	}
	return s
}

func printResults(out io.Writer, rows []row) {
	fmt.Fprintln(out, "| workload | system | ops/s | keys/s | p50 µs | p99 µs | p99.9 µs | errors | misses | proxy CPU s / M ops | proxy peak RSS MB | loadgen cores |")
	fmt.Fprintln(out, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for i := range rows {
		r := &rows[i]
		if r.NA != "" {
			fmt.Fprintf(out, "| %s | %s | n/a (%s) | | | | | | | | | |\n", r.Workload, r.System, r.NA)
			continue
		}
		cpu, rss := "–", "–"
		if r.System != "direct" {
			cpu = fmt.Sprintf("%.2f", perMillion(r.ProxyCPU, r.Ops))
			rss = fmt.Sprintf("%.1f", r.ProxyRSS/1024)
		}
		ops, p99 := fmt.Sprintf("%.0f", r.OpsPerSec), fmt.Sprint(r.P99)
		if r.runs > 1 {
			ops += fmt.Sprintf(" (%.0f–%.0f, n=%d)", r.minOps, r.maxOps, r.runs)
			p99 += fmt.Sprintf(" (%d–%d)", r.minP99, r.maxP99)
		}
		fmt.Fprintf(out, "| %s | %s | %s | %.0f | %d | %s | %d | %d | %d | %s | %s | %.2f |\n",
			describe(r), r.System, ops, r.KeysPerSec, r.P50, p99, r.P999,
			r.Errors, r.Misses, cpu, rss, r.ClientCPU/r.Seconds)
	}
}

func perMillion(cpu float64, ops uint64) float64 {
	if ops == 0 {
		return 0
	}
	return cpu / (float64(ops) / 1e6)
}

// printRatios compares moxi with twemproxy and with direct access, per
// workload. Throughput ratios > 1 and p99 or CPU ratios < 1 favour moxi.
func printRatios(out io.Writer, rows []row) {
	fmt.Fprintln(out, "| workload | moxi/twemproxy ops/s | moxi/twemproxy p99 | moxi/twemproxy CPU per op | moxi/direct ops/s | moxi/direct p99 | twemproxy/direct ops/s |")
	fmt.Fprintln(out, "|---|--:|--:|--:|--:|--:|--:|")
	for _, wl := range workloads(rows) {
		d, t, m := find(rows, wl, "direct"), find(rows, wl, "twemproxy"), find(rows, wl, "moxi")
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %s | %s |\n", wl,
			ratio(m, t, func(r *row) float64 { return r.OpsPerSec }),
			ratio(m, t, func(r *row) float64 { return float64(r.P99) }),
			ratio(m, t, func(r *row) float64 { return perMillion(r.ProxyCPU, r.Ops) }),
			ratio(m, d, func(r *row) float64 { return r.OpsPerSec }),
			ratio(m, d, func(r *row) float64 { return float64(r.P99) }),
			ratio(t, d, func(r *row) float64 { return r.OpsPerSec }))
	}
}

func workloads(rows []row) []string {
	var ws []string
	for _, r := range rows {
		if !slices.Contains(ws, r.Workload) {
			ws = append(ws, r.Workload)
		}
	}
	return ws
}

// find returns the measured row of a workload and system, or nil.
func find(rows []row, workload, system string) *row {
	for i := range rows {
		if rows[i].Workload == workload && rows[i].System == system && rows[i].NA == "" {
			return &rows[i]
		}
	}
	return nil
}

func ratio(a, b *row, f func(*row) float64) string {
	if a == nil || b == nil || f(b) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", f(a)/f(b))
}
