package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/proxytest"
)

// TestRunAnnouncesAndStops runs the command: it prints the REST URL, the
// data nodes and the moxi command line, serves, and exits 0 when its
// context ends.
func TestRunAnnouncesAndStops(t *testing.T) {
	var out, errs proxytest.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"-rest", "127.0.0.1:0", "-nodes", "2", "-vbuckets", "8"}, &out, &errs)
	}()
	eventually(t, "the announcement", func() bool { return strings.Contains(out.String(), "\nadmin ") })
	lines := strings.Split(out.String(), "\n")
	rest := strings.Fields(lines[0])
	if len(rest) < 2 || rest[0] != "rest" || !strings.HasPrefix(lines[1], "node 0 127.0.0.1:") ||
		!strings.HasPrefix(lines[2], "node 1 127.0.0.1:") ||
		lines[3] != "bucket default moxi -z "+rest[1]+"/pools/default/bucketsStreamingConfig/default" {
		t.Fatalf("announcement:\n%s", out.String())
	}
	if c, _ := httpDo(t, "GET", rest[1]+"/pools", "", ""); c != http.StatusOK {
		t.Fatalf("GET /pools: %d", c)
	}
	cancel()
	if c := <-code; c != exitOK {
		t.Fatalf("exit %d, stderr %s", c, errs.String())
	}
}

func TestRunBadFlags(t *testing.T) {
	var out, errs proxytest.SyncBuffer
	if c := run(context.Background(), []string{"-vbuckets", "3"}, &out, &errs); c != exitUsage ||
		!strings.Contains(errs.String(), "power of two") {
		t.Fatalf("exit %d, stderr %q", c, errs.String())
	}
}
