package e2e

// Checking the figures the status page shows against /status/history:
// the page's numbers carry data-metric (what), data-server, data-port,
// data-bucket (whose) and data-value (the number as /status gave it);
// the text is the same rounded for people.

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// domValue is the data-value of the one element of dom with attrs,
// failing the test when there is not exactly one or it has no number.
func domValue(t *testing.T, dom string, attrs map[string]string) float64 {
	t.Helper()
	var found []domElem
	for _, e := range domElems(dom, "data-value") {
		if matches(e, attrs) {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d elements of the page with %v, want 1", len(found), attrs)
	}
	v, err := strconv.ParseFloat(found[0].attrs["data-value"], 64)
	if err != nil {
		t.Fatalf("element %v: data-value: %v", found[0].attrs, err)
	}
	return v
}

func matches(e domElem, attrs map[string]string) bool {
	for k, v := range attrs {
		if e.attrs[k] != v {
			return false
		}
	}
	return true
}

// checkShownSample checks the live figures the page shows against the
// history's point of the sample it shows, which must be one /status gave
// while chromium ran. It returns that sample's number.
func checkShownSample(t *testing.T, dom string, before, after pageStatus, hist pageHistory) uint64 {
	t.Helper()
	seqs := domElems(dom, "data-seq")
	if len(seqs) != 1 {
		t.Fatalf("%d elements with data-seq in the page, want 1", len(seqs))
	}
	seq, err := strconv.ParseUint(seqs[0].attrs["data-seq"], 10, 64)
	if err != nil || seq < before.Live.Seq || seq > after.Live.Seq {
		t.Fatalf("the page shows sample %q (%v); /status was at %d before, %d after",
			seqs[0].attrs["data-seq"], err, before.Live.Seq, after.Live.Seq)
	}
	checked := 0
	for _, e := range domElems(dom, "data-metric") {
		key, ok := seriesKeyOf(e)
		if !ok {
			continue
		}
		want := historyAt(t, hist, key, seq)
		checkFigure(t, e, key, want)
		checked++
	}
	// 4 node figures, 3 per server, the front cache's hit rate
	if want := 4 + 3*len(after.Live.Servers) + 1; checked != want {
		t.Errorf("checked %d figures of the page against the history, want %d", checked, want)
	}
	return seq
}

// seriesKeyOf names e's history series (node.seriesKey's String), for
// the figures of this node's last sample; ok is false for the others
// (totals, maps, the fleet table's members).
func seriesKeyOf(e domElem) (string, bool) {
	a := e.attrs
	if _, ok := a["data-value"]; !ok || a["data-member"] != "" {
		return "", false
	}
	switch m := a["data-metric"]; {
	case a["data-scope"] == "node":
		return "node|0|||" + m, true
	case a["data-server"] != "" && (m == "req_rate" || m == "err_rate" || m == "p99_ms"):
		return strings.Join([]string{"server", a["data-port"], a["data-bucket"], a["data-server"], m}, "|"), true
	case m == "hit_rate":
		return strings.Join([]string{"bucket", a["data-port"], a["data-bucket"], "", m}, "|"), true
	}
	return "", false
}

// historyAt is series key's value at sample seq (nil: none).
func historyAt(t *testing.T, hist pageHistory, key string, seq uint64) *float64 {
	t.Helper()
	vals, ok := hist.Series[key]
	if !ok || len(vals) != len(hist.Times) {
		t.Fatalf("history series %q: %d points for %d times (present %v)", key, len(vals), len(hist.Times), ok)
	}
	back := hist.Seq - seq
	if seq > hist.Seq || back >= uint64(len(vals)) {
		t.Fatalf("sample %d is not in the history (%d points up to %d)", seq, len(vals), hist.Seq)
	}
	return vals[len(vals)-1-int(back)]
}

// checkFigure: e's data-value is want exactly (both are /status's JSON
// number), and its text is that number as the page rounds it.
func checkFigure(t *testing.T, e domElem, key string, want *float64) {
	t.Helper()
	raw := e.attrs["data-value"]
	if want == nil {
		if raw != "" || e.text != "–" {
			t.Errorf("%s: the page shows %q (value %q); the history has none", key, e.text, raw)
		}
		return
	}
	got, err := strconv.ParseFloat(raw, 64)
	if err != nil || got != *want {
		t.Errorf("%s: the page's value is %q, the history's %v", key, raw, *want)
		return
	}
	scale := 1.0
	if strings.Contains(key, "hit_rate") {
		scale = 100 // shown as a percentage
	}
	shown, err := strconv.ParseFloat(strings.ReplaceAll(e.text, ",", ""), 64)
	decimals := 0
	if i := strings.IndexByte(e.text, '.'); i >= 0 {
		decimals = len(e.text) - i - 1
	}
	if tol := 0.5*math.Pow(10, -float64(decimals)) + 1e-9; err != nil || math.Abs(shown-got*scale) > tol {
		t.Errorf("%s: the page shows %q for %v", key, e.text, got)
	}
}
