package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAdminExposedNeedsToken: an admin server on a non-loopback address
// without a token (or certificates) stops moxi at start with one line;
// with admin_token_file, /status and the page need the bearer token,
// /health and /metrics do not, and moxi status -token-file reads it.
func TestAdminExposedNeedsToken(t *testing.T) {
	t.Parallel()
	bin := requireMoxi(t)
	mc := startMemcached(t)
	adminPort := freePort(t)
	exposed := "0.0.0.0:" + strconv.Itoa(adminPort)

	p, err := startProc("moxi", freePort(t), bin, "-l", "127.0.0.1", "-z", fmt.Sprintf("%d=%s", freePort(t), mc.Addr),
		"-Z", "admin_listen="+exposed)
	if err != nil {
		t.Fatal(err)
	}
	code, err := p.waitExit(stopTimeout)
	if err != nil || code == 0 {
		t.Fatalf("an exposed admin server without a token: exit %d, %v\n%s", code, err, p.Output())
	}
	if out := strings.TrimSpace(p.Output()); strings.Count(out, "\n") != 0 || !strings.Contains(out, "is not a loopback address") {
		t.Fatalf("want one line naming the problem, got:\n%s", out)
	}

	tokFile := filepath.Join(t.TempDir(), "admin.token")
	const token = "tok-3f9a7c0e"
	if err := os.WriteFile(tokFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	startProxy(t, []string{mc.Addr}, "admin_listen="+exposed+",admin_token_file="+tokFile)
	base := "http://127.0.0.1:" + strconv.Itoa(adminPort)
	waitHTTP(t, base+"/health", http.StatusOK)
	for _, tc := range []struct {
		path, auth string
		code       int
	}{
		{"/status", "", 401}, {"/", "", 401}, {"/fleet", "", 401}, {"/status/history", "Bearer nope", 401},
		{"/status", "Bearer " + token, 200}, {"/", "Bearer " + token, 200},
		{"/health", "", 200}, {"/metrics", "", 200},
	} {
		if got := adminGet(t, base+tc.path, tc.auth); got != tc.code {
			t.Errorf("GET %s (%q): %d, want %d", tc.path, tc.auth, got, tc.code)
		}
	}
	out, err := exec.Command(bin, "status", "-token-file", tokFile, "127.0.0.1:"+strconv.Itoa(adminPort)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "serving true") {
		t.Fatalf("moxi status -token-file: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "status", "127.0.0.1:"+strconv.Itoa(adminPort)).CombinedOutput(); err == nil {
		t.Fatalf("moxi status without the token succeeded:\n%s", out)
	}
}

// adminGet GETs url with an Authorization header (if any), returning the
// status code.
func adminGet(t *testing.T, url, auth string) int {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
