package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Set once by TestMain, read-only afterwards.
var (
	moxiBin  string // path of the moxi binary built for this run
	buildErr error  // why the build failed, reported by every test needing it
	repoRoot string // directory holding go.mod
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "moxi-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	defer func() { // the mock's build directory, made on first use (requireMock)
		if mockBin != "" {
			_ = os.RemoveAll(filepath.Dir(mockBin))
		}
	}()
	repoRoot, err = findRepoRoot()
	switch {
	case os.Getenv("MOXI_E2E_BINARY") != "":
		moxiBin = os.Getenv("MOXI_E2E_BINARY")
	case err == nil:
		moxiBin = filepath.Join(dir, "moxi")
		buildErr = buildMoxi(repoRoot, moxiBin)
	default:
		buildErr = err
	}
	return m.Run()
}

// findRepoRoot walks up from the working directory to the one holding go.mod.
func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("e2e: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// statSources stats every Go source of the module. The go command caches
// test results by the files the tests touch, and the build runs in a
// subprocess, so without this a change to the proxy would not invalidate
// a cached e2e pass. It must run inside a test (TestMain's calls are not
// recorded), so requireMoxi calls it; a walk costs well under a millisecond.
func statSources(root string) {
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case d.IsDir() && path != root && strings.HasPrefix(d.Name(), "."):
			return filepath.SkipDir
		case !d.IsDir() && (strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".html") || // embedded: node/statuspage.html
			d.Name() == "go.mod" || d.Name() == "go.sum"):
			_, _ = os.Stat(path)
		}
		return nil
	})
}

// buildMoxi builds ./cmd/moxi into out, with the race detector when this
// test binary has it (see race_test.go).
func buildMoxi(root, out string) error {
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/moxi")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("e2e: go build ./cmd/moxi: %w\n%s", err, b)
	}
	return nil
}

// requireMoxi fails the test when the binary could not be built.
func requireMoxi(t testing.TB) string {
	t.Helper()
	if repoRoot != "" {
		statSources(repoRoot)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return moxiBin
}
