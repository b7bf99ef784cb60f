package mapstore

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	cfg := `{"name":"b1","saslPassword":"pa\"ss w0rd","nodes":[],"x":{"saslPassword" : ""}}`
	got := RedactConfig(cfg)
	if strings.Contains(got, "w0rd") || strings.Count(got, `"****"`) != 2 || !strings.Contains(got, `"name":"b1"`) {
		t.Fatalf("RedactConfig: %s", got)
	}
	for in, want := range map[string]string{
		"http://Administrator:s3cret@host:8091/pools/default":          "http://Administrator:****@host:8091/pools/default",
		"http://host:8091/pools":                                       "http://host:8091/pools",
		"http://user@host/x":                                           "http://user@host/x",
		"11211=http://a:b%40c@h:1/p|http://d:e@h2:1/p":                 "11211=http://a:****@h:1/p|http://d:****@h2:1/p",
		"url=http://h/p,auth=Administrator%pw;url=http://g,auth=u%x%y": "url=http://h/p,auth=Administrator%****;url=http://g,auth=u%****",
		"auth=nopass": "auth=nopass",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
