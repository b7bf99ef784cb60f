package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnitVerifies runs systemd-analyze verify on deploy/moxi.service.
// verify insists the ExecStart binary exists, so the unit is checked from a
// temp copy whose ExecStart is the moxi under test; nothing else changes.
// verify exits 0 on unknown keys and bad values too, only warning, so any
// stderr line about the unit fails the test.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze")
	bin := requireMoxi(t)
	unit, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "moxi.service"))
	if err != nil {
		t.Fatal(err)
	}
	const exec0 = "ExecStart=/usr/bin/moxi $MOXI_OPTS\n"
	if !bytes.Contains(unit, []byte(exec0)) {
		t.Fatalf("deploy/moxi.service has no line %q", strings.TrimSpace(exec0))
	}
	for _, want := range []string{"Type=notify", "EnvironmentFile=-/etc/default/moxi", "StateDirectory=moxi",
		"ExecReload=/bin/kill -HUP $MAINPID", "CapabilityBoundingSet=\n"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("deploy/moxi.service lacks %q", want)
		}
	}
	path := filepath.Join(t.TempDir(), "moxi.service")
	local := bytes.Replace(unit, []byte(exec0), []byte("ExecStart="+bin+" $MOXI_OPTS\n"), 1)
	if err := os.WriteFile(path, local, 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(analyze, "verify", "--man=no", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for line := range strings.SplitSeq(stderr.String(), "\n") {
		if strings.Contains(line, "moxi.service") {
			t.Errorf("systemd-analyze verify: %s", line)
		} else if line != "" {
			t.Logf("systemd-analyze verify (not about the unit): %s", line)
		}
	}
}
