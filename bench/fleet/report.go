package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
)

// percentile is the nearest-rank percentile p (0-100) of xs: the
// smallest value with at least p% of the values at or below it. Of 50
// values, p50 is the 25th and p99 the 50th, i.e. the largest.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(k, 1)-1]
}

func meanMax(xs []float64) (mean, mx float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
		mx = max(mx, x)
	}
	return mean / float64(len(xs)), mx
}

func pushLast(ps []pushResult) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = p.LastMs
	}
	return out
}

func killField(ks []killResult, f func(killResult) float64) []float64 {
	var out []float64
	for _, k := range ks {
		if k.NewStreamMs > 0 {
			out = append(out, f(k))
		}
	}
	return out
}

// median of xs; for an even count the lower middle value.
func median(xs []float64) float64 { return percentile(xs, 50) }

func renderTable(c config, results []*sizeResult, root, load string) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	sizes := make([]string, len(c.sizes))
	for i, s := range c.sizes {
		sizes[i] = fmt.Sprint(s)
	}
	w("## moxi fleet benchmark\n\n")
	w("- command: `go run ./bench/fleet -sizes %s -pushes %d -kills %d -idle %v%s`\n",
		strings.Join(sizes, ","), c.pushes, c.kills, c.idle, map[bool]string{true: " -fast", false: ""}[c.fast])
	if c.fast {
		w("- timings: **cluster_fast** (`-Z cluster_fast=true`: the shorter raft and memberlist timings of cluster/raft.go and cluster/gossip.go); idle CPU is not production's\n")
	} else {
		w("- timings: **production** (raft: heartbeat and election timeouts 1 s, leader lease 500 ms, commit timeout 2 s with a barrier after each entry; non-voters: timeouts 6 s, a heartbeat every 2 s; memberlist's LAN config)\n")
	}
	w("- machine: %d cores, %s, kernel %s; %s; moxi %s; load average before the run: %s\n",
		runtime.NumCPU(), cpuModel(), kernel(), runtime.Version(), gitRev(root), load)
	w("- every node, the mock (2 data nodes) and the bench share those cores; node *i* runs on 127.0.0.*i+1*\n\n")
	w("| nodes | streams open at the mock, max (target 1) | streams opened in all (1 + kills) | config → last node serving, p50 / p99 (%d pushes; target p99 < 200 ms at 15) | leader kill → new stream, median of %d (min–max) (target < 5 s) | RSS per node, mean / max | idle CPU, followers mean / max; the leader (target < 1%% of a core) |\n",
		c.pushes, c.kills)
	w("|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range results {
		last := pushLast(r.Pushes)
		push := "n/a"
		if len(last) > 0 {
			push = fmt.Sprintf("%.0f / %.0f ms", percentile(last, 50), percentile(last, 99))
			if len(last) < c.pushes {
				push += fmt.Sprintf(" (%d pushes only)", len(last))
			}
		}
		ks := killField(r.Kills, func(k killResult) float64 { return k.NewStreamMs })
		kill := "n/a"
		if len(ks) > 0 {
			kill = fmt.Sprintf("%.2f s (%.2f–%.2f)", median(ks)/1000, slices.Min(ks)/1000, slices.Max(ks)/1000)
			if len(ks) < c.kills {
				kill += fmt.Sprintf(", %d kills only", len(ks))
			}
		}
		rss, cpu := "n/a", "n/a"
		if len(r.Idle.RSSKB) > 0 {
			fs := make([]float64, len(r.Idle.RSSKB))
			for i, kb := range r.Idle.RSSKB {
				fs[i] = float64(kb) / 1024
			}
			mean, mx := meanMax(fs)
			rss = fmt.Sprintf("%.1f / %.1f MB", mean, mx)
			followers := slices.Delete(slices.Clone(r.Idle.CPUPct), r.Idle.Leader, r.Idle.Leader+1)
			mean, mx = meanMax(followers)
			cpu = fmt.Sprintf("%.2f%% / %.2f%%; leader %.2f%%", mean, mx, r.Idle.CPUPct[r.Idle.Leader])
			if len(followers) == 0 {
				cpu = fmt.Sprintf("leader %.2f%%", r.Idle.CPUPct[r.Idle.Leader])
			}
		}
		w("| %d | %d | %d | %s | %s | %s | %s |\n", r.Size, r.MaxOpen, r.StreamsTotal, push, kill, rss, cpu)
	}
	w("\nDetails:\n\n")
	w("| nodes | load average before | start → all serving | config → leader, p50 / p99 | all nodes' CPU per push | leader kill → new leader named, median | leader kill → old stream closed, median | restarted node serving its last map, median | restart → fleet converged, median | idle CPU, all nodes mean | RSS after the run, max | errors |\n")
	w("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--|\n")
	for _, r := range results {
		lead := make([]float64, len(r.Pushes))
		for i, p := range r.Pushes {
			lead[i] = p.LeaderMs
		}
		cell := func(xs []float64, format string, scale float64) string {
			if len(xs) == 0 {
				return "n/a"
			}
			return fmt.Sprintf(format, median(xs)/scale)
		}
		pushLead, pushCPU := "n/a", "n/a"
		if len(lead) > 0 {
			pushLead = fmt.Sprintf("%.0f / %.0f ms", percentile(lead, 50), percentile(lead, 99))
			pushCPU = fmt.Sprintf("%.0f ms", r.PushCPUMs)
		}
		allCPU := "n/a"
		if len(r.Idle.CPUPct) > 0 {
			mean, _ := meanMax(r.Idle.CPUPct)
			allCPU = fmt.Sprintf("%.2f%%", mean)
		}
		rssEnd := "n/a"
		if len(r.RSSEndKB) > 0 {
			rssEnd = fmt.Sprintf("%.1f MB", float64(slices.Max(r.RSSEndKB))/1024)
		}
		errs := "none"
		if len(r.Errors) > 0 {
			errs = strings.ReplaceAll(strings.Join(r.Errors, "; "), "|", "\\|")
		}
		w("| %d | %s | %.1f s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Size, r.Load, r.StartSec, pushLead, pushCPU,
			cell(killField(r.Kills, func(k killResult) float64 { return k.NewLeaderMs }), "%.2f s", 1000),
			cell(killField(r.Kills, func(k killResult) float64 { return k.OldStreamGone }), "%.0f ms", 1),
			cell(killField(r.Kills, func(k killResult) float64 { return k.RestartServeMs }), "%.0f ms", 1),
			cell(killField(r.Kills, func(k killResult) float64 { return k.RestartCatchMs }), "%.1f s", 1000),
			allCPU, rssEnd, errs)
	}
	return b.String()
}
