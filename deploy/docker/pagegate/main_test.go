package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// TestGateAddsToken checks the forwarded request carries the token and
// the path, and the reply comes back unchanged.
func TestGateAddsToken(t *testing.T) {
	var gotAuth, gotPath string
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.Path
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "status")
	}))
	defer admin.Close()
	u, _ := url.Parse(admin.URL)
	front := httptest.NewServer(gate(u.Host, "s3cret"))
	defer front.Close()
	resp, err := http.Get(front.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || string(body) != "status" {
		t.Errorf("reply %d %q, want 418 \"status\"", resp.StatusCode, body)
	}
	if gotAuth != "Bearer s3cret" || gotPath != "/status" {
		t.Errorf("forwarded Authorization %q path %q, want \"Bearer s3cret\" /status", gotAuth, gotPath)
	}
}

func TestRouteFlag(t *testing.T) {
	rs := routes{}
	if err := rs.Set("0.0.0.0:8290=node1:8290"); err != nil || rs["0.0.0.0:8290"] != "node1:8290" {
		t.Errorf("Set: %v %v", err, rs)
	}
	if err := rs.Set("nonsense"); err == nil {
		t.Error("Set accepted a route without '='")
	}
}
