package mapstore

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/fixtures"
)

// sharedTestdata returns ../shared/testdata (see fixtures.SharedTestdata).
func sharedTestdata(t testing.TB) string { return fixtures.SharedTestdata(t, "mapstore") }

// readTSV reads a tab-separated file, skipping '#' comment lines, and
// returns the header and the rows. Every row must have the header's width.
func readTSV(t testing.TB, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open fixture: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if header == nil {
			header = cols
			continue
		}
		if len(cols) != len(header) {
			t.Fatalf("%s: row %q has %d columns, header has %d", path, line, len(cols), len(header))
		}
		rows = append(rows, cols)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", path)
	}
	return header, rows
}

// column returns the index of name in header or fails the test.
func column(t testing.TB, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("fixture has no column %q (have %v)", name, header)
	return -1
}
