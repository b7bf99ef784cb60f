package mapstore

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedTestdata returns the shared/testdata directory that sits beside the
// repository (…/main and …/shared in both the workspace and CI clones). It
// walks up from the package directory so the test does not depend on how
// deep the package is. When it is missing, CI fails loudly (a silently
// skipped compatibility test is worse than none); elsewhere the test skips.
func sharedTestdata(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("mapstore: getwd: %v", err)
	}
	for {
		cand := filepath.Join(dir, "shared", "testdata")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("mapstore: shared/testdata not found above the package directory; CI clones must have shared/ beside the repo")
	}
	t.Skip("mapstore: shared/testdata not found above the package directory; skipping fixture test")
	return ""
}

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
