package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"testing"
)

// TestRESTAuth checks who may read which config: a password-protected
// bucket needs its own credentials or the admin's, saslBucketsStreaming
// the admin's; unknown buckets are 404.
func TestRESTAuth(t *testing.T) {
	m := startMock(t, "-nodes", "1", "-vbuckets", "4", "-buckets", "default,secure:pw")
	base := m.restURL() + "/pools/default/"
	for _, tc := range []struct {
		path, user, pass string
		want             int
	}{
		{"buckets/secure", "", "", http.StatusUnauthorized},
		{"buckets/secure", "secure", "wrong", http.StatusUnauthorized},
		{"buckets/secure", "default", "", http.StatusUnauthorized},
		{"buckets/secure", "secure", "pw", http.StatusOK},
		{"buckets/secure", "Administrator", "password", http.StatusOK},
		{"bucketsStreaming/secure", "", "", http.StatusUnauthorized},
		{"bucketsStreamingConfig/secure", "secure", "wrong", http.StatusUnauthorized},
		{"buckets/default", "", "", http.StatusOK},
		{"buckets/nosuch", "", "", http.StatusNotFound},
		{"bucketsStreaming/nosuch", "Administrator", "password", http.StatusNotFound},
		{"saslBucketsStreaming", "", "", http.StatusUnauthorized},
		{"saslBucketsStreaming", "secure", "pw", http.StatusUnauthorized},
	} {
		code, _ := httpDo(t, "GET", base+tc.path, tc.user, tc.pass)
		if code != tc.want {
			t.Errorf("GET %s as %q/%q: %d, want %d", tc.path, tc.user, tc.pass, code, tc.want)
		}
	}
	if b := parseBucket(t, mustGet(t, base+"buckets/secure", "secure", "pw")); b.SaslPassword != "pw" || b.Name != "secure" {
		t.Errorf("secure bucket config: name %q password %q", b.Name, b.SaslPassword)
	}
}

func mustGet(t *testing.T, url, user, pass string) []byte {
	t.Helper()
	code, body := httpDo(t, "GET", url, user, pass)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", url, code)
	}
	return body
}

// TestSASLBucketsStreaming reads the all-buckets stream as the admin.
func TestSASLBucketsStreaming(t *testing.T) {
	m := startMock(t, "-nodes", "2", "-vbuckets", "4", "-buckets", "default,secure:pw")
	req, _ := http.NewRequest("GET", m.restURL()+"/pools/default/saslBucketsStreaming", nil)
	req.SetBasicAuth("Administrator", "password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := (&configReader{br: bufio.NewReader(resp.Body)}).next()
	if err != nil {
		t.Fatal(err)
	}
	var all struct {
		Buckets []testBucket `json:"buckets"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	if len(all.Buckets) != 2 || all.Buckets[0].Name != "default" || all.Buckets[1].SaslPassword != "pw" ||
		len(all.Buckets[1].VBucketServerMap.ServerList) != 2 {
		t.Fatalf("saslBucketsStreaming: %+v", all.Buckets)
	}
}
