package e2e

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/moxifleet/moxi"

// depRule forbids packages under from to depend on anything under one of to.
type depRule struct {
	from string
	to   []string
}

var (
	raft       = "github.com/hashicorp/raft"
	memberlist = "github.com/hashicorp/memberlist"
	depRules   = []depRule{
		{module + "/proxycore", []string{module + "/cluster", module + "/node", raft, memberlist}},
		{module + "/cluster", []string{module + "/proxycore"}},
		{module + "/mapstore", []string{module + "/cluster", module + "/proxycore", module + "/node", raft}},
		{module + "/node", []string{module + "/cmd"}},
		// the protocol layer (codecs, a2b, the built-in server, test
		// helpers) is shared by the proxy, moxi -p and the mock, and
		// knows none of them
		{module + "/internal", []string{module + "/proxycore", module + "/node", module + "/cluster", module + "/cmd", module + "/mapstore"}},
		{module, []string{module + "/e2e"}}, // nothing imports e2e
	}
)

// under reports whether pkg is path or below it (raft covers raft-boltdb).
func under(pkg, path string) bool {
	if path == raft {
		return strings.HasPrefix(pkg, raft)
	}
	return pkg == path || strings.HasPrefix(pkg, path+"/")
}

// violations returns "from -> dep" for every forbidden edge in deps, which
// maps each package to everything it imports (transitively, tests included).
func violations(deps map[string][]string) []string {
	var out []string
	for pkg, ds := range deps {
		for _, r := range depRules {
			if !under(pkg, r.from) || under(pkg, module+"/e2e") {
				continue
			}
			for _, d := range ds {
				for _, bad := range r.to {
					if under(d, bad) {
						out = append(out, pkg+" -> "+d)
					}
				}
			}
		}
	}
	return out
}

// listDeps runs go list over the module: each package's transitive deps
// plus the direct imports of its tests.
func listDeps(t *testing.T) map[string][]string {
	t.Helper()
	if repoRoot == "" {
		t.Fatal("e2e: repository root not found")
	}
	cmd := exec.Command("go", "list", "-e", "-f",
		`{{.ImportPath}} {{join .Deps " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, "./...")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			deps[f[0]] = f[1:]
		}
	}
	return deps
}

// TestImportDirections enforces the package dependency rules of
// design-notes §3.
func TestImportDirections(t *testing.T) {
	t.Parallel()
	deps := listDeps(t)
	if _, ok := deps[module+"/proxycore"]; !ok {
		t.Fatalf("go list did not report %s/proxycore: %v", module, deps)
	}
	for _, v := range violations(deps) {
		t.Errorf("forbidden import: %s", v)
	}
}

// TestImportRulesCatchViolations checks the checker on made-up edges.
func TestImportRulesCatchViolations(t *testing.T) {
	bad := map[string][]string{
		module + "/internal/ascii": {"fmt", module + "/cluster"},
		module + "/cluster":        {module + "/proxycore"},
		module + "/mapstore":       {raft + "-boltdb/v2"},
		module + "/node":           {module + "/cmd/moxi"},
		module + "/cmd/moxi":       {module + "/e2e"},
	}
	if got := violations(bad); len(got) != len(bad) {
		t.Errorf("found %d violations, want %d: %v", len(got), len(bad), got)
	}
	good := map[string][]string{
		module + "/proxycore":    {module + "/mapstore", "net"},
		module + "/node":         {module + "/cluster", module + "/proxycore", raft},
		module + "/cmd/moxi":     {module + "/node"},
		module + "/clusterstuff": {module + "/proxycore"}, // not under cluster/
	}
	if got := violations(good); len(got) != 0 {
		t.Errorf("false violations: %v", got)
	}
}
