package node

import (
	_ "embed"
	"net/http"
)

// statusPageHTML is the status page: one self-contained document (its
// style and script inline, no external asset), which polls /status,
// /status/history and /fleet and draws the plots itself, so that it works
// offline and behind any proxy. Read-only after init.
//
//go:embed statuspage.html
var statusPageHTML string

func servePage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(statusPageHTML))
}
